# Benchmarks (included from the top Makefile.am): make bench
#
# Not tests: nothing here is built or run by `make` or `make check`.
# `make bench` builds the syscall-floor reader and the timer, then runs
# bench/run.sh, which generates with bench/gen.sh (once: they are cached, by
# default in /dev/shm/iommu-own-bench-$UID/trees, else bench/trees) synthetic
# sysroots of BENCH_SIZES devices and times iommu-own against the floor.
# BENCH_RUNS (default 7), BENCH_TREES and BENCH_TMP are passed on from the
# environment (see bench/run.sh). `make bench-clean` removes the trees.

BENCH_SIZES = 100 1000 4166

EXTRA_PROGRAMS = bench/floor bench/timeit bench/jsonc
bench_floor_SOURCES = bench/floor.c
bench_timeit_SOURCES = bench/timeit.c
bench_jsonc_SOURCES = bench/jsonc.c
bench_jsonc_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
bench_jsonc_LDADD = $(JSONC_LIBS)

EXTRA_DIST += bench/gen.sh bench/run.sh bench/floor.c bench/timeit.c bench/jsonc.c bench/gen-group.sh bench/growth.sh \
	bench/vm.sh bench/vm-guest/init bench/vm-guest/bench.sh

bench: iommu-own$(EXEEXT) bench/floor$(EXEEXT) bench/timeit$(EXEEXT) bench/jsonc$(EXEEXT)
	IOMMU_OWN='$(abs_top_builddir)/iommu-own$(EXEEXT)' \
	BENCH_FLOOR='$(abs_top_builddir)/bench/floor$(EXEEXT)' \
	BENCH_JSONC='$(abs_top_builddir)/bench/jsonc$(EXEEXT)' \
	BENCH_TIMEIT='$(abs_top_builddir)/bench/timeit$(EXEEXT)' \
	bash '$(top_srcdir)/bench/run.sh' $(BENCH_SIZES)

# How costs grow with a group's size and with the host's VFIO devices
# (bench/growth.sh): per doubling, from the smallest and largest size of one run.
bench-growth: iommu-own$(EXEEXT) bench/timeit$(EXEEXT)
	IOMMU_OWN='$(abs_top_builddir)/iommu-own$(EXEEXT)' \
	BENCH_TIMEIT='$(abs_top_builddir)/bench/timeit$(EXEEXT)' \
	bash '$(top_srcdir)/bench/growth.sh'

# Only what gen.sh made (dev<N>/ trees and unfinished .gen.*/), wherever they are.
bench-clean:
	rm -f bench/floor$(EXEEXT) bench/timeit$(EXEEXT) bench/jsonc$(EXEEXT) bench/vm-timeit
	@for d in "$${BENCH_TREES:-/dev/shm/iommu-own-bench-$$(id -u)/trees}" bench/trees; do \
	  test -d "$$d" || continue; \
	  echo "rm -rf $$d/dev* $$d/.gen.*"; rm -rf "$$d"/dev[0-9]* "$$d"/group[0-9]* "$$d"/mixed[0-9]* "$$d"/vfio[0-9]* "$$d"/.gen.*; \
	  rmdir "$$d" 2>/dev/null || :; \
	done

clean-local: bench-clean

.PHONY: bench bench-growth bench-clean

# The real kernel's cost of a move (bench/vm.sh): a QEMU guest (TCG) times
# iommu-own's claim and release next to the same writes from a bare shell.
# Needs what make check-vm needs (scripts/install-deps.sh --vm).
bench/vm-timeit: $(srcdir)/bench/timeit.c
	@$(MKDIR_P) bench
	$(CC) $(CPPFLAGS) $(CFLAGS) -std=gnu11 -static -o $@ $(srcdir)/bench/timeit.c

bench-vm: iommu-own$(EXEEXT) tests/vm/vfio-viable bench/vm-timeit
	@$(MKDIR_P) tests/vm
	@IOMMU_OWN='$(abs_top_builddir)/iommu-own$(EXEEXT)' \
	VFIO_VIABLE='$(abs_top_builddir)/tests/vm/vfio-viable' \
	BENCH_VM_TIMEIT='$(abs_top_builddir)/bench/vm-timeit' \
	VM_SRCDIR='$(abs_top_srcdir)/tests/vm' \
	BENCH_DIR='$(abs_top_srcdir)/bench' \
	VM_DIR='$(abs_top_builddir)/tests/vm' \
	$(SHELL) '$(abs_top_srcdir)/bench/vm.sh'

.PHONY: bench-vm
