/*
 * The virtio-mmio transport (virtio/transport/mmio.c, virtio 1.2 section
 * 4.2): a device is a block of 32-bit registers at a fixed physical address
 * plus one interrupt line. There is no bus to enumerate: discovery
 * (mmio_discovery.c) finds the transports in the ACPI DSDT or on the kernel
 * command line, the table (mmio_devices.c) keeps one struct
 * virtio_mmio_device for each, and virtio_mmio_probe() brings one up.
 */
#ifndef VIRTIO_TRANSPORT_MMIO_H
#define VIRTIO_TRANSPORT_MMIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/virtio.h"

/* Where a transport was described. */
#define VIRTIO_MMIO_FROM_ACPI	 (1u << 0)
#define VIRTIO_MMIO_FROM_CMDLINE (1u << 1)

/* The smallest window that holds the register block (4.2.2: device
 * configuration starts at 0x100). */
#define VIRTIO_MMIO_MIN_SIZE 0x100

/* What discovery knows about one transport. */
struct virtio_mmio_desc {
	uint64_t base;
	uint64_t size;
	unsigned gsi;
	unsigned irqflags;  /* IRQF_* for request_irq(); 0: edge unless the MADT says otherwise */
	long id;	    /* command line :<id>, ACPI _UID; -1 when none */
	unsigned from;	    /* VIRTIO_MMIO_FROM_* */
	char acpi_path[24]; /* "\_SB_.VR23", "" when not from ACPI */
};

/* What became of a transport. */
enum virtio_mmio_state {
	VM_NEW,	       /* added, not probed yet */
	VM_EMPTY,      /* DeviceID 0: no device behind the transport */
	VM_BAD,	       /* registers did not look like virtio-mmio */
	VM_IRQ_FAILED, /* the interrupt could not be routed */
	VM_REGISTERED, /* handed to the virtio core */
};

/* One transport. */
struct virtio_mmio_device {
	struct virtio_device vdev; /* first: the ops get &vdev */
	struct virtio_mmio_desc desc;
	enum virtio_mmio_state state;
	volatile uint8_t *base;
	uint32_t version;
	uint32_t device_id, vendor_id;
	int vector;
	char irq_name[28];
	volatile uint64_t interrupts;
	bool warned_status; /* odd InterruptStatus bits reported once */
	bool warned_config; /* an out-of-range config access reported once */
};

/* Checks the identification registers (4.2.2), wires the interrupt and
 * registers the device with the virtio core; vm->state says how it went. */
void virtio_mmio_probe(struct virtio_mmio_device *vm);

#endif
