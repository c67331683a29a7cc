/*
 * A driver for QEMU's `edu` teaching device (PCI 1234:11e8; QEMU
 * docs/specs/edu.rst, formerly edu.txt). It exists to exercise the PCI interrupt paths with a
 * device whose interrupts can be raised on demand: writing the raise
 * register sets bits in the device's interrupt status and sends an MSI when
 * MSI is enabled, else asserts INTx until the bits are acknowledged. The
 * self-test `test=msi` (test/kernel/msi_selftest.c) and the shell's `edu` command
 * drive it; nothing else needs the device.
 */
#ifndef DRIVERS_PCI_EDU_H
#define DRIVERS_PCI_EDU_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/io.h"
#include "kernel/pci/pci.h"
#include "kernel/pci/pci_msi.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8

/* BAR0 registers (edu.rst "MMIO area spec"); below 0x80 only 32-bit
 * accesses work. */
#define EDU_REG_ID	   0x00 /* 0xRRrr00ed: major RR, minor rr */
#define EDU_REG_LIVENESS   0x04 /* reads back the inverse of what was written */
#define EDU_REG_FACTORIAL  0x08 /* write n; reads n! once computing ends */
#define EDU_REG_STATUS	   0x20
#define EDU_REG_IRQ_STATUS 0x24 /* bits raised and not yet acknowledged */
#define EDU_REG_IRQ_RAISE  0x60 /* ORs the value into the interrupt status */
#define EDU_REG_IRQ_ACK	   0x64 /* clears the value's bits from it */

#define EDU_ID_MAGIC_MASK      0xffffu
#define EDU_ID_MAGIC	       0x00edu
#define EDU_STATUS_COMPUTING   0x01u /* factorial in progress (read-only) */
#define EDU_STATUS_IRQ_FACT    0x80u /* raise EDU_IRQ_FACT when it ends */
#define EDU_IRQ_FACT	       0x01u /* interrupt status bit: factorial done */
#define EDU_MAX_DEVICES	       2
#define EDU_LOG_SIZE	       32
#define EDU_DEFAULT_TIMEOUT_NS 1000000000ull

enum edu_irq_mode {
	EDU_IRQ_NONE = 0,
	EDU_IRQ_MSI,
	EDU_IRQ_INTX,
};

/* One interrupt the handlers took: the status they found and acknowledged,
 * and the path it came by. */
struct edu_irq_record {
	uint32_t status;
	enum edu_irq_mode via;
};

struct edu_dev {
	struct pci_dev *pdev;
	volatile uint8_t *regs; /* BAR0 */
	char name[13];		/* "00:03.0" */
	uint32_t id;
	enum edu_irq_mode mode;
	int msi_vector;	 /* 0: no MSI capability or no vector */
	int intx_vector; /* 0: no usable INTx line */
	unsigned gsi;	 /* the INTx line's GSI, when intx_vector */

	/* Written by the handlers (interrupt context). Both stay attached
	 * whatever the mode, so an interrupt on the path not in use is
	 * seen, not lost. */
	volatile unsigned msi_irqs;   /* calls on the MSI vector */
	volatile unsigned intx_irqs;  /* INTx calls that found status bits */
	volatile unsigned intx_other; /* INTx calls with none: another device's */
	volatile unsigned nlog;	      /* records taken, also past the log's end */
	struct edu_irq_record log[EDU_LOG_SIZE];

	char msi_name[24], intx_name[24], note[64];
};

unsigned edu_count(void);
struct edu_dev *edu_get(unsigned i);

/* Switch the device's interrupt path: EDU_IRQ_MSI enables MSI
 * (pci_msi_enable), EDU_IRQ_INTX disables it and clears INTx Disable. 0,
 * or -ENODEV when that path is unavailable, or pci_msi_enable()'s error. */
int edu_set_irq_mode(struct edu_dev *edu, enum edu_irq_mode mode);
const char *edu_irq_mode_name(enum edu_irq_mode mode);

/* Forget the handlers' records (the counters stay: they are totals). */
void edu_clear_log(struct edu_dev *edu);

/* Write `bits` to the raise register and sleep until a handler has taken
 * an interrupt, at most `timeout_ns`. 0 or -ETIMEDOUT. */
int edu_raise_wait(struct edu_dev *edu, uint32_t bits, uint64_t timeout_ns);

/* n! computed by the device, its end signalled by interrupt (status bit
 * EDU_IRQ_FACT). 0, -EBUSY if a computation is running, -ETIMEDOUT. */
int edu_factorial(struct edu_dev *edu, uint32_t n, uint32_t *result, uint64_t timeout_ns);

static inline uint32_t edu_read(const struct edu_dev *edu, unsigned reg)
{
	return mmio_read32(edu->regs + reg);
}

static inline void edu_write(const struct edu_dev *edu, unsigned reg, uint32_t v)
{
	mmio_write32(edu->regs + reg, v);
}

#endif
