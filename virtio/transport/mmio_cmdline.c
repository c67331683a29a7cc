/*
 * The `virtio_mmio.device=` kernel parameter, in the syntax Linux defines
 * (drivers/virtio/virtio_mmio.c, Documentation/admin-guide/kernel-
 * parameters.txt) and QEMU microvm (acpi=off) and Firecracker generate:
 *
 *	virtio_mmio.device=<size>@<baseaddr>:<irq>[:<id>]
 *
 * e.g. `virtio_mmio.device=512@0xfeb00e00:12`. The size and base accept
 * K/M/G suffixes (Linux parses both with memparse()), the irq is a GSI, and
 * the optional id is the platform device id Linux gives the transport: kept
 * for the listing only. Like Linux, irq 0 is refused.
 *
 * A pure function (no device access) so test/host/test_mmio_cmdline.c can
 * feed it good and bad entries.
 */
#include <errno.h>
#include <string.h>

#include "kernel/lib/parse_value.h"
#include "virtio/transport/mmio.h"
#include "virtio/transport/mmio_cmdline.h"

/* Longer values than this are not something Linux would accept either
 * (two 64-bit hex numbers with suffixes plus two ints fit easily). */
#define MAX_ENTRY 80

int virtio_mmio_parse_device(const char *text, struct virtio_mmio_desc *d, const char **why)
{
	char buf[MAX_ENTRY];
	char *at, *colon, *colon2;
	uint64_t size, base, irq, id = 0;
	bool has_id = false;

	*why = NULL;
	if (!text || !*text) {
		*why = "an empty value; expected <size>@<baseaddr>:<irq>[:<id>]";
		return -EINVAL;
	}
	if (strlen(text) >= sizeof buf) {
		*why = "a value too long to be <size>@<baseaddr>:<irq>[:<id>]";
		return -EINVAL;
	}
	strcpy(buf, text);

	at = strchr(buf, '@');
	if (!at) {
		*why = "no '@' between size and base address";
		return -EINVAL;
	}
	*at = '\0';
	colon = strchr(at + 1, ':');
	if (!colon) {
		*why = "no ':<irq>' after the base address";
		return -EINVAL;
	}
	*colon = '\0';
	colon2 = strchr(colon + 1, ':');
	if (colon2) {
		*colon2 = '\0';
		if (parse_u64(colon2 + 1, &id) != 0 || id > 0x7fffffff) {
			*why = "a bad <id> (expected a number after the second ':')";
			return -EINVAL;
		}
		has_id = true;
	}

	if (parse_size(buf, &size) != 0) {
		*why = "a bad size (expected a number with an optional K/M/G suffix)";
		return -EINVAL;
	}
	if (size < VIRTIO_MMIO_MIN_SIZE) {
		*why = "a size smaller than the 0x100-byte register block";
		return -EINVAL;
	}
	if (parse_size(at + 1, &base) != 0) {
		*why = "a bad base address (expected a decimal or 0x hex number)";
		return -EINVAL;
	}
	if (base == 0 || (base & 3) != 0) {
		*why = "a base address that is zero or not 4-byte aligned";
		return -EINVAL;
	}
	if (base + size < base) {
		*why = "a window that wraps around the end of the address space";
		return -EINVAL;
	}
	if (!colon[1]) {
		*why = "no irq after the ':'";
		return -EINVAL;
	}
	if (parse_u64(colon + 1, &irq) != 0 || irq == 0 || irq > 255) {
		*why = "a bad irq (expected a GSI from 1 to 255)";
		return -EINVAL;
	}

	memset(d, 0, sizeof *d);
	d->base = base;
	d->size = size;
	d->gsi = (unsigned)irq;
	d->irqflags = 0;
	d->id = has_id ? (long)id : -1;
	d->from = VIRTIO_MMIO_FROM_CMDLINE;
	return 0;
}
