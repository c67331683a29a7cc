/*
 * The PCI bus: enumeration and the driver registry.
 *
 * Enumeration (PCI-to-PCI Bridge Architecture 1.2, section 3.2.5): the
 * firmware (SeaBIOS, OVMF) numbered the buses and assigned BARs, so a
 * depth-first walk from bus 0 that follows every bridge's secondary bus
 * number finds every function. A device whose function 0 sets the
 * multifunction bit in its header type may have functions 1-7. Drivers
 * (virtio-pci, edu) register with pci_register_driver() and are offered
 * every function, whether they come before the scan or after it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "arch/x86_64/irqflags.h"
#include "arch/x86_64/paging.h"
#include "kernel/irq/irq.h"
#include "kernel/lib/init.h"
#include "kernel/lib/log.h"
#include "kernel/pci/pci_bus.h"
#include "kernel/pci/pci_caps.h"
#include "kernel/pci/pci_config.h"

#define PCI_MAX_BUS_DEPTH 32 /* bridges nested deeper than this are a loop */

static struct pci_dev *pci_devices, *pci_last;
static unsigned pci_ndevices;
static struct pci_driver *pci_drivers;

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
	pci_config_init();
	if (!pci_config_uses_ecam())
		pr_info("pci: no MCFG; configuration through ports 0xCF8/0xCFC\n");
	scan_bus(0, 0);
	pr_info("pci: %u functions\n", pci_ndevices);
	/* Drivers that registered before the scan. */
	for (struct pci_driver *drv = pci_drivers; drv; drv = drv->next)
		for (struct pci_dev *pdev = pci_devices; pdev; pdev = pdev->next)
			probe_function(drv, pdev);
}
INITCALL(pci_init);
