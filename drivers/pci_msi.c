/*
 * Message-signalled interrupts (PCI Local Bus 3.0 section 6.8): instead of
 * pulling a shared interrupt pin, the function writes `data` to `address`,
 * which on x86 is the local APIC's message window (Intel SDM vol. 3
 * 11.11); kernel/irq.h gives both for a vector it allocated.
 *
 *  - MSI (6.8.1): the address and data live in the capability itself;
 *    one message here (virtio does not use MSI; other devices may).
 *  - MSI-X (6.8.2): a table in a memory BAR with one 16-byte entry per
 *    vector (address low, address high, data, vector control whose bit 0
 *    masks it) and a pending-bit array. Each entry is masked until it has
 *    been programmed, so the device can never write a half-set address.
 */
#include <errno.h>

#include "arch/x86_64/io.h"
#include "drivers/pci.h"
#include "kernel/irq.h"
#include "kernel/log.h"
#include "kernel/mm.h"

/* MSI-X capability layout. */
#define MSIX_CTRL	    2
#define MSIX_CTRL_ENABLE    (1u << 15)
#define MSIX_CTRL_FUNC_MASK (1u << 14)
#define MSIX_TABLE	    4 /* BIR in bits 2:0, offset in the rest */
#define MSIX_ENTRY_SIZE	    16
#define MSIX_ENTRY_ADDR_LO  0
#define MSIX_ENTRY_ADDR_HI  4
#define MSIX_ENTRY_DATA	    8
#define MSIX_ENTRY_CTRL	    12
#define MSIX_ENTRY_MASKED   1u

/* MSI capability layout. */
#define MSI_CTRL	  2
#define MSI_CTRL_ENABLE	  (1u << 0)
#define MSI_CTRL_MME_MASK (7u << 4) /* multiple message enable */
#define MSI_CTRL_64BIT	  (1u << 7)
#define MSI_CTRL_MASKBIT  (1u << 8)
#define MSI_ADDR_LO	  4
#define MSI_ADDR_HI	  8 /* 64-bit capable functions only */

static volatile uint8_t *msix_entry(struct pci_dev *pdev, unsigned entry)
{
	return pdev->msix_table + (size_t)entry * MSIX_ENTRY_SIZE;
}

int pci_msix_enable(struct pci_dev *pdev)
{
	uint32_t table;
	unsigned bir;
	uint64_t off, len;
	uint16_t ctrl;

	if (!pdev->msix_cap)
		return -ENODEV;
	if (pdev->msix_enabled)
		return 0;
	table = pci_read32(pdev, pdev->msix_cap + MSIX_TABLE);
	bir = table & 7;
	off = table & ~7u;
	len = (uint64_t)pdev->msix_size * MSIX_ENTRY_SIZE;
	/* The table must lie inside a memory BAR the firmware assigned. */
	if (bir >= pdev->nbars ||
	    (pdev->bar[bir].type != PCI_BAR_MEM32 && pdev->bar[bir].type != PCI_BAR_MEM64) ||
	    !pdev->bar[bir].addr || off + len > pdev->bar[bir].size) {
		pr_err("pci %02x:%02x.%x: MSI-X table BIR %u offset 0x%llx (%u entries) is not "
		       "inside an assigned memory BAR\n",
		       pdev->bus, pdev->dev, pdev->fn, bir, (unsigned long long)off,
		       pdev->msix_size);
		return -EINVAL;
	}
	pdev->msix_table = ioremap(pdev->bar[bir].addr + off, len);
	if (!pdev->msix_table)
		return -ENOMEM;
	pci_enable(pdev, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);

	/* Enable with the whole function masked, mask every entry, then lift
	 * the function mask: no entry can fire before it is programmed. */
	ctrl = pci_read16(pdev, pdev->msix_cap + MSIX_CTRL);
	pci_write16(pdev, pdev->msix_cap + MSIX_CTRL,
		    ctrl | MSIX_CTRL_ENABLE | MSIX_CTRL_FUNC_MASK);
	for (unsigned i = 0; i < pdev->msix_size; i++)
		mmio_write32(msix_entry(pdev, i) + MSIX_ENTRY_CTRL, MSIX_ENTRY_MASKED);
	pci_write16(pdev, pdev->msix_cap + MSIX_CTRL,
		    (ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_FUNC_MASK);
	/* While MSI-X is on the function must not also assert INTx. */
	pci_enable(pdev, PCI_COMMAND_INTX_DISABLE);
	pdev->msix_enabled = true;
	return 0;
}

void pci_msix_disable(struct pci_dev *pdev)
{
	uint16_t ctrl;

	if (!pdev->msix_enabled)
		return;
	for (unsigned i = 0; i < pdev->msix_size; i++)
		pci_msix_mask(pdev, i, true);
	ctrl = pci_read16(pdev, pdev->msix_cap + MSIX_CTRL);
	pci_write16(pdev, pdev->msix_cap + MSIX_CTRL, ctrl & ~MSIX_CTRL_ENABLE);
	pci_write16(pdev, PCI_COMMAND, pci_read16(pdev, PCI_COMMAND) & ~PCI_COMMAND_INTX_DISABLE);
	pdev->msix_enabled = false;
}

int pci_msix_set_vector(struct pci_dev *pdev, unsigned entry, int vector)
{
	volatile uint8_t *e;
	uint64_t addr = msi_address();

	if (!pdev->msix_enabled || entry >= pdev->msix_size)
		return -EINVAL;
	e = msix_entry(pdev, entry);
	mmio_write32(e + MSIX_ENTRY_CTRL, MSIX_ENTRY_MASKED);
	mmio_write32(e + MSIX_ENTRY_ADDR_LO, (uint32_t)addr);
	mmio_write32(e + MSIX_ENTRY_ADDR_HI, (uint32_t)(addr >> 32));
	mmio_write32(e + MSIX_ENTRY_DATA, msi_data(vector));
	mmio_write32(e + MSIX_ENTRY_CTRL, 0);
	return 0;
}

void pci_msix_mask(struct pci_dev *pdev, unsigned entry, bool masked)
{
	if (!pdev->msix_enabled || entry >= pdev->msix_size)
		return;
	mmio_write32(msix_entry(pdev, entry) + MSIX_ENTRY_CTRL, masked ? MSIX_ENTRY_MASKED : 0);
}

int pci_msi_enable(struct pci_dev *pdev, int vector)
{
	unsigned cap = pdev->msi_cap;
	uint64_t addr = msi_address();
	uint16_t ctrl;

	if (!cap)
		return -ENODEV;
	ctrl = pci_read16(pdev, cap + MSI_CTRL);
	pci_write32(pdev, cap + MSI_ADDR_LO, (uint32_t)addr);
	if (ctrl & MSI_CTRL_64BIT) {
		pci_write32(pdev, cap + MSI_ADDR_HI, (uint32_t)(addr >> 32));
		pci_write16(pdev, cap + 12, (uint16_t)msi_data(vector));
	} else {
		pci_write16(pdev, cap + 8, (uint16_t)msi_data(vector));
	}
	/* Per-vector masking: the mask bits follow the data (+ padding). */
	if (ctrl & MSI_CTRL_MASKBIT)
		pci_write32(pdev, cap + ((ctrl & MSI_CTRL_64BIT) ? 16 : 12), 0);
	pci_enable(pdev, PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	/* One message: Multiple Message Enable = 0. */
	pci_write16(pdev, cap + MSI_CTRL, (ctrl & ~MSI_CTRL_MME_MASK) | MSI_CTRL_ENABLE);
	pdev->msi_enabled = true;
	pdev->msi_vector = vector;
	return 0;
}

void pci_msi_disable(struct pci_dev *pdev)
{
	uint16_t ctrl;

	if (!pdev->msi_enabled)
		return;
	ctrl = pci_read16(pdev, pdev->msi_cap + MSI_CTRL);
	pci_write16(pdev, pdev->msi_cap + MSI_CTRL, ctrl & ~MSI_CTRL_ENABLE);
	pci_write16(pdev, PCI_COMMAND, pci_read16(pdev, PCI_COMMAND) & ~PCI_COMMAND_INTX_DISABLE);
	pdev->msi_enabled = false;
}
