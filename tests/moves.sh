#!/usr/bin/env bash
# claim, release and recover on copies of the fixtures, through the replay
# engine: round trips, a failure injected at every write, a SIGKILL after
# every write, concurrent moves, refusals and bad input. Every case checks the
# tree itself (driver links, overrides, dev/vfio), not just exit statuses.
. "$TOP_SRCDIR/tests/lib.sh"

FIXTURE_SET=(workstation sriov pcibridge portvfio gaps vmd passthrough halfbound vfs)

# The groups of a fixture whose claim is expected to go through: kernel or
# free groups, tried with --dry-run (nothing written) and kept when it exits 0
# and plans at least one write.
claimable() {
	local root=$FIXTURES/$1 g
	for g in $(iommu_own "$root" list -r -n -o GROUP,STATE | awk '$2 == "kernel" || $2 == "free" {print $1}' | sort -un); do
		if n=$(iommu_own "$root" claim "$g" --dry-run 2>/dev/null | grep -vc '^#') && [ "$n" -gt 0 ]; then
			echo "$g"
		fi
	done
}

writes_of() { # writes_of ROOT CMD GROUP: number of writes the move plans
	iommu_own "$1" "$2" "$3" --dry-run | grep -vc '^#'
}

# ---- round trips -------------------------------------------------------------
rounds=0
for f in "${FIXTURE_SET[@]}"; do
	for g in $(claimable "$f"); do
		root=$(fresh_copy "$f")
		iommu_own "$root" claim "$g" >"$SCRATCH/out" 2>&1
		rc=$?
		state=$(iommu_own "$root" list -r -n -o STATE "$g" | sort -u)
		viable=$(iommu_own "$root" list -J "$g" | grep -c '"viable": true')
		if [ $rc -ne 0 ] || [ "$state" != user ] || [ "$viable" -ne 1 ]; then
			not_ok "$f: claim $g ends user and viable (rc $rc, state $state)" "$(cat "$SCRATCH/out")"
			continue
		fi
		if ! iommu_own "$root" release "$g" >"$SCRATCH/out" 2>&1; then
			not_ok "$f: release $g" "$(cat "$SCRATCH/out")"
			continue
		fi
		if same_tree "$root" "$FIXTURES/$f" && [ ! -e "$root/run/iommu-own/journal.json" ] &&
			[ ! -e "$root/run/iommu-own/group-$g.json" ]; then
			ok "$f: claim then release of group $g leaves the tree as it started"
		else
			not_ok "$f: claim then release of group $g leaves the tree as it started" \
				"$(diff -r --no-dereference "$FIXTURES/$f/sys" "$root/sys" | head -20)"
		fi
		rounds=$((rounds + 1))
	done
done
check "claim/release round trips were tried ($rounds groups)" [ "$rounds" -ge 20 ]

# ---- a failure at each write ---------------------------------------------------
injections=0
inject_failed=0
for f in "${FIXTURE_SET[@]}"; do
	for g in $(claimable "$f"); do
		n=$(writes_of "$FIXTURES/$f" claim "$g")
		for i in $(seq 1 "$n"); do
			root=$(fresh_copy "$f")
			echo "write $i EIO" >"$root/replay-faults"
			iommu_own "$root" claim "$g" >"$SCRATCH/out" 2>&1
			rc=$?
			rm -f "$root/replay-faults"
			injections=$((injections + 1))
			if [ $rc -ne 1 ] || ! same_tree "$root" "$FIXTURES/$f" || [ -e "$root/run/iommu-own/journal.json" ]; then
				inject_failed=$((inject_failed + 1))
				not_ok "$f: claim $g with write $i failing: exit 1 and the start state (rc $rc)" "$(cat "$SCRATCH/out")"
			fi
		done
		# the same for the release of the claimed group
		claimed=$(fresh_copy "$f")
		iommu_own "$claimed" claim "$g" >/dev/null 2>&1
		n=$(writes_of "$claimed" release "$g")
		for i in $(seq 1 "$n"); do
			root=$(mktemp -d "$SCRATCH/rel.XXXXXX")
			cp -a "$claimed/." "$root/"
			echo "write $i EIO" >"$root/replay-faults"
			iommu_own "$root" release "$g" >"$SCRATCH/out" 2>&1
			rc=$?
			rm -f "$root/replay-faults"
			injections=$((injections + 1))
			if [ $rc -ne 1 ] || ! same_tree "$root" "$claimed" || [ -e "$root/run/iommu-own/journal.json" ]; then
				inject_failed=$((inject_failed + 1))
				not_ok "$f: release $g with write $i failing: exit 1 and the claimed state (rc $rc)" "$(cat "$SCRATCH/out")"
			fi
		done
	done
done
echo "# failure injection: $injections injection points tried, $inject_failed did not end where they started"
[ "$injections" -ge 60 ] && [ "$inject_failed" -eq 0 ]
verdict "a failure injected at each write of claim and release rolls back ($injections points)"

# A failing rollback too: exit 3, the message names the device, recover finishes the job.
root=$(fresh_copy halfbound)
printf 'bind 0000:01:00.1 EIO\nbind 0000:01:00.1 EIO\nprobe 0000:01:00.1 EIO\n' >"$root/replay-faults"
iommu_own "$root" claim 2 >"$SCRATCH/out" 2>&1
rc=$?
rm -f "$root/replay-faults"
if [ $rc -eq 3 ] && grep -q 'ROLLBACK IS INCOMPLETE' "$SCRATCH/out" && grep -q "run 'iommu-own --sysroot $root recover'" "$SCRATCH/out" &&
	grep -q '0000:01:00.1  NOW ON (no driver)' "$SCRATCH/out" && [ -e "$root/run/iommu-own/journal.json" ]; then
	ok "a rollback that fails too exits 3, lists the devices, keeps the journal"
else
	not_ok "a rollback that fails too exits 3, lists the devices, keeps the journal (rc $rc)" "$(cat "$SCRATCH/out")"
fi
iommu_own "$root" claim 3 >"$SCRATCH/out" 2>&1
[ $? -eq 4 ] && grep -q "run 'iommu-own --sysroot $root recover' first" "$SCRATCH/out"
verdict "a move with an interrupted one pending is refused (exit 4) and names the recover to paste"
iommu_own "$root" recover >"$SCRATCH/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && same_tree "$root" "$FIXTURES/halfbound" && [ ! -e "$root/run/iommu-own/journal.json" ]; then
	ok "recover completes the rollback"
else
	not_ok "recover completes the rollback (rc $rc)" "$(cat "$SCRATCH/out")"
fi

# ---- SIGKILL after each write, then recover --------------------------------------
kills=0
kill_failed=0
for f in "${FIXTURE_SET[@]}"; do
	for g in $(claimable "$f"); do
		done_tree=$(fresh_copy "$f")
		iommu_own "$done_tree" claim "$g" >/dev/null 2>&1
		n=$(writes_of "$FIXTURES/$f" claim "$g")
		for i in $(seq 1 "$n"); do
			root=$(fresh_copy "$f")
			echo "kill $i" >"$root/replay-faults"
			iommu_own "$root" claim "$g" >/dev/null 2>&1
			rc=$?
			rm -f "$root/replay-faults"
			kills=$((kills + 1))
			iommu_own "$root" recover >"$SCRATCH/out" 2>&1
			rrc=$?
			if [ $rc -ne 137 ] || [ $rrc -ne 0 ] || [ -e "$root/run/iommu-own/journal.json" ] ||
				! { same_tree "$root" "$FIXTURES/$f" || same_tree "$root" "$done_tree"; }; then
				kill_failed=$((kill_failed + 1))
				not_ok "$f: claim $g killed after write $i, then recover: all or none (rc $rc, recover $rrc)" \
					"$(cat "$SCRATCH/out")"
			fi
		done
	done
done
echo "# kill points: $kills tried, $kill_failed left a partial state"
[ "$kills" -ge 30 ] && [ "$kill_failed" -eq 0 ]
verdict "SIGKILL after each write of claim, then recover: all devices claimed or none ($kills points)"

# ---- SIGTERM, SIGINT, SIGHUP after each write ----------------------------------
# Caught: the move stops, rolls back and exits 128+N with no journal left;
# after the last write only the verification is left, so it finishes (exit 0).
sigs=0
sig_failed=0
for f in halfbound workstation vmd; do
	for g in $(claimable "$f"); do
		n=$(writes_of "$FIXTURES/$f" claim "$g")
		for i in $(seq 1 "$n"); do
			sig=TERM want=143
			case $((i % 3)) in 1) sig=INT want=130 ;; 2) sig=HUP want=129 ;; esac
			root=$(fresh_copy "$f")
			echo "signal $i $sig" >"$root/replay-faults"
			iommu_own "$root" claim "$g" >"$SCRATCH/out" 2>&1
			rc=$?
			rm -f "$root/replay-faults"
			sigs=$((sigs + 1))
			if [ "$i" -eq "$n" ]; then
				ok_end=$([ $rc -eq 0 ] && grep -q "came after the last write" "$SCRATCH/out" && echo y)
			else
				ok_end=$([ $rc -eq "$want" ] && same_tree "$root" "$FIXTURES/$f" &&
					grep -q "interrupted by SIG$sig; rolled back" "$SCRATCH/out" && echo y)
			fi
			if [ "$ok_end" != y ] || [ -e "$root/run/iommu-own/journal.json" ]; then
				sig_failed=$((sig_failed + 1))
				not_ok "$f: claim $g with SIG$sig after write $i of $n (rc $rc)" "$(cat "$SCRATCH/out")"
			fi
		done
	done
done
echo "# signal points: $sigs tried, $sig_failed did not end rolled back (or finished after the last write)"
[ "$sigs" -ge 10 ] && [ "$sig_failed" -eq 0 ]
verdict "SIGTERM, SIGINT or SIGHUP after each write of a claim: rolled back, exit 128+N; after the last write finished ($sigs points)"

# A kill after the last write: recover finishes the claim and keeps its record for release.
root=$(fresh_copy halfbound)
n=$(writes_of "$root" claim 2)
echo "kill $n" >"$root/replay-faults"
iommu_own "$root" claim 2 >/dev/null 2>&1
rm -f "$root/replay-faults"
iommu_own "$root" recover >"$SCRATCH/out" 2>&1
check "recover finishes a claim killed after its last write" \
	grep -q 'finished the interrupted claim of group 2' "$SCRATCH/out"
check "and writes the claim's record" [ -s "$root/run/iommu-own/group-2.json" ]

# ---- concurrency ------------------------------------------------------------------
root=$(fresh_copy halfbound)
echo "delay 1 700" >"$root/replay-faults"
iommu_own "$root" claim 2 >"$SCRATCH/a" 2>&1 &
pa=$!
sleep 0.2
iommu_own "$root" claim 0000:01:00.1 >"$SCRATCH/b" 2>&1 &
pb=$!
wait $pa
ra=$?
wait $pb
rb=$?
rm -f "$root/replay-faults"
if [ $ra -eq 0 ] && [ $rb -eq 0 ] && grep -q 'claimed group 2' "$SCRATCH/a" && grep -q 'nothing to do' "$SCRATCH/b" &&
	grep -q 'waiting for another' "$SCRATCH/b" && [ ! -e "$root/run/iommu-own/journal.json" ] &&
	[ "$(iommu_own "$root" list -r -n -o STATE 2 | sort -u)" = user ]; then
	ok "two concurrent claims of one group serialize: the second sees the first's result"
else
	not_ok "two concurrent claims of one group serialize" "$(cat "$SCRATCH/a" "$SCRATCH/b")"
fi

root=$(fresh_copy workstation)
echo "delay 2 700" >"$root/replay-faults"
iommu_own "$root" claim 8 >"$SCRATCH/a" 2>&1 &
pa=$!
sleep 0.2
iommu_own "$root" release 8 >"$SCRATCH/b" 2>&1 &
pb=$!
wait $pa
ra=$?
wait $pb
rb=$?
rm -f "$root/replay-faults"
if [ $ra -eq 0 ] && [ $rb -eq 0 ] && same_tree "$root" "$FIXTURES/workstation" &&
	[ ! -e "$root/run/iommu-own/journal.json" ] && [ ! -e "$root/run/iommu-own/.journal.json.tmp" ]; then
	ok "a claim racing a release: serialized, the release undoes the claim, no torn journal"
else
	not_ok "a claim racing a release" "$(cat "$SCRATCH/a" "$SCRATCH/b")"
fi

# ---- refusals -------------------------------------------------------------------
refusal() { # refusal DESCRIPTION FIXTURE EXPECTED_RC PATTERN ARGS...
	local d=$1 f=$2 want=$3 pat=$4
	shift 4
	local root
	root=$(fresh_copy "$f")
	iommu_own "$root" "$@" >"$SCRATCH/out" 2>&1
	local rc=$?
	if [ $rc -eq "$want" ] && grep -q -- "$pat" "$SCRATCH/out" && same_tree "$root" "$FIXTURES/$f"; then
		ok "$d"
	else
		not_ok "$d (rc $rc)" "$(cat "$SCRATCH/out")"
	fi
}
refusal "boot-vga: the boot GPU is refused" workstation 1 "(boot-vga; --force=boot-vga overrides)" claim 1
refusal "chipset: the LPC group is refused" workstation 1 "(chipset; --force=chipset overrides)" claim 9
refusal "sriov-pf: a PF with VFs is refused" sriov 1 "8 VFs enabled" claim 7
refusal "direct-mapped: an RMRR group is refused" sriov 1 "(direct-mapped; cannot be forced)" claim 4
refusal "direct-mapped cannot be forced" sriov 2 "cannot be overridden" claim 4 --force=direct-mapped
refusal "an unknown --force check is a usage error" workstation 2 "unknown check 'bogus'" claim 8 --force=bogus
refusal "a group of only bridges: nothing to claim" workstation 1 "holds only bridges" claim 2
refusal "a driver that is not VFIO is refused" workstation 2 "not a VFIO PCI driver" claim 8 --driver=e1000e
refusal "an unknown group" workstation 2 "no IOMMU group 77" claim 77
refusal "an unknown device" workstation 2 "no PCI device 0000:09:00.0" claim 09:00.0
refusal "a malformed address" workstation 2 "neither an IOMMU group number nor a PCI address" claim 0000:zz:00.0
refusal "a device in no group" gaps 2 "in no IOMMU group" claim 0000:00:00.2
refusal "a claim of several groups is refused whole when one of them is (boot-vga)" workstation 1 \
	"claim of groups 1, 3 refused: nothing was changed" claim 1 3
refusal "claim names at least one group" workstation 2 "name the GROUP or DEVICE to claim" claim

root=$(fresh_copy workstation)
iommu_own "$root" claim 1 --force=boot-vga >"$SCRATCH/out" 2>&1
[ $? -eq 0 ] && grep -q "overridden by --force" "$SCRATCH/out"
verdict "--force=boot-vga claims the boot GPU, with a warning"

# mounted: a partition of the NVMe drive is in mountinfo
root=$(fresh_copy workstation)
nvme=$root/sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0
mkdir -p "$nvme/nvme/nvme0/nvme0n1/nvme0n1p2/holders" "$nvme/nvme/nvme0/nvme0n1/holders"
echo 259:0 >"$nvme/nvme/nvme0/nvme0n1/dev"
echo 259:2 >"$nvme/nvme/nvme0/nvme0n1/nvme0n1p2/dev"
ln -s ../../../../../../../../class/block "$nvme/nvme/nvme0/nvme0n1/subsystem"
ln -s ../../../../../../../../../class/block "$nvme/nvme/nvme0/nvme0n1/nvme0n1p2/subsystem"
mkdir -p "$root/proc/self"
echo "29 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw" >"$root/proc/self/mountinfo"
iommu_own "$root" claim 6 >"$SCRATCH/out" 2>&1
[ $? -eq 1 ] && grep -q "nvme0n1p2 is mounted" "$SCRATCH/out"
verdict "mounted: a drive with a mounted partition is refused"
: >"$root/proc/self/mountinfo"
printf 'Filename\tType\tSize\tUsed\tPriority\n/dev/nvme0n1p2 partition\t1\t0\t-2\n' >"$root/proc/swaps"
iommu_own "$root" claim 6 >"$SCRATCH/out" 2>&1
expect_rc $? 1 "mounted: a swap partition is refused" grep -q "used as swap" "$SCRATCH/out"
: >"$root/proc/swaps"
mkdir -p "$nvme/nvme/nvme0/nvme0n1/nvme0n1p2/holders/dm-0"
iommu_own "$root" claim 6 >"$SCRATCH/out" 2>&1
expect_rc $? 1 "mounted: a partition held by a device mapper (LVM, RAID) is refused" \
	grep -q "nvme0n1p2 is held by another block device" "$SCRATCH/out"
rmdir "$nvme/nvme/nvme0/nvme0n1/nvme0n1p2/holders/dm-0"
iommu_own "$root" claim 6 >"$SCRATCH/out" 2>&1
check "mounted: the same drive unmounted is claimed" [ $? -eq 0 ]

# mounted, native NVMe multipath: the disk lives under its NVMe subsystem, not under the PCI device.
root=$(fresh_copy workstation)
nvme=$root/sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0
sub=$root/sys/devices/virtual/nvme-subsystem/nvme-subsys0
mkdir -p "$nvme/nvme/nvme0/nvme0c0n1" "$sub/nvme0n1/holders"
ln -s ../../../../../../../class/block "$nvme/nvme/nvme0/nvme0c0n1/subsystem"
ln -s ../../../pci0000:00/0000:00:1c.0/0000:02:00.0/nvme/nvme0 "$sub/nvme0"
echo 259:2 >"$sub/nvme0n1/dev"
ln -s ../../../../../class/block "$sub/nvme0n1/subsystem"
mkdir -p "$root/proc/self"
echo "27 1 259:2 / /mnt rw,relatime - ext2 /dev/nvme0n1 rw" >"$root/proc/self/mountinfo"
iommu_own "$root" claim 6 >"$SCRATCH/out" 2>&1
[ $? -eq 1 ] && grep -q "nvme0n1 is mounted" "$SCRATCH/out"
verdict "mounted: a disk served through an NVMe subsystem (multipath) is found and refused"
iommu_own "$root" snapshot "$SCRATCH/mp-snap" 2>/dev/null
iommu_own "$SCRATCH/mp-snap" claim 6 --dry-run >"$SCRATCH/out" 2>&1
[ $? -eq 1 ] && grep -q "nvme0n1 is mounted" "$SCRATCH/out"
verdict "a snapshot keeps the NVMe subsystem, and its replay refuses the same"

# netdev-active: the NIC's interface is up with a route
root=$(fresh_copy workstation)
nic=$root/sys/devices/pci0000:00/0000:00:1d.0/0000:03:00.0
mkdir -p "$nic/net/eno1"
echo 0x1003 >"$nic/net/eno1/flags"
echo up >"$nic/net/eno1/operstate"
ln -s ../../../../../../class/net "$nic/net/eno1/subsystem"
mkdir -p "$root/proc/net"
printf 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\neno1\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n' >"$root/proc/net/route"
iommu_own "$root" claim 8 >"$SCRATCH/out" 2>&1
[ $? -eq 1 ] && grep -q "eno1 is up with routes" "$SCRATCH/out"
verdict "netdev-active: an interface that is up with routes is refused"
iommu_own "$root" claim 8 --force=netdev-active >"$SCRATCH/out" 2>&1
check "netdev-active: --force overrides it" [ $? -eq 0 ]

# netdev-active by address: no route, but a global IPv6 address (scope 0)
# refuses; a link-local one (scope 0x20) alone does not. The up test here is
# operstate alone (flags without IFF_UP).
root=$(fresh_copy workstation)
nic=$root/sys/devices/pci0000:00/0000:00:1d.0/0000:03:00.0
mkdir -p "$nic/net/eno1" "$root/proc/net"
echo 0x1002 >"$nic/net/eno1/flags"
echo up >"$nic/net/eno1/operstate"
ln -s ../../../../../../class/net "$nic/net/eno1/subsystem"
printf 'fe80000000000000021b21fffe3a4b5c 02 40 20 80     eno1\n' >"$root/proc/net/if_inet6"
iommu_own "$root" claim 8 --dry-run >"$SCRATCH/out" 2>&1
expect_rc $? 0 "netdev-active: a link-local IPv6 address alone does not refuse" true
printf '20010db8000000000000000000000001 02 40 00 80     eno1\n' >>"$root/proc/net/if_inet6"
iommu_own "$root" claim 8 --dry-run >"$SCRATCH/out" 2>&1
expect_rc $? 1 "netdev-active: a global IPv6 address on an interface that is up refuses" \
	grep -q "eno1 is up with addresses" "$SCRATCH/out"
echo down >"$nic/net/eno1/operstate"
iommu_own "$root" claim 8 --dry-run >"$SCRATCH/out" 2>&1
expect_rc $? 0 "netdev-active: the same interface down does not refuse" true

# in-use: a process holds /dev/vfio/13 (sriov's group 13 is on vfio-pci)
root=$(fresh_copy sriov)
mkdir -p "$root/proc/4242/fd"
ln -s /dev/vfio/13 "$root/proc/4242/fd/27"
echo qemu-system-x86 >"$root/proc/4242/comm"
iommu_own "$root" release 13 >"$SCRATCH/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "process 4242 (qemu-system-x86) holds /dev/vfio/13" "$SCRATCH/out" &&
	same_tree "$root" "$FIXTURES/sriov"; then
	ok "in-use: release is refused while a process holds the group, naming the PID"
else
	not_ok "in-use: release refused while held (rc $rc)" "$(cat "$SCRATCH/out")"
fi
iommu_own "$root" release 13 --force=in-use >"$SCRATCH/out" 2>&1
check "in-use cannot be forced" [ $? -eq 2 ]
rm -rf "$root/proc/4242"
iommu_own "$root" release 13 >"$SCRATCH/out" 2>&1
[ $? -eq 0 ] && [ "$(iommu_own "$root" list -r -n -o DRIVER 13)" = iavf ]
verdict "in-use: once the process is gone, release goes through"

# in-use through a VFIO cdev (/dev/vfio/devices/vfioX, iommufd): the process
# holds one device of the group, named by its vfio-dev/vfioX
root=$(fresh_copy sriov)
mkdir -p "$root/proc/4343/fd"
ln -s /dev/vfio/devices/vfio3 "$root/proc/4343/fd/5"
echo qemu-system-x86 >"$root/proc/4343/comm"
iommu_own "$root" release 14 --dry-run >"$SCRATCH/out" 2>&1
expect_rc $? 0 "in-use: a cdev of another group's device does not stop a release" grep -q "0000:3b:02.5" "$SCRATCH/out"
ln -s /dev/vfio/devices/vfio1 "$root/proc/4343/fd/6"
iommu_own "$root" release 14 >"$SCRATCH/out" 2>&1
[ $? -eq 1 ] && grep -q "process 4343 (qemu-system-x86) holds /dev/vfio/devices/vfio1 (0000:3b:02.5) open" "$SCRATCH/out" &&
	rm -r "$root/proc/4343" && same_tree "$root" "$FIXTURES/sriov"
verdict "in-use: release is refused while a process holds a device's VFIO cdev, naming both"

# in-use, claim: a group moving from vfio-pci to a variant driver is unbound from
# vfio-pci first, which blocks while a process holds it
root=$(fresh_copy passthrough)
mkdir -p "$root/sys/bus/pci/drivers/mlx5_vfio_pci"
: >"$root/sys/bus/pci/drivers/mlx5_vfio_pci/bind"
: >"$root/sys/bus/pci/drivers/mlx5_vfio_pci/unbind"
cp -a "$root" "$SCRATCH/pt-before"
mkdir -p "$root/proc/4242/fd"
ln -s /dev/vfio/4 "$root/proc/4242/fd/7"
iommu_own "$root" claim 4 --driver=mlx5_vfio_pci >"$SCRATCH/out" 2>&1
[ $? -eq 1 ] && grep -q "process 4242 (?) holds /dev/vfio/4 open (in-use; cannot be forced)" "$SCRATCH/out" &&
	rm -r "$root/proc/4242" && same_tree "$root" "$SCRATCH/pt-before"
verdict "in-use: claim --driver of a held vfio-pci group is refused before any write"
rm -rf "$root/proc/4242"
mkdir -p "$root/proc/4242/fd"
ln -s /dev/vfio/2 "$root/proc/4242/fd/7"
iommu_own "$root" claim 4 --driver=mlx5_vfio_pci --dry-run >"$SCRATCH/out" 2>&1
expect_rc $? 0 "in-use: a process holding another group does not stop the claim" \
	grep -q "mlx5_vfio_pci" "$SCRATCH/out"
iommu_own "$root" claim 2 >"$SCRATCH/out" 2>&1
expect_rc $? 0 "in-use: claiming a held group that is already claimed moves nothing and is allowed" \
	grep -q "nothing to do" "$SCRATCH/out"

# in-use in no-IOMMU mode: the group's file is /dev/vfio/noiommu-N
root=$(fresh_copy noiommu-mode)
mkdir -p "$root/proc/99/fd"
ln -s /dev/vfio/noiommu-0 "$root/proc/99/fd/3"
echo dpdk-testpmd >"$root/proc/99/comm"
iommu_own "$root" release 0 >"$SCRATCH/out" 2>&1
[ $? -eq 1 ] && grep -q "process 99 (dpdk-testpmd) holds /dev/vfio/noiommu-0 open" "$SCRATCH/out" &&
	rm -r "$root/proc/99" && same_tree "$root" "$FIXTURES/noiommu-mode"
verdict "in-use: release of a no-IOMMU group held through /dev/vfio/noiommu-N is refused"

# --driver in the module's spelling: driver_override gets the driver's own name
root=$(fresh_copy workstation)
iommu_own "$root" claim 6 --driver=vfio_pci >"$SCRATCH/out" 2>&1
[ $? -eq 0 ] && [ "$(iommu_own "$root" list -r -n -o OVERRIDE,DRIVER 6)" = "vfio-pci vfio-pci" ] &&
	[ ! -e "$root/sys/bus/pci/drivers/vfio_pci" ]
verdict "--driver=vfio_pci claims for vfio-pci, the name the kernel matches overrides against"

# Claimed twice (vfio-pci, then a variant driver): the record keeps the host's
# driver from before the first claim, and release goes back to it.
root=$(fresh_copy workstation)
mkdir -p "$root/sys/bus/pci/drivers/mlx5_vfio_pci"
: >"$root/sys/bus/pci/drivers/mlx5_vfio_pci/bind"
: >"$root/sys/bus/pci/drivers/mlx5_vfio_pci/unbind"
iommu_own "$root" claim 6 >/dev/null 2>&1 && iommu_own "$root" claim 6 --driver=mlx5_vfio_pci >/dev/null 2>&1 &&
	iommu_own "$root" release 6 --dry-run >"$SCRATCH/out" 2>&1 &&
	grep -q "drivers/nvme/bind \"0000:02:00.0\"" "$SCRATCH/out" &&
	iommu_own "$root" release 6 >/dev/null 2>&1 &&
	[ "$(iommu_own "$root" list -r -n -o DRIVER 6)" = nvme ]
verdict "a second claim (another VFIO driver) keeps the recorded host driver; release restores it"

# ---- the state directory and the journal --------------------------------------------
root=$(fresh_copy workstation)
mkdir -p "$root/run" "$SCRATCH/elsewhere"
ln -s "$SCRATCH/elsewhere" "$root/run/iommu-own"
iommu_own "$root" claim 8 >"$SCRATCH/out" 2>&1
[ $? -eq 2 ] && grep -q "is a symlink" "$SCRATCH/out" && same_tree "$root" "$FIXTURES/workstation"
verdict "a state directory that is a symlink is refused, nothing changes"

# The default state directory stays inside the tree: run/ a link elsewhere
# (to the host's /run, say) is refused, never written through.
root=$(fresh_copy workstation)
mkdir -p "$SCRATCH/outside"
ln -s "$SCRATCH/outside" "$root/run"
iommu_own "$root" claim 6 >"$SCRATCH/out" 2>&1
[ $? -eq 2 ] && grep -q "run/iommu-own is a symlink, or lies behind one" "$SCRATCH/out" &&
	[ -z "$(ls -A "$SCRATCH/outside")" ] && rm "$root/run" && same_tree "$root" "$FIXTURES/workstation"
verdict "a sysroot whose run/ is a symlink out of the tree: refused, nothing written there or in the tree"

# --state-dir is the user's own path: links among its parents are followed.
root=$(fresh_copy workstation)
mkdir -p "$SCRATCH/real-state"
ln -s "$SCRATCH/real-state" "$SCRATCH/state-link"
iommu_own "$root" claim 6 --state-dir "$SCRATCH/state-link/st/" >"$SCRATCH/out" 2>&1
[ $? -eq 0 ] && [ -f "$SCRATCH/real-state/st/group-6.json" ] &&
	[ "$(stat -c %a "$SCRATCH/real-state/st")" = 700 ]
verdict "--state-dir with a link among its parents and a trailing slash: created 0700, used"

root=$(fresh_copy workstation)
: >"$SCRATCH/a-file"
iommu_own "$root" claim 6 --state-dir "$SCRATCH/a-file/st" >"$SCRATCH/out" 2>&1
[ $? -eq 2 ] && grep -q "state directory $SCRATCH/a-file/st is not a directory" "$SCRATCH/out" &&
	same_tree "$root" "$FIXTURES/workstation"
verdict "a state directory that cannot be made is named with the reason, nothing changes"

root=$(fresh_copy workstation)
mkdir -p -m 0777 "$root/run/iommu-own"
chmod 0777 "$root/run/iommu-own"
iommu_own "$root" claim 8 >"$SCRATCH/out" 2>&1
expect_rc $? 2 "a state directory writable by others is refused" grep -q "writable by others" "$SCRATCH/out"

root=$(fresh_copy workstation)
mkdir -p -m 0700 "$root/run/iommu-own"
echo '{"format": "iommu-own-journal", "version": 1, "operation": "cla' >"$root/run/iommu-own/journal.json"
iommu_own "$root" claim 8 >"$SCRATCH/out" 2>&1
expect_rc $? 4 "a corrupt journal is a pending one too: claim stops with exit 4" grep -q "corrupt" "$SCRATCH/out"
iommu_own "$root" recover >"$SCRATCH/out" 2>&1
[ $? -eq 2 ] && grep -q "corrupt" "$SCRATCH/out" && same_tree "$root" "$FIXTURES/workstation"
verdict "a corrupt journal: recover stops with exit 2, the tree unchanged"

echo '{"format": "someone-elses-journal", "steps": []}' >"$root/run/iommu-own/journal.json"
iommu_own "$root" recover >"$SCRATCH/out" 2>&1
[ $? -eq 2 ] && grep -q "not an iommu-own journal" "$SCRATCH/out" && same_tree "$root" "$FIXTURES/workstation"
verdict "a foreign journal: recover refuses it with exit 2"

echo '{"format":"iommu-own-journal","version":1,"operation":"claim","group":8,"sysroot":"/somewhere/else","devices":[]}' \
	>"$root/run/iommu-own/journal.json"
iommu_own "$root" recover >"$SCRATCH/out" 2>&1
expect_rc $? 2 "a journal of another sysroot is refused, naming the recover that applies" \
	grep -q "belongs to sysroot /somewhere/else, not $(realpath "$root"): run 'iommu-own --sysroot /somewhere/else recover --state-dir $root/run/iommu-own'" "$SCRATCH/out"

# The same journal with another boot ID: the root is compared first, so it
# is refused and kept; only a journal of this kernel can be from its earlier boot.
mkdir -p "$root/proc/sys/kernel/random"
echo 6f0c8a52-0000-4000-8000-000000000002 >"$root/proc/sys/kernel/random/boot_id"
echo '{"format":"iommu-own-journal","version":1,"operation":"claim","group":8,"sysroot":"/somewhere/else","boot_id":"6f0c8a52-0000-4000-8000-000000000001","devices":[]}' \
	>"$root/run/iommu-own/journal.json"
iommu_own "$root" recover >"$SCRATCH/out" 2>&1
[ $? -eq 2 ] && grep -q "belongs to sysroot /somewhere/else" "$SCRATCH/out" && [ -e "$root/run/iommu-own/journal.json" ]
verdict "a journal of another sysroot with another boot ID is refused and kept, never discarded"
rm -r "$root/proc/sys"

# Driver and module names from a journal or a record become path components.
root=$(fresh_copy workstation)
mkdir -p -m 0700 "$root/run/iommu-own"
echo '{"format":"iommu-own-journal","version":1,"operation":"claim","group":6,"sysroot":"'"$root"'","driver":"vfio-pci",
 "devices":[{"address":"0000:02:00.0","moves":true,"module":"nvme","before":{"driver":"../../../../etc","driver_override":null},
 "want":{"driver":"vfio-pci","driver_override":"vfio-pci"}}]}' >"$root/run/iommu-own/journal.json"
iommu_own "$root" recover >"$SCRATCH/out" 2>&1
[ $? -eq 2 ] && grep -q "corrupt journal (device 0000:02:00.0 names a driver or module that is no name)" "$SCRATCH/out" &&
	rm -r "$root/run" && same_tree "$root" "$FIXTURES/workstation"
verdict "a journal naming a driver '../../../../etc' is refused as corrupt, nothing written"

root=$(fresh_copy workstation)
iommu_own "$root" claim 6 >/dev/null 2>&1
sed -i 's|"driver":"nvme"|"driver":"../nvme"|' "$root/run/iommu-own/group-6.json"
iommu_own "$root" release 6 --dry-run >"$SCRATCH/out" 2>&1
[ $? -eq 0 ] && grep -q "ignoring the record of 0000:02:00.0" "$SCRATCH/out" &&
	grep -q "bus/pci/drivers_probe \"0000:02:00.0\"" "$SCRATCH/out" && ! grep -q '\.\./nvme' "$SCRATCH/out"
verdict "a record naming a driver '../nvme' is ignored with a warning: the kernel chooses"

# A record that is not JSON: release warns and lets the kernel choose; a new
# claim warns and writes its own record in its place.
root=$(fresh_copy workstation)
iommu_own "$root" claim 6 >/dev/null 2>&1
echo 'not json' >"$root/run/iommu-own/group-6.json"
iommu_own "$root" release 6 --dry-run >"$SCRATCH/out" 2>&1
[ $? -eq 0 ] && grep -q "ignoring .*/group-6.json (.*): the kernel will choose the drivers" "$SCRATCH/out" &&
	grep -q "bus/pci/drivers_probe \"0000:02:00.0\"" "$SCRATCH/out"
verdict "a corrupt record: release says it is ignored and the kernel chooses"
root=$(fresh_copy workstation)
mkdir -p -m 0700 "$root/run/iommu-own"
echo 'not json' >"$root/run/iommu-own/group-6.json"
iommu_own "$root" claim 6 >"$SCRATCH/out" 2>&1
[ $? -eq 0 ] && grep -q "ignoring .*/group-6.json (.*): this claim's record replaces it" "$SCRATCH/out" &&
	grep -q '"driver":"nvme"' "$root/run/iommu-own/group-6.json"
verdict "a corrupt record: a claim says it is ignored and writes its own"

# A journal names its sysroot canonically: recover finds it whichever way the tree is named.
root=$(fresh_copy workstation)
echo "kill 2" >"$root/replay-faults"
(cd "$(dirname "$root")" && IOMMU_OWN_FORBID_LIVE=1 "$IOMMU_OWN" --sysroot "./$(basename "$root")/" claim 6 >/dev/null 2>&1)
rm -f "$root/replay-faults"
[ -e "$root/run/iommu-own/journal.json" ] && grep -q '"sysroot":"/' "$root/run/iommu-own/journal.json" &&
	iommu_own "$root" recover >"$SCRATCH/out" 2>&1 && grep -q "rolled back the interrupted claim of group 6" "$SCRATCH/out" &&
	[ ! -e "$root/run/iommu-own/journal.json" ] && same_tree "$root" "$FIXTURES/workstation"
verdict "a move killed under a relative sysroot is recovered under the absolute one"

root=$(fresh_copy workstation)
iommu_own "$root" recover >"$SCRATCH/out" 2>&1
expect_rc $? 0 "recover with nothing to recover exits 0" grep -q "nothing to recover" "$SCRATCH/out"

# --dry-run writes nothing at all, not even the state directory.
root=$(fresh_copy workstation)
iommu_own "$root" claim 8 --dry-run >"$SCRATCH/out" 2>&1
[ $? -eq 0 ] && same_tree "$root" "$FIXTURES/workstation" && [ ! -e "$root/run" ]
verdict "--dry-run changes nothing and creates no state directory"

# release without a record: the override is cleared and the kernel's choice (by modalias) binds.
root=$(fresh_copy halfbound)
iommu_own "$root" release 2 >"$SCRATCH/out" 2>&1
[ $? -eq 0 ] && [ "$(iommu_own "$root" list -r -n -o DRIVER 0000:01:00.0)" = nouveau ] &&
	[ -d "$root/sys/bus/pci/drivers/nouveau" ]
verdict "release without a record loads the modalias module and lets the kernel choose"

# Two claims of different groups, then each release restores its own record.
root=$(fresh_copy workstation)
iommu_own "$root" claim 6 >/dev/null 2>&1 && iommu_own "$root" claim 8 >/dev/null 2>&1 &&
	iommu_own "$root" release 6 >/dev/null 2>&1 && iommu_own "$root" release 8 >/dev/null 2>&1
[ $? -eq 0 ] && same_tree "$root" "$FIXTURES/workstation"
verdict "claims of two groups and their releases leave the tree as it started"

NVME=sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0

# Every write succeeds, but the device does not stay where it was put (a
# driver that lets go of it after its probe, as nvme does with an offline
# controller): the verification sees it, names it, and rolls back.
root=$(fresh_copy workstation)
echo 'delay 3 4000' >"$root/replay-faults"
iommu_own "$root" claim 6 >"$SCRATCH/out" 2>&1 &
pid=$!
wait_for bound_to "$root/$NVME" vfio-pci
rm -f "$root/$NVME/driver" "$root/sys/bus/pci/drivers/vfio-pci/0000:02:00.0"
wait $pid
rc=$?
[ $rc -eq 1 ] && grep -q "0000:02:00.0 is on (no driver) after the writes, not where it should be" "$SCRATCH/out" &&
	grep -q "rolled back" "$SCRATCH/out" && [ ! -e "$root/run/iommu-own/journal.json" ] &&
	bound_to "$root/$NVME" nvme && [ "$(cat "$root/$NVME/driver_override")" = "(null)" ]
verdict "a device that leaves its new driver after the writes: named, and the claim rolls back (exit $rc)"

# A bind that fails with EBUSY because the device is already on the wanted
# driver (something bound it in between) is a success, not a failure.
root=$(fresh_copy workstation)
echo 'delay 2 4000' >"$root/replay-faults"
iommu_own "$root" claim 6 >"$SCRATCH/out" 2>&1 &
pid=$!
staged=no
wait_for unbound "$root/$NVME" && nvme_bound_by_hand "$root" vfio-pci && staged=yes
wait $pid
rc=$?
[ $staged = yes ] && [ $rc -eq 0 ] && grep -q "claimed group 6" "$SCRATCH/out" &&
	bound_to "$root/$NVME" vfio-pci && [ -s "$root/run/iommu-own/group-6.json" ]
verdict "a bind refused with EBUSY while the device is already on the wanted driver counts as done (exit $rc)"

# A journal whose devices are all gone (hot-removed): nothing to finish or
# undo; recover discards it rather than stopping every later move.
root=$(fresh_copy workstation)
mkdir -p -m 0700 "$root/run/iommu-own"
echo '{"format":"iommu-own-journal","version":1,"operation":"claim","group":99,"driver":"vfio-pci","sysroot":"'"$root"'",
 "devices":[{"address":"0000:09:00.0","moves":true,"module":"nvme","before":{"driver":"nvme","driver_override":null},
 "want":{"driver":"vfio-pci","driver_override":"vfio-pci"}}]}' >"$root/run/iommu-own/journal.json"
iommu_own "$root" recover >"$SCRATCH/out" 2>&1
[ $? -eq 0 ] && grep -q "none of the journal's devices exists any more" "$SCRATCH/out" &&
	[ ! -e "$root/run/iommu-own/journal.json" ] && iommu_own "$root" claim 6 >/dev/null 2>&1
verdict "a journal whose devices were all removed is discarded by recover; moves go on"

# With no state directory there is no journal: recover says so and creates nothing.
root=$(fresh_copy workstation)
iommu_own "$root" recover >"$SCRATCH/out" 2>&1
[ $? -eq 0 ] && grep -q "nothing to recover" "$SCRATCH/out" && [ ! -e "$root/run" ] && same_tree "$root" "$FIXTURES/workstation"
verdict "recover without a state directory creates none"

# A journal from an earlier boot describes nothing real: recover discards it.
root=$(fresh_copy workstation)
mkdir -p "$root/proc/sys/kernel/random" -m 0700 "$root/run/iommu-own"
echo 6f0c8a52-0000-4000-8000-000000000001 >"$root/proc/sys/kernel/random/boot_id"
echo 'kill 2' >"$root/replay-faults"
iommu_own "$root" claim 6 >/dev/null 2>&1
rm "$root/replay-faults"
grep -q '"boot_id":"6f0c8a52-0000-4000-8000-000000000001"' "$root/run/iommu-own/journal.json" &&
	echo 6f0c8a52-0000-4000-8000-000000000002 >"$root/proc/sys/kernel/random/boot_id" &&
	iommu_own "$root" recover >"$SCRATCH/out" 2>&1 &&
	grep -q "the journal is from an earlier boot" "$SCRATCH/out" && [ ! -e "$root/run/iommu-own/journal.json" ] &&
	[ ! -L "$root/$NVME/driver" ] && [ "$(cat "$root/$NVME/driver_override")" = vfio-pci ]
verdict "a journal from an earlier boot is discarded by recover, and nothing is written"

# ---- check sees what moves left behind ------------------------------------------------
root=$(fresh_copy halfbound)
echo "kill 2" >"$root/replay-faults"
iommu_own "$root" claim 2 >/dev/null 2>&1
rm -f "$root/replay-faults"
iommu_own "$root" check -J >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 1 ] && "$JSONCHECK" <"$SCRATCH/out" >/dev/null && grep -q '"code": "pending-journal"' "$SCRATCH/out" &&
	grep -q "run 'iommu-own --sysroot $root recover': it finishes the move or rolls it back" "$SCRATCH/out"
verdict "check: a killed claim's journal is an error finding, its hint the recover command to paste (exit $rc)"
cmd=$(grep -o "run '[^']*'" "$SCRATCH/out" | head -1 | sed "s/^run '//; s/'\$//")
# shellcheck disable=SC2086 # the command as check printed it
(cd / && env IOMMU_OWN_FORBID_LIVE=1 ${cmd/iommu-own/$IOMMU_OWN} >/dev/null 2>&1)
rc=$?
iommu_own "$root" check >"$SCRATCH/out" 2>&1
[ $rc -eq 0 ] && ! grep -q pending-journal "$SCRATCH/out"
verdict "check: the hint's command, pasted as is, recovers the move (exit $rc)"

root=$(fresh_copy halfbound)
printf 'bind 0000:01:00.1 EIO\nbind 0000:01:00.1 EIO\nprobe 0000:01:00.1 EIO\n' >"$root/replay-faults"
iommu_own "$root" claim 2 >/dev/null 2>&1
rm -f "$root/replay-faults"
iommu_own "$root" check -r -n -o CODE,HINT >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "^rollback-incomplete " "$SCRATCH/out" && ! grep -q "^pending-journal" "$SCRATCH/out"
verdict "check: a move whose rollback failed is reported as rollback-incomplete (exit $rc)"

root=$(fresh_copy halfbound)
iommu_own "$root" claim 2 --state-dir "$SCRATCH/records" >/dev/null 2>&1
d=$root/sys/devices/pci0000:00/0000:00:01.0
for f in 0000:01:00.0 0000:01:00.1; do # released behind iommu-own's back: unbound, override cleared
	rm "$d/$f/driver" "$root/sys/bus/pci/drivers/vfio-pci/$f"
	echo "(null)" >"$d/$f/driver_override"
done
iommu_own "$root" check --state-dir "$SCRATCH/records" -J >"$SCRATCH/out" 2>&1
grep -q '"code": "stale-record"' "$SCRATCH/out" &&
	grep -q "\"hint\": \"'iommu-own --sysroot $root release 2 --state-dir $SCRATCH/records' removes it" "$SCRATCH/out"
verdict "check: a record whose devices left VFIO behind the tool's back is a stale-record warning, its hint with --state-dir"
iommu_own "$root" release 2 --state-dir "$SCRATCH/records" >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "its stale record was removed" "$SCRATCH/out" && [ ! -e "$SCRATCH/records/group-2.json" ]
verdict "release of a group with nothing on VFIO removes its stale record (exit $rc)"
rm -rf "$SCRATCH/records"

root=$(fresh_copy halfbound)
mkdir -p "$root/run" && ln -s /tmp "$root/run/iommu-own"
iommu_own "$root" check -r -n -o CODE >"$SCRATCH/out" 2>&1
grep -q "^state-unreadable" "$SCRATCH/out"
verdict "check: a state directory it cannot use is a state-unreadable warning, never a silent pass"

# ---- several groups, one transaction -----------------------------------------------
root=$(fresh_copy workstation)
iommu_own "$root" claim 3 02:00.0 8 -J >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q '"groups": \[' "$SCRATCH/out" && grep -q '"group": null' "$SCRATCH/out" &&
	bound_to "$root/sys/bus/pci/devices/0000:00:14.0" vfio-pci && bound_to "$root/sys/bus/pci/devices/0000:02:00.0" vfio-pci &&
	bound_to "$root/sys/bus/pci/devices/0000:03:00.0" vfio-pci && [ -e "$root/run/iommu-own/group-3.json" ] &&
	[ -e "$root/run/iommu-own/group-6.json" ] && [ -e "$root/run/iommu-own/group-8.json" ]
verdict "claim of three groups (by number and by address) moves them in one transaction, a record each (exit $rc)"
iommu_own "$root" release 8 6 3 >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && same_tree "$root" "$FIXTURES/workstation"
verdict "release of the three in one call puts the tree back as it was (exit $rc)"
n=$(iommu_own "$FIXTURES/workstation" claim 3 6 8 --dry-run | grep -vc "^#")
fails=0
for i in $(seq 1 "$n"); do
	root=$(fresh_copy workstation)
	echo "write $i EIO" >"$root/replay-faults"
	iommu_own "$root" claim 3 6 8 >/dev/null 2>&1
	rc=$?
	rm -f "$root/replay-faults"
	{ [ $rc -eq 1 ] && same_tree "$root" "$FIXTURES/workstation"; } || fails=$((fails + 1))
	root=$(fresh_copy workstation)
	echo "kill $i" >"$root/replay-faults"
	iommu_own "$root" claim 3 6 8 >/dev/null 2>&1
	rm -f "$root/replay-faults"
	iommu_own "$root" recover >/dev/null 2>&1
	c=0
	for d in 0000:00:14.0 0000:02:00.0 0000:03:00.0; do bound_to "$root/sys/bus/pci/devices/$d" vfio-pci && c=$((c + 1)); done
	{ [ $c -eq 0 ] || [ $c -eq 3 ]; } && [ ! -e "$root/run/iommu-own/journal.json" ] || fails=$((fails + 1))
done
[ "$n" -ge 9 ] && [ $fails -eq 0 ]
verdict "three groups in one claim: a failure at each of its $n writes rolls all back, a kill after each then recover leaves all or none ($fails failed)"

tap_done
