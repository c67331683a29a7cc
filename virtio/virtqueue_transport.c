/*
 * Virtqueues for transports (virtio/virtqueue_transport.h): creating the
 * ring of the layout a device negotiated (split, virtio 1.2 section 2.7;
 * packed, 2.8), the area addresses a transport tells the device, and
 * vring_interrupt(), where every transport's interrupt handler hands a
 * queue over to its driver's callback.
 *
 * This is the one place that turns a device's negotiated features and its
 * transport's queue reset into the struct vring_params a ring is built
 * from, so the rings themselves never look at a device.
 */
#include <stdbool.h>
#include <stddef.h>

#include "virtio/ring/ring_packed.h"
#include "virtio/ring/ring_split.h"
#include "virtio/virtio.h"
#include "virtio/virtqueue_transport.h"

struct virtqueue *vring_create_virtqueue(unsigned index, unsigned num, unsigned align,
					 struct virtio_device *vdev,
					 bool (*notify)(struct virtqueue *vq),
					 vq_callback_t *callback, const char *name)
{
	const struct virtio_config_ops *cfg = vdev ? vdev->config : NULL;
	struct vring_params p = {
		.index = index,
		.num = num,
		.align = align,
		.indirect = vdev && virtio_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC),
		.event_idx = vdev && virtio_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX),
		.vdev = vdev,
		.name = name,
		.callback = callback,
		.notify = notify,
	};

	/* 2.6.1: a queue may be reset alone only once RING_RESET was agreed. */
	if (cfg && virtio_has_feature(vdev, VIRTIO_F_RING_RESET)) {
		p.reset = cfg->disable_vq_and_reset;
		p.enable = cfg->enable_vq_after_reset;
	}
	if (vdev && virtio_has_feature(vdev, VIRTIO_F_RING_PACKED))
		return vring_create_virtqueue_packed(&p);
	return vring_create_virtqueue_split(&p);
}

unsigned vring_queue_size(const struct virtio_device *vdev, unsigned max, unsigned cap)
{
	unsigned num = max < cap ? max : cap;

	if (vdev && virtio_has_feature(vdev, VIRTIO_F_RING_PACKED))
		return num > VRING_PACKED_MAX_NUM ? VRING_PACKED_MAX_NUM : num;
	/* 2.7: the largest power of two the device and the cap allow. */
	while (num & (num - 1))
		num &= num - 1;
	return num > VRING_SPLIT_MAX_NUM ? VRING_SPLIT_MAX_NUM : num;
}

/* The rest of the life cycle is dispatched like the driver's operations,
 * so transports never ask which layout they were given. */
void vring_del_virtqueue(struct virtqueue *vq)
{
	vq->ops->del(vq);
}

uint64_t virtqueue_get_desc_addr(const struct virtqueue *vq)
{
	return vq->ops->desc_addr(vq);
}

uint64_t virtqueue_get_avail_addr(const struct virtqueue *vq)
{
	return vq->ops->driver_addr(vq);
}

uint64_t virtqueue_get_used_addr(const struct virtqueue *vq)
{
	return vq->ops->device_addr(vq);
}

bool vring_interrupt(struct virtqueue *vq)
{
	vq->stats.interrupts++;
	/* Shared INTx lines and suppression races both produce interrupts
	 * with nothing behind them; report them as not ours. */
	if (!vq->ops->more_used(vq)) {
		vq->stats.spurious++;
		return false;
	}
	/* A broken queue's "used" buffers are not to be believed: the
	 * interrupt was ours, but nobody is called. */
	if (vq->ops->is_broken(vq))
		return true;
	if (vq->callback)
		vq->callback(vq);
	return true;
}
