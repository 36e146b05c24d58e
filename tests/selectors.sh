#!/usr/bin/env bash
# Picking devices by what people know (--slot, -d, --class, --netdev,
# --blockdev, --state), what sits behind them (USES), what release restores
# (RECORD), recover --dry-run, the lock's --wait/--no-wait, and check's
# Prometheus format with its example timer.
. "$TOP_SRCDIR/tests/lib.sh"
DESK=$FIXTURES/desktop

# ---- selectors against every fixture, device by device ----------------------------------
fixtures=(workstation desktop passthrough halfbound sriov pcibridge portvfio vmd gaps acs)
bad=0 n=0
for f in "${fixtures[@]}"; do
	iommu_own "$FIXTURES/$f" list -r -n -o DEVICE,ID,CLASS 2>/dev/null | while read -r dev id _; do
		[ "$id" = - ] && continue
		dom=${dev%%:*} r=${dev#*:}
		bus=${r%%:*} r=${r#*:}
		slot=${r%%.*} fn=${r##*.} ven=${id%%:*} did=${id#*:}
		short=$dev
		[ "$dom" = 0000 ] && short=${dev#0000:}
		# each selector on its own picks this device (and the list shows it)
		for sel in "--slot $dev" "--slot $short" "--slot $dom:$bus:" "--slot $bus:$slot" "--slot .$fn" \
			"-d $id" "-d $ven:" "-d :$did"; do
			# shellcheck disable=SC2086 # the selector's words
			iommu_own "$FIXTURES/$f" list -r -n -o DEVICE $sel | grep -qx "$dev" || echo "BAD $f $dev $sel"
		done
		# and --slot of the exact address picks nothing else
		others=$(iommu_own "$FIXTURES/$f" list -r -n -o DEVICE --slot "$dev" | grep -vcx "$dev")
		[ "$others" -eq 0 ] || echo "BAD $f $dev --slot picks $others more"
		echo OK
	done
done >"$SCRATCH/sel"
n=$(grep -c '^OK' "$SCRATCH/sel")
bad=$(grep -c '^BAD' "$SCRATCH/sel")
[ "$n" -gt 80 ] && [ "$bad" -eq 0 ]
verdict "every device of ${#fixtures[@]} fixtures is picked by its slot, slot prefixes, function and IDs ($n devices, $bad misses)"
grep '^BAD' "$SCRATCH/sel" | head -5 | sed 's/^/# /'

# -d VENDOR: exactly the devices of that vendor, as the ID column says
for f in workstation acs; do
	for ven in 8086 10de; do
		want=$(iommu_own "$FIXTURES/$f" list -r -n -o DEVICE,ID | awk -v v="$ven" 'index($2, v ":") == 1 {print $1}' | sort)
		got=$(iommu_own "$FIXTURES/$f" list -r -n -o DEVICE -d "$ven:" | sort)
		[ -n "$want" ] && [ "$want" = "$got" ]
		verdict "$f: -d $ven: picks exactly the $(wc -w <<<"$want") devices of vendor $ven"
	done
done
# --class by name and by code
for spec in "gpu:03" "nic:0200" "nvme:0108" "usb:0c03" "audio:0403" "storage:01"; do
	name=${spec%%:*} code=${spec#*:}
	a=$(iommu_own "$DESK" list -r -n -o DEVICE --class "$name" | sort)
	b=$(iommu_own "$DESK" list -r -n -o DEVICE --class "$code" | sort)
	[ -n "$a" ] && [ "$a" = "$b" ]
	verdict "--class $name picks what --class $code picks ($(echo $a))"
done
out=$(iommu_own "$DESK" list -r -n -o DEVICE --class gpu)
check "--class gpu is the GPU alone, not its audio function" [ "$out" = "0000:01:00.0" ]
out=$(iommu_own "$DESK" list -r -n -o DEVICE -d 8086: --class usb)
check "two kinds of selector must both match (-d 8086: --class usb)" [ "$out" = "0000:00:14.0" ]
out=$(iommu_own "$DESK" list -r -n -o DEVICE --class nic --class nvme | sort | tr '\n' ' ')
check "values of one kind are alternatives (--class nic --class nvme)" [ "$out" = "0000:02:00.0 0000:03:00.0 " ]
out=$(iommu_own "$DESK" list -r -n -o DEVICE 0000:00:17.0 --class nic | sort | tr '\n' ' ')
check "operands and selectors add up" [ "$out" = "0000:00:17.0 0000:03:00.0 " ]
# interfaces and disks
for spec in "--netdev eno1:0000:03:00.0" "--blockdev nvme0n1:0000:02:00.0" "--blockdev nvme0n1p2:0000:02:00.0" \
	"--blockdev /dev/sda:0000:00:17.0" "--blockdev sdb:0000:00:14.0"; do
	sel=${spec%%:*} want=${spec#*:}
	# shellcheck disable=SC2086 # the selector's words
	out=$(iommu_own "$DESK" list -r -n -o DEVICE $sel)
	check "$sel picks $want" [ "$out" = "$want" ]
done
# each error names what matched nothing, or what is not a selector
err() { # err DESCRIPTION PATTERN ARGS...: on a copy (a claim opens its state directory)
	local d=$1 pat=$2 r
	shift 2
	r=$(fresh_copy desktop)
	iommu_own "$r" "$@" >"$SCRATCH/out" 2>&1
	expect_rc $? 2 "$d" grep -q -F -- "$pat" "$SCRATCH/out"
}
err "a slot with no device is an error naming it" "--slot 09:: no PCI device matches" list --slot 09:
err "an interface that does not exist" "--netdev eth9: no PCI device matches" list --netdev eth9
err "a disk that does not exist" "--blockdev sdz: no PCI device matches" claim --blockdev sdz
err "selectors that each match but not together" "no PCI device matches all the selectors given" list --class nic -d 10de:
err "a slot that is not one" "--slot zz: expected" list --slot zz
err "a slot with too many colons" "--slot 0:0:0:0: expected" list --slot 0:0:0:0
err "an ID without a colon" "-d 8086: expected" list -d 8086
err "an unknown class" "--class toaster: expected" list --class toaster
err "an interface name that is a path" "--netdev ../x: not an interface" list --netdev ../x
err "why of a selection that spans groups" "spans several groups (6, 8)" why --class nic --class nvme
root=$(fresh_copy desktop)
iommu_own "$root" -J list --slot 09: >"$SCRATCH/out" 2>/dev/null
expect_rc $? 2 "-J: a selector that matches nothing is a JSON error (no-match)" grep -q '"code": "no-match"' "$SCRATCH/out"

# moves: the selectors' groups in one transaction; an interface gone after the claim is found in the record
root=$(fresh_copy desktop)
iommu_own "$root" claim --class nic --class nvme --force=netdev-active,mounted >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "the selectors pick 2 groups (6, 8): they move as one transaction" "$SCRATCH/out" &&
	bound_to "$root/sys/bus/pci/devices/0000:02:00.0" vfio-pci && bound_to "$root/sys/bus/pci/devices/0000:03:00.0" vfio-pci
verdict "claim --class nic --class nvme: both groups, one transaction, said so (exit $rc)"
grep -q '"netdevs"' "$root/run/iommu-own/group-8.json" && grep -q '"eno1"' "$root/run/iommu-own/group-8.json"
verdict "the claim record keeps the interface's name"
rm -rf "$root/sys/class/net/eno1" "$root/sys/devices/pci0000:00/0000:00:1d.0/0000:03:00.0/net"
iommu_own "$root" release --netdev eno1 >"$SCRATCH/out" 2>&1
expect_rc $? 0 "release --netdev eno1 after the interface is gone: found through the record" \
	bound_to "$root/sys/bus/pci/devices/0000:03:00.0" e1000e
iommu_own "$root" release --blockdev nvme0n1 >"$SCRATCH/out" 2>&1
expect_rc $? 0 "release --blockdev nvme0n1 (still there in the tree)" bound_to "$root/sys/bus/pci/devices/0000:02:00.0" nvme

# --state
out=$(iommu_own "$FIXTURES/halfbound" list -r -n -o GROUP --state mixed)
check "--state mixed lists the mixed group alone" [ "$out" = 2 ]
out=$(iommu_own "$FIXTURES/passthrough" list -r -n -o GROUP --state user --state mixed | tr '\n' ' ')
check "--state user --state mixed: either" [ "$out" = "2 4 " ]
iommu_own "$FIXTURES/halfbound" list --state broken >"$SCRATCH/out" 2>&1
expect_rc $? 2 "--state with an unknown state is a usage error" grep -q "expected kernel, user, free, mixed or noiommu" "$SCRATCH/out"
iommu_own "$FIXTURES/noiommu" list >/dev/null 2>"$SCRATCH/err"
check "a tree with PCI devices and no group: list says the IOMMU is off or missing" grep -q "no IOMMU group: the IOMMU is off or missing" "$SCRATCH/err"

# ---- USES, RECORD -------------------------------------------------------------------------
iommu_own "$DESK" list -r -n -o DEVICE,USES >"$SCRATCH/out"
for want in "0000:03:00.0 net\\x20eno1\\x20(up,\\x20addresses)" \
	"0000:02:00.0 disk\\x20nvme0n1;\\x20disk\\x20nvme0n1p2\\x20(mounted)" \
	"0000:00:17.0 disk\\x20sda;\\x20disk\\x20sda2\\x20(used\\x20as\\x20swap)" \
	"0000:01:00.0 drm\\x20card0;\\x20drm\\x20renderD128" "0000:01:00.1 sound\\x20card1" \
	"0000:00:14.0 disk\\x20sdb;\\x20usb\\x201-1\\x20(USB\\x20Keyboard);\\x20usb\\x202-2\\x20(Ultra)" \
	"0000:00:1d.0 -"; do
	grep -q -x -F -- "$want" "$SCRATCH/out"
	verdict "USES: $want"
done
iommu_own "$DESK" list -J -o +USES >"$SCRATCH/out"
"$JSONCHECK" <"$SCRATCH/out" && grep -q '"operstate": "up"' "$SCRATCH/out" && grep -q '"in_use": "mounted"' "$SCRATCH/out" &&
	grep -q '"product": "USB Keyboard"' "$SCRATCH/out"
verdict "list -J -o +USES: the uses key, parsed"
iommu_own "$DESK" list -J >"$SCRATCH/out"
! grep -q '"uses"' "$SCRATCH/out"
verdict "list -J without USES asked reads and prints no uses"
root=$(fresh_copy workstation)
iommu_own "$root" claim 8 >/dev/null 2>&1
out=$(iommu_own "$root" list -r -n -o DEVICE,DRIVER,RECORD 8)
check "RECORD: what release restores after a claim" [ "$out" = "0000:03:00.0 vfio-pci e1000e" ]
out=$(iommu_own "$FIXTURES/passthrough" list -r -n -o DEVICE,RECORD 0000:02:00.0)
check "RECORD: empty without a record" [ "$out" = "0000:02:00.0 -" ]
root=$(fresh_copy passthrough)
iommu_own "$root" release 4 >"$SCRATCH/out" 2>&1
check "a release without a record says the kernel chooses" grep -q "group 4 has no record of its claim" "$SCRATCH/out"
iommu_own "$FIXTURES/workstation" --pci-ids "$SCRATCH/missing.ids" list -o GROUP,DEVICE >"$SCRATCH/out" 2>&1
check "--pci-ids that cannot be read is no error when no name is printed" [ $? -eq 0 ]
iommu_own "$FIXTURES/workstation" --pci-ids "$SCRATCH/missing.ids" list >"$SCRATCH/out" 2>&1
expect_rc $? 2 "... and an error naming it when names are printed" grep -q "missing.ids" "$SCRATCH/out"

# ---- recover --dry-run, --wait, --no-wait -------------------------------------------------
root=$(fresh_copy workstation)
echo "kill 2" >"$root/replay-faults"
iommu_own "$root" claim 8 >/dev/null 2>&1
rm -f "$root/replay-faults"
tree_state "$root" >"$SCRATCH/before"
iommu_own "$root" recover --dry-run >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "recover would roll back" "$SCRATCH/out" && grep -q "0000:03:00.0  now (no driver), back to e1000e" "$SCRATCH/out" &&
	diff "$SCRATCH/before" <(tree_state "$root") >/dev/null && [ -e "$root/run/iommu-own/journal.json" ]
verdict "recover --dry-run after a kill: would roll back, names the device, changes nothing (exit $rc)"
iommu_own "$root" recover --dry-run -J >"$SCRATCH/out"
"$JSONCHECK" <"$SCRATCH/out" && grep -q '"result": "would-roll-back"' "$SCRATCH/out"
verdict "recover --dry-run -J"
root=$(fresh_copy workstation)
n=$(iommu_own "$root" claim 8 --dry-run | grep -vc '^#')
echo "kill $n" >"$root/replay-faults"
iommu_own "$root" claim 8 >/dev/null 2>&1
rm -f "$root/replay-faults"
iommu_own "$root" recover --dry-run >"$SCRATCH/out" 2>&1
check "recover --dry-run after the last write: would finish" grep -q "recover would finish the move" "$SCRATCH/out"
root=$(fresh_copy workstation)
mkdir -p "$root/run/iommu-own" && chmod 700 "$root/run/iommu-own"
(exec 9>>"$root/run/iommu-own/lock" && flock 9 && exec sleep 30) &
holder=$!
sleep 0.3
start=$(date +%s%N)
iommu_own "$root" claim 8 --no-wait >"$SCRATCH/out" 2>&1
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ $rc -eq 2 ] && grep -q "another iommu-own operation holds .*lock (--no-wait)" "$SCRATCH/out" && bound_to "$root/sys/bus/pci/devices/0000:03:00.0" e1000e
verdict "--no-wait: the lock held elsewhere, exit 2 at once (${ms} ms), nothing changed"
start=$(date +%s%N)
iommu_own "$root" -J claim 8 --wait=1 >"$SCRATCH/out" 2>/dev/null
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ $rc -eq 2 ] && [ $ms -ge 900 ] && [ $ms -lt 5000 ] && grep -q '"code": "locked"' "$SCRATCH/out"
verdict "--wait=1: gives up after a second (${ms} ms), JSON code locked"
kill $holder 2>/dev/null
wait $holder 2>/dev/null
iommu_own "$root" claim 8 --wait=5 >/dev/null 2>&1
check "--wait once the lock is free: the claim goes through" bound_to "$root/sys/bus/pci/devices/0000:03:00.0" vfio-pci

# ---- Prometheus ------------------------------------------------------------------------
if command -v promtool >/dev/null 2>&1; then
	for f in workstation desktop halfbound pcibridge noiommu noiommu-mode passthrough sriov vmd empty; do
		iommu_own "$FIXTURES/$f" check --format=prometheus >"$SCRATCH/prom" 2>/dev/null
		rc=$?
		lint=$(promtool check metrics <"$SCRATCH/prom" 2>&1)
		codes=$(grep -c '^iommu_own_findings{' "$SCRATCH/prom")
		jrc=0
		iommu_own "$FIXTURES/$f" check --all >/dev/null 2>&1 || jrc=$?
		[ -z "$lint" ] && [ $rc -eq $jrc ] && [ "$codes" -ge 20 ]
		verdict "$f: check --format=prometheus passes promtool, $codes finding gauges, exit $rc as check's"
	done
	errors=$(iommu_own "$FIXTURES/halfbound" check --format=prometheus | awk '/^iommu_own_findings\{code="mixed-group"/ {print $2}')
	mixed=$(iommu_own "$FIXTURES/halfbound" check --format=prometheus | awk '/^iommu_own_groups\{state="mixed"/ {print $2}')
	check "halfbound: one mixed-group finding and one mixed group in the metrics" [ "$errors/$mixed" = "1/1" ]
	# The example unit's command, as systemd runs it ($$ is a literal $), writes the file whole.
	unit=$TOP_SRCDIR/examples/prometheus/iommu-own-metrics.service
	cmd=$(sed -n "s/^ExecStart=\/bin\/sh -c '\(.*\)'$/\1/p" "$unit" | sed 's/\$\$/$/g')
	mkdir -p "$SCRATCH/bin" "$SCRATCH/textfile"
	printf '#!/bin/sh\nexec %q --sysroot %q "$@"\n' "$IOMMU_OWN" "$FIXTURES/halfbound" >"$SCRATCH/bin/iommu-own"
	chmod +x "$SCRATCH/bin/iommu-own"
	DIR=$SCRATCH/textfile PATH=$SCRATCH/bin:$PATH sh -c "$cmd"
	rc=$?
	[ $rc -eq 1 ] && [ -s "$SCRATCH/textfile/iommu-own.prom" ] && [ ! -e "$SCRATCH/textfile/.iommu-own.prom.tmp" ] &&
		promtool check metrics <"$SCRATCH/textfile/iommu-own.prom" >/dev/null 2>&1
	verdict "the example unit's command writes iommu-own.prom whole, check's exit 1 kept for SuccessExitStatus (exit $rc)"
	grep -q '^SuccessExitStatus=1$' "$unit"
	verdict "the example unit treats exit 1 as success"
else
	not_ok "promtool is installed (scripts/install-deps.sh installs prometheus)"
fi

tap_done
