/*
 * Virtqueues as drivers see them (virtio 1.2 section 2.6): a driver hands the
 * device buffers described by scatterlists, kicks it, and gets the buffers
 * back, by token, when the device has used them.
 *
 * A virtqueue does not know its memory layout: `vq->ops` points to the ring
 * implementation (split ring 2.7 in ring_split.c, packed ring 2.8 in
 * ring_packed.c, or a test double), and the functions below are thin
 * wrappers dispatching through it. The ops tables are const and the hot-path
 * wrappers are static inline, so one indirect call is all the abstraction
 * costs (bench-ring measures it).
 *
 * Concurrency contract for every function here: a virtqueue is not
 * thread-safe. The driver serialises all calls on one vq; in the kernel
 * (one CPU) that means thread-context callers disable interrupts around
 * virtqueue calls, because vq callbacks run in interrupt context.
 * vring_interrupt() (virtqueue_transport.h) is the only entry point for
 * transports' interrupt handlers. None of these functions sleep or
 * allocate, except add (an indirect table, from dma_alloc) and resize.
 */
#ifndef VIRTIO_VIRTQUEUE_H
#define VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/lib/scatterlist.h"

struct virtio_device;
struct virtqueue;

/* ---- Virtqueues --------------------------------------------------------- */

/* Counters, updated by the ring and vring_interrupt() in the context the
 * vq is used from; readable at any time (a torn read only misreports). */
struct virtqueue_stats {
	uint64_t added;		   /* buffers made available */
	uint64_t completed;	   /* buffers returned by get_buf */
	uint64_t kicks;		   /* notifications sent to the device */
	uint64_t kicks_suppressed; /* kick_prepare said the device did not want one */
	uint64_t interrupts;	   /* vring_interrupt() calls */
	uint64_t spurious;	   /* ... of which found nothing used */
	uint64_t indirect;	   /* buffers added through an indirect table */
	uint64_t full;		   /* add refused with -ENOSPC */
	uint64_t len_clamped;	   /* used lengths larger than the buffer, clamped */
	uint64_t broken;	   /* times the ring caught the device misbehaving */
};

/* A ring implementation. All fifteen operations of the virtio ring
 * abstraction plus `more_used`, which vring_interrupt() needs, and the
 * layout's life cycle for transports (virtqueue_transport.h): its name, where its three
 * areas live, and freeing it. The wrappers below document each one's
 * contract. */
struct virtqueue_ops {
	int (*add_sgs)(struct virtqueue *vq, struct scatterlist *sgs[], unsigned out_sgs,
		       unsigned in_sgs, void *data, void *ctx);
	bool (*kick_prepare)(struct virtqueue *vq);
	bool (*notify)(struct virtqueue *vq);
	unsigned (*enable_cb_prepare)(struct virtqueue *vq);
	bool (*enable_cb)(struct virtqueue *vq);
	bool (*enable_cb_delayed)(struct virtqueue *vq);
	void (*disable_cb)(struct virtqueue *vq);
	bool (*poll)(struct virtqueue *vq, unsigned last_used);
	void *(*get_buf_ctx)(struct virtqueue *vq, unsigned *len, void **ctx);
	void *(*detach_unused_buf)(struct virtqueue *vq);
	unsigned (*get_vring_size)(const struct virtqueue *vq);
	int (*resize)(struct virtqueue *vq, unsigned num,
		      void (*recycle)(struct virtqueue *vq, void *buf));
	void (*break_)(struct virtqueue *vq);	/* __break */
	void (*unbreak_)(struct virtqueue *vq); /* __unbreak */
	bool (*is_broken)(const struct virtqueue *vq);
	bool (*more_used)(const struct virtqueue *vq);

	/* Not on the hot path: for transports (virtio/virtqueue_transport.h). */
	const char *layout; /* "split", "packed" */
	void (*del)(struct virtqueue *vq);
	uint64_t (*desc_addr)(const struct virtqueue *vq);   /* descriptor area */
	uint64_t (*driver_addr)(const struct virtqueue *vq); /* driver area */
	uint64_t (*device_addr)(const struct virtqueue *vq); /* device area */
};

typedef void vq_callback_t(struct virtqueue *vq);

struct virtqueue {
	const struct virtqueue_ops *ops;
	/* Called by vring_interrupt() when the device used buffers, and once
	 * more when the core breaks the queue (DEVICE_NEEDS_RESET): it must
	 * cope with virtqueue_is_broken(). NULL for a queue the driver only
	 * polls. Interrupt context. */
	vq_callback_t *callback;
	const char *name;
	struct virtio_device *vdev;
	unsigned index;	   /* queue number on the device */
	unsigned num_free; /* descriptors left; a hint for drivers */
	/* Largest ring the device accepts; resize refuses more. The ring
	 * constructor sets it to the initial size, a transport may raise it. */
	unsigned num_max;
	/* Set by get_buf for the buffer it just returned: the device claimed
	 * to have written more bytes than the buffer holds; the returned
	 * length was clamped. The driver decides what that means. */
	bool len_clamped;
	void *priv;		/* the driver's, per queue */
	void *transport_priv;	/* the transport's, per queue (notify address ...) */
	struct virtqueue *next; /* in vdev->vqs */
	struct virtqueue_stats stats;
};

/*
 * Makes buffers available to the device: `out_sgs` lists the device reads,
 * then `in_sgs` lists it writes (the spec requires readable before
 * writable). `data` is the non-NULL token get_buf returns for this buffer;
 * `ctx` is an optional second pointer returned by get_buf_ctx.
 * Driver context with the vq's interrupt masked, or the vq callback.
 * Returns 0; -ENOSPC when the ring lacks descriptors (nothing was added,
 * retry after get_buf); -ENOMEM; -EINVAL for an empty or over-long request
 * or a NULL token; -EIO when the queue is broken.
 * The device sees nothing until virtqueue_kick() (or notify).
 */
static inline int virtqueue_add_sgs(struct virtqueue *vq, struct scatterlist *sgs[],
				    unsigned out_sgs, unsigned in_sgs, void *data)
{
	return vq->ops->add_sgs(vq, sgs, out_sgs, in_sgs, data, NULL);
}

/* The slow half of the one-list adds below: a list not marked as ending at
 * entry `num`, or an empty one (virtqueue.c). */
int virtqueue_add_list_slow(struct virtqueue *vq, struct scatterlist sg[], unsigned num, bool in,
			    void *data, void *ctx);

static inline int virtqueue_add_one_list(struct virtqueue *vq, struct scatterlist sg[],
					 unsigned num, bool in, void *data, void *ctx)
{
	struct scatterlist *sgs[1] = {sg};

	if (num == 0 || !(sg[num - 1].flags & SG_END))
		return virtqueue_add_list_slow(vq, sg, num, in, data, ctx);
	return vq->ops->add_sgs(vq, sgs, in ? 0 : 1, in ? 1 : 0, data, ctx);
}

/* One device-readable list of up to `num` entries (it may end earlier on
 * SG_END). Same contract as virtqueue_add_sgs(). */
static inline int virtqueue_add_outbuf(struct virtqueue *vq, struct scatterlist sg[], unsigned num,
				       void *data)
{
	return virtqueue_add_one_list(vq, sg, num, false, data, NULL);
}

/* One device-writable list. Same contract as virtqueue_add_sgs(). */
static inline int virtqueue_add_inbuf(struct virtqueue *vq, struct scatterlist sg[], unsigned num,
				      void *data)
{
	return virtqueue_add_one_list(vq, sg, num, true, data, NULL);
}

/* As virtqueue_add_inbuf(), also recording `ctx` for get_buf_ctx(). */
static inline int virtqueue_add_inbuf_ctx(struct virtqueue *vq, struct scatterlist sg[],
					  unsigned num, void *data, void *ctx)
{
	return virtqueue_add_one_list(vq, sg, num, true, data, ctx);
}

/* First half of a kick: publishes what was added and decides whether the
 * device asked to be notified (flags or event index), with a full barrier
 * before reading its wish. Same context as add. Returns true if
 * virtqueue_notify() must follow. Split so the notify, which may trap to
 * the hypervisor, can run after dropping a lock. With event index the
 * question is "did the device ask about anything published since the last
 * kick", so calling it with nothing added is useful too: it catches a wish
 * an earlier call read too early (a device waiting for a kick that never
 * came), which is why drivers call it again from their poll loops. */
static inline bool virtqueue_kick_prepare(struct virtqueue *vq)
{
	return vq->ops->kick_prepare(vq);
}

/* Notifies the device through the transport. Any context. Returns false
 * (and breaks the queue) if the transport could not notify. */
static inline bool virtqueue_notify(struct virtqueue *vq)
{
	return vq->ops->notify(vq);
}

/* kick_prepare + notify when wanted. Returns false only if a needed notify
 * failed. */
static inline bool virtqueue_kick(struct virtqueue *vq)
{
	if (vq->ops->kick_prepare(vq))
		return vq->ops->notify(vq);
	return true;
}

/* Re-enables callbacks and returns an opaque position for
 * virtqueue_poll(); the caller must poll before waiting, or a buffer used
 * in between could go unnoticed. Same context as add. */
static inline unsigned virtqueue_enable_cb_prepare(struct virtqueue *vq)
{
	return vq->ops->enable_cb_prepare(vq);
}

/* True if buffers were used after `last_used` (from enable_cb_prepare).
 * Contains the full barrier that pairs with the device's. */
static inline bool virtqueue_poll(struct virtqueue *vq, unsigned last_used)
{
	return vq->ops->poll(vq, last_used);
}

/* Re-enables callbacks. Returns false if buffers are already pending: the
 * caller must drain them (the interrupt for them may already be gone). */
static inline bool virtqueue_enable_cb(struct virtqueue *vq)
{
	return vq->ops->enable_cb(vq);
}

/* Like enable_cb, but with EVENT_IDX asks for the callback only after about
 * 3/4 of the outstanding buffers were used (fewer interrupts for transmit
 * queues). Returns false if that many are already used. */
static inline bool virtqueue_enable_cb_delayed(struct virtqueue *vq)
{
	return vq->ops->enable_cb_delayed(vq);
}

/* Asks the device not to interrupt for this vq. A hint: callbacks may still
 * arrive and must be tolerated. Same context as add. */
static inline void virtqueue_disable_cb(struct virtqueue *vq)
{
	vq->ops->disable_cb(vq);
}

/* Next used buffer: its token, with the bytes the device wrote in *len
 * (clamped to the buffer; see vq->len_clamped). NULL when none is pending
 * or the queue is broken. The device misbehaving (bad id, repeated id,
 * index jump) breaks the queue and logs what was seen. Same context as add,
 * typically the vq callback. */
static inline void *virtqueue_get_buf(struct virtqueue *vq, unsigned *len)
{
	return vq->ops->get_buf_ctx(vq, len, NULL);
}

/* As get_buf, also returning the ctx given to add_inbuf_ctx (may be NULL). */
static inline void *virtqueue_get_buf_ctx(struct virtqueue *vq, unsigned *len, void **ctx)
{
	return vq->ops->get_buf_ctx(vq, len, ctx);
}
/* After the device was reset (or the queue broken), returns the tokens of
 * buffers still outstanding, one per call, each exactly once; NULL when none
 * is left. Never trusts device memory. Driver context (remove, resize). */
void *virtqueue_detach_unused_buf(struct virtqueue *vq);
/* Number of entries in the ring. */
unsigned virtqueue_get_vring_size(const struct virtqueue *vq);
/* "split" or "packed": the layout behind the queue, for messages. */
const char *virtqueue_layout(const struct virtqueue *vq);
/* Gives the queue a ring of `num` entries. Needs VIRTIO_F_RING_RESET and a
 * transport that can reset one queue. Outstanding buffers are handed to
 * `recycle` (the device never completes them). Driver context, callbacks
 * disabled and interrupts off (a shared interrupt handler looks at every
 * queue, also one whose ring is being replaced). Returns 0; -ENOENT if the
 * ring layout cannot resize; -EOPNOTSUPP without queue reset, -EINVAL for
 * a bad size, -ENOMEM, or the transport's error from resetting the queue:
 * in those cases the old ring stays (and keeps working, unless the
 * device's queue reset itself failed). An error from re-enabling the
 * queue leaves the new ring installed and broken: virtqueue_get_vring_size()
 * tells which ring the queue has. */
int virtqueue_resize(struct virtqueue *vq, unsigned num,
		     void (*recycle)(struct virtqueue *vq, void *buf));
/* True once the queue stopped trusting the device; every later add or
 * get_buf fails until it is unbroken (after a reset). Any context. */
static inline bool virtqueue_is_broken(const struct virtqueue *vq)
{
	return vq->ops->is_broken(vq);
}

/* Marks one queue broken / usable again. Any context. */
void virtqueue_break(struct virtqueue *vq);
void virtqueue_unbreak(struct virtqueue *vq);

#endif
