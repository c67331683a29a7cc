/*
 * The legacy virtio PCI interface (virtio 1.2 section 4.1.4.10, the
 * virtio 0.9.5 layout; queue set-up 4.1.5.1.3.1): all registers in I/O
 * BAR 0.
 *
 *   0  host (device) features, 32 bits     12  queue size (fixed by device)
 *   4  guest (driver) features, 32 bits    14  queue select
 *   8  queue address: page frame number    16  queue notify
 *      of the ring, 4096-byte pages        18  device status (8 bits)
 *                                          19  ISR status (8 bits)
 *  with MSI-X enabled in the function:
 *  20  config MSI-X vector  22  queue MSI-X vector  24  device config
 *  without MSI-X:
 *  20  device config
 *
 * The ring is one block whose used ring starts on a 4096-byte boundary
 * (legacy alignment), and the device only learns its page number.
 * There is no FEATURES_OK step and no config generation counter.
 */
#include <errno.h>

#include "arch/x86_64/io.h"
#include "kernel/lib/log.h"
#include "kernel/pci/pci_config.h"
#include "virtio/transport/pci_common.h"
#include "virtio/transport/pci_legacy.h"
#include "virtio/virtqueue_transport.h"

#define VL_HOST_FEATURES  0
#define VL_GUEST_FEATURES 4
#define VL_QUEUE_PFN	  8
#define VL_QUEUE_NUM	  12
#define VL_QUEUE_SEL	  14
#define VL_QUEUE_NOTIFY	  16
#define VL_STATUS	  18
#define VL_ISR		  19
#define VL_MSIX_CONFIG	  20
#define VL_MSIX_QUEUE	  22
#define VL_QUEUE_ALIGN	  4096
#define VL_PFN_SHIFT	  12

/* The device config moves by 4 when MSI-X is on: the two vector
 * registers appear in front of it. */
static unsigned config_offset(struct virtio_pci_device *vp)
{
	return vp->pdev->msix_enabled ? 24 : 20;
}

static uint8_t vl_get_status(struct virtio_device *vdev)
{
	return inb(to_vp(vdev)->io + VL_STATUS);
}

static void vl_set_status(struct virtio_device *vdev, uint8_t status)
{
	outb(to_vp(vdev)->io + VL_STATUS, status);
}

static void vl_reset(struct virtio_device *vdev)
{
	/* Writing 0 resets; the read makes sure the write reached it. */
	vl_set_status(vdev, 0);
	(void)vl_get_status(vdev);
}

static uint64_t vl_get_features(struct virtio_device *vdev)
{
	return inl(to_vp(vdev)->io + VL_HOST_FEATURES);
}

static int vl_finalize_features(struct virtio_device *vdev)
{
	/* Only 32 bits exist: the core never accepts more for legacy. */
	outl(to_vp(vdev)->io + VL_GUEST_FEATURES, (uint32_t)vdev->features);
	return 0;
}

/* Legacy config is guest-endian and has no access-width rules: bytes. */
static bool config_range_ok(struct virtio_pci_device *vp, unsigned offset, unsigned len)
{
	uint64_t end = (uint64_t)config_offset(vp) + offset + len;

	if (end <= vp->io_len)
		return true;
	pr_err("virtio-pci %s: config access of %u bytes at %u, I/O BAR is %u bytes\n", vp->name,
	       len, offset, vp->io_len);
	return false;
}

static void vl_get(struct virtio_device *vdev, unsigned offset, void *buf, unsigned len)
{
	struct virtio_pci_device *vp = to_vp(vdev);
	uint16_t port = vp->io + config_offset(vp) + offset;
	uint8_t *out = buf;
	bool ok = config_range_ok(vp, offset, len);

	for (unsigned i = 0; i < len; i++)
		out[i] = ok ? inb(port + i) : 0;
}

static void vl_set(struct virtio_device *vdev, unsigned offset, const void *buf, unsigned len)
{
	struct virtio_pci_device *vp = to_vp(vdev);
	uint16_t port = vp->io + config_offset(vp) + offset;
	const uint8_t *in = buf;

	if (!config_range_ok(vp, offset, len))
		return;
	for (unsigned i = 0; i < len; i++)
		outb(port + i, in[i]);
}

static bool vl_notify(struct virtqueue *vq)
{
	outw(to_vp(vq->vdev)->io + VL_QUEUE_NOTIFY, (uint16_t)vq->index);
	return true;
}

static int vl_setup_vq(struct virtio_pci_device *vp, unsigned index, vq_callback_t *callback,
		       const char *name, uint16_t msix_vec, struct virtqueue **out)
{
	struct virtqueue *vq;
	uint16_t num;
	uint64_t pfn;

	outw(vp->io + VL_QUEUE_SEL, (uint16_t)index);
	num = inw(vp->io + VL_QUEUE_NUM);
	/* Size 0: no such queue. A PFN already set: the queue is live. */
	if (num == 0 || inl(vp->io + VL_QUEUE_PFN)) {
		pr_err("virtio-pci %s: legacy queue %u has size %u, pfn 0x%x; expected a "
		       "non-zero size and no ring\n",
		       vp->name, index, num, inl(vp->io + VL_QUEUE_PFN));
		return -ENOENT;
	}
	/* The legacy device fixes the size. It gets a split ring (legacy
	 * knows no other layout), which refuses a size that is not a power
	 * of two. */
	vq = vring_create_virtqueue(index, num, VL_QUEUE_ALIGN, &vp->vdev, vl_notify, callback,
				    name);
	if (!vq)
		return -ENOMEM;
	pfn = virtqueue_get_desc_addr(vq) >> VL_PFN_SHIFT;
	if (pfn > 0xffffffffu || (virtqueue_get_desc_addr(vq) & (VL_QUEUE_ALIGN - 1))) {
		pr_err("virtio-pci %s: ring at 0x%llx cannot be given as a 32-bit page number\n",
		       vp->name, (unsigned long long)virtqueue_get_desc_addr(vq));
		vring_del_virtqueue(vq);
		return -ENOMEM;
	}
	if (msix_vec != VIRTIO_MSI_NO_VECTOR) {
		outw(vp->io + VL_MSIX_QUEUE, msix_vec);
		if (inw(vp->io + VL_MSIX_QUEUE) != msix_vec) {
			vring_del_virtqueue(vq);
			return -EBUSY; /* the device refused the vector */
		}
	}
	/* Writing the page number activates the queue. */
	outl(vp->io + VL_QUEUE_PFN, (uint32_t)pfn);
	*out = vq;
	return 0;
}

static void vl_del_vq(struct virtio_pci_device *vp, struct virtqueue *vq)
{
	outw(vp->io + VL_QUEUE_SEL, (uint16_t)vq->index);
	if (vp->pdev->msix_enabled)
		outw(vp->io + VL_MSIX_QUEUE, VIRTIO_MSI_NO_VECTOR);
	/* PFN 0 deactivates the queue. */
	outl(vp->io + VL_QUEUE_PFN, 0);
	vring_del_virtqueue(vq);
}

static uint16_t vl_set_config_vector(struct virtio_pci_device *vp, uint16_t vector)
{
	outw(vp->io + VL_MSIX_CONFIG, vector);
	return inw(vp->io + VL_MSIX_CONFIG);
}

static uint8_t vl_read_isr(struct virtio_pci_device *vp)
{
	return inb(vp->io + VL_ISR);
}

static const struct virtio_config_ops virtio_pci_legacy_config_ops = {
	.reset = vl_reset,
	.get_status = vl_get_status,
	.set_status = vl_set_status,
	.get_features = vl_get_features,
	.finalize_features = vl_finalize_features,
	.get = vl_get,
	.set = vl_set,
	.generation = NULL,
	.find_vqs = vp_find_vqs,
	.del_vqs = vp_del_vqs,
	.bus_name = vp_bus_name,
};

static const struct virtio_pci_ops virtio_pci_legacy_ops = {
	.setup_vq = vl_setup_vq,
	.enable_vqs = NULL,
	.del_vq = vl_del_vq,
	.set_config_vector = vl_set_config_vector,
	.read_isr = vl_read_isr,
};

int virtio_pci_legacy_probe(struct virtio_pci_device *vp)
{
	struct pci_dev *pdev = vp->pdev;
	const struct pci_bar *bar = &pdev->bar[0];

	/* 4.1.4.10: legacy registers live in BAR 0, an I/O BAR. */
	if (pdev->nbars == 0 || bar->type != PCI_BAR_IO || !bar->addr || bar->size < 20 ||
	    bar->addr + bar->size > 0x10000) {
		pr_err("virtio-pci %s: BAR0 is not an assigned I/O BAR of at least 20 bytes "
		       "(type %u, 0x%llx size 0x%llx)\n",
		       vp->name, bar->type, (unsigned long long)bar->addr,
		       (unsigned long long)bar->size);
		return -ENODEV;
	}
	vp->io = (uint16_t)bar->addr;
	vp->io_len = (uint32_t)bar->size;
	pci_enable(pdev, PCI_COMMAND_IO);
	vp->modern = false;
	vp->vdev.legacy = true;
	vp->vdev.config = &virtio_pci_legacy_config_ops;
	vp->ops = &virtio_pci_legacy_ops;
	return 0;
}
