/*
 * The virtio device and driver model (virtio 1.2 sections 2 and 3): devices
 * found by a transport, drivers that serve device types, the matching
 * between them, and the initialization sequence of section 3.1.1 that the
 * core runs for every match.
 *
 * A transport (PCI modern/legacy, MMIO) fills a struct virtio_device with
 * its struct virtio_config_ops and calls register_virtio_device(). A driver
 * fills a struct virtio_driver and calls register_virtio_driver(). Either
 * may come first. Drivers never touch transport registers: everything goes
 * through the config ops and the virtqueue API (virtqueue.h).
 */
#ifndef VIRTIO_VIRTIO_H
#define VIRTIO_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/lib/init.h"
#include "virtio/virtio_config.h"
#include "virtio/virtqueue.h"

struct virtio_device;

/* What find_vqs needs to know about each queue. */
struct virtqueue_info {
	const char *name;
	vq_callback_t *callback; /* NULL: the driver polls this queue */
	/* The CPU (an index, as this_cpu()->index) whose interrupt handler
	 * should run the callback: the one that submits on this queue. A
	 * transport with per-queue MSI-X vectors steers the vector there
	 * (modulo the CPUs online); others deliver on the boot CPU, and so
	 * does every queue of a driver that leaves this 0. */
	unsigned irq_cpu;
};

/*
 * The transport interface. All ops run in driver context unless noted;
 * optional ones may be NULL.
 */
struct virtio_config_ops {
	/* Writes 0 to the status and waits until the device reads back 0
	 * (4.1.4.3.2, 4.2.2.2): afterwards no queue is live. */
	void (*reset)(struct virtio_device *vdev);
	uint8_t (*get_status)(struct virtio_device *vdev);
	/* Writes the whole status byte; the core only ever adds bits. */
	void (*set_status)(struct virtio_device *vdev, uint8_t status);
	/* All feature bits the device offers (legacy: 32 bits). */
	uint64_t (*get_features)(struct virtio_device *vdev);
	/* Writes vdev->features to the device. 0 or a negative errno. */
	int (*finalize_features)(struct virtio_device *vdev);
	/* Device-specific config space, `len` bytes at `offset`, with the
	 * access widths the transport prefers. Use the virtio_cread*()
	 * helpers, which add the generation check. */
	void (*get)(struct virtio_device *vdev, unsigned offset, void *buf, unsigned len);
	void (*set)(struct virtio_device *vdev, unsigned offset, const void *buf, unsigned len);
	/* Config generation (4.1.4.3, 4.2.2): changes whenever the device
	 * changes the config. Optional: legacy devices have none. */
	uint32_t (*generation)(struct virtio_device *vdev);
	/* Creates `nvqs` queues (ring memory of the size the device allows,
	 * addresses told to the device, interrupts wired, vq->vdev set, each
	 * vq linked into vdev->vqs). 0 or a negative errno; on error none
	 * is left. */
	int (*find_vqs)(struct virtio_device *vdev, unsigned nvqs, struct virtqueue *vqs[],
			const struct virtqueue_info info[]);
	/* Undoes find_vqs; the device must be reset first. */
	void (*del_vqs)(struct virtio_device *vdev);
	/* "pci", "pci-legacy", "mmio", ... for messages and the shell. */
	const char *(*bus_name)(struct virtio_device *vdev);
	/* Optional, for VIRTIO_F_RING_RESET (2.6.1): stop and reset one
	 * queue / program its (new) ring addresses and enable it again. */
	int (*disable_vq_and_reset)(struct virtqueue *vq);
	int (*enable_vq_after_reset)(struct virtqueue *vq);
};

struct virtio_device_id {
	uint32_t device; /* VIRTIO_ID_*, or VIRTIO_DEV_ANY_ID */
	uint32_t vendor; /* or VIRTIO_DEV_ANY_ID */
};

struct virtio_device {
	int index;		    /* virtioN, assigned at registration */
	struct virtio_device_id id; /* filled by the transport */
	const struct virtio_config_ops *config;
	/* Legacy transports skip FEATURES_OK and have only 32 feature bits;
	 * modern ones require VIRTIO_F_VERSION_1. Set by the transport. */
	bool legacy;
	uint64_t device_features;     /* offered, read during probe */
	uint64_t features;	      /* negotiated: what the driver accepted */
	bool failed;		      /* FAILED was set; see fail_step */
	const char *fail_step;	      /* which init step failed */
	bool needs_reset;	      /* DEVICE_NEEDS_RESET was seen */
	struct virtio_driver *driver; /* bound driver, or NULL */
	struct virtqueue *vqs;	      /* linked by vq->next */
	void *priv;		      /* the driver's */
	struct virtio_device *next;   /* registry */
};

struct virtio_driver {
	const char *name;
	/* Device types served, ended by an entry with device == 0. */
	const struct virtio_device_id *id_table;
	/* Device-specific feature bits the driver understands. */
	const unsigned *feature_table;
	unsigned feature_table_size;
	/* Optional: may clear bits in vdev->features before FEATURES_OK. */
	int (*validate)(struct virtio_device *vdev);
	/* Creates queues (virtio_find_vqs), reads config; may call
	 * virtio_device_ready() to use queues before returning. 0 or a
	 * negative errno. */
	int (*probe)(struct virtio_device *vdev);
	void (*remove)(struct virtio_device *vdev);
	/* Config-change interrupt. Interrupt context. */
	void (*config_changed)(struct virtio_device *vdev);
	struct virtio_driver *next; /* registry */
};

/* Register / unregister. Matching in both orders: whichever comes second
 * triggers probing. Registration of a device resets it and sets
 * ACKNOWLEDGE. Return 0 or a negative errno (-EBUSY if already there). A
 * failed probe leaves the device registered, unbound and FAILED. */
int register_virtio_driver(struct virtio_driver *drv);
void unregister_virtio_driver(struct virtio_driver *drv);
int register_virtio_device(struct virtio_device *vdev);
void unregister_virtio_device(struct virtio_device *vdev);

/* The one line a driver file needs to be registered at boot (an INITCALL),
 * like Linux's module_virtio_driver(). Errors are reported by
 * register_virtio_driver() itself. */
#define VIRTIO_DRIVER_INITCALL(drv)                                                                \
	static void drv##_register(void)                                                           \
	{                                                                                          \
		register_virtio_driver(&drv);                                                      \
	}                                                                                          \
	INITCALL(drv##_register)

static inline bool virtio_has_feature(const struct virtio_device *vdev, unsigned fbit)
{
	return fbit < 64 && (vdev->features & VIRTIO_BIT(fbit)) != 0;
}

/* Only valid during validate(): declines a feature the device offered. */
static inline void virtio_clear_feature(struct virtio_device *vdev, unsigned fbit)
{
	vdev->features &= ~VIRTIO_BIT(fbit);
}

/* Sets DRIVER_OK, so the device may use queues; for probe() routines that
 * need queues working before they return. The core calls it after probe
 * otherwise. */
void virtio_device_ready(struct virtio_device *vdev);
void virtio_add_status(struct virtio_device *vdev, uint8_t bits);
/* Resets the device (no queue is live afterwards). */
void virtio_reset_device(struct virtio_device *vdev);
/* Breaks / unbreaks every queue of the device (device needs reset, or
 * after the reset that recovers it). */
void virtio_break_device(struct virtio_device *vdev);
void __virtio_unbreak_device(struct virtio_device *vdev);

/* Queue creation for drivers: the transport's find_vqs / del_vqs. */
int virtio_find_vqs(struct virtio_device *vdev, unsigned nvqs, struct virtqueue *vqs[],
		    const struct virtqueue_info info[]);
void virtio_del_vqs(struct virtio_device *vdev);

/*
 * Device-specific config space reads that are consistent (4.1.4.3.1: a
 * driver must not assume reads wider than 32 bits, or of several fields,
 * are atomic): the read is repeated until the generation counter is the
 * same before and after. Gives up with -EIO after many retries from a
 * device whose config never settles. Driver context.
 */
int virtio_cread_bytes(struct virtio_device *vdev, unsigned offset, void *buf, unsigned len);
uint8_t virtio_cread8(struct virtio_device *vdev, unsigned offset);
uint16_t virtio_cread16(struct virtio_device *vdev, unsigned offset);
uint32_t virtio_cread32(struct virtio_device *vdev, unsigned offset);
uint64_t virtio_cread64(struct virtio_device *vdev, unsigned offset);
void virtio_cwrite8(struct virtio_device *vdev, unsigned offset, uint8_t v);
void virtio_cwrite16(struct virtio_device *vdev, unsigned offset, uint16_t v);
void virtio_cwrite32(struct virtio_device *vdev, unsigned offset, uint32_t v);

/*
 * Transports call this from their config-change interrupt. If the device
 * set DEVICE_NEEDS_RESET (2.1.2) it is reported and its queues broken;
 * otherwise the driver's config_changed runs. Interrupt context.
 */
void virtio_config_changed(struct virtio_device *vdev);
/* Reads the status; on DEVICE_NEEDS_RESET logs it, breaks every queue and
 * returns true. Any context. */
bool virtio_check_needs_reset(struct virtio_device *vdev);

/* For the shell: iterate over registered devices (NULL starts), describe
 * one in a line ("virtio0 net pci features 0x... status 0x... driver ...").
 * virtio_device_format returns what snprintf returns. */
struct virtio_device *virtio_device_next(struct virtio_device *prev);
int virtio_device_format(struct virtio_device *vdev, char *buf, size_t size);
void virtio_device_print(struct virtio_device *vdev);
/* "net", "block", ... or "unknown". */
const char *virtio_id_name(uint32_t device_id);

#endif
