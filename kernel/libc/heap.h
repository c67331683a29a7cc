/*
 * newlib's heap (kernel/libc/heap.c): the memory its malloc grows into
 * through sbrk.
 */
#ifndef KERNEL_LIBC_HEAP_H
#define KERNEL_LIBC_HEAP_H

/* Takes a quarter of the free memory (at most 64 MiB) as one contiguous run
 * for sbrk. After mm_init(); malloc fails (with a message) before it. */
void heap_init(void);

#endif
