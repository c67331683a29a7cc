/*
 * Message-signalled interrupts (PCI Local Bus 3.0 section 6.8): instead of
 * pulling a shared interrupt pin, the function writes `data` to `address`,
 * which on x86 is the local APIC's message window (Intel SDM vol. 3
 * 11.11); kernel/irq/irq.h gives both for a vector it allocated.
 *
 *  - MSI (6.8.1): the address and data live in the capability itself,
 *    whose layout depends on two read-only Message Control bits: bit 7
 *    (64-bit address capable) adds an upper address dword, moving the data
 *    from 0x08 to 0x0c; bit 8 (per-vector masking) adds a mask and a
 *    pending dword after the data (at 0x0c/0x10 or 0x10/0x14). One message
 *    here: Multiple Message Enable stays 0. drivers/pci_edu.c is the user
 *    that proves it (virtio uses MSI-X).
 *  - MSI-X (6.8.2): a table in a memory BAR with one 16-byte entry per
 *    vector (address low, address high, data, vector control whose bit 0
 *    masks it) and a pending-bit array. Each entry is masked until it has
 *    been programmed, so the device can never write a half-set address.
 *
 * Either way the message is a memory write the function issues, so Bus
 * Master must be on; INTx Disable (command register bit 10) is set while
 * either is on and put back as it was afterwards. A function may offer
 * both capabilities, but software must not enable both at once (6.8), so
 * each refuses while the other is on.
 */
#include <errno.h>

#include "arch/x86_64/io.h"
#include "arch/x86_64/paging.h"
#include "kernel/irq/irq.h"
#include "kernel/lib/log.h"
#include "kernel/mm/page_alloc.h"
#include "kernel/pci/pci.h"
#include "kernel/pci/pci_config.h"
#include "kernel/pci/pci_msi.h"

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

/* INTx Disable on, remembering how it was; MSI or MSI-X is being enabled
 * and neither was on. */
static void intx_disable(struct pci_dev *pdev)
{
	uint16_t cmd = pci_read16(pdev, PCI_COMMAND);

	pdev->intx_disable_saved = (cmd & PCI_COMMAND_INTX_DISABLE) != 0;
	if (!(cmd & PCI_COMMAND_INTX_DISABLE))
		pci_write16(pdev, PCI_COMMAND, cmd | PCI_COMMAND_INTX_DISABLE);
}

/* Put INTx Disable back as intx_disable() found it. */
static void intx_restore(struct pci_dev *pdev)
{
	uint16_t cmd = pci_read16(pdev, PCI_COMMAND);
	uint16_t want = pdev->intx_disable_saved ? cmd | PCI_COMMAND_INTX_DISABLE
						 : cmd & ~PCI_COMMAND_INTX_DISABLE;

	if (want != cmd)
		pci_write16(pdev, PCI_COMMAND, want);
}

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
	if (pdev->msi_enabled) {
		pr_err("pci %02x:%02x.%x: MSI-X asked for while MSI is on; the two are exclusive\n",
		       pdev->bus, pdev->dev, pdev->fn);
		return -EBUSY;
	}
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
	intx_disable(pdev);
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
	intx_restore(pdev);
	pdev->msix_enabled = false;
}

int pci_msix_set_vector(struct pci_dev *pdev, unsigned entry, int vector)
{
	volatile uint8_t *e;
	uint64_t addr = msi_address(vector);

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
	uint64_t addr = msi_address(vector);
	uint16_t ctrl;
	bool is64;

	if (!cap)
		return -ENODEV;
	if (vector < 0x20 || vector > 0xff)
		return -EINVAL;
	if (pdev->msix_enabled) {
		pr_err("pci %02x:%02x.%x: MSI asked for while MSI-X is on; the two are exclusive\n",
		       pdev->bus, pdev->dev, pdev->fn);
		return -EBUSY;
	}
	ctrl = pci_read16(pdev, cap + PCI_MSI_CTRL);
	is64 = (ctrl & PCI_MSI_CTRL_64BIT) != 0;
	if (!is64 && (addr >> 32)) {
		pr_err("pci %02x:%02x.%x: MSI address 0x%llx does not fit the function's 32-bit "
		       "address register\n",
		       pdev->bus, pdev->dev, pdev->fn, (unsigned long long)addr);
		return -EINVAL;
	}
	/* Off while the message changes (re-targeting a live MSI): the
	 * function must never send a half-written address/data pair. */
	if (ctrl & PCI_MSI_CTRL_ENABLE)
		pci_write16(pdev, cap + PCI_MSI_CTRL, ctrl & ~PCI_MSI_CTRL_ENABLE);
	pci_write32(pdev, cap + PCI_MSI_ADDR_LO, (uint32_t)addr);
	if (is64)
		pci_write32(pdev, cap + PCI_MSI_ADDR_HI, (uint32_t)(addr >> 32));
	pci_write16(pdev, cap + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32),
		    (uint16_t)msi_data(vector));
	/* Per-vector masking: unmask message 0, the only one we enable;
	 * the bits of messages never enabled are left as they are. */
	if (ctrl & PCI_MSI_CTRL_MASKBIT) {
		unsigned mask = cap + (is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
		pci_write32(pdev, mask, pci_read32(pdev, mask) & ~1u);
	}
	pci_enable(pdev, PCI_COMMAND_MASTER);
	if (!pdev->msi_enabled)
		intx_disable(pdev);
	/* One message: Multiple Message Enable = 0 (2^0 vectors). */
	pci_write16(pdev, cap + PCI_MSI_CTRL, (ctrl & ~PCI_MSI_CTRL_MME) | PCI_MSI_CTRL_ENABLE);
	if (!(pci_read16(pdev, cap + PCI_MSI_CTRL) & PCI_MSI_CTRL_ENABLE)) {
		pr_err("pci %02x:%02x.%x: MSI Enable does not stick (Message Control reads "
		       "0x%04x)\n",
		       pdev->bus, pdev->dev, pdev->fn, pci_read16(pdev, cap + PCI_MSI_CTRL));
		intx_restore(pdev);
		pdev->msi_enabled = false;
		pdev->msi_vector = 0;
		return -EIO;
	}
	pdev->msi_enabled = true;
	pdev->msi_vector = vector;
	return 0;
}

void pci_msi_disable(struct pci_dev *pdev)
{
	unsigned cap = pdev->msi_cap;
	uint16_t ctrl;

	if (!pdev->msi_enabled)
		return;
	ctrl = pci_read16(pdev, cap + PCI_MSI_CTRL);
	pci_write16(pdev, cap + PCI_MSI_CTRL, ctrl & ~PCI_MSI_CTRL_ENABLE);
	if (ctrl & PCI_MSI_CTRL_MASKBIT) {
		unsigned mask =
			cap + ((ctrl & PCI_MSI_CTRL_64BIT) ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
		pci_write32(pdev, mask, pci_read32(pdev, mask) | 1u);
	}
	intx_restore(pdev);
	pdev->msi_enabled = false;
	pdev->msi_vector = 0;
}
