# The real-kernel suite (included from the top Makefile.am): make check-vm
#
# Not part of `make check`: it boots Debian's kernel under QEMU (TCG, with an
# emulated Intel or AMD IOMMU) and moves real devices there; see
# tests/vm/README. Needs `scripts/install-deps.sh --vm`. The kernel package is
# downloaded once into tests/vm/cache/ of the build tree; the initramfs, the
# consoles and the replays go to tests/vm/work/. VM_RUNS, VM_TIMEOUT and
# IOMMU_OWN_VM_KERNEL_PKG are passed on from the environment.

VM_GUEST_FILES = tests/vm/guest/init tests/vm/guest/lib.sh tests/vm/guest/scenarios.sh \
	tests/vm/guest/boot-init tests/vm/guest/boot.sh tests/vm/guest/boot-results
VM_BOOT_FILES = tests/vm/dracut/99iommu-own-vmtest/module-setup.sh \
	tests/vm/dracut/99iommu-own-vmtest/results-hook.sh \
	tests/vm/dracut/99iommu-own-vmtest/vmtest-results.service \
	tests/vm/itools/initramfs.conf tests/vm/itools/modules \
	tests/vm/itools/hooks/iommu-own-vmtest \
	tests/vm/itools/scripts/init-premount/iommu-own-vmtest
EXTRA_DIST += \
	tests/vm/README \
	tests/vm/run.sh tests/vm/kernel.sh tests/vm/mkinitramfs.sh tests/vm/replay.sh tests/vm/bootimg.sh \
	tests/vm/vfio-viable.c \
	$(VM_GUEST_FILES) $(VM_BOOT_FILES)

# The guest's helper, linked statically so that the initramfs needs no more
# libraries for it (not an automake program: nothing else builds it).
tests/vm/vfio-viable: $(srcdir)/tests/vm/vfio-viable.c
	@$(MKDIR_P) tests/vm
	$(CC) $(CPPFLAGS) $(CFLAGS) -std=gnu11 $(WARN_CFLAGS) -static -o $@ $(srcdir)/tests/vm/vfio-viable.c

# The boot runs (boot-*) test the system integration as make install puts
# it: installed first into tests/vm/work/dest (DESTDIR), with the configured
# directories passed on.
VM_DEST = $(abs_top_builddir)/tests/vm/work/dest
check-vm: iommu-own$(EXEEXT) tests/vm/vfio-viable
	@$(MKDIR_P) tests/vm/work
	@rm -rf '$(VM_DEST)'; \
	$(MAKE) $(AM_MAKEFLAGS) install DESTDIR='$(VM_DEST)' >tests/vm/work/install.log 2>&1 || \
	{ echo "# make install DESTDIR=$(VM_DEST) failed (tests/vm/work/install.log): the boot runs will fail"; rm -rf '$(VM_DEST)'; }
	@IOMMU_OWN='$(abs_top_builddir)/iommu-own$(EXEEXT)' \
	VFIO_VIABLE='$(abs_top_builddir)/tests/vm/vfio-viable' \
	VM_SRCDIR='$(abs_top_srcdir)/tests/vm' \
	VM_DIR='$(abs_top_builddir)/tests/vm' \
	VM_DEST='$(VM_DEST)' VM_SBINDIR='$(sbindir)' VM_UDEVRULESDIR='$(udevrulesdir)' \
	VM_UNITDIR='$(systemdsystemunitdir)' VM_DRACUTMODDIR='$(dracutmodulesdir)' \
	VM_ITOOLSDIR='$(initramfstoolsdir)' \
	$(SHELL) '$(abs_top_srcdir)/tests/vm/run.sh'

# The downloaded kernel stays unless asked: check-vm-clean removes it too.
check-vm-clean:
	rm -rf tests/vm/vfio-viable tests/vm/work tests/vm/cache

clean-local: check-vm-clean-work
check-vm-clean-work:
	rm -rf tests/vm/vfio-viable tests/vm/work

.PHONY: check-vm check-vm-clean check-vm-clean-work
