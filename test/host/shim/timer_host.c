/*
 * kernel/time/timer.h's clock for host tests: time_ns() from CLOCK_MONOTONIC,
 * for code that timestamps requests or bounds a wait. Weak, like the
 * other shims.
 */
#include <time.h>

#include "kernel/time/timer.h"

__attribute__((weak)) uint64_t time_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
