/*
 * The I/O APICs (arch/x86_64/ioapic.c; Intel 82093AA datasheet): each turns
 * its input pins, global system interrupts gsi_base .. gsi_base + pins - 1,
 * into messages to a local APIC. kernel/irq/ decides which GSI gets which
 * vector; this only programs the redirection entries.
 */
#ifndef ARCH_X86_64_IOAPIC_H
#define ARCH_X86_64_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_MAX 8 /* IOAPICs this kernel drives */

/* Register an IOAPIC serving GSIs gsi_base .. gsi_base + its entry count - 1
 * (read from its version register), and mask all its entries. 0, -ENOSPC
 * when IOAPIC_MAX are registered, -ENODEV when nothing answers at `phys`. */
int ioapic_add(uint8_t id, uint64_t phys, uint32_t gsi_base);
unsigned ioapic_count(void);
/* Is there an IOAPIC input for this GSI? */
bool ioapic_has_gsi(unsigned gsi);
/* One past the highest GSI any IOAPIC serves. */
unsigned ioapic_gsi_end(void);
/* Program the redirection entry for `gsi`: `vector`, fixed delivery,
 * physical destination `dest` (a LAPIC id), level or edge triggered, active
 * low or high. The entry is left masked; ioapic_mask(gsi, false) lets
 * interrupts through. 0, or -ENODEV when no IOAPIC serves `gsi`. */
int ioapic_route(unsigned gsi, uint8_t vector, bool level, bool active_low, uint8_t dest);
void ioapic_mask(unsigned gsi, bool masked);
/* Mask the entry and clear its vector. */
void ioapic_reset(unsigned gsi);
void ioapic_print(void);

#endif
