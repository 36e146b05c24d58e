#!/usr/bin/env bash
# What a person sees: the default list, check and why of three fixtures in
# real 80- and 120-column terminals (tmux), compared with tests/screens/.
# No line may be wider than the terminal, and no word of check's or why's
# text may be cut by a line end. UPDATE=1 rewrites the expected screens.
. "$TOP_SRCDIR/tests/lib.sh"
EXPECTED=$TOP_SRCDIR/tests/screens

if ! command -v tmux >/dev/null 2>&1; then
	not_ok "tmux is installed (scripts/install-deps.sh)"
	tap_done
	exit
fi

# screen COLS ARGS...: the tool run in a tmux pane COLS wide, the pane as shown
screen() {
	local cols=$1 sock=$SCRATCH/tmux.$RANDOM i
	shift
	# From the fixtures' directory: the hints name the sysroot as given, the same wherever the tree is built.
	{ printf 'cd %q && ' "$FIXTURES"; printf '%q ' "$IOMMU_OWN" --pci-ids "$IDS" "$@"; } >"$SCRATCH/cmd"
	tmux -S "$sock" -f /dev/null new-session -d -x "$cols" -y 250 \
		"env LC_ALL=C.UTF-8 TERM=xterm NO_COLOR=1 sh -c '. $SCRATCH/cmd; echo __END__ \$?; sleep 30'"
	for i in $(seq 100); do
		tmux -S "$sock" capture-pane -p 2>/dev/null | grep -q "^__END__" && break
		sleep 0.05
	done
	tmux -S "$sock" capture-pane -p -S 0 -E 249 | sed -n '/^__END__/q;p' | sed 's/ *$//'
	tmux -S "$sock" kill-server 2>/dev/null
}

# The screens: FIXTURE:COMMAND (words joined by "_")
SCREENS="workstation:list workstation:why_9 halfbound:list halfbound:check halfbound:why_2
	pcibridge:list pcibridge:check_--all pcibridge:why_2 acs:check_--all"
for cols in 80 120; do
	for s in $SCREENS; do
		f=${s%%:*} cmd=${s#*:}
		name=$f-${cmd//_/-}-$cols
		# shellcheck disable=SC2086 # the command's words
		screen "$cols" --sysroot "$f" ${cmd//_/ } >"$SCRATCH/$name"
		[ -n "${UPDATE:-}" ] && cp "$SCRATCH/$name" "$EXPECTED/$name.txt"
		widest=$(LC_ALL=C.UTF-8 wc -L <"$SCRATCH/$name")
		if [ ! -s "$SCRATCH/$name" ]; then
			not_ok "$name: the screen is empty"
		elif ! diff -u "$EXPECTED/$name.txt" "$SCRATCH/$name" >"$SCRATCH/diff"; then
			not_ok "$name: the screen differs from tests/screens/$name.txt" "$(cat "$SCRATCH/diff")"
		elif [ "$widest" -gt "$cols" ]; then
			not_ok "$name: a line $widest columns wide, wider than $cols"
		else
			ok "$name: as expected, no line wider than $cols columns"
		fi
	done
done

# No word cut at a line end: every word of check's messages, as printed to a
# pipe (whole), appears whole on the 80-column screen.
for f in halfbound pcibridge passthrough noiommu-mode; do
	screen 80 --sysroot "$f" check --all >"$SCRATCH/scr"
	(cd "$FIXTURES" && iommu_own "$f" check --all -J) | sed -n 's/^ *"\(message\|hint\)": "\(.*\)",\{0,1\}$/\2/p' |
		sed 's/\\"/"/g' | tr ' ' '\n' | grep -v '^$' | sort -u >"$SCRATCH/words"
	missing=
	while IFS= read -r w; do
		grep -q -F -- "$w" "$SCRATCH/scr" || missing="$missing $w"
	done <"$SCRATCH/words"
	n=$(wc -l <"$SCRATCH/words")
	[ -z "$missing" ] && [ "$n" -gt 5 ]
	verdict "$f: all $n words of check's messages and hints are whole on an 80-column screen${missing:+ (cut:$missing)}"
done
# Colour in a terminal, none with NO_COLOR.
sock=$SCRATCH/tmux.colour
tmux -S "$sock" -f /dev/null new-session -d -x 100 -y 40 \
	"env LC_ALL=C.UTF-8 TERM=xterm $IOMMU_OWN --sysroot $FIXTURES/halfbound list; sleep 30"
sleep 0.5
tmux -S "$sock" capture-pane -p -e | grep -q $'\033\\[31mmixed'
verdict "in a terminal, the mixed state is red"
tmux -S "$sock" kill-server 2>/dev/null

tap_done
