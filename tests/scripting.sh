#!/usr/bin/env bash
# The command line for scripts: global options anywhere, help, -J's one
# document on every path (success or failure), -P pairs that eval safely,
# -r fields that read keeps, one row per group, colour only when asked.
. "$TOP_SRCDIR/tests/lib.sh"
WS=$FIXTURES/workstation

# ---- options anywhere, help ----------------------------------------------------------
a=$("$IOMMU_OWN" --sysroot "$WS" -i "$IDS" list -r -o GROUP,DEVICE 2>&1)
b=$("$IOMMU_OWN" list -r -o GROUP,DEVICE --sysroot "$WS" -i "$IDS" 2>&1)
c=$("$IOMMU_OWN" list -s "$WS" -r -o GROUP,DEVICE 2>&1)
[ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" = "$c" ]
verdict "global options before and after the command give the same output"
out=$("$IOMMU_OWN" claim 8 --dry-run -s "$WS" -J)
rc=$?
expect_rc $rc 0 "claim GROUP --dry-run -s TREE -J: options after the operand" grep -q '"dry_run": true' <<<"$out"
for h in "-h" "--help" "help"; do
	"$IOMMU_OWN" $h >"$SCRATCH/out" 2>&1
	expect_rc $? 0 "'iommu-own $h' prints the commands" grep -q "^  apply " "$SCRATCH/out"
done
for h in "claim -h" "claim --help" "help claim"; do
	# shellcheck disable=SC2086 # words
	"$IOMMU_OWN" $h >"$SCRATCH/out" 2>&1
	expect_rc $? 0 "'iommu-own $h' prints claim's options" grep -q "Usage: iommu-own claim" "$SCRATCH/out"
done
"$IOMMU_OWN" lsit >"$SCRATCH/out" 2>&1
expect_rc $? 2 "a mistyped command names the nearest one" grep -q "unknown command 'lsit': did you mean 'list'?" "$SCRATCH/out"
"$IOMMU_OWN" clame >"$SCRATCH/out" 2>&1
expect_rc $? 2 "... claim for clame" grep -q "did you mean 'claim'?" "$SCRATCH/out"
"$IOMMU_OWN" frobnicate >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "unknown command 'frobnicate' (see" "$SCRATCH/out" && ! grep -q "did you mean" "$SCRATCH/out"
verdict "a word near no command gets no suggestion (exit $rc)"
"$IOMMU_OWN" help frobnicate >"$SCRATCH/out" 2>&1
expect_rc $? 2 "help of an unknown command is an error" grep -q "unknown command 'frobnicate'" "$SCRATCH/out"

# ---- -J: one document on stdout, whatever happens ----------------------------------------
# jcase DESCRIPTION WANT_RC CODE ROOT ARGS...: stdout is one JSON object; CODE (or -) is its error code
jcase() {
	local d=$1 want=$2 code=$3 root=$4
	shift 4
	local -a rootopt=()
	[ "$root" != - ] && rootopt=(--sysroot "$root")
	"$IOMMU_OWN" "${rootopt[@]}" -i "$IDS" "$@" >"$SCRATCH/jout" 2>"$SCRATCH/jerr"
	local rc=$?
	if [ $rc -eq "$want" ] && "$JSONCHECK" <"$SCRATCH/jout" 2>/dev/null &&
		{ [ "$code" = - ] || grep -q "\"code\": \"$code\"" "$SCRATCH/jout"; }; then
		ok "-J: $d: one JSON document, exit $want${code/#-/}"
	else
		not_ok "-J: $d (exit $rc, wanted $want, code $code)" "$(cat "$SCRATCH/jout" "$SCRATCH/jerr")"
	fi
}
jcase "an unknown option before -J" 2 usage "$WS" list --bogus -J
jcase "an unknown option after -J" 2 usage "$WS" -J list --bogus
jcase "a missing option argument" 2 usage "$WS" list -J -o
jcase "an unknown column" 2 usage "$WS" list -J -o GROUP,NOPE
jcase "an unknown command" 2 usage "$WS" -J lsit
jcase "claim without an operand" 2 usage "$WS" claim -J
jcase "a bad --timeout" 2 usage "$WS" claim 8 -J --timeout=never
jcase "why with two operands" 2 usage "$WS" why -J 1 2
jcase "boot --udev with -J" 2 usage "$WS" boot -J --device 0000:03:00.0 --udev
jcase "a sysroot that does not exist" 2 sysroot "$SCRATCH/none" list -J
jcase "the same for check" 2 sysroot "$SCRATCH/none" -J check
jcase "the same for claim" 2 sysroot "$SCRATCH/none" claim 8 -J
jcase "why of a device that is not there" 2 - "$WS" why 0000:09:00.0 -J
jcase "list --list-columns" 0 - "$WS" list --list-columns -J
jcase "check --list-columns" 0 - "$WS" -J check --list-columns
root=$(fresh_copy workstation)
jcase "a refused claim (its report)" 1 - "$root" claim 1 -J
jcase "recover with nothing pending" 0 - "$root" recover -J
root=$(fresh_copy workstation)
mkdir -p "$root/etc/iommu-own" && printf '[device 03:00.0]\nbogus = 1\n' >"$root/etc/iommu-own/iommu-own.conf"
jcase "check with declarations that do not parse" 2 declarations "$root" check -J
jcase "apply with declarations that do not parse" 2 declarations "$root" apply -J
jcase "boot with declarations that do not parse" 2 declarations "$root" boot -J
jcase "claim --persist with declarations that do not parse" 2 declarations "$root" claim 8 --persist -J
jcase "check --syntax of them" 2 declarations "$root" check --syntax -J
rm -r "$root/etc/iommu-own"
jcase "boot with nothing declared" 0 - "$root" boot -J
jcase "a snapshot" 0 - "$root" snapshot "$SCRATCH/snap" -J
jcase "a snapshot into a directory that is not empty" 2 - "$root" snapshot "$SCRATCH/snap" -J
echo "kill 2" >"$root/replay-faults"
iommu_own "$root" claim 8 >/dev/null 2>&1
rm -f "$root/replay-faults"
jcase "a claim with a move pending" 4 pending-journal "$root" claim 3 -J
jcase "apply with a move pending" 4 pending-journal "$root" -J apply
jcase "recover of it" 0 - "$root" recover -J

# ---- -P, -r, group rows ------------------------------------------------------------------
root=$(fresh_copy workstation)
dev=$root/sys/bus/pci/devices/0000:03:00.0
printf '%s\n' 'a"b $(touch '"$SCRATCH"'/pwned) `id` \x' >"$dev/driver_override"
n=0
bad=0
while IFS= read -r line; do
	n=$((n + 1))
	unset GROUP DEVICE OVERRIDE
	eval "$line" || bad=1
	[ -n "$DEVICE" ] || bad=1
done < <(iommu_own "$root" list -P -o GROUP,DEVICE,OVERRIDE)
[ $n -eq 13 ] && [ $bad -eq 0 ] && [ ! -e "$SCRATCH/pwned" ]
verdict "-P: every line evals to its variables, a hostile override runs nothing ($n lines)"
line=$(iommu_own "$root" list -P -o DEVICE,OVERRIDE 0000:03:00.0)
eval "$line"
[ "$(printf '%b' "$OVERRIDE")" = 'a"b $(touch '"$SCRATCH"'/pwned) `id` \x' ]
verdict "-P: the value reads back byte for byte once its \\xHH escapes are decoded (printf %b)"
iommu_own "$root" list -r -n -o GROUP,DEVICE,DRIVER,OVERRIDE,ROLE >"$SCRATCH/out"
bad=0
while read -r g d drv ov role extra; do
	[ -n "$role" ] && [ -z "$extra" ] || bad=1
	case $role in kernel | user | neutral | none) ;; *) bad=1 ;; esac
done <"$SCRATCH/out"
[ $bad -eq 0 ] && grep -q "^0 0000:00:00.0 - - none$" "$SCRATCH/out"
verdict "-r: empty cells are '-', so read gets every field in its place"
iommu_own "$WS" list -o GROUP,STATE,VIABLE >"$SCRATCH/out"
[ "$(wc -l <"$SCRATCH/out")" -eq 11 ] && ! grep -q "^ *$" "$SCRATCH/out"
verdict "only group columns: one line per group, no empty device lines"
iommu_own "$WS" list -r -n -o GROUP >"$SCRATCH/out"
[ "$(sort -u "$SCRATCH/out" | wc -l)" -eq "$(wc -l <"$SCRATCH/out")" ]
verdict "-r -o GROUP: each group once"

# ---- colour -----------------------------------------------------------------------------
iommu_own "$FIXTURES/halfbound" list >"$SCRATCH/out"
! grep -q $'\033' "$SCRATCH/out"
verdict "no colour in a pipe by default"
iommu_own "$FIXTURES/halfbound" list --color=always >"$SCRATCH/out"
grep -q $'\033\\[31mmixed' "$SCRATCH/out"
verdict "--color=always colours the mixed state red"
iommu_own "$FIXTURES/halfbound" --color=always check >"$SCRATCH/out"
grep -q $'\033\\[31merror' "$SCRATCH/out"
verdict "--color=always colours an error finding"
iommu_own "$FIXTURES/halfbound" list --color=sometimes >"$SCRATCH/out" 2>&1
expect_rc $? 2 "--color with another word is a usage error" grep -q "none of auto, always, never" "$SCRATCH/out"

tap_done
