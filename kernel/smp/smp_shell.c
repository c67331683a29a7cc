/*
 * The shell's `cpus` command: every processor the MADT lists, in its
 * order, with its APIC id, its state (kernel/smp/smp.h), and for the ones
 * online the ticks and interrupts it took (arch/x86_64/percpu.h).
 */
#include <stdio.h>

#include "kernel/shell/shell.h"
#include "kernel/smp/smp.h"

static int cmd_cpus(int argc, char **argv)
{
	printf("slot cpu apic  state        ticks        irqs\n");
	for (unsigned i = 0; i < smp_slots(); i++) {
		const struct cpu_slot *s = smp_slot(i);

		if (s->state != CPU_ONLINE) {
			printf("%4u   - %4u  %-11s\n", i, (unsigned)s->apic_id,
			       cpu_state_name(s->state));
			continue;
		}
		printf("%4u %3u %4u  %-11s %10llu  %10llu%s\n", i, s->cpu->index,
		       (unsigned)s->apic_id, cpu_state_name(s->state),
		       (unsigned long long)s->cpu->ticks, (unsigned long long)s->cpu->irqs,
		       s->cpu->index == 0 ? "  (boot CPU)" : "");
	}
	printf("%u of %u CPU slot(s) online\n", smp_cpus_online(), smp_slots());
	return 0;
}
SHELL_COMMAND(cpus, "cpus", "each CPU: APIC id, state, ticks and interrupts taken", cmd_cpus);
