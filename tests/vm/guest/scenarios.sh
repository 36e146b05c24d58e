# The guest's scenarios (busybox sh), sourced by /init after lib.sh.
# Each scenario_NAME prints one or more RESULT lines; the host knows which
# names to expect from each run (tests/vm/run.sh) and fails the missing ones.
#
# The devices come from the QEMU command line of tests/vm/run.sh:
NIC_A=0000:02:01.0 # e1000 behind the PCIe-to-PCI bridge 0000:01:00.0,
NIC_B=0000:02:02.0 # e1000 beside it: one group of three
RP_NIC=0000:03:00.0 # e1000e on a root port
NVME=0000:04:00.0   # nvme on a root port (an SR-IOV PF in the replay run)
MF0=0000:06:00.0    # function 0 (e1000e) and 1 (ich9-intel-hda) of one
MF1=0000:06:00.1    # multifunction device on a root port: one group
RC_NIC=0000:00:07.0 # e1000 on the root complex
LPC=0000:00:1f.0    # ICH9 LPC: with SATA and SMBus, the chipset group

need_devices() {
	for _d in "$@"; do
		[ -e "$SYSPCI/$_d" ] || { echo "device $_d is missing: the topology is not the one the scenarios expect"; return 1; }
	done
}

# Every device of the group where it was: compares group_state before/after.
same_state() { [ "$1" = "$2" ]; }

# ---------------------------------------------------------------------------
# 1. audit: list --json's viability against VFIO_GROUP_GET_STATUS, for every
# group, in kernel, mixed, free-with-VFIO and user states.

# audit_compare LABEL [GROUP=STATE ...]: every group agrees with the kernel;
# the groups named must also be in the state given. Sets $bad, $asked.
audit_compare() {
	local _label=$1 _own _g _k _line _state _viable _want _s _got
	shift
	bad= asked=0
	_own=$(own_groups)
	log "audit $_label: iommu-own says:"
	echo "$_own" | sed 's/^/#   /'
	for _g in $(all_groups); do
		_k=$(kernel_viable "$_g")
		_line=$(echo "$_own" | awk -v g="$_g" '$1 == g')
		if [ -z "$_line" ]; then
			bad="$bad group$_g:missing-from-json"
			continue
		fi
		_state=$(echo "$_line" | cut -d' ' -f2)
		_viable=$(echo "$_line" | cut -d' ' -f3)
		log "group $_g kernel=$_k iommu-own=$_state/$_viable"
		case $_k in
		viable)
			asked=$((asked + 1))
			[ "$_viable" = true ] || bad="$bad group$_g:kernel=viable,iommu-own=$_state/$_viable"
			;;
		not-viable)
			asked=$((asked + 1))
			[ "$_viable" = false ] || bad="$bad group$_g:kernel=not-viable,iommu-own=$_state/$_viable"
			;;
		absent)
			# no device of the group is on VFIO: the kernel has no VFIO file
			# to ask; iommu-own must not see a VFIO device either
			case $_state in kernel | free) ;; *) bad="$bad group$_g:no-VFIO-file,iommu-own=$_state" ;; esac
			;;
		*) bad="$bad group$_g:vfio-viable:$_k" ;;
		esac
	done
	for _want; do
		_g=${_want%%=*} _s=${_want#*=}
		_got=$(echo "$_own" | awk -v g="$_g" '$1 == g { print $2 }')
		[ "$_got" = "$_s" ] || bad="$bad group$_g:expected-$_s,got-$_got"
	done
}

audit_result() {
	if [ -z "$bad" ]; then
		result "$1" pass "$asked groups asked of the kernel, all agree $2"
	else
		result "$1" fail "disagreements:$bad"
	fi
}

scenario_audit() {
	if ! _m=$(need_devices $NIC_A $NIC_B $MF0 $MF1); then
		for _n in audit-kernel audit-mixed audit-free audit-user; do result $_n fail "$_m"; done
		return
	fi
	_gb=$(dev_group $NIC_A) _gm=$(dev_group $MF0)

	audit_compare boot "$_gb=kernel" "$_gm=kernel"
	audit_result audit-kernel "(as booted: no VFIO file, none claimed)"

	# mixed: one NIC behind the bridge and the audio function on vfio-pci by hand
	bind_by_hand $NIC_A vfio-pci
	bind_by_hand $MF1 vfio-pci
	audit_compare mixed "$_gb=mixed" "$_gm=mixed"
	[ "$asked" -ge 2 ] || bad="$bad only-$asked-groups-asked"
	audit_result audit-mixed "(groups $_gb and $_gm mixed, VFIO says not viable)"

	# free of kernel DMA: the sibling NIC on pci-stub, the other function unbound
	# (an override no driver has keeps it so)
	bind_by_hand $NIC_B pci-stub
	echo vmtest-nodriver >"$SYSPCI/$MF0/driver_override"
	echo $MF0 >"$SYSPCI/$MF0/driver/unbind"
	audit_compare free "$_gb=user" "$_gm=user"
	[ "$asked" -ge 2 ] || bad="$bad only-$asked-groups-asked"
	audit_result audit-free "(vfio-pci beside pci-stub and an unbound device: viable)"

	for _d in $NIC_A $NIC_B $MF0 $MF1; do unbind_by_hand $_d; done

	# user: every claimable group claimed by iommu-own
	_claimed= bad_claim=
	for _g in $(all_groups); do
		group_claimable "$_g" || continue
		run iommu-own claim "$_g"
		if [ $rc = 0 ]; then _claimed="$_claimed $_g"; else bad_claim="$bad_claim group$_g:claim-exit-$rc"; fi
	done
	_want=
	for _g in $_claimed; do _want="$_want $_g=user"; done
	# shellcheck disable=SC2086
	audit_compare user $_want
	bad="$bad$bad_claim"
	audit_result audit-user "(every claimable group claimed:$_claimed)"
	for _g in $_claimed; do run iommu-own release "$_g"; done
}

# ---------------------------------------------------------------------------
# 2. claim and release of every claimable group; overrides set beforehand
# (one naming the bound driver, one naming another driver) must come back.

# check_claimed GROUP: every endpoint on vfio-pci with the override, bridges
# as they were (given in $2), the kernel says viable, iommu-own says user.
check_claimed() {
	_g=$1 _before=$2 _why=
	for _d in $(group_devices "$_g"); do
		if [ "$(dev_header "$_d")" = 0 ]; then
			[ "$(dev_driver "$_d")" = vfio-pci ] || _why="$_why $_d:driver=$(dev_driver "$_d")"
			[ "$(dev_override "$_d")" = vfio-pci ] || _why="$_why $_d:override=$(dev_override "$_d")"
		else
			_was=$(echo "$_before" | awk -v d="$_d" '$1 == d')
			[ "$_was" = "$_d $(dev_driver "$_d") $(dev_override "$_d")" ] || _why="$_why bridge-$_d-changed"
		fi
	done
	_k=$(kernel_viable "$_g")
	[ "$_k" = viable ] || _why="$_why kernel:$_k"
	_o=$(own_groups | awk -v g="$_g" '$1 == g { print $2 "/" $3 }')
	[ "$_o" = user/true ] || _why="$_why iommu-own:$_o"
	echo "$_why"
}

scenario_claim_release() {
	if ! _m=$(need_devices $RP_NIC $RC_NIC); then
		result claim-release fail "$_m"
		result claim-unclaimable fail "$_m"
		return
	fi
	# an override naming the bound driver, and one naming another driver
	echo e1000e >"$SYSPCI/$RP_NIC/driver_override"
	echo pci-stub >"$SYSPCI/$RC_NIC/driver_override"
	_done= _bad= _refused= _badref=
	for _g in $(all_groups); do
		_before=$(group_state "$_g")
		if ! group_claimable "$_g"; then
			run iommu-own claim "$_g"
			_after=$(group_state "$_g")
			if [ $rc = 1 ] && same_state "$_before" "$_after" && [ "$(kernel_viable "$_g")" = absent ]; then
				_refused="$_refused $_g"
			else
				_badref="$_badref group$_g:exit-$rc"
				same_state "$_before" "$_after" || _badref="$_badref,changed"
			fi
			continue
		fi
		log "group $_g before:"
		echo "$_before" | sed 's/^/#   /'
		run iommu-own claim "$_g"
		if [ $rc != 0 ]; then
			_bad="$_bad group$_g:claim-exit-$rc"
			continue
		fi
		_why=$(check_claimed "$_g" "$_before")
		[ -z "$_why" ] || _bad="$_bad group$_g:after-claim:$_why"
		run iommu-own release "$_g"
		[ $rc = 0 ] || _bad="$_bad group$_g:release-exit-$rc"
		_after=$(group_state "$_g")
		if ! same_state "$_before" "$_after"; then
			log "group $_g after release:"
			echo "$_after" | sed 's/^/#   /'
			_bad="$_bad group$_g:not-restored:$(echo "$_after" | tr '\n' ';')"
		fi
		_k=$(kernel_viable "$_g")
		[ "$_k" = absent ] || _bad="$_bad group$_g:after-release-kernel:$_k"
		_done="$_done $_g"
	done
	[ -n "$_done" ] || _bad="$_bad nothing-claimed"
	if [ -z "$_bad" ]; then
		result claim-release pass "groups$_done claimed (kernel: viable) and released back, overrides of $RP_NIC and $RC_NIC included"
	else
		result claim-release fail "$_bad"
	fi
	if [ -z "$_badref" ] && [ -n "$_refused" ]; then
		result claim-unclaimable pass "groups$_refused (chipset, ports and bridges only) not claimed, exit 1, nothing changed"
	else
		result claim-unclaimable fail "${_badref:- no unclaimable group}"
	fi
	echo >"$SYSPCI/$RP_NIC/driver_override"
	echo >"$SYSPCI/$RC_NIC/driver_override"
}

# ---------------------------------------------------------------------------
# 3. release refused while a process holds /dev/vfio/N open

scenario_release_busy() {
	if ! _m=$(need_devices $RP_NIC); then result release-busy fail "$_m"; return; fi
	_g=$(dev_group $RP_NIC)
	run iommu-own claim "$_g"
	if [ $rc != 0 ]; then result release-busy fail "claim of group $_g: exit $rc"; return; fi
	vfio-viable --hold "$_g" >/tmp/hold.out 2>&1 &
	_hp=$!
	_i=0
	while ! grep -q holding /tmp/hold.out && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	log "holder: $(cat /tmp/hold.out)"
	_why=
	run iommu-own release "$_g"
	[ $rc = 1 ] || _why="$_why held:exit-$rc"
	case $out in *"$_hp"*) ;; *) _why="$_why held:no-pid-$_hp-in-message" ;; esac
	[ "$(dev_driver $RP_NIC)" = vfio-pci ] || _why="$_why held:moved-to-$(dev_driver $RP_NIC)"
	_msg=$(echo "$out" | head -n 3 | tr '\n' ' ')
	kill $_hp
	wait $_hp 2>/dev/null
	run iommu-own release "$_g"
	[ $rc = 0 ] || _why="$_why after-exit:exit-$rc"
	[ "$(dev_driver $RP_NIC)" = e1000e ] || _why="$_why after-exit:driver-$(dev_driver $RP_NIC)"
	if [ -z "$_why" ]; then
		result release-busy pass "group $_g: refused while PID $_hp held it ($_msg), released once it exited"
	else
		result release-busy fail "group $_g:$_why"
	fi
}

# ---------------------------------------------------------------------------
# 4. claim killed with SIGKILL at varied points, then recover: all or none

# all_or_none GROUP BEFORE: prints "all", "none" or why neither
all_or_none() {
	_g=$1 _before=$2 _on=0 _off=0 _why=
	for _d in $(group_devices "$_g"); do
		[ "$(dev_header "$_d")" = 0 ] || continue
		_was=$(echo "$_before" | awk -v d="$_d" '$1 == d')
		_now="$_d $(dev_driver "$_d") $(dev_override "$_d")"
		if [ "$_now" = "$_d vfio-pci vfio-pci" ]; then
			_on=$((_on + 1))
		elif [ "$_now" = "$_was" ]; then
			_off=$((_off + 1))
		else
			_why="$_why $_now(was:$_was)"
		fi
	done
	_k=$(kernel_viable "$_g")
	_o=$(own_groups | awk -v g="$_g" '$1 == g { print $2 "/" $3 }')
	if [ -n "$_why" ]; then
		echo "neither:$_why"
	elif [ $_off = 0 ] && [ "$_k" = viable ] && [ "$_o" = user/true ]; then
		echo all
	elif [ $_on = 0 ] && [ "$_k" = absent ] && [ "$_o" = kernel/false ]; then
		echo none
	else
		echo "split:on=$_on,off=$_off,kernel=$_k,iommu-own=$_o"
	fi
}

scenario_kill_recover() {
	if ! _m=$(need_devices $NIC_A $MF0); then result kill-recover fail "$_m"; return; fi
	_bad= _n=0 _outcomes=
	for _dev in $NIC_A $MF0; do
		_g=$(dev_group $_dev)
		_before=$(group_state "$_g")
		# how long a whole claim takes here, to spread the kills over it
		_t0=$(uptime_s)
		run iommu-own claim "$_g"
		_t1=$(uptime_s)
		run iommu-own release "$_g"
		_ms=$(echo "$_t0 $_t1" | awk '{ printf "%d", ($2 - $1) * 1000 }')
		[ "$_ms" -ge 20 ] || _ms=20
		log "group $_g: a claim takes about $_ms ms"
		for _k in 0 1 2 3 4 5 6 7 8 9 10 11 12; do
			_us=$((_ms * 1000 * _k / 10))
			iommu-own claim "$_g" >/tmp/kill.out 2>&1 &
			_p=$!
			usleep $_us
			kill -9 $_p 2>/dev/null
			wait $_p
			_st=$?
			_journal=no
			[ -f /run/iommu-own/journal.json ] && _journal=yes
			run iommu-own recover --json
			_res=$(echo "$out" | sed -n 's/.*"result": "\([^"]*\)".*/\1/p' | head -n 1)
			[ $rc = 0 ] || _bad="$_bad group$_g@${_us}us:recover-exit-$rc"
			[ ! -f /run/iommu-own/journal.json ] || _bad="$_bad group$_g@${_us}us:journal-left"
			_v=$(all_or_none "$_g" "$_before")
			log "group $_g kill after ${_us}us: claim status $_st, journal $_journal, recover $_res -> $_v"
			_n=$((_n + 1))
			case $_v in
			all)
				run iommu-own release "$_g"
				[ $rc = 0 ] || _bad="$_bad group$_g@${_us}us:release-exit-$rc"
				;;
			none) ;;
			*) _bad="$_bad group$_g@${_us}us:$_v" ;;
			esac
			_after=$(group_state "$_g")
			same_state "$_before" "$_after" || { _bad="$_bad group$_g@${_us}us:not-back"; break; }
			_outcomes="$_outcomes $_st/$_res/$_v"
		done
	done
	# how the kills landed: killed (137) mid-move with a journal to finish or
	# roll back, killed before the journal, or too late (exit 0)
	_mid=$(echo "$_outcomes" | tr ' ' '\n' | grep -c -e '^137/finished' -e '^137/rolled-back')
	_summary=$(echo "$_outcomes" | tr ' ' '\n' | grep . | sort | uniq -c | awk '{ printf " %s x%s", $2, $1 }')
	[ "$_mid" -ge 1 ] || _bad="$_bad no-kill-landed-mid-move"
	if [ -z "$_bad" ]; then
		result kill-recover pass "$_n kills, $_mid mid-move; all-or-none every time (status/recover/end:$_summary)"
	else
		result kill-recover fail "$_bad (outcomes:$_summary)"
	fi
}

# ---------------------------------------------------------------------------
# 5. the chipset group is refused without --force=chipset

scenario_chipset() {
	if ! _m=$(need_devices $LPC); then result chipset-refused fail "$_m"; result chipset-forced fail "$_m"; return; fi
	_g=$(dev_group $LPC)
	_before=$(group_state "$_g")
	_why=
	run iommu-own claim --json "$_g"
	[ $rc = 1 ] || _why="$_why exit-$rc"
	echo "$out" | grep -q '"code": "chipset"' || _why="$_why no-chipset-refusal"
	echo "$out" | grep -q '"result": "refused"' || _why="$_why result-not-refused"
	same_state "$_before" "$(group_state "$_g")" || _why="$_why state-changed"
	_k=$(kernel_viable "$_g")
	[ "$_k" = absent ] || _why="$_why kernel:$_k"
	if [ -z "$_why" ]; then
		result chipset-refused pass "group $_g ($(group_devices "$_g" | tr '\n' ' ')) refused with code chipset, exit 1, nothing changed"
	else
		result chipset-refused fail "group $_g:$_why"
	fi
	# with the override it moves, and comes back
	_why=
	run iommu-own claim --force=chipset "$_g"
	[ $rc = 0 ] || _why="$_why claim-exit-$rc"
	_c=$(check_claimed "$_g" "$_before")
	[ -z "$_c" ] || _why="$_why after-claim:$_c"
	run iommu-own release "$_g"
	[ $rc = 0 ] || _why="$_why release-exit-$rc"
	same_state "$_before" "$(group_state "$_g")" || _why="$_why not-restored:$(group_state "$_g" | tr '\n' ';')"
	if [ -z "$_why" ]; then
		result chipset-forced pass "group $_g claimed with --force=chipset (kernel: viable) and released back"
	else
		result chipset-forced fail "group $_g:$_why"
	fi
}

# ---------------------------------------------------------------------------
# 6. differential replay: snapshots before and after live operations, for
# the host to replay on the first with --sysroot (tests/vm/replay.sh)

OUT=/tmp/replay

# snap NAME: the live system as a sysroot, and a copy of the state directory
snap() {
	run iommu-own snapshot "$OUT/$1.sysroot"
	[ $rc = 0 ] || { echo "$1: iommu-own snapshot: exit $rc: $(echo "$out" | head -n 2)" >>"$OUT/errors"; return 1; }
	mkdir -p "$OUT/$1.state"
	cp -a /run/iommu-own/. "$OUT/$1.state/" 2>/dev/null
	return 0
}

# live OP NAME ARGS...: before snapshot, the operation, after snapshot
live() {
	_name=$1
	shift
	snap "$_name.before" || return 1
	run iommu-own "$@" --json
	echo "$rc" >"$OUT/$_name.rc"
	echo "$*" >"$OUT/$_name.cmd"
	echo "$out" >"$OUT/$_name.json"
	snap "$_name.after"
}

scenario_replay() {
	_names="replay-claim replay-release replay-fail"
	if ! _m=$(iommu-own snapshot --help 2>&1); then
		_m=$(echo "$_m" | head -n 1)
		for _n in $_names; do
			result $_n fail "iommu-own snapshot is not in this binary ('iommu-own snapshot --help': $_m): cannot capture the guest"
		done
		return
	fi
	if ! _m=$(need_devices $NIC_A $NVME); then
		for _n in $_names; do result $_n fail "$_m"; done
		return
	fi
	rm -rf "$OUT"
	mkdir -p "$OUT"
	_gb=$(dev_group $NIC_A) _gn=$(dev_group $NVME)
	# an override naming another driver, to be restored by the release
	echo pci-stub >"$SYSPCI/$NIC_B/driver_override"
	live claim claim "$_gb"
	live release release "$_gb"
	# a claim the kernel fails: vfio-pci refuses a PF with VFs enabled (EBUSY)
	echo 1 >"$SYSPCI/$NVME/sriov_numvfs" || echo "cannot enable a VF on $NVME" >>"$OUT/errors"
	log "after enabling a VF: $(ls $SYSPCI | tr '\n' ' ')"
	live fail claim --force=sriov-pf "$_gn"
	echo 0 >"$SYSPCI/$NVME/sriov_numvfs"
	echo >"$SYSPCI/$NIC_B/driver_override"
	# to the host, over the second serial port
	(cd "$OUT" && tar -czf - .) >/tmp/replay.tgz
	log "replay data: $(wc -c </tmp/replay.tgz) bytes"
	stty -F /dev/ttyS1 raw -echo 2>/dev/null
	{
		echo "VMTEST-DATA-BEGIN"
		base64 </tmp/replay.tgz
		echo "VMTEST-DATA-END"
	} >/dev/ttyS1
	# the verdicts are the host's
	echo "REPLAY-DATA $(wc -c </tmp/replay.tgz)"
}
