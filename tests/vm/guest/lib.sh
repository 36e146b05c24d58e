# Helpers of the guest scenarios (busybox sh). Sourced by /init.
# Everything a scenario concludes is one line on the console:
#   RESULT <name> pass|fail <detail>
# Lines starting with '# ' are comments for the log.

SYSPCI=/sys/bus/pci/devices
GROUPDIR=/sys/kernel/iommu_groups

log() { echo "# $*"; }

# result NAME pass|fail DETAIL...
result() {
	local _n=$1 _r=$2
	shift 2
	echo "RESULT $_n $_r $*"
}

# Run a command, log it and its output, keep its status in $rc and its
# output in $out.
run() {
	out=$("$@" 2>&1)
	rc=$?
	log "\$ $* -> $rc"
	[ -z "$out" ] || echo "$out" | sed 's/^/#   /'
	return 0
}

dev_driver() {
	if [ -L "$SYSPCI/$1/driver" ]; then
		basename "$(readlink "$SYSPCI/$1/driver")"
	else
		echo -
	fi
}

dev_override() {
	if [ -f "$SYSPCI/$1/driver_override" ]; then
		cat "$SYSPCI/$1/driver_override"
	else
		echo "(none)"
	fi
}

dev_group() {
	basename "$(readlink "$SYSPCI/$1/iommu_group")"
}

group_devices() { ls "$GROUPDIR/$1/devices"; }

all_groups() { ls "$GROUPDIR" | sort -n; }

# Header type of the configuration space, without the multifunction bit:
# 0 for an endpoint, 1 or 2 for a bridge.
dev_header() {
	local _h
	_h=$(dd if="$SYSPCI/$1/config" bs=1 skip=14 count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	echo $((_h & 127))
}

dev_class() { cut -c3-6 "$SYSPCI/$1/class"; }

# The state of every device of a group, one line each: "ADDR DRIVER OVERRIDE"
group_state() {
	local _d
	for _d in $(group_devices "$1"); do
		echo "$_d $(dev_driver "$_d") $(dev_override "$_d")"
	done
}

# The kernel's answer for a group: viable, not-viable or absent (no VFIO file)
kernel_viable() { vfio-viable "$1" 2>&1; }

# iommu-own's view of every group, from list --json: lines "GROUP STATE VIABLE"
# (VIABLE is true or false). json-c prints one key a line.
own_groups() {
	iommu-own list --json | awk '
		/"group": / { g = $2; sub(/,$/, "", g) }
		/"state": / && g != "" { s = $2; gsub(/[",]/, "", s) }
		/"viable": / && g != "" { v = $2; sub(/,$/, "", v); print g, s, v; g = "" }'
}

# The groups that check --json reports as mixed-group, sorted, one a line
check_mixed() {
	iommu-own check --json | awk '
		/"code": / { c = $2; gsub(/[",]/, "", c) }
		/"group": / && c == "mixed-group" { g = $2; sub(/,$/, "", g); print g; c = "" }' | sort -n
}

# A group is claimable when it holds an endpoint and no chipset device (host
# bridge 0600, ISA bridge 0601); bridges and ports alone give nothing to move.
group_claimable() {
	local _d _endpoint=no
	for _d in $(group_devices "$1"); do
		case $(dev_class "$_d") in 0600 | 0601) return 1 ;; esac
		[ "$(dev_header "$_d")" = 0 ] && _endpoint=yes
	done
	[ $_endpoint = yes ]
}

# Move one device to a driver by hand, the way an administrator would
# (override, unbind, bind): used to build mixed and free states.
bind_by_hand() {
	local _d=$1 _drv=$2
	echo "$_drv" >"$SYSPCI/$_d/driver_override"
	[ -L "$SYSPCI/$_d/driver" ] && echo "$_d" >"$SYSPCI/$_d/driver/unbind"
	echo "$_d" >"/sys/bus/pci/drivers/$_drv/bind"
}

# Undo bind_by_hand: back to the driver the kernel picks, no override.
unbind_by_hand() {
	local _d=$1
	echo >"$SYSPCI/$_d/driver_override"
	[ -L "$SYSPCI/$_d/driver" ] && echo "$_d" >"$SYSPCI/$_d/driver/unbind"
	echo "$_d" >/sys/bus/pci/drivers_probe
}

uptime_s() { cut -d' ' -f1 /proc/uptime; }

# hold_group N: vfio-viable --hold N in the background, waited for until it
# holds /dev/vfio/N (10 s at most); its PID in $_hp
hold_group() {
	local _i=0
	vfio-viable --hold "$1" >/tmp/hold.out 2>&1 &
	_hp=$!
	while ! grep -q holding /tmp/hold.out && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	log "holder: $(cat /tmp/hold.out)"
}

# claim_journal GROUP DEVICE DRIVER ROOT: the journal iommu-own writes for a
# claim of GROUP that moves DEVICE from DRIVER (no override) to vfio-pci,
# naming ROOT as its system root, in /run/iommu-own
claim_journal() {
	mkdir -p -m 0700 /run/iommu-own
	printf '%s' '{"format":"iommu-own-journal","version":1,"operation":"claim","group":'"$1"',"driver":"vfio-pci","sysroot":"'"$4"'","boot_id":"'"$(cat /proc/sys/kernel/random/boot_id)"'","devices":[{"address":"'"$2"'","moves":true,"module":"'"$3"'","before":{"driver":"'"$3"'","driver_override":null},"want":{"driver":"vfio-pci","driver_override":"vfio-pci"},"kernel_choice":false,"expect_driver":false,"no_autoprobe":false}]}' >/run/iommu-own/journal.json
}
