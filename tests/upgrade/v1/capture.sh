#!/usr/bin/env bash
# capture.sh [--check]: (re)make the version-1 journals of this directory with
# a build of iommu-own 0.1.0, and check that each .state file rebuilds exactly
# the tree that build leaves when it is killed after write N.
#
#   TOP_SRCDIR=$PWD IOMMU_OWN=$PWD/iommu-own tests/upgrade/v1/capture.sh
#
# --check compares instead of writing: the journals here must equal what the
# build writes (the sysroot path aside). Only meaningful with a version-1 build.
set -u
: "${TOP_SRCDIR:?set TOP_SRCDIR to the source tree}"
: "${IOMMU_OWN:?set IOMMU_OWN to a version-1 iommu-own binary}"
export IOMMU_OWN_FORBID_LIVE=1
# shellcheck source=../../lib.sh
. "$TOP_SRCDIR/tests/lib.sh"
here=$TOP_SRCDIR/tests/upgrade/v1
# shellcheck source=apply-state.sh
. "$here/apply-state.sh"
check_only=false
[ "${1-}" = --check ] && check_only=true

status=0
problem() { echo "capture: $*" >&2; status=1; }

rebuilt() { # rebuilt STATEFILE PHASE...: a tree rebuilt from the file; prints its path
	local d
	d=$(mktemp -d "$SCRATCH/state.XXXXXX") && v1_state "$d" "$@" && echo "$d"
}

journal_of() { # journal_of ROOT: the journal with the sysroot replaced by @SYSROOT@
	sed "s|\"sysroot\":\"$(realpath "$1")\"|\"sysroot\":\"@SYSROOT@\"|" "$1/run/iommu-own/journal.json"
}

keep() { # keep NAME TEXT_FILE: write it here, or compare with what is here
	if $check_only; then
		cmp -s "$2" "$here/$1" || problem "$1 differs from what this build writes"
	else
		cp "$2" "$here/$1"
	fi
}

for op in claim release; do
	for k in 1 2 3; do
		state=$here/$op-3-kill$k.state
		before=$(rebuilt "$state" before) || { problem "$state: cannot rebuild"; continue; }
		root=$(mktemp -d "$SCRATCH/run.XXXXXX")
		cp -a "$before/." "$root/"
		echo "kill $k" >"$root/replay-faults"
		iommu_own "$root" "$op" 3 >/dev/null 2>&1
		rc=$?
		rm -f "$root/replay-faults"
		[ $rc -eq 137 ] || problem "$op 3 with kill $k: exit $rc, not 137 (SIGKILL)"
		journal_of "$root" >"$SCRATCH/journal"
		keep "$op-3-kill$k.journal.json" "$SCRATCH/journal"
		killed=$(rebuilt "$state" before "done")
		diff <(tree_state "$root") <(tree_state "$killed") >"$SCRATCH/diff" ||
			problem "$state: 'before' and 'done' do not rebuild what $op left after write $k: $(cat "$SCRATCH/diff")"
		# the whole move, from a fresh copy: what 'rest' completes
		full=$(mktemp -d "$SCRATCH/full.XXXXXX")
		cp -a "$before/." "$full/"
		iommu_own "$full" "$op" 3 >/dev/null 2>&1 || problem "$op 3 from the 'before' state failed"
		all=$(rebuilt "$state" before "done" rest)
		diff <(tree_state "$full") <(tree_state "$all") >"$SCRATCH/diff" ||
			problem "$state: 'before', 'done' and 'rest' do not rebuild the whole $op: $(cat "$SCRATCH/diff")"
		if [ "$op" = claim ] && [ "$k" = 1 ]; then
			keep group-3.record.json "$full/run/iommu-own/group-3.json"
		fi
	done
done
rm -rf "$SCRATCH"
[ $status -eq 0 ] && echo "capture: $($check_only && echo checked || echo wrote) the version-1 journals and states in $here"
exit $status
