/*
 * Host stand-in for kernel/mm/dma.h's allocator (test/host/shim/dma_host.c):
 * counters that let tests check every DMA allocation was freed, and
 * failure injection for the out-of-memory paths.
 */
#ifndef TEST_HOST_SHIM_DMA_HOST_H
#define TEST_HOST_SHIM_DMA_HOST_H

#include <stddef.h>

/* Allocations not yet freed. */
extern long dma_host_outstanding;
/* When set to N > 0: the Nth allocation from now fails (1: the next
 * one), then allocations succeed again. */
extern long dma_host_fail_after;

#endif
