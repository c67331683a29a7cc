/*
 * Host shim for kernel/acpi/acpi.c's one dependency on the page allocator:
 * mm_reserve() records each call so test_acpi can check that every table
 * it uses was kept away from the allocator.
 */
#ifndef TEST_HOST_SHIM_ACPI_MM_HOST_H
#define TEST_HOST_SHIM_ACPI_MM_HOST_H

#include <stdint.h>

#define MM_HOST_MAX_RESERVED 128

struct mm_host_range {
	uint64_t base, len;
};

extern struct mm_host_range mm_host_reserved[MM_HOST_MAX_RESERVED];
extern unsigned mm_host_nreserved;

/* Was [base, base+len) passed to mm_reserve() (exactly, or inside a call)? */
int mm_host_was_reserved(uint64_t base, uint64_t len);
void mm_host_reset(void);

#endif
