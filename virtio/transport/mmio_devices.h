/*
 * The table of virtio-mmio transports (virtio/transport/mmio_devices.c):
 * what discovery found, each once, and what became of it, for the boot
 * listing, the shell and the self-test.
 */
#ifndef VIRTIO_TRANSPORT_MMIO_DEVICES_H
#define VIRTIO_TRANSPORT_MMIO_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/transport/mmio.h"

/*
 * Adds a transport found by discovery. A transport already known at the
 * same base address is not added twice: the first description wins, the
 * second only adds its source (and a warning if it disagrees on the GSI or
 * size). A window overlapping another one is refused. Does not touch the
 * device; virtio_mmio_probe_all() does. Returns 0, -EEXIST (merged),
 * -EBUSY (overlap), -ENOSPC (table full).
 */
int virtio_mmio_add(const struct virtio_mmio_desc *d);

/* Checks every added transport's registers, skips empty slots quietly,
 * wires the interrupt and registers the device with the virtio core. */
void virtio_mmio_probe_all(void);

/* For the listing, the self-test and the shell. */
struct virtio_mmio_info {
	struct virtio_mmio_desc desc;
	enum virtio_mmio_state state;
	uint32_t version;   /* 1 legacy, 2 modern */
	uint32_t device_id; /* VIRTIO_ID_* */
	uint32_t vendor_id;
	int vector;	     /* IDT vector, or negative */
	uint64_t interrupts; /* handler calls that found status bits */
	int virtio_index;    /* virtioN, or -1 */
};

unsigned virtio_mmio_count(void);
/* Fills `info` for transport n (discovery order). false past the end. */
bool virtio_mmio_get(unsigned n, struct virtio_mmio_info *info);
/* One line describing transport n, as the boot log and the shell show it. */
int virtio_mmio_format(unsigned n, char *buf, size_t size);
void virtio_mmio_print_all(void);

#endif
