#!/bin/bash
# growth.sh: how the cost of every command grows with what it works on.
# Prints, for each command, the median time at each size and the growth per
# doubling of the size, from the smallest and the largest size of this one
# run (target: at most 2.3x, i.e. linear within noise; quadratic is 4x).
# The sizes are interleaved: each round runs every command at every size,
# so that load from elsewhere on the machine falls on all sizes alike.
#
#   devices on the host   gen.sh's SR-IOV servers of 1k, 4k and 16k devices:
#                         list, list -J, check, check -J, why of the
#                         64-function group, claim and release of it
#                         (--dry-run, and real ones on a tmpfs copy), apply
#                         of a declaration of it (--dry-run and real), boot
#   devices in one group  gen-group.sh's group of 1k, 4k, 8k endpoints:
#                         claim and release of it (--dry-run, real), list,
#                         list -J, why; check and check -J of the same group
#                         half on vfio-pci (one mixed group)
#   VFIO devices          claim of one device beside 1k, 4k, 16k devices on
#                         vfio-pci (the replay engine's counts)
#
#   GROWTH_RUNS=5               runs per point (default 5)
#   GROWTH_HOST_SIZES="1000 4000 16000"
#   GROWTH_GROUP_SIZES="1000 4000 8000"
#   GROWTH_VFIO_SIZES="1000 4000 16000"
#   BENCH_TREES=DIR             where trees are cached (default as bench/run.sh;
#                               the 16k-device tree takes about 1.6 GB and a
#                               few minutes to make once)
# Moves run on copies in a tmpfs (BENCH_TMP, default /dev/shm), never on the
# cached trees, and nothing reads or writes the host's /sys.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tool=${IOMMU_OWN:-$PWD/iommu-own}
timeit=${BENCH_TIMEIT:-$PWD/bench/timeit}
runs=${GROWTH_RUNS:-5}
trees=${BENCH_TREES:-/dev/shm/iommu-own-bench-$(id -u)/trees}
read -r -a host_sizes <<<"${GROWTH_HOST_SIZES-1000 4000 16000}"
read -r -a group_sizes <<<"${GROWTH_GROUP_SIZES-1000 4000 8000}"
read -r -a vfio_sizes <<<"${GROWTH_VFIO_SIZES-1000 4000 16000}"
export IOMMU_OWN_FORBID_LIVE=1 LC_ALL=C.UTF-8
unset IOMMU_OWN_SYSROOT
mkdir -p "$trees"
work=$(mktemp -d "${BENCH_TMP:-/dev/shm}/growth.XXXXXX")
trap 'rm -rf "$work"' EXIT

die() {
	echo "growth.sh: $*" >&2
	exit 1
}

# median of the numbers on stdin
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# time_ms CMD...: wall milliseconds of one run; exit statuses above 1 are errors
# (check exits 1 on error findings, apply and boot 6 on an entry left alone)
time_ms() {
	local wall rest st
	read -r wall rest st rest < <("$timeit" "$@" 2>"$work/err")
	[[ $st == 0 || $st == 1 ]] || die "exit status $st: $* ($(head -c 300 "$work/err"))"
	awk -v w="$wall" 'BEGIN {printf "%.2f", w * 1000}'
}

# per_doubling T_SMALL T_LARGE N_SMALL N_LARGE
per_doubling() {
	awk -v a="$1" -v b="$2" -v n="$3" -v m="$4" 'BEGIN {
		d = log(m / n) / log(2); r = (a > 0) ? exp(log(b / a) / d) : 0
		printf "%.2fx %s", r, (r <= 2.3 ? "ok" : "FAIL") }'
}

report() { # report LABEL SIZES... -- TIMES...
	local label=$1
	shift
	local -a n=() t=()
	while [[ $1 != -- ]]; do n+=("$1"); shift; done
	shift
	t=("$@")
	printf '%-44s' "$label"
	for i in "${!n[@]}"; do printf ' %6s:%9s ms' "${n[$i]}" "${t[$i]}"; done
	printf '   per doubling %s\n' "$(per_doubling "${t[0]}" "${t[-1]}" "${n[0]}" "${n[-1]}")"
}

# point NAME N CMD...: one timed run of CMD, kept for size N of NAME
declare -A raw=()
point() {
	local name=$1 n=$2
	shift 2
	raw[$name,$n]+="$(time_ms "$@") "
}
# show LABEL NAME SIZES...: medians per size, growth per doubling
show() {
	local label=$1 name=$2 n t=()
	shift 2
	for n in "$@"; do t+=("$(printf '%s\n' ${raw[$name,$n]} | median)"); done
	report "$label" "$@" -- "${t[@]}"
}

# a declaration of the group of device ADDR (iommu-own.conf(5)) under ROOT
declare -A bytes=()
declare_group() { # ROOT ADDR ID
	mkdir -p "$1/etc/iommu-own"
	printf '[device %s]\nid = %s\n' "$2" "$3" >"$1/etc/iommu-own/iommu-own.conf"
}

echo "iommu-own growth: median wall time of $runs runs per point, sizes interleaved in each round"

# ---- devices on the host (an empty list of sizes skips a part)
declare -A hg=() ha=()
for n in "${host_sizes[@]}"; do
	t=$trees/dev$n
	bash "$here/gen.sh" "$t" "$n" >/dev/null
	[[ $(<"$t/.gen-info") =~ accelerator\ group\ ([0-9]+) ]] || die "$t: no accelerator group (fewer than 500 devices?)"
	hg[$n]=${BASH_REMATCH[1]}
	ha[$n]=$(ls "$t/sys/kernel/iommu_groups/${hg[$n]}/devices" | head -n 1)
	# moves on one copy, the boot step (which leaves overrides) on another
	cp -a "$t" "$work/host$n"
	cp -a "$t" "$work/boot$n"
	declare_group "$work/boot$n" "${ha[$n]}" 8086:37c8
	declare_group "$work/conf$n" "${ha[$n]}" 8086:37c8
done
for ((r = 0; r < runs; r++)); do
	for n in "${host_sizes[@]}"; do
		t=$trees/dev$n c=$work/host$n g=${hg[$n]}
		point h-list "$n" "$tool" --sysroot "$t" list
		point h-listj "$n" "$tool" --sysroot "$t" list -J
		point h-check "$n" "$tool" --sysroot "$t" check
		point h-checkj "$n" "$tool" --sysroot "$t" check -J
		point h-why "$n" "$tool" --sysroot "$t" why "$g"
		point h-claim-dry "$n" "$tool" --sysroot "$c" claim "$g" --dry-run
		point h-claim "$n" "$tool" --sysroot "$c" claim "$g"
		point h-release-dry "$n" "$tool" --sysroot "$c" release "$g" --dry-run
		point h-release "$n" "$tool" --sysroot "$c" release "$g"
		point h-apply-dry "$n" "$tool" --sysroot "$c" apply --conf "$work/conf$n/etc/iommu-own/iommu-own.conf" --dry-run
		point h-apply "$n" "$tool" --sysroot "$c" apply --conf "$work/conf$n/etc/iommu-own/iommu-own.conf"
		"$tool" --sysroot "$c" release "$g" >/dev/null
		point h-boot "$n" "$tool" --sysroot "$work/boot$n" boot
	done
done
for n in "${host_sizes[@]}"; do rm -rf "$work/host$n" "$work/boot$n"; done
((${#host_sizes[@]})) && echo && echo "devices on the host (gen.sh trees; the moves: the 64-function group, on a tmpfs copy)"
((${#host_sizes[@]})) && for k in "list:h-list" "list -J:h-listj" "check:h-check" "check -J:h-checkj" "why GROUP:h-why" \
	"claim --dry-run:h-claim-dry" "claim:h-claim" "release --dry-run:h-release-dry" "release:h-release" \
	"apply --dry-run (one declaration):h-apply-dry" "apply (one declaration):h-apply" "boot (one declaration):h-boot"; do
	show "  ${k%%:*}" "${k#*:}" "${host_sizes[@]}"
done

# ---- devices in one group
for n in "${group_sizes[@]}"; do
	bash "$here/gen-group.sh" "$trees/group$n" "$n" group >/dev/null
	bash "$here/gen-group.sh" "$trees/mixed$n" "$n" mixed >/dev/null
	cp -a "$trees/group$n" "$work/group$n"
	bytes[$n]=$({ "$tool" --sysroot "$trees/mixed$n" check || :; } | wc -c)
done
for ((r = 0; r < runs; r++)); do
	for n in "${group_sizes[@]}"; do
		c=$work/group$n
		point g-claim-dry "$n" "$tool" --sysroot "$c" claim 0 --dry-run
		point g-claim "$n" "$tool" --sysroot "$c" claim 0
		point g-release-dry "$n" "$tool" --sysroot "$c" release 0 --dry-run
		point g-list "$n" "$tool" --sysroot "$c" list
		point g-listj "$n" "$tool" --sysroot "$c" list -J
		point g-release "$n" "$tool" --sysroot "$c" release 0
		point g-why "$n" "$tool" --sysroot "$c" why 0
		point g-check "$n" "$tool" --sysroot "$trees/mixed$n" check
		point g-checkj "$n" "$tool" --sysroot "$trees/mixed$n" check -J
	done
done
for n in "${group_sizes[@]}"; do rm -rf "$work/group$n"; done
((${#group_sizes[@]})) && echo && echo "devices in one group (gen-group.sh; check: the same group half on vfio-pci)"
((${#group_sizes[@]})) && for k in "claim --dry-run:g-claim-dry" "claim:g-claim" "release --dry-run:g-release-dry" "release:g-release" \
	"list (the group claimed):g-list" "list -J (the group claimed):g-listj" "why 0:g-why" \
	"check (one mixed group):g-check" "check -J (one mixed group):g-checkj"; do
	show "  ${k%%:*}" "${k#*:}" "${group_sizes[@]}"
done
if ((${#group_sizes[@]})); then
	printf '%-44s' "    the check table's bytes"
	for n in "${group_sizes[@]}"; do printf ' %6s:%12s' "$n" "${bytes[$n]}"; done
	printf '   per doubling %s\n' "$(per_doubling "${bytes[${group_sizes[0]}]}" "${bytes[${group_sizes[-1]}]}" "${group_sizes[0]}" "${group_sizes[-1]}")"
fi

# ---- VFIO devices on the host
for n in "${vfio_sizes[@]}"; do
	bash "$here/gen-group.sh" "$trees/vfio$n" "$n" vfio >/dev/null
	cp -a "$trees/vfio$n" "$work/vfio$n"
done
for ((r = 0; r < runs; r++)); do
	for n in "${vfio_sizes[@]}"; do
		point v-claim "$n" "$tool" --sysroot "$work/vfio$n" claim "$n"
		point v-release "$n" "$tool" --sysroot "$work/vfio$n" release "$n"
	done
done
if ((${#vfio_sizes[@]})); then
	echo
	echo "VFIO devices on the host (gen-group.sh: N on vfio-pci, one more on a kernel driver)"
	show "  claim of the one device" v-claim "${vfio_sizes[@]}"
	show "  release of it" v-release "${vfio_sizes[@]}"
fi
