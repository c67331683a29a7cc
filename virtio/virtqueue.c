/*
 * The virtqueue API drivers use (virtio 1.2 section 2.6, "Virtqueues"):
 * scatterlists, and wrappers that dispatch each operation to the ring
 * layout behind the queue (split 2.7, packed 2.8) through its const ops
 * table. Nothing here knows a ring layout or a transport.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "virtio/virtio.h"
#include "virtio/virtqueue.h"
#include "virtio/virtqueue_transport.h"

void sg_init_table(struct scatterlist *sg, unsigned n)
{
	memset(sg, 0, sizeof(*sg) * n);
	if (n)
		sg[n - 1].flags = SG_END;
}

void sg_init_one(struct scatterlist *sg, void *buf, uint32_t len)
{
	sg_init_table(sg, 1);
	sg_set_buf(sg, buf, len);
}

void sg_set_buf(struct scatterlist *sg, void *buf, uint32_t len)
{
	sg->buf = buf;
	sg->length = len;
	sg->flags &= SG_END;
}

void sg_mark_end(struct scatterlist *sg)
{
	sg->flags = (sg->flags & ~SG_CHAIN) | SG_END;
}

void sg_chain(struct scatterlist *prv, unsigned prv_nents, struct scatterlist *next)
{
	struct scatterlist *link = &prv[prv_nents - 1];

	link->buf = next;
	link->length = 0;
	link->flags = SG_CHAIN;
}

struct scatterlist *sg_next(struct scatterlist *sg)
{
	if (sg->flags & SG_END)
		return NULL;
	sg++;
	while (sg->flags & SG_CHAIN)
		sg = sg->buf;
	return sg;
}

/* A one-list request whose list may be shorter than `num` entries: mark
 * the end without touching the caller's array beyond what the ring
 * reads. */
int virtqueue_add_list_slow(struct virtqueue *vq, struct scatterlist sg[], unsigned num, bool in,
			    void *data, void *ctx)
{
	struct scatterlist *sgs[1] = {sg};
	uint32_t saved;
	int err;

	if (num == 0)
		return -EINVAL;
	/* Respect `num` even if the caller did not mark the end. */
	saved = sg[num - 1].flags;
	sg[num - 1].flags = (saved & ~SG_CHAIN) | SG_END;
	err = vq->ops->add_sgs(vq, sgs, in ? 0 : 1, in ? 1 : 0, data, ctx);
	sg[num - 1].flags = saved;
	return err;
}

void *virtqueue_detach_unused_buf(struct virtqueue *vq)
{
	return vq->ops->detach_unused_buf(vq);
}

unsigned virtqueue_get_vring_size(const struct virtqueue *vq)
{
	return vq->ops->get_vring_size(vq);
}

const char *virtqueue_layout(const struct virtqueue *vq)
{
	return vq->ops->layout ? vq->ops->layout : "?";
}

/* The transport-facing life cycle (virtqueue_transport.h), dispatched like the rest so
 * transports never ask which layout they were given. */
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

int virtqueue_resize(struct virtqueue *vq, unsigned num,
		     void (*recycle)(struct virtqueue *vq, void *buf))
{
	if (!vq->ops->resize)
		return -ENOENT;
	return vq->ops->resize(vq, num, recycle);
}

void virtqueue_break(struct virtqueue *vq)
{
	vq->ops->break_(vq);
}

void virtqueue_unbreak(struct virtqueue *vq)
{
	vq->ops->unbreak_(vq);
}

void virtio_break_device(struct virtio_device *vdev)
{
	for (struct virtqueue *vq = vdev->vqs; vq; vq = vq->next)
		vq->ops->break_(vq);
}

void __virtio_unbreak_device(struct virtio_device *vdev)
{
	for (struct virtqueue *vq = vdev->vqs; vq; vq = vq->next)
		vq->ops->unbreak_(vq);
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
