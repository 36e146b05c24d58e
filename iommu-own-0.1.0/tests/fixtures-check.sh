#!/usr/bin/env bash
# The committed fixture trees are exactly what the generator builds.
. "$TOP_SRCDIR/tests/lib.sh"
if ! command -v depmod >/dev/null && [ ! -x /usr/sbin/depmod ] && [ ! -x /sbin/depmod ]; then
	echo "1..0 # SKIP depmod (Debian package kmod) is not installed"
	exit 0
fi
if out=$(bash "$FIXTURES/mkfixtures.sh" --check 2>&1); then
	ok "the committed fixtures match tests/fixtures/mkfixtures.sh"
else
	not_ok "the committed fixtures match tests/fixtures/mkfixtures.sh" "$(printf '%s\n' "$out" | head -30)"
fi
# Every symlink in every fixture resolves inside its own sysroot, as sysfs links do.
bad=$(cd "$FIXTURES" && for f in */; do
	find "$f" -type l | while read -r l; do
		t=$(readlink -m "$l")
		case $t in "$PWD/${f%/}"/*) ;; *) echo "$l -> $(readlink "$l")" ;; esac
	done
done)
if [ -z "$bad" ]; then ok "every fixture symlink stays inside its sysroot"; else not_ok "fixture symlinks escape" "$bad"; fi
tap_done
