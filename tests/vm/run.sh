#!/bin/sh
# The real-kernel suite: boots Debian's kernel under QEMU (TCG) with an
# emulated IOMMU and several PCI topologies, runs iommu-own's scenarios in the
# guest, replays some of them on the host, and prints one TAP-like line per
# result and a last line 'N passed, N failed'. Exit status 1 on any failure,
# including a scenario that did not report (a crash, a timeout) and a suite
# that could not run at all (no QEMU, no kernel package).
#
# Run through 'make check-vm', which sets:
#   IOMMU_OWN    the iommu-own binary to test
#   VFIO_VIABLE  the statically linked helper (tests/vm/vfio-viable.c)
#   VM_SRCDIR    tests/vm in the source tree
#   VM_DIR       tests/vm in the build tree (cache/, work/ go there)
#   VM_DEST      a 'make install DESTDIR=' tree, for the boot-* runs, and the
#   VM_SBINDIR, VM_UDEVRULESDIR, VM_UNITDIR, VM_DRACUTMODDIR, VM_ITOOLSDIR
#                configured directories it was installed to
# Optional: VM_RUNS="intel-audit amd" to run only some runs,
#   VM_TIMEOUT seconds one run may take (default 240; the slowest takes
#   about 100), VM_BUDGET seconds for all of them (default 1020: a run that
#   could not finish within it is not started, and fails),
#   IOMMU_OWN_VM_KERNEL_PKG to test another Debian kernel package.
set -u

: "${IOMMU_OWN:?}" "${VFIO_VIABLE:?}" "${VM_SRCDIR:?}" "${VM_DIR:?}"
TIMEOUT=${VM_TIMEOUT:-240}
BUDGET=${VM_BUDGET:-1020}
QEMU=${QEMU:-qemu-system-x86_64}
WORK=$VM_DIR/work
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

# Each run: name, machine (intel, intel-shpc, amd, boot...: see iommu_args),
# image (initrd: the shared one of mkinitramfs.sh; the boot runs' own:
# bootimg.sh), the guest scenarios, the results it must report.
# Results named replay-* are the host's (replay.sh), from the guest's data;
# image and init-top-order are the host's checks of a boot run's image.
RUNS='
intel-audit   intel  initrd audit          audit-kernel audit-mixed audit-free audit-user
intel-moves   intel  initrd claim-release  claim-release claim-unclaimable
intel-busy    intel  initrd release-busy,why   release-busy why
intel-kill    intel  initrd kill-recover   kill-recover
intel-refuse  intel  initrd chipset,in-use chipset-refused chipset-forced refused-mounted refused-mounted-multipath refused-netdev
intel-modules intel  initrd modules        claim-loads-vfio release-norecord release-reloads-module
intel-shpc    intel-shpc initrd kernel-bridge kernel-bridge-audit kernel-bridge-refused kernel-bridge-unbound
intel-replay  intel  initrd replay         replay-claim replay-release replay-norecord replay-multifunction replay-fail vf-autoprobe replay-vf-claim replay-vf-release replay-vf-norecord
amd           amd    initrd audit,claim-release audit-kernel audit-mixed audit-free audit-user claim-release claim-unclaimable
intel-drm     intel-drm initrd drm-holder,non-root drm-held drm-released non-root
intel-uses    intel-usb initrd uses        uses-net uses-disk uses-usb uses-sound uses-select uses-record
boot-udev       boot udev        boot-udev   coldplug undeclared apply apply-again check record hotplug rule-cost rule-alone
boot-udev-drift boot udev        boot-drift  drift-boot drift-host drift-check drift-apply
boot-dracut     boot dracut      boot        image module-check order declared undeclared record apply
boot-dracut-off boot dracut      off         control
boot-dracut-sh  boot dracut-sh   boot        image order declared undeclared record apply
boot-itools     boot itools      boot        image init-top-order order declared undeclared record apply
boot-itools-none boot itools-none none       image control
intel-sriov   intel-sriov initrd sriov    sriov-vfs-claim sriov-no-host-probe sriov-vfs-release sriov-pf-claim sriov-handoff sriov-probe-control sriov-kill-recover replay-vfs-claim replay-vfs-release replay-vfs-remove replay-pf-claim replay-pf-release replay-handoff
'

passed=0 failed=0 n=0
report() { # ok|fail TEXT
	n=$((n + 1))
	if [ "$1" = ok ]; then
		passed=$((passed + 1))
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
	fi
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
	exit $?
}
# The suite cannot run: one failure that says why, never a pass.
cannot_run() {
	report fail "the real-kernel suite cannot run: $*"
	finish
}

command -v "$QEMU" >/dev/null 2>&1 ||
	cannot_run "$QEMU not found (scripts/install-deps.sh --vm installs qemu-system-x86)"
qver=$("$QEMU" --version 2>&1 | head -n 1) ||
	cannot_run "$QEMU does not start: $qver"
echo "# $qver"

release=$(sh "$VM_SRCDIR/kernel.sh" "$VM_DIR/cache" 2>"$WORK/kernel.err") || {
	sed 's/^/# /' "$WORK/kernel.err"
	cannot_run "the kernel package cannot be had: $(tail -n 1 "$WORK/kernel.err")"
}
KROOT=$VM_DIR/cache/root
KERNEL=$KROOT/boot/vmlinuz-$release
echo "# kernel $(cat "$VM_DIR/cache/package") ($release)"


# The topology, the same for every run (the guest's scenarios know these
# addresses, see guest/scenarios.sh):
#  00:02.0 root port -> 01:00.0 PCIe-to-PCI bridge -> 02:01.0, 02:02.0 e1000
#  00:03.0 root port -> 03:00.0 e1000e
#  00:04.0 root port -> 04:00.0 nvme in an NVMe subsystem (native multipath:
#                        its disk is the subsystem's), SR-IOV capable (1 VF)
#  00:05.0 root port -> 05:00.0 qemu-xhci
#  00:06.0 root port -> 06:00.0 e1000e + 06:00.1 ich9-intel-hda (multifunction)
#  00:08.0 root port -> 07:00.0 nvme with a drive, alone
#  00:07.0 e1000 and 00:1b.0 ich9-intel-hda + hda-duplex on the root complex
#  00:1f.0/2/3 the ICH9 LPC, SATA and SMBus of q35
#
# The boot runs (machine boot) have only the first two root ports and the
# root complex's e1000: the PCIe-to-PCI bridge's group is the declared one,
# 03:00.0 and 00:07.0 are undeclared (00:07.0 has the declared NICs' driver).
topology() {
	if [ "$1" = boot ]; then
		echo "-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x2.0"
		echo "-device pcie-pci-bridge,id=br1,bus=rp1"
		echo "-device e1000,bus=br1,addr=1,romfile="
		echo "-device e1000,bus=br1,addr=2,romfile="
		echo "-device pcie-root-port,id=rp2,bus=pcie.0,chassis=2,addr=0x3.0"
		echo "-device e1000e,bus=rp2,romfile="
		echo "-device e1000,bus=pcie.0,addr=0x7,romfile="
		return
	fi
	echo "-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x2.0"
	echo "-device pcie-pci-bridge,id=br1,bus=rp1"
	echo "-device e1000,bus=br1,addr=1,romfile="
	echo "-device e1000,bus=br1,addr=2,romfile="
	echo "-device pcie-root-port,id=rp2,bus=pcie.0,chassis=2,addr=0x3.0"
	echo "-device e1000e,bus=rp2,romfile="
	echo "-device pcie-root-port,id=rp3,bus=pcie.0,chassis=3,addr=0x4.0"
	echo "-drive file=$WORK/nvme.img,if=none,format=raw,id=nvm"
	echo "-device nvme-subsys,id=nvss,nqn=vmtest"
	echo "-device nvme,id=nvc,bus=rp3,serial=vmtest,subsys=nvss,sriov_max_vfs=1,sriov_vq_flexible=2,sriov_vi_flexible=1,max_ioqpairs=4"
	echo "-device nvme-ns,drive=nvm,bus=nvc,nsid=1"
	echo "-device pcie-root-port,id=rp4,bus=pcie.0,chassis=4,addr=0x5.0"
	echo "-device qemu-xhci,bus=rp4,id=xhci"
	echo "-device pcie-root-port,id=rp5,bus=pcie.0,chassis=5,addr=0x6.0"
	echo "-device e1000e,bus=rp5,addr=0.0,multifunction=on,romfile="
	echo "-device ich9-intel-hda,bus=rp5,addr=0.1,id=hda1"
	echo "-device hda-duplex,bus=hda1.0,audiodev=snd0"
	echo "-device pcie-root-port,id=rp6,bus=pcie.0,chassis=6,addr=0x8.0"
	echo "-drive file=$WORK/nvme2.img,if=none,format=raw,id=nvm2"
	echo "-device nvme,bus=rp6,serial=vmtest2,drive=nvm2"
	echo "-device e1000,bus=pcie.0,addr=0x7,romfile="
	echo "-device ich9-intel-hda,bus=pcie.0,addr=0x1b,id=hda0"
	echo "-device hda-duplex,bus=hda0.0,audiodev=snd0"
	echo "-audiodev none,id=snd0"
	# a keyboard on the xHCI controller, for list's USES (after the controller: QEMU wants its bus first)
	[ "$1" = intel-usb ] && echo "-device usb-kbd,bus=xhci.0"
	return 0
}

# iommu_args intel|intel-shpc|amd: the IOMMU device and the kernel's
# options for it. intel-shpc turns ACPI hot-plug of bridges off, so that
# shpchp takes the PCIe-to-PCI bridge.
iommu_args() {
	case $1 in
	intel | boot)
		echo "-machine q35,kernel-irqchip=split"
		echo "-device intel-iommu,intremap=on,caching-mode=on"
		;;
	intel-shpc)
		iommu_args intel
		echo "-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off"
		;;
	intel-drm)
		iommu_args intel
		echo "-device bochs-display,bus=pcie.0,addr=0x9"
		;;
	intel-usb)
		iommu_args intel
		;;
	amd)
		echo "-machine q35,kernel-irqchip=split"
		echo "-device amd-iommu,intremap=on"
		;;
	intel-sriov)
		# QEMU 7.2's NVMe SR-IOV (issue 13): a PF with 2 VFs possible, each
		# VF its own group behind the root port's ACS
		iommu_args intel
		echo "-device pcie-root-port,id=rpsr,bus=pcie.0,chassis=7,addr=0xa.0"
		echo "-drive file=$WORK/sriov.img,if=none,format=raw,id=nvmsr"
		echo "-device nvme-subsys,id=sr0,nqn=sriov"
		echo "-device nvme,id=nvsr,bus=rpsr,serial=sriov,subsys=sr0,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,max_ioqpairs=6,msix_qsize=5"
		echo "-device nvme-ns,drive=nvmsr,bus=nvsr,nsid=1"
		;;
	esac
}
iommu_append() {
	case $1 in
	intel* | boot) echo "intel_iommu=on" ;;
	amd) echo "nvme_core.admin_timeout=3" ;;
	esac
}

truncate -s 64M "$WORK/nvme.img" "$WORK/nvme2.img"
truncate -s 16M "$WORK/sriov.img"

# The kernel's options for an image: the boot runs' initramfs fail to find
# a root (there is none) once their results are printed; dracut's and
# initramfs-tools' images power off after them (the results script does),
# and break=mount or rd.emergency=poweroff end the boot if it never comes.
# Scenario off adds iommu_own=off.
image_append() { # IMAGE SCENARIOS (one line: a newline would reach /proc/cmdline)
	_a=
	case $1 in
	udev) _a="printk.devkmsg=on log_buf_len=4M" ;;
	dracut*) _a="log_buf_len=4M root=/dev/nonexistent rd.timeout=90 rd.retry=60 rd.emergency=poweroff rd.shell=0 systemd.show_status=0" ;;
	itools*) _a="log_buf_len=4M root=/dev/nonexistent break=mount" ;;
	esac
	case ,$2, in *,off,*) _a="$_a iommu_own=off" ;; esac
	echo "$_a"
}

# image_for IMAGE: the initramfs of a run, built once per suite (bootimg.sh
# also keeps it between suites while its inputs are the same); its path in
# $img. Its build's comments and the host's checks of it go to
# $WORK/IMAGE.img.out; exit status 1 when there is none.
image_for() {
	fresh=
	case $1 in
	initrd)
		img=$WORK/initrd.gz
		[ -f "$WORK/initrd.ready" ] && return 0
		fresh=yes
		sh "$VM_SRCDIR/mkinitramfs.sh" "$KROOT" "$release" "$IOMMU_OWN" "$VFIO_VIABLE" "$VM_SRCDIR/guest" "$img" \
			>"$WORK/initrd.img.out" 2>"$WORK/initrd.err" || {
			sed 's/^/# /' "$WORK/initrd.err" >>"$WORK/initrd.img.out"
			return 1
		}
		: >"$WORK/initrd.ready"
		;;
	*)
		img=$WORK/boot-$1.img
		[ -f "$WORK/boot-$1.ready" ] && return 0
		[ -f "$WORK/boot-$1.failed" ] && return 1
		fresh=yes
		: >"$WORK/boot-$1.failed"
		if [ ! -x "${VM_DEST:-/nonexistent}${VM_SBINDIR:-}/iommu-own" ]; then
			echo "RESULT image fail no installed tree (VM_DEST): run through make check-vm, which installs into tests/vm/work/dest (see $WORK/install.log)" >"$WORK/$1.img.out"
			return 1
		fi
		KROOT=$KROOT KV=$release WORK=$WORK sh "$VM_SRCDIR/bootimg.sh" "$1" "$img" >"$WORK/$1.img.out" 2>&1 || return 1
		rm -f "$WORK/boot-$1.failed"
		: >"$WORK/boot-$1.ready"
		;;
	esac
}
rm -f "$WORK"/*.ready "$WORK"/*.failed

# boot NAME IOMMU IMAGE SCENARIOS: one guest; its console in $WORK/NAME.log, the
# data of its second serial port in $WORK/NAME.data. no_timer_check: on a
# busy host the kernel's early check of the timer interrupt can time out
# under TCG and panic ("timer doesn't work through Interrupt-remapped
# IO-APIC"), as it once did here with a load average of 9 on 2 cores.
boot() {
	_name=$1 _iommu=$2 _image=$3 _scen=$4
	rm -f "$WORK/$_name.log" "$WORK/$_name.data"
	# shellcheck disable=SC2046
	timeout --kill-after=10 "$TIMEOUT" "$QEMU" -nodefaults -display none -monitor none -no-reboot \
		-accel tcg -cpu max -m 1G -smp 2 \
		$(iommu_args "$_iommu") \
		-kernel "$KERNEL" -initrd "$img" \
		-append "console=ttyS0 loglevel=4 panic=-1 no_timer_check $(iommu_append "$_iommu") $(image_append "$_image" "$_scen") vmtest=$_scen" \
		-serial "file:$WORK/$_name.log" -serial "file:$WORK/$_name.data" \
		$(topology "$_iommu") \
		</dev/null >"$WORK/$_name.qemu" 2>&1
}

total_start=$(date +%s)
echo "$RUNS" | while read -r name iommu image scen expect; do
	[ -n "$name" ] || continue
	case " ${VM_RUNS:-$name} " in *" $name "*) ;; *) continue ;; esac
	echo "$name $iommu $image $scen $expect"
done >"$WORK/runs"
[ -s "$WORK/runs" ] || cannot_run "VM_RUNS='${VM_RUNS:-}' names no run"

while read -r name iommu image scen expect; do
	t0=$(date +%s)
	log=$WORK/$name.log
	why='' tb='' fresh=''
	if [ $((t0 - total_start + TIMEOUT)) -gt "$BUDGET" ]; then
		qrc=0
		why="not run: it could overrun the suite's budget of ${BUDGET}s"
		: >"$log"
	elif ! image_for "$image"; then
		qrc=0
		why="its initramfs ($image) could not be built"
		: >"$log"
	else
		tb=$(date +%s)
		boot "$name" "$iommu" "$image" "$scen"
		qrc=$?
	fi
	t1=$(date +%s)
	tr -d '\r' <"$log" >"$log.txt" 2>/dev/null || : >"$log.txt"
	# the image's build and the host's checks of it
	if [ -s "$WORK/$image.img.out" ]; then
		[ -z "$fresh" ] || grep '^# ' "$WORK/$image.img.out"
		cat "$WORK/$image.img.out" >>"$log.txt"
	fi
	if [ -n "$why" ]; then
		:
	elif [ $qrc = 124 ] || [ $qrc = 137 ]; then
		why="timed out after ${TIMEOUT}s"
	elif [ $qrc != 0 ]; then
		why="QEMU exited with $qrc: $(grep -v 'has no peer' "$WORK/$name.qemu" | tail -n 2 | tr '\n' ' ')"
	elif ! grep -q '^VMTEST-BOOTED' "$log.txt"; then
		why="the guest never reached /init"
	elif ! grep -q '^VMTEST-END' "$log.txt"; then
		why="the guest stopped before the end of its scenarios"
	fi
	echo "# run $name ($iommu IOMMU, image $image, scenarios $scen): $((t1 - t0)) s${tb:+ (the guest $((t1 - tb)) s)}${why:+, $why}; console in $log.txt"
	# the host's part of the replay scenarios
	if [ -s "$WORK/$name.data" ]; then
		sh "$VM_SRCDIR/replay.sh" "$WORK/$name.data" "$WORK/$name.replay" >>"$log.txt" 2>&1
	fi
	for r in $expect; do
		line=$(grep "^RESULT $r " "$log.txt" | head -n 1)
		case $line in
		"RESULT $r pass "*) report ok "$name: $r: ${line#RESULT "$r" pass }" ;;
		"RESULT $r fail "*) report fail "$name: $r: ${line#RESULT "$r" fail }" ;;
		*) report fail "$name: $r: no result${why:+ ($why)}" ;;
		esac
	done
	if [ -n "$why" ] || grep -q '^RESULT [^ ]* fail' "$log.txt"; then
		echo "# last lines of the console of $name:"
		grep -v -e '^RESULT' -e '^# dmesg' "$log.txt" | tail -n 15 | sed 's/^/#   /'
	fi
done <"$WORK/runs" | tee "$WORK/report"
passed=$(grep -c '^ok ' "$WORK/report")
failed=$(grep -c '^not ok ' "$WORK/report")
echo "# total $(($(date +%s) - total_start)) s"
finish
