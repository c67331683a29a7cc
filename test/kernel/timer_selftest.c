/*
 * `test=timer`: the clocks arch/x86_64/tsc.c measured and the tick and
 * sleep of kernel/time/timer.c, checked against each other: a plausible TSC
 * rate, ticks that arrive as interrupts on VECTOR_TIMER at about TIMER_HZ,
 * a clock that never goes backwards, and sleeps that last long enough.
 */
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "kernel/irq/irq.h"
#include "kernel/selftest/selftest.h"
#include "kernel/time/timer.h"

static void timer_selftest(void)
{
	uint64_t t0, t1, k0, k1, v0, v1, prev;
	uint64_t tsc_hz = tsc_frequency();
	bool mono = true;

	check(tsc_hz >= 100000000ull && tsc_hz <= 10000000000ull,
	      "TSC frequency %llu Hz (%s) is between 100 MHz and 10 GHz",
	      (unsigned long long)tsc_hz, tsc_source());

	/* 50 ms at TIMER_HZ is 5 ticks; allow for the sleep's tick granularity
	 * and an emulator's jitter, but the count must come from interrupts
	 * on the timer vector. The vector count is read outside the tick
	 * count at both ends, so a tick landing between two reads can only
	 * add to the vector's side. */
	v0 = irq_vector_count(VECTOR_TIMER);
	k0 = timer_ticks();
	sleep_ms(50);
	k1 = timer_ticks();
	v1 = irq_vector_count(VECTOR_TIMER);
	check(k1 - k0 >= 3 && k1 - k0 <= 12, "%llu ticks during a 50 ms sleep (expected ~%u)",
	      (unsigned long long)(k1 - k0), 50 * TIMER_HZ / 1000);
	check(v1 - v0 >= k1 - k0, "ticks arrived as interrupts on vector %#x (%llu)", VECTOR_TIMER,
	      (unsigned long long)(v1 - v0));

	prev = time_ns();
	for (int i = 0; i < 10000; i++) {
		uint64_t now = time_ns();
		if (now < prev)
			mono = false;
		prev = now;
	}
	check(mono, "time_ns() never goes backwards over 10000 reads");

	t0 = time_ns();
	sleep_ms(20);
	t1 = time_ns();
	check(t1 - t0 >= 20000000ull && t1 - t0 < 200000000ull,
	      "sleep_ms(20) took %llu us (at least 20000)", (unsigned long long)((t1 - t0) / 1000));
}
SELFTEST(timer, timer_selftest);
