/*
 * Time (kernel/time/timer.h): a monotonic nanosecond clock on the TSC and a
 * periodic tick from the LAPIC timer, both measured at boot by
 * arch/x86_64/tsc.c. The tick runs at TIMER_HZ on VECTOR_TIMER; each one
 * wakes whoever sleeps (sleep_ns is `sti; hlt` until the deadline) and runs
 * the tick hooks (lwIP's timers, for instance).
 */
#include <errno.h>
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irqflags.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "kernel/irq/irq.h"
#include "kernel/lib/log.h"
#include "kernel/time/timer.h"

#define MAX_TICK_HOOKS 8

static uint64_t tsc_base;
static volatile uint64_t ticks;
static bool tick_running;
static uint32_t tick_count; /* the LAPIC timer's initial count for one tick */

static struct {
	tick_fn fn;
	void *ctx;
} hooks[MAX_TICK_HOOKS];
static unsigned nhooks;

/* ---- the clock ---- */

uint64_t time_ns(void)
{
	if (!tsc_frequency())
		return 0;
	return tsc_to_ns(rdtsc() - tsc_base);
}

uint64_t timer_ticks(void)
{
	return ticks;
}

/* ---- the tick ---- */

/* Every CPU takes a tick, and counts it in its own struct percpu; only
 * the boot CPU's advances timer_ticks() and runs the hooks, which (lwIP's
 * timers) are not written for several CPUs at once. */
static void timer_tick(void *ctx)
{
	struct percpu *cpu = this_cpu();

	cpu->ticks++;
	if (cpu->index != 0)
		return;
	ticks++;
	for (unsigned i = 0; i < nhooks; i++)
		hooks[i].fn(hooks[i].ctx);
}

void timer_start_this_cpu(void)
{
	/* The LAPIC timers all count the same bus clock, so the boot CPU's
	 * calibration holds for every CPU. */
	if (tick_running)
		lapic_timer_periodic(VECTOR_TIMER, tick_count);
}

int timer_add_tick_hook(tick_fn fn, void *ctx)
{
	unsigned long fl;

	if (!fn)
		return -EINVAL;
	fl = irq_save();
	if (nhooks == MAX_TICK_HOOKS) {
		irq_restore(fl);
		pr_err("timer: no room for another tick hook (all %u used)\n", MAX_TICK_HOOKS);
		return -ENOSPC;
	}
	hooks[nhooks].fn = fn;
	hooks[nhooks].ctx = ctx;
	nhooks++;
	irq_restore(fl);
	return 0;
}

void sleep_ns(uint64_t ns)
{
	uint64_t deadline = time_ns() + ns;
	unsigned long fl;

	if (!tick_running) {
		/* Before timer_init() nothing would wake a hlt. */
		if (tsc_frequency())
			while (time_ns() < deadline)
				cpu_relax();
		return;
	}
	/* Each wake-up is an interrupt, at the latest the next tick. */
	fl = irq_save();
	while (time_ns() < deadline)
		wait_for_interrupt();
	irq_restore(fl);
}

void timer_init(void)
{
	uint64_t lapic_hz;
	int err;

	tsc_base = rdtsc();
	tsc_calibrate();
	lapic_hz = lapic_timer_frequency();

	err = request_fixed_vector(VECTOR_TIMER, timer_tick, NULL, "timer");
	if (err || lapic_hz < TIMER_HZ) {
		pr_err("timer: no periodic tick (vector %#x: %d, LAPIC timer %llu Hz)\n",
		       VECTOR_TIMER, err, (unsigned long long)lapic_hz);
	} else {
		tick_count = (uint32_t)(lapic_hz / TIMER_HZ);
		tick_running = true;
		timer_start_this_cpu();
	}
	pr_info("timer: TSC %llu.%03llu MHz (%s), LAPIC timer %llu.%03llu MHz, tick %u Hz\n",
		(unsigned long long)(tsc_frequency() / 1000000),
		(unsigned long long)(tsc_frequency() / 1000 % 1000), tsc_source(),
		(unsigned long long)(lapic_hz / 1000000),
		(unsigned long long)(lapic_hz / 1000 % 1000), TIMER_HZ);
}
