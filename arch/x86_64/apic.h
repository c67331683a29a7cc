/*
 * The x86 interrupt controllers: the local APIC (Intel SDM vol. 3A, chapter
 * 10 "Advanced Programmable Interrupt Controller"), the I/O APICs (Intel
 * 82093AA datasheet) and the legacy 8259A PIC, which we only silence.
 *
 * kernel/irq/irq.c drives these; nothing else should need to.
 */
#ifndef ARCH_X86_64_APIC_H
#define ARCH_X86_64_APIC_H

#include <stdbool.h>
#include <stdint.h>

/* --- 8259A PIC (arch/x86_64/pic.c) --- */

/* Move the PIC's vectors off the CPU exceptions (to 0x20-0x2f) and mask
 * every line, so nothing but a spurious interrupt can come from it. */
void pic_disable(void);

/* --- Local APIC (arch/x86_64/lapic.c) --- */

#define LAPIC_DEFAULT_ADDR 0xfee00000ull

/* Enable the LAPIC at physical address `phys` in xAPIC (MMIO) mode. */
void lapic_init(uint64_t phys);
bool lapic_enabled(void);
void lapic_eoi(void);
uint32_t lapic_id(void);
uint32_t lapic_version(void);
/* Read and clear the error status register. */
uint32_t lapic_read_esr(void);
/* Send `vector` to ourselves (fixed delivery, edge): used by the self-tests. */
void lapic_send_self_ipi(uint8_t vector);

/* The LAPIC timer counts down from an initial count at the bus clock divided
 * by LAPIC_TIMER_DIVIDE. */
#define LAPIC_TIMER_DIVIDE 16
void lapic_timer_periodic(uint8_t vector, uint32_t initial_count);
/* Start a masked one-shot count from `initial_count` (for calibration). */
void lapic_timer_oneshot_masked(uint32_t initial_count);
uint32_t lapic_timer_current(void);
void lapic_timer_stop(void);

/* --- I/O APIC (arch/x86_64/ioapic.c) --- */

/* Register an IOAPIC serving GSIs gsi_base .. gsi_base + its entry count - 1
 * (read from its version register), and mask all its entries. */
int ioapic_add(uint8_t id, uint64_t phys, uint32_t gsi_base);
unsigned ioapic_count(void);
/* Is there an IOAPIC input for this GSI? */
bool ioapic_has_gsi(unsigned gsi);
/* One past the highest GSI any IOAPIC serves. */
unsigned ioapic_gsi_end(void);
/* Program the redirection entry for `gsi`: `vector`, fixed delivery,
 * physical destination `dest` (a LAPIC id), trigger and polarity from the
 * IRQF_LEVEL / IRQF_ACTIVE_LOW bits of `flags` (kernel/irq/irq.h). The entry is
 * left masked; ioapic_mask(gsi, false) lets interrupts through. */
int ioapic_route(unsigned gsi, uint8_t vector, unsigned flags, uint8_t dest);
void ioapic_mask(unsigned gsi, bool masked);
/* Mask the entry and clear its vector. */
void ioapic_reset(unsigned gsi);
void ioapic_print(void);

#endif
