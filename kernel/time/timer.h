/*
 * Time. A monotonic nanosecond clock from the TSC (calibrated at boot
 * against the PIT or the hypervisor's TSC frequency), and a periodic tick
 * interrupt from the LAPIC timer.
 */
#ifndef KERNEL_TIME_TIMER_H
#define KERNEL_TIME_TIMER_H

#include <stdint.h>

#define TIMER_HZ 100 /* periodic tick rate */

void timer_init(void);

uint64_t time_ns(void);	      /* since timer_init(), monotonic */
uint64_t tsc_frequency(void); /* Hz */
uint64_t timer_ticks(void);   /* periodic interrupts delivered so far */
uint64_t tsc_to_ns(uint64_t tsc_delta);

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
