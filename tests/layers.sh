#!/bin/bash
# The layers show in the tree and depend one way (src/README): shared <- os
# <- core <- cmd. A file may include its own layer and the ones below it,
# never one above; and only src/os/layout.[ch] spells a sysfs, procfs or
# /dev path (string literals, comments aside).
. "$(dirname "$0")/lib.sh"

src=$TOP_SRCDIR/src
rank() { case $1 in shared) echo 0 ;; os) echo 1 ;; core) echo 2 ;; cmd) echo 3 ;; *) echo 9 ;; esac; }

bad=()
files=0
for f in "$src"/*/*.[ch]; do
	files=$((files + 1))
	layer=$(basename "$(dirname "$f")")
	mine=$(rank "$layer")
	while read -r inc; do
		[ -n "$inc" ] || continue
		dir=${inc%%/*}
		if [ "$dir" = "$inc" ] || [ "$(rank "$dir")" -gt "$mine" ]; then
			bad+=("${f#"$src"/} includes \"$inc\"")
		fi
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f" | grep -v '^config\.h$')
done
check "every file of src/ lies in a layer ($files files)" [ "$(find "$src" -maxdepth 1 -name '*.[ch]' | wc -l)" -eq 0 ]
if [ ${#bad[@]} -eq 0 ] && [ "$files" -gt 20 ]; then
	ok "no file includes a header of a layer above its own ($files files)"
else
	not_ok "no file includes a header of a layer above its own" "${bad[@]}"
fi

# String literals that spell the kernel's file layout, with comments removed first.
pattern='"[^"]*(sys/(bus|kernel|module|class|devices|fs)|proc/|/dev/|dev/vfio|lib/modules|run/iommu-own)'
leaks=$(for f in "$src"/*/*.[ch]; do
	case $f in */os/layout.[ch]) continue ;; esac
	perl -0777 -pe 's{/\*.*?\*/}{ }gs; s{//[^\n]*}{}g' "$f" | grep -nE "$pattern" | sed "s#^#${f#"$src"/}:#"
done)
if [ -z "$leaks" ]; then
	ok "only src/os/layout.[ch] spells sysfs, procfs and /dev paths"
else
	not_ok "only src/os/layout.[ch] spells sysfs, procfs and /dev paths" "$leaks"
fi

# Every JSON string is made valid in one place (shared/escape.c), whatever bytes the tree holds.
raw_json=$(grep -n 'json_object_new_string\(_len\)\?(' "$src"/*/*.c | grep -v '^[^:]*/shared/escape\.c:' || :)
if [ -z "$raw_json" ]; then
	ok "JSON strings are made by json_str() alone"
else
	not_ok "JSON strings are made by json_str() alone" "$raw_json"
fi

# The test itself must be able to fail: a planted leak and a planted upward include are found.
tmp=$SCRATCH/src
mkdir -p "$tmp/core"
printf '#include "cmd/commands.h"\nstatic const char *p = "sys/bus/pci/devices";\n' >"$tmp/core/x.c"
planted_inc=$(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$tmp/core/x.c")
planted_leak=$(perl -0777 -pe 's{/\*.*?\*/}{ }gs' "$tmp/core/x.c" | grep -cE "$pattern")
[ "$(rank "${planted_inc%%/*}")" -gt "$(rank core)" ] && [ "$planted_leak" -eq 1 ]
verdict "the checks find a planted upward include and a planted path"

tap_done
