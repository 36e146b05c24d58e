#!/bin/bash
# gen-group.sh: sysroots for the growth benchmarks (bench/growth.sh).
#
#   gen-group.sh OUTDIR NDEV KIND
#     group   one IOMMU group of NDEV endpoints on a kernel DMA driver
#             (QAT-like accelerator functions on root buses): what a claim and
#             a release of a large group move
#     mixed   the same group with every other function on vfio-pci: one large
#             mixed group, what check reports in one finding
#     vfio    NDEV devices on vfio-pci, each in its own group, and one more
#             device on a kernel driver in a group of its own: what one bind
#             costs when the host already has many VFIO devices
#
# Functions fill root buses 256 to a bus (32 slots of 8 functions), in
# domain 0000 and then the next ones. Built beside OUTDIR and renamed into
# place; cached by a stamp like gen.sh's.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fixtures=$(cd "$here/../tests/fixtures" && pwd)
if (($# != 3)) || [[ ! $2 =~ ^[0-9]+$ ]] || [[ ! $3 =~ ^(group|mixed|vfio)$ ]]; then
	echo "usage: gen-group.sh OUTDIR NDEV group|mixed|vfio" >&2
	exit 2
fi
out=${1%/} n=$2 kind=$3
stamp="$(cat "${BASH_SOURCE[0]}" "$fixtures/lib.sh" "$fixtures/mkmodules.sh" | sha256sum | cut -c1-16) n=$n kind=$kind"
if [[ -f $out/.gen-stamp && $(<"$out/.gen-stamp") == "$stamp" ]]; then
	echo "$out: cached"
	exit 0
fi
# shellcheck source=../tests/fixtures/lib.sh
. "$fixtures/lib.sh"

mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d "$(dirname "$out")/.gen.XXXXXX")
cat=$(mktemp -d "$(dirname "$out")/.gen.XXXXXX")
trap 'rm -rf "$tmp" "$cat"' EXIT

# The module index, from a catalog of one device of the kind (mkmodules.sh
# runs a process per device), so that a release without a record finds the
# driver by modalias as the kernel's id table would.
fx_root "$cat"
fx_hostbridge 0000 00
fx_dev pci0000:00 0000:00:00.0 0x8086 0x4941 0x0b4000
fx_bind 0000:00:00.0 4xxx qat_4xxx
mkdir -p "$cat/proc/sys/kernel"
echo 6.1.0-bench >"$cat/proc/sys/kernel/osrelease"
fx_finish
bash "$fixtures/mkmodules.sh" "$cat" >/dev/null

fx_root "$tmp"
fx_vfio
mkdir -p "$tmp/proc/sys/kernel"
echo 6.1.0-bench >"$tmp/proc/sys/kernel/osrelease"

hb=''
addr_of() { # addr_of I: sets A to the address of function I, making its root bus
	local dom=$((i / 65536)) bus=$(((i / 256) % 256)) slot=$(((i / 8) % 32)) fn=$((i % 8))
	local d b
	printf -v d '%04x' "$dom"
	printf -v b '%02x' "$bus"
	if [[ $hb != "pci$d:$b" ]]; then
		fx_hostbridge "$d" "$b"
		hb=pci$d:$b
	fi
	printf -v A '%s:%s:%02x.%x' "$d" "$b" "$slot" "$fn"
}

members=()
for ((i = 0; i < n; i++)); do
	addr_of "$i"
	fx_dev "$hb" "$A" 0x8086 0x4941 0x0b4000 mf=1
	if [[ $kind == vfio || ($kind == mixed && $((i % 2)) -eq 1) ]]; then
		fx_bind "$A" vfio-pci vfio_pci
		fx_driver_override "$A" vfio-pci 2>/dev/null || printf 'vfio-pci\n' >"$tmp/${FX_DEV[$A]}/driver_override"
	else
		fx_bind "$A" 4xxx qat_4xxx
	fi
	if [[ $kind == vfio ]]; then
		fx_group "$i" "$A"
	else
		members+=("$A")
	fi
done
if [[ $kind == vfio ]]; then
	i=$n
	addr_of "$i"
	fx_dev "$hb" "$A" 0x8086 0x4941 0x0b4000
	fx_bind "$A" 4xxx qat_4xxx
	fx_group "$n" "$A"
else
	fx_group 0 "${members[@]}"
fi
fx_finish
mkdir -p "$tmp/lib/modules"
cp -a "$cat/lib/modules/6.1.0-bench" "$tmp/lib/modules/"
echo "$stamp" >"$tmp/.gen-stamp"
rm -rf "$out"
mv "$tmp" "$out"
rm -rf "$cat"
trap - EXIT
echo "$out: $n devices ($kind)"
