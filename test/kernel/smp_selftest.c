/*
 * `test=smp`: the CPUs kernel/smp/smp.c started. Every usable CPU the MADT
 * lists is online (unless smp.max_cpus held some back), each has its own
 * per-CPU block, descriptor tables and IST stack, each takes its own timer
 * ticks, and a start aimed at an APIC that never answers (an absent slot
 * of `-smp 2,maxcpus=4`, or an id no CPU has) times out, is reported, and
 * leaves nothing allocated.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "kernel/acpi/acpi.h"
#include "kernel/lib/cmdline.h"
#include "kernel/mm/page_alloc.h"
#include "kernel/selftest/selftest.h"
#include "kernel/smp/smp.h"
#include "kernel/time/timer.h"

#define NO_SUCH_APIC_TIMEOUT_MS 100

static void check_online(void)
{
	uint64_t max = cmdline_u64("smp.max_cpus");
	unsigned want = acpi_info.ncpus ? acpi_info.ncpus : 1;

	if (max && max < want)
		want = (unsigned)max;
	check(smp_cpus_online() == want,
	      "%u CPU(s) online, of %u usable in the MADT (smp.max_cpus=%llu)", smp_cpus_online(),
	      acpi_info.ncpus, (unsigned long long)max);
	for (unsigned i = 0; i < smp_slots(); i++) {
		const struct cpu_slot *s = smp_slot(i);
		check(s->state != CPU_FAILED, "slot %u (APIC id %u) is %s", i, (unsigned)s->apic_id,
		      cpu_state_name(s->state));
	}
}

/* Per-CPU blocks: reachable through their own self pointer, numbered
 * 0..n-1 once each, with tables and stacks of their own. */
static void check_percpu(void)
{
	bool seen[ACPI_MAX_CPUS] = {false};
	bool ok = true;

	check(this_cpu() == &boot_cpu && boot_cpu.index == 0,
	      "this_cpu() on the boot CPU is boot_cpu, index 0");
	for (unsigned i = 0; i < smp_slots(); i++) {
		const struct cpu_slot *s = smp_slot(i);
		const struct percpu *c = s->cpu;

		if (s->state != CPU_ONLINE)
			continue;
		/* Its TSS names its own IST1 stack, and its GDT its own TSS
		 * (descriptor base bits 0-23 at 16, 24-31 at 56, 32-63 in
		 * the next slot). */
		uint64_t tss = (uint64_t)(uintptr_t)&c->tables.tss;
		uint64_t lo = c->tables.gdt[3], base;
		base = ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24) |
		       (c->tables.gdt[4] << 32);
		if (c->self != c || c->apic_id != s->apic_id || c->index >= ACPI_MAX_CPUS ||
		    seen[c->index] || base != tss ||
		    c->tables.tss.ist[0] != (uint64_t)(uintptr_t)(c->ist1_stack + IST_STACK_SIZE)) {
			ok = false;
			continue;
		}
		seen[c->index] = true;
	}
	for (unsigned i = 0; i < smp_cpus_online(); i++)
		ok = ok && seen[i];
	check(ok,
	      "every online CPU has its own per-CPU block, GDT, TSS and IST1 stack (index 0..%u)",
	      smp_cpus_online() - 1);
}

/* Each CPU's timer interrupts count on that CPU: over 100 ms (10 ticks at
 * 100 Hz) every CPU must have taken some, as interrupts. */
static void check_ticks(void)
{
	uint64_t before[ACPI_MAX_CPUS], irqs[ACPI_MAX_CPUS];
	unsigned n = smp_slots();

	for (unsigned i = 0; i < n; i++) {
		const struct cpu_slot *s = smp_slot(i);
		before[i] = s->state == CPU_ONLINE ? s->cpu->ticks : 0;
		irqs[i] = s->state == CPU_ONLINE ? s->cpu->irqs : 0;
	}
	sleep_ms(100);
	for (unsigned i = 0; i < n; i++) {
		const struct cpu_slot *s = smp_slot(i);
		if (s->state != CPU_ONLINE)
			continue;
		uint64_t t = s->cpu->ticks - before[i], q = s->cpu->irqs - irqs[i];
		check(t >= 3 && t <= 30 && q >= t,
		      "CPU %u (APIC id %u) took %llu ticks in 100 ms, as %llu interrupts",
		      s->cpu->index, (unsigned)s->apic_id, (unsigned long long)t,
		      (unsigned long long)q);
	}
}

static bool apic_id_listed(uint32_t id)
{
	for (unsigned i = 0; i < smp_slots(); i++)
		if (smp_slot(i)->apic_id == id)
			return true;
	return false;
}

/* An xAPIC id listed as absent, or else the lowest one nothing has. */
static uint32_t silent_apic_id(void)
{
	uint32_t id = 1;

	for (unsigned i = 0; i < smp_slots(); i++) {
		const struct cpu_slot *s = smp_slot(i);
		if (s->state == CPU_ABSENT && s->apic_id < XAPIC_MAX_ID)
			return s->apic_id;
	}
	while (apic_id_listed(id))
		id++;
	return id;
}

/* The xAPIC cannot name an id of 0xff or more: refused, nothing sent. */
static void check_unnameable_cpu(void)
{
	struct percpu *cpu = NULL;
	int err = smp_start_cpu(XAPIC_MAX_ID + 1, 10, &cpu);

	check(err == -EINVAL && cpu == NULL,
	      "starting APIC id %u, which xAPIC mode cannot name, is refused (%d)",
	      XAPIC_MAX_ID + 1, err);
}

static void check_silent_cpu(void)
{
	uint32_t id = silent_apic_id();
	struct mm_stats before, after;
	struct percpu *cpu = NULL;
	unsigned online = smp_cpus_online();
	uint64_t t0, ms;
	int err;

	mm_get_stats(&before);
	t0 = time_ns();
	err = smp_start_cpu(id, NO_SUCH_APIC_TIMEOUT_MS, &cpu);
	ms = (time_ns() - t0) / 1000000;
	mm_get_stats(&after);
	check(err == -ETIMEDOUT && cpu == NULL,
	      "starting APIC id %u, which no CPU answers, gives -ETIMEDOUT (%d)", (unsigned)id,
	      err);
	check(ms >= NO_SUCH_APIC_TIMEOUT_MS && ms < 10 * NO_SUCH_APIC_TIMEOUT_MS,
	      "it gave up after %llu ms (timeout %u ms)", (unsigned long long)ms,
	      NO_SUCH_APIC_TIMEOUT_MS);
	check(after.free == before.free && smp_cpus_online() == online,
	      "nothing is left allocated (%llu bytes free before and after) and %u CPUs stay "
	      "online",
	      (unsigned long long)after.free, smp_cpus_online());
}

static void smp_selftest(void)
{
	check_online();
	check_percpu();
	check_ticks();
	check_silent_cpu();
	check_unnameable_cpu();
}
SELFTEST(smp, smp_selftest);
