/*
 * The physical page allocator (kernel/mm/page_alloc.h): one bit per 4 KiB page between
 * the lowest and the highest usable address above 1 MiB, set when the page
 * is not available (in use, reserved, not RAM). Allocation is first fit, so
 * memory freed is memory handed out next, and contiguous runs are easy.
 *
 * The memory map comes from firmware through struct boot_info and is
 * trusted for nothing: regions may be unsorted, overlap, start or end off a
 * page boundary, have zero length (microvm ends its e820 with one), and a
 * reserved region may overlap a usable one. So a page is free only when a
 * MEM_USABLE region covers it entirely and no other region touches it; the
 * first MiB (real-mode structures, BIOS data, the EBDA) and the kernel image
 * are never handed out.
 *
 * Memory is identity mapped, so an address is a page's physical address.
 * Allocation and freeing hold page_lock with interrupts off, so interrupt
 * handlers may allocate too, on any CPU.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86_64/boot/boot_info.h"
#include "kernel/lib/log.h"
#include "kernel/lib/spinlock.h"
#include "kernel/mm/page_alloc.h"

/* Below this, the BIOS and the real-mode world keep their data. */
#define LOW_MEMORY_END (1ull << 20)
/* The bitmap for this much address space is 2 MiB; more is unlikely under
 * QEMU and would only be ignored (with a warning), not misused. */
#define MAX_SPAN (64ull << 30)

static uint64_t mem_lo, mem_hi; /* page-aligned span the bitmap covers */
static uint64_t *bitmap;	/* 1 = unavailable */
static size_t npages;
static size_t nfree;
static size_t first_free; /* no free page below this index */
static uint64_t total_usable;
static uint64_t kernel_lo, kernel_hi;

static uint64_t page_down(uint64_t a)
{
	return a & ~(uint64_t)(PAGE_SIZE - 1);
}

static uint64_t page_up(uint64_t a)
{
	return (a + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
}

/* A region's end, saturated: a hostile length must not wrap around. */
static uint64_t region_end(const struct mem_region *r)
{
	return r->base + r->length < r->base ? UINT64_MAX : r->base + r->length;
}

static bool test_bit(size_t i)
{
	return bitmap[i / 64] & (1ull << (i % 64));
}

static void set_bit(size_t i)
{
	bitmap[i / 64] |= 1ull << (i % 64);
}

static void clear_bit(size_t i)
{
	bitmap[i / 64] &= ~(1ull << (i % 64));
}

/* Mark the pages touching [base, end) unavailable, counting those that
 * were free. */
static void mark_used(uint64_t base, uint64_t end)
{
	if (end <= mem_lo || base >= mem_hi || base >= end)
		return;
	base = base < mem_lo ? mem_lo : page_down(base);
	end = end > mem_hi ? mem_hi : page_up(end);
	for (size_t i = (base - mem_lo) / PAGE_SIZE; i < (end - mem_lo) / PAGE_SIZE; i++) {
		if (!test_bit(i)) {
			set_bit(i);
			nfree--;
		}
	}
}

/* Is [base, end) whole pages of usable RAM that nothing else claims? Used
 * only to place the bitmap, before the bitmap exists. */
static bool range_available(const struct mem_region *regions, unsigned n, uint64_t base,
			    uint64_t end)
{
	bool covered = false;

	if (end <= base || base < LOW_MEMORY_END || base < mem_lo || end > mem_hi)
		return false; /* (end <= base: the range wrapped around) */
	if (base < kernel_hi && end > kernel_lo)
		return false;
	for (unsigned i = 0; i < n; i++) {
		const struct mem_region *r = &regions[i];

		if (r->length == 0)
			continue;
		if (r->type == MEM_USABLE) {
			if (page_up(r->base) <= base && end <= page_down(region_end(r)))
				covered = true;
		} else if (r->base < end && region_end(r) > base) {
			return false;
		}
	}
	return covered;
}

/* The union of the usable regions, in bytes: overlapping entries count once. */
static uint64_t usable_bytes(const struct mem_region *regions, unsigned n)
{
	uint64_t total = 0, covered_to = 0;

	/* Visit the usable regions in order of base without sorting the
	 * caller's array (n is small): each round takes the lowest base at
	 * or above the previous one that was not visited yet. */
	uint64_t prev_base = 0;
	unsigned prev_idx = 0;
	bool first = true;

	for (;;) {
		int best = -1;

		for (unsigned i = 0; i < n; i++) {
			const struct mem_region *r = &regions[i];

			if (r->type != MEM_USABLE || r->length == 0)
				continue;
			/* Strictly after (prev_base, prev_idx) in (base, index) order. */
			if (!first &&
			    (r->base < prev_base || (r->base == prev_base && i <= prev_idx)))
				continue;
			if (best < 0 || r->base < regions[best].base)
				best = (int)i;
		}
		if (best < 0)
			break;
		const struct mem_region *r = &regions[best];
		uint64_t start = r->base > covered_to ? r->base : covered_to;
		uint64_t end = region_end(r);

		if (end > start)
			total += end - start;
		if (end > covered_to)
			covered_to = end;
		prev_base = r->base;
		prev_idx = (unsigned)best;
		first = false;
	}
	return total;
}

void mm_init_from(const struct mem_region *regions, unsigned n, uint64_t kstart, uint64_t kend)
{
	uint64_t lo = UINT64_MAX, hi = 0, bitmap_bytes, place = 0;
	bool placed = false;

	npages = nfree = first_free = 0;
	bitmap = NULL;
	kernel_lo = page_down(kstart);
	kernel_hi = page_up(kend);
	total_usable = usable_bytes(regions, n);

	for (unsigned i = 0; i < n; i++) {
		const struct mem_region *r = &regions[i];
		uint64_t b = page_up(r->base), e = page_down(region_end(r));

		if (r->type != MEM_USABLE || r->length == 0)
			continue;
		if (b < LOW_MEMORY_END)
			b = LOW_MEMORY_END;
		if (e <= b)
			continue;
		if (b < lo)
			lo = b;
		if (e > hi)
			hi = e;
	}
	if (hi == 0) {
		pr_err("mm: no usable RAM above 1 MiB in the %u-entry memory map; expected at "
		       "least one MEM_USABLE region\n",
		       n);
		return;
	}
	if (hi - lo > MAX_SPAN) {
		pr_warn("mm: usable RAM spans 0x%llx-0x%llx; only the first %llu GiB are used\n",
			(unsigned long long)lo, (unsigned long long)hi,
			(unsigned long long)(MAX_SPAN >> 30));
		hi = lo + MAX_SPAN;
	}
	mem_lo = lo;
	mem_hi = hi;
	npages = (hi - lo) / PAGE_SIZE;
	bitmap_bytes = page_up((npages + 63) / 64 * 8);

	/* Where the bitmap can live: right after the kernel if that is free
	 * RAM, else at the start of some usable region or right after some
	 * reserved region (the lowest such place that fits). */
	if (range_available(regions, n, kernel_hi, kernel_hi + bitmap_bytes)) {
		place = kernel_hi;
		placed = true;
	}
	for (unsigned i = 0; i < n && !placed; i++) {
		/* Two candidates per region, whatever its type. */
		uint64_t cand[2] = {page_up(regions[i].base), page_up(region_end(&regions[i]))};

		for (int c = 0; c < 2; c++) {
			uint64_t p = cand[c] < LOW_MEMORY_END ? LOW_MEMORY_END : cand[c];

			if (range_available(regions, n, p, p + bitmap_bytes) &&
			    (!placed || p < place)) {
				place = p;
				placed = true;
			}
		}
	}
	if (!placed) {
		pr_err("mm: no free run of %llu KiB for the page bitmap; the allocator is empty\n",
		       (unsigned long long)(bitmap_bytes >> 10));
		npages = 0;
		return;
	}
	bitmap = (uint64_t *)(uintptr_t)place;

	/* Start with nothing available, open the usable regions, then close
	 * everything that any other region, the kernel or the bitmap touches.
	 * The order makes a reserved entry win over an overlapping usable one. */
	memset(bitmap, 0xff, bitmap_bytes);
	for (unsigned i = 0; i < n; i++) {
		const struct mem_region *r = &regions[i];
		uint64_t b = page_up(r->base), e = page_down(region_end(r));

		if (r->type != MEM_USABLE || r->length == 0)
			continue;
		b = b < lo ? lo : b;
		e = e > hi ? hi : e;
		for (uint64_t a = b; a < e; a += PAGE_SIZE) {
			size_t idx = (a - lo) / PAGE_SIZE;

			if (test_bit(idx)) {
				clear_bit(idx);
				nfree++;
			}
		}
	}
	for (unsigned i = 0; i < n; i++) {
		if (regions[i].type != MEM_USABLE && regions[i].length != 0)
			mark_used(regions[i].base, region_end(&regions[i]));
	}
	mark_used(kernel_lo, kernel_hi);
	mark_used(place, place + bitmap_bytes);
}

#ifndef HOST_TEST
/* From linker/kernel.ld: the first and one past the last byte of the image
 * (code, data, bss, boot stack and page tables). */
extern char __kernel_start[], __kernel_end[];

void mm_init(void)
{
	mm_init_from(boot_info.regions, boot_info.nregions, (uint64_t)(uintptr_t)__kernel_start,
		     (uint64_t)(uintptr_t)__kernel_end);
}
#endif

/* Guards the bitmap, nfree and first_free. A leaf lock: nothing else is
 * taken while it is held. */
static struct spinlock page_lock = SPINLOCK_INIT("page allocator");

void mm_reserve(uint64_t base, uint64_t len)
{
	uint64_t end = base + len < base ? UINT64_MAX : base + len;
	unsigned long flags = spin_lock_irqsave(&page_lock);

	mark_used(base, end);
	spin_unlock_irqrestore(&page_lock, flags);
}

/* First fit: the lowest run of `count` free pages. Returns its index or
 * (size_t)-1. Whole words of used pages are skipped at once. */
static size_t find_run(size_t count)
{
	size_t i = first_free;

	while (i + count <= npages) {
		if (i % 64 == 0 && bitmap[i / 64] == ~0ull) {
			i += 64;
			continue;
		}
		if (test_bit(i)) {
			i++;
			continue;
		}
		size_t j = i;

		while (j < i + count && !test_bit(j))
			j++;
		if (j == i + count)
			return i;
		i = j + 1;
	}
	return (size_t)-1;
}

void *page_alloc_uninit(size_t count)
{
	unsigned long flags = spin_lock_irqsave(&page_lock);
	size_t i = count == 0 || count > nfree ? (size_t)-1 : find_run(count);

	if (i != (size_t)-1) {
		for (size_t k = i; k < i + count; k++)
			set_bit(k);
		nfree -= count;
		if (i == first_free)
			first_free = i + count;
	}
	spin_unlock_irqrestore(&page_lock, flags);
	return i == (size_t)-1 ? NULL : (void *)(uintptr_t)(mem_lo + i * PAGE_SIZE);
}

void *page_alloc(size_t count)
{
	void *p = page_alloc_uninit(count);

	if (p)
		memset(p, 0, count * PAGE_SIZE);
	return p;
}

void page_free(void *p, size_t count)
{
	uint64_t a = (uint64_t)(uintptr_t)p;
	size_t i;

	if (!p || count == 0)
		return;
	if (a % PAGE_SIZE || a < mem_lo || a >= mem_hi || count > (mem_hi - a) / PAGE_SIZE) {
		pr_err("mm: page_free(%p, %zu) is not a run of pages inside 0x%llx-0x%llx\n", p,
		       count, (unsigned long long)mem_lo, (unsigned long long)mem_hi);
		return;
	}
	i = (a - mem_lo) / PAGE_SIZE;
	unsigned long flags = spin_lock_irqsave(&page_lock);
	/* Check everything before changing anything: a double free must not
	 * leave the bitmap half updated. */
	for (size_t k = i; k < i + count; k++) {
		if (!test_bit(k)) {
			spin_unlock_irqrestore(&page_lock, flags);
			pr_err("mm: page_free(%p, %zu): page 0x%llx is already free (double "
			       "free?)\n",
			       p, count, (unsigned long long)(mem_lo + k * PAGE_SIZE));
			return;
		}
	}
	for (size_t k = i; k < i + count; k++)
		clear_bit(k);
	nfree += count;
	if (i < first_free)
		first_free = i;
	spin_unlock_irqrestore(&page_lock, flags);
}

void mm_get_stats(struct mm_stats *st)
{
	unsigned long flags = spin_lock_irqsave(&page_lock);

	st->total_usable = total_usable;
	st->free = (uint64_t)nfree * PAGE_SIZE;
	spin_unlock_irqrestore(&page_lock, flags);
	st->kernel_start = kernel_lo;
	st->kernel_end = kernel_hi;
}
