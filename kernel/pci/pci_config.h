/*
 * PCI configuration space access (kernel/pci/pci_config.c; the host tests
 * provide their own over recorded images). `off` is within 0..4095; the
 * ports reach only the first 256 bytes of segment 0, ECAM all of it.
 */
#ifndef KERNEL_PCI_PCI_CONFIG_H
#define KERNEL_PCI_PCI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/pci/pci.h"

uint8_t pci_read8(const struct pci_dev *pdev, unsigned off);
uint16_t pci_read16(const struct pci_dev *pdev, unsigned off);
uint32_t pci_read32(const struct pci_dev *pdev, unsigned off);
void pci_write8(const struct pci_dev *pdev, unsigned off, uint8_t v);
void pci_write16(const struct pci_dev *pdev, unsigned off, uint16_t v);
void pci_write32(const struct pci_dev *pdev, unsigned off, uint32_t v);

/* Maps the ECAM windows the ACPI MCFG describes (before the scan). */
void pci_config_init(void);
/* Whether any bus is reached through ECAM (else ports 0xCF8/0xCFC). */
bool pci_config_uses_ecam(void);

/* Sets the bits in the command register (PCI_COMMAND_MEMORY, ...). */
void pci_enable(struct pci_dev *pdev, uint16_t command_bits);

#endif
