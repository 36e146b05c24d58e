#!/bin/sh
# vm.sh: the real kernel's cost of a move ("make bench-vm"). Boots Debian's
# kernel under QEMU (TCG: emulated, so the figures say how the kernel's part
# and the tool's part compare, not what hardware takes) with an emulated
# Intel IOMMU, and in the guest times, round after round, iommu-own's claim
# and release of each benchmarked group next to the same writes done by a
# bare shell loop (driver_override, unbind, bind for each device): the
# kernel's own cost of the move. Prints the medians and the tool's share.
#
# Reuses the real-kernel suite's pieces without changing them:
# tests/vm/kernel.sh fetches the kernel (into the suite's cache, shared with
# make check-vm), tests/vm/mkinitramfs.sh builds the initramfs with this
# guest (bench/vm-guest/); a second cpio appended to it adds the statically
# linked timer. Nothing runs against the host's /sys.
#
# Set by make bench-vm: IOMMU_OWN, VFIO_VIABLE, BENCH_VM_TIMEIT (bench/timeit
# linked statically), VM_SRCDIR (tests/vm), BENCH_DIR (bench/ in the source
# tree), VM_DIR (tests/vm in the build tree). Optional: BENCH_VM_ROUNDS
# (default 7), VM_TIMEOUT (default 300), QEMU.
set -eu

: "${IOMMU_OWN:?}" "${VFIO_VIABLE:?}" "${BENCH_VM_TIMEIT:?}" "${VM_SRCDIR:?}" "${BENCH_DIR:?}" "${VM_DIR:?}"
rounds=${BENCH_VM_ROUNDS:-7}
timeout=${VM_TIMEOUT:-300}
QEMU=${QEMU:-qemu-system-x86_64}
work=$VM_DIR/work-bench
mkdir -p "$work"
work=$(cd "$work" && pwd)

die() { echo "vm.sh: $*" >&2; exit 1; }
command -v "$QEMU" >/dev/null 2>&1 || die "$QEMU not found (scripts/install-deps.sh --vm installs qemu-system-x86)"
case $rounds in '' | *[!0-9]*) die "BENCH_VM_ROUNDS: not a number: $rounds" ;; esac

release=$(sh "$VM_SRCDIR/kernel.sh" "$VM_DIR/cache" 2>"$work/kernel.err") ||
	die "the kernel package cannot be had: $(tail -n 1 "$work/kernel.err")"
kernel=$VM_DIR/cache/root/boot/vmlinuz-$release

initrd=$work/initrd.gz
sh "$VM_SRCDIR/mkinitramfs.sh" "$VM_DIR/cache/root" "$release" "$IOMMU_OWN" "$VFIO_VIABLE" \
	"$BENCH_DIR/vm-guest" "$initrd" 2>"$work/initrd.err" || {
	cat "$work/initrd.err" >&2
	die "the initramfs could not be built"
}
# the timer, in a second archive: the kernel unpacks concatenated archives in turn
extra=$work/extra
rm -rf "$extra"
mkdir -p "$extra/usr/bin"
cp "$BENCH_VM_TIMEIT" "$extra/usr/bin/timeit"
(cd "$extra" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 >>"$initrd"
rm -rf "$extra"

# Three single-device groups, one per kind of driver: e1000e behind a root
# port, e1000 on the root complex, qemu-xhci behind another root port.
devs=0000:01:00.0,0000:00:07.0,0000:02:00.0
log=$work/bench.log
echo "# booting $release under $("$QEMU" --version | head -n 1) (TCG), $rounds rounds"
rc=0
timeout --kill-after=10 "$timeout" "$QEMU" -nodefaults -display none -monitor none -no-reboot \
	-accel tcg -cpu max -m 1G -smp 2 \
	-machine q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 loglevel=4 panic=-1 intel_iommu=on vmbench=$devs vmrounds=$rounds" \
	-serial "file:$log.raw" \
	-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x2.0 \
	-device e1000e,bus=rp1,romfile= \
	-device e1000,bus=pcie.0,addr=0x7,romfile= \
	-device pcie-root-port,id=rp2,bus=pcie.0,chassis=2,addr=0x3.0 \
	-device qemu-xhci,bus=rp2 \
	</dev/null >"$work/qemu.out" 2>&1 || rc=$?
tr -d '\r' <"$log.raw" >"$log"
grep -q '^VMBENCH-END' "$log" || die "the guest did not finish (QEMU status $rc); its console: $log"
grep '^# ' "$log" | grep -v '^# dmesg' || true
grep '^VMBENCH-NOTE' "$log" || true
if grep '^BENCH ' "$log" | grep -v ' status=0$' | grep -v 'who=writes' | head -n 3 | grep .; then
	die "a timed run failed (see $log)"
fi

# Medians per group and operation; kernel = bare writes less the shell's own start.
grep '^BENCH ' "$log" | awk '
	function med(k,   n, i, j, t, a) {
		n = split(vals[k], a, " ")
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		k = f["group"] " " f["op"] " " f["who"]
		vals[k] = vals[k] " " f["wall"]; cpus[k] = cpus[k] " " f["cpu"]
		groups[f["group"]] = f["devices"]
	}
	END {
		printf "%-6s %-8s %8s %10s %10s %10s %10s %10s\n", "group", "op", "devices", "tool ms", "kernel ms", "own ms", "own share", "dry-run ms"
		for (g in groups) {
			sh = med(g " shell shell"); st = med(g " start start")
			for (o = 1; o <= 2; o++) {
				op = o == 1 ? "claim" : "release"
				t = med(g " " op " tool"); w = med(g " " op " writes") - sh; d = med(g " " op " dryrun")
				printf "%-6s %-8s %8d %10.1f %10.1f %10.1f %9.0f%% %10.1f\n", g, op, groups[g], t * 1000, w * 1000, (t - w) * 1000, (t > 0 ? 100 * (t - w) / t : 0), d * 1000
			}
		}
		printf "(medians; kernel: the same driver_override, unbind and bind writes from a bare busybox sh loop,\n"
		printf "less a bare sh -c true (%.1f ms); own: the tool less that; dry-run: the same command with\n", sh * 1000
		printf "--dry-run, which reads and plans but writes nothing; iommu-own --version alone takes %.1f ms)\n", st * 1000
	}'
echo "# guest console: $log"
