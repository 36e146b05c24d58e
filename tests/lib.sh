# Shared by the script tests: TAP output and scratch copies of fixtures.
# Every test runs the tool on a fixture sysroot (or a copy of one), never on /sys.
set -u

: "${TOP_SRCDIR:?run through make check}"
: "${IOMMU_OWN:?run through make check}"
FIXTURES=$TOP_SRCDIR/tests/fixtures
IDS=$FIXTURES/pci.ids
export IOMMU_OWN_FORBID_LIVE=1 # belt and braces: live sysfs writes are refused
unset IOMMU_OWN_SYSROOT

tap_n=0
tap_failed=0
ok() { # ok DESCRIPTION
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1"
}
not_ok() { # not_ok DESCRIPTION [DETAILS...]
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"
	shift
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done
}
check() { # check DESCRIPTION COMMAND...: ok when the command succeeds
	local d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
expect_rc() { # expect_rc RC WANT DESCRIPTION COMMAND...: ok when RC is WANT and the command succeeds
	local rc=$1 want=$2 d=$3
	shift 3
	if [ "$rc" -eq "$want" ] && "$@"; then ok "$d"; else not_ok "$d (exit $rc, expected $want)"; fi
}
# (A $(...) in DESCRIPTION would run before verdict and hide the status: compute it first.)
verdict() { # verdict DESCRIPTION: ok when the command just before succeeded
	local rc=$?
	if [ "$rc" -eq 0 ]; then ok "$1"; else not_ok "$1 (status $rc)"; fi
}
# wait_for COMMAND...: poll until the command succeeds (10 s at most).
wait_for() {
	local i
	for i in $(seq 200); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}
unbound() { [ ! -e "$1/driver" ] && [ ! -L "$1/driver" ]; }
bound_to() { [ "$(basename "$(readlink "$1/driver" 2>/dev/null)")" = "$2" ]; } # bound_to DEVICE_DIR DRIVER
# nvme_bound_by_hand ROOT DRIVER: the workstation fixture's NVMe (0000:02:00.0)
# put on DRIVER behind iommu-own's back, with the links both ways that sysfs shows
nvme_bound_by_hand() {
	ln -s "../../../../bus/pci/drivers/$2" "$1/sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0/driver"
	ln -s ../../../../devices/pci0000:00/0000:00:1c.0/0000:02:00.0 "$1/sys/bus/pci/drivers/$2/0000:02:00.0"
}
tap_done() {
	echo "1..$tap_n"
	rm -rf "$SCRATCH"
	[ "$tap_failed" -eq 0 ]
}

# Copies of fixtures are many small files: tmpfs keeps that fast when there is one.
scratch_base=${TMPDIR:-/tmp}
[ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && scratch_base=/dev/shm
SCRATCH=$(mktemp -d "$scratch_base/iommu-own-test.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

# fresh_copy FIXTURE: a writable copy under the scratch dir; prints its path.
fresh_copy() {
	local dst
	dst=$(mktemp -d "$SCRATCH/$1.XXXXXX")
	cp -a "$FIXTURES/$1/." "$dst/" || return 1
	printf '%s\n' "$dst"
}

# tree_state DIR: the kernel-visible state of a sysroot (driver links, overrides, dev/vfio), one line each.
tree_state() {
	(
		cd "$1" || exit 1
		find sys/devices -name driver -type l -printf '%h %l\n' | sort
		find sys/devices -name driver_override -type f -printf '%h ' -exec cat {} \; | sort
		find sys/bus/pci/drivers -mindepth 2 -maxdepth 2 -type l -printf '%p %l\n' | sort
		find dev -printf '%p\n' 2>/dev/null | sort
		find sys/devices -name vfio-dev -type d | sort
	)
}

# Whole-tree comparison of what the kernel shows: every path under sys/ and
# dev/ with its type, link target and content (not the state dir). A module
# that a claim loaded stays loaded, as with the kernel: when one tree lacks
# vfio-pci, its driver and module directories and dev/vfio/vfio are not compared.
# VFIO cdev numbers (vfio-dev/vfioN) are left out: the kernel hands them out
# lowest free first (an IDA), so a rollback in reverse order may number them
# otherwise, as it may in the kernel; which devices have one is kept.
manifest() { # manifest DIR
	(
		cd "$1" || exit 1
		find sys dev -printf '%p %y %l\n' 2>/dev/null
		find sys dev -type f ! -path '*/vfio-dev/*' -exec md5sum {} + 2>/dev/null
	) | sed -E 's#(vfio-dev/)vfio[0-9]+#\1vfioN#g' | sort
}
same_tree() { # same_tree A B
	local skip='^$'
	[ -e "$1/sys/bus/pci/drivers/vfio-pci" ] && [ -e "$2/sys/bus/pci/drivers/vfio-pci" ] ||
		skip='^(sys/bus/pci/drivers/vfio-pci|sys/module/vfio_pci|dev/vfio/vfio|dev/vfio|dev)( |/)|  (sys/bus/pci/drivers/vfio-pci|sys/module/vfio_pci|dev/vfio/vfio)(/|$)'
	diff <(manifest "$1" | grep -v -E "$skip") <(manifest "$2" | grep -v -E "$skip") >/dev/null
}

iommu_own() { # iommu_own SYSROOT ARGS...
	local root=$1
	shift
	"$IOMMU_OWN" --sysroot "$root" --pci-ids "$IDS" "$@"
}
