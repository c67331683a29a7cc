/*
 * In-kernel benchmarks, run by `bench=NAME[,NAME...]` after boot. A
 * benchmark prints figures (lines starting `bench: `) and asserts nothing;
 * afterwards the kernel prints `bench: done` and exits QEMU with EXIT_PASS.
 * `make bench` (mk/bench.mk) boots them and collects the figures.
 *
 *	BENCHMARK(blk, blk_bench);
 */
#ifndef KERNEL_SELFTEST_BENCH_H
#define KERNEL_SELFTEST_BENCH_H

#include "kernel/lib/section.h"

struct benchmark {
	const char *name;
	void (*run)(void);
};

#define BENCHMARK(name_, func)                                                                     \
	SECTION_ENTRY(benchmarks, struct benchmark, benchmark_##func) = {#name_, func}

/* Run the benchmarks named in `list` (comma separated); never returns. */
void bench_run(const char *list) __attribute__((__noreturn__));

#endif
