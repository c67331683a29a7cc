/*
 * Memory that a device reads or writes by DMA: rings, request headers,
 * receive buffers. There is no IOMMU and memory is identity mapped, so a
 * buffer's bus address is its physical address is its virtual address; all
 * code still goes through virt_to_phys() so the mapping can change later.
 *
 * The host test harness provides its own implementation of these functions
 * (test/host), which is why virtio/ includes only this header.
 */
#ifndef KERNEL_MM_DMA_H
#define KERNEL_MM_DMA_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/paging.h" /* virt_to_phys() */

/* Zeroed, physically contiguous, aligned to `align` (a power of two, at
 * most the page size for sizes under a page). NULL when out of memory.
 * Sizes under a page come from newlib's heap, a page or more from the page
 * allocator; both turn interrupts off while they work, so any context may
 * allocate. */
void *dma_alloc(size_t size, size_t align);
void dma_free(void *p, size_t size);

#endif
