#!/usr/bin/env bash
# snapshot: a capture of a tree replays exactly like the tree itself.
. "$TOP_SRCDIR/tests/lib.sh"

for f in workstation passthrough halfbound sriov pcibridge portvfio noiommu noiommu-mode vmd gaps empty; do
	snap=$SCRATCH/snap-$f
	if ! iommu_own "$FIXTURES/$f" snapshot "$snap" 2>"$SCRATCH/err"; then
		not_ok "$f: snapshot" "$(cat "$SCRATCH/err")"
		continue
	fi
	same=true
	for cmd in "list --json" "check --json" "list -r -o GROUP,STATE,VIABLE,TYPE,DEVICE,ID,DRIVER,OVERRIDE,ROLE"; do
		# shellcheck disable=SC2086
		# (hints name the root to paste: each its own)
		diff <(iommu_own "$FIXTURES/$f" $cmd 2>&1 | sed "s#$FIXTURES/$f#ROOT#g") \
			<(iommu_own "$snap" $cmd 2>&1 | sed "s#$snap#ROOT#g") >"$SCRATCH/diff" || same=false
	done
	if $same; then ok "$f: the snapshot lists and audits like the tree"; else not_ok "$f: snapshot differs" "$(head -20 "$SCRATCH/diff")"; fi
done

# Moves replay on a snapshot exactly as on the tree it was taken from.
snap=$SCRATCH/snap-halfbound
root=$(fresh_copy halfbound)
iommu_own "$root" claim 2 >/dev/null 2>&1 && iommu_own "$snap" claim 2 >/dev/null 2>&1
check "claim replayed on a snapshot ends like on the original tree" \
	diff <(iommu_own "$root" list --json) <(iommu_own "$snap" list --json)
iommu_own "$root" release 2 >/dev/null 2>&1 && iommu_own "$snap" release 2 >/dev/null 2>&1
check "release replayed on a snapshot ends like on the original tree" \
	diff <(iommu_own "$root" list --json) <(iommu_own "$snap" list --json)

# Links are copied as they are: relative, inside the snapshot.
bad=$(cd "$SCRATCH/snap-sriov" && find . -type l | while read -r l; do
	case $(readlink "$l") in /*) echo "$l" ;; esac
	[ -e "$l" ] || [ "$(basename "$l")" = module ] || echo "dangling $l"
done)
check "every link in a snapshot is relative and resolves${bad:+ (not: $bad)}" [ -z "$bad" ]
check "config space is captured" cmp -s "$FIXTURES/sriov/sys/devices/pci0000:00/0000:00:1c.0/config" \
	"$SCRATCH/snap-sriov/sys/devices/pci0000:00/0000:00:1c.0/config"
check "write-only attributes become empty files" [ -f "$SCRATCH/snap-sriov/sys/bus/pci/drivers_probe" ]
check "the module index is captured" cmp -s "$FIXTURES/sriov/lib/modules/6.1.0-fixture/modules.alias.bin" \
	"$SCRATCH/snap-sriov/lib/modules/6.1.0-fixture/modules.alias.bin"

iommu_own "$FIXTURES/sriov" snapshot --no-config "$SCRATCH/noconf" 2>/dev/null
[ -z "$(find "$SCRATCH/noconf" -name config)" ] && [ -n "$(find "$SCRATCH/snap-sriov" -name config)" ]
verdict "--no-config leaves config space out"

# --no-serial: the Device Serial Number capability (ext. cap 3 at 0x100) is zeroed.
root=$(fresh_copy workstation)
cfg=$root/sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0/config
{ head -c 256 "$cfg"; printf '\x03\x00\x01\x00\x11\x22\x33\x44\x55\x66\x77\x88'; head -c 3828 /dev/zero; } >"$SCRATCH/cfg" && cp "$SCRATCH/cfg" "$cfg"
iommu_own "$root" snapshot --no-serial "$SCRATCH/noserial" 2>/dev/null
iommu_own "$root" snapshot "$SCRATCH/serial" 2>/dev/null
dsn() { od -An -tx1 -j 260 -N 8 "$1/sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0/config" | tr -d ' '; }
[ "$(dsn "$SCRATCH/noserial")" = 0000000000000000 ] && [ "$(dsn "$SCRATCH/serial")" = 1122334455667788 ]
verdict "--no-serial zeroes the Device Serial Number, a plain snapshot keeps it"

# What the refusals read comes along: a mounted disk, a process holding a group.
root=$(fresh_copy workstation)
nvme=$root/sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0
mkdir -p "$nvme/nvme/nvme0/nvme0n1/holders"
echo 259:0 >"$nvme/nvme/nvme0/nvme0n1/dev"
ln -s ../../../../../../../../class/block "$nvme/nvme/nvme0/nvme0n1/subsystem"
mkdir -p "$root/proc/self" "$root/proc/77/fd"
echo "29 1 259:0 / / rw,relatime shared:1 - ext4 /dev/nvme0n1 rw" >"$root/proc/self/mountinfo"
ln -s /dev/vfio/1 "$root/proc/77/fd/9"
echo qemu-system-x86 >"$root/proc/77/comm"
iommu_own "$root" snapshot "$SCRATCH/runtime" 2>/dev/null
iommu_own "$SCRATCH/runtime" claim 6 --dry-run >"$SCRATCH/out" 2>&1
expect_rc $? 1 "a snapshot keeps what the mounted refusal reads" grep -q "nvme0n1 is mounted" "$SCRATCH/out"
[ "$(readlink "$SCRATCH/runtime/proc/77/fd/100")" = /dev/vfio/1 ] && grep -qx qemu-system-x86 "$SCRATCH/runtime/proc/77/comm"
verdict "a snapshot keeps the processes that hold VFIO groups"

mkdir -p "$SCRATCH/full" && touch "$SCRATCH/full/x"
iommu_own "$FIXTURES/sriov" snapshot "$SCRATCH/full" 2>"$SCRATCH/err"
expect_rc $? 2 "a snapshot into a non-empty directory is refused" grep -q "not a new or empty directory" "$SCRATCH/err"

# A network interface that is up with a route: the snapshot keeps the
# interface (flags, operstate, its MAC unless --no-serial) and the routes, so
# its replay refuses the claim the same way.
root=$(fresh_copy workstation)
nic=$root/sys/devices/pci0000:00/0000:00:1d.0/0000:03:00.0
mkdir -p "$nic/net/eno1" "$root/proc/net"
echo 0x1003 >"$nic/net/eno1/flags"
echo up >"$nic/net/eno1/operstate"
echo 2 >"$nic/net/eno1/ifindex"
echo 52:54:00:12:34:56 >"$nic/net/eno1/address"
ln -s ../../../../../../class/net "$nic/net/eno1/subsystem"
printf 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\neno1\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n' >"$root/proc/net/route"
iommu_own "$root" snapshot "$SCRATCH/net-snap" 2>/dev/null
iommu_own "$root" snapshot --no-serial "$SCRATCH/net-snap-ns" 2>/dev/null
iommu_own "$SCRATCH/net-snap" claim 8 --dry-run >"$SCRATCH/out" 2>&1
rc=$?
snic=sys/devices/pci0000:00/0000:00:1d.0/0000:03:00.0/net/eno1
[ $rc -eq 1 ] && grep -q "eno1 is up with routes" "$SCRATCH/out" &&
	[ "$(cat "$SCRATCH/net-snap/$snic/address")" = 52:54:00:12:34:56 ] && [ ! -e "$SCRATCH/net-snap-ns/$snic/address" ] &&
	[ "$(cat "$SCRATCH/net-snap-ns/$snic/operstate")" = up ]
verdict "a snapshot keeps an interface that is up and its routes (its MAC only without --no-serial); the replay refuses alike (exit $rc)"

# why without config space: a snapshot taken with --no-config cannot tell why
# devices share a group, and says so instead of blaming a quirk.
iommu_own "$FIXTURES/acs" snapshot --no-config "$SCRATCH/acs-noconf" 2>/dev/null
iommu_own "$SCRATCH/acs-noconf" why 3 >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "the reason cannot be told: config space could not be read" "$SCRATCH/out" &&
	iommu_own "$SCRATCH/acs-noconf" why 3 --json | grep -q '"kind": "config-unreadable"' &&
	iommu_own "$SCRATCH/acs-noconf" check --all | grep -q "shared-group .*config space unreadable"
verdict "why on a snapshot without config space: config-unreadable, in text, JSON and check --all (exit $rc)"

# Two root-complex endpoints of different slots in one group, with config
# space that shows no reason (as a DMA alias quirk would leave them): why
# says the reason is not visible rather than inventing one.
root=$(fresh_copy workstation)
sata=sys/devices/pci0000:00/0000:00:17.0
mv "$root/sys/kernel/iommu_groups/4/devices/0000:00:17.0" "$root/sys/kernel/iommu_groups/3/devices/"
rmdir "$root/sys/kernel/iommu_groups/4/devices" && rm -rf "$root/sys/kernel/iommu_groups/4"
ln -sfn ../../../kernel/iommu_groups/3 "$root/$sata/iommu_group"
iommu_own "$root" why 3 >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "no reason is visible in config space" "$SCRATCH/out" &&
	iommu_own "$root" why 3 --json | grep -q '"kind": "not-visible"'
verdict "why of a group that config space does not explain: not-visible (exit $rc)"

tap_done
