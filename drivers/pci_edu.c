/*
 * QEMU's `edu` teaching device (PCI 1234:11e8, QEMU docs/specs/edu.rst,
 * formerly edu.txt): this driver exists to exercise the PCI interrupt
 * paths, plain MSI (PCI 3.0 6.8.1, kernel/pci/pci_msi.c) and INTx through the
 * IOAPIC, with a device whose interrupts can be raised on demand. Nothing
 * else in the kernel needs the device; without one the driver simply does
 * not bind.
 *
 * The contract (edu.rst, "IRQ controller"): a write to the raise register
 * ORs the value into the interrupt status and, when the status is non-zero,
 * sends one MSI if MSI is enabled, else asserts INTx (level) until the
 * status is acknowledged back to zero. Either way the handler must
 * acknowledge what it saw. The factorial unit raises status bit 0x01 when a
 * computation ends, if asked to (status register bit 0x80).
 *
 * Both handlers stay attached in both modes: the MSI vector and the INTx
 * line (level-triggered, shared: it may be another function's too). So an
 * interrupt on the path not in use is counted, not lost; that is what lets
 * test=msi show INTx stays quiet while MSI is on. The `edu` command is in
 * pci_edu_shell.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/irqflags.h"
#include "drivers/pci_edu.h"
#include "kernel/irq/irq.h"
#include "kernel/lib/init.h"
#include "kernel/lib/log.h"
#include "kernel/pci/pci_bus.h"
#include "kernel/pci/pci_config.h"
#include "kernel/pci/pci_msi.h"
#include "kernel/time/timer.h"

static struct edu_dev *edus[EDU_MAX_DEVICES];
static unsigned nedus;

unsigned edu_count(void)
{
	return nedus;
}

struct edu_dev *edu_get(unsigned i)
{
	return i < nedus ? edus[i] : NULL;
}

const char *edu_irq_mode_name(enum edu_irq_mode mode)
{
	switch (mode) {
	case EDU_IRQ_MSI:
		return "msi";
	case EDU_IRQ_INTX:
		return "intx";
	default:
		return "none";
	}
}

/* ---- Interrupt handlers (interrupt context) ---------------------------- */

static void edu_record(struct edu_dev *edu, enum edu_irq_mode via, uint32_t status)
{
	unsigned n = edu->nlog;

	if (n < EDU_LOG_SIZE)
		edu->log[n] = (struct edu_irq_record){status, via};
	edu->nlog = n + 1;
}

/* The vector is ours alone: every call is this device's message. The
 * device keeps its status bits after an MSI too, until acknowledged. */
static void edu_msi_interrupt(void *ctx)
{
	struct edu_dev *edu = ctx;
	uint32_t status = edu_read(edu, EDU_REG_IRQ_STATUS);

	edu->msi_irqs++;
	edu_record(edu, EDU_IRQ_MSI, status);
	if (status)
		edu_write(edu, EDU_REG_IRQ_ACK, status);
}

/* A shared level line: no status bits means another device raised it.
 * Acknowledging lowers our INTx before irq_dispatch() sends the EOI, so
 * the IOAPIC does not deliver the same assertion twice. */
static void edu_intx_interrupt(void *ctx)
{
	struct edu_dev *edu = ctx;
	uint32_t status = edu_read(edu, EDU_REG_IRQ_STATUS);

	if (!status) {
		edu->intx_other++;
		return;
	}
	edu->intx_irqs++;
	edu_record(edu, EDU_IRQ_INTX, status);
	edu_write(edu, EDU_REG_IRQ_ACK, status);
}

/* ---- Operations -------------------------------------------------------- */

static void edu_update_note(struct edu_dev *edu)
{
	snprintf(edu->note, sizeof(edu->note), "v%u.%u, %s", (unsigned)(edu->id >> 24),
		 (unsigned)(edu->id >> 16) & 0xff, edu_irq_mode_name(edu->mode));
}

int edu_set_irq_mode(struct edu_dev *edu, enum edu_irq_mode mode)
{
	struct pci_dev *pdev = edu->pdev;
	unsigned long flags;
	int err = 0;

	if ((mode == EDU_IRQ_MSI && !edu->msi_vector) ||
	    (mode == EDU_IRQ_INTX && !edu->intx_vector) || mode == EDU_IRQ_NONE)
		return -ENODEV;
	/* Interrupts off, and nothing left raised: the switch must not
	 * leave a status bit behind that the other path then reports. */
	flags = irq_save();
	edu_write(edu, EDU_REG_IRQ_ACK, 0xffffffffu);
	if (mode == EDU_IRQ_MSI) {
		err = pci_msi_enable(pdev, edu->msi_vector);
	} else {
		pci_msi_disable(pdev);
		pci_write16(pdev, PCI_COMMAND,
			    pci_read16(pdev, PCI_COMMAND) & ~PCI_COMMAND_INTX_DISABLE);
	}
	if (!err)
		edu->mode = mode;
	irq_restore(flags);
	edu_update_note(edu);
	return err;
}

void edu_clear_log(struct edu_dev *edu)
{
	unsigned long flags = irq_save();

	edu->nlog = 0;
	irq_restore(flags);
}

/* Sleep until a handler has taken more than `before` records; the timer
 * tick wakes the hlt, which is what bounds the wait. Interrupts off. */
static int edu_wait_record(struct edu_dev *edu, unsigned before, uint64_t timeout_ns)
{
	uint64_t start = time_ns();

	while (edu->nlog == before) {
		if (time_ns() - start > timeout_ns)
			return -ETIMEDOUT;
		wait_for_interrupt();
	}
	return 0;
}

int edu_raise_wait(struct edu_dev *edu, uint32_t bits, uint64_t timeout_ns)
{
	unsigned long flags = irq_save();
	unsigned before = edu->nlog;
	int err;

	edu_write(edu, EDU_REG_IRQ_RAISE, bits);
	err = edu_wait_record(edu, before, timeout_ns);
	irq_restore(flags);
	return err;
}

int edu_factorial(struct edu_dev *edu, uint32_t n, uint32_t *result, uint64_t timeout_ns)
{
	unsigned long flags;
	unsigned before;
	int err;

	/* edu.rst: a write while computing is ignored. */
	if (edu_read(edu, EDU_REG_STATUS) & EDU_STATUS_COMPUTING)
		return -EBUSY;
	flags = irq_save();
	before = edu->nlog;
	edu_write(edu, EDU_REG_STATUS, EDU_STATUS_IRQ_FACT);
	edu_write(edu, EDU_REG_FACTORIAL, n);
	err = edu_wait_record(edu, before, timeout_ns);
	irq_restore(flags);
	edu_write(edu, EDU_REG_STATUS, 0);
	if (err)
		return err;
	/* The device clears COMPUTING before it raises the interrupt. */
	if (edu_read(edu, EDU_REG_STATUS) & EDU_STATUS_COMPUTING)
		return -EIO;
	*result = edu_read(edu, EDU_REG_FACTORIAL);
	return 0;
}

/* ---- Binding ----------------------------------------------------------- */

static bool edu_match(const struct pci_dev *pdev)
{
	return pdev->vendor == EDU_VENDOR && pdev->device == EDU_DEVICE;
}

static void edu_free_irqs(struct edu_dev *edu)
{
	if (edu->msi_vector > 0)
		free_msi_vector(edu->msi_vector);
	if (edu->intx_vector > 0)
		free_irq(edu->gsi, edu_intx_interrupt, edu);
	edu->msi_vector = edu->intx_vector = 0;
}

static int edu_probe(struct pci_dev *pdev)
{
	struct edu_dev *edu;
	volatile uint8_t *regs;
	unsigned gsi, flags;
	uint32_t id, live;
	char name[13];
	int v;

	pci_name(pdev, name);
	if (nedus == EDU_MAX_DEVICES) {
		pr_warn("edu %s: only %u edu devices are driven; left alone\n", name,
			EDU_MAX_DEVICES);
		return -ENOSPC;
	}
	regs = pci_map_bar(pdev, 0);
	if (!regs) {
		pr_err("edu %s: BAR0 is not an assigned memory BAR; left alone\n", name);
		return -ENODEV;
	}
	pci_enable(pdev, PCI_COMMAND_MEMORY);
	id = mmio_read32(regs + EDU_REG_ID);
	if ((id & EDU_ID_MAGIC_MASK) != EDU_ID_MAGIC) {
		pr_err("edu %s: identification register reads 0x%08x, expected 0xRRrr00ed; left "
		       "alone\n",
		       name, (unsigned)id);
		return -ENODEV;
	}
	mmio_write32(regs + EDU_REG_LIVENESS, 0x5a5aa5a5u);
	live = mmio_read32(regs + EDU_REG_LIVENESS);
	if (live != ~0x5a5aa5a5u) {
		pr_err("edu %s: liveness register reads 0x%08x after 0x5a5aa5a5, expected the "
		       "inverse 0x%08x; left alone\n",
		       name, (unsigned)live, (unsigned)~0x5a5aa5a5u);
		return -ENODEV;
	}

	edu = calloc(1, sizeof(*edu));
	if (!edu)
		return -ENOMEM;
	edu->pdev = pdev;
	edu->regs = regs;
	edu->id = id;
	memcpy(edu->name, name, sizeof(edu->name));
	snprintf(edu->msi_name, sizeof(edu->msi_name), "edu %s msi", name);
	snprintf(edu->intx_name, sizeof(edu->intx_name), "edu %s intx", name);
	/* Nothing raised from an earlier life before a handler is attached. */
	edu_write(edu, EDU_REG_IRQ_ACK, 0xffffffffu);

	if (pdev->msi_cap) {
		v = request_msi_vector(edu_msi_interrupt, edu, edu->msi_name);
		if (v > 0)
			edu->msi_vector = v;
		else
			pr_err("edu %s: no MSI vector (%d)\n", name, v);
	}
	if (pci_intx_gsi(pdev, &gsi, &flags) == 0) {
		v = request_irq(gsi, flags, edu_intx_interrupt, edu, edu->intx_name);
		if (v > 0) {
			edu->intx_vector = v;
			edu->gsi = gsi;
		} else {
			pr_err("edu %s: INTx GSI %u unusable (%d)\n", name, gsi, v);
		}
	}
	/* MSI when it works, INTx otherwise. */
	if (!edu->msi_vector || edu_set_irq_mode(edu, EDU_IRQ_MSI) != 0) {
		if (!edu->intx_vector || edu_set_irq_mode(edu, EDU_IRQ_INTX) != 0) {
			pr_err("edu %s: neither MSI nor INTx usable (MSI capability at 0x%02x, "
			       "pin %u line %u); left alone\n",
			       name, pdev->msi_cap, pdev->irq_pin, pdev->irq_line);
			edu_free_irqs(edu);
			free(edu);
			return -ENODEV;
		}
	}
	edus[nedus++] = edu;
	pdev->driver_note = edu->note;
	pr_info("edu %s: version %u.%u, interrupts by %s (MSI vector 0x%02x, INTx GSI %d)\n", name,
		(unsigned)(id >> 24), (unsigned)(id >> 16) & 0xff, edu_irq_mode_name(edu->mode),
		edu->msi_vector, edu->intx_vector ? (int)edu->gsi : -1);
	return 0;
}

static struct pci_driver edu_driver = {
	.name = "edu",
	.match = edu_match,
	.probe = edu_probe,
};

static void edu_init(void)
{
	pci_register_driver(&edu_driver);
}
INITCALL(edu_init);
