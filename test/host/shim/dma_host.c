/*
 * kernel/mm/dma.h for host tests: zeroed, aligned memory from aligned_alloc,
 * so AddressSanitizer sees every ring and indirect table as its own
 * allocation and reports any access past one. Weak, so a test that links
 * the real kernel/mm/dma.c gets that one instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dma_host.h"
#include "kernel/mm/dma.h"

long dma_host_outstanding;
long dma_host_fail_after;

__attribute__((weak)) void *dma_alloc(size_t size, size_t align)
{
	void *p;

	/* The kernel allocator's contract (kernel/mm/dma.c): a power-of-two
	 * alignment, at most a page for allocations under a page. */
	if (size == 0 || (align & (align - 1)) || (size < 4096 && align > 4096)) {
		fprintf(stderr, "dma_alloc(%zu, %zu): outside the kernel allocator's contract\n",
			size, align);
		abort();
	}
	if (dma_host_fail_after > 0 && --dma_host_fail_after == 0)
		return NULL;
	if (align < 16)
		align = 16;
	p = aligned_alloc(align, (size + align - 1) & ~(align - 1));
	if (!p)
		return NULL;
	memset(p, 0, size);
	__atomic_fetch_add(&dma_host_outstanding, 1, __ATOMIC_RELAXED);
	return p;
}

__attribute__((weak)) void dma_free(void *p, size_t size)
{
	if (!p)
		return;
	__atomic_fetch_sub(&dma_host_outstanding, 1, __ATOMIC_RELAXED);
	free(p);
}
