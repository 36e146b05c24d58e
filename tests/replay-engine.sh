#!/usr/bin/env bash
# The replay engine's own rules (src/os/replay.c), seen through claim and
# release on copies of the fixtures: it writes only plain files of the tree
# and never across a mount inside it, it knows the group file of VFIO's
# no-IOMMU mode, it honours sriov_drivers_autoprobe, and a bind matches the
# driver before it looks at the device's current driver. Every case checks
# the tree itself, not just the exit status.
. "$TOP_SRCDIR/tests/lib.sh"

override_cleared() { [ "$(cat "$1/driver_override" 2>/dev/null)" = "(null)" ]; }
# A module that a move loaded stays loaded, as with the kernel: its driver's module link is not compared.
kstate() { tree_state "$1" | grep -v '^sys/bus/pci/drivers/[^/]*/module '; }
same_state() { diff <(kstate "$1") <(kstate "$2") >/dev/null; }
# Guards against a hang: a claim that blocks on a FIFO never ends by itself.
run() { # run ROOT ARGS...: the tool, killed after 10 s (status 124)
	local root=$1
	shift
	timeout 10 "$IOMMU_OWN" --sysroot "$root" --pci-ids "$IDS" "$@"
}

NVME=sys/bus/pci/devices/0000:02:00.0

# ---- 1. only plain files, never across a mount ----------------------------------

# A FIFO as the group's file: opening it for writing would block for ever.
root=$(fresh_copy workstation)
rm -f "$root/dev/vfio/6"
mkfifo "$root/dev/vfio/6"
run "$root" claim 6 >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "dev/vfio/6: not a regular file" "$SCRATCH/out" && [ -p "$root/dev/vfio/6" ] &&
	rm "$root/dev/vfio/6" && same_state "$root" "$FIXTURES/workstation"
verdict "plain files: a FIFO at /dev/vfio/N fails the claim, named, and it rolls back (exit $rc)"

# The same FIFO with a reader: it would open, and used to be skipped silently.
root=$(fresh_copy workstation)
rm -f "$root/dev/vfio/6"
mkfifo "$root/dev/vfio/6"
exec 3<>"$root/dev/vfio/6"
run "$root" claim 6 >"$SCRATCH/out" 2>&1
rc=$?
exec 3>&-
[ $rc -eq 1 ] && grep -q "dev/vfio/6: not a regular file" "$SCRATCH/out" &&
	rm "$root/dev/vfio/6" && same_state "$root" "$FIXTURES/workstation"
verdict "plain files: a FIFO at /dev/vfio/N that has a reader fails the claim too (exit $rc)"

# A FIFO as driver_override: reading the group sees it before the very first write.
root=$(fresh_copy workstation)
rm "$root/$NVME/driver_override"
mkfifo "$root/$NVME/driver_override"
run "$root" claim 6 >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "0000:02:00.0/driver_override: not a regular file" "$SCRATCH/out" &&
	[ -p "$root/$NVME/driver_override" ] && [ "$(readlink "$root/$NVME/driver")" = ../../../../bus/pci/drivers/nvme ] &&
	[ ! -e "$root/dev/vfio/6" ]
verdict "plain files: a FIFO as driver_override fails the claim before anything changed (exit $rc)"

# A character device node: it would be the host's device, opened.
root=$(fresh_copy workstation)
rm -f "$root/dev/vfio/6"
if mknod "$root/dev/vfio/6" c 1 3 2>/dev/null; then
	run "$root" claim 6 >"$SCRATCH/out" 2>&1
	rc=$?
	[ $rc -eq 1 ] && grep -q "dev/vfio/6: not a regular file" "$SCRATCH/out" && [ -c "$root/dev/vfio/6" ] &&
		rm "$root/dev/vfio/6" && same_state "$root" "$FIXTURES/workstation"
	verdict "plain files: a device node at /dev/vfio/N is never opened, the claim rolls back (exit $rc)"
else
	ok "plain files: a device node at /dev/vfio/N # SKIP mknod not permitted"
fi

# A filesystem mounted inside the tree (a tmpfs standing in for a devtmpfs),
# in a private mount namespace: neither written nor emptied.
if unshare -rm true 2>/dev/null; then
	root=$(fresh_copy workstation)
	unshare -rm bash -c '
		root=$1 out=$2
		shift 2
		mount -t tmpfs none "$root/dev/vfio" && : >"$root/dev/vfio/vfio" || exit 99
		timeout 10 "$@" --sysroot "$root" claim 6 >"$out" 2>&1
		echo "rc=$?"
		ls "$root/dev/vfio"
	' _ "$root" "$SCRATCH/claim.out" "$IOMMU_OWN" --pci-ids "$IDS" >"$SCRATCH/ns" 2>&1
	[ "$(cat "$SCRATCH/ns")" = "$(printf 'rc=1\nvfio')" ] &&
		grep -q "dev/vfio/6: on a filesystem mounted inside the tree" "$SCRATCH/claim.out" &&
		grep -q "(EXDEV)" "$SCRATCH/claim.out" && same_state "$root" "$FIXTURES/workstation"
	verdict "mounts: a claim that would create /dev/vfio/N on a mount inside the tree is refused"

	root=$(fresh_copy passthrough)
	unshare -rm bash -c '
		root=$1 out=$2
		shift 2
		mount -t tmpfs none "$root/dev/vfio" && : >"$root/dev/vfio/vfio" && : >"$root/dev/vfio/2" &&
			: >"$root/dev/vfio/4" || exit 99
		timeout 10 "$@" --sysroot "$root" release 4 >"$out" 2>&1
		echo "rc=$?"
		ls "$root/dev/vfio" | tr "\n" " "
	' _ "$root" "$SCRATCH/release.out" "$IOMMU_OWN" --pci-ids "$IDS" >"$SCRATCH/ns" 2>&1
	[ "$(cat "$SCRATCH/ns")" = "$(printf 'rc=1\n2 4 vfio ')" ] &&
		grep -q "on a filesystem mounted inside the tree" "$SCRATCH/release.out" &&
		same_state "$root" "$FIXTURES/passthrough"
	verdict "mounts: a release never removes /dev/vfio/N from a mount inside the tree"
else
	ok "mounts: a claim that would create /dev/vfio/N on a mount inside the tree # SKIP no user namespaces"
	ok "mounts: a release never removes /dev/vfio/N from a mount inside the tree # SKIP no user namespaces"
fi

# ---- 2. VFIO's no-IOMMU mode: the group's file is /dev/vfio/noiommu-N ------------

# The file comes and goes under its own name.
root=$(fresh_copy noiommu-mode)
run "$root" release 0 >"$SCRATCH/out" 2>&1 && [ ! -e "$root/dev/vfio/noiommu-0" ] && [ ! -e "$root/dev/vfio/0" ] &&
	run "$root" claim 0 >>"$SCRATCH/out" 2>&1 && [ -f "$root/dev/vfio/noiommu-0" ] && [ ! -e "$root/dev/vfio/0" ] &&
	same_state "$root" "$FIXTURES/noiommu-mode"
verdict "no-IOMMU: release removes /dev/vfio/noiommu-N and claim brings it back, never /dev/vfio/N"

# A holder that appears after the checks (during a delay after the first
# write): the replay's unbind must see it, as the kernel would block on it.
root=$(fresh_copy noiommu-mode)
DEV=$root/sys/bus/pci/devices/0000:02:00.0
echo 'delay 1 4000' >"$root/replay-faults"
run "$root" release 0 >"$SCRATCH/out" 2>&1 &
pid=$!
if wait_for override_cleared "$DEV"; then
	mkdir -p "$root/proc/99/fd"
	ln -s /dev/vfio/noiommu-0 "$root/proc/99/fd/3"
fi
wait $pid
rc=$?
[ $rc -eq 1 ] && grep -q "unbind of 0000:02:00.0 from vfio-pci failed: .*(EBUSY)" "$SCRATCH/out" &&
	rm -r "$root/proc/99" && same_state "$root" "$FIXTURES/noiommu-mode"
verdict "no-IOMMU: unbind from VFIO is refused while a process holds /dev/vfio/noiommu-N (exit $rc)"

# A driver directory that leads outside the tree is passed over by a probe
# (drivers_probe of a release without a record) without a word; the move
# itself goes through, and nothing outside the tree is touched.
root=$(fresh_copy halfbound)
mkdir -p "$SCRATCH/outside"
ln -s "$SCRATCH/outside" "$root/sys/bus/pci/drivers/aaa_outside"
run "$root" release 2 >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && ! grep -q "outside the tree" "$SCRATCH/out" && [ -z "$(ls -A "$SCRATCH/outside")" ] &&
	[ "$(basename "$(readlink "$root/sys/bus/pci/devices/0000:01:00.0/driver")")" = nouveau ]
verdict "links out: a probe passes over a driver directory outside the tree silently (exit $rc)"

# ---- 3. sriov_drivers_autoprobe=0: a VF without override is not probed ----------

PF=sys/bus/pci/devices/0000:3b:00.0
VF9=sys/bus/pci/devices/0000:3b:02.0
# Released without a record: drivers_probe leaves such a VF unbound, and
# release takes that as the kernel's choice.
root=$(fresh_copy sriov)
echo 0 >"$root/$PF/sriov_drivers_autoprobe"
run "$root" release 13 >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "vfio-pci -> (no driver) (override unset): a VF whose PF has sriov_drivers_autoprobe 0 is not probed" "$SCRATCH/out" &&
	[ ! -e "$root/sys/bus/pci/devices/0000:3b:02.4/driver" ] &&
	[ "$(cat "$root/sys/bus/pci/devices/0000:3b:02.4/driver_override")" = "(null)" ]
verdict "autoprobe: drivers_probe leaves a VF unbound when its PF says 0; release ends there (exit $rc)"

# With driver_override, the VF probes all the same (the claim stages one).
root=$(fresh_copy sriov)
echo 0 >"$root/$PF/sriov_drivers_autoprobe"
run "$root" claim 9 >"$SCRATCH/out" 2>&1 &&
	[ "$(basename "$(readlink "$root/$VF9/driver")")" = vfio-pci ]
verdict "autoprobe: a VF with driver_override binds although its PF says 0"

# Released with a record (iavf): the bind needs an override, so release stages
# one naming iavf and clears it once bound.
root=$(fresh_copy sriov)
run "$root" claim 9 >"$SCRATCH/out" 2>&1
echo 0 >"$root/$PF/sriov_drivers_autoprobe"
run "$root" release 9 --dry-run >"$SCRATCH/out" 2>&1
grep -A3 "driver_override \"iavf\"" "$SCRATCH/out" | grep -q "drivers/iavf/bind" &&
	tail -1 "$SCRATCH/out" | grep -q "0000:3b:02.0/driver_override \"\\\\n\"" &&
	run "$root" release 9 >"$SCRATCH/out" 2>&1 &&
	[ "$(basename "$(readlink "$root/$VF9/driver")")" = iavf ] && [ "$(cat "$root/$VF9/driver_override")" = "(null)" ]
verdict "autoprobe: release of a recorded VF stages an override naming its driver, binds, clears it"

# pci_device_probe() refuses every probe of such a VF, an explicit bind too.
# A claim killed after its unbind left the VF unbound; recover rolls back to
# iavf. With the journal's no_autoprobe it stages an override and succeeds;
# a journal without it (as an older version wrote) binds without one: ENODEV,
# the VF stays unbound, and recover says so (exit 3).
interrupted_claim() { # interrupted_claim ROOT NO_AUTOPROBE
	local root=$1
	# the fixture's VF is on iavf: as after the claim's override and unbind
	rm -f "$root/$VF9/driver" "$root/sys/bus/pci/drivers/iavf/0000:3b:02.0"
	echo '(null)' >"$root/$VF9/driver_override"
	mkdir -p -m 0700 "$root/run/iommu-own"
	cat >"$root/run/iommu-own/journal.json" <<JSON
{"format":"iommu-own-journal","version":1,"operation":"claim","group":9,"sysroot":"$root","driver":"vfio-pci",
 "devices":[{"address":"0000:3b:02.0","moves":true,"module":"iavf","no_autoprobe":$2,
  "before":{"driver":"iavf","driver_override":null},"want":{"driver":"vfio-pci","driver_override":"vfio-pci"}}]}
JSON
}
root=$(fresh_copy sriov)
echo 0 >"$root/$PF/sriov_drivers_autoprobe"
interrupted_claim "$root" true
run "$root" recover >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "rolled back the interrupted claim" "$SCRATCH/out" &&
	[ "$(basename "$(readlink "$root/$VF9/driver")")" = iavf ] && [ "$(cat "$root/$VF9/driver_override")" = "(null)" ]
verdict "autoprobe: recover rolls such a VF back to iavf through a staged override (exit $rc)"

root=$(fresh_copy sriov)
echo 0 >"$root/$PF/sriov_drivers_autoprobe"
interrupted_claim "$root" false
run "$root" recover >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 3 ] && grep -q "0000:3b:02.0  NOW ON (no driver) (override unset), was on iavf" "$SCRATCH/out" &&
	[ ! -e "$root/$VF9/driver" ] && [ -e "$root/run/iommu-own/journal.json" ]
verdict "autoprobe: an explicit bind of a VF without override fails with ENODEV when its PF says 0 (exit $rc)"

# ---- 4. bind: the driver must match before a bound device is EBUSY ----------------

# While the claim waits after its unbind, something else puts the NVMe back
# on nvme and clears the override: vfio-pci then does not match it (ENODEV).
root=$(fresh_copy workstation)
echo 'delay 2 4000' >"$root/replay-faults"
run "$root" claim 6 >"$SCRATCH/out" 2>&1 &
pid=$!
if wait_for unbound "$root/$NVME"; then
	echo '(null)' >"$root/$NVME/driver_override"
	nvme_bound_by_hand "$root" nvme
fi
wait $pid
rc=$?
[ $rc -eq 1 ] && grep -q "bind of 0000:02:00.0 to vfio-pci failed: .*(ENODEV)" "$SCRATCH/out" &&
	same_state "$root" "$FIXTURES/workstation"
verdict "bind order: a driver that does not match a bound device fails with ENODEV, not EBUSY (exit $rc)"

# ---- 5. the kernel's other refusals of a bind ---------------------------------------

# vfio-pci refuses a PF with VFs enabled (EBUSY, "Cannot bind to PF with
# SR-IOV enabled"): a forced claim of sriov's PF fails there and rolls back.
root=$(fresh_copy sriov)
run "$root" claim 7 --force=sriov-pf >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "bind of 0000:3b:00.0 to vfio-pci failed: .*(EBUSY)" "$SCRATCH/out" &&
	same_state "$root" "$FIXTURES/sriov"
verdict "bind: vfio-pci refuses a PF whose VFs are enabled (EBUSY); the claim rolls back (exit $rc)"

# A process (QEMU, say) opens /dev/vfio/3 in the middle of a claim, once the
# first device is on vfio-pci, and the second bind then fails: the rollback
# cannot take the first device from vfio-pci while the group is held (the
# kernel would block; the replay engine says EBUSY), nor, the kernel's
# pci_dma_configure(), bind a kernel driver into the held group. The claim
# ends with exit 3, incomplete rollback; once the process is gone, recover
# finishes the rollback.
root=$(fresh_copy acs)
GPU=sys/bus/pci/devices/0000:02:00.0
printf 'delay 5 4000\nwrite 6 EIO\n' >"$root/replay-faults"
run "$root" claim 3 >"$SCRATCH/out" 2>&1 &
pid=$!
if wait_for bound_to "$root/$GPU" vfio-pci; then
	mkdir -p "$root/proc/4242/fd"
	ln -s /dev/vfio/3 "$root/proc/4242/fd/27"
	echo qemu-system-x86 >"$root/proc/4242/comm"
fi
wait $pid
rc=$?
rm "$root/replay-faults"
[ $rc -eq 3 ] && grep -q "the ROLLBACK IS INCOMPLETE" "$SCRATCH/out" && [ -e "$root/run/iommu-own/journal.json" ] &&
	grep -q "the rollback's write .*/vfio-pci/unbind \"0000:02:00.0\" failed: .*(EBUSY)" "$SCRATCH/out" &&
	bound_to "$root/$GPU" vfio-pci
verdict "held mid-claim: the rollback cannot undo a device of the held group, exit 3, the journal kept (exit $rc)"
run "$root" recover >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "process 4242 (qemu-system-x86) holds /dev/vfio/3" "$SCRATCH/out" &&
	grep -q "rollback of the interrupted claim of group 3 refused: nothing was changed, the journal is kept" "$SCRATCH/out" &&
	[ -e "$root/run/iommu-own/journal.json" ] && bound_to "$root/$GPU" vfio-pci
verdict "held mid-claim: recover refuses the rollback while the process holds the group, before any write (exit $rc)"
rm -r "$root/proc/4242"
run "$root" recover >"$SCRATCH/out" 2>&1
rc=$?
rm -rf "$root/run"
[ $rc -eq 0 ] && same_state "$root" "$FIXTURES/acs"
verdict "held mid-claim: once the process is gone, recover rolls the group back (exit $rc)"

# A write the kernel blocks (an unbind of a held device): the watchdog ends the
# wait, the journal keeps the stuck write, moves wait for recover, and recover
# puts the group back once the holder let go.
root=$(fresh_copy workstation)
touch "$root/holder"
echo "block unbind 0000:02:00.0 holder" >"$root/replay-faults"
start=$(date +%s%N)
run "$root" claim 6 --timeout 1 -J >"$SCRATCH/out" 2>"$SCRATCH/err"
rc=$?
took=$((($(date +%s%N) - start) / 1000000))
[ $rc -eq 5 ] && [ "$took" -lt 5000 ] && grep -q '"result": "blocked"' "$SCRATCH/out" &&
	grep -q 'unbind of 0000:02:00.0 is stuck in the kernel' "$SCRATCH/out" &&
	grep -q '"blocked":{' "$root/run/iommu-own/journal.json" &&
	grep -q '"path":".*/nvme/unbind"' "$root/run/iommu-own/journal.json" && bound_to "$root/$NVME" nvme
verdict "watchdog: a blocked unbind is reported stuck after --timeout (${took} ms), exit 5, the stuck write in the journal"
run "$root" claim 8 >"$SCRATCH/out" 2>&1
expect_rc $? 4 "watchdog: while the stuck move's journal is pending, other moves wait (exit 4)" \
	grep -q "run 'iommu-own --sysroot $root recover' first" "$SCRATCH/out"
rm "$root/holder" "$root/replay-faults"
run "$root" recover >"$SCRATCH/out" 2>&1
rc=$?
rm -rf "$root/run"
[ $rc -eq 0 ] && same_state "$root" "$FIXTURES/workstation"
verdict "watchdog: once the holder let go, recover rolls the move back (exit $rc)"

# VMD: unbinding vmd removes its PCI domain (vmd_remove); binding it again
# enumerates the domain again. The claim is refused unless forced.
root=$(fresh_copy vmd)
run "$root" claim 2 >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "0000:00:0e.0 is a VMD controller on vmd: unbinding it removes its PCI domain and the 2 device(s)" "$SCRATCH/out" &&
	same_state "$root" "$FIXTURES/vmd"
verdict "vmd: a group holding a VMD controller is refused, nothing changed (exit $rc)"
run "$root" claim 2 --force=vmd >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && bound_to "$root/sys/bus/pci/devices/0000:00:0e.0" vfio-pci &&
	[ ! -e "$root/sys/bus/pci/devices/10000:01:00.0" ] && [ ! -e "$root/sys/kernel/iommu_groups/2/devices/10000:01:00.0" ] &&
	[ ! -e "$root/sys/bus/pci/drivers/nvme/10000:01:00.0" ] && grep -q "10000:01:00.0  left alone (in the VMD domain)" "$SCRATCH/out"
verdict "vmd: forced, the controller goes to vfio-pci and its domain's devices leave the tree, as the kernel removes them (exit $rc)"
run "$root" release 2 >"$SCRATCH/out" 2>&1
rc=$?
rm -rf "$root/run"
# (vfio-pci stays loaded, with its dev/vfio/vfio, as in the kernel: not compared)
[ $rc -eq 0 ] && diff <(kstate "$root" | grep -v '^dev') <(kstate "$FIXTURES/vmd" | grep -v '^dev') >/dev/null &&
	[ ! -e "$root/.replay-stash" ]
verdict "vmd: the release binds vmd again and its domain comes back as it was (exit $rc)"

tap_done
