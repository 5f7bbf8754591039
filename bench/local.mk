# bench/: `make bench`, the benchmark in the arm64 environment of tests/e2e (figures and ratios, never pass or fail), included from Makefile.am.
# attach-scale and policy-lateness run on this host where /dev/kvm is usable,
# inside the arm64 environment otherwise (bench/run-host-bench).
#
# BENCH_RUNS samples per latency series, BENCH_WIDE_ROUNDS rounds of
# injections over the 64 vcpus; e.g. make bench BENCH_RUNS=20 for a quick look.

BENCH_RUNS = 100
BENCH_WIDE_ROUNDS = 4

EXTRA_DIST += bench/run-bench bench/bench.guest bench/repeat.c bench/kvm-run.c bench/run-host-bench bench/host-bench.guest

bench: all
	$(MAKE) $(AM_MAKEFLAGS) $(check_PROGRAMS)
	abs_top_builddir='$(abs_top_builddir)' CC='$(CC)' BENCH_RUNS='$(BENCH_RUNS)' BENCH_WIDE_ROUNDS='$(BENCH_WIDE_ROUNDS)' \
		$(SHELL) $(top_srcdir)/bench/run-bench
	abs_top_builddir='$(abs_top_builddir)' abs_top_srcdir='$(abs_top_srcdir)' $(SHELL) $(top_srcdir)/bench/run-host-bench

.PHONY: bench
