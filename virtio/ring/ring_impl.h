/*
 * What the split ring (virtio 1.2 section 2.7) and the packed ring (2.8)
 * share on the driver side, beyond their memory formats: the virtqueue
 * requirements of 2.6 that do not depend on the layout (a buffer is handed
 * back by the id the device returns, with the length it wrote) and this
 * driver's rules for a device it does not trust.
 *
 * INTERNAL to ring_split.c and ring_packed.c: transports use virtqueue_transport.h,
 * drivers virtqueue.h, tests the layouts' own headers. Nothing here knows
 * a descriptor format, an index or a wrap counter; each layout file keeps
 * its memory format, its position arithmetic and its notification
 * suppression, and calls in here for the bookkeeping both need:
 *
 *   - struct vring_common, the first member of either ring: the
 *     struct virtqueue, the per-buffer state, the negotiated features,
 *     the broken flag, the ring memory;
 *   - checking and counting a request's scatterlists, allocating its
 *     indirect table, recording and releasing a buffer's state;
 *   - checking a used id and length read from the device: an id that
 *     cannot be right breaks the queue with a message, a length beyond
 *     what was posted is clamped and reported;
 *   - creation, deletion, resize and detach_unused_buf, which differ only
 *     in a few layout hooks (struct vring_layout).
 *
 * Hot-path helpers are static inline, so a layout's add and get_buf
 * compile to what they did when each file had its own copy; the rare
 * paths (messages, creation, resize) live in ring_impl.c.
 */
#ifndef VIRTIO_RING_RING_IMPL_H
#define VIRTIO_RING_RING_IMPL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/mm/dma.h"
#include "virtio/ring/ring_format.h"
#include "virtio/ring/ring_params.h"
#include "virtio/virtqueue.h"

struct virtio_device;
struct vring_common;

/* ---- Device memory accesses (2.7.13, 2.8.21) --------------------------- */

/* Fields the device writes: one load each, never re-read. */
static inline uint16_t dev_read16(const le16 *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline uint32_t dev_read32(const le32 *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Fields the device reads while we may change them. */
static inline void dev_write16(le16 *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* The full barrier between publishing something (an index, a descriptor,
 * our event wish) and reading the other side's wish or progress:
 * store-load ordering, which release/acquire does not give. */
static inline void virtio_mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* ---- Per-buffer state ---------------------------------------------------- */

/*
 * The driver's record of one buffer in flight, indexed by the number the
 * device hands back (the split ring's head descriptor, the packed ring's
 * buffer id). The device never sees it, so nothing in it can be forged.
 */
struct vring_buf_state {
	void *data;	    /* token; NULL when nothing is in flight here */
	void *ctx;	    /* returned by get_buf_ctx */
	void *indir;	    /* indirect table (the layout's descriptors), or NULL */
	uint32_t in_len;    /* device-writable bytes posted (saturated) */
	uint16_t ndescs;    /* ring descriptors (slots) the buffer occupies */
	uint16_t indir_num; /* entries in the indirect table */
};

/*
 * What differs between the layouts on the rare paths (create, resize,
 * del, detach_unused_buf). Per layout, const.
 */
struct vring_layout {
	size_t obj_size;   /* the layout's struct, whose first member is vring_common */
	size_t desc_size;  /* one descriptor, the unit of indirect tables */
	size_t extra_size; /* private bytes per entry after the state array */
	/* Does the layout allow a ring of `num` entries? */
	bool (*size_ok)(unsigned num);
	/* Bytes of the block holding the three areas for `num` entries, and
	 * the block's alignment. */
	size_t (*area_size)(const struct vring_common *c, unsigned num, size_t *align);
	/* Points the layout at freshly installed, zeroed memory (c->mem,
	 * c->state + c->num) and resets its positions and free lists to
	 * what the device expects after a (queue) reset. */
	void (*install)(struct vring_common *c);
	/* Returns the ring slots and the number of buffer `id` to the
	 * layout's free lists, then calls vring_release_state(). */
	void (*detach)(struct vring_common *c, uint16_t id);
};

/* The first member of struct vring_split and struct vring_pk. */
struct vring_common {
	struct virtqueue vq;
	const struct vring_layout *layout;
	struct vring_buf_state *state; /* num entries, then the layout's extra */
	unsigned num;		       /* ring entries */
	unsigned in_flight;	       /* buffers the device owns */
	void *mem;		       /* the DMA block holding the three areas */
	size_t mem_size;
	size_t state_size; /* the state block, extra included */

	bool indirect; /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool event;    /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool broken;   /* accessed atomically: any context may break the queue */
	bool warned_len;
	bool (*notify)(struct virtqueue *vq); /* the transport's doorbell */
	int (*reset)(struct virtqueue *vq);   /* its queue reset, or NULL */
	int (*enable)(struct virtqueue *vq);
	/* Spare small indirect tables (VRING_INDIR_SMALL entries each), a
	 * list linked through their first word: a virtio-blk request's three
	 * descriptors then cost no heap allocation, and so no heap lock that
	 * every CPU would share. Same context as add, like the rest. */
	void *indir_spare;
	unsigned indir_spares;
};

#define VRING_INDIR_SMALL 4

static inline struct vring_common *to_common(const struct virtqueue *vq)
{
	return (struct vring_common *)((const char *)vq - offsetof(struct vring_common, vq));
}

/* ---- Broken queues ------------------------------------------------------- */

static inline bool vring_is_broken(const struct vring_common *c)
{
	return __atomic_load_n(&c->broken, __ATOMIC_RELAXED);
}

static inline void vring_break(struct vring_common *c)
{
	if (!vring_is_broken(c))
		c->vq.stats.broken++;
	__atomic_store_n(&c->broken, true, __ATOMIC_RELAXED);
}

/* The ops-table entries (break_, unbreak_, is_broken). */
void vring_break_op(struct virtqueue *vq);
void vring_unbreak_op(struct virtqueue *vq);
bool vring_is_broken_op(const struct virtqueue *vq);

/* ---- Adding buffers ------------------------------------------------------ */

/*
 * The checks every add starts with: a token, a working queue, and a request
 * of 1 to num descriptors (2.7.5.3.1, 2.7.4; 2.8.6, 2.8.7: no chain, direct
 * or indirect, longer than the queue). Counts the descriptors into *total
 * and the device-writable bytes, saturated, into *in_len.
 */
static inline int vring_add_check(const struct vring_common *c, struct scatterlist *sgs[],
				  unsigned out_sgs, unsigned in_sgs, void *data, unsigned *total,
				  uint32_t *in_len)
{
	struct scatterlist *sg;
	uint64_t in = 0;
	unsigned n, t = 0;

	if (!data)
		return -EINVAL;
	if (vring_is_broken(c))
		return -EIO;
	for (n = 0; n < out_sgs + in_sgs; n++) {
		for (sg = sgs[n]; sg; sg = sg_next(sg)) {
			t++;
			if (n >= out_sgs)
				in += sg->length;
		}
	}
	if (t == 0 || t > c->num)
		return -EINVAL;
	*total = t;
	*in_len = in > UINT32_MAX ? UINT32_MAX : (uint32_t)in;
	return 0;
}

/*
 * Like Linux: a request of several buffers goes into an indirect table when
 * the device supports them, so it occupies one ring slot and the ring does
 * not run short of descriptors. NULL means a direct chain: no indirect
 * descriptors, one buffer, a full ring, or no memory (then the direct
 * chain is the fallback). The table is filled by the layout.
 */
/* A table for `total` descriptors: small ones are all VRING_INDIR_SMALL
 * long, so any spare fits any small request. */
static inline size_t vring_indir_bytes(const struct vring_common *c, unsigned total)
{
	return (total <= VRING_INDIR_SMALL ? VRING_INDIR_SMALL : total) * c->layout->desc_size;
}

static inline void *vring_alloc_indirect(struct vring_common *c, unsigned total)
{
	if (!c->indirect || total <= 1 || !c->vq.num_free)
		return NULL;
	if (total <= VRING_INDIR_SMALL && c->indir_spare) {
		void *t = c->indir_spare;

		c->indir_spare = *(void **)t;
		c->indir_spares--;
		return t;
	}
	return dma_alloc(vring_indir_bytes(c, total), VRING_DESC_ALIGN);
}

/* Back to the spares (at most one per ring entry), or to the heap. */
static inline void vring_put_indirect(struct vring_common *c, void *indir, unsigned total)
{
	if (!indir)
		return;
	if (total <= VRING_INDIR_SMALL && c->indir_spares < c->num) {
		*(void **)indir = c->indir_spare;
		c->indir_spare = indir;
		c->indir_spares++;
		return;
	}
	dma_free(indir, vring_indir_bytes(c, total));
}

static inline void vring_free_indirect(struct vring_common *c, struct vring_buf_state *st)
{
	vring_put_indirect(c, st->indir, st->indir_num);
	st->indir = NULL;
}

/* The ring lacks the `ndescs` descriptors a request needs: nothing was
 * added; the driver retries after get_buf. */
static inline int vring_add_full(struct vring_common *c, void *indir, unsigned total)
{
	vring_put_indirect(c, indir, total);
	c->vq.stats.full++;
	return -ENOSPC;
}

/* Records buffer `id` as in flight, occupying `ndescs` ring descriptors. */
static inline void vring_add_state(struct vring_common *c, uint16_t id, void *data, void *ctx,
				   void *indir, unsigned total, uint32_t in_len, uint16_t ndescs)
{
	c->state[id] = (struct vring_buf_state){
		.data = data,
		.ctx = ctx,
		.indir = indir,
		.in_len = in_len,
		.ndescs = ndescs,
		.indir_num = (uint16_t)(indir ? total : 0),
	};
	c->vq.num_free -= ndescs;
	c->in_flight++;
	if (indir)
		c->vq.stats.indirect++;
}

/* The doorbell: a broken queue, or a transport that finds the device gone
 * (which breaks the queue), sends nothing. */
static inline bool vring_notify(struct vring_common *c)
{
	if (vring_is_broken(c))
		return false;
	if (!c->notify(&c->vq)) {
		vring_break(c);
		return false;
	}
	c->vq.stats.kicks++;
	return true;
}

/* ---- Used buffers -------------------------------------------------------- */

/* Logs why `id` cannot be a used buffer and breaks the queue (cold). `at`
 * and `pos` say where in the ring it was read ("used entry", "slot"). */
void vring_bad_used_id(struct vring_common *c, uint32_t id, const char *at, unsigned pos);

/* Reports and counts a used length beyond the buffer; returns the clamped
 * one (cold). */
uint32_t vring_clamp_len(struct vring_common *c, uint32_t id, uint32_t ulen,
			 const struct vring_buf_state *st);

/*
 * The state of the buffer the device says it used as `id`, or NULL (the
 * queue is then broken) when no buffer of that number is in flight: out of
 * range, repeated, or never made available. The device cannot steer us
 * into memory we do not own.
 */
static inline struct vring_buf_state *vring_used_state(struct vring_common *c, uint32_t id,
						       const char *at, unsigned pos)
{
	if (id >= c->num || !c->state[id].data) {
		vring_bad_used_id(c, id, at, pos);
		return NULL;
	}
	return &c->state[id];
}

/*
 * Hands a checked used buffer back: its token, its ctx in *ctx, and the
 * length the device wrote in *len. The driver decides what a
 * short-changed buffer means; whatever it decides, it never looks past
 * what it posted, so a length beyond that is clamped (vq->len_clamped).
 * The caller then frees the buffer's ring slots (layout->detach).
 */
static inline void *vring_used_buf(struct vring_common *c, const struct vring_buf_state *st,
				   uint32_t id, uint32_t ulen, unsigned *len, void **ctx)
{
	if (ulen > st->in_len)
		ulen = vring_clamp_len(c, id, ulen, st);
	if (ctx)
		*ctx = st->ctx;
	if (len)
		*len = ulen;
	c->vq.stats.completed++;
	return st->data;
}

/* The common half of a layout's detach: the buffer is no longer in flight
 * and its `ndescs` descriptors are free again. */
static inline void vring_release_state(struct vring_common *c, struct vring_buf_state *st)
{
	c->vq.num_free += st->ndescs;
	c->in_flight--;
	vring_free_indirect(c, st);
	st->data = NULL;
	st->ctx = NULL;
}

/* ---- Life cycle (ring_impl.c) ----------------------------------------- */

/*
 * Sets up the common part of a ring the layout allocated (`c`, layout
 * fields the area size depends on already set) and checked the size of:
 * allocates the area block and the state, fills the struct virtqueue from
 * `p`, installs the memory. Returns 0, or -ENOMEM with a message (the
 * caller frees `c`).
 */
int vring_common_init(struct vring_common *c, const struct vring_layout *layout,
		      const struct virtqueue_ops *ops, const struct vring_params *p);

/* The ops-table entries every layout implements the same way. */
void vring_common_del(struct virtqueue *vq);
void *vring_detach_unused_buf(struct virtqueue *vq);
unsigned vring_get_vring_size(const struct virtqueue *vq);
int vring_resize(struct virtqueue *vq, unsigned num,
		 void (*recycle)(struct virtqueue *vq, void *buf));

#endif
