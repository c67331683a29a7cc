/*
 * The local APIC (arch/x86_64/lapic.c; Intel SDM vol. 3A, chapter 10
 * "Advanced Programmable Interrupt Controller") in xAPIC mode: it receives
 * the IOAPICs' and devices' MSI messages, takes end-of-interrupt, sends
 * inter-processor interrupts, and has the timer the periodic tick uses.
 * kernel/irq/, kernel/time/ and the CPU start-up (arch/x86_64/ap_start.c,
 * kernel/smp/) drive it; nothing else should need to.
 */
#ifndef ARCH_X86_64_LAPIC_H
#define ARCH_X86_64_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_DEFAULT_ADDR 0xfee00000ull
/* xAPIC ids are 8 bits and 0xff means "all": every id a destination field
 * can name is below this. */
#define XAPIC_MAX_ID 0xff

/* Map the LAPIC at physical address `phys` and enable the boot CPU's in
 * xAPIC (MMIO) mode. Every LAPIC answers at the same address, each CPU
 * reaching its own. */
void lapic_init(uint64_t phys);
/* Enable this CPU's LAPIC (after lapic_init() on the boot CPU): the
 * application processors call it as they start. */
void lapic_cpu_init(void);
bool lapic_enabled(void);
void lapic_eoi(void);
uint32_t lapic_id(void);
uint32_t lapic_version(void);
/* Read and clear the error status register. */
uint32_t lapic_read_esr(void);
/* Send `vector` to ourselves (fixed delivery, edge): used by the self-tests. */
void lapic_send_self_ipi(uint8_t vector);

/* Inter-processor interrupts to the LAPIC with this id: INIT resets the
 * CPU into "wait for startup"; STARTUP (SIPI) starts it in real mode at
 * `page` (4 KiB aligned, below 1 MiB); a fixed IPI sends `vector`. */
void lapic_send_init(uint32_t apic_id);
void lapic_send_startup(uint32_t apic_id, uint64_t page);
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);

/* The LAPIC timer counts down from an initial count at the bus clock divided
 * by LAPIC_TIMER_DIVIDE. */
#define LAPIC_TIMER_DIVIDE 16
void lapic_timer_periodic(uint8_t vector, uint32_t initial_count);
/* Start a masked one-shot count from `initial_count` (for calibration). */
void lapic_timer_oneshot_masked(uint32_t initial_count);
uint32_t lapic_timer_current(void);
void lapic_timer_stop(void);

#endif
