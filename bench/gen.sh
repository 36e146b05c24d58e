#!/bin/bash
# gen.sh: synthetic sysroots shaped like SR-IOV servers, for the benchmarks.
#
#   gen.sh [-f] OUTDIR NDEV    build OUTDIR, a sysroot with exactly NDEV PCI
#                              devices (NDEV >= 40); -f rebuilds it even when
#                              it is up to date
#
# The tree is cached: OUTDIR/.gen-stamp records a hash of this script, of
# tests/fixtures/lib.sh and mkmodules.sh, and of NDEV; when it matches,
# nothing is done. A tree is built beside OUTDIR and renamed into place, so
# an interrupted build leaves no half tree behind. Prints one line:
# "OUTDIR: N devices, G groups (...)".
#
# The shape (every size): a two-socket server's chipset (host bridge, AHCI,
# xHCI, LPC/SMBus/SPI in one group, a Broadcom LOM pair in one group with an
# RMRR, the ASPEED BMC display behind its bridge), NVMe drives and GPUs on
# root ports (one GPU set per 1,000 devices: one on nvidia, one given to
# vfio-pci, one half-bound, i.e. a mixed group), from 500 devices on a
# 64-function accelerator behind a PCIe-to-PCI bridge in one group on a
# kernel driver (what bench/run.sh claims and releases; the bridge has its
# own group so that the group is exactly 64 devices), and the rest SR-IOV
# NICs (Intel X710 on i40e/iavf, E810 on ice/iavf, Mellanox ConnectX-6 Dx on
# mlx5_core): each a dual-port card on its own root port, each port's VFs
# each in their own IOMMU group, the first half of a port's VFs on vfio-pci
# (driver_override vfio-pci), the rest on the VF driver, one of them per
# card with a pending vfio-pci override. Root ports sit four to a root bus
# (a PCIe stack), stacks alternate between the NUMA nodes, and a new PCI
# domain starts when the buses of one run out. The last card takes the VFs
# needed to reach NDEV exactly.
#
# The trees get the module index of their kernel (lib/modules/...), built by
# tests/fixtures/mkmodules.sh from a small catalog tree holding one device
# of each kind (running it on the big tree would take a process per device),
# so that the replay engine can match drivers to devices on release.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fixtures=$(cd "$here/../tests/fixtures" && pwd)

force=0
if [[ ${1-} == -f ]]; then
	force=1
	shift
fi
if (($# != 2)) || [[ ! $2 =~ ^[0-9]+$ ]] || (($2 < 40)); then
	echo "usage: gen.sh [-f] OUTDIR NDEV (NDEV >= 40)" >&2
	exit 2
fi
out=${1%/}
want=$2

stamp="$(cat "${BASH_SOURCE[0]}" "$fixtures/lib.sh" "$fixtures/mkmodules.sh" | sha256sum | cut -c1-16) ndev=$want"
if ((!force)) && [[ -f $out/.gen-stamp && $(<"$out/.gen-stamp") == "$stamp" ]]; then
	echo "$out: $(<"$out/.gen-info") (cached)"
	exit 0
fi

# shellcheck source=../tests/fixtures/lib.sh
. "$fixtures/lib.sh"

# ---------------------------------------------------------------------------
# Allocation of domains, buses, root ports and group numbers.

DOM=0 BUS=0   # next free bus (BUS) in domain DOM
HB=''         # current root bus ("pciDDDD:BB")
HBBUS=0       # its bus number
NPORT=4       # root ports used on it (4: full, start a new stack)
NSTACK=0      # stacks so far (NUMA node = stack parity)
NG=0          # next IOMMU group number
NDEV=0        # devices created
declare -A KIND=()  # "driver module vendor device class" -> 1 (for the catalog)

# alloc_bus: set B to a free bus number (hex) in domain D (hex).
alloc_bus() {
	if ((BUS > 255)); then
		DOM=$((DOM + 1)) BUS=0
	fi
	printf -v D '%04x' "$DOM"
	printf -v B '%02x' "$BUS"
	BUS=$((BUS + 1))
}

# new_stack: a new root bus (host bridge) for four root ports.
new_stack() {
	if ((BUS + 5 > 256)); then # keep a stack within one domain
		DOM=$((DOM + 1)) BUS=0
	fi
	alloc_bus
	fx_hostbridge "$D" "$B"
	HB=pci$D:$B HBBUS=$((16#$B)) NPORT=0
	NUMA=$((NSTACK % 2))
	NSTACK=$((NSTACK + 1))
}

# dev PARENT ADDR VENDOR DEVICE CLASS [opts]: fx_dev, counted.
dev() {
	fx_dev "$@"
	NDEV=$((NDEV + 1))
}

# bind_to ADDR DRIVER [MODULE]: fx_bind, remembering the kind (driver, module,
# vendor:device, class) for the module index; no module: a built-in driver.
bind_to() {
	fx_bind "$@"
	[[ -n ${3-} ]] || return 0
	local u=${FX_UEV[$1]} id cls
	id=${u#*PCI_ID=} cls=${u#PCI_CLASS=}
	KIND["$2 $3 ${id%%$'\n'*} ${cls%%$'\n'*}"]=1
}

# group ADDR...: the next IOMMU group number (type DMA-FQ, as a server kernel's).
group() {
	fx_group "$NG" type=DMA-FQ "$@"
	NG=$((NG + 1))
}

# root_port: the next root port (on pcieport, ACS, its own group) with a fresh
# secondary bus; sets RP (its address), SB (secondary bus, hex) and D.
root_port() {
	((NPORT < 4)) || new_stack
	local slot=$((2 + NPORT))
	NPORT=$((NPORT + 1))
	printf -v RP '%04x:%02x:%02x.0' "$((16#${HB:3:4}))" "$HBBUS" "$slot"
	local dom=${RP%%:*}
	alloc_bus
	[[ $D == "$dom" ]] || { echo "gen.sh: stack crosses a domain" >&2; exit 1; }
	SB=$B
	local did
	printf -v did '0x%04x' $((0x2030 + slot - 2)) # Sky Lake-E root ports A-D
	dev "$HB" "$RP" 0x8086 "$did" 0x060400 rev=0x04 pcie=rp link=4:16 bus="$SB:$SB" \
		acs=0x5f:0x1d numa=$NUMA irq=$((24 + slot))
	bind_to "$RP" pcieport
	group "$RP"
}

# ---------------------------------------------------------------------------
# The pieces.

chipset() {
	fx_hostbridge 0000 00
	HB=pci0000:00 HBBUS=0 NUMA=0 BUS=1
	local H=pci0000:00 s=(ssv=0x15d9 ssd=0x1c48 numa=0)
	dev $H 0000:00:00.0 0x8086 0x2020 0x060000 rev=0x04 "${s[@]}" pm=0 irq=0
	group 0000:00:00.0
	dev $H 0000:00:11.5 0x8086 0xa1d2 0x010601 rev=0x09 "${s[@]}" irq=33
	bind_to 0000:00:11.5 ahci ahci
	group 0000:00:11.5
	dev $H 0000:00:14.0 0x8086 0xa1af 0x0c0330 rev=0x09 "${s[@]}" irq=34
	bind_to 0000:00:14.0 xhci_hcd xhci_pci
	fx_group "$NG" type=DMA-FQ resv=0x6c5fa000:0x6c5fcfff:direct-relaxable 0000:00:14.0
	NG=$((NG + 1))
	# Broadcom BCM5720 LOM: two functions, no ACS, one group, an RMRR
	alloc_bus
	dev $H 0000:00:1c.0 0x8086 0xa190 0x060400 rev=0xf9 "${s[@]}" pcie=rp link=2:1 bus=$B:$B \
		acs=0x1f:0x1d irq=26
	bind_to 0000:00:1c.0 pcieport
	group 0000:00:1c.0
	dev 0000:00:1c.0 0000:$B:00.0 0x14e4 0x165f 0x020000 "${s[@]}" pcie=ep link=2:1 mf=1 reset=flr irq=16
	dev 0000:00:1c.0 0000:$B:00.1 0x14e4 0x165f 0x020000 "${s[@]}" pcie=ep link=2:1 mf=1 reset=flr irq=17
	bind_to 0000:$B:00.0 tg3 tg3
	bind_to 0000:$B:00.1 tg3 tg3
	fx_group "$NG" type=DMA-FQ resv=0x791f4000:0x791f4fff:direct 0000:$B:00.0 0000:$B:00.1
	NG=$((NG + 1))
	# ASPEED AST2500 BMC: its PCIe-to-PCI bridge and the boot display behind it
	local b1 b2
	alloc_bus; b1=$B
	alloc_bus; b2=$B
	dev $H 0000:00:1c.5 0x8086 0xa195 0x060400 rev=0xf9 "${s[@]}" pcie=rp link=1:1 bus=$b1:$b2 \
		acs=0x1f:0x1d irq=27
	bind_to 0000:00:1c.5 pcieport
	group 0000:00:1c.5
	dev 0000:00:1c.5 0000:$b1:00.0 0x1a03 0x1150 0x060400 rev=0x04 "${s[@]}" pcie=pcibr link=1:1 \
		bus=$b2:$b2
	dev 0000:$b1:00.0 0000:$b2:00.0 0x1a03 0x2000 0x030000 rev=0x41 "${s[@]}" bootvga=1 irq=19
	bind_to 0000:$b2:00.0 ast ast
	group 0000:$b1:00.0 0000:$b2:00.0
	# LPC (no driver), SMBus, SPI flash: one multifunction device, one group
	dev $H 0000:00:1f.0 0x8086 0xa1c1 0x060100 rev=0x09 "${s[@]}" mf=1 pm=0 irq=0
	dev $H 0000:00:1f.4 0x8086 0xa1a3 0x0c0500 rev=0x09 "${s[@]}" mf=1 pm=0
	dev $H 0000:00:1f.5 0x8086 0xa1a4 0x0c8000 rev=0x09 "${s[@]}" mf=1 pm=0
	bind_to 0000:00:1f.4 i801_smbus i2c_i801
	bind_to 0000:00:1f.5 intel-spi spi_intel_pci
	group 0000:00:1f.0 0000:00:1f.4 0000:00:1f.5
}

nvme() {
	root_port
	local a=$D:$SB:00.0
	dev "$RP" "$a" 0x144d 0xa824 0x010802 ssv=0x144d ssd=0xa801 pcie=ep link=4:4 numa=$NUMA irq=40
	bind_to "$a" nvme nvme
	group "$a"
}

# gpu MODE: NVIDIA A4000 and its audio function; MODE kernel, user or mixed
gpu() {
	root_port
	local g=$D:$SB:00.0 au=$D:$SB:00.1 ov=()
	[[ $1 == kernel ]] || ov=(override=vfio-pci)
	dev "$RP" "$g" 0x10de 0x24b0 0x030000 rev=0xa1 ssv=0x10de ssd=0x14ad pcie=legacy link=4:16 \
		mf=1 reset=bus numa=$NUMA irq=255 "${ov[@]}"
	if [[ $1 == user ]]; then
		dev "$RP" "$au" 0x10de 0x228b 0x040300 rev=0xa1 ssv=0x10de ssd=0x14ad pcie=ep link=4:16 \
			mf=1 reset=bus numa=$NUMA irq=17 override=vfio-pci
	else
		dev "$RP" "$au" 0x10de 0x228b 0x040300 rev=0xa1 ssv=0x10de ssd=0x14ad pcie=ep link=4:16 \
			mf=1 reset=bus numa=$NUMA irq=17
	fi
	case $1 in
	kernel) bind_to "$g" nvidia nvidia; bind_to "$au" snd_hda_intel snd_hda_intel ;;
	user) bind_to "$g" vfio-pci vfio_pci; bind_to "$au" vfio-pci vfio_pci ;;
	mixed) bind_to "$g" vfio-pci vfio_pci; bind_to "$au" snd_hda_intel snd_hda_intel ;;
	esac
	group "$g" "$au"
}

# accel: 64 functions (8 slots x 8) on a conventional bus behind a PCIe-to-PCI
# bridge, one group, on a kernel driver.
ACCEL_GROUP=''
accel() {
	root_port
	local br=$D:$SB:00.0 sec s f a
	alloc_bus
	sec=$B
	dev "$RP" "$br" 0x10b5 0x8112 0x060400 rev=0xaa pcie=pcibr link=1:1 bus="$sec:$sec" numa=$NUMA
	group "$br"
	local members=()
	for ((s = 0; s < 8; s++)); do
		for ((f = 0; f < 8; f++)); do
			printf -v a '%s:%s:%02x.%d' "$D" "$sec" "$s" "$f"
			dev "$br" "$a" 0x8086 0x37c8 0x0b4000 rev=0x04 ssv=0x8086 ssd=0x0000 mf=1 reset= \
				numa=$NUMA irq=$((64 + s))
			bind_to "$a" qat_c62x qat_c62x
			members+=("$a")
		done
	done
	ACCEL_GROUP=$NG
	group "${members[@]}"
}

# nic MODEL NVF: a dual-port SR-IOV card on a root port with NVF VFs in all
# (the first port takes the odd one).
NNIC=0
nic() {
	local model=$1 nvf=$2
	local pfdrv pfmod vfdrv vfmod ven pfid vfid total ssd
	case $model in
	x710) ven=0x8086 pfid=0x1572 vfid=0x154c pfdrv=i40e pfmod=i40e vfdrv=iavf vfmod=iavf total=64 ssd=0x0001 ;;
	e810) ven=0x8086 pfid=0x1593 vfid=0x1889 pfdrv=ice pfmod=ice vfdrv=iavf vfmod=iavf total=256 ssd=0x0002 ;;
	cx6) ven=0x15b3 pfid=0x101d vfid=0x101e pfdrv=mlx5_core pfmod=mlx5_core vfdrv=mlx5_core vfmod=mlx5_core total=127 ssd=0x0016 ;;
	esac
	root_port
	local n0=$(((nvf + 1) / 2)) n1=$((nvf / 2))
	local pf0=$D:$SB:00.0 pf1=$D:$SB:00.1
	local c=(ssv="$ven" ssd="$ssd" pcie=ep link=4:16 mf=1 acs=0x0c:0x0c numa="$NUMA" rev=0x02 vfdev="$vfid")
	dev "$RP" "$pf0" "$ven" "$pfid" 0x020000 "${c[@]}" sriov=$total:$n0 vfoffset=16 irq=$((90 + 2 * (NNIC % 16)))
	dev "$RP" "$pf1" "$ven" "$pfid" 0x020000 "${c[@]}" sriov=$total:$n1 vfoffset=$((15 + n0)) irq=$((91 + 2 * (NNIC % 16)))
	bind_to "$pf0" "$pfdrv" "$pfmod"
	bind_to "$pf1" "$pfdrv" "$pfmod"
	group "$pf0"
	group "$pf1"
	local port pf n i rid a pending=1
	local v=(ssv="$ven" ssd=0x0000 rev=0x02 pcie=ep link=4:16 numa="$NUMA" irq=0)
	rid=16
	for port in 0 1; do
		if ((port == 0)); then pf=$pf0 n=$n0; else pf=$pf1 n=$n1; fi
		for ((i = 0; i < n; i++, rid++)); do
			printf -v a '%s:%s:%02x.%d' "$D" "$SB" $((rid >> 3)) $((rid & 7))
			if ((i < n / 2)); then
				dev "$RP" "$a" "$ven" "$vfid" 0x020000 "${v[@]}" pf="$pf" override=vfio-pci
				bind_to "$a" vfio-pci vfio_pci
			elif ((pending)); then
				dev "$RP" "$a" "$ven" "$vfid" 0x020000 "${v[@]}" pf="$pf" override=vfio-pci
				bind_to "$a" "$vfdrv" "$vfmod"
				pending=0
			else
				dev "$RP" "$a" "$ven" "$vfid" 0x020000 "${v[@]}" pf="$pf"
				bind_to "$a" "$vfdrv" "$vfmod"
			fi
			group "$a"
		done
	done
	NNIC=$((NNIC + 1))
}

# ---------------------------------------------------------------------------

build() {
	local root=$1
	local sets=$((want / 1000)) i
	((sets)) || sets=1
	fx_root "$root" cmdline='BOOT_IMAGE=/boot/vmlinuz-6.1.0-fixture root=UUID=6f1c2a9e-3b1d-4c59-9a51-2f0e6d1c7b42 ro quiet intel_iommu=on'
	fx_vfio noiommu=N unsafe_interrupts=N
	chipset
	NPORT=4 # the next root port starts the first PCIe stack
	for ((i = 0; i < sets; i++)); do
		nvme; nvme; nvme; nvme
		gpu kernel
		gpu user
		gpu mixed
	done
	((want >= 500)) && accel
	# The rest: dual-port cards of up to 128 VFs (3 devices more each).
	local left models=(x710 e810 cx6) k=0 nvf
	while ((left = want - NDEV, left > 0)); do
		((left >= 4)) || { echo "gen.sh: cannot reach $want devices exactly" >&2; exit 1; }
		nvf=$((left - 3))
		((nvf > 128)) && nvf=128
		# do not leave a remainder too small for another card
		((left - 3 - nvf > 0 && left - 3 - nvf < 4)) && nvf=$((nvf - 4))
		nic "${models[k % 3]}" "$nvf"
		k=$((k + 1))
	done
	fx_finish
	((NDEV == want)) || { echo "gen.sh: made $NDEV devices, not $want" >&2; exit 1; }
}

# catalog ROOT: one device of each bound kind, for mkmodules.sh.
catalog() {
	local root=$1 k drv mod id cls n=0 a
	fx_root "$root"
	fx_hostbridge 0000 00
	for k in "${!KIND[@]}"; do
		read -r drv mod id cls <<<"$k"
		[[ $mod != vfio_pci ]] || continue # vfio_pci has only its catch-all alias
		printf -v a '0000:00:%02x.%d' $((n >> 3)) $((n & 7))
		fx_dev pci0000:00 "$a" "0x${id%:*}" "0x${id#*:}" "0x$cls"
		fx_bind "$a" "$drv" "$mod"
		n=$((n + 1))
	done
	fx_finish
}

start=$SECONDS
parent=$(dirname "$out")
mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.gen.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
build "$tmp/tree"
catalog "$tmp/catalog"
bash "$fixtures/mkmodules.sh" "$tmp/catalog"
rel=$(<"$tmp/tree/proc/sys/kernel/osrelease")
mkdir -p "$tmp/tree/lib/modules"
cp -a "$tmp/catalog/lib/modules/$rel" "$tmp/tree/lib/modules/"
info="$NDEV devices, $NG groups, accelerator group ${ACCEL_GROUP:-none}"
printf '%s\n' "$info" >"$tmp/tree/.gen-info"
printf '%s\n' "$stamp" >"$tmp/tree/.gen-stamp"
rm -rf "$out"
mv "$tmp/tree" "$out"
echo "$out: $info (built in $((SECONDS - start)) s)"
