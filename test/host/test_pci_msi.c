/*
 * Host test for kernel/pci/pci_msi.c: MSI programming (PCI Local Bus 3.0
 * 6.8.1) in all four capability layouts Message Control can announce
 * (32/64-bit address, with/without per-vector masking), which QEMU's edu
 * device (64-bit, no masking) cannot show on its own; the command register
 * (Bus Master, INTx Disable set, and put back as it was); MSI and MSI-X
 * refusing each other; an enable bit that does not stick.
 *
 * The fake function's configuration space keeps read-only what hardware
 * keeps read-only (Message Control's capability bits, and whatever a case
 * marks), and notes a write to the message registers while MSI is enabled:
 * the function could send that half-written message.
 */
#include <errno.h>
#include <string.h>

#include "kernel/irq/irq.h"
#include "kernel/pci/pci.h"
#include "kernel/pci/pci_config.h"
#include "kernel/pci/pci_msi.h"
#include "tap.h"

#define CAP	  0x50
#define MSIX_CAP  0x70
#define SENTINEL  0xa5
#define MSI_ADDR  0xfee00000ull
#define TABLE_LEN (4 * 16)

static uint8_t cfg[256];
static uint8_t ro[256]; /* bit set: read-only */
static unsigned live_writes;
static uint64_t addr_for_msi = MSI_ADDR;
static uint32_t msix_table[TABLE_LEN / 4];

/* ---- what pci_msi.c needs from the rest of the kernel ---- */

uint64_t msi_address(int vector)
{
	return addr_for_msi;
}

uint32_t msi_data(int vector)
{
	return (uint32_t)vector & 0xff;
}

void *ioremap(uint64_t phys, uint64_t size)
{
	(void)phys;
	return size <= sizeof(msix_table) ? msix_table : NULL;
}

static uint32_t rd(unsigned off, unsigned width)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < width; i++)
		v |= (uint32_t)cfg[off + i] << (8 * i);
	return v;
}

static void wr(unsigned off, unsigned width, uint32_t v)
{
	/* A write into the address/data/mask registers while Enable is on. */
	if ((rd(CAP + PCI_MSI_CTRL, 2) & PCI_MSI_CTRL_ENABLE) && off >= CAP + PCI_MSI_ADDR_LO &&
	    off < CAP + 0x18)
		live_writes++;
	for (unsigned i = 0; i < width; i++) {
		uint8_t b = (uint8_t)(v >> (8 * i));
		cfg[off + i] = (uint8_t)((cfg[off + i] & ro[off + i]) | (b & ~ro[off + i]));
	}
}

uint8_t pci_read8(const struct pci_dev *pdev, unsigned off)
{
	return (uint8_t)rd(off, 1);
}
uint16_t pci_read16(const struct pci_dev *pdev, unsigned off)
{
	return (uint16_t)rd(off & ~1u, 2);
}
uint32_t pci_read32(const struct pci_dev *pdev, unsigned off)
{
	return rd(off & ~3u, 4);
}
void pci_write8(const struct pci_dev *pdev, unsigned off, uint8_t v)
{
	wr(off, 1, v);
}
void pci_write16(const struct pci_dev *pdev, unsigned off, uint16_t v)
{
	wr(off & ~1u, 2, v);
}
void pci_write32(const struct pci_dev *pdev, unsigned off, uint32_t v)
{
	wr(off & ~3u, 4, v);
}

void pci_enable(struct pci_dev *pdev, uint16_t bits)
{
	pci_write16(pdev, PCI_COMMAND, pci_read16(pdev, PCI_COMMAND) | bits);
}

/* ---- fixtures ---- */

/* A function with an MSI capability whose Message Control says `ctrl`
 * (capability bits; read-only) and one MSI-X capability (4 entries in
 * BAR0). Everything after the capability header reads SENTINEL until
 * written. */
static struct pci_dev setup(uint16_t ctrl, uint16_t command)
{
	struct pci_dev pdev = {0};

	memset(cfg, 0, sizeof(cfg));
	memset(ro, 0, sizeof(ro));
	memset(cfg + CAP + 4, SENTINEL, 0x14);
	cfg[CAP] = PCI_CAP_ID_MSI;
	cfg[CAP + 1] = MSIX_CAP;
	cfg[CAP + 2] = (uint8_t)ctrl;
	cfg[CAP + 3] = (uint8_t)(ctrl >> 8);
	/* MMC, 64-bit and mask capability bits are the device's to say. */
	ro[CAP + 2] = (uint8_t)(PCI_MSI_CTRL_MMC | PCI_MSI_CTRL_64BIT);
	ro[CAP + 3] = 0xff;
	cfg[MSIX_CAP] = PCI_CAP_ID_MSIX;
	cfg[MSIX_CAP + 2] = 3; /* table size 4 */
	cfg[PCI_COMMAND] = (uint8_t)command;
	cfg[PCI_COMMAND + 1] = (uint8_t)(command >> 8);
	live_writes = 0;
	addr_for_msi = MSI_ADDR;

	pdev.msi_cap = CAP;
	pdev.msix_cap = MSIX_CAP;
	pdev.msix_size = 4;
	pdev.nbars = 6;
	pdev.bar[0] = (struct pci_bar){PCI_BAR_MEM32, false, 0xfe000000, 0x1000};
	return pdev;
}

static uint16_t command(void)
{
	return (uint16_t)rd(PCI_COMMAND, 2);
}

static uint16_t msi_ctrl(void)
{
	return (uint16_t)rd(CAP + PCI_MSI_CTRL, 2);
}

/* ---- cases ---- */

struct layout {
	const char *name;
	uint16_t ctrl;
	unsigned data, mask; /* mask 0: no mask register */
	unsigned end;	     /* first byte past the capability */
};

static const struct layout layouts[] = {
	{"32-bit", 0, PCI_MSI_DATA_32, 0, 0x0c},
	{"64-bit", PCI_MSI_CTRL_64BIT, PCI_MSI_DATA_64, 0, 0x10},
	{"32-bit + mask", PCI_MSI_CTRL_MASKBIT, PCI_MSI_DATA_32, PCI_MSI_MASK_32, 0x14},
	{"64-bit + mask", PCI_MSI_CTRL_64BIT | PCI_MSI_CTRL_MASKBIT, PCI_MSI_DATA_64,
	 PCI_MSI_MASK_64, 0x18},
};

static bool untouched(unsigned from, unsigned to)
{
	for (unsigned i = from; i < to; i++)
		if (cfg[CAP + i] != SENTINEL)
			return false;
	return true;
}

static void test_layout(const struct layout *l)
{
	/* Four messages capable, and a stale Multiple Message Enable of 4
	 * left by someone: we enable exactly one. */
	struct pci_dev pdev = setup(l->ctrl | (2u << 1) | (2u << 4), PCI_COMMAND_MEMORY);
	bool is64 = l->ctrl & PCI_MSI_CTRL_64BIT;
	int err;

	if (l->mask)
		wr(CAP + l->mask, 4, 0x0000000fu); /* all four masked */
	err = pci_msi_enable(&pdev, 0x41);
	CHECK(err == 0 && pdev.msi_enabled && pdev.msi_vector == 0x41, "%s: enable returns 0 (%d)",
	      l->name, err);
	CHECK(rd(CAP + PCI_MSI_ADDR_LO, 4) == (uint32_t)MSI_ADDR, "%s: address low 0x%08x", l->name,
	      rd(CAP + PCI_MSI_ADDR_LO, 4));
	if (is64)
		CHECK(rd(CAP + PCI_MSI_ADDR_HI, 4) == 0, "%s: address high 0x%08x", l->name,
		      rd(CAP + PCI_MSI_ADDR_HI, 4));
	CHECK(rd(CAP + l->data, 2) == 0x41, "%s: data register at +0x%02x holds 0x%04x", l->name,
	      l->data, rd(CAP + l->data, 2));
	/* The 16 bits after the data are reserved (or the extended data). */
	CHECK(rd(CAP + l->data + 2, 2) == (SENTINEL | SENTINEL << 8),
	      "%s: the reserved half after the data is left alone", l->name);
	if (l->mask)
		CHECK(rd(CAP + l->mask, 4) == 0x0000000eu,
		      "%s: mask register at +0x%02x: message 0 unmasked, others kept (0x%08x)",
		      l->name, l->mask, rd(CAP + l->mask, 4));
	CHECK(untouched(l->end, 0x18), "%s: nothing written past the capability (+0x%02x)", l->name,
	      l->end);
	CHECK((msi_ctrl() & PCI_MSI_CTRL_ENABLE) && !(msi_ctrl() & PCI_MSI_CTRL_MME),
	      "%s: Message Control 0x%04x: enabled, Multiple Message Enable 0", l->name,
	      msi_ctrl());
	CHECK(command() == (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE),
	      "%s: command 0x%04x: Bus Master and INTx Disable added", l->name, command());
	CHECK(live_writes == 0, "%s: no message register written while enabled", l->name);

	/* Re-target the live message: disabled around the rewrite. */
	err = pci_msi_enable(&pdev, 0x42);
	CHECK(err == 0 && rd(CAP + l->data, 2) == 0x42 && (msi_ctrl() & PCI_MSI_CTRL_ENABLE) &&
		      live_writes == 0,
	      "%s: re-target to 0x42 (data 0x%04x, %u writes while enabled)", l->name,
	      rd(CAP + l->data, 2), live_writes);

	pci_msi_disable(&pdev);
	CHECK(!(msi_ctrl() & PCI_MSI_CTRL_ENABLE) && !pdev.msi_enabled && pdev.msi_vector == 0,
	      "%s: disable clears Enable (0x%04x)", l->name, msi_ctrl());
	CHECK(command() == (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER),
	      "%s: disable puts INTx Disable back off (command 0x%04x)", l->name, command());
	if (l->mask)
		CHECK(rd(CAP + l->mask, 4) == 0x0000000fu, "%s: disable masks message 0 (0x%08x)",
		      l->name, rd(CAP + l->mask, 4));
}

static void test_intx_disable_restored(void)
{
	struct pci_dev pdev = setup(PCI_MSI_CTRL_64BIT, PCI_COMMAND_INTX_DISABLE);
	uint16_t cmd;
	int err;

	pci_msi_enable(&pdev, 0x41);
	pci_msi_disable(&pdev);
	CHECK(command() & PCI_COMMAND_INTX_DISABLE,
	      "INTx Disable that was on before MSI stays on after (command 0x%04x)", command());

	pdev = setup(PCI_MSI_CTRL_64BIT, 0);
	err = pci_msix_enable(&pdev);
	cmd = command();
	CHECK(err == 0 && (cmd & PCI_COMMAND_INTX_DISABLE) && (cmd & PCI_COMMAND_MASTER),
	      "MSI-X: enabled (%d), Bus Master and INTx Disable on (command 0x%04x)", err, cmd);
	pci_msix_disable(&pdev);
	CHECK(!(command() & PCI_COMMAND_INTX_DISABLE) && !pdev.msix_enabled,
	      "MSI-X: disable puts INTx Disable back off (command 0x%04x)", command());

	pdev = setup(PCI_MSI_CTRL_64BIT, PCI_COMMAND_INTX_DISABLE);
	pci_msix_enable(&pdev);
	pci_msix_disable(&pdev);
	CHECK(command() & PCI_COMMAND_INTX_DISABLE,
	      "MSI-X: INTx Disable that was on before stays on (command 0x%04x)", command());
}

static void test_refusals(void)
{
	struct pci_dev pdev = setup(PCI_MSI_CTRL_64BIT, 0);
	int err;

	CHECK(pci_msix_enable(&pdev) == 0, "MSI-X enabled");
	err = pci_msi_enable(&pdev, 0x41);
	CHECK(err == -EBUSY && !(msi_ctrl() & PCI_MSI_CTRL_ENABLE) && untouched(4, 0x18),
	      "MSI while MSI-X is on: -EBUSY (%d), nothing written", err);
	pci_msix_disable(&pdev);

	CHECK(pci_msi_enable(&pdev, 0x41) == 0, "MSI enabled");
	err = pci_msix_enable(&pdev);
	CHECK(err == -EBUSY && !pdev.msix_enabled, "MSI-X while MSI is on: -EBUSY (%d)", err);
	pci_msi_disable(&pdev);

	pdev = setup(PCI_MSI_CTRL_64BIT, 0);
	pdev.msi_cap = 0;
	CHECK(pci_msi_enable(&pdev, 0x41) == -ENODEV, "no MSI capability: -ENODEV");
	pdev.msi_cap = CAP;
	CHECK(pci_msi_enable(&pdev, 0x10) == -EINVAL && pci_msi_enable(&pdev, 0x100) == -EINVAL,
	      "vectors below 0x20 or above 0xff: -EINVAL");

	/* A 32-bit-only function cannot hold an address above 4 GiB. */
	pdev = setup(0, 0);
	addr_for_msi = 0x100000000ull | MSI_ADDR;
	err = pci_msi_enable(&pdev, 0x41);
	CHECK(err == -EINVAL && !(msi_ctrl() & PCI_MSI_CTRL_ENABLE) && command() == 0,
	      "32-bit function, 64-bit address: -EINVAL (%d), nothing enabled", err);

	/* Enable that does not stick: an error, and INTx as it was. */
	pdev = setup(PCI_MSI_CTRL_64BIT, 0);
	ro[CAP + 2] |= PCI_MSI_CTRL_ENABLE;
	err = pci_msi_enable(&pdev, 0x41);
	CHECK(err == -EIO && !pdev.msi_enabled && !(command() & PCI_COMMAND_INTX_DISABLE),
	      "Enable that reads back 0: -EIO (%d), INTx Disable back off (command 0x%04x)", err,
	      command());
	pci_msi_disable(&pdev); /* not enabled: a no-op */
	CHECK(!(command() & PCI_COMMAND_INTX_DISABLE), "disable after a failed enable is harmless");
}

int main(void)
{
	for (unsigned i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		test_layout(&layouts[i]);
	test_intx_disable_restored();
	test_refusals();
	return tap_done();
}
