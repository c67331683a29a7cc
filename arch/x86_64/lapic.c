/*
 * The local APIC in xAPIC mode (Intel SDM vol. 3A, chapter 10): its
 * registers are 32-bit, 16-byte aligned slots in a 4 KiB MMIO page, at the
 * address the ACPI MADT gives (normally 0xfee00000). It receives the
 * IOAPIC's and MSI messages, signals end-of-interrupt, and has the timer we
 * use for the periodic tick (10.5.4).
 */
#include <stdio.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/trap.h"

/* Register offsets (SDM table 10-1). */
/* The register page (SDM vol. 3A 10.4.1). */
#define LAPIC_MMIO_SIZE 4096
#define LAPIC_ID	0x020
#define LAPIC_VERSION	0x030
#define LAPIC_TPR	0x080 /* task priority */
#define LAPIC_EOI	0x0b0
#define LAPIC_SVR	0x0f0 /* spurious interrupt vector */
#define LAPIC_ESR	0x280 /* error status */
#define LAPIC_ICR_LOW	0x300
#define LAPIC_ICR_HIGH	0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_ICR 0x380 /* initial count */
#define LAPIC_TIMER_CCR 0x390 /* current count */
#define LAPIC_TIMER_DCR 0x3e0 /* divide configuration */

#define SVR_APIC_ENABLE	     (1u << 8) /* software enable (10.4.3) */
#define LVT_MASKED	     (1u << 16)
#define LVT_DELIVERY_NMI     (4u << 8)
#define LVT_TIMER_PERIODIC   (1u << 17)
#define ICR_FIXED	     (0u << 8)
#define ICR_INIT	     (5u << 8)
#define ICR_STARTUP	     (6u << 8)
#define ICR_DELIVERY_PENDING (1u << 12)
#define ICR_LEVEL_ASSERT     (1u << 14)
#define ICR_DEST_SELF	     (1u << 18) /* destination shorthand 01 */

/* IA32_APIC_BASE MSR (10.4.4): bit 11 enables the APIC globally, bit 10
 * selects x2APIC mode, bits 12 and up hold the page address. */
#define APIC_BASE_BSP	 (1ull << 8)
#define APIC_BASE_X2APIC (1ull << 10)
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_ADDR	 0xffffffffff000ull

/* Divide configuration encodings (SDM figure 10-10): 0b1011 = by 1,
 * 0b0011 = by 16. */
#define DCR_DIVIDE_16 0x3

static volatile uint8_t *lapic;

static uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(lapic + reg);
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(lapic + reg, v);
}

static uint64_t lapic_phys;

/* Leave x2APIC mode if the firmware chose it, and enable the APIC at
 * lapic_phys in xAPIC mode. The MSR is per CPU: every CPU does this. */
static void lapic_enable_xapic(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	/* Firmware may hand over in x2APIC mode, where the MMIO page is dead.
	 * The only legal way back to xAPIC is through "disabled" (10.12.5). */
	if (base & APIC_BASE_X2APIC) {
		base &= ~(APIC_BASE_X2APIC | APIC_BASE_ENABLE);
		wrmsr(MSR_APIC_BASE, base);
	}
	base = (base & ~APIC_BASE_ADDR) | (lapic_phys & APIC_BASE_ADDR) | APIC_BASE_ENABLE;
	wrmsr(MSR_APIC_BASE, base);
}

void lapic_init(uint64_t phys)
{
	/* The MADT's address: one the CPU cannot address would #GP in the
	 * wrmsr, so keep the base the firmware left instead. */
	if (!ioremap(phys, LAPIC_MMIO_SIZE)) {
		uint64_t kept = rdmsr(MSR_APIC_BASE) & APIC_BASE_ADDR;

		printf("error: lapic: MADT address %#llx cannot be mapped; keeping %#llx\n",
		       (unsigned long long)phys, (unsigned long long)kept);
		phys = kept;
	}
	lapic_phys = phys;
	lapic = phys_to_virt(phys);
	lapic_cpu_init();
}

void lapic_cpu_init(void)
{
	lapic_enable_xapic();
	/* Accept every priority class. */
	lapic_write(LAPIC_TPR, 0);
	/* LINT0 carries the 8259's ExtINT in virtual-wire mode: the PIC is
	 * masked, so mask its input too. LINT1 is wired to NMI by convention
	 * (MP spec); keep it as NMI. */
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LVT_DELIVERY_NMI);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_LVT_ERROR, VECTOR_APIC_ERROR);
	/* The ESR latches errors on a write (10.5.3): write twice to clear. */
	lapic_write(LAPIC_ESR, 0);
	lapic_write(LAPIC_ESR, 0);
	/* Software-enable the APIC; vector 0xff for spurious interrupts (its
	 * low four bits must be ones on older CPUs). */
	lapic_write(LAPIC_SVR, SVR_APIC_ENABLE | VECTOR_SPURIOUS);
	/* Acknowledge anything a previous owner left in service. */
	lapic_eoi();
}

bool lapic_enabled(void)
{
	return lapic != 0;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

uint32_t lapic_id(void)
{
	if (!lapic)
		return 0;
	return lapic_read(LAPIC_ID) >> 24;
}

uint32_t lapic_version(void)
{
	return lapic_read(LAPIC_VERSION);
}

uint32_t lapic_read_esr(void)
{
	lapic_write(LAPIC_ESR, 0);
	return lapic_read(LAPIC_ESR);
}

/* Send an IPI with `low` (delivery mode, level, vector) to the LAPIC with
 * this id (physical destination mode), and wait until the local APIC has
 * handed it to the bus: the pending bit says nothing about the target. */
static void lapic_send_ipi_raw(uint32_t apic_id, uint32_t low)
{
	lapic_write(LAPIC_ICR_HIGH, apic_id << 24);
	lapic_write(LAPIC_ICR_LOW, low);
	while (lapic_read(LAPIC_ICR_LOW) & ICR_DELIVERY_PENDING)
		cpu_relax();
}

void lapic_send_self_ipi(uint8_t vector)
{
	/* The destination field is ignored with the "self" shorthand. */
	lapic_send_ipi_raw(0, ICR_DEST_SELF | ICR_LEVEL_ASSERT | vector);
}

void lapic_send_init(uint32_t apic_id)
{
	lapic_send_ipi_raw(apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
}

void lapic_send_startup(uint32_t apic_id, uint64_t page)
{
	/* The vector field is the page number: the AP starts in real mode at
	 * CS = page >> 4, IP = 0 (SDM 8.4.4.1 and 10.6.1). */
	lapic_send_ipi_raw(apic_id, ICR_STARTUP | (uint32_t)(page >> 12));
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	lapic_send_ipi_raw(apic_id, ICR_FIXED | ICR_LEVEL_ASSERT | vector);
}

void lapic_timer_periodic(uint8_t vector, uint32_t initial_count)
{
	lapic_write(LAPIC_TIMER_DCR, DCR_DIVIDE_16);
	lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_PERIODIC | vector);
	/* Writing the initial count starts the timer (10.5.4). */
	lapic_write(LAPIC_TIMER_ICR, initial_count);
}

void lapic_timer_oneshot_masked(uint32_t initial_count)
{
	lapic_write(LAPIC_TIMER_DCR, DCR_DIVIDE_16);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_TIMER_ICR, initial_count);
}

uint32_t lapic_timer_current(void)
{
	return lapic_read(LAPIC_TIMER_CCR);
}

void lapic_timer_stop(void)
{
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_TIMER_ICR, 0);
}
