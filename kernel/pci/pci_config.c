/*
 * PCI configuration space access (PCI Local Bus 3.0 section 3.2.2.3.2, PCI
 * Express Base 4.0 section 7.2.2):
 *  - Configuration Mechanism #1, ports 0xCF8 (address) and 0xCFC (data):
 *    every PC has it, 256 bytes per function;
 *  - ECAM, the memory-mapped window the ACPI MCFG table describes (q35
 *    has one; i440fx does not): 4 KiB per function at
 *    base + (bus << 20 | dev << 15 | fn << 12), one access per read.
 * ECAM is used for the buses its window covers, port I/O otherwise.
 */
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/io.h"
#include "arch/x86_64/irqflags.h"
#include "arch/x86_64/paging.h"
#include "kernel/acpi/acpi.h"
#include "kernel/lib/log.h"
#include "kernel/pci/pci_config.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA	   0xcfc

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

void pci_config_init(void)
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

bool pci_config_uses_ecam(void)
{
	return necam > 0;
}

void pci_enable(struct pci_dev *pdev, uint16_t command_bits)
{
	uint16_t cmd = pci_read16(pdev, PCI_COMMAND);

	if ((cmd & command_bits) != command_bits)
		pci_write16(pdev, PCI_COMMAND, cmd | command_bits);
}
