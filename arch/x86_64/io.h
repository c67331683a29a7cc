/*
 * Port I/O and memory-mapped I/O accessors. MMIO goes through volatile
 * pointers so the compiler neither merges, reorders nor omits an access;
 * MMIO regions are mapped uncached, so the CPU does not either.
 */
#ifndef ARCH_X86_64_IO_H
#define ARCH_X86_64_IO_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint8_t mmio_read8(volatile void *a)
{
	return *(volatile uint8_t *)a;
}
static inline uint16_t mmio_read16(volatile void *a)
{
	return *(volatile uint16_t *)a;
}
static inline uint32_t mmio_read32(volatile void *a)
{
	return *(volatile uint32_t *)a;
}
static inline uint64_t mmio_read64(volatile void *a)
{
	return *(volatile uint64_t *)a;
}
static inline void mmio_write8(volatile void *a, uint8_t v)
{
	*(volatile uint8_t *)a = v;
}
static inline void mmio_write16(volatile void *a, uint16_t v)
{
	*(volatile uint16_t *)a = v;
}
static inline void mmio_write32(volatile void *a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}
static inline void mmio_write64(volatile void *a, uint64_t v)
{
	*(volatile uint64_t *)a = v;
}

#endif
