/*
 * The online CPUs (kernel/smp/cpus.h). The table only grows, and a new
 * entry is written before the count that makes it visible (release), so a
 * reader that loaded the count (acquire) may use every entry below it
 * without a lock.
 */
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "kernel/acpi/acpi.h"
#include "kernel/irq/irq.h"
#include "kernel/smp/cpus.h"

static struct percpu *by_index[ACPI_MAX_CPUS] = {&boot_cpu};
static unsigned nonline = 1;

unsigned smp_cpus_online(void)
{
	return __atomic_load_n(&nonline, __ATOMIC_ACQUIRE);
}

struct percpu *smp_cpu(unsigned index)
{
	return index < smp_cpus_online() ? by_index[index] : NULL;
}

void smp_wake(unsigned index)
{
	struct percpu *cpu = smp_cpu(index);

	if (cpu && cpu != this_cpu())
		lapic_send_ipi(cpu->apic_id, VECTOR_WAKE);
}

/* VECTOR_WAKE has nothing to do: arriving ended the `hlt`. */
static void wake_interrupt(void *ctx)
{
}

int cpus_init(void)
{
	return request_fixed_vector(VECTOR_WAKE, wake_interrupt, NULL, "smp wake");
}

void cpus_add(struct percpu *cpu)
{
	unsigned n = nonline; /* only the boot CPU adds */

	by_index[n] = cpu;
	__atomic_store_n(&nonline, n + 1, __ATOMIC_RELEASE);
}
