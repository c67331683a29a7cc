/*
 * The virtqueue API drivers use (virtio 1.2 section 2.6, "Virtqueues"): the
 * wrappers that are not inline, dispatching each operation to the ring
 * layout behind the queue (split 2.7, packed 2.8) through its const ops
 * table. Nothing here knows a ring layout, a device or a transport.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "virtio/virtqueue.h"

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
