/*
 * Interrupt requests. Two kinds of sources reach a handler:
 *  - a GSI (global system interrupt: an IOAPIC input, ISA IRQs after MADT
 *    overrides, PCI INTx lines, virtio-mmio lines), routed to a vector we
 *    pick, with the trigger mode and polarity given;
 *  - a bare vector for message-signalled interrupts (MSI, MSI-X), where the
 *    device writes the vector number into the LAPIC itself.
 * Handlers run in interrupt context, interrupts off, and must not sleep.
 * Several handlers may share one level-triggered GSI: each is called and
 * checks its own device.
 */
#ifndef KERNEL_IRQ_IRQ_H
#define KERNEL_IRQ_IRQ_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*irq_handler_t)(void *ctx);

/* Flags for request_irq(). Without IRQF_LEVEL/IRQF_EDGE the trigger and
 * polarity come from the ACPI MADT overrides (ISA default: edge, high). */
#define IRQF_EDGE	(1u << 0)
#define IRQF_LEVEL	(1u << 1)
#define IRQF_ACTIVE_LOW (1u << 2)
#define IRQF_SHARED	(1u << 3)

/* Route `gsi` through its IOAPIC to a vector and call handler(ctx) on each
 * interrupt. Returns the vector (>= 32) or a negative errno. */
int request_irq(unsigned gsi, unsigned flags, irq_handler_t handler, void *ctx, const char *name);
void free_irq(unsigned gsi, irq_handler_t handler, void *ctx);
void irq_mask(unsigned gsi);
void irq_unmask(unsigned gsi);

/* Allocate a vector for MSI/MSI-X and attach a handler. Returns the vector
 * or a negative errno. The caller programs the device with
 * msi_address(vector) and msi_data(vector). */
int request_msi_vector(irq_handler_t handler, void *ctx, const char *name);
void free_msi_vector(int vector);
/* Send this MSI vector's messages to the LAPIC `apic_id` instead of the
 * boot CPU's; takes effect when the caller next programs the device with
 * msi_address(vector). 0 or -EINVAL. Every GSI goes to the boot CPU. */
int irq_set_msi_cpu(int vector, uint32_t apic_id);
uint64_t msi_address(int vector);
uint32_t msi_data(int vector);
/* Which CPUs (bit n: CPU index n, below 64) have taken this vector. */
uint64_t irq_vector_cpus(int vector);

/* Attach a handler to a vector outside the dynamic range that the arch
 * reserves for a fixed purpose (VECTOR_TIMER, VECTOR_APIC_ERROR in
 * arch/x86_64/trap.h). Returns 0 or a negative errno. */
int request_fixed_vector(int vector, irq_handler_t handler, void *ctx, const char *name);

/* Set up interrupt routing: mask the 8259 PIC, enable the local APIC and
 * the IOAPICs the ACPI MADT describes. After acpi_init(). */
void irq_init(void);

/* The GSI an ISA IRQ (0-15) is wired to, and its IRQF_ trigger/polarity
 * flags, after the MADT interrupt source overrides. */
unsigned isa_irq_to_gsi(unsigned isa_irq, unsigned *flags);

/* Interrupts delivered on a vector since boot (the shell's `irqs`). */
uint64_t irq_vector_count(int vector);
void irq_print_counts(void);

/* For the self-test (test/kernel/irq_selftest.c): the lowest dynamic vector
 * nobody uses (or -ENOSPC; nothing is reserved), and whether one is unused. */
int irq_unused_vector(void);
bool irq_vector_unused(int vector);

#endif
