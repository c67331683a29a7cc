/*
 * The PCI bus: configuration space access and enumeration.
 *
 * Configuration access (PCI Local Bus 3.0 section 3.2.2.3.2, PCI Express
 * Base 4.0 section 7.2.2):
 *  - Configuration Mechanism #1, ports 0xCF8 (address) and 0xCFC (data):
 *    every PC has it, 256 bytes per function;
 *  - ECAM, the memory-mapped window the ACPI MCFG table describes (q35
 *    has one; i440fx does not): 4 KiB per function at
 *    base + (bus << 20 | dev << 15 | fn << 12), one access per read.
 * ECAM is used for the buses its window covers, port I/O otherwise.
 *
 * Enumeration (PCI-to-PCI Bridge Architecture 1.2, section 3.2.5): the
 * firmware (SeaBIOS, OVMF) numbered the buses and assigned BARs, so a
 * depth-first walk from bus 0 that follows every bridge's secondary bus
 * number finds every function. A device whose function 0 sets the
 * multifunction bit in its header type may have functions 1-7.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/io.h"
#include "arch/x86_64/irqflags.h"
#include "arch/x86_64/paging.h"
#include "kernel/acpi/acpi.h"
#include "kernel/irq/irq.h"
#include "kernel/lib/cmdline.h"
#include "kernel/lib/init.h"
#include "kernel/lib/log.h"
#include "kernel/mm/page_alloc.h"
#include "kernel/pci/pci.h"
#include "kernel/selftest/selftest.h"
#include "kernel/shell/shell.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA	   0xcfc
#define PCI_MAX_BUS_DEPTH  32 /* bridges nested deeper than this are a loop */

static struct pci_dev *pci_devices, *pci_last;
static unsigned pci_ndevices;
static struct pci_driver *pci_drivers;

/* ---- Configuration access ---------------------------------------------- */

struct ecam_window {
	volatile uint8_t *base; /* address of bus 0 (may lie below the mapping) */
	uint16_t segment;
	uint8_t bus_start, bus_end;
};
static struct ecam_window ecam[ACPI_MAX_MCFG];
static unsigned necam;

static volatile uint8_t *ecam_addr(const struct pci_dev *pdev, unsigned off)
{
	for (unsigned i = 0; i < necam; i++) {
		const struct ecam_window *w = &ecam[i];
		if (w->segment == pdev->segment && pdev->bus >= w->bus_start &&
		    pdev->bus <= w->bus_end)
			return w->base + ((uint64_t)pdev->bus << 20) + ((uint64_t)pdev->dev << 15) +
			       ((uint64_t)pdev->fn << 12) + off;
	}
	return NULL;
}

/* Mechanism #1 selects a dword; the byte lanes of 0xCFC-0xCFF select within
 * it. Address and data are two accesses, so nothing may come in between. */
static uint32_t cf8_address(const struct pci_dev *pdev, unsigned off)
{
	return 0x80000000u | (uint32_t)pdev->bus << 16 | (uint32_t)pdev->dev << 11 |
	       (uint32_t)pdev->fn << 8 | (off & 0xfc);
}

static uint32_t cfg_read(const struct pci_dev *pdev, unsigned off, unsigned width)
{
	volatile uint8_t *p = ecam_addr(pdev, off);
	uint32_t v;

	if (p)
		return width == 1 ? mmio_read8(p) : width == 2 ? mmio_read16(p) : mmio_read32(p);
	if (off >= 256 || pdev->segment != 0)
		return 0xffffffffu; /* outside what the ports can reach */
	unsigned long flags = irq_save();
	outl(PCI_CONFIG_ADDRESS, cf8_address(pdev, off));
	if (width == 1)
		v = inb(PCI_CONFIG_DATA + (off & 3));
	else if (width == 2)
		v = inw(PCI_CONFIG_DATA + (off & 2));
	else
		v = inl(PCI_CONFIG_DATA);
	irq_restore(flags);
	return v;
}

static void cfg_write(const struct pci_dev *pdev, unsigned off, unsigned width, uint32_t v)
{
	volatile uint8_t *p = ecam_addr(pdev, off);

	if (p) {
		if (width == 1)
			mmio_write8(p, (uint8_t)v);
		else if (width == 2)
			mmio_write16(p, (uint16_t)v);
		else
			mmio_write32(p, v);
		return;
	}
	if (off >= 256 || pdev->segment != 0)
		return;
	unsigned long flags = irq_save();
	outl(PCI_CONFIG_ADDRESS, cf8_address(pdev, off));
	if (width == 1)
		outb(PCI_CONFIG_DATA + (off & 3), (uint8_t)v);
	else if (width == 2)
		outw(PCI_CONFIG_DATA + (off & 2), (uint16_t)v);
	else
		outl(PCI_CONFIG_DATA, v);
	irq_restore(flags);
}

uint8_t pci_read8(const struct pci_dev *pdev, unsigned off)
{
	return (uint8_t)cfg_read(pdev, off, 1);
}
uint16_t pci_read16(const struct pci_dev *pdev, unsigned off)
{
	return (uint16_t)cfg_read(pdev, off & ~1u, 2);
}
uint32_t pci_read32(const struct pci_dev *pdev, unsigned off)
{
	return cfg_read(pdev, off & ~3u, 4);
}
void pci_write8(const struct pci_dev *pdev, unsigned off, uint8_t v)
{
	cfg_write(pdev, off, 1, v);
}
void pci_write16(const struct pci_dev *pdev, unsigned off, uint16_t v)
{
	cfg_write(pdev, off & ~1u, 2, v);
}
void pci_write32(const struct pci_dev *pdev, unsigned off, uint32_t v)
{
	cfg_write(pdev, off & ~3u, 4, v);
}

static void ecam_init(void)
{
	for (unsigned i = 0; i < acpi_info.nmcfg && necam < ACPI_MAX_MCFG; i++) {
		const struct acpi_mcfg *m = &acpi_info.mcfg[i];
		if (m->bus_end < m->bus_start || (m->base & 0xfffff)) {
			pr_warn("pci: MCFG window %u (base 0x%llx, buses %u-%u) is malformed, "
				"expected a 1 MiB aligned base and start <= end; ignored\n",
				i, (unsigned long long)m->base, m->bus_start, m->bus_end);
			continue;
		}
		uint64_t start = m->base + ((uint64_t)m->bus_start << 20);
		uint64_t len = (uint64_t)(m->bus_end - m->bus_start + 1) << 20;
		volatile uint8_t *map = ioremap(start, len);
		if (!map) {
			pr_warn("pci: cannot map ECAM at 0x%llx; using ports 0xCF8/0xCFC\n",
				(unsigned long long)start);
			continue;
		}
		ecam[necam].base = map - ((uint64_t)m->bus_start << 20);
		ecam[necam].segment = m->segment;
		ecam[necam].bus_start = m->bus_start;
		ecam[necam].bus_end = m->bus_end;
		necam++;
		pr_info("pci: ECAM segment %u buses %02x-%02x at 0x%llx\n", m->segment,
			m->bus_start, m->bus_end, (unsigned long long)start);
	}
}

/* ---- Enumeration ------------------------------------------------------- */

const char *pci_name(const struct pci_dev *pdev, char *buf)
{
	snprintf(buf, 13, "%02x:%02x.%x", pdev->bus, pdev->dev, pdev->fn);
	return buf;
}

static void scan_bus(unsigned bus, unsigned depth);

static void add_function(unsigned bus, unsigned dev, unsigned fn, unsigned depth)
{
	struct pci_dev *pdev = calloc(1, sizeof(*pdev));
	char line[200];

	if (!pdev) {
		pr_err("pci: out of memory at %02x:%02x.%x\n", bus, dev, fn);
		return;
	}
	pdev->bus = bus;
	pdev->dev = dev;
	pdev->fn = fn;
	/* Interrupts off: sizing switches decoding off, and the console's
	 * UART sits behind the ISA bridge we may be sizing. */
	unsigned long flags = irq_save();
	pci_read_header(pdev);
	irq_restore(flags);

	if (pci_last)
		pci_last->next = pdev;
	else
		pci_devices = pdev;
	pci_last = pdev;
	pci_ndevices++;

	pci_format(pdev, line, sizeof(line));
	pr_info("pci: %s\n", line);
	if (pci_format_bars(pdev, line, sizeof(line)) > 0)
		pr_info("pci:          %s\n", line);

	if (pdev->header_type == 1) {
		unsigned primary = pci_read8(pdev, PCI_PRIMARY_BUS);
		unsigned secondary = pci_read8(pdev, PCI_SECONDARY_BUS);
		/* A secondary bus at or below our own was not numbered (or
		 * points backwards): following it would loop. */
		if (secondary <= bus || primary != bus) {
			pr_warn("pci: bridge %02x:%02x.%x has primary %u secondary %u, expected "
				"primary %u and secondary > %u; not scanned\n",
				bus, dev, fn, primary, secondary, bus, bus);
			return;
		}
		scan_bus(secondary, depth + 1);
	}
}

static void scan_bus(unsigned bus, unsigned depth)
{
	struct pci_dev probe = {0};

	if (depth > PCI_MAX_BUS_DEPTH) {
		pr_err("pci: bridges nested deeper than %u at bus %u; stopping\n",
		       PCI_MAX_BUS_DEPTH, bus);
		return;
	}
	probe.bus = bus;
	for (unsigned dev = 0; dev < 32; dev++) {
		probe.dev = dev;
		probe.fn = 0;
		/* No device answers with all ones. */
		if (pci_read16(&probe, PCI_VENDOR_ID) == 0xffff)
			continue;
		unsigned nfn =
			(pci_read8(&probe, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFUNCTION) ? 8 : 1;
		for (unsigned fn = 0; fn < nfn; fn++) {
			probe.fn = fn;
			if (pci_read16(&probe, PCI_VENDOR_ID) == 0xffff)
				continue;
			add_function(bus, dev, fn, depth);
		}
	}
}

struct pci_dev *pci_next(struct pci_dev *prev)
{
	return prev ? prev->next : pci_devices;
}

unsigned pci_count(void)
{
	return pci_ndevices;
}

void pci_enable(struct pci_dev *pdev, uint16_t command_bits)
{
	uint16_t cmd = pci_read16(pdev, PCI_COMMAND);

	if ((cmd & command_bits) != command_bits)
		pci_write16(pdev, PCI_COMMAND, cmd | command_bits);
}

volatile void *pci_map_bar(struct pci_dev *pdev, unsigned i)
{
	const struct pci_bar *b;

	if (i >= pdev->nbars)
		return NULL;
	b = &pdev->bar[i];
	if ((b->type != PCI_BAR_MEM32 && b->type != PCI_BAR_MEM64) || !b->addr || !b->size)
		return NULL;
	return ioremap(b->addr, b->size);
}

int pci_intx_gsi(const struct pci_dev *pdev, unsigned *gsi, unsigned *flags)
{
	unsigned f = 0;

	/* The firmware wrote the interrupt routing into the line register
	 * (0xff: not connected). A line of 16 or more can only be an IOAPIC
	 * input, a GSI (q35's PIRQs A-H also reach inputs 16-23); a smaller
	 * one is the ISA IRQ the chipset's PIRQ router feeds (SeaBIOS picks 10
	 * or 11 on both QEMU machines), and its MADT override gives the GSI
	 * and trigger (QEMU: level, active high). Without a level override
	 * INTx is what PCI 3.0 2.2.6 says: level, active low. */
	if (!pdev->irq_pin || pdev->irq_line == 0xff || pdev->irq_line == 0)
		return -ENODEV;
	if (pdev->irq_line >= 16) {
		*gsi = pdev->irq_line;
	} else {
		*gsi = isa_irq_to_gsi(pdev->irq_line, &f);
		if (!(f & IRQF_LEVEL))
			f = 0;
	}
	if (!f)
		f = IRQF_LEVEL | IRQF_ACTIVE_LOW;
	/* Other functions may share the pin's line. */
	*flags = f | IRQF_SHARED;
	return 0;
}

static void probe_function(struct pci_driver *drv, struct pci_dev *pdev)
{
	if (pdev->driver || !drv->match(pdev))
		return;
	if (drv->probe(pdev) == 0)
		pdev->driver = drv;
}

int pci_register_driver(struct pci_driver *drv)
{
	for (struct pci_driver *d = pci_drivers; d; d = d->next)
		if (d == drv)
			return -EBUSY;
	drv->next = pci_drivers;
	pci_drivers = drv;
	for (struct pci_dev *pdev = pci_devices; pdev; pdev = pdev->next)
		probe_function(drv, pdev);
	return 0;
}

static void pci_init(void)
{
	ecam_init();
	if (!necam)
		pr_info("pci: no MCFG; configuration through ports 0xCF8/0xCFC\n");
	scan_bus(0, 0);
	pr_info("pci: %u functions\n", pci_ndevices);
	/* Drivers that registered before the scan. */
	for (struct pci_driver *drv = pci_drivers; drv; drv = drv->next)
		for (struct pci_dev *pdev = pci_devices; pdev; pdev = pdev->next)
			probe_function(drv, pdev);
}
INITCALL(pci_init);

/* ---- Shell and self-test ---------------------------------------------- */

/* `lspci -x`: the first 256 bytes of config space in the layout of Linux's
 * `lspci -x`, which is how test/host/data/ images were recorded. */
static void dump_config(const struct pci_dev *pdev)
{
	for (unsigned off = 0; off < 256; off += 16) {
		printf("%02x:", off);
		for (unsigned i = 0; i < 16; i++)
			printf(" %02x", pci_read8(pdev, off + i));
		printf("\n");
	}
}

static int cmd_lspci(int argc, char **argv)
{
	bool hex = argc > 1 && strcmp(argv[1], "-x") == 0;
	char line[200];

	if (argc > 1 && !hex) {
		printf("usage: lspci [-x]\n");
		return 1;
	}
	for (struct pci_dev *pdev = pci_devices; pdev; pdev = pdev->next) {
		pci_format(pdev, line, sizeof(line));
		printf("%s\n", line);
		if (pci_format_bars(pdev, line, sizeof(line)) > 0)
			printf("        %s\n", line);
		if (pdev->driver)
			printf("        driver %s%s%s\n", pdev->driver->name,
			       pdev->driver_note ? ": " : "",
			       pdev->driver_note ? pdev->driver_note : "");
		if (hex)
			dump_config(pdev);
	}
	return 0;
}
SHELL_COMMAND(lspci, "lspci [-x]",
	      "list PCI functions, their BARs, interrupts and drivers (-x: config space)",
	      cmd_lspci);

CMDLINE_OPTION(pci_expect, "pci.expect",
	       "test=pci: number of PCI functions the enumeration must find");

static void selftest_pci(void)
{
	uint64_t expect = cmdline_get_u64("pci.expect", 0);
	unsigned bridges = 0;

	check(pci_ndevices > 0, "pci: enumeration found %u functions", pci_ndevices);
	if (cmdline_get("pci.expect"))
		check(pci_ndevices == expect, "pci: found %u functions, pci.expect=%llu",
		      pci_ndevices, (unsigned long long)expect);
	for (struct pci_dev *pdev = pci_devices; pdev; pdev = pdev->next) {
		if (pdev->header_type == 1)
			bridges++;
		/* Every implemented BAR has a power-of-two size and an address
		 * aligned to it (6.2.5.1): sizing went right. */
		for (unsigned i = 0; i < pdev->nbars; i++) {
			const struct pci_bar *b = &pdev->bar[i];
			if (b->type == PCI_BAR_NONE)
				continue;
			bool pow2 = b->size && !(b->size & (b->size - 1));
			if (!pow2 || (b->addr & (b->size - 1)))
				check(false,
				      "pci: %02x:%02x.%x BAR%u addr 0x%llx size 0x%llx: "
				      "expected a power-of-two size and aligned address",
				      pdev->bus, pdev->dev, pdev->fn, i,
				      (unsigned long long)b->addr, (unsigned long long)b->size);
		}
	}
	printf("pci: %u bridges, %s\n", bridges, necam ? "ECAM" : "ports 0xCF8/0xCFC");
}
SELFTEST(pci, selftest_pci);
