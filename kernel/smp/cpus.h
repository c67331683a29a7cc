/*
 * The online CPUs (kernel/smp/cpus.c): numbered 0 (the boot CPU) to
 * smp_cpus_online() - 1 as they came up, each with its struct percpu
 * (arch/x86_64/percpu.h), and a way to end another CPU's `hlt`. The
 * bring-up (kernel/smp/smp.c) adds them; everything else only looks.
 */
#ifndef KERNEL_SMP_CPUS_H
#define KERNEL_SMP_CPUS_H

#include "arch/x86_64/percpu.h"

unsigned smp_cpus_online(void);
/* The online CPU with this index (this_cpu()->index), or NULL. */
struct percpu *smp_cpu(unsigned index);
/* End the `hlt` of CPU `index` (something it waits for happened). */
void smp_wake(unsigned index);

/* For the bring-up: the boot CPU is CPU 0 from the start; each new CPU
 * takes the next index. cpus_init() claims VECTOR_WAKE (0 or an errno). */
int cpus_init(void);
void cpus_add(struct percpu *cpu);

#endif
