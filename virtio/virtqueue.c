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

int virtqueue_add_sgs(struct virtqueue *vq, struct scatterlist *sgs[], unsigned out_sgs,
		      unsigned in_sgs, void *data)
{
	return vq->ops->add_sgs(vq, sgs, out_sgs, in_sgs, data, NULL);
}

/* A one-list request whose list may be shorter than `num` entries: mark
 * the end without touching the caller's array beyond what the ring
 * reads. */
static int add_one_list(struct virtqueue *vq, struct scatterlist sg[], unsigned num, bool in,
			void *data, void *ctx)
{
	struct scatterlist *sgs[1] = {sg};

	if (num == 0)
		return -EINVAL;
	if (!(sg[num - 1].flags & SG_END)) {
		/* Respect `num` even if the caller did not mark the end. */
		uint32_t saved = sg[num - 1].flags;
		int err;

		sg[num - 1].flags = (saved & ~SG_CHAIN) | SG_END;
		err = vq->ops->add_sgs(vq, sgs, in ? 0 : 1, in ? 1 : 0, data, ctx);
		sg[num - 1].flags = saved;
		return err;
	}
	return vq->ops->add_sgs(vq, sgs, in ? 0 : 1, in ? 1 : 0, data, ctx);
}

int virtqueue_add_outbuf(struct virtqueue *vq, struct scatterlist sg[], unsigned num, void *data)
{
	return add_one_list(vq, sg, num, false, data, NULL);
}

int virtqueue_add_inbuf(struct virtqueue *vq, struct scatterlist sg[], unsigned num, void *data)
{
	return add_one_list(vq, sg, num, true, data, NULL);
}

int virtqueue_add_inbuf_ctx(struct virtqueue *vq, struct scatterlist sg[], unsigned num, void *data,
			    void *ctx)
{
	return add_one_list(vq, sg, num, true, data, ctx);
}

bool virtqueue_kick_prepare(struct virtqueue *vq)
{
	return vq->ops->kick_prepare(vq);
}

bool virtqueue_notify(struct virtqueue *vq)
{
	return vq->ops->notify(vq);
}

bool virtqueue_kick(struct virtqueue *vq)
{
	if (vq->ops->kick_prepare(vq))
		return vq->ops->notify(vq);
	return true;
}

unsigned virtqueue_enable_cb_prepare(struct virtqueue *vq)
{
	return vq->ops->enable_cb_prepare(vq);
}

bool virtqueue_poll(struct virtqueue *vq, unsigned last_used)
{
	return vq->ops->poll(vq, last_used);
}

bool virtqueue_enable_cb(struct virtqueue *vq)
{
	return vq->ops->enable_cb(vq);
}

bool virtqueue_enable_cb_delayed(struct virtqueue *vq)
{
	return vq->ops->enable_cb_delayed(vq);
}

void virtqueue_disable_cb(struct virtqueue *vq)
{
	vq->ops->disable_cb(vq);
}

void *virtqueue_get_buf(struct virtqueue *vq, unsigned *len)
{
	return vq->ops->get_buf_ctx(vq, len, NULL);
}

void *virtqueue_get_buf_ctx(struct virtqueue *vq, unsigned *len, void **ctx)
{
	return vq->ops->get_buf_ctx(vq, len, ctx);
}

void *virtqueue_detach_unused_buf(struct virtqueue *vq)
{
	return vq->ops->detach_unused_buf(vq);
}

unsigned virtqueue_get_vring_size(const struct virtqueue *vq)
{
	return vq->ops->get_vring_size(vq);
}

int virtqueue_resize(struct virtqueue *vq, unsigned num,
		     void (*recycle)(struct virtqueue *vq, void *buf))
{
	if (!vq->ops->resize)
		return -ENOENT;
	return vq->ops->resize(vq, num, recycle);
}

bool virtqueue_is_broken(const struct virtqueue *vq)
{
	return vq->ops->is_broken(vq);
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
