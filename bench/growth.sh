#!/bin/bash
# growth.sh: how the cost of a command grows with what it works on, the
# costs that once grew faster than the work (the hardening issue): a release
# of a large group, the check table of one large mixed group, and one bind on
# a host that already has many VFIO devices. Prints, for each, the median
# time at each size and the growth per doubling of the size, computed from
# the smallest and the largest size in this one run (target: at most 2.3x,
# i.e. linear within noise; quadratic would be 4x).
#
#   growth.sh              sizes 1000 2000 4000 8000 (groups), 1000 4000 16000 (VFIO devices)
#   GROWTH_RUNS=5          runs per point (default 5)
#   BENCH_TREES=DIR        where trees are cached (default as bench/run.sh)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tool=${IOMMU_OWN:-$PWD/iommu-own}
timeit=${BENCH_TIMEIT:-$PWD/bench/timeit}
runs=${GROWTH_RUNS:-5}
trees=${BENCH_TREES:-/dev/shm/iommu-own-bench-$(id -u)/trees}
group_sizes=(${GROWTH_GROUP_SIZES:-1000 2000 4000 8000})
vfio_sizes=(${GROWTH_VFIO_SIZES:-1000 4000 16000})
export IOMMU_OWN_FORBID_LIVE=1
mkdir -p "$trees"
work=$(mktemp -d "${TMPDIR:-/dev/shm}/growth.XXXXXX")
trap 'rm -rf "$work"' EXIT

# median of the numbers on stdin
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# time_ms CMD...: wall milliseconds of one run (the command's exit status is not judged here)
time_ms() {
	local wall rest
	read -r wall rest < <("$timeit" "$@" 2>/dev/null)
	awk -v w="$wall" 'BEGIN {printf "%.2f", w * 1000}'
}

# per_doubling T_SMALL T_LARGE N_SMALL N_LARGE
per_doubling() {
	awk -v a="$1" -v b="$2" -v n="$3" -v m="$4" 'BEGIN {
		d = log(m / n) / log(2); r = (a > 0) ? exp(log(b / a) / d) : 0
		printf "%.2fx %s", r, (r <= 2.3 ? "ok" : "FAIL") }'
}

report() { # report LABEL SIZES... -- TIMES...
	local label=$1
	shift
	local -a n=() t=()
	while [[ $1 != -- ]]; do n+=("$1"); shift; done
	shift
	t=("$@")
	printf '%-44s' "$label"
	for i in "${!n[@]}"; do printf ' %6s:%9s ms' "${n[$i]}" "${t[$i]}"; done
	printf '   per doubling %s\n' "$(per_doubling "${t[0]}" "${t[-1]}" "${n[0]}" "${n[-1]}")"
}

echo "iommu-own growth: median wall time of $runs runs per point"
rel=() chk=() chkb=()
for n in "${group_sizes[@]}"; do
	bash "$here/gen-group.sh" "$trees/group$n" "$n" group >/dev/null
	bash "$here/gen-group.sh" "$trees/mixed$n" "$n" mixed >/dev/null
	root=$work/group$n
	cp -a "$trees/group$n" "$root"
	"$tool" --sysroot "$root" claim 0 >/dev/null 2>&1 || { echo "growth.sh: the claim of $n devices failed" >&2; exit 1; }
	ts=()
	for ((r = 0; r < runs; r++)); do
		ts+=("$(time_ms "$tool" --sysroot "$root" release 0)")
		"$tool" --sysroot "$root" claim 0 >/dev/null 2>&1
	done
	rel+=("$(printf '%s\n' "${ts[@]}" | median)")
	ts=()
	for ((r = 0; r < runs; r++)); do ts+=("$(time_ms "$tool" --sysroot "$trees/mixed$n" check)"); done
	chk+=("$(printf '%s\n' "${ts[@]}" | median)")
	chkb+=("$({ "$tool" --sysroot "$trees/mixed$n" check || :; } | wc -c)")
	rm -rf "$root"
done
report "release of one group of N devices" "${group_sizes[@]}" -- "${rel[@]}"
report "check table, one mixed group of N devices" "${group_sizes[@]}" -- "${chk[@]}"
printf '%-44s' "  its output, bytes"
for i in "${!group_sizes[@]}"; do printf ' %6s:%12s' "${group_sizes[$i]}" "${chkb[$i]}"; done
printf '   per doubling %s\n' "$(per_doubling "${chkb[0]}" "${chkb[-1]}" "${group_sizes[0]}" "${group_sizes[-1]}")"

bind=()
for n in "${vfio_sizes[@]}"; do
	bash "$here/gen-group.sh" "$trees/vfio$n" "$n" vfio >/dev/null
	root=$work/vfio$n
	cp -a "$trees/vfio$n" "$root"
	ts=()
	for ((r = 0; r < runs; r++)); do
		ts+=("$(time_ms "$tool" --sysroot "$root" claim "$n")")
		"$tool" --sysroot "$root" release "$n" >/dev/null 2>&1
	done
	bind+=("$(printf '%s\n' "${ts[@]}" | median)")
	rm -rf "$root"
done
report "claim of one device beside N VFIO devices" "${vfio_sizes[@]}" -- "${bind[@]}"
