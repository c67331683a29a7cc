/*
 * Bringing up the application processors (kernel/smp/smp.h). The MADT
 * lists the processors (kernel/acpi); arch/x86_64/ap_start.c wakes one CPU
 * at a time through a real-mode trampoline, which must sit in a page below
 * 1 MiB (a STARTUP IPI names a page number, 8 bits). We choose that page
 * from the boot memory map, so it is RAM that nothing else owns, on every
 * boot path, and reserve it.
 *
 * Each new CPU gets its own struct percpu (GDT, TSS and IST1 stack inside),
 * a 16 KiB kernel stack, and the tick kernel/time/ calibrated on the boot
 * CPU. A CPU that does not report in within SMP_START_TIMEOUT_MS is named
 * and skipped; booting goes on with the rest.
 */
#include <errno.h>
#include <stdio.h>

#include "arch/x86_64/ap_start.h"
#include "arch/x86_64/boot/boot_info.h"
#include "arch/x86_64/percpu.h"
#include "kernel/acpi/acpi.h"
#include "kernel/lib/cmdline.h"
#include "kernel/lib/init.h"
#include "kernel/lib/log.h"
#include "kernel/mm/page_alloc.h"
#include "kernel/smp/cpus.h"
#include "kernel/smp/smp.h"
#include "kernel/smp/smp_call.h"
#include "kernel/time/timer.h"

#define KERNEL_STACK_PAGES 4
#define PERCPU_PAGES	   ((sizeof(struct percpu) + PAGE_SIZE - 1) / PAGE_SIZE)
/* The trampoline page: above the real-mode interrupt table and BIOS data
 * (page 0), below the EBDA and the legacy video and ROM areas. */
#define TRAMPOLINE_LOWEST  0x1000ull
#define TRAMPOLINE_HIGHEST 0x9f000ull

CMDLINE_OPTION(smp_max_cpus, .key = "smp.max_cpus", .type = CMDLINE_U64, .def = 0, .min = 0,
	       .max = ACPI_MAX_CPUS,
	       .help = "start at most N CPUs, the boot CPU included (0: every CPU the MADT lists)");

static struct cpu_slot slots[ACPI_MAX_CPUS];
static unsigned nslots;

unsigned smp_slots(void)
{
	return nslots;
}

const struct cpu_slot *smp_slot(unsigned n)
{
	return n < nslots ? &slots[n] : NULL;
}

const char *cpu_state_name(enum cpu_state state)
{
	switch (state) {
	case CPU_ABSENT:
		return "absent";
	case CPU_NOT_STARTED:
		return "not started";
	case CPU_FAILED:
		return "failed";
	case CPU_ONLINE:
		return "online";
	}
	return "?";
}

/* The highest whole free page in [TRAMPOLINE_LOWEST, TRAMPOLINE_HIGHEST]
 * that the memory map calls usable, or 0. Highest, because firmware and
 * loaders tend to leave their scraps at the bottom. */
static uint64_t find_trampoline_page(void)
{
	uint64_t best = 0;

	for (unsigned i = 0; i < boot_info.nregions; i++) {
		const struct mem_region *r = &boot_info.regions[i];
		uint64_t end = r->base + r->length, top;

		if (r->type != MEM_USABLE || end < r->base)
			continue;
		top = (end & ~(PAGE_SIZE - 1)) - PAGE_SIZE; /* last whole page */
		if (end < PAGE_SIZE || top < r->base)
			continue;
		if (top > TRAMPOLINE_HIGHEST)
			top = TRAMPOLINE_HIGHEST;
		if (top >= r->base && top >= TRAMPOLINE_LOWEST && top > best)
			best = top;
	}
	return best;
}

/* What an application processor does once it is a CPU: take its tick and
 * idle. Each `hlt` wakes on its timer, which only counts here. */
static void ap_main(struct percpu *cpu)
{
	timer_start_this_cpu();
	smp_call_idle();
}

int smp_start_cpu(uint32_t apic_id, unsigned timeout_ms, struct percpu **out)
{
	struct percpu *cpu = page_alloc(PERCPU_PAGES);
	uint8_t *stack = page_alloc(KERNEL_STACK_PAGES);
	int err;

	if (!cpu || !stack) {
		if (cpu)
			page_free(cpu, PERCPU_PAGES);
		if (stack)
			page_free(stack, KERNEL_STACK_PAGES);
		return -ENOMEM;
	}
	cpu->index = smp_cpus_online();
	cpu->apic_id = apic_id;
	err = ap_start(apic_id, cpu, stack + KERNEL_STACK_PAGES * PAGE_SIZE, ap_main, timeout_ms);
	if (err) {
		page_free(cpu, PERCPU_PAGES);
		page_free(stack, KERNEL_STACK_PAGES);
		return err;
	}
	cpus_add(cpu);
	if (out)
		*out = cpu;
	return 0;
}

/* The slots from the MADT, the boot CPU online in its own. Returns whether
 * the other CPUs may be started: not when the MADT does not name the CPU we
 * run on, since one of its entries might then be us. */
static bool list_cpus(void)
{
	struct percpu *bsp = this_cpu();
	bool bsp_listed = false;

	for (unsigned i = 0; i < acpi_info.ncpu_entries; i++) {
		const struct acpi_cpu *c = &acpi_info.cpus[i];
		struct cpu_slot *s = &slots[nslots++];

		*s = (struct cpu_slot){c->apic_id, c->uid, c->usable ? CPU_NOT_STARTED : CPU_ABSENT,
				       NULL};
		if (c->apic_id == bsp->apic_id) {
			s->state = CPU_ONLINE;
			s->cpu = bsp;
			bsp_listed = true;
		}
	}
	if (bsp_listed)
		return true;
	if (nslots)
		pr_warn("smp: the MADT does not list the boot CPU (APIC id %u); "
			"starting no other CPU\n",
			(unsigned)bsp->apic_id);
	if (nslots == ACPI_MAX_CPUS)
		nslots--;
	slots[nslots++] = (struct cpu_slot){bsp->apic_id, 0, CPU_ONLINE, bsp};
	return false;
}

void smp_init(void)
{
	uint64_t max = cmdline_u64("smp.max_cpus");
	unsigned absent = 0, failed = 0, left = 0;
	uint64_t page;
	bool may_start = list_cpus();

	smp_call_init();
	if (cpus_init()) {
		pr_err("smp: the wake-up vector is taken; running on the boot CPU only\n");
		may_start = false;
	}

	/* Installed even with one CPU listed: `test=smp` starts a CPU that is
	 * not there, to see the timeout work. */
	page = may_start ? find_trampoline_page() : 0;
	if (may_start && acpi_info.ncpus > 1 && !page)
		pr_err("smp: no free page below 1 MiB for the start-up trampoline; "
		       "running on the boot CPU only\n");
	if (page) {
		mm_reserve(page, PAGE_SIZE);
		ap_trampoline_install(page);
	}

	for (unsigned i = 0; i < nslots; i++) {
		struct cpu_slot *s = &slots[i];
		int err;

		if (s->state == CPU_ABSENT) {
			absent++;
			continue;
		}
		if (s->state != CPU_NOT_STARTED)
			continue;
		if (!page || (max && smp_cpus_online() >= max)) {
			left++;
			continue;
		}
		err = smp_start_cpu(s->apic_id, SMP_START_TIMEOUT_MS, &s->cpu);
		if (err == 0) {
			s->state = CPU_ONLINE;
			continue;
		}
		s->state = CPU_FAILED;
		failed++;
		if (err == -ETIMEDOUT)
			pr_err("smp: CPU with APIC id %u did not report in within %u ms; "
			       "booting on without it\n",
			       (unsigned)s->apic_id, SMP_START_TIMEOUT_MS);
		else if (err == -EINVAL)
			pr_err("smp: CPU with APIC id %u needs x2APIC mode, which is not "
			       "supported yet; booting on without it\n",
			       (unsigned)s->apic_id);
		else
			pr_err("smp: CPU with APIC id %u not started: error %d\n",
			       (unsigned)s->apic_id, err);
	}
	pr_info("smp: %u CPU(s) online, %u failed, %u not started, %u absent slot(s) skipped\n",
		smp_cpus_online(), failed, left, absent);
}
SUBSYS_INITCALL(smp_init);
