/*
 * Interrupt routing and dispatch (kernel/irq/irq.h), on the local APIC and
 * IOAPICs (Intel SDM vol. 3A, chapter 10; 82093AA IOAPIC datasheet) as the
 * ACPI MADT describes them (ACPI 6.5, 5.2.12).
 *
 * Every interrupt reaches the CPU as a vector (an IDT index). We own the
 * mapping: a GSI gets a vector from the dynamic range when a driver asks for
 * it, and its IOAPIC redirection entry is programmed to send that vector to
 * this CPU's LAPIC; an MSI vector is simply handed to the driver, whose
 * device writes it into the LAPIC by itself. irq_dispatch() then finds the
 * handlers by vector, and signals end-of-interrupt to the LAPIC, which for a
 * level-triggered vector also tells the IOAPIC it may deliver again.
 *
 * Every GSI goes to the boot CPU; an MSI vector goes where its driver asked
 * (irq_set_msi_cpu). The tables change only in the boot CPU's thread
 * context with interrupts off, at boot and probe time, before the vectors
 * they change can fire elsewhere; every CPU dispatches, so the counts are
 * atomic.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/irqflags.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/pic.h"
#include "arch/x86_64/trap.h"
#include "kernel/acpi/acpi.h"
#include "kernel/console/console.h"
#include "kernel/irq/irq.h"
#include "kernel/lib/log.h"

#define NVECTORS    256
#define MAX_GSI	    256
#define MAX_ACTIONS 64

/* What a vector is used for. */
enum vector_use {
	VEC_FREE = 0,
	VEC_GSI,   /* routed from an IOAPIC input */
	VEC_MSI,   /* written by a device (MSI / MSI-X) */
	VEC_FIXED, /* reserved by the arch: timer, APIC error */
};

struct irq_action {
	irq_handler_t fn; /* NULL: this pool slot is free */
	void *ctx;
	const char *name;
	struct irq_action *next;
};

struct vector_desc {
	enum vector_use use;
	unsigned gsi;	/* VEC_GSI only */
	unsigned flags; /* IRQF_ trigger/polarity/shared, VEC_GSI only */
	struct irq_action *actions;
	bool reported; /* an unhandled interrupt on it was already reported */
	/* VEC_MSI: the LAPIC its messages go to (irq_set_msi_cpu); 0 means
	 * the boot CPU's, as does every GSI. */
	uint32_t dest_apic;
	bool dest_set;
	uint64_t seen_on; /* bit n: CPU n has taken it (CPUs 0-63) */
};

static struct vector_desc vectors[NVECTORS];
/* Every CPU dispatches (each takes its own timer), so the counts are
 * atomic; this_cpu()->irqs counts per CPU. */
static uint64_t counts[NVECTORS];
static struct irq_action action_pool[MAX_ACTIONS];
static uint8_t gsi_vector[MAX_GSI]; /* 0: GSI not routed */
static uint8_t bsp_lapic_id;
static bool irq_ready;

/* ---- ISA IRQ -> GSI, from the MADT interrupt source overrides ---- */

/* MPS INTI flags (ACPI 5.2.12.5, table 5.26): polarity in bits 0-1 and
 * trigger mode in bits 2-3; 00 means "conforms to the bus", which for ISA
 * is active-high, edge-triggered. */
static unsigned inti_to_irqf(uint16_t inti)
{
	unsigned flags = IRQF_EDGE;

	if ((inti & 3) == 3)
		flags |= IRQF_ACTIVE_LOW;
	if (((inti >> 2) & 3) == 3)
		flags = (flags & ~IRQF_EDGE) | IRQF_LEVEL;
	return flags;
}

unsigned isa_irq_to_gsi(unsigned isa_irq, unsigned *flags)
{
	for (unsigned i = 0; i < acpi_info.noverrides; i++) {
		const struct acpi_override *ov = &acpi_info.overrides[i];
		if (ov->isa_irq == isa_irq) {
			if (flags)
				*flags = inti_to_irqf(ov->flags);
			return ov->gsi;
		}
	}
	/* No override: ISA IRQ n is GSI n, edge, active high. */
	if (flags)
		*flags = IRQF_EDGE;
	return isa_irq;
}

/* Trigger mode and polarity for a request that gave none: whatever an
 * override says about the ISA IRQ wired to this GSI, else ISA's edge/high. */
static unsigned resolve_flags(unsigned gsi, unsigned flags)
{
	if (flags & (IRQF_EDGE | IRQF_LEVEL))
		return flags;
	for (unsigned i = 0; i < acpi_info.noverrides; i++)
		if (acpi_info.overrides[i].gsi == gsi)
			return (flags & IRQF_SHARED) | inti_to_irqf(acpi_info.overrides[i].flags);
	return flags | IRQF_EDGE;
}

/* ---- vectors and handler lists ---- */

static int alloc_vector(void)
{
	for (int v = VECTOR_DYNAMIC_FIRST; v <= VECTOR_DYNAMIC_LAST; v++)
		if (vectors[v].use == VEC_FREE)
			return v;
	return -ENOSPC;
}

int irq_unused_vector(void)
{
	return alloc_vector();
}

bool irq_vector_unused(int vector)
{
	return vector >= 0 && vector < NVECTORS && vectors[vector].use == VEC_FREE;
}

static void release_vector(int v)
{
	vectors[v] = (struct vector_desc){0};
}

static int add_action(int v, irq_handler_t fn, void *ctx, const char *name)
{
	struct irq_action **pp;

	for (unsigned i = 0; i < MAX_ACTIONS; i++) {
		struct irq_action *a = &action_pool[i];
		if (a->fn)
			continue;
		*a = (struct irq_action){fn, ctx, name, NULL};
		/* Append, so handlers run in the order they were requested. */
		for (pp = &vectors[v].actions; *pp; pp = &(*pp)->next)
			;
		*pp = a;
		return 0;
	}
	pr_err("irq: no free handler slot for %s (all %u in use)\n", name, MAX_ACTIONS);
	return -ENOSPC;
}

/* Remove fn/ctx (or every handler when fn is NULL); return how many were
 * removed. */
static int remove_actions(int v, irq_handler_t fn, void *ctx)
{
	struct irq_action **pp = &vectors[v].actions;
	int n = 0;

	while (*pp) {
		struct irq_action *a = *pp;
		if (!fn || (a->fn == fn && a->ctx == ctx)) {
			*pp = a->next;
			*a = (struct irq_action){0};
			n++;
		} else {
			pp = &a->next;
		}
	}
	return n;
}

/* ---- GSIs ---- */

int request_irq(unsigned gsi, unsigned flags, irq_handler_t handler, void *ctx, const char *name)
{
	unsigned long fl;
	int v, err;

	if (!irq_ready)
		return -EAGAIN;
	if (!handler)
		return -EINVAL;
	if (gsi >= MAX_GSI || !ioapic_has_gsi(gsi)) {
		pr_err("irq: %s asks for GSI %u, but the IOAPICs serve only GSIs below %u\n", name,
		       gsi, ioapic_gsi_end());
		return -EINVAL;
	}
	flags = resolve_flags(gsi, flags);

	fl = irq_save();
	v = gsi_vector[gsi];
	if (v) {
		/* Already routed: share it only if both sides agree to share
		 * and want the same electrical behaviour. */
		struct vector_desc *d = &vectors[v];
		const unsigned mode = IRQF_LEVEL | IRQF_ACTIVE_LOW;
		if (!(d->flags & IRQF_SHARED) || !(flags & IRQF_SHARED) ||
		    (d->flags & mode) != (flags & mode)) {
			irq_restore(fl);
			pr_err("irq: GSI %u is taken (%s, flags %#x); %s asked with flags %#x\n",
			       gsi, d->actions ? d->actions->name : "?", d->flags, name, flags);
			return -EBUSY;
		}
		err = add_action(v, handler, ctx, name);
		irq_restore(fl);
		return err ? err : v;
	}

	v = alloc_vector();
	if (v < 0) {
		irq_restore(fl);
		pr_err("irq: no free vector for %s (GSI %u)\n", name, gsi);
		return v;
	}
	vectors[v] = (struct vector_desc){.use = VEC_GSI, .gsi = gsi, .flags = flags};
	err = add_action(v, handler, ctx, name);
	if (!err)
		err = ioapic_route(gsi, (uint8_t)v, flags & IRQF_LEVEL, flags & IRQF_ACTIVE_LOW,
				   bsp_lapic_id);
	if (err) {
		remove_actions(v, NULL, NULL);
		release_vector(v);
		irq_restore(fl);
		return err;
	}
	gsi_vector[gsi] = (uint8_t)v;
	ioapic_mask(gsi, false);
	irq_restore(fl);
	return v;
}

void free_irq(unsigned gsi, irq_handler_t handler, void *ctx)
{
	unsigned long fl;
	int v;

	if (gsi >= MAX_GSI || !gsi_vector[gsi])
		return;
	fl = irq_save();
	v = gsi_vector[gsi];
	remove_actions(v, handler, ctx);
	if (!vectors[v].actions) {
		ioapic_reset(gsi);
		gsi_vector[gsi] = 0;
		release_vector(v);
	}
	irq_restore(fl);
}

void irq_mask(unsigned gsi)
{
	ioapic_mask(gsi, true);
}

void irq_unmask(unsigned gsi)
{
	ioapic_mask(gsi, false);
}

/* ---- message-signalled interrupts ---- */

int request_msi_vector(irq_handler_t handler, void *ctx, const char *name)
{
	unsigned long fl;
	int v, err;

	if (!irq_ready)
		return -EAGAIN;
	if (!handler)
		return -EINVAL;
	fl = irq_save();
	v = alloc_vector();
	if (v < 0) {
		irq_restore(fl);
		pr_err("irq: no free vector for %s (MSI)\n", name);
		return v;
	}
	vectors[v] = (struct vector_desc){.use = VEC_MSI};
	err = add_action(v, handler, ctx, name);
	if (err)
		release_vector(v);
	irq_restore(fl);
	return err ? err : v;
}

void free_msi_vector(int vector)
{
	unsigned long fl;

	if (vector < 0 || vector >= NVECTORS || vectors[vector].use != VEC_MSI)
		return;
	fl = irq_save();
	remove_actions(vector, NULL, NULL);
	release_vector(vector);
	irq_restore(fl);
}

/* Intel SDM vol. 3A, 10.11.1: the MSI address is 0xFEExxxxx with the
 * destination LAPIC id in bits 12-19; RH = 0 and DM = 0 (physical). */
uint64_t msi_address(int vector)
{
	uint32_t dest = bsp_lapic_id;

	if (vector >= 0 && vector < NVECTORS && vectors[vector].use == VEC_MSI &&
	    vectors[vector].dest_set)
		dest = vectors[vector].dest_apic;
	return 0xfee00000ull | ((uint64_t)(dest & 0xff) << 12);
}

int irq_set_msi_cpu(int vector, uint32_t apic_id)
{
	unsigned long fl;

	if (vector < 0 || vector >= NVECTORS || apic_id >= XAPIC_MAX_ID)
		return -EINVAL;
	fl = irq_save();
	if (vectors[vector].use != VEC_MSI) {
		irq_restore(fl);
		return -EINVAL;
	}
	vectors[vector].dest_apic = apic_id;
	vectors[vector].dest_set = true;
	irq_restore(fl);
	return 0;
}

uint64_t irq_vector_cpus(int vector)
{
	if (vector < 0 || vector >= NVECTORS)
		return 0;
	return __atomic_load_n(&vectors[vector].seen_on, __ATOMIC_RELAXED);
}

/* 10.11.2: vector in bits 0-7, delivery mode fixed (000), edge trigger. */
uint32_t msi_data(int vector)
{
	return (uint32_t)vector & 0xff;
}

int request_fixed_vector(int vector, irq_handler_t handler, void *ctx, const char *name)
{
	unsigned long fl;
	int err;

	if (vector < 0x20 || vector >= NVECTORS || !handler ||
	    (vector >= VECTOR_DYNAMIC_FIRST && vector <= VECTOR_DYNAMIC_LAST))
		return -EINVAL;
	fl = irq_save();
	if (vectors[vector].use != VEC_FREE && vectors[vector].use != VEC_FIXED) {
		irq_restore(fl);
		return -EBUSY;
	}
	vectors[vector].use = VEC_FIXED;
	err = add_action(vector, handler, ctx, name);
	irq_restore(fl);
	return err;
}

/* ---- dispatch ---- */

/* An interrupt nobody asked for: say so once per vector. Interrupt context,
 * so no printf (it might be in the middle of one); format by hand. */
static void report_unhandled(unsigned vector)
{
	static const char hex[] = "0123456789abcdef";
	char msg[] = "warning: irq: interrupt on vector 0x?? with no handler; counted\n";
	char *p = strchr(msg, '?');

	if (vectors[vector].reported)
		return;
	vectors[vector].reported = true;
	p[0] = hex[(vector >> 4) & 0xf];
	p[1] = hex[vector & 0xf];
	console_write(msg, sizeof(msg) - 1);
}

/* Every interrupt vector (32-255) lands here, from arch/x86_64/trap.c. */
static void irq_dispatch(unsigned vector)
{
	struct irq_action *a;

	if (vector >= NVECTORS)
		return;
	__atomic_fetch_add(&counts[vector], 1, __ATOMIC_RELAXED);
	this_cpu()->irqs++;
	if (this_cpu()->index < 64)
		__atomic_fetch_or(&vectors[vector].seen_on, 1ull << this_cpu()->index,
				  __ATOMIC_RELAXED);
	/* SDM 10.9: a spurious interrupt does not set an in-service bit, so it
	 * must not get an EOI (that would retire some other interrupt). */
	if (vector == VECTOR_SPURIOUS)
		return;
	a = vectors[vector].actions;
	if (!a)
		report_unhandled(vector);
	/* Every handler on a shared line runs: each checks its own device. */
	for (; a; a = a->next)
		a->fn(a->ctx);
	/* After the handlers, so a level-triggered device has dropped its line
	 * by the time the IOAPIC sees the EOI and samples it again. */
	if (lapic_enabled())
		lapic_eoi();
}

uint64_t irq_vector_count(int vector)
{
	if (vector < 0 || vector >= NVECTORS)
		return 0;
	return __atomic_load_n(&counts[vector], __ATOMIC_RELAXED);
}

static void print_vector(unsigned v)
{
	const struct vector_desc *d = &vectors[v];
	char src[16];
	char names[64] = "";
	size_t len = 0;

	switch (d->use) {
	case VEC_GSI:
		snprintf(src, sizeof(src), "GSI %u", d->gsi);
		break;
	case VEC_MSI:
		snprintf(src, sizeof(src), "msi");
		break;
	case VEC_FIXED:
		snprintf(src, sizeof(src), "lapic");
		break;
	default:
		snprintf(src, sizeof(src), v == VECTOR_SPURIOUS ? "spurious" : "-");
		break;
	}
	for (const struct irq_action *a = d->actions; a && len < sizeof(names); a = a->next)
		len += snprintf(names + len, sizeof(names) - len, "%s%s", len ? "," : "",
				a->name ? a->name : "?");
	printf("0x%02x  %-9s %4u  %-24s %10llu  0x%llx\n", v, src,
	       (unsigned)(d->use == VEC_MSI && d->dest_set ? d->dest_apic : bsp_lapic_id),
	       len ? names : "(none)", (unsigned long long)irq_vector_count((int)v),
	       (unsigned long long)irq_vector_cpus((int)v));
}

void irq_print_counts(void)
{
	/* "to": the APIC id the source sends to (fixed vectors: every CPU
	 * has its own LAPIC source; shown is the boot CPU's); "cpus": a mask
	 * of the CPUs (by index) that took it. */
	printf("vec   source      to  handler                       count  cpus\n");
	for (unsigned v = 0x20; v < NVECTORS; v++)
		if (vectors[v].use != VEC_FREE || irq_vector_count((int)v))
			print_vector(v);
}

/* ---- setup ---- */

static void apic_error(void *ctx)
{
	static unsigned reported;
	uint32_t esr = lapic_read_esr();

	/* Like report_unhandled: interrupt context, no printf. Once is enough
	 * to tell someone to look; the count shows in `irqs`. */
	if (!reported++) {
		static const char msg[] = "warning: irq: LAPIC error interrupt (see ESR)\n";
		console_write(msg, sizeof(msg) - 1);
	}
	(void)esr;
}

void irq_init(void)
{
	uint64_t lapic_phys = acpi_info.lapic_addr;

	/* Interrupts stay off until kmain's sti, but the 8259 may already
	 * hold a pending timer interrupt from the BIOS: silence it first. */
	pic_disable();

	if (!acpi_present() || !lapic_phys) {
		lapic_phys = LAPIC_DEFAULT_ADDR;
		pr_info("irq: no ACPI MADT; using the standard LAPIC address %#llx\n",
			(unsigned long long)lapic_phys);
	}
	lapic_init(lapic_phys);
	bsp_lapic_id = (uint8_t)lapic_id();

	for (unsigned i = 0; i < acpi_info.nioapics; i++) {
		const struct acpi_ioapic *io = &acpi_info.ioapics[i];
		int err = ioapic_add(io->id, io->addr, io->gsi_base);
		if (err)
			pr_err("irq: IOAPIC id %u at %#x (GSI base %u) unusable: %d\n", io->id,
			       (unsigned)io->addr, (unsigned)io->gsi_base, err);
	}
	if (acpi_info.nioapics == 0) {
		pr_info("irq: no IOAPIC in the MADT; assuming the standard one at 0xfec00000, "
			"GSI base 0\n");
		ioapic_add(0, 0xfec00000ull, 0);
	}
	request_fixed_vector(VECTOR_APIC_ERROR, apic_error, NULL, "apic-error");
	trap_set_irq_handler(irq_dispatch);
	irq_ready = true;

	pr_info("irq: LAPIC id %u at %#llx (version %#x), %u IOAPIC(s), GSIs 0-%u\n",
		(unsigned)bsp_lapic_id, (unsigned long long)lapic_phys,
		(unsigned)(lapic_version() & 0xff), ioapic_count(), ioapic_gsi_end() - 1);
}
