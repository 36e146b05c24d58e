#!/bin/bash
# run.sh: build tests/fuzz/fuzz-tree.c with clang's libFuzzer, AddressSanitizer
# and UndefinedBehaviorSanitizer, and fuzz every attribute iommu-own parses on
# copies of some fixture sysroots ("make fuzz" runs it from the build dir).
#
#   tests/fuzz/run.sh [SECONDS]     default FUZZ_SECONDS, else 60 per fixture
#
# Not a test: the inputs are random and the time is bounded, so it is never
# part of make check. It prints, per fixture, the executions, the coverage
# and the crashes this run found; a crash leaves its input in FUZZ_OUT
# (default ./fuzz-out/FIXTURE/crashes) and makes the exit status 1, with the
# sanitizer's report. The corpus is kept there too, so a later run goes on
# from it, and so is the last run's log (FIXTURE/last.log).
#
# Environment: CC_FUZZ (default clang), FUZZ_FIXTURES (default: passthrough
# acs pcibridge sriov noiommu-mode), FUZZ_OUT, TOP_SRCDIR and TOP_BUILDDIR
# (default . and .; the build dir has config.h). Every tree is a copy on a
# tmpfs (or $TMPDIR): nothing reads or writes the host's /sys.
set -euo pipefail

src=${TOP_SRCDIR:-.}
build=${TOP_BUILDDIR:-.}
secs=${1:-${FUZZ_SECONDS:-60}}
cc=${CC_FUZZ:-clang}
out=${FUZZ_OUT:-$PWD/fuzz-out}
fixtures=${FUZZ_FIXTURES:-passthrough acs pcibridge sriov noiommu-mode}

command -v "$cc" >/dev/null || { echo "run.sh: $cc not found (apt-get install clang)" >&2; exit 2; }
[ -f "$build/config.h" ] || { echo "run.sh: no $build/config.h: run ./configure first" >&2; exit 2; }

base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
work=$(mktemp -d "$base/iommu-own-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

# shellcheck disable=SC2046
"$cc" -std=gnu11 -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$build" -I"$src/src" \
	$(pkg-config --cflags libsysfs libpci libkmod smartcols json-c) \
	"$src/tests/fuzz/fuzz-tree.c" \
	"$src"/src/shared/*.c "$src"/src/os/*.c "$src"/src/core/*.c \
	$(pkg-config --libs libsysfs libpci libkmod smartcols json-c) \
	-o "$work/fuzz-tree"

status=0
# crashes of this run only: the corpus and older artifacts stay in $out
: >"$work/start"
printf '%-14s %10s %8s %8s %s\n' fixture execs cov ft crashes
for fx in $fixtures; do
	[ -d "$src/tests/fixtures/$fx" ] || { echo "run.sh: no fixture $fx" >&2; exit 2; }
	tree=$work/$fx
	cp -a "$src/tests/fixtures/$fx" "$tree"
	mkdir -p "$out/$fx/corpus" "$out/$fx/crashes"
	log=$work/$fx.log
	FUZZ_TREE=$tree IOMMU_OWN_FORBID_LIVE=1 "$work/fuzz-tree" -max_total_time="$secs" -max_len=2048 \
		-print_final_stats=1 -artifact_prefix="$out/$fx/crashes/" "$out/$fx/corpus" >"$log" 2>&1 || status=1
	cp "$log" "$out/$fx/last.log"
	# a target that died at start or on a corpus input has no stats: say so, go on
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" || true)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2 || true)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2 || true)
	crashes=$(find "$out/$fx/crashes" -type f -newer "$work/start" | wc -l)
	printf '%-14s %10s %8s %8s %s\n' "$fx" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$crashes"
	if [ "$crashes" -gt 0 ] || grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error|deadly signal' "$log"; then
		status=1
		grep -m 1 -A 12 -E 'ERROR: (Address|Leak)Sanitizer|runtime error|deadly signal' "$log" | sed 's/^/  /'
	fi
done
exit $status
