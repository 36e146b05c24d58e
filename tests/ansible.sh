#!/usr/bin/env bash
# The Ansible example (examples/ansible/iommu-own.yml) against a fixture
# tree: the declaration is validated by check --syntax, apply's JSON says
# whether anything changed, a refused entry fails the host with its code.
. "$TOP_SRCDIR/tests/lib.sh"
PLAYBOOK=$TOP_SRCDIR/examples/ansible/iommu-own.yml

if ! command -v ansible-playbook >/dev/null 2>&1; then
	not_ok "ansible-playbook is installed (scripts/install-deps.sh installs ansible-core)"
	tap_done
	exit
fi
export ANSIBLE_HOME=$SCRATCH/ansible ANSIBLE_LOCAL_TEMP=$SCRATCH/ansible/tmp ANSIBLE_REMOTE_TEMP=$SCRATCH/ansible/tmp
export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0

play() { # play ROOT DEVICES_JSON: run the playbook on ROOT; the recap line is in $SCRATCH/play
	ansible-playbook -i localhost, -c local "$PLAYBOOK" -e iommu_own_become=false -e "iommu_own_root=$1" \
		-e "iommu_own='$IOMMU_OWN --sysroot $1 --pci-ids $IDS'" -e "{\"iommu_own_devices\": $2}" >"$SCRATCH/play" 2>&1
}
recap() { grep -E "^localhost +:" "$SCRATCH/play"; }

root=$(fresh_copy acs)
play "$root" '[{"address": "0000:04:00.0", "id": "8086:1533"}, {"address": "02:00.0", "id": "10de:1b80"}]'
rc=$?
[ $rc -eq 0 ] && recap | grep -q "changed=3 .*failed=0" && bound_to "$root/sys/bus/pci/devices/0000:04:00.0" vfio-pci &&
	bound_to "$root/sys/bus/pci/devices/0000:03:00.0" vfio-pci
verdict "first run: the declaration is written and both groups claimed, changed (exit $rc)"
play "$root" '[{"address": "0000:04:00.0", "id": "8086:1533"}, {"address": "02:00.0", "id": "10de:1b80"}]'
rc=$?
[ $rc -eq 0 ] && recap | grep -q "changed=0 .*failed=0"
verdict "second run: nothing changed, the host reports ok (exit $rc)"
play "$root" '[{"address": "0000:04:00.0", "id": "8086:1533"}, {"address": "02:00.0", "id": "10de:ffff"}]'
rc=$?
[ $rc -ne 0 ] && recap | grep -q "failed=1" && grep -q "refused (declared-drift)" "$SCRATCH/play" &&
	bound_to "$root/sys/bus/pci/devices/0000:04:00.0" vfio-pci
verdict "a drifted entry fails the host with its code; the other stays applied (exit $rc)"
cp "$root/etc/iommu-own/conf.d/20-ansible.conf" "$SCRATCH/before"
play "$root" '[{"address": "0000:04:00.0", "id": "8086:15"}]'
rc=$?
[ $rc -ne 0 ] && grep -q "failed to validate" "$SCRATCH/play" && grep -q "id = 8086:15: expected vendor:device" "$SCRATCH/play" &&
	cmp -s "$SCRATCH/before" "$root/etc/iommu-own/conf.d/20-ansible.conf"
verdict "an invalid declaration is refused by check --syntax and the old file stays (exit $rc)"

tap_done
