#!/usr/bin/env bash
# Golden tests: every command and output format on every fixture, compared
# exactly with tests/cli/expected/NAME.out (stdout) and NAME.err (stderr; empty
# when the file is absent). The cases are in tests/cli/cases. UPDATE=1 rewrites
# the expected files (read the diff before committing it).
. "$TOP_SRCDIR/tests/lib.sh"

cases=$TOP_SRCDIR/tests/cli/cases
expected=$TOP_SRCDIR/tests/cli/expected

while read -r name fixture status rest; do
	case $name in '' | '#'*) continue ;; esac
	eval "set -- $rest"
	root=$FIXTURES/$fixture
	out=$SCRATCH/$name.out
	err=$SCRATCH/$name.err
	(cd "$SCRATCH" && "$IOMMU_OWN" --sysroot "$root" --pci-ids "$IDS" "$@") >"$out" 2>"$err"
	rc=$?
	sed -i "s|$FIXTURES/|@FIXTURES@/|g" "$out" "$err"
	# A VFIO node's owner and mode are the checkout's files' (its user, its umask): not compared.
	sed -i -E 's/^( *"(owner|owner_group|mode)": )"[^"]*"/\1"@CHECKOUT@"/' "$out"
	if [ "${UPDATE:-}" = 1 ]; then
		cp "$out" "$expected/$name.out"
		if [ -s "$err" ]; then cp "$err" "$expected/$name.err"; else rm -f "$expected/$name.err"; fi
	fi
	want_err=/dev/null
	[ -f "$expected/$name.err" ] && want_err=$expected/$name.err
	if [ "$rc" != "$status" ]; then
		not_ok "$name: exit status $rc, expected $status" "$(head -20 "$err")"
	elif ! d=$(diff -u "$expected/$name.out" "$out" 2>&1); then
		not_ok "$name: stdout differs" "$d"
	elif ! d=$(diff -u "$want_err" "$err" 2>&1); then
		not_ok "$name: stderr differs" "$d"
	else
		ok "$name"
	fi
done <"$cases"

tap_done
