#!/usr/bin/env bash
# The man page and the completions cover what the tool has: every command,
# option, column, finding code and refusal code, taken from the tool itself.
. "$TOP_SRCDIR/tests/lib.sh"
MAN=$TOP_SRCDIR/man/iommu-own.8
BASH_COMP=$TOP_SRCDIR/completions/iommu-own

if [ -n "${MANDOC:-}" ] && command -v "$MANDOC" >/dev/null 2>&1; then
	out=$("$MANDOC" -T lint "$MAN" 2>&1)
	if [ -z "$out" ]; then ok "mandoc -T lint is clean"; else not_ok "mandoc -T lint is clean" "$out"; fi
else
	not_ok "mandoc is installed (scripts/install-deps.sh)"
fi

commands=$("$IOMMU_OWN" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 {print $1}' | grep -v Commands:)
check "the command list is read from --help ($(echo $commands))" [ "$(echo "$commands" | wc -w)" -ge 5 ]

# man page text without mdoc escapes (\- and \&)
man_text=$(sed 's/\\-/-/g; s/\\&//g' "$MAN")
missing=
for c in $commands; do
	grep -q -E "^\.It Cm $c|^\.Cm $c" <<<"$man_text" || missing="$missing $c"
	grep -q -w -- "$c" "$BASH_COMP" || missing="$missing bash:$c"
	for o in $("$IOMMU_OWN" "$c" --help | grep -o -E -- '--[a-z][a-z-]+' | sort -u); do
		case $o in --help | --usage | --version) continue ;; esac
		grep -q -- "${o#--}" <<<"$man_text" || missing="$missing $c:$o"
		grep -q -- "$o" "$BASH_COMP" || missing="$missing bash:$c:$o"
	done
done
for o in $("$IOMMU_OWN" --help | grep -o -E -- '--[a-z][a-z-]+' | sort -u); do
	case $o in --help | --usage | --version) continue ;; esac
	grep -q -- "${o#--}" <<<"$man_text" || missing="$missing global:$o"
	grep -q -- "$o" "$BASH_COMP" || missing="$missing bash:global:$o"
done
check "every command and option is in the man page and the bash completion${missing:+ (missing:$missing)}" [ -z "$missing" ]

missing=
for c in list check; do
	for col in $("$IOMMU_OWN" "$c" --list-columns | awk '{print $1}'); do
		grep -q -w -- "$col" <<<"$man_text" || missing="$missing $c:$col"
	done
done
check "every output column is in the man page${missing:+ (missing:$missing)}" [ -z "$missing" ]

missing=
codes=$(grep -o -E '^\s*\{ "[a-z-]+", (SEV_[A-Z]+|true|false),' "$TOP_SRCDIR/src/core/audit.c" "$TOP_SRCDIR/src/core/preflight.c" |
	sed -E 's/.*\{ "([a-z-]+)".*/\1/' | sort -u)
for code in $codes; do
	grep -q -w -- "$code" <<<"$man_text" || missing="$missing $code"
done
ncodes=$(echo "$codes" | wc -w)
[ -z "$missing" ] && [ "$ncodes" -ge 15 ]
verdict "every finding and refusal code ($ncodes) is in the man page${missing:+ (missing:$missing)}"

missing=
for key in $("$IOMMU_OWN" --sysroot "$FIXTURES/halfbound" --pci-ids "$IDS" list --json | grep -o -E '"[a-z_]+":' | tr -d '":' | sort -u) \
	$("$IOMMU_OWN" --sysroot "$FIXTURES/pcibridge" --pci-ids "$IDS" check --json | grep -o -E '"[a-z_]+":' | tr -d '":' | sort -u) \
	$("$IOMMU_OWN" --sysroot "$FIXTURES/halfbound" --pci-ids "$IDS" claim 2 --dry-run --json | grep -o -E '"[a-z_]+":' | tr -d '":' | sort -u) \
	$("$IOMMU_OWN" --sysroot "$FIXTURES/vfs" --pci-ids "$IDS" vfs 0000:01:00.0 2 --claim --dry-run --json | grep -o -E '"[a-z_]+":' | tr -d '":' | sort -u); do
	grep -q -w -- "$key" <<<"$man_text" || missing="$missing $key"
done
check "every JSON key is in the man page${missing:+ (missing:$missing)}" [ -z "$missing" ]

# The bash completion offers group numbers taken from the tool itself.
words=$(bash -c '
	source "$1"
	COMP_WORDS=("$3" --sysroot "$2" list "")
	COMP_CWORD=4
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	_iommu_own 2>/dev/null || __iommu_own 2>/dev/null || true
	printf "%s\n" "${COMPREPLY[@]}"' _ "$BASH_COMP" "$FIXTURES/halfbound" "$IOMMU_OWN")
check "bash completes group numbers from the tree" grep -q -x 2 <<<"$words"

# Each command's --help: its own options, then each group of shared ones under one heading, in order.
bad=
for c in $commands; do
	heads=$("$IOMMU_OWN" "$c" --help | grep -E '^ [A-Z][a-z ]+:$' | tr -d ' ' | tr '\n' ,)
	case $heads in
	'' | Output:,Selectors:,Globaloptions:, | Selectors:,Globaloptions:, | Output:,Globaloptions:, | Globaloptions:,) ;;
	*) bad="$bad $c:$heads" ;;
	esac
done
check "--help of every command: Output, Selectors and Global options each once, in that order${bad:+ (not:$bad)}" [ -z "$bad" ]

tap_done
