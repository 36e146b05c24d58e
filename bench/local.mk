# Benchmarks (included from the top Makefile.am): make bench
#
# Not tests: nothing here is built or run by `make` or `make check`.
# `make bench` builds the syscall-floor reader and the timer, then runs
# bench/run.sh, which generates (once, cached in bench/trees/ of the build
# directory; `make bench-clean` removes them) synthetic sysroots of
# BENCH_SIZES devices with bench/gen.sh and times iommu-own against the
# floor. BENCH_RUNS (default 7), BENCH_TREES and BENCH_TMP are passed on
# from the environment (see bench/run.sh).

BENCH_SIZES = 100 1000 4166

EXTRA_PROGRAMS = bench/floor bench/timeit
bench_floor_SOURCES = bench/floor.c
bench_timeit_SOURCES = bench/timeit.c

EXTRA_DIST += bench/gen.sh bench/run.sh bench/floor.c bench/timeit.c

bench: iommu-own$(EXEEXT) bench/floor$(EXEEXT) bench/timeit$(EXEEXT)
	IOMMU_OWN='$(abs_top_builddir)/iommu-own$(EXEEXT)' \
	BENCH_FLOOR='$(abs_top_builddir)/bench/floor$(EXEEXT)' \
	BENCH_TIMEIT='$(abs_top_builddir)/bench/timeit$(EXEEXT)' \
	BENCH_TREES="$${BENCH_TREES:-$(abs_top_builddir)/bench/trees}" \
	bash '$(top_srcdir)/bench/run.sh' $(BENCH_SIZES)

bench-clean:
	rm -rf bench/trees bench/floor$(EXEEXT) bench/timeit$(EXEEXT)

clean-local: bench-clean

.PHONY: bench bench-clean
