#!/bin/sh
# The images of the boot runs (boot-*): iommu-own as `make install` puts it
# (VM_DEST, a DESTDIR tree), with test declarations, in three kinds of
# initramfs:
#   udev         busybox + Debian's systemd-udevd (udevadm and its libraries,
#                80-drivers.rules) + the installed tree (binary at its sbindir,
#                69-iommu-own.rules, the units); /init is guest/boot-init
#   dracut       dracut (systemd in the image) with the installed module
#                90iommu-own, found by dracut's check() (no --add)
#   dracut-sh    the same with --add iommu-own and --omit "systemd
#                systemd-initrd dracut-systemd": dracut's shell init
#   itools       mkinitramfs -d tests/vm/itools with the installed hook and
#                init-top script
#   itools-none  the same on a host that declares nothing (the control)
# dracut and mkinitramfs run in a private mount namespace (unshare -m) where
# read-only overlays lay the installed tree over the host's /usr (and /etc),
# a tmpfs on /etc/iommu-own holds the test declarations, and (mkinitramfs)
# the cached kernel's modules and /boot are bind-mounted: nothing of the
# host is written. An image is kept in WORK and reused while the checksum of
# its inputs (the installed tree, the test files, the kernel, the package
# versions) is the same.
# Usage: bootimg.sh KIND OUT
# Environment: KROOT KV (the unpacked kernel and its release), VM_DEST,
#   VM_SBINDIR VM_UDEVRULESDIR VM_UNITDIR VM_DRACUTMODDIR VM_ITOOLSDIR (the
#   configured directories), VM_SRCDIR, VFIO_VIABLE, WORK.
# Prints '# ' comment lines and the host's checks of the image as
# 'RESULT name pass|fail detail' lines; exit status 1 when there is no image.
set -u

kind=$1 out=$2
: "${KROOT:?}" "${KV:?}" "${VM_DEST:?}" "${VM_SBINDIR:?}" "${VM_UDEVRULESDIR:?}" "${VM_UNITDIR:?}"
: "${VM_DRACUTMODDIR:?}" "${VM_ITOOLSDIR:?}" "${VM_SRCDIR:?}" "${VFIO_VIABLE:?}" "${WORK:?}"
GUEST=$VM_SRCDIR/guest
BIN=$VM_SBINDIR/iommu-own
tmp=$out.tmpd
rm -rf "$tmp"
mkdir -p "$tmp"

say() { echo "# $*"; }
result() { echo "RESULT $1 $2 $3"; }
die() { # the image cannot be made: every check of it fails
	say "bootimg.sh $kind: $*"
	result image fail "$*"
	rm -rf "$tmp"
	exit 1
}
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

[ -x "$VM_DEST$BIN" ] || die "no $BIN in the installed tree $VM_DEST"

# The test declarations: the group of the PCIe-to-PCI bridge 01:00.0 and
# the two e1000 behind it, named by one of its NICs (see run.sh's topology).
# 8086:100e is QEMU's e1000.
declarations() { # DIR
	mkdir -p "$1"
	cat >"$1/iommu-own.conf" <<-'EOF'
	# make check-vm: the group of the PCIe-to-PCI bridge and its two e1000
	[device 0000:02:01.0]
	id = 8086:100e
	members = 0000:01:00.0 0000:02:01.0 0000:02:02.0
	EOF
}

# A module with everything modules.dep says it needs, into STAGE/lib/modules
# with a fresh index.
add_modules() { # STAGE MODULE...
	_stage=$1
	shift
	_mdir=$KROOT/lib/modules/$KV
	_files=$(awk -v want="$*" '
		BEGIN { n = split(want, w, / +/); for (i = 1; i <= n; i++) need[w[i]] = 1 }
		{
			sub(/:$/, "", $1)
			name = $1; sub(/.*\//, "", name); sub(/\.ko(\.[a-z]+)?$/, "", name); gsub(/-/, "_", name)
			if (name in need) { found[name] = 1; for (i = 1; i <= NF; i++) { f = $i; sub(/:$/, "", f); print f } }
		}
		END { for (m in need) if (!(m in found)) print "MISSING " m }' "$_mdir/modules.dep" | sort -u)
	case $_files in *MISSING*) die "modules not in $KV: $(echo "$_files" | sed -n 's/^MISSING //p' | tr '\n' ' ')" ;; esac
	for _f in $_files; do
		mkdir -p "$_stage/lib/modules/$KV/$(dirname "$_f")"
		cp "$_mdir/$_f" "$_stage/lib/modules/$KV/$_f"
	done
	cp "$_mdir/modules.builtin" "$_mdir/modules.builtin.modinfo" "$_mdir/modules.order" "$_stage/lib/modules/$KV/"
	"$(command -v depmod || echo /sbin/depmod)" -b "$_stage" "$KV"
}

# A binary and the libraries ldd names, at their paths under STAGE.
add_binary() { # STAGE PATH [AS]
	_to=${3:-$2}
	mkdir -p "$1$(dirname "$_to")"
	cp -L "$2" "$1$_to"
	ldd "$2" | awk '/=>/ && $3 ~ /^\// { print $3 } /^[ \t]*\// { print $1 }' | while read -r _lib; do
		mkdir -p "$1$(dirname "$_lib")"
		[ -e "$1$_lib" ] || cp -L "$_lib" "$1$_lib"
	done
}

# The installed tree copied into DIR, whose bin, lib... are the host's links
# (usr-merged hosts: /lib -> usr/lib), so that DESTDIR/lib/udev lands where
# the host's /lib/udev is.
lay_installed() { # DIR
	for _e in bin sbin lib lib32 lib64 libx32; do
		[ -L "/$_e" ] && ln -s "$(readlink "/$_e")" "$1/$_e"
	done
	(cd "$VM_DEST" && tar -cf - .) | tar -C "$1" -xf - --keep-directory-symlink ||
		die "cannot copy the installed tree $VM_DEST"
}

# What a build must leave as it was: the host's /etc/iommu-own, sbindir, the
# dracut modules, initramfs-tools, /boot and /lib/modules.
host_state() {
	for _p in /etc/iommu-own "$VM_SBINDIR" /usr/lib/dracut/modules.d /usr/share/initramfs-tools /boot /lib/modules; do
		if [ -e "$_p" ]; then
			echo "$_p $(find "$_p" -maxdepth 3 -printf '%p %y %s %T@ %l\n' 2>/dev/null | sort | md5sum | cut -c1-12)"
		else
			echo "$_p absent"
		fi
	done
}

# Run a command with LAYER laid over the host (read-only overlays of each of
# its top directories), DECL (a directory, or empty) as /etc/iommu-own, and
# the cached kernel's modules and /boot where mkinitramfs reads them.
in_namespace() { # LAYER DECL COMMAND...
	_layer=$1 _decl=$2
	shift 2
	LAYER=$_layer DECL=$_decl KROOT=$KROOT KV=$KV unshare -m --propagation private sh -c '
		set -e
		for d in "$LAYER"/*; do
			n=${d##*/}
			[ -L "$d" ] && continue
			[ -d "/$n" ] || { echo "no /$n on this host to lay $d over" >&2; exit 1; }
			mount -t overlay overlay -o "lowerdir=$d:/$n" "/$n"
		done
		mount -t tmpfs -o mode=0755 tmpfs /etc/iommu-own
		[ -z "$DECL" ] || cp -a "$DECL"/. /etc/iommu-own/
		mount --bind "$KROOT/lib/modules/$KV" "/lib/modules/$KV"
		mount --bind "$KROOT/boot" /boot
		exec "$@"' sh "$@"
}

# The checksum of an image's inputs: the build's files, the kernel, the
# packages that make it.
inputs_key() { # DIR...
	{
		echo "$kind $KV $(cat "$KROOT/../package" 2>/dev/null)"
		dpkg-query -W -f='${Package} ${Version}\n' dracut-core initramfs-tools-core udev systemd busybox-static 2>/dev/null
		sha256sum "$0"
		for _d; do
			(cd "$_d" && find . \( -type f -o -type l \) -print | LC_ALL=C sort | while read -r _f; do
				if [ -L "$_f" ]; then echo "$_f -> $(readlink "$_f")"; else echo "$_f $(sha256sum <"$_f" | cut -c1-64)"; fi
			done)
		done
	} | sha256sum | cut -c1-64
}
cached() { # KEY: the image in OUT was made from these inputs
	[ -s "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$1" ]
}

# ---------------------------------------------------------------------------
build_udev() {
	s=$tmp/stage
	mkdir -p "$s"/usr/bin "$s"/usr/sbin "$s"/usr/lib "$s"/usr/lib64 "$s"/proc "$s"/sys "$s"/dev "$s"/run \
		"$s"/tmp "$s"/etc "$s"/root "$s"/vmtest "$s"/usr/share/misc
	# usr-merged, as Debian 12 (and as udevd expects: it reads
	# /usr/lib/udev/rules.d, not /lib/udev/rules.d)
	for _e in bin sbin lib lib64; do ln -s "usr/$_e" "$s/$_e"; done
	busybox=$(command -v busybox) || die "no busybox (apt-get install busybox-static)"
	ldd "$busybox" >/dev/null 2>&1 && die "$busybox is dynamically linked: install busybox-static"
	for _a in $("$busybox" --list-full); do
		[ "${_a##*/}" = busybox ] && continue
		ln -sf /bin/busybox "$s/$_a"
	done
	cp "$busybox" "$s/bin/busybox"
	[ -x /usr/bin/udevadm ] || die "no /usr/bin/udevadm (apt-get install udev)"
	[ -f /usr/lib/udev/rules.d/80-drivers.rules ] || die "no 80-drivers.rules (apt-get install udev)"
	add_binary "$s" /usr/bin/udevadm
	mkdir -p "$s/usr/lib/systemd" "$s/usr/lib/udev/rules.d"
	# systemd-udevd is udevadm called by another name (Debian ships a link)
	ln -s /usr/bin/udevadm "$s/usr/lib/systemd/systemd-udevd"
	cp /usr/lib/udev/rules.d/80-drivers.rules "$s/usr/lib/udev/rules.d/"
	lay_installed "$s"
	add_binary "$s" "$VM_DEST$BIN" "$BIN"
	declarations "$s/etc/iommu-own"
	# the drifted entry of boot-udev-drift (scenario boot-drift puts it in conf.d)
	cat >"$s/vmtest/50-drift.conf" <<-'EOF'
	# 03:00.0 is QEMU's e1000e (8086:10d3): a declaration of another card
	[device 0000:03:00.0]
	id = 8086:1533
	EOF
	cp "$VFIO_VIABLE" "$s/usr/bin/vfio-viable"
	for _f in /usr/share/misc/pci.ids /usr/share/hwdata/pci.ids; do
		[ -f "$_f" ] && { cp "$_f" "$s/usr/share/misc/pci.ids"; break; }
	done
	install -m 755 "$GUEST/boot-init" "$s/init"
	install -m 644 "$GUEST/lib.sh" "$GUEST/boot.sh" "$s/vmtest/"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$s/etc/passwd"
	printf 'root:x:0:\n' >"$s/etc/group"
	add_modules "$s" e1000 e1000e vfio vfio_pci vfio_iommu_type1
	key=$(inputs_key "$s")
	if cached "$key"; then
		say "$kind: the cached image has the same inputs"
		return
	fi
	(cd "$s" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$out.new" || die "cpio failed"
	mv "$out.new" "$out"
	echo "$key" >"$out.key"
}

# The files of the test module (dracut) and the test hook (initramfs-tools):
# the results script and what it needs.
test_files() { # DIR
	mkdir -p "$1"
	install -m 755 "$GUEST/boot-results" "$1/vmtest-results"
	install -m 644 "$GUEST/lib.sh" "$GUEST/boot.sh" "$1/"
	install -m 755 "$VFIO_VIABLE" "$1/vfio-viable"
}

build_dracut() {
	command -v dracut >/dev/null || die "no dracut (scripts/install-deps.sh --vm installs dracut-core)"
	_base=/usr/lib/dracut
	[ "$VM_DRACUTMODDIR" = "$_base/modules.d" ] ||
		die "the dracut module is installed in $VM_DRACUTMODDIR, where dracut (in $_base/modules.d) does not look: configure --with-dracutmodulesdir=$_base/modules.d"
	layer=$tmp/layer
	mkdir -p "$layer"
	lay_installed "$layer"
	mkdir -p "$layer/etc/iommu-own" "$layer/lib/modules/$KV"
	cp -a "$VM_SRCDIR/dracut/99iommu-own-vmtest" "$layer$VM_DRACUTMODDIR/"
	test_files "$layer$VM_DRACUTMODDIR/99iommu-own-vmtest/files"
	declarations "$tmp/decl"
	key=$(inputs_key "$layer" "$tmp/decl")
	if cached "$key"; then
		say "$kind: the cached image has the same inputs"
		return
	fi
	mkdir -p "$tmp/confdir" "$WORK/dracut-tmp"
	set -- --force --no-hostonly --no-hostonly-cmdline --no-early-microcode \
		--conf /dev/null --confdir "$tmp/confdir" --tmpdir "$WORK/dracut-tmp" \
		--kver "$KV" --kmoddir "$KROOT/lib/modules/$KV" \
		--add iommu-own-vmtest --add-drivers "e1000 e1000e vfio vfio_pci vfio_iommu_type1" \
		--compress "gzip -1"
	# dracut's image: the module comes in by its own check(), which includes
	# it on a host that declares something; the shell-init image asks for it
	[ "$kind" = dracut-sh ] && set -- "$@" --add iommu-own --omit "systemd systemd-initrd dracut-systemd"
	say "dracut $* $out.new"
	t0=$(date +%s.%N)
	in_namespace "$layer" "$tmp/decl" nice -n 5 dracut "$@" "$out.new" >"$out.build.log" 2>&1
	rc=$?
	say "$kind: dracut took $(since "$t0") s, exit $rc (log $out.build.log)"
	[ $rc = 0 ] && [ -s "$out.new" ] || die "dracut failed: $(grep -v '^dracut: \*\*\*' "$out.build.log" | tail -n 3 | tr '\n' ' ')"
	mv "$out.new" "$out"
	echo "$key" >"$out.key"
}

build_itools() {
	command -v mkinitramfs >/dev/null || die "no mkinitramfs (scripts/install-deps.sh --vm installs initramfs-tools)"
	[ "$VM_ITOOLSDIR" = /usr/share/initramfs-tools ] ||
		die "the initramfs-tools files are installed in $VM_ITOOLSDIR, where mkinitramfs (/usr/share/initramfs-tools) does not look"
	layer=$tmp/layer
	mkdir -p "$layer"
	lay_installed "$layer"
	mkdir -p "$layer/etc/iommu-own" "$layer/lib/modules/$KV"
	confdir=$tmp/confdir
	cp -a "$VM_SRCDIR/itools" "$confdir"
	test_files "$confdir/files"
	if [ "$kind" = itools ]; then declarations "$tmp/decl"; else mkdir -p "$tmp/decl"; fi
	key=$(inputs_key "$layer" "$confdir" "$tmp/decl")
	if cached "$key"; then
		say "$kind: the cached image has the same inputs"
		return
	fi
	say "mkinitramfs -d $confdir -o $out.new $KV"
	t0=$(date +%s.%N)
	mkdir -p "$WORK/itools-tmp"
	in_namespace "$layer" "$tmp/decl" env TMPDIR="$WORK/itools-tmp" nice -n 5 mkinitramfs -d "$confdir" -o "$out.new" "$KV" >"$out.build.log" 2>&1
	rc=$?
	say "$kind: mkinitramfs took $(since "$t0") s, exit $rc (log $out.build.log)"
	[ $rc = 0 ] && [ -s "$out.new" ] || die "mkinitramfs failed: $(tail -n 3 "$out.build.log" | tr '\n' ' ')"
	mv "$out.new" "$out"
	echo "$key" >"$out.key"
}

# check() of the installed dracut module, sourced as dracut does, with
# dracut's find_binary (require_binaries reduced to it): 0 on a host that
# declares something, 255 (only when asked for) on one that does not, 1
# without the binary.
module_check() {
	mkdir -p "$tmp/nodecl" "$tmp/layer-nobin"
	(cd "$tmp/layer" && tar -cf - .) | tar -C "$tmp/layer-nobin" -xf -
	rm -f "$tmp/layer-nobin$BIN"
	# shellcheck disable=SC2016
	_call='. /usr/lib/dracut/dracut-functions.sh
		require_binaries() { for c; do find_binary "$c" >/dev/null || return 1; done; }
		moddir=$1; . "$1/module-setup.sh"; check; echo "check=$?"'
	_m=$VM_DRACUTMODDIR/90iommu-own
	_a=$(in_namespace "$tmp/layer" "$tmp/decl" bash -c "$_call" sh "$_m" 2>&1 | sed -n 's/^check=//p')
	_b=$(in_namespace "$tmp/layer" "$tmp/nodecl" bash -c "$_call" sh "$_m" 2>&1 | sed -n 's/^check=//p')
	_c=$(in_namespace "$tmp/layer-nobin" "$tmp/decl" bash -c "$_call" sh "$_m" 2>&1 | sed -n 's/^check=//p')
	if [ "$_a/$_b/$_c" = 0/255/1 ]; then
		result module-check pass "check() of the installed 90iommu-own: 0 (included) with the declarations, 255 (only when asked for) without, 1 without $BIN"
	else
		result module-check fail "check() of the installed 90iommu-own: ${_a:-?} with the declarations (want 0), ${_b:-?} without (want 255), ${_c:-?} without $BIN (want 1)"
	fi
}

# ---------------------------------------------------------------------------
# The host's checks of an image.

# listed LIST PATH...: the paths (relative, no leading /) missing from LIST
missing_from() {
	_list=$1
	shift
	for _p; do
		grep -q -x -F -e "$_p" -e "./$_p" "$_list" || printf ' %s' "$_p"
	done
}

check_dracut() {
	lsinitrd "$out" >"$out.list" 2>&1 || { result image fail "lsinitrd $out failed: $(tail -n 1 "$out.list")"; return; }
	# lsinitrd lists "ls -l" lines: keep the paths
	awk '$1 ~ /^[-dlcbps][-rwxsStT]+$/ && NF >= 9 { p = $9; for (i = 10; i <= NF && $i != "->"; i++) p = p " " $i; print p }' "$out.list" >"$out.paths"
	modules=$(sed -n '/^dracut modules:$/,/^=/p' "$out.list")
	want="${BIN#/} etc/iommu-own/iommu-own.conf etc/udev/rules.d/69-iommu-own.rules"
	hook=$(grep -E '(^|/)hooks/pre-trigger/10-iommu-own-boot\.sh$' "$out.paths" | head -n 1)
	miss=$(missing_from "$out.paths" $want)
	[ -n "$hook" ] || miss="$miss hooks/pre-trigger/10-iommu-own-boot.sh"
	echo "$modules" | grep -q -x 'iommu-own' || miss="$miss (module iommu-own not in 'dracut modules')"
	extra=
	if [ "$kind" = dracut ]; then
		# dracut installs units in its own systemdsystemunitdir
		u=$(grep -E '/systemd/system/iommu-own-boot\.service$' "$out.paths" | grep -v wants | head -n 1)
		w=$(grep -E 'systemd/system/sysinit\.target\.wants/iommu-own-boot\.service$' "$out.paths" | head -n 1)
		[ -n "$u" ] || miss="$miss iommu-own-boot.service"
		[ -n "$w" ] || miss="$miss sysinit.target.wants/iommu-own-boot.service"
		extra="$u, enabled as $w, "
		grep -q -F "ExecStart=$BIN boot" "$out.list" 2>/dev/null ||
			lsinitrd -f "$u" "$out" 2>/dev/null | grep -q -x -F "ExecStart=$BIN boot" ||
			miss="$miss (the unit does not run $BIN boot)"
	else
		if grep -q 'iommu-own-boot\.service$' "$out.paths"; then
			miss="$miss (iommu-own-boot.service is in an image without systemd)"
		fi
		extra="no unit (no systemd), "
	fi
	decl=$(lsinitrd -f etc/iommu-own/iommu-own.conf "$out" 2>/dev/null)
	[ "$decl" = "$(declarations "$tmp/d2" && cat "$tmp/d2/iommu-own.conf")" ] || miss="$miss (etc/iommu-own/iommu-own.conf is not the test's)"
	rule=$(lsinitrd -f etc/udev/rules.d/69-iommu-own.rules "$out" 2>/dev/null)
	echo "$rule" | grep -q -F "IMPORT{program}=\"$BIN boot --device" || miss="$miss (the rule does not call $BIN)"
	if [ -z "$miss" ]; then
		result image pass "lsinitrd: module iommu-own included, $BIN, /etc/iommu-own/iommu-own.conf (the test's), /etc/udev/rules.d/69-iommu-own.rules (calls $BIN boot --device), ${extra}pre-trigger hook $hook; $(du -h "$out" | cut -f1) image; the host's files untouched${host_note}"
	else
		result image fail "missing from or wrong in $out:$miss$host_note"
	fi
}

check_itools() {
	lsinitramfs "$out" >"$out.paths" 2>&1 || { result image fail "lsinitramfs $out failed: $(tail -n 1 "$out.paths")"; return; }
	rm -rf "$tmp/x"
	unmkinitramfs "$out" "$tmp/x" >/dev/null 2>&1
	root=$tmp/x
	[ -d "$root/main" ] && root=$root/main
	order=$(sed -n 's#^/scripts/init-top/\([^ ]*\).*#\1#p' "$root/scripts/init-top/ORDER" 2>/dev/null | tr '\n' ' ')
	ours="${BIN#/} etc/iommu-own/iommu-own.conf usr/lib/udev/rules.d/69-iommu-own.rules"
	if [ "$kind" = itools ]; then
		miss=$(missing_from "$out.paths" $ours scripts/init-top/iommu-own)
		grep -q -F "IMPORT{program}=\"$BIN boot --device" "$root/usr/lib/udev/rules.d/69-iommu-own.rules" 2>/dev/null ||
			miss="$miss (the rule does not call $BIN)"
		cmp -s "$root$BIN" "$VM_DEST$BIN" || miss="$miss ($BIN is not the installed binary)"
		if [ -z "$miss" ]; then
			result image pass "lsinitramfs: $BIN (the installed binary), /etc/iommu-own/iommu-own.conf, /usr/lib/udev/rules.d/69-iommu-own.rules, scripts/init-top/iommu-own; $(du -h "$out" | cut -f1) image; the host's files untouched${host_note}"
		else
			result image fail "missing from or wrong in $out:$miss$host_note"
		fi
		case " $order" in
		*" iommu-own "*" udev "*) result init-top-order pass "scripts/init-top/ORDER runs iommu-own before udev: $order" ;;
		*) result init-top-order fail "scripts/init-top/ORDER: $order (iommu-own must come before udev)" ;;
		esac
	else
		found=
		for _p in $ours; do
			grep -q -x -F -e "$_p" -e "./$_p" "$out.paths" && found="$found $_p"
		done
		grep -q 'etc/iommu-own' "$out.paths" && found="$found etc/iommu-own"
		inert=no
		grep -q -x -F "[ -x $BIN ] || exit 0" "$root/scripts/init-top/iommu-own" 2>/dev/null && inert=yes
		if [ -z "$found" ] && [ $inert = yes ]; then
			result image pass "no declarations on the host: the hook added nothing (no $BIN, no /etc/iommu-own, no rule); scripts/init-top/iommu-own is there (mkinitramfs copies every script) and exits at once without $BIN; init-top ORDER: $order; the host's files untouched${host_note}"
		else
			result image fail "with nothing declared the image has:${found:- nothing}; init-top/iommu-own exits without the binary: $inert$host_note"
		fi
	fi
}

# ---------------------------------------------------------------------------
before=$(host_state)
t0=$(date +%s.%N)
case $kind in
udev) build_udev ;;
dracut | dracut-sh) build_dracut ;;
itools | itools-none) build_itools ;;
*) die "unknown image kind $kind" ;;
esac
say "$kind: $out ($(du -h "$out" | cut -f1)) ready in $(since "$t0") s"
after=$(host_state)
host_note=
if [ "$before" != "$after" ]; then
	host_note="; BUT THE HOST CHANGED: $(echo "$before" | tr '\n' ' ') -> $(echo "$after" | tr '\n' ' ')"
	say "the host changed during the build: $host_note"
fi
case $kind in
dracut) check_dracut; module_check ;;
dracut-sh) check_dracut ;;
itools | itools-none) check_itools ;;
udev) [ -z "$host_note" ] || result image fail "$host_note" ;;
esac
rm -rf "$tmp"
exit 0
