/*
 * The modern virtio PCI interface (virtio 1.2 section 4.1.4).
 *
 * The device describes its register blocks with vendor-specific PCI
 * capabilities (4.1.4.1), each naming a BAR, an offset and a length:
 *   common  (4.1.4.3) features, status, and the queue registers, which act
 *           on the queue chosen by queue_select;
 *   notify  (4.1.4.4) the doorbells: queue q's is at
 *           queue_notify_off(q) * notify_off_multiplier;
 *   isr     (4.1.4.5) one byte, read to learn and acknowledge an interrupt;
 *   device  (4.1.4.6) the device-specific configuration (optional).
 * Features are 64 bits, read and written 32 at a time through select
 * registers; a queue's size may be lowered by the driver; its descriptor,
 * driver and device areas are given as three separate addresses.
 *
 * With VIRTIO_F_RING_RESET (2.6.1) one queue can be reset through
 * queue_reset and set up again with other parameters (a new ring size):
 * virtqueue_resize() uses it. queue_reset sits after the virtio 1.0 fields,
 * so for a device whose common configuration is too short to hold it the
 * feature reads as not offered and is never negotiated.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/io.h"
#include "kernel/lib/log.h"
#include "kernel/pci/pci_bus.h"
#include "kernel/pci/pci_caps.h"
#include "kernel/pci/pci_config.h"
#include "kernel/time/timer.h"
#include "virtio/transport/pci_common.h"
#include "virtio/transport/pci_modern.h"
#include "virtio/virtqueue_transport.h"

/* virtio_pci_cap (4.1.4), at the capability's offset. */
#define VP_CAP_CFG_TYPE	   3
#define VP_CAP_BAR	   4
#define VP_CAP_OFFSET	   8
#define VP_CAP_LENGTH	   12
#define VP_CAP_NOTIFY_MULT 16 /* virtio_pci_notify_cap only */

#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG	  3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

/* struct virtio_pci_common_cfg (4.1.4.3). */
#define VP_DFSELECT   0x00 /* le32 device_feature_select */
#define VP_DF	      0x04 /* le32 device_feature */
#define VP_GFSELECT   0x08 /* le32 driver_feature_select */
#define VP_GF	      0x0c /* le32 driver_feature */
#define VP_MSIX	      0x10 /* le16 config_msix_vector */
#define VP_NUMQ	      0x12 /* le16 num_queues */
#define VP_STATUS     0x14 /* u8 device_status */
#define VP_CFGGEN     0x15 /* u8 config_generation */
#define VP_Q_SELECT   0x16 /* le16 queue_select */
#define VP_Q_SIZE     0x18 /* le16 queue_size */
#define VP_Q_MSIX     0x1a /* le16 queue_msix_vector */
#define VP_Q_ENABLE   0x1c /* le16 queue_enable */
#define VP_Q_NOFF     0x1e /* le16 queue_notify_off */
#define VP_Q_DESC     0x20 /* le64 queue_desc */
#define VP_Q_DRIVER   0x28 /* le64 queue_driver */
#define VP_Q_DEVICE   0x30 /* le64 queue_device */
#define VP_COMMON_LEN 0x38 /* the virtio 1.0 fields we use */
/* 0x38 le16 queue_notify_data (virtio 1.1), then, virtio 1.2: */
#define VP_Q_RESET	    0x3a /* le16 queue_reset, only with VIRTIO_F_RING_RESET */
#define VP_COMMON_LEN_RESET 0x3c /* ... up to and including queue_reset */

/* A queue reset takes QEMU one register write; a device that has not
 * finished after this long is not going to. */
#define VP_QUEUE_RESET_TIMEOUT_NS 100000000ull /* 100 ms */

/* Per-queue transport state (vq->transport_priv): what the queue's
 * set-up wrote and a re-enable after a queue reset writes again. */
struct vpm_vq {
	volatile uint8_t *doorbell; /* this queue's notification address */
	uint16_t msix_vec;	    /* table entry, or VIRTIO_MSI_NO_VECTOR */
};

static volatile uint8_t *common(struct virtio_pci_device *vp, unsigned off)
{
	return vp->common + off;
}

/* 4.1.3.1: a 64-bit field may be written as two 32-bit halves. */
static void write64(volatile uint8_t *p, uint64_t v)
{
	mmio_write32(p, (uint32_t)v);
	mmio_write32(p + 4, (uint32_t)(v >> 32));
}

/* ---- Finding the capabilities ------------------------------------------ */

/* Checks one virtio capability and maps the region it describes; NULL if
 * it points outside an assigned memory BAR. */
static volatile uint8_t *map_cap(struct virtio_pci_device *vp, uint8_t pos, uint32_t *len)
{
	struct pci_dev *pdev = vp->pdev;
	unsigned bar = pci_read8(pdev, pos + VP_CAP_BAR);
	uint32_t off = pci_read32(pdev, pos + VP_CAP_OFFSET);
	uint32_t length = pci_read32(pdev, pos + VP_CAP_LENGTH);
	volatile uint8_t *base;

	if (bar >= pdev->nbars ||
	    (pdev->bar[bar].type != PCI_BAR_MEM32 && pdev->bar[bar].type != PCI_BAR_MEM64)) {
		pr_warn("virtio-pci %s: capability at 0x%02x names BAR %u, expected a memory "
			"BAR; ignored\n",
			vp->name, pos, bar);
		return NULL;
	}
	if ((uint64_t)off + length > pdev->bar[bar].size) {
		pr_warn("virtio-pci %s: capability at 0x%02x covers 0x%x+0x%x, beyond BAR %u "
			"(0x%llx bytes); ignored\n",
			vp->name, pos, off, length, bar, (unsigned long long)pdev->bar[bar].size);
		return NULL;
	}
	base = pci_map_bar(pdev, bar);
	if (!base)
		return NULL;
	*len = length;
	return base + off;
}

static int find_caps(struct virtio_pci_device *vp)
{
	struct pci_dev *pdev = vp->pdev;
	uint32_t isr_len = 0;

	/* 4.1.4.1: the device may offer a structure more than once; the
	 * driver uses the first one it can use. */
	for (uint8_t pos = pci_find_capability(pdev, PCI_CAP_ID_VENDOR); pos;
	     pos = pci_find_next_capability(pdev, pos, PCI_CAP_ID_VENDOR)) {
		uint8_t cap_len = pci_read8(pdev, pos + 2);
		uint8_t type = pci_read8(pdev, pos + VP_CAP_CFG_TYPE);

		if (cap_len < 16)
			continue; /* too short for a virtio_pci_cap */
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			if (!vp->common)
				vp->common = map_cap(vp, pos, &vp->common_len);
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			if (!vp->notify && cap_len >= 20) {
				vp->notify = map_cap(vp, pos, &vp->notify_len);
				vp->notify_off_multiplier =
					pci_read32(pdev, pos + VP_CAP_NOTIFY_MULT);
			}
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			if (!vp->isr)
				vp->isr = map_cap(vp, pos, &isr_len);
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			if (!vp->device)
				vp->device = map_cap(vp, pos, &vp->device_len);
			break;
		default:
			break; /* PCI config access, shared memory: not used */
		}
	}
	if (!vp->common || !vp->notify || !vp->isr)
		return -ENODEV;
	if (vp->common_len < VP_COMMON_LEN || isr_len < 1) {
		pr_err("virtio-pci %s: common config is %u bytes (expected >= %u), ISR %u bytes\n",
		       vp->name, vp->common_len, VP_COMMON_LEN, isr_len);
		return -ENODEV;
	}
	return 0;
}

/* ---- struct virtio_config_ops -------------------------------------------- */

static uint8_t vpm_get_status(struct virtio_device *vdev)
{
	return mmio_read8(common(to_vp(vdev), VP_STATUS));
}

static void vpm_set_status(struct virtio_device *vdev, uint8_t status)
{
	mmio_write8(common(to_vp(vdev), VP_STATUS), status);
}

static void vpm_reset(struct virtio_device *vdev)
{
	/* 4.1.4.3.2: after writing 0 the driver waits for 0 to read back;
	 * until then the device may still be using the queues. QEMU resets
	 * synchronously, so this normally loops once. */
	vpm_set_status(vdev, 0);
	for (unsigned i = 0; vpm_get_status(vdev) != 0; i++) {
		if (i == 1000000) {
			pr_err("virtio-pci %s: status still 0x%02x after reset\n",
			       to_vp(vdev)->name, vpm_get_status(vdev));
			return;
		}
		__asm__ volatile("pause");
	}
}

static uint64_t vpm_get_features(struct virtio_device *vdev)
{
	struct virtio_pci_device *vp = to_vp(vdev);
	uint64_t f;

	mmio_write32(common(vp, VP_DFSELECT), 0);
	f = mmio_read32(common(vp, VP_DF));
	mmio_write32(common(vp, VP_DFSELECT), 1);
	f |= (uint64_t)mmio_read32(common(vp, VP_DF)) << 32;
	/* Queue reset goes through queue_reset; a common configuration too
	 * short to hold it cannot do what the bit promises. */
	if ((f & VIRTIO_BIT(VIRTIO_F_RING_RESET)) && vp->common_len < VP_COMMON_LEN_RESET) {
		pr_warn("virtio-pci %s: offers VIRTIO_F_RING_RESET, but its common config is %u "
			"bytes, expected >= %u to hold queue_reset; queue reset not used\n",
			vp->name, vp->common_len, VP_COMMON_LEN_RESET);
		f &= ~VIRTIO_BIT(VIRTIO_F_RING_RESET);
	}
	return f;
}

static int vpm_finalize_features(struct virtio_device *vdev)
{
	struct virtio_pci_device *vp = to_vp(vdev);

	mmio_write32(common(vp, VP_GFSELECT), 0);
	mmio_write32(common(vp, VP_GF), (uint32_t)vdev->features);
	mmio_write32(common(vp, VP_GFSELECT), 1);
	mmio_write32(common(vp, VP_GF), (uint32_t)(vdev->features >> 32));
	return 0;
}

/* Device config accesses use the natural width of the field (4.1.3.1);
 * anything odd goes byte by byte. Out-of-range requests read as zeros. */
static void vpm_get(struct virtio_device *vdev, unsigned offset, void *buf, unsigned len)
{
	struct virtio_pci_device *vp = to_vp(vdev);
	volatile uint8_t *p = vp->device + offset;
	uint8_t *out = buf;

	if (!vp->device || (uint64_t)offset + len > vp->device_len) {
		pr_err("virtio-pci %s: config read of %u bytes at %u, device config is %u bytes\n",
		       vp->name, len, offset, vp->device_len);
		memset(buf, 0, len);
		return;
	}
	if (len == 2) {
		uint16_t v = mmio_read16(p);
		memcpy(buf, &v, 2);
	} else if (len == 4) {
		uint32_t v = mmio_read32(p);
		memcpy(buf, &v, 4);
	} else if (len == 8) {
		uint32_t lo = mmio_read32(p), hi = mmio_read32(p + 4);
		memcpy(out, &lo, 4);
		memcpy(out + 4, &hi, 4);
	} else {
		for (unsigned i = 0; i < len; i++)
			out[i] = mmio_read8(p + i);
	}
}

static void vpm_set(struct virtio_device *vdev, unsigned offset, const void *buf, unsigned len)
{
	struct virtio_pci_device *vp = to_vp(vdev);
	volatile uint8_t *p = vp->device + offset;
	const uint8_t *in = buf;

	if (!vp->device || (uint64_t)offset + len > vp->device_len) {
		pr_err("virtio-pci %s: config write of %u bytes at %u, device config is %u bytes\n",
		       vp->name, len, offset, vp->device_len);
		return;
	}
	if (len == 2) {
		uint16_t v;
		memcpy(&v, buf, 2);
		mmio_write16(p, v);
	} else if (len == 4) {
		uint32_t v;
		memcpy(&v, buf, 4);
		mmio_write32(p, v);
	} else {
		for (unsigned i = 0; i < len; i++)
			mmio_write8(p + i, in[i]);
	}
}

static uint32_t vpm_generation(struct virtio_device *vdev)
{
	return mmio_read8(common(to_vp(vdev), VP_CFGGEN));
}

/* ---- Queues ------------------------------------------------------------- */

/* The doorbell (4.1.4.4.1): without VIRTIO_F_NOTIFICATION_DATA the driver
 * writes the queue index. */
static bool vpm_notify(struct virtqueue *vq)
{
	struct vpm_vq *q = vq->transport_priv;

	mmio_write16(q->doorbell, (uint16_t)vq->index);
	return true;
}

/* Where the selected queue's doorbell is (4.1.4.4): queue_notify_off
 * times the multiplier, inside the notify region. */
static int vpm_doorbell(struct virtio_pci_device *vp, unsigned index, volatile uint8_t **out)
{
	uint16_t noff = mmio_read16(common(vp, VP_Q_NOFF));
	uint64_t doorbell = (uint64_t)noff * vp->notify_off_multiplier;

	if (doorbell + 2 > vp->notify_len) {
		pr_err("virtio-pci %s: queue %u doorbell at 0x%llx, beyond the %u-byte notify "
		       "region\n",
		       vp->name, index, (unsigned long long)doorbell, vp->notify_len);
		return -ENOENT;
	}
	*out = vp->notify + doorbell;
	return 0;
}

/* Tells the device the selected queue's ring (4.1.5.1.3): its size and
 * three addresses, split or packed alike (4.1.4.3), and its vector, which
 * the device reads back as VIRTIO_MSI_NO_VECTOR if it cannot take it
 * (-EBUSY). At set-up, and again after a queue reset (2.6.1.2.2). */
static int vpm_program_vq(struct virtio_pci_device *vp, struct virtqueue *vq, uint16_t msix_vec)
{
	mmio_write16(common(vp, VP_Q_SIZE), (uint16_t)virtqueue_get_vring_size(vq));
	write64(common(vp, VP_Q_DESC), virtqueue_get_desc_addr(vq));
	write64(common(vp, VP_Q_DRIVER), virtqueue_get_avail_addr(vq));
	write64(common(vp, VP_Q_DEVICE), virtqueue_get_used_addr(vq));
	if (msix_vec != VIRTIO_MSI_NO_VECTOR) {
		mmio_write16(common(vp, VP_Q_MSIX), msix_vec);
		if (mmio_read16(common(vp, VP_Q_MSIX)) != msix_vec)
			return -EBUSY;
	}
	return 0;
}

static int vpm_setup_vq(struct virtio_pci_device *vp, unsigned index, vq_callback_t *callback,
			const char *name, uint16_t msix_vec, struct virtqueue **out)
{
	struct virtqueue *vq;
	struct vpm_vq *q;
	uint16_t max, num;
	int err;

	if (index >= mmio_read16(common(vp, VP_NUMQ))) {
		pr_err("virtio-pci %s: queue %u asked for, the device has %u\n", vp->name, index,
		       mmio_read16(common(vp, VP_NUMQ)));
		return -ENOENT;
	}
	mmio_write16(common(vp, VP_Q_SELECT), (uint16_t)index);
	max = mmio_read16(common(vp, VP_Q_SIZE));
	if (max == 0 || mmio_read16(common(vp, VP_Q_ENABLE))) {
		pr_err("virtio-pci %s: queue %u has size %u, enabled %u; expected a non-zero "
		       "size and a disabled queue\n",
		       vp->name, index, max, mmio_read16(common(vp, VP_Q_ENABLE)));
		return -ENOENT;
	}
	/* The device's maximum, capped at VIRTIO_PCI_QUEUE_MAX; rounded down
	 * to a power of two for a split ring (2.7), taken as is for a packed
	 * one (2.8). The driver may write any smaller size (4.1.4.3.2). */
	num = (uint16_t)vring_queue_size(&vp->vdev, max, VIRTIO_PCI_QUEUE_MAX);

	q = malloc(sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->msix_vec = msix_vec;
	err = vpm_doorbell(vp, index, &q->doorbell);
	if (err) {
		free(q);
		return err;
	}
	/* Split or packed, as negotiated. */
	vq = vring_create_virtqueue(index, num, 0, &vp->vdev, vpm_notify, callback, name);
	if (!vq) {
		free(q);
		return -ENOMEM;
	}
	/* A resize may grow the ring up to what the device allows. */
	vq->num_max = max;
	vq->transport_priv = q;
	err = vpm_program_vq(vp, vq, msix_vec);
	if (err) {
		vring_del_virtqueue(vq);
		free(q);
		return err; /* -EBUSY: the device refused the vector */
	}
	*out = vq;
	return 0;
}

/* queue_enable = 1 is the last step of queue set-up (4.1.5.1.3): from then
 * on the device may use the ring. */
static void vpm_enable_vqs(struct virtio_pci_device *vp)
{
	for (struct virtqueue *vq = vp->vdev.vqs; vq; vq = vq->next) {
		mmio_write16(common(vp, VP_Q_SELECT), (uint16_t)vq->index);
		mmio_write16(common(vp, VP_Q_ENABLE), 1);
	}
}

static void vpm_del_vq(struct virtio_pci_device *vp, struct virtqueue *vq)
{
	/* A queue cannot be disabled by the driver (only reset), so its
	 * vector is cleared and the ring freed: the caller reset the device
	 * or never enabled the queue. */
	mmio_write16(common(vp, VP_Q_SELECT), (uint16_t)vq->index);
	if (vp->pdev->msix_enabled)
		mmio_write16(common(vp, VP_Q_MSIX), VIRTIO_MSI_NO_VECTOR);
	free(vq->transport_priv);
	vq->transport_priv = NULL;
	vring_del_virtqueue(vq);
}

/* ---- Queue reset (VIRTIO_F_RING_RESET, 2.6.1 and 4.1.4.3) --------------- */

/* Writes 1 to queue_reset; the reset is complete once queue_reset and
 * queue_enable both read 0 (4.1.4.3.1, 4.1.4.3.2). Afterwards the device
 * neither uses the ring nor interrupts for it, and has forgotten its
 * addresses, size and vector. The caller keeps interrupts off: a shared
 * handler looks at every queue. */
static int vpm_disable_vq_and_reset(struct virtqueue *vq)
{
	struct virtio_pci_device *vp = to_vp(vq->vdev);
	uint16_t reset, enable;
	uint64_t start;

	mmio_write16(common(vp, VP_Q_SELECT), (uint16_t)vq->index);
	mmio_write16(common(vp, VP_Q_RESET), 1);
	start = time_ns();
	for (;;) {
		reset = mmio_read16(common(vp, VP_Q_RESET));
		enable = mmio_read16(common(vp, VP_Q_ENABLE));
		if (!reset && !enable)
			return 0;
		if (time_ns() - start > VP_QUEUE_RESET_TIMEOUT_NS)
			break;
		__asm__ volatile("pause");
	}
	pr_err("virtio-pci %s: queue %u (%s) not reset after %llu ms: queue_reset %u, "
	       "queue_enable %u, expected 0 and 0\n",
	       vp->name, vq->index, vq->name ? vq->name : "?",
	       VP_QUEUE_RESET_TIMEOUT_NS / 1000000ull, reset, enable);
	return -ETIMEDOUT;
}

/* Re-enabling is the queue's initial set-up again (2.6.1.2.2), with the
 * ring the caller installed: size, addresses, the same MSI-X vector (the
 * reset cleared it; QEMU reads it back as VIRTIO_MSI_NO_VECTOR), and the
 * doorbell read again, then queue_enable = 1. */
static int vpm_enable_vq_after_reset(struct virtqueue *vq)
{
	struct virtio_pci_device *vp = to_vp(vq->vdev);
	struct vpm_vq *q = vq->transport_priv;
	unsigned num = virtqueue_get_vring_size(vq);
	uint16_t max;
	int err;

	mmio_write16(common(vp, VP_Q_SELECT), (uint16_t)vq->index);
	if (mmio_read16(common(vp, VP_Q_ENABLE))) {
		pr_err("virtio-pci %s: queue %u is enabled; expected it reset before re-enabling\n",
		       vp->name, vq->index);
		return -EBUSY;
	}
	/* After the reset queue_size shows the device's maximum again. */
	max = mmio_read16(common(vp, VP_Q_SIZE));
	if (num == 0 || num > max) {
		pr_err("virtio-pci %s: queue %u: ring of %u entries, the device allows 1..%u\n",
		       vp->name, vq->index, num, max);
		return -EINVAL;
	}
	err = vpm_doorbell(vp, vq->index, &q->doorbell);
	if (err)
		return err;
	err = vpm_program_vq(vp, vq, q->msix_vec);
	if (err) {
		pr_err("virtio-pci %s: queue %u: the device refused MSI-X vector %u after the "
		       "queue reset\n",
		       vp->name, vq->index, q->msix_vec);
		return err;
	}
	mmio_write16(common(vp, VP_Q_ENABLE), 1);
	if (mmio_read16(common(vp, VP_Q_ENABLE)) != 1) {
		pr_err("virtio-pci %s: queue %u: queue_enable reads 0 after writing 1\n", vp->name,
		       vq->index);
		return -EIO;
	}
	return 0;
}

static uint16_t vpm_set_config_vector(struct virtio_pci_device *vp, uint16_t vector)
{
	mmio_write16(common(vp, VP_MSIX), vector);
	return mmio_read16(common(vp, VP_MSIX));
}

static uint8_t vpm_read_isr(struct virtio_pci_device *vp)
{
	return mmio_read8(vp->isr);
}

static const struct virtio_config_ops virtio_pci_modern_config_ops = {
	.reset = vpm_reset,
	.get_status = vpm_get_status,
	.set_status = vpm_set_status,
	.get_features = vpm_get_features,
	.finalize_features = vpm_finalize_features,
	.get = vpm_get,
	.set = vpm_set,
	.generation = vpm_generation,
	.find_vqs = vp_find_vqs,
	.del_vqs = vp_del_vqs,
	.bus_name = vp_bus_name,
	.disable_vq_and_reset = vpm_disable_vq_and_reset,
	.enable_vq_after_reset = vpm_enable_vq_after_reset,
};

static const struct virtio_pci_ops virtio_pci_modern_ops = {
	.setup_vq = vpm_setup_vq,
	.enable_vqs = vpm_enable_vqs,
	.del_vq = vpm_del_vq,
	.set_config_vector = vpm_set_config_vector,
	.read_isr = vpm_read_isr,
};

int virtio_pci_modern_probe(struct virtio_pci_device *vp)
{
	int err = find_caps(vp);

	if (err) {
		vp->common = vp->notify = vp->isr = vp->device = NULL;
		return err;
	}
	pci_enable(vp->pdev, PCI_COMMAND_MEMORY);
	vp->modern = true;
	vp->vdev.legacy = false;
	vp->vdev.config = &virtio_pci_modern_config_ops;
	vp->ops = &virtio_pci_modern_ops;
	return 0;
}
