/*
 * Little-endian values at any byte address, the way firmware tables (ACPI,
 * AML resource templates) lay them out: read byte by byte, so no alignment
 * is assumed and the result is the same on any host (the host tests).
 */
#ifndef KERNEL_LIB_BYTEORDER_H
#define KERNEL_LIB_BYTEORDER_H

#include <stdint.h>

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

#endif
