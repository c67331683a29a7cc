/*
 * virtio over PCI (virtio 1.2 section 4.1): what the modern (4.1.4) and
 * legacy (4.1.4.10) transports share. pci_probe.c finds virtio functions on
 * the PCI bus and picks the interface for each; pci_common.c wires
 * interrupts: one MSI-X vector for configuration changes plus one per
 * virtqueue, else one MSI-X vector for everything, else the shared INTx line
 * (4.1.5.1.2, 4.1.5.3-4.1.5.5). The two register layouts plug in through
 * virtio_pci_ops.
 */
#ifndef VIRTIO_TRANSPORT_PCI_COMMON_H
#define VIRTIO_TRANSPORT_PCI_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/pci/pci.h"
#include "kernel/pci/pci_msi.h"
#include "virtio/virtio.h"

#define VIRTIO_PCI_VENDOR 0x1af4
/* 4.1.2: 0x1000-0x103f are transitional devices (their type is in the
 * subsystem id); 0x1040 + type are modern-only devices. */
#define VIRTIO_PCI_TRANSITIONAL_FIRST 0x1000
#define VIRTIO_PCI_TRANSITIONAL_LAST  0x103f
#define VIRTIO_PCI_MODERN_FIRST	      0x1040
#define VIRTIO_PCI_MODERN_LAST	      0x107f

/* "No MSI-X vector": the device answers it when it cannot take a vector. */
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* ISR status bits (4.1.4.5): reading the register clears it. */
#define VIRTIO_PCI_ISR_QUEUE  0x1
#define VIRTIO_PCI_ISR_CONFIG 0x2

/* Largest ring the modern transport asks for: the device may offer up to
 * 32768 entries, each costing ~18 bytes of ring plus driver state; 256 is
 * plenty for the devices here and keeps a ring within two pages. */
#define VIRTIO_PCI_QUEUE_MAX 256

enum vp_irq_mode {
	VP_IRQ_NONE = 0,    /* no queues set up yet */
	VP_IRQ_MSIX_PER_VQ, /* entry 0: config, entry 1+i: queue i */
	VP_IRQ_MSIX_SHARED, /* entry 0 for config and all queues */
	VP_IRQ_INTX,	    /* the PCI interrupt pin, shared, level */
};

struct virtio_pci_device;

/* What differs between the modern and legacy register layouts. */
struct virtio_pci_ops {
	/* Creates queue `index` (ring allocated, addresses written, vector
	 * `msix_vec` or VIRTIO_MSI_NO_VECTOR assigned and read back). */
	int (*setup_vq)(struct virtio_pci_device *vp, unsigned index, vq_callback_t *callback,
			const char *name, uint16_t msix_vec, struct virtqueue **out);
	/* Optional: makes every queue live, after all got their vectors. */
	void (*enable_vqs)(struct virtio_pci_device *vp);
	/* Tells the device to forget the queue and frees the ring. */
	void (*del_vq)(struct virtio_pci_device *vp, struct virtqueue *vq);
	/* Writes the config-change vector; returns what the device read back. */
	uint16_t (*set_config_vector)(struct virtio_pci_device *vp, uint16_t vector);
	/* Reads (and so acknowledges) the ISR status. */
	uint8_t (*read_isr)(struct virtio_pci_device *vp);
};

struct virtio_pci_device {
	struct virtio_device vdev; /* first: container_of is a cast */
	struct pci_dev *pdev;
	const struct virtio_pci_ops *ops;
	bool modern;

	/* Modern (4.1.4): the regions the vendor capabilities point at. */
	volatile uint8_t *common, *isr, *device, *notify;
	uint32_t common_len, device_len, notify_len, notify_off_multiplier;
	/* Legacy (4.1.5): the I/O BAR. */
	uint16_t io;
	uint32_t io_len;

	/* Interrupts. */
	enum vp_irq_mode irq_mode;
	int msix_vectors[PCI_MSIX_MAX_VECTORS]; /* CPU vector per table entry, 0 = none */
	char *msix_names[PCI_MSIX_MAX_VECTORS]; /* "00:08.0 virtio-rng", for `irqs` */
	unsigned nmsix;
	unsigned gsi;
	bool intx;
	char name[16];	   /* "00:03.0" */
	char irq_name[24]; /* "00:03.0 intx", for `irqs` */
	char note[64];	   /* shown by lspci */
};

static inline struct virtio_pci_device *to_vp(struct virtio_device *vdev)
{
	return (struct virtio_pci_device *)vdev;
}

/* Shared config ops. */
int vp_find_vqs(struct virtio_device *vdev, unsigned nvqs, struct virtqueue *vqs[],
		const struct virtqueue_info info[]);
void vp_del_vqs(struct virtio_device *vdev);
const char *vp_bus_name(struct virtio_device *vdev);
/* Appends `vq` to vdev->vqs. */
void vp_link_vq(struct virtio_device *vdev, struct virtqueue *vq);

#endif
