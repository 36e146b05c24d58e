#!/usr/bin/env bash
# Who holds a device, and checks that fail closed (the safety issue): a
# claim refuses host-in-use for every process holding a node of a device
# that leaves its host driver (DRM, ALSA, framebuffer, NVIDIA) and for the
# kernel's own users (the framebuffer console, a firmware framebuffer on the
# boot display); holders the kernel would wait for cannot be forced; a check
# whose input cannot be read refuses with cannot-verify, forceable only when
# the check it stands for is. Every case on a copy of the workstation
# fixture, whose group 1 is a GPU (0000:01:00.0, nouveau, the boot display)
# and its HDMI audio (0000:01:00.1, snd_hda_intel).
. "$TOP_SRCDIR/tests/lib.sh"

GPU=sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0
AUDIO=sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1
NVME=sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0
NIC=sys/devices/pci0000:00/0000:00:1d.0/0000:03:00.0

# class_dev ROOT DEVDIR SUBDIR SUBSYSTEM [DEVNAME]: a class device below a PCI device
class_dev() {
	local dir=$1/$2/$3 up
	mkdir -p "$dir"
	up=$(echo "$2/$3" | tr -cd / | sed 's#/#../#g')
	ln -s "${up}class/$4" "$dir/subsystem"
	if [ -n "${5:-}" ]; then printf 'MAJOR=1\nMINOR=1\nDEVNAME=%s\n' "$5" >"$dir/uevent"; else : >"$dir/uevent"; fi
}
# holder ROOT PID COMM TARGET...: a process holding TARGETs open
holder() {
	local root=$1 pid=$2 comm=$3 fd=10
	shift 3
	mkdir -p "$root/proc/$pid/fd"
	echo "$comm" >"$root/proc/$pid/comm"
	for t; do ln -s "$t" "$root/proc/$pid/fd/$fd"; fd=$((fd + 1)); done
}
# gpu_nodes ROOT: the GPU's DRM card and render node, its fbdev, and the audio function's ALSA card 1
gpu_nodes() {
	class_dev "$1" "$GPU" drm/card0 drm dri/card0
	class_dev "$1" "$GPU" drm/renderD128 drm dri/renderD128
	class_dev "$1" "$GPU" drm/card0/card0-HDMI-A-1 drm
	class_dev "$1" "$GPU" graphics/fb0 graphics fb0
	class_dev "$1" "$AUDIO" sound/card1 sound
	class_dev "$1" "$AUDIO" sound/card1/controlC1 sound snd/controlC1
	class_dev "$1" "$AUDIO" sound/card1/pcmC1D3p sound snd/pcmC1D3p
}
claim1() { iommu_own "$1" claim 1 "${@:2}" >"$SCRATCH/out" 2>&1; }

# ---- processes holding the device's nodes --------------------------------------
root=$(fresh_copy workstation)
gpu_nodes "$root"
claim1 "$root" --force=boot-vga
check "no holder: the claim goes through (the nodes alone refuse nothing)" [ $? -eq 0 ]

root=$(fresh_copy workstation)
gpu_nodes "$root"
holder "$root" 2001 Xorg /dev/dri/card0 /dev/null
holder "$root" 2002 firefox /dev/dri/renderD128
claim1 "$root" --force=boot-vga
rc=$?
[ $rc -eq 1 ] && grep -q "process 2001 (Xorg) holds /dev/dri/card0 (DRM of 0000:01:00.0) open" "$SCRATCH/out" &&
	grep -q "process 2002 (firefox) holds /dev/dri/renderD128 (DRM of 0000:01:00.0)" "$SCRATCH/out" &&
	grep -q "(host-in-use; --force=host-in-use overrides)" "$SCRATCH/out" && bound_to "$root/$GPU" nouveau
verdict "DRM: a process holding the GPU's card or render node refuses the claim, named, forceable (exit $rc)"
iommu_own "$root" claim 1 --force=boot-vga,host-in-use -J >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && "$JSONCHECK" <"$SCRATCH/out" >/dev/null &&
	grep -q '"code": "host-in-use"' "$SCRATCH/out" && grep -q '"forceable": true' "$SCRATCH/out" &&
	bound_to "$root/$GPU" vfio-pci
verdict "DRM: --force=host-in-use claims it, the refusal reported forced in JSON (exit $rc)"

root=$(fresh_copy workstation)
gpu_nodes "$root"
holder "$root" 3001 pipewire /dev/snd/controlC1 /dev/snd/pcmC1D3p
claim1 "$root" --force=boot-vga,host-in-use
rc=$?
[ $rc -eq 1 ] && grep -q "process 3001 (pipewire) holds /dev/snd/pcmC1D3p (ALSA of 0000:01:00.1) open" "$SCRATCH/out" &&
	grep -q "cannot be forced: the kernel's snd_card_free() waits for every open file of the card" "$SCRATCH/out" &&
	bound_to "$root/$AUDIO" snd_hda_intel && bound_to "$root/$GPU" nouveau
verdict "ALSA: a sound server holding the HDMI audio's nodes refuses the claim even with --force (the unbind would hang) (exit $rc)"

# ---- the kernel's own users of the display ---------------------------------------
root=$(fresh_copy workstation)
gpu_nodes "$root"
mkdir -p "$root/sys/class/vtconsole/vtcon0" "$root/sys/class/vtconsole/vtcon1"
echo "(S) dummy device" >"$root/sys/class/vtconsole/vtcon0/name" && echo 0 >"$root/sys/class/vtconsole/vtcon0/bind"
echo "(M) frame buffer device" >"$root/sys/class/vtconsole/vtcon1/name" && echo 1 >"$root/sys/class/vtconsole/vtcon1/bind"
claim1 "$root" --force=boot-vga
rc=$?
[ $rc -eq 1 ] && grep -q "the framebuffer console draws the text console on fb0 of 0000:01:00.0" "$SCRATCH/out"
verdict "fbcon: the framebuffer console on the GPU's fb0 refuses the claim (exit $rc)"
echo 0 >"$root/sys/class/vtconsole/vtcon1/bind"
claim1 "$root" --force=boot-vga
check "fbcon: unbound from the framebuffer, the claim goes through" [ $? -eq 0 ]

root=$(fresh_copy workstation)
mkdir -p "$root/sys/bus/platform/drivers/efi-framebuffer" "$root/sys/devices/platform/efi-framebuffer.0"
ln -s ../../../../devices/platform/efi-framebuffer.0 "$root/sys/bus/platform/drivers/efi-framebuffer/efi-framebuffer.0"
claim1 "$root" --force=boot-vga
rc=$?
[ $rc -eq 1 ] && grep -q "the firmware framebuffer efi-framebuffer (efi-framebuffer.0) uses the memory of 0000:01:00.0" "$SCRATCH/out"
verdict "efifb: a firmware framebuffer on the boot display refuses the claim (exit $rc)"

# ---- NVIDIA: nodes without sysfs class devices -----------------------------------
nvidia_gpu() { # nvidia_gpu ROOT: the GPU on nvidia instead of nouveau
	rm "$1/$GPU/driver" "$1/sys/bus/pci/drivers/nouveau/0000:01:00.0"
	mkdir -p "$1/sys/bus/pci/drivers/nvidia"
	: >"$1/sys/bus/pci/drivers/nvidia/bind" && : >"$1/sys/bus/pci/drivers/nvidia/unbind"
	ln -s ../../../../bus/pci/drivers/nvidia "$1/$GPU/driver"
	ln -s ../../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0 "$1/sys/bus/pci/drivers/nvidia/0000:01:00.0"
}
root=$(fresh_copy workstation)
nvidia_gpu "$root"
mkdir -p "$root/proc/driver/nvidia/gpus/0000:01:00.0"
printf 'Model: \t\t NVIDIA GeForce RTX 2080\nIRQ:   \t\t 137\nDevice Minor: \t 0\n' \
	>"$root/proc/driver/nvidia/gpus/0000:01:00.0/information"
holder "$root" 4001 nvidia-persiste /dev/nvidiactl /dev/nvidia0
claim1 "$root" --force=boot-vga,host-in-use
rc=$?
[ $rc -eq 1 ] && grep -q "process 4001 (nvidia-persiste) holds /dev/nvidia0 (NVIDIA of 0000:01:00.0) open" "$SCRATCH/out" &&
	grep -q "cannot be forced: the NVIDIA driver waits while its usage count is not zero" "$SCRATCH/out"
verdict "NVIDIA: nvidia-persistenced holding /dev/nvidia0 refuses the claim, not forceable (exit $rc)"
rm -r "$root/proc/driver"
claim1 "$root" --force=boot-vga,host-in-use,cannot-verify
rc=$?
[ $rc -eq 1 ] && grep -q "cannot check which device nodes its driver made (host-in-use)" "$SCRATCH/out" &&
	grep -q "proc/driver/nvidia/gpus/0000:01:00.0/information\|0000:01:00.0: No such file" "$SCRATCH/out"
verdict "NVIDIA: without the driver's proc file its node is unknown: cannot-verify, not forceable (exit $rc)"

# ---- a snapshot keeps what these checks read ---------------------------------------
root=$(fresh_copy workstation)
gpu_nodes "$root"
holder "$root" 2001 Xorg /dev/dri/card0
holder "$root" 3001 pipewire /dev/snd/pcmC1D3p
mkdir -p "$root/sys/class/vtconsole/vtcon1" "$root/sys/bus/platform/drivers/efi-framebuffer"
echo "(M) frame buffer device" >"$root/sys/class/vtconsole/vtcon1/name" && echo 1 >"$root/sys/class/vtconsole/vtcon1/bind"
ln -s ../../../../devices/platform/efi-framebuffer.0 "$root/sys/bus/platform/drivers/efi-framebuffer/efi-framebuffer.0"
claim1 "$root" --force=boot-vga
grep '^iommu-own: refused' "$SCRATCH/out" | sort >"$SCRATCH/want"
"$IOMMU_OWN" --sysroot "$root" snapshot "$SCRATCH/snap" >/dev/null 2>&1
claim1 "$SCRATCH/snap" --force=boot-vga
grep '^iommu-own: refused' "$SCRATCH/out" | sort >"$SCRATCH/got"
nref=$(wc -l <"$SCRATCH/want")
[ "$nref" -ge 4 ] && diff "$SCRATCH/want" "$SCRATCH/got" >/dev/null
verdict "a snapshot keeps the class devices, holders, console and firmware framebuffer: its replay refuses alike ($nref refusals)"

# ---- checks that cannot read their input ------------------------------------------
disk() { # disk ROOT: a partition under the NVMe drive
	local n=$1/$NVME
	mkdir -p "$n/nvme/nvme0/nvme0n1/nvme0n1p2/holders" "$n/nvme/nvme0/nvme0n1/holders"
	echo 259:0 >"$n/nvme/nvme0/nvme0n1/dev"
	echo 259:2 >"$n/nvme/nvme0/nvme0n1/nvme0n1p2/dev"
	ln -s ../../../../../../../../class/block "$n/nvme/nvme0/nvme0n1/subsystem"
	ln -s ../../../../../../../../../class/block "$n/nvme/nvme0/nvme0n1/nvme0n1p2/subsystem"
}
for input in proc/self/mountinfo proc/swaps; do
	root=$(fresh_copy workstation)
	disk "$root"
	rm "$root/$input"
	iommu_own "$root" claim 6 >"$SCRATCH/out" 2>&1
	rc=$?
	[ $rc -eq 1 ] && grep -q "cannot check whether its disks are mounted (mounted): $root/$input" "$SCRATCH/out" &&
		grep -q "(cannot-verify; --force=cannot-verify overrides)" "$SCRATCH/out" && bound_to "$root/$NVME" nvme
	verdict "cannot-verify: $input missing while the drive has disks: refused, naming it (exit $rc)"
	iommu_own "$root" claim 6 --force=cannot-verify >"$SCRATCH/out" 2>&1
	check "cannot-verify: $input missing: --force=cannot-verify claims it, as --force=mounted would" bound_to "$root/$NVME" vfio-pci
done
root=$(fresh_copy workstation)
rm "$root/proc/self/mountinfo"
iommu_own "$root" claim 6 >"$SCRATCH/out" 2>&1
check "cannot-verify: a device without disks needs no mount table" [ $? -eq 0 ]

up_nic() { # up_nic ROOT: the e1000e's interface eno1, up
	local i=$1/$NIC/net/eno1
	mkdir -p "$i"
	ln -s ../../../../../../class/net "$i/subsystem"
	echo 0x1003 >"$i/flags" && echo up >"$i/operstate"
}
root=$(fresh_copy workstation)
up_nic "$root"
rm "$root/proc/net/route"
iommu_own "$root" claim 8 >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "cannot check whether interface eno1 has routes or addresses (netdev-active): $root/proc/net/route" "$SCRATCH/out"
verdict "cannot-verify: an interface that is up and no route table: refused (exit $rc)"
root=$(fresh_copy workstation)
up_nic "$root"
rm "$root/proc/net/if_inet6"
iommu_own "$root" claim 8 >"$SCRATCH/out" 2>&1
check "an interface up without routes on a kernel with IPv6 off (no if_inet6): claimed" [ $? -eq 0 ]

# No proc at all (a chroot without /proc mounted): who holds the group cannot be known.
root=$(fresh_copy passthrough)
g=$(iommu_own "$root" list -r -n -o GROUP,STATE | awk '$2 == "user" {print $1; exit}')
rm -r "$root/proc/self" "$root/proc/net" "$root/proc/swaps"
mv "$root/proc" "$root/proc.away"
iommu_own "$root" release "$g" >"$SCRATCH/out" 2>&1
rc=$?
mv "$root/proc.away" "$root/proc"
[ $rc -eq 1 ] && grep -q "cannot check whether a process holds its VFIO files (in-use): $root/proc cannot be read" "$SCRATCH/out" &&
	grep -q "cannot be forced: in-use cannot be forced" "$SCRATCH/out"
verdict "cannot-verify: a tree without proc/ refuses a release, not forceable (in-use is not) (exit $rc)"
root=$(fresh_copy passthrough)
mkdir -p "$root/proc/4711" && : >"$root/proc/4711/fd"
iommu_own "$root" release "$g" >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "$root/proc/4711/fd cannot be read" "$SCRATCH/out"
verdict "cannot-verify: one process whose open files cannot be read refuses the release (exit $rc)"

root=$(fresh_copy workstation)
gpu_nodes "$root"
rm -r "$root/proc"
claim1 "$root" --force=boot-vga,cannot-verify
rc=$?
[ $rc -eq 1 ] && grep -q "cannot check which processes hold its device nodes (host-in-use)" "$SCRATCH/out" &&
	grep -q "0000:01:00.1.*cannot be forced: the kernel would block the unbind" "$SCRATCH/out"
verdict "cannot-verify: no proc/ with ALSA nodes: not forceable (the kernel would wait for a holder) (exit $rc)"

root=$(fresh_copy sriov)
pf=$(cd "$root/sys/bus/pci/devices" && for d in *; do [ -e "$d/sriov_numvfs" ] && { echo "$d"; break; }; done)
if [ -n "$pf" ]; then
	pfdir=$root/sys/bus/pci/devices/$pf
	rm "$pfdir/sriov_numvfs" && mkfifo "$pfdir/sriov_numvfs"
	iommu_own "$root" claim "$pf" >"$SCRATCH/out" 2>&1
	rc=$?
	[ $rc -eq 1 ] && grep -q "cannot check its VFs (sriov-pf):.*sriov_numvfs: not a regular file" "$SCRATCH/out"
	verdict "cannot-verify: a FIFO for sriov_numvfs is named, never read as no VFs (exit $rc)"
else
	not_ok "the sriov fixture has a PF"
fi

# A dry run changes nothing: what it cannot verify it says, and the plan still shows.
root=$(fresh_copy passthrough)
rm -r "$root/proc"
iommu_own "$root" release "$g" --dry-run -J >"$SCRATCH/out" 2>&1
rc=$?
iommu_own "$root" release "$g" --dry-run >"$SCRATCH/text" 2>&1
[ $rc -eq 0 ] && grep -q '"result": "dry-run"' "$SCRATCH/out" && grep -q '"unverified": true' "$SCRATCH/out" &&
	grep -q "not verified: .*cannot check whether a process holds its VFIO files" "$SCRATCH/text" &&
	grep -q "vfio-pci/unbind" "$SCRATCH/text"
verdict "a dry run reports what it cannot verify and still shows the plan (exit $rc)"

tap_done
