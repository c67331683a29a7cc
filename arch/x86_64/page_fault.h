/*
 * The page-fault error code (Intel SDM vol. 3A, 4.7 "Page-Fault
 * Exceptions", figure 4-12): what the CPU says about the access that
 * faulted. Decoded for the exception dump (arch/x86_64/trap.c); pure, so the
 * host tests run it.
 */
#ifndef ARCH_X86_64_PAGE_FAULT_H
#define ARCH_X86_64_PAGE_FAULT_H

#include <stddef.h>
#include <stdint.h>

#define PF_PRESENT (1u << 0)  /* P: 0 not present, 1 protection violation */
#define PF_WRITE   (1u << 1)  /* W/R: the access was a write */
#define PF_USER	   (1u << 2)  /* U/S: the access was in user mode */
#define PF_RSVD	   (1u << 3)  /* RSVD: a reserved bit was set in an entry */
#define PF_FETCH   (1u << 4)  /* I/D: an instruction fetch */
#define PF_PK	   (1u << 5)  /* PK: a protection-key violation */
#define PF_SS	   (1u << 6)  /* SS: a shadow-stack access */
#define PF_HLAT	   (1u << 7)  /* HLAT: during HLAT paging */
#define PF_SGX	   (1u << 15) /* SGX: an SGX access-control violation */

/* Writes one line describing `code` into buf (always NUL-terminated,
 * cut short only if `size` is too small) and returns buf. Every bit above
 * is named; any other set bit is shown as a hex remainder. */
const char *page_fault_describe(uint64_t code, char *buf, size_t size);

#endif
