/*
 * The CPU's clocks, measured once at boot (arch/x86_64/tsc.c): the TSC rate
 * and the LAPIC timer rate. kernel/time/ builds time_ns(), the tick and
 * sleeping on them.
 */
#ifndef ARCH_X86_64_TSC_H
#define ARCH_X86_64_TSC_H

#include <stdint.h>

/* Measure both rates (about 10 ms against the PIT under TCG). A TSC rate
 * that cannot be found is assumed to be 1 GHz, with a warning. */
void tsc_calibrate(void);

uint64_t tsc_frequency(void); /* Hz; 0 before tsc_calibrate() */
const char *tsc_source(void); /* where the rate came from ("PIT channel 2", ...) */
uint64_t tsc_to_ns(uint64_t tsc_delta);
/* The LAPIC timer's count rate after its divider (LAPIC_TIMER_DIVIDE); 0
 * when it could not be measured. */
uint64_t lapic_timer_frequency(void);

#endif
