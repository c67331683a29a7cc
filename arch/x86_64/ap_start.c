/*
 * Starting an application processor (arch/x86_64/ap_start.h; Intel SDM
 * vol. 3A, 8.4.4.1 "Typical BSP Initialization Sequence"): the boot CPU
 * sends INIT (reset, wait for STARTUP), waits 10 ms, then STARTUP twice
 * 200 us apart (a CPU that started on the first ignores the second). The
 * new CPU runs ap_trampoline.S into ap_entry() below, which makes it a
 * kernel CPU and reports in through ap_boot_params.arrived.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86_64/ap_start.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"

#define REAL_MODE_LIMIT 0x100000ull
#define PAGE		4096ull

extern const char ap_trampoline_start[], ap_trampoline_end[];

/* What the starting CPU reads: ap_trampoline.S the first three fields (at
 * the offsets asserted below), ap_entry() the rest. It lives in
 * ap_trampoline.S, which so needs no name from this file. Written by the
 * boot CPU only while no CPU is between STARTUP and `arrived`. */
struct ap_boot_params {
	uint64_t cr3;
	uint64_t stack_top;
	void (*entry)(void);
	struct percpu *cpu;
	ap_main_fn *main;
	uint32_t apic_id; /* the CPU that is expected */
	uint32_t arrived; /* set by that CPU, with release order */
};
_Static_assert(offsetof(struct ap_boot_params, cr3) == 0, "ap_trampoline.S PARAMS_CR3");
_Static_assert(offsetof(struct ap_boot_params, stack_top) == 8, "ap_trampoline.S PARAMS_STACK");
_Static_assert(offsetof(struct ap_boot_params, entry) == 16, "ap_trampoline.S PARAMS_ENTRY");
_Static_assert(sizeof(struct ap_boot_params) <= 48, "ap_trampoline.S PARAMS_SIZE");

extern struct ap_boot_params ap_boot_params;
static uint64_t trampoline_page;

static void ap_entry(void);

int ap_trampoline_install(uint64_t page)
{
	size_t size = (size_t)(ap_trampoline_end - ap_trampoline_start);

	if (page == 0 || page % PAGE || page + PAGE > REAL_MODE_LIMIT || size > PAGE)
		return -EINVAL;
	memcpy(phys_to_virt(page), ap_trampoline_start, size);
	trampoline_page = page;
	return 0;
}

static void delay_us(uint64_t us)
{
	uint64_t end = rdtsc() + tsc_frequency() / 1000000 * us;

	while (rdtsc() < end)
		cpu_relax();
}

int ap_start(uint32_t apic_id, struct percpu *cpu, void *stack_top, ap_main_fn *main,
	     unsigned timeout_ms)
{
	struct ap_boot_params *p = &ap_boot_params;

	if (!trampoline_page)
		return -ENODEV;
	/* xAPIC destinations are 8 bits and 0xff is the broadcast: a larger
	 * id would be cut and could INIT a CPU that is already running. */
	if (apic_id >= XAPIC_MAX_ID)
		return -EINVAL;
	p->cr3 = read_cr3();
	p->stack_top = (uint64_t)(uintptr_t)stack_top;
	p->entry = ap_entry;
	p->cpu = cpu;
	p->main = main;
	p->apic_id = apic_id;
	__atomic_store_n(&p->arrived, 0, __ATOMIC_RELEASE);

	lapic_send_init(apic_id);
	delay_us(10000);
	for (int i = 0; i < 2 && !__atomic_load_n(&p->arrived, __ATOMIC_ACQUIRE); i++) {
		lapic_send_startup(apic_id, trampoline_page);
		delay_us(200);
	}

	uint64_t deadline = rdtsc() + tsc_frequency() / 1000 * timeout_ms;
	while (!__atomic_load_n(&p->arrived, __ATOMIC_ACQUIRE)) {
		if (rdtsc() >= deadline) {
			/* Back to "wait for STARTUP", which we never send it
			 * again: a CPU that was only slow cannot wake later on
			 * a stack and per-CPU block the caller has freed. */
			lapic_send_init(apic_id);
			return -ETIMEDOUT;
		}
		cpu_relax();
	}
	return 0;
}

/* The new CPU's first C code, on its own stack, with interrupts off. */
static void ap_entry(void)
{
	struct ap_boot_params *p = &ap_boot_params;
	struct percpu *cpu = p->cpu;
	ap_main_fn *main = p->main;

	/* Only the CPU the boot CPU is waiting for may use these structures;
	 * any other one (a stray STARTUP) parks here for good. */
	if (cpuid_apic_id() != p->apic_id)
		for (;;)
			__asm__ volatile("cli; hlt");
	percpu_install(cpu);
	idt_load();
	lapic_cpu_init();
	/* After this store the boot CPU may reuse ap_boot_params and the
	 * trampoline for the next CPU: everything needed was read above. */
	__atomic_store_n(&p->arrived, 1, __ATOMIC_RELEASE);
	main(cpu);
	for (;;)
		__asm__ volatile("cli; hlt");
}
