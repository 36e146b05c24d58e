#!/bin/sh
# Install every Debian package iommu-own needs to build, test and document.
# Usage: scripts/install-deps.sh [--vm] [--fuzz]
#   --vm    adds what 'make check-vm' needs; --fuzz what 'make fuzz' needs
set -eu

PACKAGES="
 build-essential autoconf automake pkg-config
 libsysfs-dev libpci-dev pci.ids libkmod-dev libsmartcols-dev libjson-c-dev
 libcmocka-dev bash-completion mandoc kmod strace perl ansible-core tmux prometheus
"
# make check-vm: QEMU, a static busybox and cpio for the guest's initramfs;
# the kernel itself is fetched by tests/vm/kernel.sh with apt-get download.
# The boot runs also build initramfs images the way distributions do: udev
# (Debian's systemd-udevd in the busybox guest), systemd (dracut copies it
# into its images), dracut-core (never the package dracut: it removes
# initramfs-tools; dracut-core sits beside it) and initramfs-tools.
VM_PACKAGES="qemu-system-x86 busybox-static cpio udev systemd dracut-core initramfs-tools"
# make fuzz: clang with libFuzzer and the sanitizers' runtimes.
FUZZ_PACKAGES="clang libclang-rt-14-dev"
VM= FUZZ=
for arg; do
	case $arg in
	--vm) VM=1; PACKAGES="$PACKAGES $VM_PACKAGES" ;;
	--fuzz) FUZZ=1; PACKAGES="$PACKAGES $FUZZ_PACKAGES" ;;
	*) echo "usage: install-deps.sh [--vm] [--fuzz]" >&2; exit 2 ;;
	esac
done

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "install-deps.sh: run as root or install sudo" >&2
		exit 1
	fi
fi

missing=
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
# tests/vm/kernel.sh asks apt which kernel linux-image-amd64 depends on
if [ -n "$VM" ] && ! apt-cache depends linux-image-amd64 2>/dev/null | grep -q 'Depends: linux-image-'; then
	$SUDO apt-get update -qq
fi
echo "install-deps.sh: all build and test dependencies are installed${VM:+ (and those of make check-vm)}${FUZZ:+ (and those of make fuzz)}"
