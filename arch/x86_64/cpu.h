/* Small wrappers around x86_64 instructions the kernel needs. */
#ifndef ARCH_X86_64_CPU_H
#define ARCH_X86_64_CPU_H

#include <stdint.h>

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

/* MAXPHYADDR (SDM vol. 3A 4.1.4): CPUID.80000008H:EAX[7:0], or 36 on a
 * CPU without that leaf. */
static inline unsigned cpu_phys_addr_bits(void)
{
	uint32_t r[4];

	cpuid(0x80000000u, 0, r);
	if (r[0] < 0x80000008u)
		return 36;
	cpuid(0x80000008u, 0, r);
	return r[0] & 0xff;
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

#ifndef HOST_TEST
/* In a spin-wait loop: tells the CPU we are waiting (saves power, and on a
 * hyperthreaded core gives the sibling the pipeline). */
static inline void cpu_relax(void)
{
	__asm__ volatile("pause" : : : "memory");
}
#else
/* Host tests run more threads than the host has cores: a waiter yields, so
 * that the thread it waits for (a lock holder, say) gets to run. */
#include <sched.h>
static inline void cpu_relax(void)
{
	sched_yield();
}
#endif

static inline void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

#define MSR_APIC_BASE 0x1b
#define MSR_EFER      0xc0000080

#endif
