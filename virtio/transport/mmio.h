/*
 * The virtio-mmio transport (virtio 1.2 section 4.2): a device is a block of
 * 32-bit registers at a fixed physical address plus one interrupt line.
 * There is no bus to enumerate, so discovery (virtio/transport/mmio_discovery.c) finds
 * the transports in the ACPI DSDT or on the kernel command line and hands
 * each to virtio_mmio_add().
 */
#ifndef VIRTIO_TRANSPORT_MMIO_H
#define VIRTIO_TRANSPORT_MMIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/*
 * Parses one `virtio_mmio.device=` value, Linux syntax:
 *	<size>@<baseaddr>:<irq>[:<id>]
 * size and base take K/M/G suffixes, numbers are decimal or 0x hex. On
 * error returns -EINVAL and points *why at a description of the problem
 * (for "expected ..." messages). Fills `d` (from = FROM_CMDLINE) on success.
 */
int virtio_mmio_parse_device(const char *text, struct virtio_mmio_desc *d, const char **why);

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
enum virtio_mmio_state {
	VM_NEW,	       /* added, not probed yet */
	VM_EMPTY,      /* DeviceID 0: no device behind the transport */
	VM_BAD,	       /* registers did not look like virtio-mmio */
	VM_IRQ_FAILED, /* the interrupt could not be routed */
	VM_REGISTERED, /* handed to the virtio core */
};

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
