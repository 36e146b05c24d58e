# Benchmarks (included from the top Makefile.am): make bench
