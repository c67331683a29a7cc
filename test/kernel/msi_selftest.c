/*
 * Self-test `test=msi`: plain MSI (PCI 3.0 6.8.1, kernel/pci/pci_msi.c) and
 * INTx through the IOAPIC, proven with QEMU's edu device (`-device edu`,
 * drivers/pci_edu.c), whose interrupts can be raised on demand.
 *
 *  1. The identification and liveness registers answer as edu.rst says.
 *  2. MSI on: the capability is programmed in the layout its Message
 *     Control announces, Bus Master and INTx Disable are on; each of
 *     EDU_TEST_RAISES raises with a distinct status bit arrives exactly
 *     once on the MSI vector with exactly that status; the INTx line stays
 *     quiet; with Bus Master off no message arrives at all.
 *  3. The factorial unit's completion interrupt arrives by MSI with the
 *     right result (10! = 3628800).
 *  4. MSI off: the same raises arrive on the INTx GSI, never on the MSI
 *     vector, and INTx Disable is back as it was; 12! by INTx.
 * Without an edu device the test says so and fails: it proves nothing.
 */
#include <errno.h>
#include <stdio.h>

#include "drivers/pci_edu.h"
#include "kernel/irq/irq.h"
#include "kernel/pci/pci_config.h"
#include "kernel/pci/pci_msi.h"
#include "kernel/selftest/selftest.h"
#include "kernel/time/timer.h"

#define EDU_TEST_RAISES 8
#define EDU_QUIET_MS	20 /* how long an interrupt that should not come gets */

static uint32_t raise_bits(enum edu_irq_mode mode, unsigned i)
{
	/* Distinct bits per raise and per mode, clear of the factorial's. */
	return 1u << ((mode == EDU_IRQ_MSI ? 8 : 20) + i);
}

/* Raise EDU_TEST_RAISES interrupts one at a time and check each was taken
 * exactly once, by `mode`'s handler, with the status that was raised. */
static void check_raises(struct edu_dev *edu, enum edu_irq_mode mode)
{
	const char *how = edu_irq_mode_name(mode);
	int vec = mode == EDU_IRQ_MSI ? edu->msi_vector : edu->intx_vector;
	int other = mode == EDU_IRQ_MSI ? edu->intx_vector : edu->msi_vector;
	uint64_t vec_before = irq_vector_count(vec);
	uint64_t other_before = other ? irq_vector_count(other) : 0;
	unsigned msi_before = edu->msi_irqs, intx_before = edu->intx_irqs;
	unsigned intx_other_before = edu->intx_other;
	unsigned delivered = 0;

	edu_clear_log(edu);
	for (unsigned i = 0; i < EDU_TEST_RAISES; i++) {
		uint32_t bits = raise_bits(mode, i);
		int err = edu_raise_wait(edu, bits, EDU_DEFAULT_TIMEOUT_NS);
		const struct edu_irq_record *r = &edu->log[i < EDU_LOG_SIZE ? i : 0];
		bool ok = !err && edu->nlog == i + 1 && r->via == mode && r->status == bits;

		check(ok,
		      "%s: raise %u (status 0x%08x) taken once, by the %s handler: %s, %u "
		      "record(s), last by %s with status 0x%08x",
		      how, i + 1, (unsigned)bits, how, err ? "timed out" : "arrived", edu->nlog,
		      edu->nlog ? edu_irq_mode_name(r->via) : "-",
		      edu->nlog ? (unsigned)r->status : 0u);
		delivered += ok;
	}
	/* Late or doubled deliveries would land now. */
	sleep_ms(EDU_QUIET_MS);
	check(edu->nlog == EDU_TEST_RAISES && delivered == EDU_TEST_RAISES,
	      "%s: %u raises, %u handled, %u right", how, EDU_TEST_RAISES, edu->nlog, delivered);
	if (mode == EDU_IRQ_MSI) {
		check(irq_vector_count(vec) - vec_before == EDU_TEST_RAISES &&
			      edu->msi_irqs - msi_before == EDU_TEST_RAISES,
		      "msi: MSI vector 0x%02x counted %llu interrupts, handler %u (expected %u)",
		      vec, (unsigned long long)(irq_vector_count(vec) - vec_before),
		      edu->msi_irqs - msi_before, EDU_TEST_RAISES);
		if (other)
			check(irq_vector_count(other) == other_before &&
				      edu->intx_irqs == intx_before,
			      "msi: INTx (GSI %u, vector 0x%02x) not used while MSI is on: %llu "
			      "interrupts, %u for edu",
			      edu->gsi, other,
			      (unsigned long long)(irq_vector_count(other) - other_before),
			      edu->intx_irqs - intx_before);
		check(!(pci_read16(edu->pdev, PCI_STATUS) & PCI_STATUS_INTERRUPT),
		      "msi: the function never asserted INTx (PCI status 0x%04x, bit 3 clear)",
		      pci_read16(edu->pdev, PCI_STATUS));
	} else {
		unsigned others = edu->intx_other - intx_other_before;

		/* The line may be shared: other devices' interrupts on it are
		 * counted by the vector too, and seen by our handler as such. */
		check(edu->intx_irqs - intx_before == EDU_TEST_RAISES &&
			      irq_vector_count(vec) - vec_before == EDU_TEST_RAISES + others,
		      "intx: GSI %u vector 0x%02x counted %llu interrupts, edu handler %u, "
		      "other devices %u (expected %u for edu)",
		      edu->gsi, vec, (unsigned long long)(irq_vector_count(vec) - vec_before),
		      edu->intx_irqs - intx_before, others, EDU_TEST_RAISES);
		if (other)
			check(irq_vector_count(other) == other_before &&
				      edu->msi_irqs == msi_before,
			      "intx: MSI vector 0x%02x not used while MSI is off: %llu interrupts",
			      other, (unsigned long long)(irq_vector_count(other) - other_before));
	}
	check(edu_read(edu, EDU_REG_IRQ_STATUS) == 0,
	      "%s: interrupt status 0x%08x after the handlers acknowledged", how,
	      (unsigned)edu_read(edu, EDU_REG_IRQ_STATUS));
}

static void check_factorial(struct edu_dev *edu, uint32_t n, uint32_t expect)
{
	const char *how = edu_irq_mode_name(edu->mode);
	uint32_t r = 0;
	int err;

	edu_clear_log(edu);
	err = edu_factorial(edu, n, &r, EDU_DEFAULT_TIMEOUT_NS);
	check(!err && r == expect && edu->nlog == 1 && edu->log[0].via == edu->mode &&
		      (edu->log[0].status & EDU_IRQ_FACT),
	      "%s: %u! = %u by the factorial-done interrupt (expected %u; error %d, %u "
	      "record(s), status 0x%08x)",
	      how, (unsigned)n, (unsigned)r, (unsigned)expect, err, edu->nlog,
	      edu->nlog ? (unsigned)edu->log[0].status : 0u);
}

/* The message is a memory write the function makes as a bus master: with
 * Bus Master off it must not arrive (QEMU drops it), which is why
 * pci_msi_enable() turns the bit on. */
static void check_bus_master(struct edu_dev *edu)
{
	struct pci_dev *pdev = edu->pdev;
	uint16_t cmd = pci_read16(pdev, PCI_COMMAND);
	unsigned before;
	int err;

	edu_clear_log(edu);
	before = edu->msi_irqs;
	pci_write16(pdev, PCI_COMMAND, cmd & ~PCI_COMMAND_MASTER);
	err = edu_raise_wait(edu, 0x40000000u, EDU_QUIET_MS * 1000000ull);
	pci_write16(pdev, PCI_COMMAND, cmd);
	check(err == -ETIMEDOUT && edu->msi_irqs == before && edu->nlog == 0,
	      "msi: with Bus Master off no message arrives (%u handled)", edu->msi_irqs - before);
	/* The raised bit is still there; acknowledge it by hand. */
	edu_write(edu, EDU_REG_IRQ_ACK, 0x40000000u);
}

static void selftest_msi(void)
{
	struct edu_dev *edu = edu_get(0);
	struct pci_dev *pdev;
	uint16_t ctrl, cmd, cmd_before;
	unsigned cap, data_off;
	uint32_t id;

	if (!edu) {
		check(false, "msi: no edu device bound (QEMU -device edu, PCI 1234:11e8); test=msi "
			     "needs one");
		return;
	}
	pdev = edu->pdev;
	check(true, "msi: edu device bound at %s", edu->name);
	cap = pdev->msi_cap;
	printf("msi: edu %s, MSI capability at 0x%02x, INTx pin %u line %u -> GSI %d\n", edu->name,
	       cap, pdev->irq_pin, pdev->irq_line, edu->intx_vector ? (int)edu->gsi : -1);

	id = edu_read(edu, EDU_REG_ID);
	check((id & EDU_ID_MAGIC_MASK) == EDU_ID_MAGIC, "msi: edu id 0x%08x (version %u.%u)",
	      (unsigned)id, (unsigned)(id >> 24), (unsigned)(id >> 16) & 0xff);
	static const uint32_t live[] = {0, 0xffffffffu, 0x12345678u, 0xa5a5a5a5u};
	unsigned live_ok = 0;
	for (unsigned i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
		edu_write(edu, EDU_REG_LIVENESS, live[i]);
		live_ok += edu_read(edu, EDU_REG_LIVENESS) == ~live[i];
	}
	check(live_ok == 4, "msi: liveness register inverts %u of 4 values", live_ok);
	if (!check(cap && edu->msi_vector && edu->intx_vector,
		   "msi: edu has an MSI capability (0x%02x) with a vector (0x%02x) and an INTx "
		   "line with a vector (0x%02x)",
		   cap, edu->msi_vector, edu->intx_vector))
		return;

	/* ---- MSI ---- */
	edu_set_irq_mode(edu, EDU_IRQ_INTX);
	cmd_before = pci_read16(pdev, PCI_COMMAND);
	if (!check(edu_set_irq_mode(edu, EDU_IRQ_MSI) == 0, "msi: MSI enabled"))
		return;
	ctrl = pci_read16(pdev, cap + PCI_MSI_CTRL);
	cmd = pci_read16(pdev, PCI_COMMAND);
	data_off = (ctrl & PCI_MSI_CTRL_64BIT) ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32;
	printf("msi: Message Control 0x%04x (%s-bit address%s), data at +0x%02x\n", ctrl,
	       (ctrl & PCI_MSI_CTRL_64BIT) ? "64" : "32",
	       (ctrl & PCI_MSI_CTRL_MASKBIT) ? ", per-vector mask" : "", data_off);
	check((ctrl & PCI_MSI_CTRL_ENABLE) && !(ctrl & PCI_MSI_CTRL_MME),
	      "msi: Message Control 0x%04x: enabled, one message (Multiple Message Enable 0)",
	      ctrl);
	check((pci_read16(pdev, cap + data_off) & 0xff) == edu->msi_vector,
	      "msi: data register (+0x%02x) holds vector 0x%02x", data_off,
	      pci_read16(pdev, cap + data_off) & 0xff);
	check((cmd & PCI_COMMAND_MASTER) && (cmd & PCI_COMMAND_INTX_DISABLE),
	      "msi: command 0x%04x: Bus Master and INTx Disable on", cmd);
	check_raises(edu, EDU_IRQ_MSI);
	check_factorial(edu, 10, 3628800);
	check_bus_master(edu);

	/* ---- INTx ---- */
	pci_msi_disable(pdev);
	ctrl = pci_read16(pdev, cap + PCI_MSI_CTRL);
	cmd = pci_read16(pdev, PCI_COMMAND);
	check(!(ctrl & PCI_MSI_CTRL_ENABLE) &&
		      (cmd & PCI_COMMAND_INTX_DISABLE) == (cmd_before & PCI_COMMAND_INTX_DISABLE),
	      "msi: pci_msi_disable: Message Control 0x%04x, INTx Disable back as it was "
	      "(command 0x%04x, before 0x%04x)",
	      ctrl, cmd, cmd_before);
	if (!check(edu_set_irq_mode(edu, EDU_IRQ_INTX) == 0, "intx: INTx mode on GSI %u", edu->gsi))
		return;
	check_raises(edu, EDU_IRQ_INTX);
	check_factorial(edu, 12, 479001600);

	/* Back to the driver's default. */
	check(edu_set_irq_mode(edu, EDU_IRQ_MSI) == 0, "msi: MSI enabled again");
	check_factorial(edu, 10, 3628800);
}
SELFTEST(msi, selftest_msi);
