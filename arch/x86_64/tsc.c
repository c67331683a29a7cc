/*
 * The clocks of an x86 CPU, measured once at boot (kernel/time/ builds the
 * kernel's time on them): the time-stamp counter and the local APIC timer.
 *
 * The TSC (Intel SDM vol. 3B, 17.17) counts at a constant rate on every CPU
 * we run on (invariant TSC; under QEMU TCG it follows the host's), so
 * elapsed time is just a scaled TSC difference. Its rate is not
 * architecturally visible everywhere. In order of preference we take it from:
 *   - the hypervisor timing leaf CPUID 0x40000010 (EAX = TSC kHz, EBX =
 *     LAPIC bus kHz), which KVM/VMware expose when they know it;
 *   - CPUID 0x15 (TSC/crystal ratio and crystal Hz) or, without a crystal
 *     value, CPUID 0x16 (base frequency, MHz) (SDM vol. 2A, CPUID);
 *   - a measurement against the 8254 PIT, whose input clock is a fixed
 *     1.193182 MHz (8254 datasheet): count the TSC over ~10 ms of PIT time.
 * (Under QEMU TCG the TSC follows the host's TSC and the CPUID leaves are
 * absent, so it is the PIT.)
 *
 * The LAPIC timer (SDM vol. 3A, 10.5.4) runs at an unspecified bus rate,
 * so it is measured too: against the same PIT interval, or against the TSC.
 */
#include <stdint.h>
#include <stdio.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/tsc.h"

#define NS_PER_SEC 1000000000ull

/* 8254 PIT (ports 0x40-0x43) and the PC's port 0x61 ("system control port
 * B"): bit 0 drives channel 2's GATE, bit 1 connects channel 2 to the
 * speaker, bit 5 reads channel 2's OUT pin. */
#define PIT_HZ	     1193182u
#define PIT_CH0	     0x40
#define PIT_CH2	     0x42
#define PIT_CMD	     0x43
#define PORT_61	     0x61
#define P61_GATE2    0x01
#define P61_SPEAKER  0x02
#define CALIBRATE_MS 10
#define PIT_LATCH    (PIT_HZ * CALIBRATE_MS / 1000)
#define SAMPLE_TRIES 4 /* readings per sample; the least disturbed one counts */
#define LAPIC_CAL_MS 5 /* LAPIC-vs-TSC measurement, when no PIT run */

static uint64_t tsc_hz;
static uint64_t ns_mult; /* ns = (tsc_delta * ns_mult) >> 32 */
static const char *tsc_source_name = "none";
static uint64_t lapic_timer_hz; /* after the divider */

/* ---- TSC frequency from CPUID ---- */

static uint64_t tsc_from_cpuid(uint64_t *lapic_bus_hz)
{
	uint32_t r[4];
	uint32_t max_leaf;

	cpuid(0, 0, r);
	max_leaf = r[0];
	cpuid(1, 0, r);
	/* CPUID.1:ECX bit 31: running under a hypervisor, whose leaves start
	 * at 0x40000000 (EAX there = highest hypervisor leaf). */
	if (r[2] & (1u << 31)) {
		cpuid(0x40000000, 0, r);
		if (r[0] >= 0x40000010 && r[0] < 0x40010000) {
			cpuid(0x40000010, 0, r);
			if (r[0]) {
				*lapic_bus_hz = (uint64_t)r[1] * 1000;
				tsc_source_name = "hypervisor CPUID 0x40000010";
				return (uint64_t)r[0] * 1000;
			}
		}
	}
	if (max_leaf >= 0x15) {
		/* EAX = denominator, EBX = numerator of TSC/crystal, ECX =
		 * crystal Hz (0 if not enumerated). */
		cpuid(0x15, 0, r);
		if (r[0] && r[1] && r[2]) {
			tsc_source_name = "CPUID 0x15";
			return (uint64_t)r[2] * r[1] / r[0];
		}
		if (r[0] && r[1] && max_leaf >= 0x16) {
			cpuid(0x16, 0, r);
			if (r[0] & 0xffff) {
				tsc_source_name = "CPUID 0x16";
				return (uint64_t)(r[0] & 0xffff) * 1000000;
			}
		}
	}
	return 0;
}

/* ---- TSC frequency measured against the PIT ---- */

/*
 * One PIT channel counts down from 0xffff (mode 0); we read its count twice,
 * PIT_LATCH counts (~10 ms) apart, noting the TSC and the LAPIC timer each
 * time. A port access can stall (an SMI on hardware; under QEMU TCG, the
 * wait for the emulator's big lock), and a stall between a reading and its
 * timestamp is an error in the result. So every reading is taken between two
 * TSC reads and repeated; the one with the narrowest TSC window wins, and the
 * window's midpoint is its time.
 *
 * Channel 2 is preferred: it is nobody's interrupt and its gate is ours to
 * open through port 0x61. Where nothing decodes port 0x61 (microvm), channel
 * 2's gate stays low and it never counts, so channel 0 it is; its interrupt
 * (ISA IRQ 0) is masked at the PIC and the IOAPIC.
 */
struct clock_sample {
	uint64_t tsc;
	uint16_t pit;
	uint32_t lapic;
};

static uint16_t pit_read(unsigned ch)
{
	uint8_t lo, hi;

	outb(PIT_CMD, ch << 6); /* counter latch: freeze the count for reading */
	lo = inb(PIT_CH0 + ch);
	hi = inb(PIT_CH0 + ch);
	return (uint16_t)(lo | hi << 8);
}

/* ch < 0: sample only the TSC and the LAPIC timer. */
static void clock_sample(int ch, struct clock_sample *s)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < SAMPLE_TRIES; i++) {
		uint64_t t0 = rdtsc();
		uint16_t pit = ch >= 0 ? pit_read(ch) : 0;
		uint32_t lapic = lapic_timer_current();
		uint64_t t1 = rdtsc();
		if (t1 - t0 < best) {
			best = t1 - t0;
			*s = (struct clock_sample){t0 + (t1 - t0) / 2, pit, lapic};
		}
	}
}

/* Returns the TSC frequency, or 0 if this channel does not count. */
static uint64_t pit_measure(unsigned ch, uint32_t *lapic_elapsed, uint64_t *tsc_elapsed)
{
	struct clock_sample a, b;
	uint16_t first;
	unsigned polls = 0;

	outb(PIT_CMD, ch << 6 | 0x30); /* low then high byte, mode 0, binary */
	outb(PIT_CH0 + ch, 0xff);
	outb(PIT_CH0 + ch, 0xff);
	lapic_timer_oneshot_masked(0xffffffffu);

	/* The count changes every 838 ns; a channel that is gated off, or a
	 * PIT that is not there (all ones), reads the same a thousand times. */
	first = pit_read(ch);
	while (pit_read(ch) == first)
		if (++polls == 1000)
			return 0;
	clock_sample(ch, &a);
	while ((uint16_t)(a.pit - pit_read(ch)) < PIT_LATCH)
		;
	clock_sample(ch, &b);
	lapic_timer_stop();

	*tsc_elapsed = b.tsc - a.tsc;
	*lapic_elapsed = a.lapic - b.lapic;
	return *tsc_elapsed * PIT_HZ / (uint16_t)(a.pit - b.pit);
}

static uint64_t tsc_from_pit(uint32_t *lapic_elapsed, uint64_t *tsc_elapsed)
{
	uint8_t p61 = inb(PORT_61);
	uint64_t hz = 0;

	/* Port 0x61 reads as all ones where nothing decodes it. */
	if (p61 != 0xff) {
		outb(PORT_61, (p61 & ~P61_SPEAKER) | P61_GATE2);
		hz = pit_measure(2, lapic_elapsed, tsc_elapsed);
		outb(PORT_61, p61);
		tsc_source_name = "PIT channel 2";
	}
	if (!hz) {
		hz = pit_measure(0, lapic_elapsed, tsc_elapsed);
		tsc_source_name = "PIT channel 0";
	}
	return hz;
}

/* Count the LAPIC timer over LAPIC_CAL_MS of TSC time. */
static uint64_t lapic_from_tsc(void)
{
	struct clock_sample a, b;
	uint64_t wait = tsc_hz * LAPIC_CAL_MS / 1000;

	lapic_timer_oneshot_masked(0xffffffffu);
	clock_sample(-1, &a);
	while (rdtsc() - a.tsc < wait)
		cpu_relax();
	clock_sample(-1, &b);
	lapic_timer_stop();
	return (uint64_t)((unsigned __int128)(a.lapic - b.lapic) * tsc_hz / (b.tsc - a.tsc));
}

/* ---- the results ---- */

void tsc_calibrate(void)
{
	uint64_t lapic_bus_hz = 0, tsc_elapsed = 0;
	uint32_t lapic_elapsed = 0;

	tsc_hz = tsc_from_cpuid(&lapic_bus_hz);
	if (!tsc_hz) {
		tsc_hz = tsc_from_pit(&lapic_elapsed, &tsc_elapsed);
		if (tsc_hz && lapic_elapsed)
			lapic_timer_hz =
				(uint64_t)((unsigned __int128)lapic_elapsed * tsc_hz / tsc_elapsed);
	}
	if (!tsc_hz) {
		tsc_hz = 1000000000ull;
		tsc_source_name = "guessed";
		printf("warning: timer: no TSC frequency from CPUID and no PIT to measure it "
		       "against; assuming 1 GHz, so time will be off\n");
	}
	/* 2^32 * 10^9 fits in 64 bits; ns_mult < 2^32 * 10^9 / tsc_hz. */
	ns_mult = (NS_PER_SEC << 32) / tsc_hz;

	if (lapic_bus_hz)
		lapic_timer_hz = lapic_bus_hz / LAPIC_TIMER_DIVIDE;
	if (!lapic_timer_hz)
		lapic_timer_hz = lapic_from_tsc();
}

uint64_t tsc_frequency(void)
{
	return tsc_hz;
}

const char *tsc_source(void)
{
	return tsc_source_name;
}

uint64_t tsc_to_ns(uint64_t tsc_delta)
{
	return (uint64_t)(((unsigned __int128)tsc_delta * ns_mult) >> 32);
}

uint64_t lapic_timer_frequency(void)
{
	return lapic_timer_hz;
}
