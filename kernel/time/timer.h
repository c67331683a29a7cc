/*
 * Time (kernel/time/timer.c). A monotonic nanosecond clock from the TSC and
 * a periodic tick interrupt from the LAPIC timer, on the rates
 * arch/x86_64/tsc.h measured at boot (tsc_frequency() and tsc_to_ns() are
 * there too).
 */
#ifndef KERNEL_TIME_TIMER_H
#define KERNEL_TIME_TIMER_H

#include <stdint.h>

#define TIMER_HZ 100 /* periodic tick rate */

/* Measure the clocks and start the tick. After irq_init(). */
void timer_init(void);
/* Start the periodic tick on the calling CPU (timer_init() does it on the
 * boot CPU; kernel/smp/ on each other CPU as it comes up). Its ticks count
 * in this_cpu()->ticks; only the boot CPU's run the tick hooks. */
void timer_start_this_cpu(void);

uint64_t time_ns(void);	    /* since timer_init(), monotonic */
uint64_t timer_ticks(void); /* periodic interrupts delivered so far */

/* Sleep with interrupts enabled (sti; hlt), never a busy poll. */
void sleep_ns(uint64_t ns);
static inline void sleep_ms(uint64_t ms)
{
	sleep_ns(ms * 1000000ull);
}

/* Called from the periodic tick with interrupts off (lwIP timers, ...). */
typedef void (*tick_fn)(void *ctx);
int timer_add_tick_hook(tick_fn fn, void *ctx);

#endif
