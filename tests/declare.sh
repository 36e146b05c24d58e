#!/usr/bin/env bash
# Declarations (iommu-own.conf(5)): the grammar and its errors, drift, apply
# as one transaction (faults and kills at every write), the boot step, the
# check findings, and claim/release --persist. Every case runs on a copy of a
# fixture, with the declarations written into its etc/iommu-own.
. "$TOP_SRCDIR/tests/lib.sh"

# put ROOT [NAME]: stdin becomes ROOT's iommu-own.conf, or conf.d/NAME
put() {
	mkdir -p "$1/etc/iommu-own/conf.d"
	if [ $# -gt 1 ]; then cat >"$1/etc/iommu-own/conf.d/$2"; else cat >"$1/etc/iommu-own/iommu-own.conf"; fi
}
overrides() { # overrides ROOT: "ADDRESS OVERRIDE" of every device with one set
	(cd "$1/sys/bus/pci/devices" && for d in *; do
		o=$(cat "$d/driver_override" 2>/dev/null)
		[ -n "$o" ] && [ "$o" != "(null)" ] && echo "$d $o"
	done)
}
json_field() { # json_field FILE KEY: the first "KEY": value of a report, as printed
	sed -n "s/^ *\"$2\": \\(.*\\),\\{0,1\\}$/\\1/p" "$1" | head -1 | sed 's/,$//'
}
# dsn ROOT ADDRESS HEX16: give a PCIe device of the tree a Device Serial Number capability at 0x100
dsn() {
	local h=$3 fmt='\x03\x00\x01\x00' i
	for i in 14 12 10 8 6 4 2 0; do fmt+="\\x${h:$i:2}"; done
	# shellcheck disable=SC2059 # the format is the bytes
	printf "$fmt" | dd of="$1/sys/bus/pci/devices/$2/config" bs=1 seek=256 conv=notrunc status=none
}

# ---- the grammar ------------------------------------------------------------------
root=$(fresh_copy acs)
put "$root" <<'EOF'
# a comment, a blank line, spaces and tabs around keys and values

[device 02:00.0]   # short address, trailing comment
	id   =   10de:1b80
driver = vfio-pci
[device 0000:04:00.0]
id = 8086:1533
members = 0000:00:1d.0 04:00.0
force = host-in-use cannot-verify
EOF
iommu_own "$root" check --syntax >"$SCRATCH/out" 2>&1
rc=$?
expect_rc $rc 0 "a valid file with comments, blanks, short addresses and tabs parses" grep -q "^2 declarations in 1 file: valid" "$SCRATCH/out"
iommu_own "$root" check --syntax -J >"$SCRATCH/out" 2>&1
"$JSONCHECK" <"$SCRATCH/out" >/dev/null && grep -q '"declarations": 2' "$SCRATCH/out"
verdict "check --syntax -J is valid JSON with the count"
printf '[device 02:00.0]\r\nid = 10de:1b80\r\n' | put "$root"
iommu_own "$root" check --syntax >/dev/null 2>&1
verdict "CRLF line ends parse"

# Each class of error: exit 2, FILE:LINE naming what is wrong, and nothing of the file is used.
bad() { # bad DESCRIPTION LINE PATTERN: stdin is the file
	local d=$1 line=$2 pat=$3 r
	r=$(fresh_copy acs)
	put "$r"
	iommu_own "$r" check --syntax >"$SCRATCH/out" 2>&1
	local rc=$?
	iommu_own "$r" apply >"$SCRATCH/out2" 2>&1
	local arc=$?
	iommu_own "$r" boot >"$SCRATCH/out3" 2>&1
	local brc=$?
	if [ $rc -eq 2 ] && [ $arc -eq 2 ] && [ $brc -eq 2 ] && grep -q -F "iommu-own.conf:$line: " "$SCRATCH/out" &&
		grep -q -F -- "$pat" "$SCRATCH/out" && same_tree "$r" "$FIXTURES/acs" && [ -z "$(overrides "$r")" ]; then
		ok "$d: exit 2, FILE:$line names it, apply and boot change nothing"
	else
		not_ok "$d (syntax $rc, apply $arc, boot $brc)" "$(cat "$SCRATCH/out" "$SCRATCH/out2" "$SCRATCH/out3")"
	fi
}
bad "an unknown key" 3 "unknown key 'speed'" < <(printf '[device 04:00.0]\nid = 8086:1533\nspeed = fast\n')
bad "a key given twice" 3 "'id' given twice" < <(printf '[device 04:00.0]\nid = 8086:1533\nid = 8086:1533\n')
bad "an address twice in a file" 3 "appears twice" < <(printf '[device 04:00.0]\nid = 8086:1533\n[device 0000:04:00.0]\nid = 8086:1533\n')
bad "an id without device" 2 "id = 8086" < <(printf '[device 04:00.0]\nid = 8086\n')
bad "an id of five digits" 2 "four hexadecimal digits" < <(printf '[device 04:00.0]\nid = 8086:15334\n')
bad "an id that is not hexadecimal" 2 "four hexadecimal digits" < <(printf '[device 04:00.0]\nid = zzzz:1533\n')
bad "an entry without id" 1 "has no 'id" < <(printf '[device 04:00.0]\ndriver = vfio-pci\n')
bad "a bad address" 1 "not a PCI address" < <(printf '[device 4:0.0:1]\nid = 8086:1533\n')
bad "an address that is a path" 1 "not a PCI address" < <(printf '[device ../../etc]\nid = 8086:1533\n')
bad "a key before any section" 1 "before any [device" < <(printf 'id = 8086:1533\n')
bad "a line without =" 2 "expected 'key = value'" < <(printf '[device 04:00.0]\nid 8086:1533\n')
bad "a key without value" 2 "has no value" < <(printf '[device 04:00.0]\nid =\n')
bad "an unclosed section" 1 "expected a section" < <(printf '[device 04:00.0\nid = 8086:1533\n')
bad "a section of another kind" 1 "expected a section" < <(printf '[group 4]\nid = 8086:1533\n')
bad "a driver that is not VFIO" 3 "not a VFIO PCI driver" < <(printf '[device 04:00.0]\nid = 8086:1533\ndriver = e1000e\n')
bad "a force of a check that cannot be overridden" 3 "force = direct-mapped" < <(printf '[device 04:00.0]\nid = 8086:1533\nforce = direct-mapped\n')
bad "a force of an unknown code" 3 "force = bogus" < <(printf '[device 04:00.0]\nid = 8086:1533\nforce = bogus\n')
bad "masked neither yes nor no" 3 "masked = maybe" < <(printf '[device 04:00.0]\nid = 8086:1533\nmasked = maybe\n')
bad "a short serial" 3 "serial = 12-34" < <(printf '[device 04:00.0]\nid = 8086:1533\nserial = 12-34\n')
bad "a member that is no address" 3 "members = " < <(printf '[device 04:00.0]\nid = 8086:1533\nmembers = 04:00.0 nonsense\n')
bad "an error late in the file: the good entry before it is not applied either" 5 "unknown key 'bogus'" < <(printf '[device 04:00.0]\nid = 8086:1533\n[device 02:00.0]\nid = 10de:1b80\nbogus = 1\n')

# Control characters in the file are escaped in the message, never printed raw.
root=$(fresh_copy acs)
printf '[device 04:00.0]\nid = 8086:1533\n\033[31mred = 1\n' | put "$root"
iommu_own "$root" check --syntax >"$SCRATCH/out" 2>&1
rc=$?
expect_rc $rc 2 "a key with an escape sequence is reported escaped" grep -q -F '\x1b[31mred' "$SCRATCH/out"
! grep -q $'\033' "$SCRATCH/out"
verdict "no raw escape byte reaches the terminal"
printf '[device 04:00.0]\nid = 8086:1533\0\n' | put "$root"
iommu_own "$root" check --syntax >"$SCRATCH/out" 2>&1
expect_rc $? 2 "a NUL byte in the file is an error, not the end of the text" grep -q "iommu-own.conf" "$SCRATCH/out"
head -c 1100000 /dev/zero | tr '\0' '#' | put "$root"
iommu_own "$root" check --syntax >"$SCRATCH/out" 2>&1
expect_rc $? 2 "a file over 1 MiB is refused" grep -q "iommu-own.conf" "$SCRATCH/out"

# Every path stays beneath the root: links out of it are not followed.
root=$(fresh_copy acs)
mkdir -p "$root/etc/iommu-own"
printf '[device 04:00.0]\nid = 8086:1533\n' >"$SCRATCH/outside.conf"
ln -s "$SCRATCH/outside.conf" "$root/etc/iommu-own/iommu-own.conf"
iommu_own "$root" check --syntax >"$SCRATCH/out" 2>&1
expect_rc $? 2 "an iommu-own.conf that links out of the root is not read: the link is resolved beneath it, and names nothing there" \
	grep -q "iommu-own.conf: a link to .*outside.conf, which does not exist beneath the root" "$SCRATCH/out"
rm "$root/etc/iommu-own/iommu-own.conf"
mkdir -p "$SCRATCH/outside.d" && cp "$SCRATCH/outside.conf" "$SCRATCH/outside.d/a.conf"
ln -s "$SCRATCH/outside.d" "$root/etc/iommu-own/conf.d"
iommu_own "$root" check --syntax >"$SCRATCH/out" 2>&1
expect_rc $? 2 "a conf.d that links out of the root is not read" grep -q "conf.d: a link to .*outside.d, which does not exist beneath" "$SCRATCH/out"
rm "$root/etc/iommu-own/conf.d"
ln -s /etc/iommu-own/conf.d.real "$root/etc/iommu-own/conf.d"
mkdir -p "$root/etc/iommu-own/conf.d.real"
printf '[device 04:00.0]\nid = 8086:1533\n' >"$root/etc/iommu-own/conf.d.real/a.conf"
iommu_own "$root" check --syntax >"$SCRATCH/out" 2>&1
rc=$?
expect_rc $rc 0 "an absolute link inside the tree resolves beneath the root" grep -q "^1 declaration in 1 file" "$SCRATCH/out"

# ---- files and their order ---------------------------------------------------------
root=$(fresh_copy acs)
printf '[device 04:00.0]\nid = 8086:1533\n[device 02:00.0]\nid = 10de:1b80\n' | put "$root"
printf '[device 04:00.0]\nmasked = yes\n' | put "$root" 50-mask.conf
printf '[device 02:00.0]\nid = 10de:1b80\ndriver = vfio-pci\n' | put "$root" 10-first.conf
printf '[device 02:00.0]\nid = ffff:ffff\n' | put "$root" README
printf '[device 02:00.0]\nid = ffff:ffff\n' | put "$root" 60-old.conf.dpkg-old
iommu_own "$root" apply -J >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && bound_to "$root/sys/bus/pci/devices/0000:02:00.0" vfio-pci &&
	bound_to "$root/sys/bus/pci/devices/0000:04:00.0" igb && ! grep -q "ffff" "$SCRATCH/out"
verdict "conf.d/*.conf in order: a later file masks an address, files not ending in .conf are ignored (exit $rc)"

# --conf FILE: one file of the real file system instead of the tree's.
root=$(fresh_copy acs)
printf '[device 04:00.0]\nid = 8086:1533\n' >"$SCRATCH/one.conf"
iommu_own "$root" check --conf "$SCRATCH/one.conf" --syntax >"$SCRATCH/out" 2>&1
expect_rc $? 0 "check --conf FILE --syntax parses that file" grep -q "^1 declaration in 1 file" "$SCRATCH/out"
iommu_own "$root" check --conf "$SCRATCH/missing.conf" --syntax >"$SCRATCH/out" 2>&1
expect_rc $? 2 "check --conf of a missing file names it" grep -q "missing.conf" "$SCRATCH/out"
iommu_own "$root" apply --conf "$SCRATCH/one.conf" >/dev/null 2>&1
expect_rc $? 0 "apply --conf FILE applies that file" bound_to "$root/sys/bus/pci/devices/0000:04:00.0" vfio-pci

# ---- apply -------------------------------------------------------------------------------
root=$(fresh_copy acs)
printf '[device 02:00.0]\nid = 10de:1b80\n[device 04:00.0]\nid = 8086:1533\n' | put "$root"
iommu_own "$root" apply --dry-run -J >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && same_tree "$root" "$FIXTURES/acs" && [ "$(grep -c '"result": "would-move"' "$SCRATCH/out")" -eq 2 ] &&
	"$JSONCHECK" <"$SCRATCH/out" >/dev/null
verdict "apply --dry-run: both entries would move, nothing changes (exit $rc)"
iommu_own "$root" apply -J >"$SCRATCH/out" 2>&1
rc=$?
c=0
for d in 0000:02:00.0 0000:03:00.0 0000:04:00.0; do bound_to "$root/sys/bus/pci/devices/$d" vfio-pci && c=$((c + 1)); done
[ $rc -eq 0 ] && [ $c -eq 3 ] && [ "$(json_field "$SCRATCH/out" changed)" = true ] &&
	[ "$(grep -c '"result": "moved"' "$SCRATCH/out")" -eq 2 ] && grep -q '"groups": \[' "$SCRATCH/out" &&
	bound_to "$root/sys/bus/pci/devices/0000:00:1c.0" pcieport
verdict "apply moves both declared groups, every endpoint, bridges left on pcieport, changed: true (exit $rc)"
tree_state "$root" >"$SCRATCH/before"
iommu_own "$root" apply -J >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && [ "$(json_field "$SCRATCH/out" changed)" = false ] &&
	[ "$(grep -c '"result": "converged"' "$SCRATCH/out")" -eq 2 ] && diff <(tree_state "$root") "$SCRATCH/before" >/dev/null
verdict "a second apply writes nothing: changed: false, both converged (exit $rc)"
iommu_own "$root" check >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && ! grep -q "declared-" "$SCRATCH/out"
verdict "check of a converged system has no declared-* finding (exit $rc)"

# An entry refused (boot-vga), another applied: exit 6, the refused group untouched.
root=$(fresh_copy workstation)
printf '[device 01:00.0]\nid = 10de:1e87\n[device 03:00.0]\nid = 8086:10d3\n' | put "$root"
iommu_own "$root" apply --dry-run >/dev/null 2>"$SCRATCH/err"
iommu_own "$root" apply -J >"$SCRATCH/out" 2>/dev/null
rc=$?
[ $rc -eq 6 ] && bound_to "$root/sys/bus/pci/devices/0000:03:00.0" vfio-pci &&
	bound_to "$root/sys/bus/pci/devices/0000:01:00.0" nouveau && grep -q '"code": "boot-vga"' "$SCRATCH/out" &&
	grep -q "iommu-own.conf:1: \[device 0000:01:00.0\] refused" "$SCRATCH/err"
verdict "the boot GPU's entry is refused (boot-vga) and the NIC applied: exit 6, FILE:LINE on stderr (exit $rc)"
printf '[device 01:00.0]\nid = 10de:1e87\nforce = boot-vga\n' | put "$root"
iommu_own "$root" apply >/dev/null 2>&1
expect_rc $? 0 "force = boot-vga in the entry lets apply take the boot GPU" bound_to "$root/sys/bus/pci/devices/0000:01:00.1" vfio-pci

# Two entries for one group with different drivers: both refused, nothing moves.
root=$(fresh_copy acs)
printf '[device 02:00.0]\nid = 10de:1b80\n[device 03:00.0]\nid = 1b21:2142\ndriver = mlx5_vfio_pci\n[device 04:00.0]\nid = 8086:1533\n' | put "$root"
iommu_own "$root" apply -J >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 6 ] && [ "$(grep -c '"code": "declaration-conflict"' "$SCRATCH/out")" -eq 2 ] &&
	bound_to "$root/sys/bus/pci/devices/0000:02:00.0" nouveau && bound_to "$root/sys/bus/pci/devices/0000:04:00.0" vfio-pci
verdict "two entries of one group naming different drivers: both refused (declaration-conflict), the third applied (exit $rc)"
iommu_own "$root" check >"$SCRATCH/out" 2>&1
expect_rc $? 1 "check reports declaration-conflict as an error" grep -q "declaration-conflict" "$SCRATCH/out"

# Drift, each way a declared address can stop being what was declared.
drift() { # drift DESCRIPTION PATTERN [SETUP]: stdin is the file; the entry for 04:00.0 must be refused
	local d=$1 pat=$2 setup=${3:-:} r
	r=$(fresh_copy acs)
	put "$r"
	(cd "$r" && eval "$setup")
	iommu_own "$r" apply -J >"$SCRATCH/out" 2>&1
	local rc=$?
	iommu_own "$r" check >"$SCRATCH/chk" 2>&1
	local crc=$?
	iommu_own "$r" boot >"$SCRATCH/boot" 2>&1
	local brc=$?
	if [ $rc -eq 6 ] && grep -q '"code": "declared-drift"' "$SCRATCH/out" && grep -q -F -- "$pat" "$SCRATCH/out" &&
		! bound_to "$r/sys/bus/pci/devices/0000:04:00.0" vfio-pci && [ $crc -eq 1 ] &&
		grep -q "declared-drift" "$SCRATCH/chk" && [ $brc -eq 6 ] && ! overrides "$r" | grep -q "04:00.0"; then
		ok "drift: $d: apply, boot and check leave it alone and say so"
	else
		not_ok "drift: $d (apply $rc, check $crc, boot $brc)" "$(cat "$SCRATCH/out" "$SCRATCH/chk" "$SCRATCH/boot")"
	fi
}
drift "another device id" "is 8086:1533, not 8086:1539" < <(printf '[device 04:00.0]\nid = 8086:1539\n')
drift "another subsystem" "subsystem" < <(printf '[device 04:00.0]\nid = 8086:1533\nsubsystem = 1028:0001\n')
drift "no device at the address" "no device" < <(printf '[device 05:00.0]\nid = 8086:1533\n')
drift "the group holds another device" "the group of 0000:04:00.0 is" < <(printf '[device 04:00.0]\nid = 8086:1533\nmembers = 04:00.0\n')
drift "another serial number" "serial number 0011223344556678" "$(declare -f dsn); dsn . 0000:04:00.0 0011223344556678" < <(printf '[device 04:00.0]\nid = 8086:1533\nserial = 00-11-22-33-44-55-66-77\n')
root=$(fresh_copy acs)
dsn "$root" 0000:04:00.0 0011223344556677
printf '[device 04:00.0]\nid = 8086:1533\nserial = 00-11-22-33-44-55-66-77\n' | put "$root"
iommu_own "$root" apply >/dev/null 2>&1
expect_rc $? 0 "the declared serial number matches: applied" bound_to "$root/sys/bus/pci/devices/0000:04:00.0" vfio-pci
root=$(fresh_copy acs)
printf '[device 04:00.0]\nid = 8086:1533\nserial = 00-00-00-00-00-00-00-00\n' | put "$root"
iommu_own "$root" apply >/dev/null 2>&1
expect_rc $? 0 "a zero serial (a snapshot taken with --no-serial) is not compared" bound_to "$root/sys/bus/pci/devices/0000:04:00.0" vfio-pci

# A failure at each write of apply rolls back every group; a kill after each, then recover: all or none.
root=$(fresh_copy acs)
printf '[device 02:00.0]\nid = 10de:1b80\n[device 04:00.0]\nid = 8086:1533\n' | put "$root"
cp -a "$root" "$SCRATCH/acs-declared"
n=$(iommu_own "$root" apply --dry-run 2>/dev/null | grep -vc "^#")
fails=0
for i in $(seq 1 "$n"); do
	root=$(mktemp -d "$SCRATCH/f.XXXXXX") && cp -a "$SCRATCH/acs-declared/." "$root/"
	echo "write $i EIO" >"$root/replay-faults"
	iommu_own "$root" apply >/dev/null 2>&1
	rc=$?
	rm -f "$root/replay-faults"
	{ [ $rc -eq 1 ] && same_tree "$root" "$FIXTURES/acs"; } || { fails=$((fails + 1)); echo "# write $i: rc $rc"; }
	root=$(mktemp -d "$SCRATCH/k.XXXXXX") && cp -a "$SCRATCH/acs-declared/." "$root/"
	echo "kill $i" >"$root/replay-faults"
	iommu_own "$root" apply >/dev/null 2>&1
	rm -f "$root/replay-faults"
	iommu_own "$root" recover >/dev/null 2>&1
	c=0
	for d in 0000:02:00.0 0000:03:00.0 0000:04:00.0; do bound_to "$root/sys/bus/pci/devices/$d" vfio-pci && c=$((c + 1)); done
	{ { [ $c -eq 0 ] && same_tree "$root" "$FIXTURES/acs"; } || [ $c -eq 3 ]; } && [ ! -e "$root/run/iommu-own/journal.json" ] ||
		{ fails=$((fails + 1)); echo "# kill $i: $c claimed"; }
	iommu_own "$root" apply >/dev/null 2>&1 && [ "$(overrides "$root" | grep -c vfio-pci)" -eq 3 ] ||
		{ fails=$((fails + 1)); echo "# kill $i: apply after recover did not converge"; }
done
[ "$n" -ge 9 ] && [ $fails -eq 0 ]
verdict "apply of two groups: a failure at each of its $n writes rolls both back; a kill after each, recover, apply: converged ($fails failed)"

# ---- the boot step ---------------------------------------------------------------------
# The tree as the kernel shows it before any driver bound: the declared
# groups' devices on no driver.
unbind_all() { # unbind_all ROOT ADDRESS...
	local r=$1 a
	shift
	for a in "$@"; do
		local drv
		drv=$(readlink "$r/sys/bus/pci/devices/$a/driver") || continue
		rm -f "$r/sys/bus/pci/devices/$a/driver" "$r/sys/bus/pci/drivers/$(basename "$drv")/$a"
	done
}
root=$(fresh_copy acs)
unbind_all "$root" 0000:02:00.0 0000:03:00.0 0000:04:00.0
printf '[device 02:00.0]\nid = 10de:1b80\n' | put "$root"
iommu_own "$root" boot >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && [ "$(overrides "$root")" = "0000:02:00.0 vfio-pci
0000:03:00.0 vfio-pci" ] && "$JSONCHECK" <"$root/run/iommu-own/boot.json" >/dev/null &&
	grep -q '"device":"0000:02:00.0"' "$root/run/iommu-own/boot.json"
verdict "boot sets driver_override on every endpoint of the declared group and nothing else, records boot.json (exit $rc)"
unbound "$root/sys/bus/pci/devices/0000:02:00.0" && [ ! -e "$root/sys/bus/pci/drivers/vfio-pci/0000:02:00.0" ] && diff <(ls "$root/sys/module") <(ls "$FIXTURES/acs/sys/module") >/dev/null
verdict "boot binds nothing and loads nothing"
iommu_own "$root" check >"$SCRATCH/out" 2>&1
grep -q "declared-not-applied" "$SCRATCH/out" && ! grep -q "boot-stale" "$SCRATCH/out"
verdict "after boot, check wants apply and finds boot.json current"
printf '[device 02:00.0]\nid = 10de:1b80\n[device 04:00.0]\nid = 8086:1533\n' | put "$root"
iommu_own "$root" check >"$SCRATCH/out" 2>&1
grep -q "boot-stale" "$SCRATCH/out"
verdict "a declaration added after the boot step: check reports boot-stale"
cp "$root/run/iommu-own/boot.json" "$SCRATCH/boot.json"
iommu_own "$root" boot >/dev/null 2>&1
cmp -s "$root/run/iommu-own/boot.json" "$SCRATCH/boot.json"
verdict "a second boot step of the same boot keeps the first record (the initramfs's)"
iommu_own "$root" apply >/dev/null 2>&1
expect_rc $? 0 "apply after the boot step claims the groups" bound_to "$root/sys/bus/pci/devices/0000:03:00.0" vfio-pci

root=$(fresh_copy acs)
printf '[device 02:00.0]\nid = 10de:1b80\n' | put "$root"
sed -i 's/$/ iommu_own=off/' "$root/proc/cmdline"
iommu_own "$root" boot >"$SCRATCH/out" 2>&1
expect_rc $? 0 "iommu_own=off on the kernel command line: boot does nothing" [ -z "$(overrides "$root")" ]
root=$(fresh_copy acs)
printf '[device 02:00.0]\nid = 10de:1b80\n' | put "$root"
sed -i 's/$/ xiommu_own=off/' "$root/proc/cmdline"
iommu_own "$root" boot >/dev/null 2>&1
check "a parameter that only ends in iommu_own=off does not turn it off" [ -n "$(overrides "$root")" ]

root=$(fresh_copy workstation)
printf '[device 01:00.0]\nid = 10de:1e87\n' | put "$root"
iommu_own "$root" boot >"$SCRATCH/out" 2>&1
expect_rc $? 6 "boot leaves the boot display alone without force = boot-vga, and says so" grep -q "left alone (boot-vga)" "$SCRATCH/out"
check "no override on the boot display" [ -z "$(overrides "$root")" ]

# The udev rule's call: one device, IOMMU_OWN_DECLARED=1 only for a declared group's devices.
root=$(fresh_copy acs)
printf '[device 02:00.0]\nid = 10de:1b80\n' | put "$root"
out=$(iommu_own "$root" boot --device 0000:03:00.0 --udev 2>/dev/null)
rc=$?
[ $rc -eq 0 ] && [ "$out" = "IOMMU_OWN_DECLARED=1" ] && [ "$(overrides "$root")" = "0000:03:00.0 vfio-pci" ] &&
	[ ! -e "$root/run/iommu-own/boot.json" ]
verdict "boot --device of another device of a declared group: its override only, IOMMU_OWN_DECLARED=1 (exit $rc)"
out=$(iommu_own "$root" boot --device 0000:04:00.0 --udev 2>/dev/null)
rc=$?
expect_rc $rc 0 "boot --device of an undeclared device: nothing printed or written" [ -z "$out" ]
check "... and its override untouched" [ "$(overrides "$root")" = "0000:03:00.0 vfio-pci" ]
out=$(iommu_own "$root" boot --device 0000:00:00.0 --udev 2>/dev/null)
expect_rc $? 0 "boot --device of a device in no declared group exits 0" [ -z "$out" ]
iommu_own "$root" boot --udev >/dev/null 2>&1
expect_rc $? 2 "boot --udev without --device is a usage error" true
iommu_own "$root" boot --device 'x/../../y' >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 2 ] || [ $rc -eq 0 ]
verdict "boot --device of a path is refused without touching anything (exit $rc)"
[ "$(overrides "$root")" = "0000:03:00.0 vfio-pci" ]
verdict "... and nothing was written"

# Entries of one group for two drivers: boot enforces neither, as apply refuses both.
root=$(fresh_copy acs)
printf '[device 02:00.0]\nid = 10de:1b80\n[device 03:00.0]\nid = 1b21:2142\ndriver = mlx5_vfio_pci\n' | put "$root"
iommu_own "$root" boot >"$SCRATCH/out" 2>&1
expect_rc $? 6 "boot leaves a group declared for two drivers alone (declaration-conflict)" grep -q "left alone (declaration-conflict)" "$SCRATCH/out"
check "... no override written" [ -z "$(overrides "$root")" ]
# The udev call for a drifted entry: exit 0 (IMPORT{program} drops a failing program's output), nothing declared.
root=$(fresh_copy acs)
printf '[device 04:00.0]\nid = 8086:ffff\n' | put "$root"
out=$(iommu_own "$root" boot --device 0000:04:00.0 --udev 2>"$SCRATCH/err")
rc=$?
[ $rc -eq 0 ] && [ -z "$out" ] && grep -q "left alone (drift)" "$SCRATCH/err" && [ -z "$(overrides "$root")" ]
verdict "boot --device --udev of a drifted entry: exit 0, nothing imported, said on stderr (exit $rc)"
# A boot step with nothing declared, or turned off, still records it: what is declared later is stale.
root=$(fresh_copy acs)
iommu_own "$root" boot >/dev/null 2>&1
printf '[device 04:00.0]\nid = 8086:1533\n' | put "$root"
iommu_own "$root" check >"$SCRATCH/out" 2>&1
grep -q "boot-stale" "$SCRATCH/out"
verdict "declarations added after a boot step that had none: boot-stale"
root=$(fresh_copy acs)
printf '[device 04:00.0]\nid = 8086:1533\n' | put "$root"
sed -i 's/$/ iommu_own=off/' "$root/proc/cmdline"
iommu_own "$root" boot >/dev/null 2>&1
iommu_own "$root" check >"$SCRATCH/out" 2>&1
grep -q "boot-stale.*iommu_own=off" "$SCRATCH/out"
verdict "a boot with iommu_own=off: check says the boot step was off"
# A declaration that does not parse does not stop a plain release.
root=$(fresh_copy acs)
iommu_own "$root" claim 4 >/dev/null 2>&1
printf '[device 04:00.0]\nbogus = 1\n' | put "$root"
iommu_own "$root" release 4 >"$SCRATCH/out" 2>&1
expect_rc $? 0 "a plain release works when the declarations do not parse, and warns" grep -q "cannot be read" "$SCRATCH/out"
iommu_own "$root" claim 4 --persist >"$SCRATCH/out" 2>&1
expect_rc $? 2 "claim --persist with declarations that do not parse: exit 2, nothing moved" bound_to "$root/sys/bus/pci/devices/0000:04:00.0" igb

# ---- check: other mechanisms that fight the declarations --------------------------------
root=$(fresh_copy acs)
printf '[device 04:00.0]\nid = 8086:1533\n' | put "$root"
sed -i 's/$/ vfio-pci.ids=10de:1b80/' "$root/proc/cmdline"
iommu_own "$root" check >"$SCRATCH/out" 2>&1
grep -q "vfio-ids-conflict.*kernel command line" "$SCRATCH/out"
verdict "vfio-pci.ids= on the kernel command line beside declarations: vfio-ids-conflict"
root=$(fresh_copy acs)
printf '[device 04:00.0]\nid = 8086:1533\n' | put "$root"
mkdir -p "$root/etc/modprobe.d" && printf '# gpu\noptions vfio_pci ids=10de:1b80 disable_vga=1\n' >"$root/etc/modprobe.d/vfio.conf"
iommu_own "$root" check >"$SCRATCH/out" 2>&1
grep -q "vfio-ids-conflict.*modprobe.d/vfio.conf" "$SCRATCH/out"
verdict "options vfio_pci ids= in modprobe.d: vfio-ids-conflict naming the file"
rm "$root/etc/modprobe.d/vfio.conf"
mkdir -p "$root/etc/driverctl.d" && echo e1000e >"$root/etc/driverctl.d/pci-0000:04:00.0"
iommu_own "$root" check >"$SCRATCH/out" 2>&1
grep -q "driverctl-conflict" "$SCRATCH/out" && ! grep -q "vfio-ids-conflict" "$SCRATCH/out"
verdict "a driverctl override to another driver: driverctl-conflict"
echo vfio-pci >"$root/etc/driverctl.d/pci-0000:04:00.0"
iommu_own "$root" check >"$SCRATCH/out" 2>&1
! grep -q "driverctl-conflict" "$SCRATCH/out"
verdict "a driverctl override to the declared driver is no conflict"
rel=$(cat "$root/proc/sys/kernel/osrelease")
echo "kernel/drivers/net/ethernet/intel/igb/igb.ko" >>"$root/lib/modules/$rel/modules.builtin"
iommu_own "$root" check >"$SCRATCH/out" 2>&1
grep -q "builtin-driver.*igb" "$SCRATCH/out"
verdict "a built-in module that matches a declared device: builtin-driver"
root=$(fresh_copy pcibridge)
printf '[device 05:00.0]\nid = 8086:100e\n' | put "$root"
iommu_own "$root" check >"$SCRATCH/out" 2>&1
expect_rc $? 1 "a declared group that is mixed: declared-mixed (an error)" grep -q "declared-mixed" "$SCRATCH/out"
iommu_own "$root" check -J >"$SCRATCH/out" 2>&1
"$JSONCHECK" <"$SCRATCH/out" >/dev/null
verdict "check -J with declaration findings is valid JSON"

# ---- claim --persist, release --persist ------------------------------------------------------
root=$(fresh_copy acs)
iommu_own "$root" claim 04:00.0 --persist >"$SCRATCH/out" 2>&1
rc=$?
f=$root/etc/iommu-own/conf.d/50-iommu-own-0000:04:00.0.conf
[ $rc -eq 0 ] && [ -f "$f" ] && head -1 "$f" | grep -q "^# Written by iommu-own claim --persist" &&
	grep -q "^id = 8086:1533" "$f" && iommu_own "$root" check --syntax >/dev/null 2>&1
verdict "claim --persist writes a drop-in that parses, for the group (exit $rc)"
iommu_own "$root" check >"$SCRATCH/out" 2>&1
! grep -q "declared-" "$SCRATCH/out"
verdict "after claim --persist the group is declared and converged"
iommu_own "$root" release 4 --persist >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && [ ! -e "$f" ] && bound_to "$root/sys/bus/pci/devices/0000:04:00.0" igb
verdict "release --persist moves it back and removes the drop-in (exit $rc)"
n=$(iommu_own "$FIXTURES/acs" claim 4 --dry-run | grep -vc "^#")
fails=0
for i in $(seq 1 "$n"); do
	root=$(fresh_copy acs)
	echo "write $i EIO" >"$root/replay-faults"
	iommu_own "$root" claim 4 --persist >/dev/null 2>&1
	rc=$?
	rm -f "$root/replay-faults"
	{ [ $rc -eq 1 ] && [ -z "$(ls "$root/etc/iommu-own/conf.d" 2>/dev/null)" ]; } || fails=$((fails + 1))
done
[ $fails -eq 0 ]
verdict "claim --persist failing at each of its $n writes leaves no declaration behind ($fails failed)"
root=$(fresh_copy acs)
printf '[device 04:00.0]\nid = 8086:1533\n' | put "$root"
iommu_own "$root" apply >/dev/null 2>&1
iommu_own "$root" release 4 --persist >"$SCRATCH/out" 2>&1
rc=$?
expect_rc $rc 1 "release --persist of a group declared by hand is refused (declared-elsewhere), naming the file" \
	grep -q "group 4 is declared in .*iommu-own.conf:1.*(declared-elsewhere; cannot be forced)" "$SCRATCH/out"
check "... and the group stays on VFIO" bound_to "$root/sys/bus/pci/devices/0000:04:00.0" vfio-pci
iommu_own "$root" release 4 >"$SCRATCH/out" 2>&1
rc=$?
expect_rc $rc 0 "a plain release of a declared group works and warns that boot and apply take it again" grep -q "warning: group 4 is declared in .*the next boot or apply claims it again" "$SCRATCH/out"

# What the files say once the drop-in is written or removed, whatever the order of the files.
dropin=50-iommu-own-0000:04:00.0.conf
# A mask read after the drop-in (names that sort after 50-iommu-own-...): the drop-in would declare nothing.
bad=
for later in 90-local.conf 50-iommu-own-0000:05:00.0.conf 60-masks.conf; do
	root=$(fresh_copy acs)
	printf '[device 04:00.0]\nmasked = yes\n' | put "$root" "$later"
	iommu_own "$root" claim 04:00.0 --persist >"$SCRATCH/out" 2>&1
	rc=$?
	{ [ $rc -eq 1 ] && grep -q "group 4 would not be declared by the drop-in $dropin: .*conf.d/$later:1 masks it.*(declared-elsewhere; cannot be forced)" "$SCRATCH/out" &&
		[ ! -e "$root/etc/iommu-own/conf.d/$dropin" ] && bound_to "$root/sys/bus/pci/devices/0000:04:00.0" igb; } ||
		bad="$bad $later:rc$rc"
done
[ -z "$bad" ]
verdict "claim --persist refuses a drop-in that a later file masks, naming the mask, and moves nothing${bad:+ (not:$bad)}"
# A file of the drop-in's own name that declares nothing (a mask, an empty file): never replaced.
bad=
for text in '[device 04:00.0]\nmasked = yes\n' '# mine\n'; do
	root=$(fresh_copy acs)
	printf "$text" | put "$root" "$dropin"
	cp "$root/etc/iommu-own/conf.d/$dropin" "$SCRATCH/mine"
	iommu_own "$root" claim 04:00.0 --persist >"$SCRATCH/out" 2>&1
	rc=$?
	{ [ $rc -eq 1 ] && grep -q "conf.d/$dropin is already there and does not declare the group.*(declared-elsewhere" "$SCRATCH/out" &&
		cmp -s "$SCRATCH/mine" "$root/etc/iommu-own/conf.d/$dropin" && bound_to "$root/sys/bus/pci/devices/0000:04:00.0" igb; } ||
		bad="$bad rc$rc"
done
[ -z "$bad" ]
verdict "claim --persist never replaces a file of its drop-in's name that a person wrote (a mask, an empty file)${bad:+ (not:$bad)}"
# A file of that name put there while the move runs: the claim rolls back, leaving no record, and the file.
root=$(fresh_copy acs)
echo "delay 1 1500" >"$root/replay-faults"
iommu_own "$root" claim 04:00.0 --persist >"$SCRATCH/out" 2>&1 &
pid=$!
sleep 0.5
printf '# mine, meanwhile\n' | put "$root" "$dropin"
wait $pid
rc=$?
expect_rc $rc 1 "claim --persist whose drop-in's name is taken during the move: rolled back, naming the file" \
	grep -q "putting in place the declaration .*$dropin failed: File exists" "$SCRATCH/out"
[ ! -e "$root/run/iommu-own/group-4.json" ] && [ "$(cat "$root/etc/iommu-own/conf.d/$dropin")" = "# mine, meanwhile" ] &&
	bound_to "$root/sys/bus/pci/devices/0000:04:00.0" igb
verdict "... no claim record left, the file as its writer left it, the device back on igb"
# A group with a device off the PCI bus: refused as non-pci, no drop-in attempted.
root=$(fresh_copy acs)
mkdir -p "$root/sys/devices/platform/foo.0"
ln -s ../../../../devices/platform/foo.0 "$root/sys/kernel/iommu_groups/4/devices/foo.0"
iommu_own "$root" claim 04:00.0 --persist >"$SCRATCH/out" 2>&1
expect_rc $? 1 "claim --persist of a group with a non-PCI device: refused (non-pci), not a parse error of its own drop-in" \
	grep -q "(non-pci" "$SCRATCH/out"
# A mask read before it (a template taken back by hand) does not stop the drop-in.
root=$(fresh_copy acs)
printf '[device 04:00.0]\nid = 8086:1533\n' | put "$root"
printf '[device 04:00.0]\nmasked = yes\n' | put "$root" 10-local.conf
iommu_own "$root" claim 04:00.0 --persist >"$SCRATCH/out" 2>&1
rc=$?
[ $rc -eq 0 ] && [ -f "$root/etc/iommu-own/conf.d/$dropin" ] && iommu_own "$root" check >"$SCRATCH/check" 2>&1 &&
	! grep -q "declared-" "$SCRATCH/check"
verdict "claim --persist after an earlier mask: the drop-in declares the group again (exit $rc)"
# Removing the drop-in would uncover an earlier file's entry: release --persist refuses, names it.
iommu_own "$root" release 4 --persist >/dev/null 2>&1 # mask, drop-in removed: not declared
rc1=$?
root=$(fresh_copy acs)
iommu_own "$root" claim 04:00.0 --persist >/dev/null 2>&1
printf '[device 04:00.0]\nid = 8086:1533\n' | put "$root" 20-template.conf
iommu_own "$root" release 4 --persist >"$SCRATCH/out" 2>&1
rc=$?
expect_rc $rc 1 "release --persist when an earlier file declares the group too: refused (declared-elsewhere), naming it, drop-in kept (first case: exit $rc1)" \
	grep -q "group 4 is still declared in .*conf.d/20-template.conf:1 once its drop-in is removed.*(declared-elsewhere; cannot be forced)" "$SCRATCH/out"
check "... and nothing moved, the drop-in stays" bound_to "$root/sys/bus/pci/devices/0000:04:00.0" vfio-pci
[ $rc1 -eq 0 ] && [ -f "$root/etc/iommu-own/conf.d/$dropin" ]
verdict "release --persist with a mask before the drop-in releases (exit $rc1); the refused one kept its drop-in"

tap_done
