/*
 * ACPI tables (ACPI 6.x, chapter 5): find the RSDP's XSDT/RSDT, look tables
 * up by signature, and read the MADT (local APIC address, IOAPICs, interrupt
 * source overrides) and MCFG (PCI ECAM windows).
 */
#ifndef KERNEL_ACPI_ACPI_H
#define KERNEL_ACPI_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/acpi/aml.h"

struct acpi_sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

/* Find and checksum the tables; reserve their pages from the page allocator.
 * `rsdp` from boot_info (0: search the BIOS areas). Returns 0 or -ENOENT. */
int acpi_init(uint64_t rsdp);
bool acpi_present(void);

/* The n-th table with this signature ("APIC", "MCFG", "DSDT", ...), or NULL. */
const struct acpi_sdt_header *acpi_find_table(const char *sig, unsigned n);
/* The n-th table of any signature, in the order they were found, or NULL. */
const struct acpi_sdt_header *acpi_table(unsigned n);

/* Runs fn over every device declared in the definition blocks: the DSDT,
 * then each SSDT (kernel/acpi/aml.h says what fn sees). */
void acpi_walk_devices(aml_device_fn fn, void *ctx);

#define ACPI_MAX_IOAPICS   8
#define ACPI_MAX_OVERRIDES 16
#define ACPI_MAX_MCFG	   4
#define ACPI_MAX_CPUS	   64

struct acpi_ioapic {
	uint8_t id;
	uint32_t addr;
	uint32_t gsi_base;
};

struct acpi_override {
	uint8_t isa_irq;
	uint32_t gsi;
	uint16_t flags; /* MPS INTI flags: polarity bits 0-1, trigger bits 2-3 */
};

/* A processor entry of the MADT (5.2.12.2 local APIC, 5.2.12.12 x2APIC). */
struct acpi_cpu {
	uint32_t apic_id;
	uint32_t uid; /* ACPI processor UID */
	bool usable;  /* enabled, or online capable: may be started */
	bool enabled; /* enabled at boot (not just hot-pluggable) */
	bool x2apic;  /* came from an x2APIC entry */
};

struct acpi_mcfg {
	uint64_t base;
	uint16_t segment;
	uint8_t bus_start, bus_end;
};

struct acpi_info {
	uint64_t rsdp; /* physical address of the RSDP used */
	uint8_t rsdp_revision;
	uint64_t lapic_addr;
	unsigned ncpus;		/* usable entries in cpus[] */
	unsigned ncpu_entries;	/* all entries in cpus[], absent ones included */
	unsigned ncpus_ignored; /* entries beyond ACPI_MAX_CPUS */
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	unsigned nioapics;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	unsigned noverrides;
	struct acpi_override overrides[ACPI_MAX_OVERRIDES];
	unsigned nmcfg;
	struct acpi_mcfg mcfg[ACPI_MAX_MCFG];
	bool has_8259; /* MADT flag PCAT_COMPAT */
};

extern struct acpi_info acpi_info;

#endif
