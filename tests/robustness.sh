#!/usr/bin/env bash
# Damaged, odd and large trees: every one gets a clear message naming the
# file and a documented exit status, never a crash or a hang; odd but valid
# trees (long paths, hundreds of devices in one group, old kernels) just work.
. "$TOP_SRCDIR/tests/lib.sh"

# expect_error DESCRIPTION ROOT PATTERN ARGS...: exit 2 and PATTERN on stderr, no crash
expect_error() {
	local d=$1 root=$2 pat=$3
	shift 3
	timeout 10 "$IOMMU_OWN" --sysroot "$root" --pci-ids "$IDS" "$@" >"$SCRATCH/out" 2>"$SCRATCH/err"
	local rc=$?
	if [ $rc -eq 2 ] && grep -q -- "$pat" "$SCRATCH/err"; then
		ok "$d"
	else
		not_ok "$d (rc $rc)" "$(cat "$SCRATCH/err")"
	fi
}

GPU=sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0

# ---- damaged trees ---------------------------------------------------------------
# A device's IDs and class come from its uevent when it has PCI_ID and
# PCI_CLASS lines (one read), else from vendor, device and class: damage each.
root=$(fresh_copy workstation)
echo "not a number" >"$root/$GPU/vendor"
rm "$root/$GPU/uevent"
expect_error "garbage in vendor (no uevent): the file is named" "$root" "$root/sys/bus/pci/devices/0000:01:00.0/vendor: garbage" list

root=$(fresh_copy workstation)
printf '\0\1\2\3' >"$root/$GPU/class"
rm "$root/$GPU/uevent"
expect_error "binary content in class (no uevent)" "$root" "0000:01:00.0/class: not a text attribute" list

root=$(fresh_copy workstation)
printf '\0\1\2\3' >"$root/$GPU/class"
expect_error "binary content in class, read alone by check" "$root" "0000:01:00.0/class: not a text attribute" check

root=$(fresh_copy workstation)
rm "$root/$GPU/driver_override" && mkdir "$root/$GPU/driver_override"
expect_error "a directory where driver_override should be" "$root" "0000:01:00.0/driver_override: Is a directory" list

root=$(fresh_copy workstation)
rm "$root/$GPU/vendor" "$root/$GPU/uevent" && mkfifo "$root/$GPU/vendor"
expect_error "a FIFO where vendor should be (no uevent): no hang, named" "$root" "0000:01:00.0/vendor: not a regular file" list

root=$(fresh_copy workstation)
rm "$root/$GPU/uevent" && mkfifo "$root/$GPU/uevent"
timeout 10 "$IOMMU_OWN" --sysroot "$root" --pci-ids "$IDS" list -n -r -o DEVICE,ID 0000:01:00.0 >"$SCRATCH/out" 2>"$SCRATCH/err"
expect_rc $? 2 "a FIFO where uevent should be: no hang, refused and named (never read as empty)" \
	grep -q '0000:01:00.0/uevent: not a regular file' "$SCRATCH/err"

root=$(fresh_copy workstation)
head -c 70000 /dev/zero | tr '\0' 'x' >"$root/$GPU/device"
rm "$root/$GPU/uevent"
expect_error "an oversized attribute (no uevent)" "$root" "0000:01:00.0/device: file too large" list

root=$(fresh_copy workstation)
head -c 70000 /dev/zero | tr '\0' 'x' >"$root/$GPU/uevent"
expect_error "an oversized uevent" "$root" "0000:01:00.0/uevent: file too large" list

root=$(fresh_copy workstation)
sed -i 's/^PCI_ID=.*/PCI_ID=10de:zz/' "$root/$GPU/uevent"
expect_error "garbage in uevent's PCI_ID" "$root" "0000:01:00.0/uevent: garbage: expected PCI_ID=VVVV:DDDD and PCI_CLASS=CCCCCC" list

root=$(fresh_copy workstation)
sed -i '/^PCI_CLASS=/d' "$root/$GPU/uevent"
expect_error "a uevent with PCI_ID but no PCI_CLASS" "$root" "0000:01:00.0/uevent: garbage" list

root=$(fresh_copy workstation)
printf 'PCI_CLASS=30000\0PCI_ID=10DE:1B80\n' >"$root/$GPU/uevent"
expect_error "binary content in uevent" "$root" "0000:01:00.0/uevent: not a text attribute" list

root=$(fresh_copy workstation)
rm "$root/$GPU/uevent" && ln -s /etc/passwd "$root/$GPU/uevent"
expect_error "a uevent that is a symlink out of the tree" "$root" "0000:01:00.0/uevent: a symlink where a file was expected" list

root=$(fresh_copy workstation)
rm "$root/sys/bus/pci/devices/0000:01:00.0"
ln -s ../../../../../../../../../../../../etc "$root/sys/bus/pci/devices/0000:01:00.0"
expect_error "a device link that leads outside the sysroot is never followed" "$root" \
	"0000:01:00.0: a symlink leads outside the sysroot" list

root=$(fresh_copy workstation)
rm "$root/$GPU/class" "$root/$GPU/uevent" && ln -s /etc/passwd "$root/$GPU/class"
expect_error "an attribute that is a symlink out of the tree (no uevent)" "$root" "0000:01:00.0/class: a symlink where a file was expected" list

root=$(fresh_copy workstation)
rm "$root/sys/kernel/iommu_groups/1/devices/0000:01:00.0"
ln -s /sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0 "$root/sys/kernel/iommu_groups/1/devices/0000:01:00.0"
rm "$root/sys/bus/pci/devices/0000:01:00.0"
expect_error "an absolute link in a group (pointing at the host's /sys) is never followed" "$root" \
	"a symlink leads outside the sysroot" list

root=$(fresh_copy workstation)
mkdir "$root/sys/kernel/iommu_groups/abc"
expect_error "a group directory that is not a number" "$root" "'abc' is not a group number" list

root=$(fresh_copy workstation)
touch "$root/sys/bus/pci/devices/not-an-address"
expect_error "a PCI device name that is not an address" "$root" "'not-an-address' is not a PCI address" list

root=$(fresh_copy sriov)
echo "0xfee00000 msi" >"$root/sys/kernel/iommu_groups/4/reserved_regions"
expect_error "garbage in reserved_regions" "$root" "iommu_groups/4/reserved_regions: garbage" check

root=$(fresh_copy gaps)
echo maybe >"$root/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"
expect_error "garbage in a module parameter" "$root" "allow_unsafe_interrupts: garbage: expected Y or N" check

root=$(fresh_copy workstation)
ln -s "$root/sys/kernel/iommu_groups/1/devices/0000:01:00.0" "$root/sys/kernel/iommu_groups/8/devices/0000:01:00.0"
expect_error "a device in two groups" "$root" "device 0000:01:00.0 is also in group" list

mkdir -p "$SCRATCH/nosys"
expect_error "a sysroot without sys/" "$SCRATCH/nosys" "no sys/ directory in it" list
IOMMU_OWN_SYSROOT=$SCRATCH/nosys "$IOMMU_OWN" list >/dev/null 2>"$SCRATCH/err"
expect_rc $? 2 "IOMMU_OWN_SYSROOT is honoured" grep -q "$SCRATCH/nosys" "$SCRATCH/err"
"$IOMMU_OWN" --sysroot "$SCRATCH/nosys" --pci-ids "$SCRATCH/none.ids" list >/dev/null 2>"$SCRATCH/err"
expect_rc $? 2 "a --pci-ids file that does not exist is named" grep -q -- "--pci-ids $SCRATCH/none.ids" "$SCRATCH/err"

# ---- odd but valid -------------------------------------------------------------
# A sysroot path far longer than libsysfs's 255-byte buffers: read with openat, never truncated.
long=$SCRATCH
while [ ${#long} -lt 300 ]; do long=$long/a-long-directory-name-to-pass-255-bytes; done
mkdir -p "$long"
cp -a "$FIXTURES/halfbound/." "$long/"
"$IOMMU_OWN" --sysroot "$long" --pci-ids "$IDS" list --json >"$SCRATCH/long.json" 2>"$SCRATCH/err"
"$IOMMU_OWN" --sysroot "$FIXTURES/halfbound" --pci-ids "$IDS" list --json >"$SCRATCH/short.json"
check "a ${#long}-byte sysroot path reads exactly like a short one" cmp -s "$SCRATCH/long.json" "$SCRATCH/short.json"
"$IOMMU_OWN" --sysroot "$long" --pci-ids "$IDS" claim 2 >"$SCRATCH/out" 2>&1
[ $? -eq 0 ] && [ "$("$IOMMU_OWN" --sysroot "$long" list -r -n -o STATE 2 | sort -u)" = user ]
verdict "a claim replayed under a ${#long}-byte sysroot path"

# Hundreds of devices in one group, and group numbers far apart.
big=$SCRATCH/big
(
	. "$FIXTURES/lib.sh"
	fx_root "$big"
	fx_hostbridge 0000 00
	addrs=()
	for bus in 01 02; do
		for dev in $(seq 0 31); do
			for fn in 0 1 2 3 4; do
				a=$(printf '0000:%s:%02x.%d' $bus "$dev" "$fn")
				fx_dev pci0000:00 "$a" 0x8086 0x100e 0x020000
				addrs+=("$a")
			done
		done
	done
	for a in "${addrs[@]:0:150}"; do fx_bind "$a" e1000 e1000; done
	fx_group 7 "${addrs[@]}"
	fx_dev pci0000:00 0000:00:1f.0 0x8086 0xa305 0x060100
	fx_group 4000000 0000:00:1f.0
	fx_vfio noiommu=N unsafe_interrupts=N
	fx_finish
) >/dev/null 2>&1
n=$("$IOMMU_OWN" --sysroot "$big" --pci-ids "$IDS" list -r -n -o GROUP,DEVICE 7 | wc -l)
check "320 devices in one group are all listed" [ "$n" -eq 320 ]
"$IOMMU_OWN" --sysroot "$big" --pci-ids "$IDS" list -r -n -o GROUP,STATE 4000000 >"$SCRATCH/out"
check "group 4000000 beside group 7" grep -q '^4000000 free$' "$SCRATCH/out"
"$IOMMU_OWN" --sysroot "$big" --pci-ids "$IDS" claim 7 >"$SCRATCH/out" 2>&1
[ $? -eq 0 ] && [ "$("$IOMMU_OWN" --sysroot "$big" list -r -n -o DRIVER 7 | sort -u)" = vfio-pci ]
verdict "a claim of 320 devices in one group goes through"

# Old kernels: no driver_override (gaps 02:00.1), no group type (gaps 1000).
out=$("$IOMMU_OWN" --sysroot "$FIXTURES/gaps" --pci-ids "$IDS" list --json 1000)
check "a group without a type file has type null" grep -q '"type": null' <<<"$out"
out=$("$IOMMU_OWN" --sysroot "$FIXTURES/gaps" --pci-ids "$IDS" list -r -n -o DEVICE,DRIVER,OVERRIDE 0000:02:00.1)
check "a device without driver_override is listed, its override empty (\"-\" in raw output)" [ "$out" = "0000:02:00.1 igb -" ]
root=$(fresh_copy gaps)
iommu_own "$root" claim 42 >"$SCRATCH/out" 2>&1
[ $? -eq 1 ] && grep -q "(no-override; cannot be forced)" "$SCRATCH/out"
verdict "claiming a group whose device has no driver_override is refused (no new_id)"

# A sysroot that holds only sys/ works (no proc/, dev/, run/, lib/).
root=$(fresh_copy halfbound)
rm -rf "$root/proc" "$root/dev" "$root/lib"
"$IOMMU_OWN" --sysroot "$root" --pci-ids "$IDS" check -r -n -o CODE,GROUP >"$SCRATCH/out" 2>&1
expect_rc $? 1 "a sysroot with only sys/ is audited" [ "$(cat "$SCRATCH/out")" = "mixed-group 2" ]

# A partial capture: a device listed in its group but missing from bus/pci/devices is still judged.
root=$(fresh_copy halfbound)
rm "$root/sys/bus/pci/devices/0000:01:00.1"
out=$("$IOMMU_OWN" --sysroot "$root" --pci-ids "$IDS" list -r -n -o GROUP,STATE,DEVICE,ID,ROLE 0000:01:00.1 2>&1)
check "a device found only through its group keeps its IDs and its role" [ "$out" = "2 mixed 0000:01:00.1 10de:10f0 kernel" ]

# Every JSON document the tool prints parses.
bad=
for f in "$FIXTURES"/*/; do
	f=$(basename "$f")
	for cmd in "list --json" "check --json"; do
		# shellcheck disable=SC2086
		"$IOMMU_OWN" --sysroot "$FIXTURES/$f" --pci-ids "$IDS" $cmd | "$JSONCHECK" 2>&1 | sed 's/^/# /' | grep . && bad="$bad $f:$cmd"
	done
done
check "every JSON output parses${bad:+ (not:$bad)}" [ -z "$bad" ]

tap_done
