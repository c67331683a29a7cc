/*
 * kernel/smp/smp.h for host tests: one CPU online (the test's threads are
 * not CPUs the block layer must wake), and a wake-up that has nobody to
 * wake. Weak, like the other shims.
 */
#include "kernel/smp/smp.h"

__attribute__((weak)) unsigned smp_cpus_online(void)
{
	return 1;
}

__attribute__((weak)) void smp_wake(unsigned index)
{
}
