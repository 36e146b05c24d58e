#!/bin/sh
# Fetch Debian's kernel (the package linux-image-amd64 depends on) into a
# cache directory, unpack it with dpkg -x and build its module index with
# depmod -b. Prints the kernel release on standard output.
# Usage: tests/vm/kernel.sh CACHE_DIR
# IOMMU_OWN_VM_KERNEL_PKG names another package (linux-image-6.1.0-NN-amd64).
set -eu

cache=${1:?usage: kernel.sh CACHE_DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

say() { echo "kernel.sh: $*" >&2; }

pkg=${IOMMU_OWN_VM_KERNEL_PKG:-}
if [ -z "$pkg" ]; then
	# The cached kernel serves when apt cannot be asked (offline, no lists).
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1) || true
	if [ -z "$pkg" ] && [ -f "$cache/package" ]; then
		pkg=$(cat "$cache/package")
		say "apt-cache does not know linux-image-amd64 (run apt-get update); using the cached $pkg"
	fi
fi
if [ -z "$pkg" ]; then
	say "cannot tell which kernel package linux-image-amd64 depends on: run 'apt-get update' (scripts/install-deps.sh --vm)"
	exit 1
fi

root="$cache/root"
if [ "$(cat "$cache/package" 2>/dev/null)" != "$pkg" ] || [ ! -f "$cache/stamp" ]; then
	# into new/ first: a failed download leaves the cached kernel as it was
	rm -rf "$cache/new"
	mkdir -p "$cache/new"
	say "downloading $pkg"
	# as root, apt would drop to the _apt user, who cannot write the cache
	sandbox=
	[ "$(id -u)" -ne 0 ] || sandbox="-o APT::Sandbox::User=root"
	# shellcheck disable=SC2086
	(cd "$cache/new" && apt-get $sandbox download "$pkg" >&2) || {
		rm -rf "$cache/new"
		say "apt-get download $pkg failed: the kernel package cannot be had"
		exit 1
	}
	deb=$(ls "$cache/new/$pkg"_*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || { say "no .deb for $pkg in $cache/new"; exit 1; }
	dpkg -x "$deb" "$cache/new/root" || { say "dpkg -x $deb failed"; exit 1; }
	rm -rf "$root" "$cache/stamp"
	mv "$cache/new/root" "$root"
	rm -rf "$cache/new"
	echo "$pkg" >"$cache/package"
	touch "$cache/stamp"
fi

release=$(ls "$root/lib/modules" | head -n 1)
[ -n "$release" ] && [ -f "$root/boot/vmlinuz-$release" ] || { say "no kernel image in $root"; exit 1; }
if [ ! -f "$root/lib/modules/$release/modules.dep" ]; then
	depmod=$(command -v depmod || echo /sbin/depmod)
	"$depmod" -b "$root" "$release"
fi
echo "$release"
