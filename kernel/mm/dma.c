/*
 * DMA memory (kernel/mm/dma.h): zeroed, physically contiguous, aligned. With no
 * IOMMU and an identity map, any contiguous kernel memory is DMA-able, so
 * small buffers (request headers, small rings) come from newlib's heap,
 * which is one contiguous run (kernel/libc/heap.c), and a page or more comes
 * straight from the page allocator. The size passed to dma_free() picks the
 * same path again, so callers pass the size they allocated.
 */
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kernel/lib/log.h"
#include "kernel/mm/dma.h"
#include "kernel/mm/page_alloc.h"

static bool is_power_of_two(size_t x)
{
	return x && !(x & (x - 1));
}

void *dma_alloc(size_t size, size_t align)
{
	size_t pages, align_pages, extra;
	uintptr_t base, aligned;
	void *p;

	/* dma_free() tells the two paths apart by size alone, so a small
	 * buffer cannot ask for more than page alignment. */
	if (size == 0 || !is_power_of_two(align ? align : 1) ||
	    (size < PAGE_SIZE && align > PAGE_SIZE)) {
		pr_err("dma_alloc(%zu, %zu): expected a non-zero size and a power-of-two "
		       "alignment, at most a page for sizes under a page\n",
		       size, align);
		return NULL;
	}
	if (align < 16)
		align = 16; /* what malloc gives anyway; keeps memalign happy */

	if (size < PAGE_SIZE) {
		p = memalign(align, size);
		if (p)
			memset(p, 0, size);
		return p;
	}

	/* Page path. Alignment beyond a page: take enough pages to find an
	 * aligned run inside, then give back the head and the tail. */
	pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
	align_pages = align > PAGE_SIZE ? align / PAGE_SIZE : 1;
	extra = align_pages - 1;
	p = page_alloc(pages + extra);
	if (!p)
		return NULL;
	base = (uintptr_t)p;
	aligned =
		(base + (align_pages * PAGE_SIZE - 1)) & ~(uintptr_t)(align_pages * PAGE_SIZE - 1);
	if (aligned > base)
		page_free(p, (aligned - base) / PAGE_SIZE);
	if ((aligned - base) / PAGE_SIZE < extra)
		page_free((void *)(aligned + pages * PAGE_SIZE),
			  extra - (aligned - base) / PAGE_SIZE);
	return (void *)aligned;
}

void dma_free(void *p, size_t size)
{
	if (!p)
		return;
	if (size < PAGE_SIZE)
		free(p);
	else
		page_free(p, (size + PAGE_SIZE - 1) / PAGE_SIZE);
}
