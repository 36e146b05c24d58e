#!/usr/bin/env bash
# The hand-off to a consumer: claim --owner/--mode on the group's own nodes
# (never the shared ones), names through the tree's own etc/passwd and
# etc/group, the record and the release, rollbacks and kills, list's OWNER,
# MODE and JSON consumer, apply's owner and mode. On copies of the vfs
# fixture (a 6.12 kernel: dev/vfio/devices, dev/iommu), whose node files
# the replay engine makes as devtmpfs does (mode 0600).
. "$TOP_SRCDIR/tests/lib.sh"

NIC=0000:06:00.0 # vfs: e1000e in group 12
attrs() { stat -c '%u:%g %a' "$@" 2>/dev/null | tr '\n' ' '; } # owner and mode of each file
nodes_of() { # nodes_of ROOT GROUP DEVICE: the group's file and the device's cdev node
	local cdev
	cdev=$(ls "$1/sys/bus/pci/devices/$3/vfio-dev" 2>/dev/null | head -n 1)
	echo "$1/dev/vfio/$2 ${cdev:+$1/dev/vfio/devices/$cdev}"
}
no_journal() { [ ! -e "$1/run/iommu-own/journal.json" ]; }

# ---- who: classes of USER[:GROUP] -------------------------------------------------
bad=
for c in "libvirt-qemu:kvm|64055:104 660" "64055:104|64055:104 660" "dpdk:|1001:1001 660" ":kvm|0:104 660" \
	"dpdk|1001:0 660" "5000:6000|5000:6000 660" "libvirt-qemu:1001|64055:1001 660"; do
	spec=${c%%|*} want=${c#*|}
	root=$(fresh_copy vfs)
	iommu_own "$root" claim 12 --owner "$spec" --mode 0660 >"$SCRATCH/out" 2>&1 || bad="$bad $spec:rc"
	# shellcheck disable=SC2046
	got=$(attrs $(nodes_of "$root" 12 $NIC))
	[ "$got" = "$want $want " ] || bad="$bad $spec:($got)"
done
[ -z "$bad" ]
verdict "claim --owner: names, numbers, USER: (login group), :GROUP, USER alone, numbers without an account, each on the group's file and cdev${bad:+ (not:$bad)}"

refused_owner() { # refused_owner DESCRIPTION PATTERN ARGS...: exit 2, nothing changed
	local d=$1 pat=$2 root rc
	shift 2
	root=$(fresh_copy vfs)
	iommu_own "$root" claim 12 "$@" >"$SCRATCH/out" 2>&1
	rc=$?
	if [ $rc -eq 2 ] && grep -q -- "$pat" "$SCRATCH/out" && same_tree "$root" "$FIXTURES/vfs" && [ ! -e "$root/run" ]; then
		ok "$d"
	else
		not_ok "$d (rc $rc)" "$(cat "$SCRATCH/out")"
	fi
}
refused_owner "an unknown user is a usage error naming the tree's etc/passwd" "no user 'qemu' in .*/etc/passwd" --owner qemu
refused_owner "an unknown group is a usage error naming the tree's etc/group" "no group 'libvirt' in .*/etc/group" --owner dpdk:libvirt
refused_owner "a mode that is not octal" "mode '0999': expected octal" --mode 0999
refused_owner "a mode with set-ID or sticky bits" "mode '04660'" --mode 04660
refused_owner "an owner that is only a colon" "expected USER, USER:GROUP or :GROUP" --owner :
refused_owner "an empty --owner" "empty USER" --owner ''
root=$(fresh_copy workstation)
iommu_own "$root" claim 8 --owner root >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "no user 'root' in $root/etc/passwd" "$SCRATCH/out" && same_tree "$root" "$FIXTURES/workstation"
verdict "a tree without etc/passwd: even root is unknown there, the host's accounts are never used for a tree (rc $rc)"

# ---- the claim, its record, the nodes every consumer shares -------------------------
root=$(fresh_copy vfs)
shared_before=$(attrs "$root/dev/vfio/vfio" "$root/dev/iommu")
iommu_own "$root" claim 12 --owner libvirt-qemu:kvm --mode 0660 -J >"$SCRATCH/json" 2>"$SCRATCH/err"
rc=$?
# shellcheck disable=SC2046
got=$(attrs $(nodes_of "$root" 12 $NIC))
"$JSONCHECK" <"$SCRATCH/json" && [ $rc -eq 0 ] && [ "$got" = "64055:104 660 64055:104 660 " ] &&
	[ "$(attrs "$root/dev/vfio/vfio" "$root/dev/iommu")" = "$shared_before" ] &&
	grep -q '"interface": "both"' "$SCRATCH/json" && grep -q '"/dev/iommu"' "$SCRATCH/json" &&
	grep -q '"owner": "libvirt-qemu"' "$SCRATCH/json" &&
	tr -d ' \n' <"$root/run/iommu-own/group-12.json" | grep -q '"owner":{"uid":64055,"gid":104,"mode":432,"before":{"uid":0,"gid":0,"mode":384}}'
verdict "claim --owner --mode: the group's own nodes handed off, /dev/vfio/vfio and /dev/iommu untouched, the record keeps what they were, -J names the consumer's nodes (rc $rc)"

iommu_own "$root" list -r -n -o GROUP,OWNER,MODE 12 >"$SCRATCH/out" 2>&1
iommu_own "$root" list -J 12 >"$SCRATCH/json" 2>&1
read -r g owner mode <"$SCRATCH/out"
[ "$g $owner $mode" = "12 libvirt-qemu:kvm 0660" ] && "$JSONCHECK" <"$SCRATCH/json" &&
	tr -d ' \n' <"$SCRATCH/json" | grep -q '"consumer":{"interface":"both","nodes":\["/dev/vfio/vfio","/dev/vfio/12","/dev/vfio/devices/vfio[0-9]*","/dev/iommu"\],"owner":"libvirt-qemu","owner_group":"kvm","mode":"0660","users":\[\]}'
verdict "list -o +OWNER,MODE and list -J's consumer: the nodes to pass, the interfaces (group and cdev), owner and mode"

# The interfaces as the tree has them: only the group's file, only the cdev, no VFIO node at all.
r1=$(fresh_copy vfs) r2=$(fresh_copy vfs)
rm -rf "$r1/dev/vfio/devices" "$r1/dev/iommu"
iommu_own "$r1" claim 12 >/dev/null 2>&1
iommu_own "$r2" claim 12 >/dev/null 2>&1
rm -f "$r2/dev/vfio/12"
i1=$(iommu_own "$r1" list -J 12 | tr -d ' \n' | grep -o '"consumer":{"interface":"[a-z]*","nodes":\[[^]]*\]')
i2=$(iommu_own "$r2" list -J 12 | tr -d ' \n' | grep -o '"consumer":{"interface":"[a-z]*","nodes":\[[^]]*\]')
i3=$(iommu_own "$FIXTURES/vfs" list -J 12 | tr -d ' \n' | grep -o '"consumer":null')
[ "$i1" = '"consumer":{"interface":"group","nodes":["/dev/vfio/vfio","/dev/vfio/12"]' ] &&
	[ "${i2%vfio[0-9]*\",\"/dev/iommu\"]}" = '"consumer":{"interface":"cdev","nodes":["/dev/vfio/devices/' ] &&
	[ "$i3" = '"consumer":null' ]
verdict "the consumer's interface: group (no cdevs: a kernel without iommufd), cdev (no group file: a kernel without the group interface), null off VFIO"

# One listing of several consumers: each group its own owner (names are looked up once
# per ID, never carried from one group to the next; USER alone keeps the group) and its own cdev.
root=$(fresh_copy vfs)
iommu_own "$root" claim 12 --owner libvirt-qemu:kvm --mode 0660 >"$SCRATCH/out" 2>&1 &&
	iommu_own "$root" claim 6 --owner dpdk --mode 0640 >>"$SCRATCH/out" 2>&1 &&
	iommu_own "$root" claim 2 >>"$SCRATCH/out" 2>&1
rc=$?
iommu_own "$root" list -J | tr -d ' \n' | grep -o '"group":[0-9]*,"state":"[a-z]*","viable":[a-z]*,"type":"[^"]*","consumer":{[^}]*}' |
	sed 's/"viable":[a-z]*,"type":"[^"]*",//; s,"/dev/vfio/devices/vfio[0-9]*","/dev/vfio/devices/CDEV",' >"$SCRATCH/consumers"
cat >"$SCRATCH/want" <<'WANT'
"group":2,"state":"user","consumer":{"interface":"both","nodes":["/dev/vfio/vfio","/dev/vfio/2","/dev/vfio/devices/CDEV","/dev/iommu"],"owner":"root","owner_group":"root","mode":"0600","users":[]}
"group":6,"state":"user","consumer":{"interface":"both","nodes":["/dev/vfio/vfio","/dev/vfio/6","/dev/vfio/devices/CDEV","/dev/iommu"],"owner":"dpdk","owner_group":"root","mode":"0640","users":[]}
"group":12,"state":"user","consumer":{"interface":"both","nodes":["/dev/vfio/vfio","/dev/vfio/12","/dev/vfio/devices/CDEV","/dev/iommu"],"owner":"libvirt-qemu","owner_group":"kvm","mode":"0660","users":[]}
WANT
cdevs=$(grep -o '"/dev/vfio/devices/vfio[0-9]*"' <(iommu_own "$root" list -J) | sort -u | wc -l)
[ $rc -eq 0 ] && diff -u "$SCRATCH/want" "$SCRATCH/consumers" >"$SCRATCH/diff" && [ "$cdevs" -eq 3 ]
verdict "list -J of three consumers: each group its own owner, group and mode, each device its own cdev (rc $rc, $cdevs cdevs)"

# No-IOMMU mode: the group's file is noiommu-N (the kernel's name for it), found from the group's name.
root=$(fresh_copy noiommu-mode)
got=$(iommu_own "$root" list -J 0 2>/dev/null | tr -d ' \n' | grep -o '"consumer":{"interface":"[a-z]*","nodes":\[[^]]*\]')
[ "$got" = '"consumer":{"interface":"group","nodes":["/dev/vfio/vfio","/dev/vfio/noiommu-0"]' ]
verdict "a no-IOMMU group's consumer: its node noiommu-0, not 0"
cp -a "$root/dev/vfio/noiommu-0" "$root/dev/vfio/0" # two nodes no kernel makes: the group's name decides
got=$(iommu_own "$root" list -J 0 2>/dev/null | tr -d ' \n' | grep -o '"consumer":{"interface":"[a-z]*","nodes":\[[^]]*\]')
[ "$got" = '"consumer":{"interface":"group","nodes":["/dev/vfio/vfio","/dev/vfio/noiommu-0"]' ]
verdict "... the group's name decides between noiommu-0 and 0 when a tree has both, as claim --owner does"

# A device's vfio-dev that is not a plain directory: list reads what it can, as it always did
# (a link inside the tree is followed, a file has no cdev).
bad=
for kind in link file; do
	root=$(fresh_copy vfs)
	iommu_own "$root" claim 12 >/dev/null 2>&1
	v=$root/sys/bus/pci/devices/$NIC/vfio-dev
	case $kind in
	link) mv "$v" "$v.real" && ln -s vfio-dev.real "$v" ;;
	file) rm -rf "$v" && echo x >"$v" ;;
	esac
	iommu_own "$root" list -J 12 >"$SCRATCH/out" 2>&1 || bad="$bad $kind:list-J"
	iommu_own "$root" list -r -n -o GROUP,OWNER,MODE 12 >"$SCRATCH/out2" 2>&1 || bad="$bad $kind:list-o"
	case $kind in
	link) grep -q '"/dev/vfio/devices/vfio' "$SCRATCH/out" || bad="$bad link:no-cdev" ;;
	file) ! grep -q '"/dev/vfio/devices/vfio' "$SCRATCH/out" || bad="$bad file:a-cdev" ;;
	esac
done
[ -z "$bad" ]
verdict "list -J and -o OWNER,MODE with a vfio-dev that is a link or a file: listed as before, not refused${bad:+ (not:$bad)}"

# ---- release gives the nodes back; a release rolled back hands them off again ------------
root=$(fresh_copy vfs)
iommu_own "$root" claim 12 --owner libvirt-qemu:kvm --mode 0660 >/dev/null 2>&1
iommu_own "$root" release 12 --dry-run >"$SCRATCH/dry" 2>&1
head -n 3 "$SCRATCH/dry" | grep -q "/dev/vfio/12 \"0:0\"" && sed -n 3p "$SCRATCH/dry" | grep -q '"0600"'
verdict "release puts the nodes' owner and mode back first, before the unbind that takes them away"
claimed=$(mktemp -d "$SCRATCH/claimed.XXXXXX")
cp -a "$root/." "$claimed/"
echo "bind $NIC EIO" >"$root/replay-faults"
iommu_own "$root" release 12 >"$SCRATCH/out" 2>&1
rc=$?
rm -f "$root/replay-faults"
# shellcheck disable=SC2046
got=$(attrs $(nodes_of "$root" 12 $NIC))
[ $rc -eq 1 ] && [ "$got" = "64055:104 660 64055:104 660 " ] && same_tree "$root" "$claimed"
verdict "a release that fails is rolled back: the device on vfio-pci again, its new nodes handed off again (rc $rc, $got)"
iommu_own "$root" release 12 >/dev/null 2>&1 && same_tree "$root" "$FIXTURES/vfs" && [ ! -e "$root/run/iommu-own/group-12.json" ]
verdict "and the release then: the tree as it started"

# ---- a failure at each write, a kill after each: claim --owner, and a hand-off alone ------
bad= points=0
for case in "move" "again"; do
	start=$(fresh_copy vfs)
	[ $case = again ] && iommu_own "$start" claim 12 --owner dpdk --mode 0640 >/dev/null 2>&1
	# shellcheck disable=SC2046
	start_attrs=$(attrs $(nodes_of "$start" 12 $NIC))
	done_tree=$(mktemp -d "$SCRATCH/done.XXXXXX")
	cp -a "$start/." "$done_tree/"
	iommu_own "$done_tree" claim 12 --owner libvirt-qemu:kvm --mode 0660 -J >"$SCRATCH/json" 2>/dev/null
	n=$(grep -c '"rollback"' "$SCRATCH/json") # the writes (nodes have paths too)
	for i in $(seq 1 "$n"); do
		for fault in "write $i EIO" "kill $i"; do
			root=$(mktemp -d "$SCRATCH/f.XXXXXX")
			cp -a "$start/." "$root/"
			echo "$fault" >"$root/replay-faults"
			iommu_own "$root" claim 12 --owner libvirt-qemu:kvm --mode 0660 >"$SCRATCH/out" 2>&1
			rc=$?
			rm -f "$root/replay-faults"
			points=$((points + 1))
			[ "${fault%% *}" = kill ] && iommu_own "$root" recover >>"$SCRATCH/out" 2>&1
			# shellcheck disable=SC2046
			got=$(attrs $(nodes_of "$root" 12 $NIC))
			if [ "${fault%% *}" = write ]; then
				{ [ $rc -eq 1 ] && same_tree "$root" "$start" && [ "$got" = "$start_attrs" ] && no_journal "$root"; } ||
					bad="$bad $case:write$i:$rc:($got)"
			else
				{ no_journal "$root" && { { same_tree "$root" "$start" && [ "$got" = "$start_attrs" ]; } ||
					{ same_tree "$root" "$done_tree" && [ "$got" = "64055:104 660 64055:104 660 " ]; }; }; } ||
					bad="$bad $case:kill$i:($got)"
			fi
			rm -rf "$root"
		done
	done
done
[ -z "$bad" ] && [ "$points" -ge 16 ]
verdict "claim --owner (a move, and a hand-off of a claimed group alone), a failure at each write and a kill after each: the start, owner and mode included, or all done ($points points)${bad:+ (not:$bad)}"

# A kill after the last write: recover finishes the claim, its record keeps what the nodes were.
root=$(fresh_copy vfs)
echo "kill 7" >"$root/replay-faults"
iommu_own "$root" claim 12 --owner dpdk --mode 0660 >/dev/null 2>&1
rm -f "$root/replay-faults"
iommu_own "$root" recover >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "finished the interrupted claim of group 12" "$SCRATCH/out" &&
	tr -d ' \n' <"$root/run/iommu-own/group-12.json" | grep -q '"owner":{"uid":1001,"gid":0,"mode":432,"before":{"uid":0,"gid":0,"mode":384}}' &&
	iommu_own "$root" release 12 --dry-run | sed -n 2p | grep -q '/dev/vfio/12 "0:0"'
verdict "recover finishing a hand-off killed after its last write: the record keeps the nodes' owner and mode before, for release (rc $rc)"

# ---- the replay engine's nodes are plain files --------------------------------------
root=$(fresh_copy vfs)
iommu_own "$root" claim 12 >/dev/null 2>&1
rm -f "$root/dev/vfio/12"
mkfifo "$root/dev/vfio/12"
iommu_own "$root" claim 12 --owner dpdk >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "dev/vfio/12: not a regular file" "$SCRATCH/out" && [ -p "$root/dev/vfio/12" ]
verdict "a FIFO where the group's file should be: the replay engine refuses to change it, the hand-off is rolled back (rc $rc)"

# ---- vfs --claim --owner, and apply's owner and mode -----------------------------------
root=$(fresh_copy vfs)
iommu_own "$root" vfs 0000:05:00.0 2 --claim --owner dpdk:kvm --mode 0660 >"$SCRATCH/out" 2>&1
rc=$?
# shellcheck disable=SC2046
got=$(attrs $(nodes_of "$root" 4 0000:05:00.1) $(nodes_of "$root" 13 0000:05:00.2))
[ $rc -eq 0 ] && [ "$got" = "1001:104 660 1001:104 660 1001:104 660 1001:104 660 " ]
verdict "vfs --claim --owner --mode: every new VF group's nodes handed off in the same move (rc $rc)"
iommu_own "$root" vfs 0000:05:00.0 0 --owner dpdk >"$SCRATCH/out" 2>&1
[ $? -eq 2 ] && grep -q "they go with --claim" "$SCRATCH/out"
verdict "vfs --owner without --claim is a usage error"

root=$(fresh_copy vfs)
mkdir -p "$root/etc/iommu-own"
printf '[device %s]\nid = 8086:10d3\nowner = libvirt-qemu:kvm\nmode = 0660\n' $NIC >"$root/etc/iommu-own/iommu-own.conf"
iommu_own "$root" apply -J >"$SCRATCH/j1" 2>&1
rc1=$?
iommu_own "$root" apply -J >"$SCRATCH/j2" 2>&1
rc2=$?
chmod 0600 "$root/dev/vfio/12"
iommu_own "$root" apply -J >"$SCRATCH/j3" 2>&1
rc3=$?
# shellcheck disable=SC2046
got=$(attrs $(nodes_of "$root" 12 $NIC))
[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && grep -q '"changed": false' "$SCRATCH/j2" && [ $rc3 -eq 0 ] &&
	grep -q '"changed": true' "$SCRATCH/j3" && [ "$(grep -c '"rollback"' "$SCRATCH/j3")" = 1 ] &&
	[ "$got" = "64055:104 660 64055:104 660 " ]
verdict "apply with owner and mode: the group claimed and handed off, converged the second time, a node's mode changed by hand set back with one write (rc $rc1, $rc2, $rc3)"
bad=
for kv in "owner = -x" "owner = a:b:c" "owner = :" "owner = a b" "mode = 888" "mode = 01660" "mode = rw"; do
	printf '[device %s]\nid = 8086:10d3\n%s\n' $NIC "$kv" >"$SCRATCH/bad.conf"
	"$IOMMU_OWN" check --conf "$SCRATCH/bad.conf" --syntax >"$SCRATCH/out" 2>&1
	[ $? -eq 2 ] && grep -q "bad.conf:3:" "$SCRATCH/out" || bad="$bad '$kv'"
done
root=$(fresh_copy vfs)
mkdir -p "$root/etc/iommu-own"
printf '[device %s]\nid = 8086:10d3\nowner = qemu\n' $NIC >"$root/etc/iommu-own/iommu-own.conf"
iommu_own "$root" apply >"$SCRATCH/out" 2>&1
rc=$?
[ -z "$bad" ] && [ $rc -eq 2 ] && grep -q "iommu-own.conf:1: \[device $NIC\]" "$SCRATCH/out" && same_tree "$root" "$FIXTURES/vfs"
verdict "a declaration's owner or mode that is no value is an error naming FILE:LINE; an unknown user stops apply with exit 2, nothing changed${bad:+ (not:$bad)}"

# ---- iommufd: a device's cdev held is the group in use, as its file held is -------------
root=$(fresh_copy vfs)
iommu_own "$root" claim 12 >/dev/null 2>&1
cdev=$(ls "$root/sys/bus/pci/devices/$NIC/vfio-dev")
mkdir -p "$root/proc/5151/fd"
echo dpdk-testpmd >"$root/proc/5151/comm"
ln -s "/dev/vfio/devices/$cdev" "$root/proc/5151/fd/9"
ln -s /dev/iommu "$root/proc/5151/fd/8"
cp -a "$root" "$SCRATCH/held"
iommu_own "$root" release 12 >"$SCRATCH/out" 2>&1
rc=$?
iommu_own "$root" list -J 12 >"$SCRATCH/json" 2>&1
[ $rc -eq 1 ] && grep -q "process 5151 (dpdk-testpmd) holds /dev/vfio/devices/$cdev ($NIC) open (in-use; cannot be forced)" "$SCRATCH/out" &&
	same_tree "$root" "$SCRATCH/held" &&
	tr -d ' \n' <"$SCRATCH/json" | grep -q "\"users\":\[{\"pid\":5151,\"command\":\"dpdk-testpmd\",\"node\":\"/dev/vfio/devices/$cdev\"}\]"
verdict "a process holding a device's VFIO cdev (iommufd): release refused naming it, nothing written; list -J names it among the group's users (rc $rc)"
rm -rf "$SCRATCH/held"
iommu_own "$FIXTURES/vfs" list -J 12 | tr -d ' \n' | grep -q '"consumer":null' &&
	iommu_own "$root" list -J 12 >/dev/null && rm -r "$root/proc/5151" &&
	iommu_own "$root" list -J 12 | tr -d ' \n' | grep -q '"users":\[\]'
verdict "no user: an empty users list; no VFIO node: no consumer at all"

# The replay engine: a device whose cdev is opened mid-claim cannot be unbound
# (the kernel would block), nor can a kernel driver bind into its group
# (iommufd owns its DMA): exit 3; recover refuses while it is held, then rolls back.
root=$(fresh_copy acs)
GPU=sys/bus/pci/devices/0000:02:00.0
printf 'delay 5 4000\nwrite 6 EIO\n' >"$root/replay-faults"
iommu_own "$root" claim 3 >"$SCRATCH/out" 2>&1 &
pid=$!
if wait_for bound_to "$root/$GPU" vfio-pci; then
	mkdir -p "$root/proc/4747/fd"
	echo qemu-system-x86 >"$root/proc/4747/comm"
	ln -s "/dev/vfio/devices/$(ls "$root/$GPU/vfio-dev")" "$root/proc/4747/fd/31"
fi
wait $pid
rc=$?
rm -f "$root/replay-faults"
iommu_own "$root" recover >"$SCRATCH/out2" 2>&1
rc2=$?
[ $rc -eq 3 ] && grep -q "the rollback's write .*/vfio-pci/unbind \"0000:02:00.0\" failed: .*(EBUSY)" "$SCRATCH/out" &&
	bound_to "$root/$GPU" vfio-pci && [ $rc2 -eq 1 ] &&
	grep -q "process 4747 (qemu-system-x86) holds /dev/vfio/devices/vfio[0-9]* (0000:02:00.0) open" "$SCRATCH/out2"
verdict "replay: a cdev opened mid-claim blocks the rollback's unbind (EBUSY, exit 3), and recover refuses while it is held (rc $rc, $rc2)"
rm -r "$root/proc/4747"
iommu_own "$root" recover >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && same_tree "$root" "$FIXTURES/acs"
verdict "once the process let go, recover rolls the claim back (rc $rc)"

tap_done
