/*
 * `test=irq`: the interrupt layer (kernel/irq/irq.c) on the local APIC and
 * IOAPICs. Interrupts are injected with self-IPIs, so no device is needed:
 * an MSI vector is dispatched and end-of-interrupt'ed, two handlers share a
 * level-triggered GSI, an incompatible request for it is refused, an
 * interrupt nobody asked for is counted and survived, and ISA IRQ 0 maps to
 * an IOAPIC input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/irqflags.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/trap.h"
#include "kernel/irq/irq.h"
#include "kernel/selftest/selftest.h"

static volatile unsigned st_hits[2];

static void st_handler(void *ctx)
{
	st_hits[(uintptr_t)ctx]++;
}

/* Send `vector` to ourselves and give it a moment to arrive, with
 * interrupts on (the IPI is delivered as soon as they are). */
static void self_ipi(uint8_t vector)
{
	unsigned long fl = irq_save();
	uint64_t before = irq_vector_count(vector);

	lapic_send_self_ipi(vector);
	__asm__ volatile("sti" ::: "memory");
	for (unsigned i = 0; i < 1000000 && irq_vector_count(vector) == before; i++)
		cpu_relax();
	__asm__ volatile("cli" ::: "memory");
	irq_restore(fl);
}

static void irq_selftest(void)
{
	unsigned gsi_flags;
	int v, v2;
	unsigned gsi;

	/* An MSI vector: allocated from the dynamic range, dispatched, EOId
	 * (otherwise the second one would never arrive). */
	v = request_msi_vector(st_handler, (void *)0, "selftest-msi");
	check(v >= VECTOR_DYNAMIC_FIRST && v <= VECTOR_DYNAMIC_LAST,
	      "MSI vector %d is in the dynamic range", v);
	if (v > 0) {
		st_hits[0] = 0;
		self_ipi((uint8_t)v);
		self_ipi((uint8_t)v);
		check(st_hits[0] == 2 && irq_vector_count(v) == 2,
		      "two self-IPIs on vector %#x: handler ran %u times, count %llu", v,
		      st_hits[0], (unsigned long long)irq_vector_count(v));
		/* Steering: the message address names the chosen LAPIC in
		 * bits 12-19 (SDM 10.11.1); ids the xAPIC cannot name and
		 * vectors that are not MSI are refused. */
		uint64_t boot = msi_address(v);
		check(irq_set_msi_cpu(v, 5) == 0 && msi_address(v) == (0xfee00000ull | 5 << 12),
		      "vector %#x steered to APIC id 5: address %#llx (was %#llx)", v,
		      (unsigned long long)msi_address(v), (unsigned long long)boot);
		check(irq_set_msi_cpu(v, 0xff) == -EINVAL &&
			      irq_set_msi_cpu(VECTOR_TIMER, 1) == -EINVAL,
		      "the broadcast id and a non-MSI vector are refused");
		free_msi_vector(v);
		check(msi_address(v) == boot, "a freed vector forgets its CPU (%#llx)",
		      (unsigned long long)msi_address(v));
	}
	check((msi_address(0x41) & 0xfff00000u) == 0xfee00000u && (msi_data(0x41) & 0xffff) == 0x41,
	      "MSI address %#llx, data for vector 0x41 %#x", (unsigned long long)msi_address(0x41),
	      (unsigned)msi_data(0x41));

	/* Two handlers sharing a level-triggered GSI (as PCI INTx does) both
	 * run. The highest GSI is unused on every QEMU machine; keep it masked
	 * so nothing real fires, and inject its vector with an IPI. */
	gsi = ioapic_gsi_end() - 1;
	const unsigned pci = IRQF_LEVEL | IRQF_ACTIVE_LOW | IRQF_SHARED;
	v = request_irq(gsi, pci, st_handler, (void *)0, "selftest-a");
	v2 = request_irq(gsi, pci, st_handler, (void *)1, "selftest-b");
	check(v >= VECTOR_DYNAMIC_FIRST && v == v2, "GSI %u shared: vectors %d and %d", gsi, v, v2);
	printf("# an \"error: irq: GSI %u is taken\" line is expected next\n", gsi);
	check(request_irq(gsi, IRQF_EDGE, st_handler, (void *)0, "selftest-c") == -EBUSY,
	      "an unshared edge request on the same GSI is refused with -EBUSY");
	if (v > 0) {
		irq_mask(gsi);
		st_hits[0] = st_hits[1] = 0;
		self_ipi((uint8_t)v);
		check(st_hits[0] == 1 && st_hits[1] == 1, "both shared handlers ran (%u, %u)",
		      st_hits[0], st_hits[1]);
		free_irq(gsi, st_handler, (void *)0);
		free_irq(gsi, st_handler, (void *)1);
		check(irq_vector_unused(v), "vector %#x free again after free_irq", v);
	}

	/* An interrupt nobody asked for is counted and reported, not fatal. */
	v = irq_unused_vector();
	if (v > 0) {
		printf("# a \"no handler\" warning for vector %#x is expected next\n", v);
		uint64_t before = irq_vector_count(v);
		self_ipi((uint8_t)v);
		check(irq_vector_count(v) == before + 1,
		      "an unhandled vector %#x is counted and survived", v);
	}

	gsi = isa_irq_to_gsi(0, &gsi_flags);
	check(ioapic_has_gsi(gsi), "ISA IRQ 0 (the PIT) is GSI %u (flags %#x), an IOAPIC input",
	      gsi, gsi_flags);
}
SELFTEST(irq, irq_selftest);
