/*
 * lwIP's architecture header (lwIP 2.1.3, src/include/lwip/arch.h): how
 * lwIP prints diagnostics, asserts, and gets random numbers in this
 * kernel. Types and errno come from newlib's standard headers.
 */
#ifndef NET_ARCH_CC_H
#define NET_ARCH_CC_H

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#define LWIP_ERRNO_STDINCLUDE 1
#define BYTE_ORDER	      LITTLE_ENDIAN
/* newlib has ssize_t (long); tell lwIP so it does not define its own. */
#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif

void lwip_port_assert(const char *msg, const char *file, int line) __attribute__((__noreturn__));
uint32_t lwip_port_rand(void);

#define LWIP_PLATFORM_DIAG(x)                                                                      \
	do {                                                                                       \
		printf x;                                                                          \
	} while (0)
#define LWIP_PLATFORM_ASSERT(x) lwip_port_assert((x), __FILE__, __LINE__)

#endif
