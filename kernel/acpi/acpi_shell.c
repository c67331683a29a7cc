/*
 * The shell's ACPI commands: `acpi` lists the tables (ACPI 6.5, 5.2) and
 * what the MADT and MCFG said; `aml` lists the devices the AML reader finds
 * in the DSDT and SSDTs (chapter 19-20), or dumps the DSDT in hex.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/paging.h"
#include "kernel/acpi/acpi.h"
#include "kernel/acpi/aml.h"
#include "kernel/acpi/aml_resources.h"
#include "kernel/shell/shell.h"

static int cmd_acpi(int argc, char **argv)
{
	const struct acpi_info *ai = &acpi_info;

	if (!acpi_present()) {
		printf("no ACPI tables\n");
		return 0;
	}
	printf("RSDP rev %u at %#llx\n", ai->rsdp_revision, (unsigned long long)ai->rsdp);
	printf("sig  address            length rev oem    oem table\n");
	for (unsigned i = 0; acpi_table(i); i++) {
		const struct acpi_sdt_header *h = acpi_table(i);
		printf("%.4s %#-18llx %6u %3u %-6.6s %-8.8s\n", h->signature,
		       (unsigned long long)virt_to_phys(h), (unsigned)h->length, h->revision,
		       h->oem_id, h->oem_table_id);
	}
	printf("MADT: LAPIC %#llx, %u CPU(s)%s\n", (unsigned long long)ai->lapic_addr, ai->ncpus,
	       ai->has_8259 ? ", PC-AT 8259 present" : "");
	for (unsigned i = 0; i < ai->nioapics; i++)
		printf("  IOAPIC id %u at %#x, GSI base %u\n", ai->ioapics[i].id,
		       (unsigned)ai->ioapics[i].addr, (unsigned)ai->ioapics[i].gsi_base);
	for (unsigned i = 0; i < ai->noverrides; i++)
		printf("  ISA IRQ %u -> GSI %u, flags %#x\n", ai->overrides[i].isa_irq,
		       (unsigned)ai->overrides[i].gsi, ai->overrides[i].flags);
	for (unsigned i = 0; i < ai->nmcfg; i++)
		printf("MCFG: ECAM %#llx segment %u buses %u-%u\n",
		       (unsigned long long)ai->mcfg[i].base, ai->mcfg[i].segment,
		       ai->mcfg[i].bus_start, ai->mcfg[i].bus_end);
	return 0;
}
SHELL_COMMAND(acpi, "acpi", "list the ACPI tables and the interrupt controllers", cmd_acpi);

static int print_aml_device(const struct aml_device *dev, void *ctx)
{
	struct aml_resources res;

	printf("%-20s hid %-9s", dev->path, dev->hid[0] ? dev->hid : "-");
	if (dev->has_uid)
		printf(" uid %llu", (unsigned long long)dev->uid);
	if (dev->has_sta)
		printf(" sta %#llx", (unsigned long long)dev->sta);
	if (dev->crs && aml_parse_resources(dev->crs, dev->crs_len, &res) == 0) {
		for (unsigned i = 0; i < res.nmem; i++)
			printf(" mem %#llx+%#llx", (unsigned long long)res.mem[i].base,
			       (unsigned long long)res.mem[i].len);
		for (unsigned i = 0; i < res.nirq; i++)
			printf(" irq %u %s", res.irq[i].gsi,
			       res.irq[i].flags & AML_IRQ_LEVEL ? "level" : "edge");
		if (res.nio)
			printf(" io x%u", res.nio);
	}
	if (dev->incomplete)
		printf(" (incomplete)");
	printf("\n");
	return 0;
}

/* `aml dump` prints the DSDT in hex, the way test/host/data/ blobs were
 * recorded (test/host/data/README). */
static int cmd_aml(int argc, char **argv)
{
	const struct acpi_sdt_header *h = acpi_find_table("DSDT", 0);

	if (!h) {
		printf("no DSDT\n");
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "dump") == 0) {
		const uint8_t *p = (const uint8_t *)h;

		printf("DSDT %u bytes\n", (unsigned)h->length);
		for (unsigned i = 0; i < h->length; i++)
			printf("%02x%s", p[i], (i % 32 == 31 || i + 1 == h->length) ? "\n" : "");
		printf("end of DSDT\n");
		return 0;
	}
	acpi_walk_devices(print_aml_device, NULL);
	return 0;
}
SHELL_COMMAND(aml, "aml [dump]", "list devices in the ACPI DSDT/SSDTs, or dump the DSDT in hex",
	      cmd_aml);
