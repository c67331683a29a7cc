/*
 * The PCI bus (kernel/pci/pci_bus.c): the functions the scan found, the
 * driver registry, and what a driver asks of its function's resources.
 */
#ifndef KERNEL_PCI_PCI_BUS_H
#define KERNEL_PCI_PCI_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/pci/pci.h"

/* Maps a memory BAR (ioremap); NULL for an I/O or unassigned BAR. */
volatile void *pci_map_bar(struct pci_dev *pdev, unsigned i);
/* Registers a driver and probes it on every unbound function; functions
 * found later (none: the scan runs once) would be offered too. */
int pci_register_driver(struct pci_driver *drv);
/* Iterate over the functions found (NULL starts). */
struct pci_dev *pci_next(struct pci_dev *prev);
unsigned pci_count(void);
/* "00:03.0" into buf (at least 13 bytes); returns buf. */
const char *pci_name(const struct pci_dev *pdev, char *buf);
/* The GSI the function's INTx pin reaches through the IOAPIC, as the
 * firmware routed it (interrupt line register, ACPI MADT overrides), and
 * the request_irq() flags for it (level, polarity, shared). 0, or -ENODEV
 * when the function has no pin or the firmware did not connect it. */
int pci_intx_gsi(const struct pci_dev *pdev, unsigned *gsi, unsigned *flags);

#endif
