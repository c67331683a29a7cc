/*
 * A reader for ACPI resource templates (ACPI 6.5 section 6.4): the small
 * (6.4.2) and large (6.4.3) resource descriptors of a _CRS buffer, of
 * which it decodes what virtio-mmio discovery needs and counts the rest.
 * See aml_resources.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel/acpi/aml_resources.h"
#include "kernel/lib/byteorder.h"
#include "kernel/lib/log.h"

/* Small resource items (6.4.2): tag byte 0b0nnnnxxx, nnnn the type, xxx
 * the length that follows. */
#define SMALL_IRQ     0x04
#define SMALL_IO      0x08
#define SMALL_FIXEDIO 0x09
#define SMALL_END     0x0f
/* Large resource items (6.4.3): tag byte 0b1nnnnnnn, then a 16-bit
 * length. */
#define LARGE_MEMORY32	     0x05
#define LARGE_MEMORY32_FIXED 0x06
#define LARGE_EXT_IRQ	     0x09

static void add_irq(struct aml_resources *res, uint32_t gsi, unsigned flags)
{
	if (res->nirq < AML_RES_MAX) {
		res->irq[res->nirq].gsi = gsi;
		res->irq[res->nirq].flags = flags;
		res->nirq++;
	}
}

static void add_mem(struct aml_resources *res, uint64_t base, uint64_t len, bool writable)
{
	if (res->nmem < AML_RES_MAX) {
		res->mem[res->nmem].base = base;
		res->mem[res->nmem].len = len;
		res->mem[res->nmem].writable = writable;
		res->nmem++;
	}
}

/* IRQ descriptor (6.4.2.1): a 16-bit mask of ISA IRQs, optionally a flags
 * byte (bit 0 edge, bit 3 active low, bit 4 shared). Without the flags
 * byte ("IRQNoFlags") the IRQ is edge, active high. */
static void small_irq(struct aml_resources *res, const uint8_t *d, unsigned len)
{
	unsigned mask = d[0] | (unsigned)d[1] << 8;
	unsigned flags = 0;

	if (len >= 3) {
		if (!(d[2] & 0x01))
			flags |= AML_IRQ_LEVEL;
		if (d[2] & 0x08)
			flags |= AML_IRQ_ACTIVE_LOW;
		if (d[2] & 0x10)
			flags |= AML_IRQ_SHARED;
	}
	for (unsigned i = 0; i < 16; i++)
		if (mask & (1u << i))
			add_irq(res, i, flags);
}

/* Extended Interrupt descriptor (6.4.3.6): flags byte (bit 0 consumer,
 * bit 1 edge (1) / level (0), bit 2 active low, bit 3 shared, bit 4 wake
 * capable), a count, then that many 32-bit interrupt numbers (GSIs), then
 * an optional resource source we ignore. A producer's interrupts belong to
 * the devices below it, not to this one. */
static int ext_irq(struct aml_resources *res, const uint8_t *d, unsigned len, size_t off)
{
	unsigned flags = 0, count;

	if (len < 2 || (count = d[1]) == 0) {
		pr_err("aml: Extended Interrupt descriptor at offset %zu lists no interrupts, "
		       "expected at least one\n",
		       off);
		return -EINVAL;
	}
	if (2 + 4 * count > len) {
		pr_err("aml: Extended Interrupt descriptor at offset %zu has %u bytes for %u "
		       "interrupts, expected at least %u\n",
		       off, len, count, 2 + 4 * count);
		return -EINVAL;
	}
	if (!(d[0] & 0x01)) {
		res->nother++;
		return 0;
	}
	if (!(d[0] & 0x02))
		flags |= AML_IRQ_LEVEL;
	if (d[0] & 0x04)
		flags |= AML_IRQ_ACTIVE_LOW;
	if (d[0] & 0x08)
		flags |= AML_IRQ_SHARED;
	if (d[0] & 0x10)
		flags |= AML_IRQ_WAKE;
	for (unsigned i = 0; i < count; i++)
		add_irq(res, get_le32(d + 2 + 4 * i), flags);
	return 0;
}

int aml_parse_resources(const uint8_t *buf, size_t len, struct aml_resources *res)
{
	size_t off = 0;

	memset(res, 0, sizeof *res);
	while (off < len) {
		uint8_t tag = buf[off];
		const uint8_t *d;
		unsigned dlen;

		if (!(tag & 0x80)) {
			unsigned type = (tag >> 3) & 0x0f;

			dlen = tag & 0x07;
			d = buf + off + 1;
			if (off + 1 + dlen > len)
				goto truncated;
			switch (type) {
			case SMALL_END:
				/* 6.4.2.9: the End Tag closes the template
				 * (its checksum byte is not checked: zero is
				 * allowed and is what everyone writes). */
				return 0;
			case SMALL_IRQ:
				if (dlen < 2) {
					pr_err("aml: IRQ descriptor at offset %zu has %u bytes, "
					       "expected 2 or 3\n",
					       off, dlen);
					return -EINVAL;
				}
				small_irq(res, d, dlen);
				break;
			case SMALL_IO:
			case SMALL_FIXEDIO:
				res->nio++;
				break;
			default:
				res->nother++;
				break;
			}
			off += 1 + dlen;
			continue;
		}
		if (off + 3 > len)
			goto truncated;
		dlen = buf[off + 1] | (unsigned)buf[off + 2] << 8;
		d = buf + off + 3;
		if (off + 3 + dlen > len)
			goto truncated;
		switch (tag & 0x7f) {
		case LARGE_MEMORY32_FIXED:
			/* 6.4.3.4: info (bit 0 read/write), base, length. */
			if (dlen < 9) {
				pr_err("aml: Memory32Fixed descriptor at offset %zu has %u bytes, "
				       "expected 9\n",
				       off, dlen);
				return -EINVAL;
			}
			add_mem(res, get_le32(d + 1), get_le32(d + 5), d[0] & 1);
			break;
		case LARGE_MEMORY32:
			/* 6.4.3.3: info, minimum, maximum, alignment,
			 * length. Only a range that cannot move is a
			 * resource the device uses now. */
			if (dlen < 17) {
				pr_err("aml: Memory32 descriptor at offset %zu has %u bytes, "
				       "expected 17\n",
				       off, dlen);
				return -EINVAL;
			}
			if (get_le32(d + 1) == get_le32(d + 5))
				add_mem(res, get_le32(d + 1), get_le32(d + 13), d[0] & 1);
			else
				res->nother++;
			break;
		case LARGE_EXT_IRQ:
			if (ext_irq(res, d, dlen, off))
				return -EINVAL;
			break;
		default:
			res->nother++;
			break;
		}
		off += 3 + dlen;
	}
	pr_err("aml: resource template of %zu bytes has no End Tag\n", len);
	return -EINVAL;
truncated:
	pr_err("aml: resource descriptor 0x%02x at offset %zu runs past the end of the "
	       "%zu-byte template\n",
	       buf[off], off, len);
	return -EINVAL;
}
