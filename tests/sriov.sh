#!/usr/bin/env bash
# SR-IOV: vfs PF COUNT, claim --remove-vfs and the release after it, on
# copies of the vfs and sriov fixtures through the replay engine, which
# models sriov_numvfs (VFs, their links and groups appear and go) and
# sriov_drivers_autoprobe. Every case checks the tree itself.
. "$TOP_SRCDIR/tests/lib.sh"

E810=0000:01:00.0   # vfs: ice, 8 VFs possible (offset 8, stride 1), alone in group 2 behind ACS; iavf loaded
X550=0000:02:00.0   # vfs: ixgbe, shares group 3 with its root port (no ACS)
CX5=0000:03:00.0    # vfs: no driver
STUBPF=0000:04:00.0 # vfs: on pci-stub
NVME=0000:05:00.0   # vfs: nvme, 2 VFs possible, nvme drives them too
NIC=0000:06:00.0    # vfs: e1000e, no SR-IOV
dev() { printf '%s/sys/bus/pci/devices/%s' "$1" "$2"; }
numvfs() { cat "$(dev "$1" "$2")/sriov_numvfs"; }
autoprobe() { cat "$(dev "$1" "$2")/sriov_drivers_autoprobe"; }
vfs_of() { # vfs_of ROOT PF: the VFs its virtfnN links name, in N order
	local n i
	n=$(numvfs "$1" "$2")
	for ((i = 0; i < n; i++)); do basename "$(readlink "$(dev "$1" "$2")/virtfn$i")"; done
}
group_of() { basename "$(readlink "$(dev "$1" "$2")/iommu_group")"; }
no_journal() { [ ! -e "$1/run/iommu-own/journal.json" ]; }
# holder ROOT PID COMM TARGET...: a process holding TARGETs open
holder() {
	local root=$1 pid=$2 comm=$3 fd=10
	shift 3
	mkdir -p "$root/proc/$pid/fd"
	echo "$comm" >"$root/proc/$pid/comm"
	for t; do ln -s "$t" "$root/proc/$pid/fd/$fd"; fd=$((fd + 1)); done
}
# The VF addresses a PF's routing IDs give (pci_iov_virtfn_bus/devfn): expected_vfs BUS DEVFN OFFSET STRIDE N
expected_vfs() {
	local bus=$1 devfn=$2 off=$3 stride=$4 n=$5 i rid
	for ((i = 0; i < n; i++)); do
		rid=$((bus * 256 + devfn + off + stride * i))
		printf '0000:%02x:%02x.%d\n' $((rid >> 8 & 255)) $((rid >> 3 & 31)) $((rid & 7))
	done
}

# ---- the replay engine's VFs -----------------------------------------------------
# For each count of the E810 (offset 8, stride 1) and the X550 (offset 128,
# stride 2: a second bus), the VFs are where the routing IDs say, linked both
# ways, unbound (autoprobe was off while they appeared, and is back on), each
# in a group the kernel's IDA would number (the lowest free: 4, then 13 on),
# with the PF group's type and reserved regions.
bad=
for n in 1 2 5 8; do
	root=$(fresh_copy vfs)
	iommu_own "$root" vfs $E810 "$n" >"$SCRATCH/out" 2>&1 || bad="$bad E810:$n:rc"
	want=$(expected_vfs 1 0 8 1 "$n")
	[ "$(vfs_of "$root" $E810)" = "$want" ] || bad="$bad E810:$n:addresses"
	[ "$(numvfs "$root" $E810)" = "$n" ] && [ "$(autoprobe "$root" $E810)" = 1 ] || bad="$bad E810:$n:attrs"
	groups=
	for vf in $want; do
		d=$(dev "$root" "$vf")
		[ "$(readlink -f "$d/physfn")" = "$(readlink -f "$(dev "$root" $E810)")" ] || bad="$bad $vf:physfn"
		unbound "$d" && [ "$(cat "$d/driver_override")" = "(null)" ] || bad="$bad $vf:bound"
		[ "$(cat "$d/device")" = 0x1889 ] && [ "$(cat "$d/vendor")" = 0x8086 ] && [ "$(cat "$d/class")" = 0x020000 ] ||
			bad="$bad $vf:ids"
		grep -q "^MODALIAS=pci:v00008086d00001889" "$d/uevent" || bad="$bad $vf:uevent"
		g=$(group_of "$root" "$vf")
		groups="$groups $g"
		[ -L "$root/sys/kernel/iommu_groups/$g/devices/$vf" ] || bad="$bad $vf:group-link"
		cmp -s "$root/sys/kernel/iommu_groups/$g/reserved_regions" "$root/sys/kernel/iommu_groups/2/reserved_regions" ||
			bad="$bad $vf:regions"
	done
	want_groups=$(echo 4 13 14 15 16 17 18 19 | cut -d' ' -f1-"$n")
	[ "$(echo $groups)" = "$want_groups" ] || bad="$bad E810:$n:groups($groups)"
done
root=$(fresh_copy vfs)
iommu_own "$root" vfs $X550 3 >/dev/null 2>&1
[ "$(vfs_of "$root" $X550)" = "$(expected_vfs 2 0 128 2 3)" ] || bad="$bad X550:addresses"
for vf in $(vfs_of "$root" $X550); do [ "$(group_of "$root" "$vf")" = 3 ] || bad="$bad $vf:not-in-group-3"; done
[ -z "$bad" ]
verdict "vfs: the VFs appear where their routing IDs say, linked both ways, unbound, in the groups the kernel would give${bad:+ ($bad)}"

# A count, then 0: the tree is as it started (groups, links, attributes), for each PF that can.
bad=
for pf_n in $E810:1 $E810:8 $X550:8 $NVME:2; do
	pf=${pf_n%:*} n=${pf_n##*:}
	root=$(fresh_copy vfs)
	iommu_own "$root" vfs "$pf" "$n" >/dev/null 2>&1 && iommu_own "$root" vfs "$pf" 0 >"$SCRATCH/out" 2>&1 &&
		same_tree "$root" "$FIXTURES/vfs" && no_journal "$root" || bad="$bad $pf_n"
done
[ -z "$bad" ]
verdict "vfs PF N then vfs PF 0 leaves the tree exactly as it started${bad:+ (not for$bad)}"

# ---- vfs --claim --------------------------------------------------------------------
root=$(fresh_copy vfs)
iommu_own "$root" vfs $E810 3 --claim -J >"$SCRATCH/json" 2>"$SCRATCH/err"
rc=$?
bad=
for vf in $(vfs_of "$root" $E810); do
	bound_to "$(dev "$root" "$vf")" vfio-pci && [ "$(cat "$(dev "$root" "$vf")/driver_override")" = vfio-pci ] ||
		bad="$bad $vf"
	[ -e "$root/dev/vfio/$(group_of "$root" "$vf")" ] || bad="$bad $vf:no-group-file"
	[ -s "$root/run/iommu-own/group-$(group_of "$root" "$vf").json" ] || bad="$bad $vf:no-record"
done
[ $rc -eq 0 ] && [ -z "$bad" ] && [ "$(autoprobe "$root" $E810)" = 1 ] && no_journal "$root" &&
	[ "$(iommu_own "$root" list -r -n -o STATE 4 13 14 | sort -u)" = user ] &&
	"$JSONCHECK" <"$SCRATCH/json" && grep -q '"operation": "vfs"' "$SCRATCH/json" && grep -q '"numvfs": 3' "$SCRATCH/json"
verdict "vfs --claim: every new VF on vfio-pci with its override, its group viable and recorded, autoprobe back on (rc $rc)${bad:+:$bad}"

iommu_own "$root" vfs $E810 0 >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "(vfs-bound; cannot be forced: release its group first)" "$SCRATCH/out" && [ "$(numvfs "$root" $E810)" = 3 ]
verdict "vfs PF 0 while the VFs are claimed: refused, cannot be forced, nothing changed (rc $rc)"
iommu_own "$root" release 4 13 14 >/dev/null 2>&1 && iommu_own "$root" vfs $E810 0 >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && same_tree "$root" "$FIXTURES/vfs" && [ -z "$(ls "$root/run/iommu-own" | grep group-)" ]
verdict "release of the VF groups, then vfs PF 0: the tree as it started, no record left (rc $rc)"

# The count the PF has: --claim claims the groups of its VFs that are not on VFIO.
root=$(fresh_copy vfs)
iommu_own "$root" vfs $NVME 2 >/dev/null 2>&1
iommu_own "$root" vfs $NVME 2 --claim >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && [ "$(iommu_own "$root" list -r -n -o DRIVER 0000:05:00.1 0000:05:00.2 | sort -u)" = vfio-pci ] &&
	grep -q "claimed groups" "$SCRATCH/out"
verdict "vfs PF N --claim when the PF has N VFs claims their groups (rc $rc)"

# --replace: 2 -> 3 through 0, the new VFs claimed; without it refused.
root=$(fresh_copy vfs)
iommu_own "$root" vfs $E810 2 >/dev/null 2>&1
iommu_own "$root" vfs $E810 3 --claim >"$SCRATCH/out" 2>&1
rc1=$?
iommu_own "$root" vfs $E810 3 --claim --replace --dry-run >"$SCRATCH/dry" 2>&1
iommu_own "$root" vfs $E810 3 --claim --replace >"$SCRATCH/out2" 2>&1
rc2=$?
[ $rc1 -eq 1 ] && grep -q "(vfs-replace; cannot be forced: --replace allows it)" "$SCRATCH/out" &&
	grep -A1 'sriov_drivers_autoprobe "0"' "$SCRATCH/dry" | grep -q 'sriov_numvfs "0"' && grep -q 'sriov_numvfs "3"' "$SCRATCH/dry" &&
	[ $rc2 -eq 0 ] && [ "$(numvfs "$root" $E810)" = 3 ] &&
	[ "$(iommu_own "$root" list -r -n -o DRIVER $(vfs_of "$root" $E810) | sort -u)" = vfio-pci ]
verdict "another count for a PF with VFs: refused without --replace; with it, through 0, the new VFs claimed (rc $rc1, $rc2)"

# ---- refusals: classes of PF and count; each exits 1 (or 2 for usage) with the tree as it was
refused() { # refused DESCRIPTION FIXTURE RC PATTERN PREPARE ARGS...
	local d=$1 f=$2 want=$3 pat=$4 prep=$5 root rc
	shift 5
	root=$(fresh_copy "$f")
	eval "$prep"
	cp -a "$root" "$SCRATCH/before"
	iommu_own "$root" "$@" >"$SCRATCH/out" 2>&1
	rc=$?
	if [ $rc -eq "$want" ] && grep -q -- "$pat" "$SCRATCH/out" && same_tree "$root" "$SCRATCH/before" && no_journal "$root"; then
		ok "$d"
	else
		not_ok "$d (rc $rc)" "$(cat "$SCRATCH/out")"
	fi
	rm -rf "$SCRATCH/before"
}
refused "sriov-unsupported: a device that is no SR-IOV PF" vfs 1 "(sriov-unsupported; cannot be forced)" : vfs $NIC 1
refused "sriov-unsupported: a PF without a driver (the kernel's ENOENT)" vfs 1 "has no driver" : vfs $CX5 2
refused "sriov-unsupported: a PF on pci-stub, which has no sriov_configure" vfs 1 "is on pci-stub" : vfs $STUBPF 2
refused "sriov-unsupported: a PF whose sriov_totalvfs is 0" vfs 1 "sriov_totalvfs 0" \
	'echo 0 >"$(dev "$root" $E810)/sriov_totalvfs"' vfs $E810 1
refused "vfs-range: one VF more than sriov_totalvfs" vfs 1 "at most 8 VFs (sriov_totalvfs), not 9 (vfs-range" : vfs $E810 9
refused "vfs-range: the largest count" vfs 1 "(vfs-range; cannot be forced)" : vfs $NVME 65535
refused "vf-group-shared: --claim of a PF that shares its group with its bridge" vfs 1 \
	"shares group 3 with its upstream bridge 0000:00:02.0" : vfs $X550 2 --claim
refused "vfs-bound: VFs on host drivers and on VFIO (sriov fixture)" sriov 1 "VF 0000:3b:02.0 is on iavf" : vfs 0000:3b:00.0 0
refused "vfs-bound on VFIO cannot be forced" sriov 1 "VF 0000:3b:02.4 is on vfio-pci" : vfs 0000:3b:00.0 0 --force=vfs-bound
refused "vfs-in-use: a process holds a VF's group file" vfs 1 "process 4242 (qemu) holds /dev/vfio/4 open (VF 0000:01:01.0) (vfs-in-use" \
	'iommu_own "$root" vfs $E810 2 --claim >/dev/null; holder "$root" 4242 qemu /dev/vfio/4' vfs $E810 0
refused "vfs-in-use: a process holds a VF's VFIO cdev (iommufd)" vfs 1 "holds /dev/vfio/devices/vfio1 open (VF 0000:01:01.1)" \
	'iommu_own "$root" vfs $E810 2 --claim >/dev/null; holder "$root" 4243 dpdk /dev/vfio/devices/vfio1' vfs $E810 0 --force=vfs-bound
refused "cannot-verify: the processes cannot be read when VFs would go" vfs 1 "cannot check whether a process holds its VFs" \
	'iommu_own "$root" vfs $E810 1 >/dev/null; mkdir -p "$root/proc/4711"; : >"$root/proc/4711/fd"' vfs $E810 0
refused "a PF that is no PCI address" vfs 2 "is not a PCI address" : vfs 01:0g.0 1
refused "a PF that does not exist" vfs 2 "no such PCI device" : vfs 0000:77:00.0 1
refused "a COUNT that is not a number" vfs 2 "COUNT: 'two' is not a number" : vfs $E810 two
refused "a COUNT above 65535" vfs 2 "COUNT: '65536' is not a number" : vfs $E810 65536
refused "no COUNT" vfs 2 "name the PF and the COUNT" : vfs $E810
refused "one operand too many" vfs 2 "one too many" : vfs $E810 1 2
refused "an unknown --force code" vfs 2 "unknown check 'vfs-ranged'" : vfs $E810 1 --force=vfs-ranged

# vfs-bound on a host driver is forceable: the VFs go, their driver with them.
root=$(fresh_copy vfs)
iommu_own "$root" vfs $NVME 2 >/dev/null 2>&1
nvme_vf=$(dev "$root" 0000:05:00.1)
ln -s ../../../bus/pci/drivers/nvme "$nvme_vf/driver"
ln -s ../../../../devices/pci0000:00/0000:00:05.0/0000:05:00.1 "$root/sys/bus/pci/drivers/nvme/0000:05:00.1"
iommu_own "$root" vfs $NVME 0 >"$SCRATCH/out" 2>&1
rc1=$?
iommu_own "$root" vfs $NVME 0 --force=vfs-bound >"$SCRATCH/out2" 2>&1
rc2=$?
[ $rc1 -eq 1 ] && grep -q "(vfs-bound; --force=vfs-bound overrides)" "$SCRATCH/out" && [ $rc2 -eq 0 ] &&
	same_tree "$root" "$FIXTURES/vfs"
verdict "vfs-bound on a host driver: refused, and --force=vfs-bound removes the VFs, unbound first (rc $rc1, $rc2)"

# ---- a failure at each write, a kill after each write, a signal after each ---------
# vfs --claim (autoprobe off, the count, an override and a bind per VF,
# autoprobe back), --replace (through 0) and vfs PF 0: each ends exactly
# where it started, no journal; a kill then recover ends at the start or
# with every VF on VFIO and autoprobe back.
# The start of --replace and 0: two VFs on iavf, as the kernel makes them
# with autoprobe on (a claim --remove-vfs and its release), which a rollback
# makes again the same way.
with_vfs() { # with_vfs ROOT: the E810 with 2 VFs on iavf, nothing else changed
	iommu_own "$1" vfs $E810 2 >/dev/null 2>&1 && iommu_own "$1" claim $E810 --remove-vfs >/dev/null 2>&1 &&
		iommu_own "$1" release $E810 >/dev/null 2>&1 && rm -rf "$1/run"
}
points=0 failed=0 kills=0 kill_failed=0
for case in "vfs:$E810 3 --claim" "vfs:$NVME 2 --claim" "vfs:$E810 2" "replace:$E810 4 --claim --replace --force=vfs-bound" \
	"remove:$E810 0 --force=vfs-bound"; do
	kind=${case%%:*} args=${case#*:}
	start=$(fresh_copy vfs)
	[ "$kind" = vfs ] || with_vfs "$start" || not_ok "$case: the start state can be made"
	done_tree=$(mktemp -d "$SCRATCH/done.XXXXXX")
	cp -a "$start/." "$done_tree/"
	# shellcheck disable=SC2086
	iommu_own "$done_tree" vfs $args -J >"$SCRATCH/json" 2>/dev/null || not_ok "$case: the move itself works"
	total=$(grep -c '"path"' "$SCRATCH/json")
	for i in $(seq 1 "$total"); do
		for fault in "write $i EIO" "kill $i"; do
			root=$(mktemp -d "$SCRATCH/f.XXXXXX")
			cp -a "$start/." "$root/"
			echo "$fault" >"$root/replay-faults"
			# shellcheck disable=SC2086
			iommu_own "$root" vfs $args >"$SCRATCH/out" 2>&1
			rc=$?
			rm -f "$root/replay-faults"
			if [ "${fault%% *}" = write ]; then
				points=$((points + 1))
				if [ $rc -ne 1 ] || ! same_tree "$root" "$start" || ! no_journal "$root" ||
					[ -n "$(ls "$root/run/iommu-own" | grep group-)" ]; then
					failed=$((failed + 1))
					not_ok "$case: write $i of $total failing: exit 1, the start state (rc $rc)" "$(cat "$SCRATCH/out")"
				fi
			else
				iommu_own "$root" recover >"$SCRATCH/out" 2>&1
				rrc=$?
				kills=$((kills + 1))
				if [ $rc -ne 137 ] || [ $rrc -ne 0 ] || ! no_journal "$root" ||
					! { same_tree "$root" "$start" || same_tree "$root" "$done_tree"; }; then
					kill_failed=$((kill_failed + 1))
					not_ok "$case: killed after write $i of $total, then recover: the start or the end (rc $rc, recover $rrc)" \
						"$(cat "$SCRATCH/out")"
				fi
			fi
			rm -rf "$root"
		done
	done
done
echo "# vfs: $points failure points, $failed did not end where they started; $kills kill points, $kill_failed partial"
[ "$points" -ge 25 ] && [ "$failed" -eq 0 ]
verdict "a failure injected at each write of vfs (--claim, --replace, 0) rolls back to the start: count, autoprobe, groups ($points points)"
[ "$kills" -ge 25 ] && [ "$kill_failed" -eq 0 ]
verdict "SIGKILL after each write of vfs, then recover: the old count and autoprobe, or all VFs on VFIO ($kills points)"

# A signal after each write of vfs --claim: rolled back, 128+N; after the last one, finished.
sig_bad=
n=$(grep -c '"path"' < <(r=$(fresh_copy vfs) && iommu_own "$r" vfs $E810 2 --claim -J 2>/dev/null))
for i in $(seq 1 "$n"); do
	root=$(fresh_copy vfs)
	echo "signal $i TERM" >"$root/replay-faults"
	iommu_own "$root" vfs $E810 2 --claim >"$SCRATCH/out" 2>&1
	rc=$?
	rm -f "$root/replay-faults"
	if [ "$i" -eq "$n" ]; then
		[ $rc -eq 0 ] && grep -q "came after the last write" "$SCRATCH/out" || sig_bad="$sig_bad $i:$rc"
	else
		[ $rc -eq 143 ] && same_tree "$root" "$FIXTURES/vfs" && no_journal "$root" || sig_bad="$sig_bad $i:$rc"
	fi
done
[ -z "$sig_bad" ] && [ "$n" -ge 6 ]
verdict "SIGTERM after each of the $n writes of vfs --claim: rolled back with 143, finished after the last${sig_bad:+ (not:$sig_bad)}"

# An interrupted vfs is visible to check and blocks other moves; its journal is version 3.
root=$(fresh_copy vfs)
echo "kill 2" >"$root/replay-faults"
iommu_own "$root" vfs $E810 2 --claim >/dev/null 2>&1
rm -f "$root/replay-faults"
iommu_own "$root" check -n -o CODE,MESSAGE >"$SCRATCH/out" 2>&1
grep -q '"version":3' "$root/run/iommu-own/journal.json" && grep -q '"sriov"' "$root/run/iommu-own/journal.json" &&
	grep -q "^pending-journal *the vfs of PF $E810 was interrupted" "$SCRATCH/out" && { iommu_own "$root" vfs $NVME 1 >/dev/null 2>&1; [ $? -eq 4 ]; }
verdict "an interrupted vfs: journal version 3 with its step, check reports pending-journal naming the PF, other moves exit 4"
root=$(fresh_copy vfs)
echo "kill 2" >"$root/replay-faults"
iommu_own "$root" claim 12 >/dev/null 2>&1
rm -f "$root/replay-faults"
grep -q '"version":2' "$root/run/iommu-own/journal.json" && ! grep -q '"sriov"' "$root/run/iommu-own/journal.json"
verdict "a move without SR-IOV steps still writes a version 2 journal (older versions recover it)"

# A damaged step in a journal is refused, never acted on.
root=$(fresh_copy vfs)
echo "kill 2" >"$root/replay-faults"
iommu_own "$root" vfs $E810 2 --claim >/dev/null 2>&1
rm -f "$root/replay-faults"
sed -i 's/"numvfs":2/"numvfs":"two"/' "$root/run/iommu-own/journal.json"
cp -a "$root" "$SCRATCH/before"
iommu_own "$root" recover >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "corrupt journal (its SR-IOV steps)" "$SCRATCH/out" && same_tree "$root" "$SCRATCH/before"
verdict "a journal whose SR-IOV step is damaged: recover refuses it (exit 2), nothing written (rc $rc)"
rm -rf "$SCRATCH/before"

# ---- claim --remove-vfs, and the release that makes the VFs again -------------------
root=$(fresh_copy vfs)
iommu_own "$root" vfs $NVME 2 >/dev/null 2>&1
rm -rf "$root/run"
start=$(mktemp -d "$SCRATCH/start.XXXXXX")
cp -a "$root/." "$start/"
iommu_own "$root" claim 10 >"$SCRATCH/out" 2>&1
rc0=$?
iommu_own "$root" claim 10 --remove-vfs >"$SCRATCH/out2" 2>&1
rc1=$?
[ $rc0 -eq 1 ] && grep -q "remove-vfs removes them" "$SCRATCH/out" && [ $rc1 -eq 0 ] && [ "$(numvfs "$root" $NVME)" = 0 ] &&
	bound_to "$(dev "$root" $NVME)" vfio-pci && grep -q '"numvfs":2' "$root/run/iommu-own/group-10.json" &&
	[ ! -e "$(dev "$root" 0000:05:00.1)" ]
verdict "claim of a PF with VFs: refused naming --remove-vfs; with it the VFs go first and the count is recorded (rc $rc0, $rc1)"
iommu_own "$root" release 10 --dry-run >"$SCRATCH/dry" 2>&1
iommu_own "$root" release 10 >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && tail -n 1 "$SCRATCH/dry" | grep -q 'sriov_numvfs "2"' && bound_to "$(dev "$root" $NVME)" nvme &&
	[ "$(numvfs "$root" $NVME)" = 2 ] && bound_to "$(dev "$root" 0000:05:00.1)" nvme && bound_to "$(dev "$root" 0000:05:00.2)" nvme
verdict "release: the PF back on nvme first, then its 2 VFs, which autoprobe binds to nvme (rc $rc)"

# The same for the E810, whose VFs iavf takes once they are made again with autoprobe on.
root=$(fresh_copy vfs)
iommu_own "$root" vfs $E810 3 >/dev/null 2>&1
iommu_own "$root" claim $E810 --remove-vfs >/dev/null 2>&1 && iommu_own "$root" release $E810 >/dev/null 2>&1
[ "$(iommu_own "$root" list -r -n -o DRIVER $(vfs_of "$root" $E810) | sort -u)" = iavf ] && bound_to "$(dev "$root" $E810)" ice
verdict "release of an E810 claimed with --remove-vfs: ice back, 3 VFs again, on iavf (the PF driver's VF driver)"

# claim --remove-vfs and its release, a failure at each write: back where
# each started. The VFs a rollback makes again are probed as the kernel
# probes new VFs (autoprobe on: nvme takes them), so the start has them so.
rm -rf "$start"
start=$(fresh_copy vfs)
iommu_own "$start" vfs $NVME 2 >/dev/null 2>&1 && iommu_own "$start" claim 10 --remove-vfs >/dev/null 2>&1 &&
	iommu_own "$start" release 10 >/dev/null 2>&1 && rm -rf "$start/run"
bad= n_points=0
for op in claim release; do
	base=$(mktemp -d "$SCRATCH/base.XXXXXX")
	cp -a "$start/." "$base/"
	[ $op = release ] && iommu_own "$base" claim 10 --remove-vfs --force=vfs-bound >/dev/null 2>&1
	args=(10)
	[ $op = claim ] && args+=(--remove-vfs --force=vfs-bound)
	n=$(iommu_own "$base" $op "${args[@]}" --dry-run | grep -vc '^#')
	for i in $(seq 1 "$n"); do
		root=$(mktemp -d "$SCRATCH/r.XXXXXX")
		cp -a "$base/." "$root/"
		echo "write $i EIO" >"$root/replay-faults"
		iommu_own "$root" $op "${args[@]}" >"$SCRATCH/out" 2>&1
		rc=$?
		rm -f "$root/replay-faults"
		n_points=$((n_points + 1))
		[ $rc -eq 1 ] && same_tree "$root" "$base" && no_journal "$root" || bad="$bad $op:$i:$rc"
	done
done
[ -z "$bad" ] && [ "$n_points" -ge 7 ]
verdict "claim --remove-vfs and the release after it, a failure at each write ($n_points): back where each started${bad:+ (not:$bad)}"

root=$(fresh_copy sriov)
iommu_own "$root" claim 7 --remove-vfs >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "VF 0000:3b:02.0 is on iavf" "$SCRATCH/out" && grep -q "VF 0000:3b:02.4 is on vfio-pci" "$SCRATCH/out" &&
	! grep -q "(sriov-pf" "$SCRATCH/out" && same_tree "$root" "$FIXTURES/sriov"
verdict "claim --remove-vfs of a PF whose VFs are bound: vfs-bound instead of sriov-pf, nothing changed (rc $rc)"

# ---- declarations: vfs = N on a PF entry ---------------------------------------
declare() { # declare ROOT TEXT: the system's iommu-own.conf
	mkdir -p "$1/etc/iommu-own"
	printf '%s\n' "$2" >"$1/etc/iommu-own/iommu-own.conf"
}
E810_DECL=$'[device 0000:01:00.0]\nid = 8086:1593\nvfs = 3'
NVME_DECL=$'[device 0000:05:00.0]\nid = 1b36:0010\nvfs = 2'
bad=
for v in 0 -1 three 65536 '3 4' ''; do
	printf '[device 0000:01:00.0]\nid = 8086:1593\nvfs = %s\n' "$v" >"$SCRATCH/bad.conf"
	"$IOMMU_OWN" check --conf "$SCRATCH/bad.conf" --syntax >"$SCRATCH/out" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -q "$SCRATCH/bad.conf:3:" "$SCRATCH/out" || bad="$bad '$v':$rc"
done
printf '[device 0000:01:00.0]\nid = 8086:1593\nvfs = 8\n' >"$SCRATCH/good.conf"
"$IOMMU_OWN" check --conf "$SCRATCH/good.conf" --syntax >/dev/null 2>&1 || bad="$bad good"
[ -z "$bad" ]
verdict "vfs = N: 0, negative, words, above 65535, two numbers and nothing are errors naming FILE:3; 8 parses${bad:+ (not:$bad)}"

root=$(fresh_copy vfs)
declare "$root" "$E810_DECL"$'\n\n'"$NVME_DECL"
iommu_own "$root" check -r -n -o CODE >"$SCRATCH/check1" 2>&1
iommu_own "$root" apply -J >"$SCRATCH/json" 2>"$SCRATCH/err"
rc1=$?
iommu_own "$root" apply -J >"$SCRATCH/json2" 2>&1
rc2=$?
iommu_own "$root" check -r -n -o CODE >"$SCRATCH/check2" 2>&1
[ "$(grep -c declared-not-applied "$SCRATCH/check1")" = 2 ] && [ $rc1 -eq 0 ] && grep -q '"changed": true' "$SCRATCH/json" &&
	[ "$(numvfs "$root" $E810)" = 3 ] && [ "$(numvfs "$root" $NVME)" = 2 ] &&
	[ "$(iommu_own "$root" list -r -n -o DRIVER $(vfs_of "$root" $E810) $(vfs_of "$root" $NVME) | sort -u)" = vfio-pci ] &&
	[ "$(autoprobe "$root" $E810)$(autoprobe "$root" $NVME)" = 11 ] && bound_to "$(dev "$root" $E810)" ice &&
	[ $rc2 -eq 0 ] && grep -q '"changed": false' "$SCRATCH/json2" && [ "$(grep -c '"result": "converged"' "$SCRATCH/json2")" = 2 ] &&
	! grep -q declared "$SCRATCH/check2"
verdict "apply of two PFs declared with vfs: their VFs made and claimed in one move, the PFs left on their drivers; a second apply converged; check agrees (rc $rc1, $rc2)"

# The VFs there already: apply claims their groups; a release brings check's finding back.
root=$(fresh_copy vfs)
declare "$root" "$NVME_DECL"
iommu_own "$root" vfs $NVME 2 >/dev/null 2>&1
iommu_own "$root" apply >"$SCRATCH/out" 2>&1
rc=$?
drivers=$(iommu_own "$root" list -r -n -o DRIVER $(vfs_of "$root" $NVME) | sort -u)
iommu_own "$root" release 0000:05:00.1 >"$SCRATCH/rel" 2>&1
iommu_own "$root" check -r -n -o CODE >"$SCRATCH/check" 2>&1
[ $rc -eq 0 ] && [ "$drivers" = vfio-pci ] &&
	grep -q "the next boot or apply claims it again" "$SCRATCH/rel" && grep -qx declared-not-applied "$SCRATCH/check"
verdict "apply claims the groups of VFs that exist; a release of one warns it is declared, and check reports it not applied (rc $rc)"

# Entries apply refuses, leaving them as they are (exit 6), the others applied.
root=$(fresh_copy vfs)
declare "$root" "$E810_DECL"$'\n\n[device 0000:02:00.0]\nid = 8086:1563\nvfs = 2\n\n'"$NVME_DECL"
iommu_own "$root" vfs $E810 2 >/dev/null 2>&1
iommu_own "$root" apply -J >"$SCRATCH/json" 2>"$SCRATCH/err"
rc=$?
[ $rc -eq 6 ] && grep -q '"code": "vfs-replace"' "$SCRATCH/json" && grep -q '"code": "vf-group-shared"' "$SCRATCH/json" &&
	[ "$(numvfs "$root" $E810)" = 2 ] && [ "$(numvfs "$root" $X550)" = 0 ] && [ "$(numvfs "$root" $NVME)" = 2 ] &&
	[ "$(iommu_own "$root" list -r -n -o DRIVER $(vfs_of "$root" $E810) | sort -u)" = "-" ]
verdict "apply refuses a PF with another count (vfs-replace: apply never destroys VFs) and one whose VFs would share its group (vf-group-shared), exit 6, the third applied (rc $rc)"

# apply of a vfs entry, a failure at each write and a kill after each: start, or applied.
bad= n_points=0
start=$(fresh_copy vfs)
declare "$start" "$E810_DECL"
done_tree=$(mktemp -d "$SCRATCH/done.XXXXXX")
cp -a "$start/." "$done_tree/"
iommu_own "$done_tree" apply -J >"$SCRATCH/json" 2>/dev/null
n=$(grep -c '"path"' "$SCRATCH/json")
for i in $(seq 1 "$n"); do
	for fault in "write $i EIO" "kill $i"; do
		root=$(mktemp -d "$SCRATCH/a.XXXXXX")
		cp -a "$start/." "$root/"
		echo "$fault" >"$root/replay-faults"
		iommu_own "$root" apply >/dev/null 2>&1
		rc=$?
		rm -f "$root/replay-faults"
		n_points=$((n_points + 1))
		if [ "${fault%% *}" = write ]; then
			[ $rc -eq 1 ] && same_tree "$root" "$start" && no_journal "$root" || bad="$bad write$i:$rc"
		else
			iommu_own "$root" recover >/dev/null 2>&1
			{ same_tree "$root" "$start" || same_tree "$root" "$done_tree"; } && no_journal "$root" || bad="$bad kill$i"
		fi
		rm -rf "$root"
	done
done
[ -z "$bad" ] && [ "$n" -ge 8 ]
verdict "apply of vfs = 3, a failure at each of its $n writes and a kill after each: the start, or every VF on VFIO${bad:+ (not:$bad)}"

# The boot step: VFs of a declared PF get the override (all, or the one udev names); the PF is left alone.
root=$(fresh_copy vfs)
declare "$root" "$E810_DECL"
iommu_own "$root" vfs $E810 3 >/dev/null 2>&1
iommu_own "$root" vfs $NVME 2 >/dev/null 2>&1
out=$(iommu_own "$root" boot --device 0000:01:01.1 --udev 2>/dev/null)
rc1=$?
ov1=$(cat "$(dev "$root" 0000:01:01.0)/driver_override" "$(dev "$root" 0000:01:01.1)/driver_override" | tr '\n' ' ')
out2=$(iommu_own "$root" boot --device $E810 --udev 2>/dev/null)
out3=$(iommu_own "$root" boot --device 0000:05:00.1 --udev 2>/dev/null)
iommu_own "$root" boot >/dev/null 2>&1
rc2=$?
ovs=$(cat "$(dev "$root" 0000:01:01.0)/driver_override" "$(dev "$root" 0000:01:01.2)/driver_override" | sort -u)
[ $rc1 -eq 0 ] && [ "$out" = IOMMU_OWN_DECLARED=1 ] && [ "$ov1" = "(null) vfio-pci " ] && [ -z "$out2" ] && [ -z "$out3" ] &&
	[ "$(cat "$(dev "$root" $E810)/driver_override")" = "(null)" ] && [ $rc2 -eq 0 ] && [ "$ovs" = vfio-pci ] &&
	[ "$(cat "$(dev "$root" 0000:05:00.1)/driver_override")" = "(null)" ] && bound_to "$(dev "$root" $E810)" ice
verdict "boot: a VF of a declared PF that appears gets the override (udev's call, IOMMU_OWN_DECLARED=1), the whole boot step sets all of them; the PF and another PF's VFs are left alone"

root=$(fresh_copy vfs)
declare "$root" $'[device 0000:01:00.0]\nid = 8086:1592\nvfs = 3'
iommu_own "$root" vfs $E810 2 >/dev/null 2>&1
iommu_own "$root" boot >"$SCRATCH/out" 2>&1
rc=$?
iommu_own "$root" apply >"$SCRATCH/out2" 2>&1
rc2=$?
[ $rc -eq 6 ] && grep -q "left alone (drift)" "$SCRATCH/out" && [ "$(cat "$(dev "$root" 0000:01:01.0)/driver_override")" = "(null)" ] &&
	[ $rc2 -eq 6 ] && [ "$(numvfs "$root" $E810)" = 2 ]
verdict "a PF entry whose ID drifted: boot and apply leave its VFs alone, exit 6 (rc $rc, $rc2)"

tap_done
