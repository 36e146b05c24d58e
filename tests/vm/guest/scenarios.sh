# The guest's scenarios (busybox sh), sourced by /init after lib.sh.
# Each scenario_NAME prints one or more RESULT lines; the host knows which
# names to expect from each run (tests/vm/run.sh) and fails the missing ones.
#
# The devices come from the QEMU command line of tests/vm/run.sh:
NIC_A=0000:02:01.0 # e1000 behind the PCIe-to-PCI bridge 0000:01:00.0,
NIC_B=0000:02:02.0 # e1000 beside it: one group of three
RP_NIC=0000:03:00.0 # e1000e on a root port
NVME=0000:04:00.0   # nvme on a root port, in an NVMe subsystem, SR-IOV capable
NVME2=0000:07:00.0  # nvme on a root port, alone
XHCI=0000:05:00.0   # qemu-xhci on a root port
MF0=0000:06:00.0    # function 0 (e1000e) and 1 (ich9-intel-hda) of one
MF1=0000:06:00.1    # multifunction device on a root port: one group
RC_NIC=0000:00:07.0 # e1000 on the root complex
LPC=0000:00:1f.0    # ICH9 LPC: with SATA and SMBus, the chipset group
SMBUS=0000:00:1f.3

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
	bad='' asked=0
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

# ids_compare: each PCI device's vendor:device and class as iommu-own shows
# them (read from uevent) against the kernel's vendor, device and class
# attributes; prints the devices that differ.
ids_compare() {
	local _d _want _wc
	iommu-own list -r -n -o DEVICE,ID >/tmp/ids.own
	iommu-own list --json | awk -F'"' '$2 == "address" { a = $4 } $2 == "class" { print a, $4 }' >/tmp/class.own
	for _d in $(ls "$SYSPCI"); do
		_want="$_d $(cut -c3-6 "$SYSPCI/$_d/vendor"):$(cut -c3-6 "$SYSPCI/$_d/device")"
		grep -qx "$_want" /tmp/ids.own || echo "$_d:id"
		_wc="$_d $(cut -c3-6 "$SYSPCI/$_d/class")"
		grep -qx "$_wc" /tmp/class.own || echo "$_d:class"
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
	if ! _m=$(need_devices $NIC_A $NIC_B $MF0 $MF1 $SMBUS); then
		for _n in audit-kernel audit-mixed audit-free audit-user; do result $_n fail "$_m"; done
		return
	fi
	_gb=$(dev_group $NIC_A) _gm=$(dev_group $MF0) _gc=$(dev_group $SMBUS)

	audit_compare boot "$_gb=kernel" "$_gm=kernel"
	_cm=$(check_mixed | tr '\n' ' ')
	[ -z "$_cm" ] || bad="$bad check-mixed-group:[$_cm]"
	_ids=$(ids_compare | tr '\n' ' ')
	[ -z "$_ids" ] || bad="$bad ids-differ-from-attributes:[$_ids]"
	[ "$(wc -l </tmp/ids.own)" -ge 10 ] || bad="$bad only-$(wc -l </tmp/ids.own)-devices-listed"
	audit_result audit-kernel "(as booted: no VFIO file, none claimed; IDs and class of every device as in its attributes)"

	# mixed: one NIC behind the bridge and the audio function on vfio-pci by hand
	# (and the SMBus function of the chipset group, beside LPC and SATA)
	bind_by_hand $NIC_A vfio-pci
	bind_by_hand $MF1 vfio-pci
	bind_by_hand $SMBUS vfio-pci
	audit_compare mixed "$_gb=mixed" "$_gm=mixed" "$_gc=mixed"
	[ "$asked" -ge 3 ] || bad="$bad only-$asked-groups-asked"
	# and check reports exactly those as mixed-group (exit status 1: errors)
	_cm=$(check_mixed | tr '\n' ' ')
	_want=$(printf '%s\n' "$_gb" "$_gm" "$_gc" | sort -n | tr '\n' ' ')
	[ "$_cm" = "$_want" ] || bad="$bad check-mixed-group:[$_cm]-expected-[$_want]"
	run iommu-own check
	[ "$rc" = 1 ] || bad="$bad check-exit-$rc"
	audit_result audit-mixed "(groups $_gb, $_gm and $_gc mixed, VFIO says not viable)"
	unbind_by_hand $SMBUS

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
	_claimed='' bad_claim=
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
	_done='' _bad='' _refused='' _badref=
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

	# Another root whose sys is the live sysfs: one kernel, one lock and record
	# (/run/iommu-own), whichever root a command names.
	_g=$(dev_group $RP_NIC)
	mkdir -p /mnt/r/sys /mnt/r/proc
	mount -t sysfs sysfs /mnt/r/sys && mount -t proc proc /mnt/r/proc
	run iommu-own --sysroot /mnt/r claim "$_g"
	[ $rc = 0 ] || _bad="$_bad other-root:claim-exit-$rc"
	[ -f /run/iommu-own/group-$_g.json ] || _bad="$_bad other-root:no-record-in-/run/iommu-own"
	[ ! -e /mnt/r/run ] || _bad="$_bad other-root:state-under-the-root"
	run iommu-own release "$_g"
	[ $rc = 0 ] && [ "$(dev_driver $RP_NIC)" = e1000e ] || _bad="$_bad other-root:release-exit-$rc-driver-$(dev_driver $RP_NIC)"
	# a journal naming /mnt/r, as versions before 2026-11-25 wrote one for a
	# claim under it, interrupted before its first write: recover from /
	# takes it as this kernel's and rolls it back (nothing to undo)
	claim_journal "$_g" $RP_NIC e1000e /mnt/r
	run iommu-own recover --json
	case $out in *'"result": "rolled-back"'*) ;; *) _bad="$_bad old-journal:recover-exit-$rc:$(echo "$out" | grep -m 1 -e result -e error)" ;; esac
	[ $rc = 0 ] && [ ! -e /run/iommu-own/journal.json ] && [ "$(dev_driver $RP_NIC)" = e1000e ] ||
		_bad="$_bad old-journal:exit-$rc-driver-$(dev_driver $RP_NIC)"
	umount /mnt/r/proc /mnt/r/sys
	if [ -z "$_bad" ]; then
		result claim-release pass "groups$_done claimed (kernel: viable) and released back, overrides of $RP_NIC and $RC_NIC included; a claim under another root of the same kernel shares its state, and a journal naming that root is recovered from /"
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
	hold_group "$_g"
	_why=
	run iommu-own release "$_g"
	[ $rc = 1 ] || _why="$_why held:exit-$rc"
	case $out in *"$_hp"*) ;; *) _why="$_why held:no-pid-$_hp-in-message" ;; esac
	[ "$(dev_driver $RP_NIC)" = vfio-pci ] || _why="$_why held:moved-to-$(dev_driver $RP_NIC)"
	_msg=$(echo "$out" | head -n 3 | tr '\n' ' ')
	_hp1=$_hp
	kill $_hp
	wait $_hp 2>/dev/null
	run iommu-own release "$_g"
	[ $rc = 0 ] || _why="$_why after-exit:exit-$rc"
	[ "$(dev_driver $RP_NIC)" = e1000e ] || _why="$_why after-exit:driver-$(dev_driver $RP_NIC)"
	# recover of an interrupted claim (the NIC on vfio-pci by hand, its
	# override not yet set: neither where the claim started nor where it
	# ends; a journal saying it was on e1000e): refused while a process
	# holds the group, nothing written; rolled back once it exits
	bind_by_hand $RP_NIC vfio-pci
	echo >"$SYSPCI/$RP_NIC/driver_override"
	claim_journal "$_g" $RP_NIC e1000e /
	hold_group "$_g"
	run iommu-own recover
	[ $rc = 1 ] || _why="$_why recover-held:exit-$rc"
	case $out in *"process $_hp"*"in-use"*) ;; *) _why="$_why recover-held:no-pid-$_hp-in-message" ;; esac
	[ "$(dev_driver $RP_NIC)" = vfio-pci ] && [ -f /run/iommu-own/journal.json ] || _why="$_why recover-held:changed"
	kill $_hp
	wait $_hp 2>/dev/null
	run iommu-own recover
	[ $rc = 0 ] && [ "$(dev_driver $RP_NIC)" = e1000e ] && [ "$(dev_override $RP_NIC)" = "(null)" ] &&
		[ ! -f /run/iommu-own/journal.json ] || _why="$_why recover-after-exit:exit-$rc-driver-$(dev_driver $RP_NIC)"
	if [ -z "$_why" ]; then
		result release-busy pass "group $_g: refused while PID $_hp1 held it ($_msg), released once it exited; recover of an interrupted claim refused while PID $_hp held it, rolled back after"
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

# kill_sweep OP GROUP BEFORE: OP (claim or release) killed at 13 points spread
# over its duration, each followed by recover; the group must end all claimed
# or all as BEFORE, and the kernel agree. Appends to $_bad, $_outcomes, $_n.
# A release starts from the claimed group, a claim from BEFORE. With
# $KILL_ROOT set, the killed OP runs with --sysroot $KILL_ROOT (another root
# whose sys is the live sysfs), and recover still runs from /.
kill_sweep() {
	local _op=$1 _g=$2 _before=$3 _t0 _t1 _ms _k _us _p _st _journal _res _v _from
	_from=none
	[ "$_op" = release ] && _from=all
	# how long the operation takes here, to spread the kills over it
	[ "$_op" = release ] && run iommu-own claim "$_g"
	_t0=$(uptime_s)
	run iommu-own "$_op" "$_g"
	_t1=$(uptime_s)
	[ "$_op" = claim ] && run iommu-own release "$_g"
	_ms=$(echo "$_t0 $_t1" | awk '{ printf "%d", ($2 - $1) * 1000 }')
	[ "$_ms" -ge 20 ] || _ms=20
	log "group $_g: a $_op takes about $_ms ms"
	for _k in 0 1 2 3 4 5 6 7 8 9 10 11 12; do
		_us=$((_ms * 1000 * _k / 10))
		# from the starting state
		[ "$_from" = all ] && run iommu-own claim "$_g"
		iommu-own ${KILL_ROOT:+--sysroot "$KILL_ROOT"} "$_op" "$_g" >/tmp/kill.out 2>&1 &
		_p=$!
		usleep $_us
		kill -9 $_p 2>/dev/null
		wait $_p
		_st=$?
		_journal=no
		[ -f /run/iommu-own/journal.json ] && _journal=yes
		run iommu-own recover --json
		_res=$(echo "$out" | sed -n 's/.*"result": "\([^"]*\)".*/\1/p' | head -n 1)
		[ "$rc" = 0 ] || _bad="$_bad $_op$_g@${_us}us:recover-exit-$rc"
		[ ! -f /run/iommu-own/journal.json ] || _bad="$_bad $_op$_g@${_us}us:journal-left"
		_v=$(all_or_none "$_g" "$_before")
		log "group $_g $_op killed after ${_us}us: status $_st, journal $_journal, recover $_res -> $_v"
		_n=$((_n + 1))
		case $_v in
		all)
			run iommu-own release "$_g"
			[ "$rc" = 0 ] || _bad="$_bad $_op$_g@${_us}us:release-exit-$rc"
			;;
		none) ;;
		*) _bad="$_bad $_op$_g@${_us}us:$_v" ;;
		esac
		same_state "$_before" "$(group_state "$_g")" || { _bad="$_bad $_op$_g@${_us}us:not-back"; return; }
		_outcomes="$_outcomes ${KILL_ROOT:+root-}$_op:$_st/$_res/$_v"
	done
}

scenario_kill_recover() {
	if ! _m=$(need_devices $NIC_A $NIC_B $MF0); then result kill-recover fail "$_m"; return; fi
	_bad='' _n=0 _outcomes=''
	# an override naming another driver, which every rollback must restore last
	echo pci-stub >"$SYSPCI/$NIC_B/driver_override"
	for _dev in $NIC_A $MF0; do
		_g=$(dev_group $_dev)
		_before=$(group_state "$_g")
		kill_sweep claim "$_g" "$_before"
		kill_sweep release "$_g" "$_before"
	done
	# a claim killed under another root of the same kernel: its journal is
	# the kernel's, and recover from / finishes or rolls it back
	_g=$(dev_group $NIC_A)
	_before=$(group_state "$_g")
	mkdir -p /mnt/r/sys /mnt/r/proc
	mount -t sysfs sysfs /mnt/r/sys && mount -t proc proc /mnt/r/proc
	KILL_ROOT=/mnt/r kill_sweep claim "$_g" "$_before"
	umount /mnt/r/proc /mnt/r/sys
	echo >"$SYSPCI/$NIC_B/driver_override"
	# how the kills landed: killed (137) mid-move with a journal to finish or
	# roll back, killed before the journal, or too late (exit 0)
	_mid=$(echo "$_outcomes" | tr ' ' '\n' | grep -c -e ':137/finished' -e ':137/rolled-back')
	_rootmid=$(echo "$_outcomes" | tr ' ' '\n' | grep '^root-' | grep -c -e ':137/finished' -e ':137/rolled-back')
	[ "$_rootmid" -ge 1 ] || _bad="$_bad no-kill-under-another-root-landed-mid-move"
	_summary=$(echo "$_outcomes" | tr ' ' '\n' | grep . | sort | uniq -c | awk '{ printf " %s x%s", $2, $1 }')
	[ "$_mid" -ge 2 ] || _bad="$_bad only-$_mid-kills-landed-mid-move"
	if [ -z "$_bad" ]; then
		result kill-recover pass "$_n kills, $_mid mid-move; all-or-none every time (op:status/recover/end:$_summary)"
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

# refused_then_forced NAME GROUP CODE: claim refused with CODE and nothing
# changed; with --force=CODE it moves (kernel: viable) and comes back
refused_then_forced() {
	local _name=$1 _g=$2 _code=$3 _before _why='' _c
	_before=$(group_state "$_g")
	run iommu-own claim --json "$_g"
	[ $rc = 1 ] || _why="$_why exit-$rc"
	echo "$out" | grep -q "\"code\": \"$_code\"" || _why="$_why no-$_code-refusal"
	echo "$out" | grep -q '"result": "refused"' || _why="$_why result-not-refused"
	same_state "$_before" "$(group_state "$_g")" || _why="$_why state-changed"
	_c=$(kernel_viable "$_g")
	[ "$_c" = absent ] || _why="$_why kernel:$_c"
	if [ -n "$_why" ]; then
		result "$_name" fail "group $_g:$_why"
		return
	fi
	run iommu-own claim --force="$_code" "$_g"
	[ $rc = 0 ] || _why="$_why forced-claim-exit-$rc"
	_c=$(check_claimed "$_g" "$_before")
	[ -z "$_c" ] || _why="$_why after-forced-claim:$_c"
	run iommu-own release "$_g"
	[ $rc = 0 ] || _why="$_why release-exit-$rc"
	same_state "$_before" "$(group_state "$_g")" || _why="$_why not-restored:$(group_state "$_g" | tr '\n' ';')"
	if [ -z "$_why" ]; then
		result "$_name" pass "group $_g refused with code $_code (exit 1, nothing changed); with --force=$_code claimed (kernel: viable) and released back"
	else
		result "$_name" fail "group $_g:$_why"
	fi
}

# The namespace block device of an NVMe controller at PCI address $1: below
# the controller (nvme1n1), or, with native NVMe multipath (the controller in
# a subsystem that can have several), the subsystem's head disk (nvme0n1 in
# /sys/devices/virtual/nvme-subsystem/nvme-subsys0/, whose controllers,
# nvme-subsys0/nvme0, lead to the PCI device; only a hidden per-path disk,
# nvme0c0n1, is below the controller).
nvme_block_of() {
	local _b _n _p
	for _b in /sys/block/nvme*; do
		_n=${_b##*/}
		case $_n in nvme*c*) continue ;; esac # hidden per-path disks
		case $(readlink -f "$_b") in */$1/*) echo "$_n"; return ;; esac
		for _p in "$_b"/device/nvme[0-9]*; do
			[ -e "$_p" ] || continue
			case $(readlink -f "$_p") in */$1/*) echo "$_n"; return ;; esac
		done
	done
}

# mounted_case NAME DEVICE: claim refused with code mounted while the disk is
# mounted, nothing changed; once unmounted, claimed and released back
mounted_case() {
	local _name=$1 _dev=$2 _blk _g _before _why=
	_blk=$(nvme_block_of "$_dev")
	if [ -z "$_blk" ] || ! mke2fs -q "/dev/$_blk" >/dev/null 2>&1 || ! mkdir -p /mnt || ! mount -t ext2 "/dev/$_blk" /mnt; then
		result "$_name" fail "cannot make and mount a file system on the disk of $_dev (${_blk:-no namespace found})"
		return
	fi
	log "$_dev: /dev/$_blk is $(readlink -f /sys/block/$_blk), mounted: $(grep ' /mnt ' /proc/self/mountinfo)"
	_g=$(dev_group "$_dev")
	_before=$(group_state "$_g")
	run iommu-own claim --json "$_g"
	[ $rc = 1 ] || _why="$_why exit-$rc"
	echo "$out" | grep -q '"code": "mounted"' || _why="$_why no-mounted-refusal"
	same_state "$_before" "$(group_state "$_g")" || _why="$_why state-changed:$(group_state "$_g" | tr '\n' ';')"
	umount /mnt
	[ $rc != 0 ] || run iommu-own release "$_g"
	if [ -n "$_why" ]; then
		result "$_name" fail "group $_g, /dev/$_blk mounted:$_why"
		return
	fi
	run iommu-own claim "$_g"
	[ $rc = 0 ] || _why="$_why unmounted:claim-exit-$rc"
	[ "$(kernel_viable "$_g")" = viable ] || _why="$_why unmounted:kernel-$(kernel_viable "$_g")"
	run iommu-own release "$_g"
	same_state "$_before" "$(group_state "$_g")" || _why="$_why not-restored"
	if [ -z "$_why" ]; then
		result "$_name" pass "group $_g refused with code mounted while /dev/$_blk was mounted (exit 1, nothing changed); claimed and released once unmounted"
	else
		result "$_name" fail "group $_g:$_why"
	fi
}

# the refusals that protect a host in use: a mounted disk (a plain NVMe
# controller, and one in an NVMe subsystem, whose namespace the kernel puts
# under the subsystem), an interface with an address (192.0.2.0/24,
# TEST-NET-1: the NIC has no peer, nothing leaves the guest)
scenario_in_use() {
	if ! _m=$(need_devices $NVME $NVME2 $RC_NIC); then
		for _n in refused-mounted refused-mounted-multipath refused-netdev; do result $_n fail "$_m"; done
		return
	fi
	log "nvme block devices: $(ls -l /sys/block | grep nvme | sed 's/.*-> //' | tr '\n' ' ')"
	mounted_case refused-mounted $NVME2
	mounted_case refused-mounted-multipath $NVME
	_if=$(ls "$SYSPCI/$RC_NIC/net" 2>/dev/null | head -n 1)
	if [ -z "$_if" ]; then
		result refused-netdev fail "no network interface under $RC_NIC"
		return
	fi
	ip link set dev "$_if" up
	ip addr add 192.0.2.1/24 dev "$_if"
	log "$_if: flags $(cat /sys/class/net/$_if/flags) operstate $(cat /sys/class/net/$_if/operstate); routes: $(grep "^$_if" /proc/net/route | tr '\n' ';')"
	refused_then_forced refused-netdev "$(dev_group $RC_NIC)" netdev-active
}

# modules: a claim loads vfio-pci when it is not loaded; a release without the
# claim's record loads the device's module (modalias through libkmod)
scenario_modules() {
	if ! _m=$(need_devices $NIC_A $RP_NIC $XHCI); then
		for _n in claim-loads-vfio release-norecord release-reloads-module; do result $_n fail "$_m"; done
		return
	fi
	_why=
	run rmmod vfio_pci
	[ ! -d /sys/bus/pci/drivers/vfio-pci ] || _why="$_why vfio-pci-still-loaded"
	_g=$(dev_group $RP_NIC)
	_before=$(group_state "$_g")
	run iommu-own claim "$_g"
	[ $rc = 0 ] || _why="$_why claim-exit-$rc"
	[ -d /sys/bus/pci/drivers/vfio-pci ] || _why="$_why vfio-pci-not-loaded"
	_c=$(check_claimed "$_g" "$_before")
	[ -z "$_c" ] || _why="$_why after-claim:$_c"
	run iommu-own release "$_g"
	same_state "$_before" "$(group_state "$_g")" || _why="$_why not-restored"
	if [ -z "$_why" ]; then
		result claim-loads-vfio pass "vfio_pci unloaded; the claim of group $_g loaded it and moved the group (kernel: viable)"
	else
		result claim-loads-vfio fail "group $_g:$_why"
	fi

	# a device put on vfio-pci by hand (no record) whose driver's module
	# (e1000e, serving both $RP_NIC and $MF0) is then unloaded
	_why=
	_g=$(dev_group $RP_NIC)
	bind_by_hand $RP_NIC vfio-pci
	run rmmod e1000e
	[ ! -d /sys/bus/pci/drivers/e1000e ] || _why="$_why e1000e-still-loaded"
	run iommu-own release "$_g"
	[ $rc = 0 ] || _why="$_why release-exit-$rc"
	[ -d /sys/bus/pci/drivers/e1000e ] || _why="$_why e1000e-not-loaded"
	[ "$(dev_driver $RP_NIC)" = e1000e ] || _why="$_why driver-$(dev_driver $RP_NIC)"
	[ "$(dev_override $RP_NIC)" = "(null)" ] || _why="$_why override-$(dev_override $RP_NIC)"
	_k=$(kernel_viable "$_g")
	[ "$_k" = absent ] || _why="$_why kernel:$_k"
	if [ -z "$_why" ]; then
		result release-norecord pass "group $_g, on vfio-pci by hand with e1000e unloaded: the release loaded e1000e and the device is back on it, override cleared"
	else
		result release-norecord fail "group $_g:$_why"
	fi
	echo $MF0 >/sys/bus/pci/drivers_probe 2>/dev/null

	# a release with the claim's record when the recorded driver's module is
	# gone: xhci, whose driver (xhci_hcd) is not named after its module
	# (xhci_pci)
	_why=''
	_g=$(dev_group $XHCI)
	_before=$(group_state "$_g")
	run iommu-own claim "$_g"
	[ "$rc" = 0 ] || _why="$_why claim-exit-$rc"
	run rmmod xhci_pci
	[ ! -d /sys/bus/pci/drivers/xhci_hcd ] || _why="$_why xhci_hcd-still-there"
	run iommu-own release "$_g"
	[ "$rc" = 0 ] || _why="$_why release-exit-$rc"
	same_state "$_before" "$(group_state "$_g")" || _why="$_why not-restored:$(group_state "$_g" | tr '\n' ';')"
	if [ -z "$_why" ]; then
		result release-reloads-module pass "group $_g claimed, xhci_pci unloaded: the release loaded xhci_pci and the device is back on xhci_hcd"
	else
		result release-reloads-module fail "group $_g:$_why"
	fi
}

# ---------------------------------------------------------------------------
# 5b. a bridge on a kernel DMA driver (shpchp, when ACPI leaves the PCIe-to-PCI
# bridge's hot-plug to it): the kernel never lets VFIO have the group

scenario_kernel_bridge() {
	_names="kernel-bridge-audit kernel-bridge-refused kernel-bridge-unbound"
	_br=0000:01:00.0
	if ! _m=$(need_devices $_br $NIC_A $NIC_B); then
		for _n in $_names; do result $_n fail "$_m"; done
		return
	fi
	if [ "$(dev_driver $_br)" != shpchp ]; then
		for _n in $_names; do result $_n fail "bridge $_br is on '$(dev_driver $_br)', not shpchp: the run must turn ACPI bridge hot-plug off"; done
		return
	fi
	_g=$(dev_group $NIC_A)
	_before=$(group_state "$_g")
	# both NICs on vfio-pci by hand: the bridge's shpchp alone keeps the group
	bind_by_hand $NIC_A vfio-pci
	bind_by_hand $NIC_B vfio-pci
	audit_compare shpchp "$_g=mixed"
	[ "$(kernel_viable "$_g")" = not-viable ] || bad="$bad group$_g:kernel-does-not-say-not-viable"
	audit_result kernel-bridge-audit "(group $_g: every endpoint on vfio-pci, the bridge on shpchp: not viable)"
	unbind_by_hand $NIC_A
	unbind_by_hand $NIC_B

	_why=
	run iommu-own claim --json "$_g"
	[ $rc = 1 ] || _why="$_why exit-$rc"
	echo "$out" | grep -q '"code": "kernel-bridge"' || _why="$_why no-kernel-bridge-refusal"
	same_state "$_before" "$(group_state "$_g")" || _why="$_why state-changed"
	if [ -z "$_why" ]; then
		result kernel-bridge-refused pass "group $_g refused with code kernel-bridge, exit 1, nothing changed"
	else
		result kernel-bridge-refused fail "group $_g:$_why"
	fi

	# once shpchp lets go of the bridge, the claim goes through
	echo $_br >/sys/bus/pci/drivers/shpchp/unbind
	_before=$(group_state "$_g")
	_why=
	run iommu-own claim "$_g"
	[ $rc = 0 ] || _why="$_why claim-exit-$rc"
	_c=$(check_claimed "$_g" "$_before")
	[ -z "$_c" ] || _why="$_why after-claim:$_c"
	run iommu-own release "$_g"
	[ $rc = 0 ] || _why="$_why release-exit-$rc"
	same_state "$_before" "$(group_state "$_g")" || _why="$_why not-restored"
	if [ -z "$_why" ]; then
		result kernel-bridge-unbound pass "group $_g claimed once shpchp was unbound from $_br (kernel: viable), released back"
	else
		result kernel-bridge-unbound fail "group $_g:$_why"
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
	iommu-own "$@" --json >"$OUT/$_name.json" 2>"$OUT/$_name.err"
	echo $? >"$OUT/$_name.rc"
	echo "$*" >"$OUT/$_name.cmd"
	log "\$ iommu-own $* --json -> $(cat "$OUT/$_name.rc"), result $(sed -n 's/^ *"result": "\([^"]*\)".*/\1/p' "$OUT/$_name.json")"
	snap "$_name.after"
}

# vf_autoprobe: the nvme's VF while its PF has sriov_drivers_autoprobe 0,
# where the kernel binds a VF only through its driver_override, even by
# drivers/<driver>/bind (pci_device_can_probe). pci-pf-stub (a kernel DMA
# driver with no ID table) is given the VF's ID through new_id, so that it
# matches the VF by ID and only autoprobe stands in the way. The VF starts
# on it with no override (put there through an override then cleared): its
# claim, its release (back to pci-pf-stub, which needs an override staged
# for the bind) and a release without a record (the kernel leaves the VF
# unbound) run live for the host to replay; RESULT vf-autoprobe says what
# the kernel did.
vf_autoprobe() {
	_vf= _stub=/sys/bus/pci/drivers/pci-pf-stub
	[ -L "$SYSPCI/$NVME/virtfn0" ] && _vf=$(basename "$(readlink "$SYSPCI/$NVME/virtfn0")")
	if [ -z "$_vf" ] || [ ! -e "$SYSPCI/$_vf" ] || [ ! -d $_stub ]; then
		for _n in vf-claim vf-release vf-norecord; do echo "$_n: the nvme has no VF, or pci-pf-stub is not loaded" >>"$OUT/errors"; done
		result vf-autoprobe fail "the nvme $NVME has no VF ($_vf), or pci-pf-stub is not loaded"
		return
	fi
	_gv=$(dev_group "$_vf") _why=
	_id="$(cut -c3-6 "$SYSPCI/$_vf/vendor") $(cut -c3-6 "$SYSPCI/$_vf/device")"
	[ "$(cat "$SYSPCI/$NVME/sriov_drivers_autoprobe")" = 0 ] || _why="$_why autoprobe-not-0"
	[ "$(dev_driver "$_vf")" = - ] || _why="$_why not-unbound-at-start:$(dev_driver "$_vf")"
	echo "$_id" >$_stub/new_id
	# the premise: the driver matches the VF by ID, yet with no override
	# even an explicit bind is refused
	if echo "$_vf" >$_stub/bind 2>/dev/null; then
		_why="$_why kernel-bound-without-override"
		echo "$_vf" >$_stub/unbind
	fi
	echo pci-pf-stub >"$SYSPCI/$_vf/driver_override"
	echo "$_vf" >$_stub/bind
	echo >"$SYSPCI/$_vf/driver_override"
	_start="$(dev_driver "$_vf") $(dev_override "$_vf")"
	[ "$_start" = "pci-pf-stub (null)" ] || _why="$_why start:$_start"
	live vf-claim claim "$_gv"
	[ "$(cat "$OUT/vf-claim.rc")" = 0 ] || _why="$_why claim:exit-$(cat "$OUT/vf-claim.rc")"
	[ "$(dev_driver "$_vf")" = vfio-pci ] || _why="$_why claim:driver-$(dev_driver "$_vf")"
	[ "$(kernel_viable "$_gv")" = viable ] || _why="$_why claim:kernel-$(kernel_viable "$_gv")"
	live vf-release release "$_gv"
	[ "$(cat "$OUT/vf-release.rc")" = 0 ] || _why="$_why release:exit-$(cat "$OUT/vf-release.rc")"
	_end="$(dev_driver "$_vf") $(dev_override "$_vf")"
	[ "$_end" = "$_start" ] || _why="$_why release:end-$_end"
	[ "$(kernel_viable "$_gv")" = absent ] || _why="$_why release:kernel-$(kernel_viable "$_gv")"
	bind_by_hand "$_vf" vfio-pci
	live vf-norecord release "$_gv"
	[ "$(cat "$OUT/vf-norecord.rc")" = 0 ] || _why="$_why norecord:exit-$(cat "$OUT/vf-norecord.rc")"
	_nr="$(dev_driver "$_vf") $(dev_override "$_vf")"
	[ "$_nr" = "- (null)" ] || _why="$_why norecord:end-$_nr"
	echo "$_id" >$_stub/remove_id
	if [ -z "$_why" ]; then
		result vf-autoprobe pass "VF $_vf (group $_gv): no bind without an override; claimed from pci-pf-stub, released back to it with no override, and without a record left unbound"
	else
		result vf-autoprobe fail "VF $_vf (group $_gv):$_why"
	fi
}

scenario_replay() {
	_names="replay-claim replay-release replay-norecord replay-multifunction replay-fail vf-autoprobe"
	if ! _m=$(iommu-own snapshot --help 2>&1); then
		_m=$(echo "$_m" | head -n 1)
		for _n in $_names; do
			result $_n fail "iommu-own snapshot is not in this binary ('iommu-own snapshot --help': $_m): cannot capture the guest"
		done
		return
	fi
	if ! _m=$(need_devices $NIC_A $NIC_B $MF0 $NVME); then
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
	echo >"$SYSPCI/$NIC_B/driver_override"
	# a release without the claim's record: one NIC put on vfio-pci by hand
	# (a mixed group); the kernel's probe and the replay's must agree
	bind_by_hand $NIC_A vfio-pci
	live norecord release "$_gb"
	# the multifunction device: two functions, two drivers
	live multifunction claim "$(dev_group $MF0)"
	run iommu-own release "$(dev_group $MF0)"
	# a claim the kernel fails: vfio-pci refuses a PF with VFs enabled (EBUSY).
	# The VF stays without a driver: nvme would take it and let go of it half
	# a second later (QEMU's secondary controller is offline: "Device not
	# ready; aborting initialisation"), a race with the snapshots.
	echo 0 >"$SYSPCI/$NVME/sriov_drivers_autoprobe"
	echo 1 >"$SYSPCI/$NVME/sriov_numvfs" || echo "fail: cannot enable a VF on $NVME" >>"$OUT/errors"
	log "after enabling a VF: $(ls $SYSPCI | tr '\n' ' ')"
	live fail claim --force=sriov-pf "$_gn"
	vf_autoprobe
	echo 0 >"$SYSPCI/$NVME/sriov_numvfs"
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

# ---------------------------------------------------------------------------
# why: every group explained from real config space (exit 0); the kernel's
# reasons for the multi-device groups found: the PCIe-to-PCI bridge, and the
# functions without ACS of the multifunction device and of the chipset

# why_kinds GROUP: "KIND DEVICE" of each reason of why --json
why_kinds() {
	iommu-own why --json "$1" | awk '
		/"kind": / { k = $2; gsub(/[",]/, "", k) }
		/"device": / && k != "" { d = $2; gsub(/[",]/, "", d); print k, d; k = "" }'
}

scenario_why() {
	if ! _m=$(need_devices $NIC_A $MF0 $LPC); then result why fail "$_m"; return; fi
	_bad=''
	for _g in $(all_groups); do
		run iommu-own why "$_g"
		[ "$rc" = 0 ] || _bad="$_bad group$_g:exit-$rc"
	done
	_k=$(why_kinds "$(dev_group $NIC_A)" | tr '\n' ';')
	[ "$_k" = "pci-bridge 0000:01:00.0;" ] || _bad="$_bad bridge-group:[$_k]"
	_k=$(why_kinds "$(dev_group $MF0)" | tr '\n' ';')
	[ "$_k" = "multifunction $MF0;" ] || _bad="$_bad multifunction-group:[$_k]"
	_k=$(why_kinds "$(dev_group $LPC)" | tr '\n' ';')
	[ "$_k" = "multifunction $LPC;" ] || _bad="$_bad chipset-group:[$_k]"
	if [ -z "$_bad" ]; then
		result why pass "every group explained; the bridge, multifunction and chipset groups by their kernel reasons"
	else
		result why fail "$_bad"
	fi
}

# ---------------------------------------------------------------------------
# 10. a DRM device held open on the host (the safety issue): QEMU's
# bochs-display on bochs-drm makes /dev/dri/card0. A claim must refuse while a
# process holds it (naming the PID), and go through once it has let go and the
# framebuffer console is off it; the release gives it back to bochs-drm.

bochs_device() {
	for _d in "$SYSPCI"/*; do
		[ "$(cat "$_d/vendor")" = 0x1234 ] && [ "$(cat "$_d/device")" = 0x1111 ] && { basename "$_d"; return; }
	done
}

scenario_drm_holder() {
	modprobe bochs || log "modprobe bochs failed"
	sleep 1
	_dev=$(bochs_device)
	if [ -z "$_dev" ] || [ ! -e /dev/dri/card0 ]; then
		result drm-held fail "no bochs-display with /dev/dri/card0 (device '$_dev')"
		result drm-released fail "not run"
		return
	fi
	_g=$(dev_group "$_dev")
	_drv=$(dev_driver "$_dev")
	log "bochs-display $_dev in group $_g on $_drv; $(ls /dev/dri | tr '\n' ' ')"
	sh -c 'exec 3</dev/dri/card0; exec sleep 600' &
	_hp=$!
	sleep 0.5
	_why=
	run iommu-own claim "$_g"
	[ $rc = 1 ] || _why="$_why held:exit-$rc"
	case $out in *"process $_hp (sleep) holds /dev/dri/card0 (DRM of $_dev)"*host-in-use*) ;; *) _why="$_why held:no-pid-$_hp" ;; esac
	[ "$(dev_driver "$_dev")" = "$_drv" ] || _why="$_why held:moved-to-$(dev_driver "$_dev")"
	if [ -z "$_why" ]; then
		result drm-held pass "group $_g ($_dev on $_drv): claim refused while PID $_hp held /dev/dri/card0, named, nothing changed"
	else
		result drm-held fail "group $_g:$_why"
	fi
	kill $_hp
	wait $_hp 2>/dev/null
	_why=
	# The framebuffer console may draw on the device's fb0: off it first, as a sysadmin would.
	run iommu-own claim "$_g" --dry-run
	case $out in *"framebuffer console"*)
		for _c in /sys/class/vtconsole/vtcon*; do
			grep -q "frame buffer" "$_c/name" && echo 0 >"$_c/bind"
		done
		log "fbcon unbound from the framebuffer" ;;
	esac
	run iommu-own claim "$_g"
	[ $rc = 0 ] && [ "$(dev_driver "$_dev")" = vfio-pci ] || _why="$_why claim:exit-$rc-driver-$(dev_driver "$_dev")"
	_v=$(vfio-viable "$_g")
	[ "$_v" = viable ] || _why="$_why claim:$_v"
	run iommu-own release "$_g"
	[ $rc = 0 ] && [ "$(dev_driver "$_dev")" = "$_drv" ] || _why="$_why release:exit-$rc-driver-$(dev_driver "$_dev")"
	if [ -z "$_why" ]; then
		result drm-released pass "group $_g: once the holder exited, claimed (kernel: $_v) and released back to $_drv"
	else
		result drm-released fail "group $_g:$_why"
	fi
}

# 11. not root: a move of the running kernel says at once that it needs root
# and touches nothing; a dry run works, saying what it could not verify.
scenario_non_root() {
	_g=$(dev_group $RP_NIC)
	_before=$(dev_driver $RP_NIC)
	run vfio-viable --as 65534 iommu-own claim "$_g"
	_why=
	[ $rc = 2 ] || _why="$_why claim:exit-$rc"
	case $out in *"needs root"*) ;; *) _why="$_why claim:no-needs-root-message" ;; esac
	[ "$(dev_driver $RP_NIC)" = "$_before" ] && [ ! -e /run/iommu-own/journal.json ] || _why="$_why claim:changed"
	run vfio-viable --as 65534 iommu-own claim "$_g" --dry-run
	[ $rc = 0 ] || _why="$_why dry-run:exit-$rc"
	case $out in *"/driver_override"*) ;; *) _why="$_why dry-run:no-plan" ;; esac
	if [ -z "$_why" ]; then
		result non-root pass "group $_g: claim as uid 65534 refused at once (exit 2, needs root), nothing changed; its dry run printed the plan"
	else
		result non-root fail "group $_g:$_why"
	fi
}

# ---------------------------------------------------------------------------
# uses: what sits behind each device, as list's USES column reads it from the
# real kernel (an e1000 interface up with an address, an NVMe disk mounted,
# the USB keyboard on the xHCI controller, the HD audio card), and the
# selectors that pick devices by those names.
scenario_uses() {
	if ! _m=$(need_devices $RC_NIC $NVME2 $XHCI $MF1); then
		for _n in uses-net uses-disk uses-usb uses-sound uses-select uses-record; do result $_n fail "$_m"; done
		return
	fi
	_if=$(ls "$SYSPCI/$RC_NIC/net" 2>/dev/null | head -n 1)
	_blk=$(nvme_block_of $NVME2)
	ip link set dev "$_if" up 2>/dev/null
	ip addr add 192.0.2.7/24 dev "$_if" 2>/dev/null
	mke2fs -q "/dev/$_blk" >/dev/null 2>&1 && mkdir -p /mnt && mount -t ext2 "/dev/$_blk" /mnt
	run iommu-own list -r -n -o DEVICE,USES
	_uses=$out
	_line() { echo "$_uses" | grep "^$1 " | sed 's/\\x20/ /g'; }
	case "$(_line $RC_NIC)" in
	*"net $_if (up, addresses)"*) result uses-net pass "$(_line $RC_NIC)" ;;
	*) result uses-net fail "interface $_if: $(_line $RC_NIC)" ;;
	esac
	case "$(_line $NVME2)" in
	*"disk $_blk (mounted)"*) result uses-disk pass "$(_line $NVME2)" ;;
	*) result uses-disk fail "disk $_blk: $(_line $NVME2)" ;;
	esac
	case "$(_line $XHCI)" in
	*"usb "*"(QEMU USB Keyboard)"*) result uses-usb pass "$(_line $XHCI)" ;;
	*) result uses-usb fail "$(_line $XHCI)" ;;
	esac
	case "$(_line $MF1)" in
	*"sound card"*) result uses-sound pass "$(_line $MF1)" ;;
	*) result uses-sound fail "$(_line $MF1)" ;;
	esac
	_why=
	run iommu-own list -r -n -o DEVICE --netdev "$_if"
	[ "$out" = "$RC_NIC" ] || _why="$_why netdev:$out"
	run iommu-own list -r -n -o DEVICE --blockdev "/dev/$_blk"
	[ "$out" = "$NVME2" ] || _why="$_why blockdev:$out"
	run iommu-own list -r -n -o DEVICE --class usb
	[ "$out" = "$XHCI" ] || _why="$_why class-usb:$out"
	run iommu-own list -J -o +USES
	echo "$out" | grep -q '"product": "QEMU USB Keyboard"' || _why="$_why json-uses"
	if [ -z "$_why" ]; then result uses-select pass "netdev, blockdev, class and -J -o +USES pick and show the same"; else result uses-select fail "$_why"; fi
	umount /mnt 2>/dev/null
	# the interface goes away with e1000: release --netdev finds it in the claim record
	run iommu-own claim --netdev "$_if" --force=netdev-active
	_c=$rc
	run iommu-own list -r -n -o DEVICE,RECORD --netdev "$_if"
	_rec=$out
	run iommu-own release --netdev "$_if"
	if [ $_c = 0 ] && [ $rc = 0 ] && [ "$_rec" = "$RC_NIC e1000" ] && [ "$(dev_driver $RC_NIC)" = e1000 ]; then
		result uses-record pass "claimed and released by --netdev $_if, RECORD e1000 while claimed"
	else
		result uses-record fail "claim $_c, release $rc, record '$_rec', driver $(dev_driver $RC_NIC)"
	fi
}

# 12. sriov: QEMU's NVMe controller with SR-IOV (sriov_max_vfs=2) alone on a
# root port (machine intel-sriov in tests/vm/run.sh). vfs --claim, the
# release of the VF groups and vfs PF 0, claim --remove-vfs and its release
# run live, with snapshots around them for the host to replay; the RESULT
# lines say what the kernel did. The scenario sends its data like replay
# does, naming its operations in $OUT/ops.

# The PF: the device whose sriov_totalvfs is 2 (the run's other NVMe allows 1).
sriov_pf() {
	for _d in $(ls $SYSPCI); do
		[ "$(cat "$SYSPCI/$_d/sriov_totalvfs" 2>/dev/null)" = 2 ] && echo "$_d" && return
	done
}
sriov_vfs() { # sriov_vfs PF: its VFs, virtfn0 first
	for _l in "$SYSPCI/$1"/virtfn*; do [ -L "$_l" ] && basename "$(readlink "$_l")"; done
}
# nvme's probes of the devices named, since dmesg line $1: nvme_probe()
# logs "pci function ADDRESS", and a failing one "nvme ADDRESS: ..."
nvme_probes() {
	_from=$1
	shift
	for _a; do dmesg | tail -n +"$((_from + 1))" | grep -e "pci function $_a" -e "nvme $_a:"; done
}

sriov_send() {
	(cd "$OUT" && tar -czf - .) >/tmp/replay.tgz
	log "replay data: $(wc -c </tmp/replay.tgz) bytes"
	stty -F /dev/ttyS1 raw -echo 2>/dev/null
	{
		echo "VMTEST-DATA-BEGIN"
		base64 </tmp/replay.tgz
		echo "VMTEST-DATA-END"
	} >/dev/ttyS1
}

sriov_claim() { # the PF's VFs made and claimed: RESULT sriov-vfs-claim and sriov-no-host-probe
	_mark=$(dmesg | wc -l)
	live vfs-claim vfs "$_pf" 2 --claim
	_why=
	[ "$(cat "$OUT/vfs-claim.rc")" = 0 ] || _why="$_why exit-$(cat "$OUT/vfs-claim.rc")"
	[ "$(cat "$SYSPCI/$_pf/sriov_numvfs")" = 2 ] || _why="$_why numvfs-$(cat "$SYSPCI/$_pf/sriov_numvfs")"
	[ "$(cat "$SYSPCI/$_pf/sriov_drivers_autoprobe")" = 1 ] || _why="$_why autoprobe-not-back"
	_vfs=$(sriov_vfs "$_pf") _vgroups=
	[ "$(echo $_vfs | wc -w)" = 2 ] || _why="$_why vfs:$(echo $_vfs)"
	for _vf in $_vfs; do
		_g=$(dev_group "$_vf")
		_vgroups="$_vgroups $_g"
		[ "$(group_devices "$_g")" = "$_vf" ] || _why="$_why $_vf:not-alone-in-group-$_g"
		[ "$(dev_driver "$_vf") $(dev_override "$_vf")" = "vfio-pci vfio-pci" ] || _why="$_why $_vf:$(dev_driver "$_vf")"
		[ "$(kernel_viable "$_g")" = viable ] || _why="$_why group$_g:$(kernel_viable "$_g")"
	done
	if [ -z "$_why" ]; then
		result sriov-vfs-claim pass "PF $_pf: VFs $(echo $_vfs) made, each alone in its group ($(echo $_vgroups)), both viable on vfio-pci (VFIO_GROUP_GET_STATUS), autoprobe back to 1"
	else
		result sriov-vfs-claim fail "PF $_pf:$_why"
	fi
	_probes=$(nvme_probes "$_mark" $_vfs)
	# the pattern must find nvme's probe of the PF at boot, or it proves nothing
	if [ -n "$_probes" ] || [ -z "$(nvme_probes 0 "$_pf")" ]; then
		result sriov-no-host-probe fail "nvme probed the VFs, or its probes cannot be seen in dmesg: $(echo "$_probes" | head -n 2)"
	else
		result sriov-no-host-probe pass "no 'pci function' line of nvme for $(echo $_vfs) since vfs ran (its probe of the PF $_pf at boot is there)"
	fi
}

sriov_release() { # RESULT sriov-vfs-release: the VF groups released, then vfs PF 0
	# shellcheck disable=SC2086
	live vfs-release release $_vgroups
	_why=
	[ "$(cat "$OUT/vfs-release.rc")" = 0 ] || _why="$_why release:exit-$(cat "$OUT/vfs-release.rc")"
	for _vf in $_vfs; do
		[ "$(dev_driver "$_vf") $(dev_override "$_vf")" = "- (null)" ] || _why="$_why $_vf:$(dev_driver "$_vf")"
	done
	for _g in $_vgroups; do [ "$(kernel_viable "$_g")" = absent ] || _why="$_why group$_g:$(kernel_viable "$_g")"; done
	live vfs-remove vfs "$_pf" 0
	[ "$(cat "$OUT/vfs-remove.rc")" = 0 ] || _why="$_why vfs-0:exit-$(cat "$OUT/vfs-remove.rc")"
	[ "$(cat "$SYSPCI/$_pf/sriov_numvfs")" = 0 ] || _why="$_why numvfs-not-0"
	for _vf in $_vfs; do [ ! -e "$SYSPCI/$_vf" ] || _why="$_why $_vf:still-there"; done
	for _g in $_vgroups; do [ ! -e "$GROUPDIR/$_g" ] || _why="$_why group$_g:still-there"; done
	if [ -z "$_why" ]; then
		result sriov-vfs-release pass "groups$_vgroups released (VFs without a driver, no VFIO file), then vfs $_pf 0: VFs and groups gone"
	else
		result sriov-vfs-release fail "PF $_pf:$_why"
	fi
}

sriov_pf_claim() { # RESULT sriov-pf-claim: claim --remove-vfs, then the release makes the VFs again
	# With autoprobe 0 the VFs the release makes stay unbound: nvme would
	# probe QEMU's offline secondary controllers and let go of them later,
	# a race with the snapshots.
	echo 0 >"$SYSPCI/$_pf/sriov_drivers_autoprobe"
	run iommu-own vfs "$_pf" 2
	_gp=$(dev_group "$_pf") _why=
	live pf-claim claim "$_pf" --remove-vfs
	[ "$(cat "$OUT/pf-claim.rc")" = 0 ] || _why="$_why claim:exit-$(cat "$OUT/pf-claim.rc")"
	[ "$(cat "$SYSPCI/$_pf/sriov_numvfs")" = 0 ] || _why="$_why claim:numvfs-not-0"
	[ "$(dev_driver "$_pf")" = vfio-pci ] || _why="$_why claim:driver-$(dev_driver "$_pf")"
	[ "$(kernel_viable "$_gp")" = viable ] || _why="$_why claim:group$_gp-$(kernel_viable "$_gp")"
	grep -q '"numvfs":2' "/run/iommu-own/group-$_gp.json" || _why="$_why claim:count-not-recorded"
	live pf-release release "$_pf"
	[ "$(cat "$OUT/pf-release.rc")" = 0 ] || _why="$_why release:exit-$(cat "$OUT/pf-release.rc")"
	[ "$(dev_driver "$_pf")" = nvme ] || _why="$_why release:driver-$(dev_driver "$_pf")"
	[ "$(cat "$SYSPCI/$_pf/sriov_numvfs")" = 2 ] || _why="$_why release:numvfs-$(cat "$SYSPCI/$_pf/sriov_numvfs")"
	echo 0 >"$SYSPCI/$_pf/sriov_numvfs"
	echo 1 >"$SYSPCI/$_pf/sriov_drivers_autoprobe"
	if [ -z "$_why" ]; then
		result sriov-pf-claim pass "PF $_pf with 2 VFs: claimed with --remove-vfs (count 0, group $_gp viable, 2 recorded), released to nvme with its 2 VFs again"
	else
		result sriov-pf-claim fail "PF $_pf:$_why"
	fi
}

# sriov_handoff: RESULT sriov-handoff. The VF groups handed to uid 1000 with
# vfs --claim --owner --mode: the kernel's /dev/vfio/N become 1000's, mode
# 0660, and vfio-viable run as uid 1000 opens them and asks VFIO; the
# shared /dev/vfio/vfio is untouched. The control: a group claimed again
# without a hand-off gets a new node of root's, which uid 1000 cannot open.
node_attrs() { ls -ln "$1" | awk '{ print $1, $3 ":" $4 }'; }
sriov_handoff() {
	_ctl_before=$(node_attrs /dev/vfio/vfio)
	live handoff vfs "$_pf" 2 --claim --owner 1000:1000 --mode 0660
	_why=
	[ "$(cat "$OUT/handoff.rc")" = 0 ] || _why="$_why exit-$(cat "$OUT/handoff.rc")"
	_vfs=$(sriov_vfs "$_pf") _vgroups=
	for _vf in $_vfs; do
		_g=$(dev_group "$_vf")
		_vgroups="$_vgroups $_g"
		[ "$(node_attrs "/dev/vfio/$_g")" = "crw-rw---- 1000:1000" ] || _why="$_why /dev/vfio/$_g:$(node_attrs "/dev/vfio/$_g")"
		run vfio-viable --as 1000 vfio-viable "$_g"
		[ "$rc $out" = "0 viable" ] || _why="$_why as-1000:group$_g:$rc:$out"
		_col=$(iommu-own list -r -n -o GROUP,OWNER,MODE "$_g" | head -n 1)
		[ "$_col" = "$_g 1000:1000 0660" ] || _why="$_why list:$_col"
	done
	[ "$(node_attrs /dev/vfio/vfio)" = "$_ctl_before" ] || _why="$_why /dev/vfio/vfio-changed"
	_g=${_vgroups##* }
	run iommu-own release "$_g"
	run iommu-own claim "$_g"
	run vfio-viable --as 1000 vfio-viable "$_g"
	[ "$rc" = 2 ] || _why="$_why control:as-1000-opened-root's-node:$out"
	# shellcheck disable=SC2086
	run iommu-own release $_vgroups
	run iommu-own vfs "$_pf" 0
	[ "$(cat "$SYSPCI/$_pf/sriov_numvfs")" = 0 ] || _why="$_why not-back-to-0"
	if [ -z "$_why" ]; then
		result sriov-handoff pass "groups$_vgroups handed to 1000:1000 0660 by vfs --claim: uid 1000 opens them (viable), /dev/vfio/vfio untouched; a group claimed again without it is root's (uid 1000 refused)"
	else
		result sriov-handoff fail "PF $_pf:$_why"
	fi
}

# The control of sriov-no-host-probe: VFs made by hand with autoprobe on are
# probed by nvme, and the pattern sees it.
sriov_probe_control() {
	_mark=$(dmesg | wc -l)
	echo 2 >"$SYSPCI/$_pf/sriov_numvfs"
	sleep 1
	_vfs=$(sriov_vfs "$_pf")
	_probes=$(nvme_probes "$_mark" $_vfs)
	echo 0 >"$SYSPCI/$_pf/sriov_numvfs"
	if [ -n "$_probes" ]; then
		result sriov-probe-control pass "with autoprobe on, nvme probes VFs made by hand, and dmesg shows it: $(echo "$_probes" | head -n 1)"
	else
		result sriov-probe-control fail "VFs $(echo $_vfs) made by hand with autoprobe on: no nvme probe seen in dmesg"
	fi
}

# sriov_state PF: "none" (no VF, autoprobe 1), "all" (2 VFs, each alone in a
# viable group on vfio-pci by override, autoprobe 1), else what it is.
sriov_state() {
	_nv=$(cat "$SYSPCI/$1/sriov_numvfs") _ap=$(cat "$SYSPCI/$1/sriov_drivers_autoprobe") _w=
	[ "$_ap" = 1 ] || _w="$_w autoprobe-$_ap"
	if [ "$_nv" = 0 ]; then
		echo "${_w:-none}"
		return
	fi
	[ "$_nv" = 2 ] || _w="$_w numvfs-$_nv"
	for _vf in $(sriov_vfs "$1"); do
		_g=$(dev_group "$_vf")
		[ "$(dev_driver "$_vf") $(dev_override "$_vf")" = "vfio-pci vfio-pci" ] || _w="$_w $_vf:$(dev_driver "$_vf")"
		[ "$(kernel_viable "$_g")" = viable ] || _w="$_w group$_g:$(kernel_viable "$_g")"
	done
	echo "${_w:-all}"
}

# sriov_kill_recover: RESULT sriov-kill-recover. vfs PF 2 --claim killed
# with SIGKILL at 13 points spread over its duration, each followed by
# recover: the PF ends with no VF, or with both VFs on vfio-pci, and its
# sriov_drivers_autoprobe as it was, every time; no journal left.
sriov_kill_recover() {
	local _t0 _t1 _ms _k _us _p _st _v _res _bad= _outcomes= _mid
	_t0=$(uptime_s)
	run iommu-own vfs "$_pf" 2 --claim
	_t1=$(uptime_s)
	# shellcheck disable=SC2046
	run iommu-own release $(for _vf in $(sriov_vfs "$_pf"); do dev_group "$_vf"; done)
	run iommu-own vfs "$_pf" 0
	_ms=$(echo "$_t0 $_t1" | awk '{ printf "%d", ($2 - $1) * 1000 }')
	[ "$_ms" -ge 20 ] || _ms=20
	log "vfs $_pf 2 --claim takes about $_ms ms"
	for _k in 0 1 2 3 4 5 6 7 8 9 10 11 12; do
		_us=$((_ms * 1000 * _k / 10))
		iommu-own vfs "$_pf" 2 --claim >/tmp/kill.out 2>&1 &
		_p=$!
		usleep $_us
		kill -9 $_p 2>/dev/null
		wait $_p
		_st=$?
		run iommu-own recover --json
		_res=$(echo "$out" | sed -n 's/.*"result": "\([^"]*\)".*/\1/p' | head -n 1)
		[ "$rc" = 0 ] || _bad="$_bad @${_us}us:recover-exit-$rc"
		[ ! -f /run/iommu-own/journal.json ] || _bad="$_bad @${_us}us:journal-left"
		_v=$(sriov_state "$_pf")
		log "vfs --claim killed after ${_us}us: status $_st, recover $_res -> $_v"
		case $_v in
		all)
			# shellcheck disable=SC2046
			run iommu-own release $(for _vf in $(sriov_vfs "$_pf"); do dev_group "$_vf"; done)
			run iommu-own vfs "$_pf" 0
			[ "$(sriov_state "$_pf")" = none ] || { _bad="$_bad @${_us}us:not-back"; break; }
			;;
		none) ;;
		*)
			_bad="$_bad @${_us}us:$_v"
			break
			;;
		esac
		_outcomes="$_outcomes $_st/$_res/$_v"
	done
	_mid=$(echo "$_outcomes" | tr ' ' '\n' | grep -c -e '^137/finished' -e '^137/rolled-back')
	[ "$_mid" -ge 1 ] || _bad="$_bad no-kill-landed-mid-move"
	_summary=$(echo "$_outcomes" | tr ' ' '\n' | grep . | sort | uniq -c | awk '{ printf " %s x%s", $2, $1 }')
	if [ -z "$_bad" ]; then
		result sriov-kill-recover pass "13 kills of vfs $_pf 2 --claim, $_mid mid-move; none or all every time, autoprobe back (status/recover/end:$_summary)"
	else
		result sriov-kill-recover fail "PF $_pf:$_bad (outcomes:$_summary)"
	fi
}

scenario_sriov() {
	_names="sriov-vfs-claim sriov-no-host-probe sriov-vfs-release sriov-pf-claim sriov-handoff sriov-probe-control sriov-kill-recover"
	_pf=$(sriov_pf)
	if [ -z "$_pf" ] || [ "$(dev_driver "$_pf")" != nvme ]; then
		for _n in $_names; do result $_n fail "no PF with sriov_totalvfs 2 on nvme ($_pf): the topology is not intel-sriov's"; done
		return
	fi
	rm -rf "$OUT"
	mkdir -p "$OUT"
	echo "vfs-claim vfs-release vfs-remove pf-claim pf-release handoff" >"$OUT/ops"
	sriov_claim
	sriov_release
	sriov_pf_claim
	sriov_handoff
	sriov_probe_control
	sriov_kill_recover
	sriov_send
	echo "REPLAY-DATA $(wc -c </tmp/replay.tgz)"
}
