# Fuzzing (included from the top Makefile.am): make fuzz
#
# Not a test: nothing here is built or run by `make` or `make check`.
# `make fuzz` builds tests/fuzz/fuzz-tree.c with clang's libFuzzer and the
# sanitizers and fuzzes the attributes of copies of some fixture sysroots for
# FUZZ_SECONDS (default 60) each; see tests/fuzz/run.sh. The corpus and any
# crash are kept in FUZZ_OUT (default ./fuzz-out).

EXTRA_DIST += tests/fuzz/run.sh tests/fuzz/fuzz-tree.c

fuzz:
	TOP_SRCDIR='$(abs_top_srcdir)' TOP_BUILDDIR='$(abs_top_builddir)' \
	bash '$(top_srcdir)/tests/fuzz/run.sh'

.PHONY: fuzz
