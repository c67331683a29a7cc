/*
 * Physical memory: a page allocator over the boot memory map. It never hands
 * out the kernel image, the boot structures or the ACPI tables (they are not
 * MEM_USABLE, or are carved out at init).
 */
#ifndef KERNEL_MM_PAGE_ALLOC_H
#define KERNEL_MM_PAGE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096ul

void mm_init(void); /* over boot_info.regions, minus the kernel image */

/* mm_init() with the memory map and the kernel image given explicitly, so
 * the host unit test can run the allocator over a fake memory map. */
struct mem_region;
void mm_init_from(const struct mem_region *regions, unsigned n, uint64_t kstart, uint64_t kend);

/* Take [base, base+len) out of the free pool (ACPI tables, boot data found
 * after mm_init). Rounds outwards to whole pages. */
void mm_reserve(uint64_t base, uint64_t len);

/* `count` contiguous zeroed pages, or NULL. */
void *page_alloc(size_t count);
void page_free(void *p, size_t count);
/* page_alloc() without the zeroing, for callers that clear what they use
 * (the heap behind sbrk): zeroing 64 MiB at boot costs time under TCG. */
void *page_alloc_uninit(size_t count);

struct mm_stats {
	uint64_t total_usable; /* bytes of MEM_USABLE RAM in the memory map */
	uint64_t free;	       /* bytes the allocator can still hand out */
	uint64_t kernel_start, kernel_end;
};
void mm_get_stats(struct mm_stats *st);

#endif
