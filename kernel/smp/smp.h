/*
 * The CPUs (kernel/smp/smp.c): which processors the ACPI MADT lists
 * (ACPI 6.5, 5.2.12.2 and 5.2.12.12), which of them came up, and a start
 * for each. The boot CPU is up from the first instruction; smp_init()
 * starts the others through arch/x86_64/ap_start.h and gives each its
 * tick. Then each runs its idle loop (kernel/smp/smp_call.h): `hlt`, and
 * the cross-CPU calls it is sent.
 */
#ifndef KERNEL_SMP_SMP_H
#define KERNEL_SMP_SMP_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/percpu.h"
#include "kernel/smp/cpus.h"

enum cpu_state {
	CPU_ABSENT,	 /* listed, neither enabled nor online capable: a hot-plug slot */
	CPU_NOT_STARTED, /* usable, left off (smp.max_cpus, or no trampoline page) */
	CPU_FAILED,	 /* sent INIT and STARTUP, never reported in */
	CPU_ONLINE,
};

struct cpu_slot {
	uint32_t apic_id;
	uint32_t acpi_uid;
	enum cpu_state state;
	struct percpu *cpu; /* CPU_ONLINE only */
};

/* Start every usable CPU the MADT lists (a SUBSYS_INITCALL). */
void smp_init(void);

/* The MADT's processor entries, in its order; n < smp_slots(). Without an
 * MADT, one slot: the boot CPU. */
unsigned smp_slots(void);
const struct cpu_slot *smp_slot(unsigned n);
const char *cpu_state_name(enum cpu_state state);

/* Send INIT and STARTUP to `apic_id` and wait `timeout_ms` for it to report
 * in: 0 and the CPU is online as `*out` (may be NULL), or -ETIMEDOUT (the
 * CPU does not answer; nothing is left allocated), -ENOMEM, -ENODEV (no
 * trampoline). smp_init() uses it; `test=smp` aims it at an APIC id no CPU
 * has. */
int smp_start_cpu(uint32_t apic_id, unsigned timeout_ms, struct percpu **out);

/* How long smp_init() waits for each CPU. */
#define SMP_START_TIMEOUT_MS 1000

#endif
