/*
 * arch/x86_64/percpu.h's this_cpu() for host tests: each thread is a CPU,
 * with its own struct percpu and the next index, in the order the threads
 * first ask. Weak, like the other shims.
 */
#include "arch/x86_64/percpu.h"

static unsigned next_index;
static _Thread_local struct percpu cpu;
static _Thread_local struct percpu *mine;

__attribute__((weak)) struct percpu *this_cpu(void)
{
	if (!mine) {
		mine = &cpu;
		cpu.self = mine;
		cpu.index = __atomic_fetch_add(&next_index, 1, __ATOMIC_RELAXED);
	}
	return mine;
}
