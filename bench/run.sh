#!/bin/bash
# run.sh: iommu-own's benchmarks ("make bench" runs it from the build dir).
#
#   bench/run.sh [NDEV...]       default sizes: 100 1000 4166 devices
#
# For each size, bench/gen.sh builds (or reuses) a synthetic SR-IOV server
# sysroot. Then, interleaved in one loop (every command at every size, then
# again, BENCH_RUNS times, after one unrecorded warm-up round):
#   floor           bench/floor: the syscall floor (groups, devices, driver
#                   links, vendor/device/class/driver_override)
#   floor +info     bench/floor --same-info: what list --json prints, read
#                   as iommu-own reads it (not a target: where the time goes)
#   floor +info+chk bench/floor --same-info --checked: and each attribute
#                   looked at before it is opened, as in a captured tree
#   list --json     iommu-own --sysroot T list --json
#   list            iommu-own --sysroot T list       (the table)
#   check --json    iommu-own --sysroot T check --json
# and prints each one's median wall time, its ratio to the floor, its peak
# RSS, the growth from the smallest to the largest size, and the targets.
# Then, on a copy of each tree that has the 64-function accelerator group
# (replay engine, under BENCH_TMP), it counts the writes of `claim` and
# `release` (--dry-run, and the writes actually made) and times BENCH_RUNS
# claim/release pairs; the times include the replay engine's file work.
#
# Then the same trees through other tools, interleaved with iommu-own's
# `list` (names and drivers, as they print): `lspci -k` (libpci pointed at
# the tree: -A linux-sysfs -O sysfs.path=TREE/sys/bus/pci), `driverctl
# list-devices` and `dpdk-devbind.py --status`, which read /sys itself: they
# run in a private mount namespace (unshare -m) whose /sys is the tree's
# sys/ bound over it, checked to be no sysfs before the tool starts; the
# host's /sys is never what they read, and nothing they run writes. All four
# run inside the same namespace wrapper, so that its cost (printed) is in
# every figure. A tool that is not installed, or no namespace (not root), is
# said and skipped. These three are read-only listings; none of them can be
# pointed at a sysroot by an option of its own but lspci.
#
# Environment: IOMMU_OWN (default ./iommu-own), BENCH_FLOOR, BENCH_TIMEIT and
# BENCH_JSONC (default ./bench/floor, ./bench/timeit, ./bench/jsonc; compiled
# with $CC into a temporary directory when missing), BENCH_TREES (the cache of the trees, about 100 KB
# a device; default /dev/shm/iommu-own-bench-$UID/trees when /dev/shm is a
# tmpfs, as sysfs is in memory and a disk cache can be evicted between runs,
# else ./bench/trees), BENCH_TMP (where tree copies are claimed; default
# /dev/shm, a tmpfs like /run, else $TMPDIR or /tmp), BENCH_RUNS (default 7),
# BENCH_LSPCI, BENCH_DRIVERCTL, BENCH_DEVBIND (default: lspci, driverctl,
# dpdk-devbind.py from PATH), BENCH_CMP_RUNS (default 3; one run above
# 1,000 devices for driverctl and dpdk-devbind, which take seconds there).
# Every sysroot is a generated tree: nothing reads or writes the host's /sys.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sizes=("$@")
((${#sizes[@]})) || sizes=(100 1000 4166)
runs=${BENCH_RUNS:-7}
tool=${IOMMU_OWN:-$PWD/iommu-own}
floor=${BENCH_FLOOR:-$PWD/bench/floor}
timeit=${BENCH_TIMEIT:-$PWD/bench/timeit}
jsonc=${BENCH_JSONC:-$PWD/bench/jsonc}
# tmpfs (like sysfs, never read from disk; a disk cache can be evicted between runs)
if [[ -d /dev/shm && -w /dev/shm && $(stat -f -c %T /dev/shm) == tmpfs ]]; then
	shm=/dev/shm
else
	shm=''
fi
trees=${BENCH_TREES:-${shm:+$shm/iommu-own-bench-$(id -u)/trees}}
trees=${trees:-$PWD/bench/trees}
BENCH_TMP=${BENCH_TMP:-${shm:-${TMPDIR:-/tmp}}}

die() {
	echo "run.sh: $*" >&2
	exit 1
}
[[ -x $tool ]] || die "$tool: not built (run make, or set IOMMU_OWN)"
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS: not a number: $runs"
for n in "${sizes[@]}"; do
	[[ $n =~ ^[0-9]+$ ]] || die "not a size: $n"
done
mapfile -t sizes < <(printf '%s\n' "${sizes[@]}" | sort -n -u)

work=$(mktemp -d "$BENCH_TMP/iommu-own-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
for p in floor timeit; do
	v=$floor
	[[ $p == timeit ]] && v=$timeit
	if [[ ! -x $v ]]; then
		${CC:-cc} -O2 -o "$work/$p" "$here/$p.c" || die "cannot compile $here/$p.c"
		v=$work/$p
	fi
	[[ $p == floor ]] && floor=$v || timeit=$v
done
if [[ ! -x $jsonc ]]; then
	jsonc=$work/jsonc
	# shellcheck disable=SC2046
	${CC:-cc} -O2 -o "$jsonc" "$here/jsonc.c" $(pkg-config --cflags --libs json-c 2>/dev/null || echo -ljson-c) || jsonc=''
fi

# Never the live system, never a path the tool would treat as live.
export IOMMU_OWN_FORBID_LIVE=1 LC_ALL=C.UTF-8
unset IOMMU_OWN_SYSROOT

# ---- trees
declare -A tree=() ngroups=() accel=()
for n in "${sizes[@]}"; do
	t=$trees/dev$n
	bash "$here/gen.sh" "$t" "$n"
	[[ $(stat -f -c %T "$t/sys") != sysfs ]] || die "$t/sys is a sysfs mount"
	tree[$n]=$t
	info=$(<"$t/.gen-info")
	[[ $info =~ ([0-9]+)\ groups ]] && ngroups[$n]=${BASH_REMATCH[1]}
	[[ $info =~ accelerator\ group\ ([0-9]+) ]] && accel[$n]=${BASH_REMATCH[1]}
done

cmds=(floor floor-info floor-checked list-json list check-json)
declare -A label=([floor]='floor' [floor-info]='floor +info' [floor-checked]='floor +info+chk' [list-json]='list --json'
	[list]='list' [check-json]='check --json')
cmdline() { # CMD TREE: the command's argv
	case $1 in
	floor) printf '%s\n' "$floor" "$2" ;;
	floor-info) printf '%s\n' "$floor" --same-info "$2" ;;
	floor-checked) printf '%s\n' "$floor" --same-info --checked "$2" ;;
	list-json) printf '%s\n' "$tool" --sysroot "$2" list --json ;;
	list) printf '%s\n' "$tool" --sysroot "$2" list ;;
	check-json) printf '%s\n' "$tool" --sysroot "$2" check --json ;;
	esac
}

# ---- sanity: everybody sees the same devices
for n in "${sizes[@]}"; do
	t=${tree[$n]}
	f=$("$floor" "$t") || die "floor failed on $t"
	[[ $f =~ devices\ ([0-9]+) ]] && [[ ${BASH_REMATCH[1]} == "$n" ]] || die "floor on $t: $f (expected $n devices)"
	j=$("$tool" --sysroot "$t" list --json | grep -c '"address"') || true
	[[ $j == "$n" ]] || die "list --json on $t shows $j devices, not $n"
done

# measure ARGV...: one timed run; sets wall, rss, st, cpu (seconds, KiB,
# exit status, seconds). openat2(RESOLVE_BENEATH) fails with EAGAIN when a
# rename happens anywhere on the system while it resolves "..": such a run
# is retried (at most twice) and counted.
retries=0
measure() {
	local _
	for _ in 1 2 3; do
		read -r wall rss st cpu < <("$timeit" "$@" 2>"$work/stderr") || die "timeit failed: $*"
		[[ $st == 2 ]] && grep -q 'Resource temporarily unavailable' "$work/stderr" || break
		retries=$((retries + 1))
		sed 's/^/  (retried) /' "$work/stderr" | head -1 >>"$work/retried"
	done
	cat "$work/stderr" >&2
}

# ---- the interleaved timing loop
data=$work/data
: >"$data"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 0; r <= runs; r++)); do # round 0: warm-up, not recorded
	for n in "${sizes[@]}"; do
		for c in "${cmds[@]}"; do
			mapfile -t argv < <(cmdline "$c" "${tree[$n]}")
			measure "${argv[@]}"
			# check exits 1 when it finds an error (the trees have mixed groups)
			[[ $st == 0 || ($c == check-json && $st == 1) ]] || die "${label[$c]} on ${tree[$n]}: exit status $st"
			((r)) && echo "$n $c $wall $rss $cpu" >>"$data"
		done
	done
done

# median FILE N CMD FIELD / peak FILE N CMD: from the data ("N CMD WALL RSS CPU" lines)
median() {
	awk -v n="$2" -v c="$3" -v f="$4" '$1 == n && $2 == c { print $f }' "$1" | sort -g |
		awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.6f\n", m }'
}
peak() {
	awk -v n="$2" -v c="$3" '$1 == n && $2 == c && $4 > m { m = $4 } END { print m + 0 }' "$1"
}
declare -A med=() cpum=() peakrss=() cmpmed=()
for n in "${sizes[@]}"; do
	for c in "${cmds[@]}"; do
		med[$n,$c]=$(median "$data" "$n" "$c" 3)
		cpum[$n,$c]=$(median "$data" "$n" "$c" 5)
		peakrss[$n,$c]=$(peak "$data" "$n" "$c")
	done
done
ms() { awk -v s="$1" 'BEGIN { printf "%.2f", s * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
verdict() { if le "$1" "$2"; then echo ok; else echo MISS; fi; }

small=${sizes[0]} big=${sizes[${#sizes[@]} - 1]}
cpumodel=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
echo
echo "iommu-own benchmark: median wall time of $runs runs each, all commands and sizes interleaved"
echo "host: ${cpumodel:-unknown CPU}, $(nproc) CPUs, Linux $(uname -r); load average $load0 before, $(cut -d' ' -f1-3 /proc/loadavg) after"
rev=$(git -C "$here/.." describe --always --dirty 2>/dev/null || true)
echo "trees: $trees ($(stat -f -c %T "$trees")); $tool${rev:+ (source $rev)}"
echo
printf '%7s %6s  %-15s %10s %8s %8s %8s %12s\n' devices groups command 'median ms' 'x floor' 'cpu ms' 'x floor' 'peak RSS MB'
for n in "${sizes[@]}"; do
	for c in "${cmds[@]}"; do
		printf '%7s %6s  %-15s %10s %8s %8s %8s %12s\n' "$n" "${ngroups[$n]}" "${label[$c]}" \
			"$(ms "${med[$n,$c]}")" "$(ratio "${med[$n,$c]}" "${med[$n,floor]}")" \
			"$(ms "${cpum[$n,$c]}")" "$(ratio "${cpum[$n,$c]}" "${cpum[$n,floor]}")" "$(mb "${peakrss[$n,$c]}")"
	done
done
echo "(median ms: wall time; cpu ms: user + system time of the process, median; peak RSS: the largest;"
echo " floor +info: the floor reading what list --json prints, as iommu-own reads it (group types,"
echo " reset_method, a VFIO device's nodes; IDs from uevent); +chk: also looking at each attribute before"
echo " opening it, as iommu-own does in a tree that is not sysfs. See bench/floor.c)"
if ((big != small)); then
	echo
	line="growth $big/$small devices ($(ratio "$big" "$small")x the devices):"
	for c in "${cmds[@]}"; do
		line+="  ${label[$c]} $(ratio "${med[$big,$c]}" "${med[$small,$c]}")x"
	done
	echo "$line"
fi

# ---- claim and release of the 64-device group
declare -A cl=()
count_writes() { # dry-run text on stdin: "OVERRIDES UNBINDS BINDS OTHER"
	awk '!/^#/ && NF { if ($1 ~ /\/driver_override$/) o++; else if ($1 ~ /\/unbind$/) u++;
		else if ($1 ~ /\/bind$/) b++; else x++ }
		END { printf "%d %d %d %d\n", o, u, b, x }'
}
json_writes() { grep -c '"path"' || true; }
json_result() { grep -o '"result": *"[^"]*"' | head -1 | sed 's/.*"\([^"]*\)"$/\1/'; }
moved=()
for n in "${sizes[@]}"; do
	[[ -n ${accel[$n]-} ]] || continue
	g=${accel[$n]}
	c=$work/copy$n
	cp -a "${tree[$n]}" "$c"
	[[ $(stat -f -c %T "$c/sys") != sysfs ]] || die "$c/sys is a sysfs mount"
	for op in claim release; do
		# claim: on the pristine copy; release: after a real claim
		read -r o u b x < <("$tool" --sysroot "$c" "$op" "$g" --dry-run | count_writes)
		cl[$n,$op,dry]="$o+$u+$b"
		((x == 0)) || cl[$n,$op,dry]+="+$x"
		out=$("$tool" --sysroot "$c" "$op" "$g" --json) || die "$op $g on $c failed: $out"
		[[ $(json_result <<<"$out") == "done" ]] || die "$op $g on $c: not done"
		cl[$n,$op,made]=$(json_writes <<<"$out")
		if ((o == 64 && u == 64 && b == 64 && x == 0 && cl[$n,$op,made] == 192)); then
			cl[$n,$op,ok]=ok
		else
			cl[$n,$op,ok]=WRONG
		fi
	done
	: >"$work/moves$n"
	for ((r = 0; r < runs; r++)); do
		for op in claim release; do
			measure "$tool" --sysroot "$c" "$op" "$g"
			[[ $st == 0 ]] || die "$op $g on $c: exit status $st"
			echo "$n $op $wall $rss $cpu" >>"$work/moves$n"
		done
	done
	# Every claim was released: the copy must be the tree again (but for the state directory).
	diff -rq --no-dereference -x run "${tree[$n]}" "$c" >/dev/null ||
		die "$c differs from ${tree[$n]} after claim/release"
	for op in claim release; do
		cl[$n,$op,med]=$(median "$work/moves$n" "$n" "$op" 3)
		cl[$n,$op,cpu]=$(median "$work/moves$n" "$n" "$op" 5)
		cl[$n,$op,rss]=$(peak "$work/moves$n" "$n" "$op")
	done
	rm -rf "$c"
	moved+=("$n")
done
if ((${#moved[@]})); then
	echo
	echo "claim/release of the 64-function accelerator group (qat_c62x <-> vfio-pci) on a copy of the tree"
	echo "in $BENCH_TMP ($(stat -f -c %T "$BENCH_TMP")), median of $runs pairs: the tool's own wall time, which"
	echo "includes the replay engine's file work (it writes the copy's files and links as the kernel would)"
	echo
	printf '%7s %5s  %-8s %-15s %5s %6s %10s %8s %12s\n' devices group op 'dry-run o+u+b' made '=192?' 'median ms' 'cpu ms' 'peak RSS MB'
	for n in "${moved[@]}"; do
		for op in claim release; do
			printf '%7s %5s  %-8s %-15s %5s %6s %10s %8s %12s\n' "$n" "${accel[$n]}" "$op" "${cl[$n,$op,dry]}" \
				"${cl[$n,$op,made]}" "${cl[$n,$op,ok]}" "$(ms "${cl[$n,$op,med]}")" "$(ms "${cl[$n,$op,cpu]}")" \
				"$(mb "${cl[$n,$op,rss]}")"
		done
	done
	echo "(o+u+b: driver_override, unbind and bind writes printed by --dry-run; made: writes done by the"
	echo "real run, from its --json report; expected 64 overrides + 64 unbinds + 64 binds = 192)"
fi

if ((retries)); then
	echo
	echo "$retries run(s) retried after a transient EAGAIN from openat2 (a rename elsewhere on the system), e.g.:"
	head -3 "$work/retried"
fi

# ---- the same trees through other tools
lspci=${BENCH_LSPCI-$(command -v lspci || true)}
driverctl=${BENCH_DRIVERCTL-$(command -v driverctl || true)}
devbind=${BENCH_DEVBIND-$(command -v dpdk-devbind.py || command -v dpdk-devbind || true)}
cmp_runs=${BENCH_CMP_RUNS:-3}
[[ $cmp_runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_CMP_RUNS: not a number: $cmp_runs"
# sysns TREE CMD...: CMD with the tree's sys/ as /sys, in a private mount
# namespace; refuses to start CMD when /sys is still a sysfs there.
# (one line: the argv is passed on as lines)
sysns_script='mount --bind "$1/sys" /sys || exit 97; [ "$(stat -f -c %T /sys)" != sysfs ] || exit 98; shift; exec "$@" 2>/dev/null'
sysns=(unshare --mount --propagation private -- sh -c "$sysns_script" sysns)
cmp_note=()
if ! "${sysns[@]}" "${tree[$small]}" true 2>/dev/null; then
	cmp_note+=("no private mount namespace here (unshare -m needs root): driverctl and dpdk-devbind, which read /sys itself, are not compared")
	sysns=() driverctl='' devbind=''
fi
declare -A cmpargv=()
cmp_cmds=(wrapper iommu-own)
[[ -n $lspci ]] && cmp_cmds+=(lspci) || cmp_note+=("lspci not installed (Debian: pciutils)")
[[ -n $driverctl ]] && cmp_cmds+=(driverctl) || cmp_note+=("driverctl not installed (Debian: driverctl)")
[[ -n $devbind ]] && cmp_cmds+=(devbind) || cmp_note+=("dpdk-devbind.py not installed (Debian: dpdk)")
declare -A cmplabel=([wrapper]='namespace wrapper alone' [iommu-own]='iommu-own list' [lspci]='lspci -k'
	[driverctl]='driverctl list-devices' [devbind]='dpdk-devbind.py --status')
cmp_argv() { # CMD TREE: its argv, inside the wrapper when there is one
	local -a a
	case $1 in
	wrapper) a=(true) ;;
	iommu-own) a=("$tool" --sysroot "$2" list) ;;
	lspci) a=("$lspci" -k -A linux-sysfs -O "sysfs.path=$2/sys/bus/pci") ;;
	driverctl) a=("$driverctl" list-devices) ;;
	devbind) a=("$devbind" --status) ;;
	esac
	if ((${#sysns[@]})); then printf '%s\n' "${sysns[@]}" "$2" "${a[@]}"; else printf '%s\n' "${a[@]}"; fi
}
: >"$work/cmp"
if ((${#cmp_cmds[@]} > 2)); then
	for ((r = 0; r < cmp_runs; r++)); do
		for n in "${sizes[@]}"; do
			for c in "${cmp_cmds[@]}"; do
				[[ $c == wrapper && ${#sysns[@]} == 0 ]] && continue
				# the slow ones: one run on the big trees
				((r > 0 && n > 1000)) && [[ $c == driverctl || $c == devbind ]] && continue
				mapfile -t argv < <(cmp_argv "$c" "${tree[$n]}")
				measure "${argv[@]}"
				[[ $st == 0 ]] || die "${cmplabel[$c]} on ${tree[$n]}: exit status $st (97/98: the namespace's /sys is not the tree)"
				echo "$n $c $wall $rss $cpu" >>"$work/cmp"
			done
		done
	done
	echo
	echo "the same trees through other tools: median wall time of $cmp_runs runs (1 for driverctl and"
	echo "dpdk-devbind above 1,000 devices), interleaved; x list: the tool's time over iommu-own list's"
	echo
	printf '%7s  %-26s %10s %8s %8s\n' devices tool 'median ms' 'x list' 'runs'
	for n in "${sizes[@]}"; do
		il=$(median "$work/cmp" "$n" iommu-own 3)
		for c in "${cmp_cmds[@]}"; do
			k=$(awk -v n="$n" -v c="$c" '$1 == n && $2 == c' "$work/cmp" | wc -l)
			((k)) || continue
			m=$(median "$work/cmp" "$n" "$c" 3)
			cmpmed[$n,$c]=$m
			printf '%7s  %-26s %10s %8s %8s\n' "$n" "${cmplabel[$c]}" "$(ms "$m")" "$(ratio "$m" "$il")" "$k"
		done
	done
	((${#sysns[@]})) && echo "(every command ran inside the namespace wrapper: its own cost is in each figure)"
fi
for note in "${cmp_note[@]}"; do echo "  not compared: $note"; done

# ---- the targets
echo
echo "targets (issue 16, then \"Fast at data-centre scale\"; wall-time ratios of this run):"
x=$(ratio "${med[$big,list-json]}" "${med[$big,floor]}")
printf '  %-36s %8s  %s\n' "list --json at $big <= 1.2x floor" "${x}x" "$(verdict "$x" 1.2)"
x=$(ratio "${med[$big,list-json]}" "${med[$big,floor-info]}")
printf '  %-36s %8s  %s\n' "  (not a target) x floor +info" "${x}x" ""
x=$(ratio "${med[$big,list-json]}" "${med[$big,floor-checked]}")
printf '  %-36s %8s  %s\n' "  (not a target) x floor +info+chk" "${x}x" ""
if [[ -n $jsonc ]] && "$tool" --sysroot "${tree[$big]}" list --json >"$work/doc.json" &&
	read -r _ _ _ jboth _ jbuild _ jbytes < <("$jsonc" "$work/doc.json" "$runs"); then
	x=$(awk -v j="$jboth" -v f="${med[$big,floor]}" 'BEGIN { printf "%.2f", j / 1000 / f }')
	y=$(awk -v j="$jboth" -v c="${med[$big,floor-checked]}" -v f="${med[$big,floor]}" \
		'BEGIN { printf "%.2f", (c + j / 1000) / f }')
	printf '  %-36s %8s  %s\n' "  (not a target) json-c alone" "${x}x" \
		"(${jboth} ms: ${jbuild} to build, the rest to print $(mb $((jbytes / 1024))) MB; bench/jsonc.c)"
	printf '  %-36s %8s  %s\n' "  (bound) floor +info+chk + json-c" "${y}x" "(what no list --json made with json-c can beat)"
fi
x=$(ratio "${med[$small,list]}" "${med[$small,floor]}")
printf '  %-36s %8s  %s\n' "list (names) at $small <= 2x floor" "${x}x" "$(verdict "$x" 2)"
x=$(ratio "${med[$big,check-json]}" "${med[$big,floor]}")
printf '  %-36s %8s  %s\n' "check --json at $big <= 1.5x floor" "${x}x" "$(verdict "$x" 1.5)"
if ((big != small)); then
	for c in list-json list check-json; do
		x=$(ratio "${med[$big,$c]}" "${med[$small,$c]}")
		printf '  %-36s %8s  %s\n' "${label[$c]} $big/$small <= 45x" "${x}x" "$(verdict "$x" 45)"
	done
fi
maxrss=0
for k in "${!peakrss[@]}"; do
	if ((peakrss[$k] > maxrss)); then maxrss=${peakrss[$k]}; fi
done
for n in "${moved[@]}"; do
	for op in claim release; do
		if ((cl[$n,$op,rss] > maxrss)); then maxrss=${cl[$n,$op,rss]}; fi
	done
done
printf '  %-36s %8s  %s\n' "peak RSS <= 16 MB (any run)" "$(mb "$maxrss") MB" "$(verdict "$maxrss" 16384)"
if [[ -n ${accel[$big]-} ]]; then
	for op in claim release; do
		x=$(ms "${cl[$big,$op,med]}")
		printf '  %-36s %8s  %s\n' "$op of 64 devices < 50 ms" "$x ms" "$(verdict "$x" 49.999)"
	done
fi
