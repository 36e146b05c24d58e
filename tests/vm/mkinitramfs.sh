#!/bin/sh
# Build the guest's initramfs (a gzip'd newc cpio): busybox, iommu-own with
# the shared libraries it links and the dynamic loader, the vfio-viable
# helper, pci.ids, the modules the scenarios need with their dependencies
# (from the kernel's modules.dep) and a fresh module index, and the guest
# scripts (/init and /vmtest/).
# Usage: mkinitramfs.sh KERNEL_ROOT RELEASE IOMMU_OWN VFIO_VIABLE GUEST_DIR OUT
set -eu

kroot=$1 release=$2 tool=$3 helper=$4 guest=$5 out=$6

say() { echo "mkinitramfs.sh: $*" >&2; }
die() { say "$*"; exit 1; }

busybox=$(command -v busybox || true)
[ -n "$busybox" ] || die "no busybox (apt-get install busybox-static)"
# A dynamically linked busybox would need its libraries too; the static one
# is what busybox-static installs.
if ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked: install busybox-static"
fi
command -v cpio >/dev/null || die "no cpio (apt-get install cpio)"
depmod=$(command -v depmod || echo /sbin/depmod)
[ -x "$depmod" ] || die "no depmod (apt-get install kmod)"

stage=$out.d
rm -rf "$stage"
mkdir -p "$stage"/bin "$stage"/sbin "$stage"/usr/bin "$stage"/usr/sbin \
	"$stage"/proc "$stage"/sys "$stage"/dev "$stage"/run "$stage"/tmp \
	"$stage"/etc "$stage"/usr/share/misc "$stage"/vmtest "$stage"/root

# busybox: the applet links first, then the binary (the list names busybox
# itself, whose link would otherwise replace it)
for a in $("$busybox" --list-full); do
	[ "${a##*/}" = busybox ] && continue
	ln -sf /bin/busybox "$stage/$a"
done
cp "$busybox" "$stage/bin/busybox"

# iommu-own and its libraries, at the paths ldd resolves them to
cp "$tool" "$stage/usr/sbin/iommu-own"
ldd "$tool" | awk '/=>/ && $3 ~ /^\// { print $3 } /^[ \t]*\// { print $1 }' | while read -r lib; do
	mkdir -p "$stage$(dirname "$lib")"
	cp -L "$lib" "$stage$lib"
done
# libkmod and its libraries: iommu-own loads it when it first needs the
# module index (dlopen), so ldd of the tool does not name it
kmodlib=$(ldconfig -p | awk '$1 == "libkmod.so.2" && $NF ~ /^\// { print $NF; exit }')
[ -n "$kmodlib" ] || die "no libkmod.so.2 (apt-get install libkmod2)"
{ echo "$kmodlib"; ldd "$kmodlib" | awk '/=>/ && $3 ~ /^\// { print $3 }'; } | while read -r lib; do
	mkdir -p "$stage$(dirname "$lib")"
	cp -L "$lib" "$stage$lib"
done
if ldd "$helper" >/dev/null 2>&1; then
	die "$helper must be linked statically"
fi
cp "$helper" "$stage/usr/bin/vfio-viable"

ids=
for f in /usr/share/misc/pci.ids /usr/share/hwdata/pci.ids; do
	[ -f "$f" ] && { ids=$f; break; }
done
[ -n "$ids" ] || die "no pci.ids (apt-get install pci.ids)"
cp "$ids" "$stage/usr/share/misc/pci.ids"

# modules: each wanted one with everything modules.dep says it needs
mdir=$kroot/lib/modules/$release
[ -f "$mdir/modules.dep" ] || die "no $mdir/modules.dep (run depmod -b)"
WANT="vfio vfio_iommu_type1 vfio_pci pci_stub pci_pf_stub e1000 e1000e nvme xhci_pci snd_hda_intel
 snd_hda_codec_generic ahci i2c_i801 lpc_ich crc64_rocksoft_generic crct10dif_generic crc32c_generic ext4 bochs"
files=$(awk -v want="$WANT" '
	BEGIN { n = split(want, w, /[ \n]+/); for (i = 1; i <= n; i++) if (w[i] != "") need[w[i]] = 1 }
	{
		sub(/:$/, "", $1)
		name = $1; sub(/.*\//, "", name); sub(/\.ko(\.[a-z]+)?$/, "", name); gsub(/-/, "_", name)
		if (name in need) { found[name] = 1; for (i = 1; i <= NF; i++) { f = $i; sub(/:$/, "", f); print f } }
	}
	END { for (m in need) if (!(m in found)) print "MISSING " m }' "$mdir/modules.dep" | sort -u)
missing=
for m in $(echo "$files" | sed -n 's/^MISSING //p'); do
	# built into this kernel (6.12 builds the CRC helpers in): nothing to load
	sed 's#.*/##; s#\.ko.*##; s#-#_#g' "$mdir/modules.builtin" | grep -qx "$m" || missing="$missing $m"
done
files=$(echo "$files" | grep -v '^MISSING ')
[ -z "$missing" ] || die "modules not in $release:$missing"
for f in $files; do
	mkdir -p "$stage/lib/modules/$release/$(dirname "$f")"
	cp "$mdir/$f" "$stage/lib/modules/$release/$f"
done
cp "$mdir/modules.builtin" "$mdir/modules.builtin.modinfo" "$mdir/modules.order" "$stage/lib/modules/$release/"
"$depmod" -b "$stage" "$release"

# the guest's scripts
cp "$guest"/init "$stage/init"
cp "$guest"/*.sh "$stage/vmtest/"
chmod 755 "$stage/init" "$stage"/vmtest/*.sh
echo "root:x:0:0:root:/root:/bin/sh" >"$stage/etc/passwd"

(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
rm -rf "$stage"
