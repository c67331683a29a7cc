/*
 * The table of virtio-mmio transports (virtio 1.2 section 4.2 says what one
 * is, not how many there are): one entry per window, whoever described it
 * (ACPI, the command line, or both), probed once, and listed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kernel/irq/irq.h"
#include "kernel/lib/log.h"
#include "virtio/transport/mmio.h"
#include "virtio/transport/mmio_devices.h"
#include "virtio/virtio.h"

/* microvm has 24 slots; room for command-line extras. */
#define VM_MAX_TRANSPORTS 32

static struct virtio_mmio_device transports[VM_MAX_TRANSPORTS];
static unsigned ntransports;

int virtio_mmio_add(const struct virtio_mmio_desc *d)
{
	for (unsigned i = 0; i < ntransports; i++) {
		struct virtio_mmio_device *vm = &transports[i];
		const struct virtio_mmio_desc *o = &vm->desc;

		if (o->base == d->base) {
			if (o->gsi != d->gsi || o->size != d->size)
				pr_warn("virtio-mmio@%#llx: described again (%s) with size %#llx "
					"GSI %u, first seen (%s) with size %#llx GSI %u; keeping "
					"the first\n",
					(unsigned long long)d->base,
					d->from & VIRTIO_MMIO_FROM_ACPI ? "ACPI" : "command line",
					(unsigned long long)d->size, d->gsi,
					o->from & VIRTIO_MMIO_FROM_ACPI ? "ACPI" : "command line",
					(unsigned long long)o->size, o->gsi);
			else
				pr_info("virtio-mmio@%#llx: also on the %s; registered once\n",
					(unsigned long long)d->base,
					d->from & VIRTIO_MMIO_FROM_ACPI ? "ACPI tables"
									: "command line");
			vm->desc.from |= d->from;
			if (!vm->desc.acpi_path[0])
				memcpy(vm->desc.acpi_path, d->acpi_path, sizeof d->acpi_path);
			return -EEXIST;
		}
		if (d->base < o->base + o->size && o->base < d->base + d->size) {
			pr_err("virtio-mmio@%#llx: window of %#llx bytes overlaps the transport at "
			       "%#llx (%#llx bytes); ignored\n",
			       (unsigned long long)d->base, (unsigned long long)d->size,
			       (unsigned long long)o->base, (unsigned long long)o->size);
			return -EBUSY;
		}
	}
	if (ntransports == VM_MAX_TRANSPORTS) {
		pr_err("virtio-mmio@%#llx: more than %u transports; ignored\n",
		       (unsigned long long)d->base, VM_MAX_TRANSPORTS);
		return -ENOSPC;
	}
	struct virtio_mmio_device *vm = &transports[ntransports++];
	memset(vm, 0, sizeof *vm);
	vm->desc = *d;
	vm->state = VM_NEW;
	vm->vector = -1;
	vm->vdev.index = -1;
	return 0;
}

void virtio_mmio_probe_all(void)
{
	for (unsigned i = 0; i < ntransports; i++)
		if (transports[i].state == VM_NEW)
			virtio_mmio_probe(&transports[i]);
}

unsigned virtio_mmio_count(void)
{
	return ntransports;
}

bool virtio_mmio_get(unsigned n, struct virtio_mmio_info *info)
{
	const struct virtio_mmio_device *vm;

	if (n >= ntransports)
		return false;
	vm = &transports[n];
	info->desc = vm->desc;
	info->state = vm->state;
	info->version = vm->version;
	info->device_id = vm->device_id;
	info->vendor_id = vm->vendor_id;
	info->vector = vm->vector;
	info->interrupts = vm->interrupts;
	info->virtio_index = vm->state == VM_REGISTERED ? vm->vdev.index : -1;
	return true;
}

/* Trigger and polarity as request_irq will program them (no flags: edge,
 * unless a MADT override says otherwise, which irq.c resolves). */
static const char *trigger_name(unsigned flags)
{
	if (flags & IRQF_LEVEL)
		return flags & IRQF_ACTIVE_LOW ? "level-low" : "level-high";
	if (flags & IRQF_EDGE)
		return flags & IRQF_ACTIVE_LOW ? "edge-low" : "edge-high";
	return "default";
}

static const char *source_name(unsigned from)
{
	switch (from & (VIRTIO_MMIO_FROM_ACPI | VIRTIO_MMIO_FROM_CMDLINE)) {
	case VIRTIO_MMIO_FROM_ACPI:
		return "acpi";
	case VIRTIO_MMIO_FROM_CMDLINE:
		return "cmdline";
	default:
		return "acpi+cmdline";
	}
}

int virtio_mmio_format(unsigned n, char *buf, size_t size)
{
	struct virtio_mmio_info in;
	char what[48];
	int len;

	if (!virtio_mmio_get(n, &in))
		return snprintf(buf, size, "mmio%u: none", n);
	switch (in.state) {
	case VM_NEW:
		snprintf(what, sizeof what, "not probed");
		break;
	case VM_EMPTY:
		snprintf(what, sizeof what, "v%u empty", in.version);
		break;
	case VM_BAD:
		snprintf(what, sizeof what, "unusable");
		break;
	case VM_IRQ_FAILED:
		snprintf(what, sizeof what, "v%u device %u (%s) irq-failed", in.version,
			 in.device_id, virtio_id_name(in.device_id));
		break;
	case VM_REGISTERED:
		snprintf(what, sizeof what, "v%u device %u (%s) virtio%d", in.version, in.device_id,
			 virtio_id_name(in.device_id), in.virtio_index);
		break;
	}
	len = snprintf(buf, size, "mmio%u: base %#llx size %#llx gsi %u %s %s from %s", n,
		       (unsigned long long)in.desc.base, (unsigned long long)in.desc.size,
		       in.desc.gsi, trigger_name(in.desc.irqflags), what,
		       source_name(in.desc.from));
	if (in.desc.acpi_path[0] && len >= 0 && (size_t)len < size)
		len += snprintf(buf + len, size - (size_t)len, " %s", in.desc.acpi_path);
	if (in.desc.id >= 0 && len >= 0 && (size_t)len < size)
		len += snprintf(buf + len, size - (size_t)len, " id %ld", in.desc.id);
	return len;
}

void virtio_mmio_print_all(void)
{
	char line[160];

	for (unsigned i = 0; i < ntransports; i++) {
		virtio_mmio_format(i, line, sizeof line);
		pr_info("virtio-mmio: %s\n", line);
	}
}
