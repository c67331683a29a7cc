/*
 * PCI configuration header decoding (PCI Local Bus Specification 3.0):
 * the header fields (6.2), Base Address Registers and their sizing
 * (6.2.5.1), the capability list (6.7) and the class codes (appendix D).
 *
 * Everything here goes through pci_read*() / pci_write*() only, so the host
 * unit test (test/host/test_pci.c) runs this file unchanged against
 * recorded config-space images. The caller keeps interrupts off while a
 * header is read: sizing briefly turns the function's decoding off.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/pci/pci.h"
#include "kernel/pci/pci_caps.h"
#include "kernel/pci/pci_config.h"

/* PCI 3.0 6.2.5.1: bit 0 tells I/O from memory; for memory, bits 2:1 give
 * the width and bit 3 prefetchability. */
#define BAR_IO	     0x1u
#define BAR_MEM_TYPE 0x6u
#define BAR_MEM_64   0x4u
#define BAR_PREFETCH 0x8u
#define BAR_IO_MASK  (~0x3u)
#define BAR_MEM_MASK (~0xfu)

unsigned pci_size_bar(struct pci_dev *pdev, unsigned i, struct pci_bar *bar)
{
	unsigned reg = PCI_BAR0 + 4 * i;
	uint32_t orig = pci_read32(pdev, reg);
	uint32_t mask;

	memset(bar, 0, sizeof(*bar));
	/* Sizing: write all ones, the device keeps the address bits it
	 * implements and zeroes the rest, so the lowest writable bit is the
	 * size. Then put the address back. */
	pci_write32(pdev, reg, 0xffffffffu);
	mask = pci_read32(pdev, reg);
	pci_write32(pdev, reg, orig);

	if (mask == 0 || mask == 0xffffffffu)
		return 1; /* not implemented (or nothing answers) */

	if (orig & BAR_IO) {
		bar->type = PCI_BAR_IO;
		bar->addr = orig & BAR_IO_MASK;
		/* Devices may leave the upper 16 bits of an I/O BAR zero (x86
		 * ports are 16 bits): treat them as address bits. */
		if (!(mask & 0xffff0000u))
			mask |= 0xffff0000u;
		bar->size = (uint32_t)(~(mask & BAR_IO_MASK) + 1);
		return 1;
	}

	bar->prefetchable = (orig & BAR_PREFETCH) != 0;
	if ((orig & BAR_MEM_TYPE) == BAR_MEM_64) {
		uint32_t orig_hi, mask_hi;
		uint64_t mask64;

		if (i + 1 >= pdev->nbars) {
			/* A 64-bit BAR in the last slot has no upper half. */
			bar->type = PCI_BAR_NONE;
			return 1;
		}
		orig_hi = pci_read32(pdev, reg + 4);
		pci_write32(pdev, reg + 4, 0xffffffffu);
		mask_hi = pci_read32(pdev, reg + 4);
		pci_write32(pdev, reg + 4, orig_hi);

		bar->type = PCI_BAR_MEM64;
		bar->addr = ((uint64_t)orig_hi << 32) | (orig & BAR_MEM_MASK);
		mask64 = ((uint64_t)mask_hi << 32) | (mask & BAR_MEM_MASK);
		bar->size = ~mask64 + 1;
		return 2;
	}
	bar->type = PCI_BAR_MEM32;
	bar->addr = orig & BAR_MEM_MASK;
	bar->size = (uint32_t)(~(mask & BAR_MEM_MASK) + 1);
	return 1;
}

uint8_t pci_find_next_capability(const struct pci_dev *pdev, uint8_t prev, uint8_t id)
{
	/* Walk from the head every time, remembering where we have been: a
	 * list that loops back on itself then ends instead of making the
	 * caller's iteration endless. Capabilities sit at dword-aligned
	 * offsets 0x40-0xfc, so 48 bits cover every possible position. */
	uint64_t seen = 0;
	bool after = prev == 0;
	uint8_t pos;

	if (!(pci_read16(pdev, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = pci_read8(pdev, PCI_CAP_PTR);
	for (;;) {
		/* The bottom two bits are reserved (6.7); a pointer into the
		 * standard header is a broken list (and 0 ends it). */
		pos &= ~3u;
		if (pos < 0x40)
			return 0;
		uint64_t bit = 1ull << ((pos - 0x40) / 4);
		if (seen & bit)
			return 0;
		seen |= bit;
		uint8_t cap_id = pci_read8(pdev, pos);
		if (cap_id == 0xff)
			return 0; /* the function went away */
		if (after && cap_id == id)
			return pos;
		if (pos == prev)
			after = true;
		pos = pci_read8(pdev, pos + 1);
	}
}

void pci_read_header(struct pci_dev *pdev)
{
	uint16_t command;
	uint8_t ht;

	pdev->vendor = pci_read16(pdev, PCI_VENDOR_ID);
	pdev->device = pci_read16(pdev, PCI_DEVICE_ID);
	pdev->revision = pci_read8(pdev, PCI_REVISION_ID);
	pdev->prog_if = pci_read8(pdev, PCI_PROG_IF);
	pdev->subclass = pci_read8(pdev, PCI_SUBCLASS);
	pdev->class = pci_read8(pdev, PCI_CLASS);
	ht = pci_read8(pdev, PCI_HEADER_TYPE);
	pdev->header_type = ht & PCI_HEADER_TYPE_MASK;
	pdev->irq_line = pci_read8(pdev, PCI_INTERRUPT_LINE);
	pdev->irq_pin = pci_read8(pdev, PCI_INTERRUPT_PIN);
	if (pdev->irq_pin > 4)
		pdev->irq_pin = 0; /* 1-4 mean INTA-INTD; anything else is junk */

	switch (pdev->header_type) {
	case 0:
		pdev->nbars = 6;
		pdev->subsys_vendor = pci_read16(pdev, PCI_SUBSYS_VENDOR);
		pdev->subsys_id = pci_read16(pdev, PCI_SUBSYS_ID);
		break;
	case 1:
		pdev->nbars = 2; /* a bridge has two, then its bus numbers */
		break;
	default:
		pdev->nbars = 0; /* CardBus: not decoded */
		break;
	}

	/* A host bridge keeps decoding (it carries everything else: real
	 * chipsets may stop answering at all); other functions stop while a
	 * BAR holds all ones, so the half-written address decodes nowhere. */
	command = pci_read16(pdev, PCI_COMMAND);
	bool quiesce = !(pdev->class == 0x06 && pdev->subclass == 0x00);
	if (quiesce && pdev->nbars)
		pci_write16(pdev, PCI_COMMAND, command & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (unsigned i = 0; i < pdev->nbars;) {
		unsigned used = pci_size_bar(pdev, i, &pdev->bar[i]);
		if (used == 2)
			memset(&pdev->bar[i + 1], 0, sizeof(pdev->bar[i + 1]));
		i += used;
	}
	if (quiesce && pdev->nbars)
		pci_write16(pdev, PCI_COMMAND, command);

	pdev->msi_cap = pci_find_capability(pdev, PCI_CAP_ID_MSI);
	pdev->msix_cap = pci_find_capability(pdev, PCI_CAP_ID_MSIX);
	pdev->msix_size = 0;
	if (pdev->msix_cap)
		/* Message Control bits 10:0 hold the table size minus one. */
		pdev->msix_size = (pci_read16(pdev, pdev->msix_cap + 2) & 0x7ff) + 1;
}

const char *pci_class_name(uint8_t class, uint8_t subclass)
{
	/* Appendix D, the classes a QEMU guest meets. */
	switch (class) {
	case 0x00:
		return "unclassified";
	case 0x01:
		switch (subclass) {
		case 0x01:
			return "IDE controller";
		case 0x06:
			return "SATA controller";
		case 0x00:
			return "SCSI controller";
		default:
			return "storage";
		}
	case 0x02:
		return subclass == 0x00 ? "Ethernet controller" : "network";
	case 0x03:
		return "display";
	case 0x04:
		return "multimedia";
	case 0x05:
		return "memory controller";
	case 0x06:
		switch (subclass) {
		case 0x00:
			return "host bridge";
		case 0x01:
			return "ISA bridge";
		case 0x04:
			return "PCI bridge";
		default:
			return "bridge";
		}
	case 0x07:
		return "communication";
	case 0x08:
		return "system peripheral";
	case 0x09:
		return "input";
	case 0x0c:
		switch (subclass) {
		case 0x03:
			return "USB controller";
		case 0x05:
			return "SMBus";
		default:
			return "serial bus";
		}
	case 0xff:
		return "other";
	default:
		return "unknown class";
	}
}

/* snprintf that keeps appending: returns the new length, never past size. */
static size_t append(char *buf, size_t size, size_t len, int n)
{
	if (n < 0)
		return len;
	len += (size_t)n;
	return len < size ? len : (size ? size - 1 : 0);
}

int pci_format(const struct pci_dev *pdev, char *buf, size_t size)
{
	size_t len = 0;

	len = append(buf, size, len,
		     snprintf(buf, size, "%02x:%02x.%x %04x:%04x class %02x%02x%02x (%s)",
			      pdev->bus, pdev->dev, pdev->fn, pdev->vendor, pdev->device,
			      pdev->class, pdev->subclass, pdev->prog_if,
			      pci_class_name(pdev->class, pdev->subclass)));
	if (pdev->header_type == 0 && pdev->subsys_vendor)
		len = append(buf, size, len,
			     snprintf(buf + len, size - len, " subsys %04x:%04x",
				      pdev->subsys_vendor, pdev->subsys_id));
	if (pdev->irq_pin)
		len = append(buf, size, len,
			     snprintf(buf + len, size - len, " INT%c irq %u",
				      'A' + pdev->irq_pin - 1, pdev->irq_line));
	if (pdev->msix_cap)
		len = append(buf, size, len,
			     snprintf(buf + len, size - len, " msix %u%s", pdev->msix_size,
				      pdev->msix_enabled ? "(on)" : ""));
	if (pdev->msi_cap)
		len = append(
			buf, size, len,
			snprintf(buf + len, size - len, " msi%s", pdev->msi_enabled ? "(on)" : ""));
	return (int)len;
}

int pci_format_bars(const struct pci_dev *pdev, char *buf, size_t size)
{
	static const char *const names[] = {"none", "io", "mem32", "mem64"};
	size_t len = 0;

	if (size)
		buf[0] = 0;
	for (unsigned i = 0; i < pdev->nbars; i++) {
		const struct pci_bar *b = &pdev->bar[i];
		if (b->type == PCI_BAR_NONE)
			continue;
		len = append(buf, size, len,
			     snprintf(buf + len, size - len, "%sBAR%u %s%s 0x%llx size 0x%llx",
				      len ? ", " : "", i, names[b->type],
				      b->prefetchable ? " pf" : "", (unsigned long long)b->addr,
				      (unsigned long long)b->size));
	}
	return (int)len;
}
