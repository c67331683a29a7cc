/*
 * Host unit test for the physical page allocator (kernel/mm/page_alloc.c). The "RAM"
 * is an anonymous mapping placed at its real physical address range
 * (0x80000 up), so memory maps can look exactly like the e820 maps QEMU
 * gives: unsorted, overlapping, unaligned, with a zero-length last entry,
 * with the first MiB and the kernel image to avoid. Every page handed out is
 * checked against all of that, filled with a pattern (so a page that
 * overlapped the allocator's own bitmap would corrupt it and show up), and
 * freed again.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "arch/x86_64/boot/boot_info.h"
#include "kernel/mm/page_alloc.h"
#include "test/host/tap.h"

#define MiB	  (1ull << 20)
#define RAM_START 0x80000ull
#define RAM_END	  (48 * MiB)
#define MAX_PAGES (RAM_END / PAGE_SIZE)

static void *pages[MAX_PAGES];

static uint64_t free_bytes(void)
{
	struct mm_stats st;

	mm_get_stats(&st);
	return st.free;
}

static bool all_zero(const void *p, size_t len)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++)
		if (c[i])
			return false;
	return true;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * Allocate single pages until the allocator says no; check each one is an
 * aligned, zeroed page above 1 MiB, outside [avoid_lo, avoid_hi) ranges,
 * inside some usable region. Returns how many were handed out (all are
 * kept in pages[] for the caller to free).
 */
struct range {
	uint64_t lo, hi;
};

static size_t drain(const char *what, const struct range *avoid, int navoid)
{
	size_t n = 0, bad_align = 0, bad_low = 0, bad_avoid = 0, bad_zero = 0, dup = 0;
	uint64_t prev = 0;

	while (n < MAX_PAGES && (pages[n] = page_alloc(1)) != NULL) {
		uint64_t a = (uint64_t)(uintptr_t)pages[n];

		bad_align += a % PAGE_SIZE != 0;
		bad_low += a < MiB;
		for (int i = 0; i < navoid; i++)
			bad_avoid += overlaps(a, PAGE_SIZE, avoid[i].lo, avoid[i].hi - avoid[i].lo);
		bad_zero += !all_zero(pages[n], PAGE_SIZE);
		/* First fit over single pages hands them out in increasing
		 * order: a repeat would show up as a non-increasing address. */
		dup += n > 0 && a <= prev;
		prev = a;
		memset(pages[n], 0xa5, PAGE_SIZE);
		n++;
	}
	CHECK(bad_align == 0, "%s: every page is page aligned", what);
	CHECK(bad_low == 0, "%s: no page below 1 MiB", what);
	CHECK(bad_avoid == 0, "%s: no page in the kernel or a reserved range (%zu did)", what,
	      bad_avoid);
	CHECK(bad_zero == 0, "%s: every page arrives zeroed (%zu did not)", what, bad_zero);
	CHECK(dup == 0, "%s: no page handed out twice", what);
	return n;
}

static void free_all(size_t n)
{
	for (size_t i = 0; i < n; i++)
		page_free(pages[i], 1);
}

/* A q35-like map, shuffled, with an unaligned reserved hole inside usable
 * RAM and microvm's zero-length tail entry. */
static void test_unsorted_map(void)
{
	const struct mem_region map[] = {
		{0x100000, 31 * MiB, MEM_USABLE, 0},
		{0xf0000, 0x10000, MEM_RESERVED, 0},
		{0x0, 0x9fc00, MEM_USABLE, 0},
		{0x1800800, 0x1000, MEM_ACPI_RECLAIM, 0}, /* touches two pages */
		{0x9fc00, 0x400, MEM_RESERVED, 0},
		{0, 0, 0, 0},
	};
	const uint64_t kstart = 2 * MiB, kend = 0x345678;
	/* The bitmap (32 MiB / 4 KiB / 8 = 1 KiB: one page) goes right after
	 * the kernel image. */
	const struct range avoid[] = {{kstart, 0x346000 + PAGE_SIZE}, {0x1800000, 0x1802000}};
	const uint64_t expect_free = 31 * MiB - (0x346000 - kstart) - PAGE_SIZE - 2 * PAGE_SIZE;
	struct mm_stats st;
	size_t n;

	mm_init_from(map, sizeof map / sizeof map[0], kstart, kend);
	mm_get_stats(&st);
	CHECK(st.total_usable == 0x9fc00 + 31 * MiB, "unsorted: total usable 0x%llx",
	      (unsigned long long)st.total_usable);
	CHECK(st.free == expect_free, "unsorted: free 0x%llx, expected 0x%llx",
	      (unsigned long long)st.free, (unsigned long long)expect_free);
	CHECK(st.kernel_start == kstart && st.kernel_end == 0x346000,
	      "unsorted: kernel range reported page-rounded");

	n = drain("unsorted", avoid, 2);
	CHECK(n * PAGE_SIZE == expect_free, "unsorted: every free page handed out (%zu)", n);
	CHECK(n > 0 && pages[0] == (void *)(uintptr_t)MiB, "unsorted: first fit starts at 1 MiB");
	CHECK(page_alloc(1) == NULL && free_bytes() == 0, "unsorted: exhausted, NULL");
	free_all(n);
	CHECK(free_bytes() == expect_free, "unsorted: all free again after freeing");
	CHECK(page_alloc(1) == (void *)(uintptr_t)MiB, "unsorted: reuse starts at 1 MiB again");
}

/* Usable entries that overlap or repeat, and one that is not page aligned. */
static void test_overlapping_map(void)
{
	const struct mem_region map[] = {
		{4 * MiB, 8 * MiB, MEM_USABLE, 0},	    {1 * MiB, 7 * MiB, MEM_USABLE, 0},
		{4 * MiB, 8 * MiB, MEM_USABLE, 0}, /* a duplicate */
		{20 * MiB + 0x800, 2 * MiB, MEM_USABLE, 0}, {0, 0, MEM_USABLE, 0},
	};
	const uint64_t kstart = 1 * MiB, kend = 2 * MiB;
	const struct range avoid[] = {
		{0, 2 * MiB + PAGE_SIZE}, {12 * MiB, 20 * MiB + PAGE_SIZE}, {22 * MiB, 48 * MiB}};
	struct mm_stats st;
	size_t n;

	mm_init_from(map, sizeof map / sizeof map[0], kstart, kend);
	mm_get_stats(&st);
	CHECK(st.total_usable == 11 * MiB + 2 * MiB, "overlapping: union counted once (0x%llx)",
	      (unsigned long long)st.total_usable);
	/* 1-12 MiB minus the kernel (1 MiB) and the bitmap page, plus the
	 * unaligned region's whole pages: 2 MiB minus one partial page. */
	uint64_t expect = 10 * MiB - PAGE_SIZE + 2 * MiB - PAGE_SIZE;
	CHECK(st.free == expect, "overlapping: free 0x%llx, expected 0x%llx",
	      (unsigned long long)st.free, (unsigned long long)expect);
	n = drain("overlapping", avoid, 3);
	CHECK(n * PAGE_SIZE == expect, "overlapping: every free page handed out");
	free_all(n);
}

/* The kernel fills the end of the only region: the bitmap must go
 * elsewhere, and reservations made later must be honoured. */
static void test_bitmap_placement_and_reserve(void)
{
	const struct mem_region map[] = {
		{1 * MiB, 15 * MiB, MEM_USABLE, 0},
	};
	struct range avoid[] = {{15 * MiB, 16 * MiB}, {MiB, MiB + PAGE_SIZE}, {0, 0}};
	uint64_t before, after;
	size_t n;
	void *p;

	mm_init_from(map, 1, 15 * MiB, 16 * MiB);
	before = free_bytes();
	CHECK(before == 14 * MiB - PAGE_SIZE, "placement: bitmap takes one page elsewhere");
	p = page_alloc(1);
	CHECK(p == (void *)(uintptr_t)(MiB + PAGE_SIZE),
	      "placement: bitmap sits at 1 MiB, first page after it (%p)", p);
	page_free(p, 1);

	mm_reserve(4 * MiB + 0x1234, 0x2000); /* touches 3 pages */
	after = free_bytes();
	CHECK(before - after == 3 * PAGE_SIZE, "reserve: unaligned range rounds out to 3 pages");
	mm_reserve(4 * MiB + 0x3000, PAGE_SIZE);
	CHECK(free_bytes() == after, "reserve: reserving a reserved page changes nothing");
	mm_reserve(0, 0x1000);
	mm_reserve(100 * MiB, 4 * MiB);
	CHECK(free_bytes() == after, "reserve: ranges outside the allocator are ignored");
	avoid[2].lo = 4 * MiB + PAGE_SIZE;
	avoid[2].hi = 4 * MiB + 4 * PAGE_SIZE;
	n = drain("reserve", avoid, 3);
	CHECK(n * PAGE_SIZE == after, "reserve: every other page handed out");
	free_all(n);
}

static void test_contiguous_and_round_trip(void)
{
	const struct mem_region map[] = {
		{1 * MiB, 7 * MiB, MEM_USABLE, 0},
	};
	unsigned char *p, *q;
	size_t n, freed = 0;

	mm_init_from(map, 1, 1 * MiB, 2 * MiB);
	p = page_alloc(16);
	CHECK(p && all_zero(p, 16 * PAGE_SIZE), "contiguous: 16 zeroed pages");
	memset(p, 0x5a, 16 * PAGE_SIZE); /* ASan would catch a run outside RAM */
	q = page_alloc(3);
	CHECK(q == p + 16 * PAGE_SIZE, "contiguous: next run follows the first");
	memset(q, 0xaa, 3 * PAGE_SIZE);
	page_free(q, 3);
	void *r = page_alloc(3);
	CHECK(r == q && all_zero(r, 3 * PAGE_SIZE), "round trip: same pages again, zeroed");
	page_free(r, 3);
	page_free(p, 16);

	/* Fragment: take every page, give back every other one. */
	n = drain("fragment", NULL, 0);
	for (size_t i = 0; i < n; i += 2, freed++)
		page_free(pages[i], 1);
	CHECK(free_bytes() == freed * PAGE_SIZE, "fragment: %zu single pages free", freed);
	CHECK(page_alloc(2) == NULL, "fragment: no two contiguous pages, NULL");
	p = page_alloc(1);
	CHECK(p == pages[0], "fragment: a single page still fits, the lowest");
	page_free(p, 1);

	/* Double free and bad pointers leave the counts alone. */
	uint64_t before = free_bytes();
	page_free(pages[0], 1);
	CHECK(free_bytes() == before, "double free is refused");
	page_free((char *)pages[1] + 8, 1);
	page_free((void *)(uintptr_t)(200 * MiB), 1);
	CHECK(free_bytes() == before, "unaligned and foreign pointers are refused");
	page_free(pages[1], 2); /* pages[2] is free: the whole call is refused */
	CHECK(free_bytes() == before, "a run with a free page in it is refused whole");
	for (size_t i = 1; i < n; i += 2)
		page_free(pages[i], 1);
	CHECK(free_bytes() == 6 * MiB - PAGE_SIZE, "everything back after freeing the rest");
	CHECK(page_alloc(0) == NULL, "page_alloc(0) is NULL");
	CHECK(page_alloc(SIZE_MAX / PAGE_SIZE) == NULL, "an impossible size is NULL");
}

static void test_no_memory(void)
{
	const struct mem_region low_only[] = {
		{0, 0x9fc00, MEM_USABLE, 0},
		{1 * MiB, 8 * MiB, MEM_RESERVED, 0},
		{0, 0, 0, 0},
	};
	const struct mem_region covered[] = {
		{1 * MiB, 8 * MiB, MEM_USABLE, 0},
		{0, 16 * MiB, MEM_RESERVED, 0},
	};

	mm_init_from(low_only, 3, 1 * MiB, 2 * MiB);
	CHECK(page_alloc(1) == NULL && free_bytes() == 0, "only low memory: nothing to hand out");
	mm_init_from(covered, 2, 1 * MiB, 2 * MiB);
	CHECK(page_alloc(1) == NULL && free_bytes() == 0,
	      "usable RAM entirely inside a reserved region: nothing to hand out");
	mm_init_from(NULL, 0, 1 * MiB, 2 * MiB);
	CHECK(page_alloc(1) == NULL, "empty memory map: NULL");
}

int main(void)
{
	void *ram = mmap((void *)(uintptr_t)RAM_START, RAM_END - RAM_START, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (!CHECK(ram == (void *)(uintptr_t)RAM_START, "fake RAM mapped at 0x%llx (got %p)",
		   RAM_START, ram))
		return tap_done();
	test_unsorted_map();
	test_overlapping_map();
	test_bitmap_placement_and_reserve();
	test_contiguous_and_round_trip();
	test_no_memory();
	return tap_done();
}
