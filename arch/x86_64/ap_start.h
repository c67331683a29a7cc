/*
 * Starting an application processor (arch/x86_64/ap_start.c; Intel SDM
 * vol. 3A, 8.4.4 "MP Initialization Example", and the MP spec's universal
 * start-up algorithm, appendix B.4): INIT, then STARTUP twice, into the
 * real-mode trampoline of arch/x86_64/ap_trampoline.S.
 *
 * The arch layer only knows how to wake one CPU and set it up as a CPU
 * (per-CPU data, GDT and TSS, IDT, LAPIC). Which CPUs to start, and what
 * they do once up, is kernel/smp/'s business: it hands in `main`.
 */
#ifndef ARCH_X86_64_AP_START_H
#define ARCH_X86_64_AP_START_H

#include <stdint.h>

#include "arch/x86_64/percpu.h"

/* Runs on the new CPU with interrupts off, on the stack it was given; does
 * not return. */
typedef void ap_main_fn(struct percpu *cpu);

/* Copy the trampoline to `page`: 4 KiB aligned, in [4 KiB, 1 MiB), and
 * reserved for this use by the caller. 0, or -EINVAL for a page that no
 * STARTUP IPI can name. */
int ap_trampoline_install(uint64_t page);

/* Start the CPU whose local APIC has `apic_id`, on `cpu` (zeroed, with
 * index and apic_id filled in) and the stack below `stack_top` (16-byte
 * aligned). Returns once the CPU has taken its own tables: 0, or
 * -ETIMEDOUT when it has not checked in after `timeout_ms` (it is then sent
 * INIT again, so a late start cannot run on structures the caller frees),
 * or -ENODEV before ap_trampoline_install(), or -EINVAL for an id of
 * XAPIC_MAX_ID or more (those need x2APIC mode, which we do not use yet).
 * One start at a time. */
int ap_start(uint32_t apic_id, struct percpu *cpu, void *stack_top, ap_main_fn *main,
	     unsigned timeout_ms);

#endif
