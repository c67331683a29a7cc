/*
 * ACPI resource templates (ACPI 6.5 section 6.4), the bytes of a device's
 * _CRS buffer: what memory windows and interrupts it uses. Read by
 * kernel/acpi/aml_resources.c, pure over a byte buffer so the host tests
 * run it on recorded tables.
 */
#ifndef KERNEL_ACPI_AML_RESOURCES_H
#define KERNEL_ACPI_AML_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Interrupt flags from a resource descriptor (6.4.3.6, 6.4.2.1). */
#define AML_IRQ_LEVEL	   (1u << 0) /* else edge */
#define AML_IRQ_ACTIVE_LOW (1u << 1) /* else active high */
#define AML_IRQ_SHARED	   (1u << 2)
#define AML_IRQ_WAKE	   (1u << 3)

#define AML_RES_MAX 8

struct aml_resources {
	unsigned nmem;
	struct {
		uint64_t base, len;
		bool writable;
	} mem[AML_RES_MAX];
	unsigned nirq;
	struct {
		uint32_t gsi;
		unsigned flags; /* AML_IRQ_* */
	} irq[AML_RES_MAX];
	unsigned nio;	 /* I/O port ranges: counted, not kept */
	unsigned nother; /* descriptors this reader does not decode */
};

/*
 * Decodes a resource template (the bytes of a _CRS buffer), which must end
 * with an End Tag. Memory32Fixed, Memory32 (when min == max), Extended
 * Interrupt (consumer only) and IRQ descriptors are decoded; others are
 * counted and skipped. Returns 0, or -EINVAL (with a message saying what
 * was seen at which offset) for a malformed template.
 */
int aml_parse_resources(const uint8_t *buf, size_t len, struct aml_resources *res);

#endif
