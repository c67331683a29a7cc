/*
 * What a function's configuration header says (kernel/pci/pci_caps.c): its
 * ids and BARs (PCI 3.0 6.2), its capability list (6.7), and the one-line
 * descriptions the boot log and `lspci` print.
 */
#ifndef KERNEL_PCI_PCI_CAPS_H
#define KERNEL_PCI_PCI_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/pci/pci.h"

/* Reads the ids, class, interrupt registers, and decodes and sizes every
 * BAR (decoding is switched off meanwhile, PCI 3.0 6.2.5.1), and finds the
 * MSI / MSI-X capabilities. The caller filled segment/bus/dev/fn. */
void pci_read_header(struct pci_dev *pdev);
/* Decodes the BAR at index `i` into `bar`; returns how many BAR registers
 * it takes (2 for a 64-bit BAR, else 1). */
unsigned pci_size_bar(struct pci_dev *pdev, unsigned i, struct pci_bar *bar);
/* Offset of the first capability with `id` after the one at `prev` (0:
 * from the start), or 0. Survives loops and bad pointers. */
uint8_t pci_find_next_capability(const struct pci_dev *pdev, uint8_t prev, uint8_t id);
static inline uint8_t pci_find_capability(const struct pci_dev *pdev, uint8_t id)
{
	return pci_find_next_capability(pdev, 0, id);
}
/* "network", "bridge", ... for the listing. */
const char *pci_class_name(uint8_t class, uint8_t subclass);
/* One-line description ("00:03.0 1af4:1005 ...") and BARs line. */
int pci_format(const struct pci_dev *pdev, char *buf, size_t size);
int pci_format_bars(const struct pci_dev *pdev, char *buf, size_t size);

#endif
