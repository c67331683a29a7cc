/*
 * Message-signalled interrupts (kernel/pci/pci_msi.c): MSI-X (PCI 3.0 6.8.2)
 * and MSI (6.8.1) programming of one function.
 */
#ifndef KERNEL_PCI_PCI_MSI_H
#define KERNEL_PCI_PCI_MSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/pci/pci.h"

#define PCI_MSIX_MAX_VECTORS 64
/* Enables MSI-X with every table entry masked; the function no longer
 * uses INTx. 0 or a negative errno (-ENODEV without the capability,
 * -EBUSY while MSI is on). pci_msix_disable() puts INTx Disable back. */
int pci_msix_enable(struct pci_dev *pdev);
void pci_msix_disable(struct pci_dev *pdev);
/* Points table entry `entry` at CPU `vector` (from request_msi_vector) and
 * unmasks it. 0 or -EINVAL for an entry past the table. */
int pci_msix_set_vector(struct pci_dev *pdev, unsigned entry, int vector);
void pci_msix_mask(struct pci_dev *pdev, unsigned entry, bool masked);
/* Enables MSI with one message (Multiple Message Enable = 0) delivered as
 * CPU `vector`, turns on bus mastering (the message is a memory write) and
 * INTx Disable. 0, -ENODEV without the capability, -EBUSY while MSI-X is
 * on, -EINVAL for a vector outside 0x20-0xff or an address the function
 * cannot hold, -EIO if the enable bit does not stick. */
int pci_msi_enable(struct pci_dev *pdev, int vector);
/* Turns MSI off (masking the message where the function can) and puts the
 * INTx Disable bit back as it was before pci_msi_enable(). */
void pci_msi_disable(struct pci_dev *pdev);

#endif
