/*
 * newlib's heap: the `sbrk` system call its malloc grows the heap with
 * (newlib 3.3, libc/stdlib/mallocr.c, MORECORE). One contiguous run of
 * pages is taken from the page allocator at boot, and sbrk moves a break
 * pointer inside it. Contiguous and identity mapped, so small DMA buffers
 * can come from malloc too (kernel/mm/dma.c).
 *
 * The run is taken without zeroing it (64 MiB would cost tens of
 * milliseconds under TCG); instead sbrk clears each piece as it hands it
 * out, because newlib's calloc trusts memory fresh from sbrk to be zero
 * (MORECORE_CLEARS).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "kernel/lib/log.h"
#include "kernel/libc/heap.h"
#include "kernel/mm/page_alloc.h"

#define HEAP_MAX      (64ull << 20)
#define HEAP_FRACTION 4 /* of the free memory at boot */

static char *heap_start, *heap_brk, *heap_end;

void heap_init(void)
{
	struct mm_stats st;
	uint64_t size;

	mm_get_stats(&st);
	size = st.free / HEAP_FRACTION;
	if (size > HEAP_MAX)
		size = HEAP_MAX;
	size &= ~(uint64_t)(PAGE_SIZE - 1);
	/* Fragmented memory: settle for less rather than no heap at all. */
	while (size >= PAGE_SIZE && !(heap_start = page_alloc_uninit(size / PAGE_SIZE)))
		size = (size / 2) & ~(uint64_t)(PAGE_SIZE - 1);
	if (!heap_start) {
		pr_err("heap: no contiguous memory for the heap (%llu KiB free); malloc will "
		       "fail\n",
		       (unsigned long long)(st.free >> 10));
		return;
	}
	heap_brk = heap_start;
	heap_end = heap_start + size;
}

void *sbrk(ptrdiff_t incr)
{
	char *old = heap_brk;

	if (!heap_start || incr > heap_end - heap_brk || incr < heap_start - heap_brk) {
		errno = ENOMEM;
		return (void *)-1;
	}
	if (incr > 0)
		memset(old, 0, (size_t)incr);
	heap_brk += incr;
	return old;
}
