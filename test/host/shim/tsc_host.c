/*
 * arch/x86_64/tsc.h's TSC rate for host tests (rdtsc itself works in user
 * mode): measured once against CLOCK_MONOTONIC over 10 ms, for code that
 * turns TSC deltas into milliseconds (the spinlock's limits). Weak, like
 * the other shims.
 */
#include <time.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((weak)) uint64_t tsc_frequency(void)
{
	static uint64_t hz;

	if (!__atomic_load_n(&hz, __ATOMIC_RELAXED)) {
		uint64_t t0 = mono_ns(), c0 = rdtsc(), t1, c1;

		while ((t1 = mono_ns()) - t0 < 10000000)
			;
		c1 = rdtsc();
		__atomic_store_n(&hz, (c1 - c0) * 1000000000ull / (t1 - t0), __ATOMIC_RELAXED);
	}
	return __atomic_load_n(&hz, __ATOMIC_RELAXED);
}
