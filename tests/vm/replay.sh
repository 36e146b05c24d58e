#!/bin/sh
# The host's half of the differential replay scenarios. The guest took, for
# each operation, a snapshot of the live system before it (iommu-own
# snapshot) with a copy of its state directory, ran the operation live with
# --json, and took a snapshot after it; it sent them all as a base64 tar over
# its second serial port. Here each operation is replayed with --sysroot on a
# copy of its first snapshot, and must end as the live one did: the same exit
# status, result and writes (with their errors), each device with the same
# driver and driver_override, each group with the same state and viability
# (list --json), the same files in the state directory.
# Usage: replay.sh DATA_FILE WORK_DIR   (IOMMU_OWN names the binary)
# Prints RESULT replay-<op> pass|fail DETAIL lines.
set -u

data=$1 work=$2
: "${IOMMU_OWN:?}"
OPS="claim release norecord multifunction fail vf-claim vf-release vf-norecord"

fail_all() {
	for op in $OPS; do echo "RESULT replay-$op fail $*"; done
	exit 0
}

rm -rf "$work"
mkdir -p "$work/data"
sed -n '/^VMTEST-DATA-BEGIN/,/^VMTEST-DATA-END/p' "$data" | tr -d '\r' | sed '1d;$d' >"$work/data.b64"
[ -s "$work/data.b64" ] || fail_all "the guest sent no data"
base64 -d "$work/data.b64" | tar -xzf - -C "$work/data" || fail_all "the guest's data does not unpack"
D=$work/data
# A scenario that sends other operations names them in ops.
[ -s "$D/ops" ] && OPS=$(cat "$D/ops")

# end_state SYSROOT: one line per PCI device, "ADDRESS DRIVER OVERRIDE", then
# one per group, "group N STATE VIABLE" from list --json
end_state() {
	for dev in "$1"/sys/bus/pci/devices/*; do
		a=${dev##*/}
		drv=-
		[ -L "$dev/driver" ] && drv=$(basename "$(readlink "$dev/driver")")
		ovr=$(cat "$dev/driver_override" 2>/dev/null || echo "(none)")
		echo "$a $drv $ovr"
	done
	IOMMU_OWN_FORBID_LIVE=1 "$IOMMU_OWN" --sysroot "$1" list --json | awk '
		/"group": / { g = $2; sub(/,$/, "", g) }
		/"state": / && g != "" { s = $2; gsub(/[",]/, "", s) }
		/"viable": / && g != "" { v = $2; sub(/,$/, "", v); print "group", g, s, v; g = "" }'
}

# the writes of a --json report, one key a line, with the paths made
# relative to the system root (a replay names them under its sysroot)
writes() { grep -E '^ *"(path|value|rollback|error)":' "$1" | sed "s/^ *//; s/,\$//; s|\"path\": \"$2/|\"path\": \"/|"; }
result_of() { sed -n 's/^ *"result": "\([^"]*\)".*/\1/p' "$1" | head -n 1; }

for op in $OPS; do
	if grep -q "^$op" "$D/errors" 2>/dev/null; then
		echo "RESULT replay-$op fail in the guest: $(grep "^$op" "$D/errors" | head -n 1)"
		continue
	fi
	if [ ! -d "$D/$op.before.sysroot" ] || [ ! -d "$D/$op.after.sysroot" ] || [ ! -f "$D/$op.rc" ]; then
		echo "RESULT replay-$op fail the guest's data has no snapshots of $op"
		continue
	fi
	live_rc=$(cat "$D/$op.rc")
	# shellcheck disable=SC2046
	set -- $(cat "$D/$op.cmd")
	cmd=$1
	shift
	root=$work/$op.sysroot state=$work/$op.state
	cp -a "$D/$op.before.sysroot" "$root"
	cp -a "$D/$op.before.state" "$state"
	IOMMU_OWN_FORBID_LIVE=1 "$IOMMU_OWN" --sysroot "$root" "$cmd" --state-dir "$state" --json "$@" \
		>"$work/$op.json" 2>"$work/$op.err"
	rc=$?
	why=
	[ "$rc" = "$live_rc" ] || why="$why exit-status:live=$live_rc,replay=$rc($(head -n 1 "$work/$op.err"))"
	lr=$(result_of "$D/$op.json") rr=$(result_of "$work/$op.json")
	[ "$lr" = "$rr" ] || why="$why result:live=$lr,replay=$rr"
	writes "$D/$op.json" "" >"$work/$op.live-writes"
	writes "$work/$op.json" "$root" >"$work/$op.replay-writes"
	if ! cmp -s "$work/$op.live-writes" "$work/$op.replay-writes"; then
		why="$why writes-differ:$(diff "$work/$op.live-writes" "$work/$op.replay-writes" | grep '^[<>]' | head -n 6 | tr '\n' ' ')"
	fi
	end_state "$D/$op.after.sysroot" >"$work/$op.live-end"
	end_state "$root" >"$work/$op.replay-end"
	if ! cmp -s "$work/$op.live-end" "$work/$op.replay-end"; then
		why="$why end-state-differs:$(diff "$work/$op.live-end" "$work/$op.replay-end" | grep '^[<>]' | head -n 6 | tr '\n' ' ')"
	fi
	# The records (and a journal): the lock lives in the kernel's own state
	# directory, which --state-dir no longer moves, so it is not compared.
	live_files=$(cd "$D/$op.after.state" && ls | grep -v '^lock$' | tr '\n' ' ')
	replay_files=$(cd "$state" && ls | grep -v '^lock$' | tr '\n' ' ')
	[ "$live_files" = "$replay_files" ] || why="$why state-dir:live=[$live_files],replay=[$replay_files]"
	nw=$(grep -c '"path"' "$work/$op.live-writes")
	if [ -z "$why" ]; then
		echo "RESULT replay-$op pass '$cmd $*': exit $rc, result $rr, the same $nw writes and end state as live"
	else
		echo "RESULT replay-$op fail '$cmd $*':$why"
	fi
done
