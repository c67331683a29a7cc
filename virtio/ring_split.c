/*
 * The split virtqueue, driver side (virtio 1.2 section 2.7): descriptor
 * table, available ring and used ring with free-running 16-bit indices;
 * indirect descriptors (2.7.5.3); notification suppression by flags
 * (2.7.7, 2.7.10) or by event index (VIRTIO_RING_F_EVENT_IDX); the
 * barriers of 2.7.13; queue resize through a queue reset (2.6.1).
 *
 * The device is not trusted. The descriptor table is shared, so the driver
 * keeps its own copy of every descriptor (struct vring_desc_extra) and of
 * every in-flight chain (struct vring_desc_state) and only ever writes the
 * shared table. Everything the device writes (used ring entries, used->idx,
 * used->flags, avail_event) is read exactly once into a local with an
 * atomic load, then checked before it is used: a value that cannot be right
 * breaks the queue instead of steering the driver into memory it does not
 * own.
 *
 * The memory orderings use the compiler's __atomic builtins, so the same
 * file builds for the kernel and for the host tests, where a device thread
 * really runs concurrently. On x86 a release store and an acquire load are
 * plain moves; only the full barriers before reading the other side's
 * suppression fields cost a locked instruction.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel/dma.h"
#include "kernel/log.h"
#include "virtio/ring_split.h"
#include "virtio/virtio.h"
#include "virtio/virtio_ring.h"

/* The driver's private record of one descriptor (shadow of the table). */
struct vring_desc_extra {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next; /* chain link, or free-list link when free */
};

/* The driver's record of one chain, indexed by its head descriptor. */
struct vring_desc_state {
	void *data;		  /* token; NULL when this is not an in-flight head */
	void *ctx;		  /* returned by get_buf_ctx */
	struct vring_desc *indir; /* indirect table, or NULL */
	uint32_t in_len;	  /* device-writable bytes posted (saturated) */
	uint16_t ndescs;	  /* ring descriptors the chain occupies */
	uint16_t indir_num;	  /* entries in the indirect table */
};

struct vring_split {
	struct virtqueue vq;
	struct vring vring;
	void *mem; /* the DMA block holding the three parts */
	size_t mem_size;
	unsigned align;
	struct vring_desc_state *state; /* num entries */
	struct vring_desc_extra *extra; /* num entries */
	size_t state_size;

	uint16_t free_head;	     /* first free descriptor */
	uint16_t avail_idx_shadow;   /* our copy of avail->idx: never read it back */
	uint16_t avail_flags_shadow; /* our copy of avail->flags */
	uint16_t last_used_idx;	     /* next used entry to consume */
	uint16_t num_added;	     /* added since the last kick_prepare */
	unsigned in_flight;	     /* chains the device owns */

	bool indirect; /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool event;    /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool broken;   /* accessed atomically: any context may break the queue */
	bool warned_len;
	bool (*notify)(struct virtqueue *vq);
};

static inline struct vring_split *to_vs(const struct virtqueue *vq)
{
	return (struct vring_split *)((const char *)vq - offsetof(struct vring_split, vq));
}

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

/* The full barrier of 2.7.13 between publishing our index (or our wish)
 * and reading the device's wish (or its index): store-load ordering, which
 * release/acquire does not give. */
static inline void virtio_mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static bool vs_is_broken(const struct vring_split *vs)
{
	return __atomic_load_n(&vs->broken, __ATOMIC_RELAXED);
}

static void vs_break(struct vring_split *vs)
{
	if (!vs_is_broken(vs))
		vs->vq.stats.broken++;
	__atomic_store_n(&vs->broken, true, __ATOMIC_RELAXED);
}

static bool is_pow2(unsigned n)
{
	return n && !(n & (n - 1));
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Layout of one block: desc | avail (+used_event) | pad to align | used. */
static size_t used_offset(unsigned num, unsigned align)
{
	return align_up(vring_desc_size(num) + vring_avail_size(num), align);
}

static void vs_disable_cb(struct virtqueue *vq);

struct ring_mem {
	void *mem;
	size_t mem_size;
	struct vring_desc_state *state;
	struct vring_desc_extra *extra;
	size_t state_size;
};

static int ring_mem_alloc(struct ring_mem *rm, unsigned num, unsigned align)
{
	rm->mem_size = used_offset(num, align) + vring_used_size(num);
	rm->mem = dma_alloc(rm->mem_size, align > VRING_DESC_ALIGN ? align : VRING_DESC_ALIGN);
	/* The private state comes from the same allocator so the ring
	 * depends on nothing but kernel/dma.h; the device never sees it. */
	rm->state_size = num * (sizeof(struct vring_desc_state) + sizeof(struct vring_desc_extra));
	rm->state = dma_alloc(rm->state_size, 16);
	if (!rm->mem || !rm->state) {
		if (rm->mem)
			dma_free(rm->mem, rm->mem_size);
		if (rm->state)
			dma_free(rm->state, rm->state_size);
		return -ENOMEM;
	}
	rm->extra = (struct vring_desc_extra *)(rm->state + num);
	return 0;
}

/* Installs zeroed ring memory and puts the queue in the state the device
 * expects after a (queue) reset: all indices 0, every descriptor free. */
static void vs_install(struct vring_split *vs, const struct ring_mem *rm, unsigned num)
{
	vs->mem = rm->mem;
	vs->mem_size = rm->mem_size;
	vs->state = rm->state;
	vs->extra = rm->extra;
	vs->state_size = rm->state_size;
	vs->vring.num = num;
	vs->vring.desc = rm->mem;
	vs->vring.avail = (struct vring_avail *)((char *)rm->mem + vring_desc_size(num));
	vs->vring.used = (struct vring_used *)((char *)rm->mem + used_offset(num, vs->align));
	for (unsigned i = 0; i < num; i++)
		vs->extra[i].next = (uint16_t)(i + 1);
	vs->free_head = 0;
	vs->avail_idx_shadow = 0;
	vs->avail_flags_shadow = 0;
	vs->last_used_idx = 0;
	vs->num_added = 0;
	vs->in_flight = 0;
	vs->vq.num_free = num;
	/* Without a callback there is nobody to interrupt. */
	if (!vs->vq.callback)
		vs_disable_cb(&vs->vq);
}

struct virtqueue *vring_create_virtqueue_split(unsigned index, unsigned num, unsigned align,
					       struct virtio_device *vdev,
					       bool (*notify)(struct virtqueue *vq),
					       vq_callback_t *callback, const char *name)
{
	struct vring_split *vs;
	struct ring_mem rm;

	/* 2.7: the split ring's size is a power of 2, at most 32768. */
	if (!is_pow2(num) || num > VRING_SPLIT_MAX_NUM) {
		pr_err("virtqueue %s: size %u, expected a power of two up to %u\n",
		       name ? name : "?", num, VRING_SPLIT_MAX_NUM);
		return NULL;
	}
	if (align == 0)
		align = VRING_USED_ALIGN;
	if (!is_pow2(align)) {
		pr_err("virtqueue %s: alignment %u is not a power of two\n", name ? name : "?",
		       align);
		return NULL;
	}
	vs = dma_alloc(sizeof(*vs), 16);
	if (!vs)
		return NULL;
	if (ring_mem_alloc(&rm, num, align)) {
		dma_free(vs, sizeof(*vs));
		pr_err("virtqueue %s: no memory for a ring of %u\n", name ? name : "?", num);
		return NULL;
	}
	vs->vq.ops = &vring_split_ops;
	vs->vq.callback = callback;
	vs->vq.name = name;
	vs->vq.vdev = vdev;
	vs->vq.index = index;
	vs->vq.num_max = num;
	vs->align = align;
	vs->notify = notify;
	vs->indirect = vdev && virtio_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC);
	vs->event = vdev && virtio_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX);
	vs_install(vs, &rm, num);
	return &vs->vq;
}

static void free_indirect(struct vring_desc_state *st)
{
	if (st->indir)
		dma_free(st->indir, st->indir_num * sizeof(struct vring_desc));
	st->indir = NULL;
}

static void vs_del(struct virtqueue *vq)
{
	struct vring_split *vs = to_vs(vq);

	for (unsigned i = 0; i < vs->vring.num; i++)
		free_indirect(&vs->state[i]);
	dma_free(vs->mem, vs->mem_size);
	dma_free(vs->state, vs->state_size);
	dma_free(vs, sizeof(*vs));
}

static uint64_t vs_desc_addr(const struct virtqueue *vq)
{
	return virt_to_phys(to_vs(vq)->vring.desc);
}

static uint64_t vs_avail_addr(const struct virtqueue *vq)
{
	return virt_to_phys(to_vs(vq)->vring.avail);
}

static uint64_t vs_used_addr(const struct virtqueue *vq)
{
	return virt_to_phys(to_vs(vq)->vring.used);
}

const struct vring *virtqueue_get_vring(const struct virtqueue *vq)
{
	return &to_vs(vq)->vring;
}

/* Writes one descriptor: the private copy first, then the shared table
 * from it. */
static void set_desc(struct vring_split *vs, uint16_t i, uint64_t addr, uint32_t len,
		     uint16_t flags)
{
	struct vring_desc_extra *e = &vs->extra[i];
	struct vring_desc *d = &vs->vring.desc[i];

	e->addr = addr;
	e->len = len;
	e->flags = flags;
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = e->next;
}

int vring_split_add_sgs(struct virtqueue *vq, struct scatterlist *sgs[], unsigned out_sgs,
			unsigned in_sgs, void *data, void *ctx)
{
	struct vring_split *vs = to_vs(vq);
	struct vring_desc *indir = NULL;
	unsigned total = 0, n, num = vs->vring.num;
	uint64_t in_len = 0;
	uint16_t head, i, prev, ndescs;
	struct scatterlist *sg;

	if (!data)
		return -EINVAL;
	if (vs_is_broken(vs))
		return -EIO;
	for (n = 0; n < out_sgs + in_sgs; n++) {
		for (sg = sgs[n]; sg; sg = sg_next(sg)) {
			total++;
			if (n >= out_sgs)
				in_len += sg->length;
		}
	}
	/* 2.7.5.3.1 / 2.7.4: no chain, direct or indirect, longer than the
	 * queue. */
	if (total == 0 || total > num)
		return -EINVAL;

	/*
	 * Like Linux: a request of several buffers goes into an indirect
	 * table when the device supports them, so it occupies one ring slot
	 * and the ring does not run short of descriptors. If the table
	 * cannot be allocated, fall back to a direct chain.
	 */
	if (vs->indirect && total > 1 && vq->num_free)
		indir = dma_alloc(total * sizeof(struct vring_desc), VRING_DESC_ALIGN);

	ndescs = indir ? 1 : (uint16_t)total;
	if (vq->num_free < ndescs) {
		vq->stats.full++;
		return -ENOSPC;
	}

	head = vs->free_head;
	if (indir) {
		/* The indirect table is ours alone until published, and we
		 * never read it back, so it needs no private copy. */
		unsigned k = 0;

		for (n = 0; n < out_sgs + in_sgs; n++) {
			for (sg = sgs[n]; sg; sg = sg_next(sg), k++) {
				indir[k].addr = sg_phys(sg);
				indir[k].len = sg->length;
				indir[k].flags =
					(uint16_t)((n >= out_sgs ? VRING_DESC_F_WRITE : 0) |
						   (k + 1 < total ? VRING_DESC_F_NEXT : 0));
				indir[k].next = (uint16_t)(k + 1 < total ? k + 1 : 0);
			}
		}
		set_desc(vs, head, virt_to_phys(indir), total * sizeof(struct vring_desc),
			 VRING_DESC_F_INDIRECT);
		vs->free_head = vs->extra[head].next;
		vq->stats.indirect++;
	} else {
		i = prev = head;
		for (n = 0; n < out_sgs + in_sgs; n++) {
			for (sg = sgs[n]; sg; sg = sg_next(sg)) {
				set_desc(vs, i, sg_phys(sg), sg->length,
					 (uint16_t)((n >= out_sgs ? VRING_DESC_F_WRITE : 0) |
						    VRING_DESC_F_NEXT));
				prev = i;
				i = vs->extra[i].next;
			}
		}
		/* The last descriptor ends the chain. */
		vs->extra[prev].flags &= (uint16_t)~VRING_DESC_F_NEXT;
		vs->vring.desc[prev].flags = vs->extra[prev].flags;
		vs->free_head = i;
	}

	vs->state[head] = (struct vring_desc_state){
		.data = data,
		.ctx = ctx,
		.indir = indir,
		.in_len = in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)in_len,
		.ndescs = ndescs,
		.indir_num = (uint16_t)(indir ? total : 0),
	};
	vq->num_free -= ndescs;
	vs->in_flight++;

	/* 2.7.13: the ring entry (and the descriptors) must be visible
	 * before the index that publishes them: a release store. */
	vs->vring.avail->ring[vs->avail_idx_shadow & (num - 1)] = head;
	vs->avail_idx_shadow++;
	__atomic_store_n(&vs->vring.avail->idx, vs->avail_idx_shadow, __ATOMIC_RELEASE);
	vq->stats.added++;

	/* kick_prepare measures "added since the last kick" in 16 bits;
	 * kick before that could wrap. */
	if (++vs->num_added == UINT16_MAX)
		virtqueue_kick(vq);
	return 0;
}

bool vring_split_kick_prepare(struct virtqueue *vq)
{
	struct vring_split *vs = to_vs(vq);
	uint16_t new_idx = vs->avail_idx_shadow;
	uint16_t old = (uint16_t)(new_idx - vs->num_added);
	bool needed;

	/* Our avail->idx store must be visible before we read whether the
	 * device wants to hear about it; the device orders the other way
	 * (writes its wish, then re-reads avail->idx). Without this full
	 * barrier both could see stale values and the kick is lost. */
	virtio_mb();
	vs->num_added = 0;
	if (vs->event)
		needed = vring_need_event(dev_read16(vring_avail_event(&vs->vring)), new_idx, old);
	else
		needed = !(dev_read16(&vs->vring.used->flags) & VRING_USED_F_NO_NOTIFY);
	if (!needed && old != new_idx)
		vq->stats.kicks_suppressed++;
	return needed;
}

bool vring_split_notify(struct virtqueue *vq)
{
	struct vring_split *vs = to_vs(vq);

	if (vs_is_broken(vs))
		return false;
	if (!vs->notify(vq)) {
		vs_break(vs);
		return false;
	}
	vq->stats.kicks++;
	return true;
}

/* Returns a chain's descriptors to the free list, walking our own copy. */
static void detach_buf(struct vring_split *vs, uint16_t head)
{
	struct vring_desc_state *st = &vs->state[head];
	uint16_t i = head;

	for (unsigned k = 1; k < st->ndescs; k++)
		i = vs->extra[i].next;
	vs->extra[i].next = vs->free_head;
	vs->free_head = head;
	vs->vq.num_free += st->ndescs;
	vs->in_flight--;
	free_indirect(st);
	st->data = NULL;
	st->ctx = NULL;
}

void *vring_split_get_buf_ctx(struct virtqueue *vq, unsigned *len, void **ctx)
{
	struct vring_split *vs = to_vs(vq);
	unsigned num = vs->vring.num;
	uint16_t used_idx, pending;
	uint32_t id, ulen;
	struct vring_used_elem *elem;
	struct vring_desc_state *st;
	void *data;

	vq->len_clamped = false;
	if (vs_is_broken(vs))
		return NULL;
	/* Acquire: the entry (and the data the device wrote into our
	 * buffers) is read only after seeing the index that covers it. */
	used_idx = __atomic_load_n(&vs->vring.used->idx, __ATOMIC_ACQUIRE);
	if (used_idx == vs->last_used_idx)
		return NULL;
	/* The device can have used at most what it was given. */
	pending = (uint16_t)(used_idx - vs->last_used_idx);
	if (pending > vs->in_flight) {
		pr_err("virtqueue %s: used->idx jumped from %u to %u with only %u buffers "
		       "in flight\n",
		       vq->name, vs->last_used_idx, used_idx, vs->in_flight);
		vs_break(vs);
		return NULL;
	}

	elem = &vs->vring.used->ring[vs->last_used_idx & (num - 1)];
	id = dev_read32(&elem->id);
	ulen = dev_read32(&elem->len);
	if (id >= num) {
		pr_err("virtqueue %s: used id %u out of range, expected below %u\n", vq->name, id,
		       num);
		vs_break(vs);
		return NULL;
	}
	st = &vs->state[id];
	if (!st->data) {
		pr_err("virtqueue %s: used id %u is not the head of a buffer in flight "
		       "(repeated or never made available)\n",
		       vq->name, id);
		vs_break(vs);
		return NULL;
	}
	if (ulen > st->in_len) {
		/* The driver decides what a short-changed buffer means;
		 * whatever it decides, it never looks past what it posted. */
		if (!vs->warned_len)
			pr_warn("virtqueue %s: used len %u for id %u exceeds the %u writable "
				"bytes posted; clamped\n",
				vq->name, ulen, id, st->in_len);
		vs->warned_len = true;
		vq->stats.len_clamped++;
		vq->len_clamped = true;
		ulen = st->in_len;
	}

	data = st->data;
	if (ctx)
		*ctx = st->ctx;
	if (len)
		*len = ulen;
	detach_buf(vs, (uint16_t)id);
	vs->last_used_idx++;
	vq->stats.completed++;

	/* With callbacks on, move used_event along so the next used buffer
	 * interrupts; the barrier orders it before our next used->idx read
	 * (the device stores used->idx, then reads used_event). */
	if (vs->event && !(vs->avail_flags_shadow & VRING_AVAIL_F_NO_INTERRUPT)) {
		dev_write16(vring_used_event(&vs->vring), vs->last_used_idx);
		virtio_mb();
	}
	return data;
}

static unsigned vs_enable_cb_prepare(struct virtqueue *vq)
{
	struct vring_split *vs = to_vs(vq);

	if (vs->avail_flags_shadow & VRING_AVAIL_F_NO_INTERRUPT) {
		vs->avail_flags_shadow &= (uint16_t)~VRING_AVAIL_F_NO_INTERRUPT;
		/* With EVENT_IDX the device ignores the flags (2.7.7). */
		if (!vs->event)
			dev_write16(&vs->vring.avail->flags, vs->avail_flags_shadow);
	}
	if (vs->event)
		dev_write16(vring_used_event(&vs->vring), vs->last_used_idx);
	return vs->last_used_idx;
}

static bool vs_poll(struct virtqueue *vq, unsigned last_used)
{
	struct vring_split *vs = to_vs(vq);

	if (vs_is_broken(vs))
		return false;
	/* Our "interrupt me" must be visible before we look for used
	 * buffers, or one used in between would raise no interrupt and go
	 * unseen. */
	virtio_mb();
	return __atomic_load_n(&vs->vring.used->idx, __ATOMIC_ACQUIRE) != (uint16_t)last_used;
}

static bool vs_enable_cb(struct virtqueue *vq)
{
	return !vs_poll(vq, vs_enable_cb_prepare(vq));
}

static bool vs_enable_cb_delayed(struct virtqueue *vq)
{
	struct vring_split *vs = to_vs(vq);
	uint16_t bufs;

	if (vs->avail_flags_shadow & VRING_AVAIL_F_NO_INTERRUPT) {
		vs->avail_flags_shadow &= (uint16_t)~VRING_AVAIL_F_NO_INTERRUPT;
		if (!vs->event)
			dev_write16(&vs->vring.avail->flags, vs->avail_flags_shadow);
	}
	/* Ask for the interrupt after ~3/4 of what is outstanding. */
	bufs = (uint16_t)((uint16_t)(vs->avail_idx_shadow - vs->last_used_idx) * 3 / 4);
	if (vs->event)
		dev_write16(vring_used_event(&vs->vring), (uint16_t)(vs->last_used_idx + bufs));
	virtio_mb();
	if ((uint16_t)(__atomic_load_n(&vs->vring.used->idx, __ATOMIC_ACQUIRE) -
		       vs->last_used_idx) > bufs)
		return false;
	return true;
}

static void vs_disable_cb(struct virtqueue *vq)
{
	struct vring_split *vs = to_vs(vq);

	if (vs->avail_flags_shadow & VRING_AVAIL_F_NO_INTERRUPT)
		return;
	vs->avail_flags_shadow |= VRING_AVAIL_F_NO_INTERRUPT;
	/* With EVENT_IDX the flag is ignored; instead park used_event just
	 * behind the device's index, the value the device reaches last:
	 * it then interrupts only after 65535 more used buffers. */
	if (vs->event)
		dev_write16(vring_used_event(&vs->vring), (uint16_t)(vs->last_used_idx - 1));
	else
		dev_write16(&vs->vring.avail->flags, vs->avail_flags_shadow);
}

static void *vs_detach_unused_buf(struct virtqueue *vq)
{
	struct vring_split *vs = to_vs(vq);

	for (unsigned i = 0; i < vs->vring.num; i++) {
		void *data = vs->state[i].data;

		if (data) {
			detach_buf(vs, (uint16_t)i);
			return data;
		}
	}
	return NULL;
}

static unsigned vs_get_vring_size(const struct virtqueue *vq)
{
	return to_vs(vq)->vring.num;
}

static int vs_resize(struct virtqueue *vq, unsigned num,
		     void (*recycle)(struct virtqueue *vq, void *buf))
{
	struct vring_split *vs = to_vs(vq);
	struct virtio_device *vdev = vq->vdev;
	const struct virtio_config_ops *cfg = vdev ? vdev->config : NULL;
	struct ring_mem rm;
	void *buf;
	int err;

	if (!is_pow2(num) || num > vq->num_max || num > VRING_SPLIT_MAX_NUM)
		return -EINVAL;
	/* The device keeps using the old ring unless this one queue can be
	 * stopped and pointed elsewhere (2.6.1). */
	if (!cfg || !cfg->disable_vq_and_reset || !cfg->enable_vq_after_reset ||
	    !virtio_has_feature(vdev, VIRTIO_F_RING_RESET))
		return -EOPNOTSUPP;
	if (num == vs->vring.num)
		return 0;
	if (ring_mem_alloc(&rm, num, vs->align))
		return -ENOMEM;
	err = cfg->disable_vq_and_reset(vq);
	if (err) {
		dma_free(rm.mem, rm.mem_size);
		dma_free(rm.state, rm.state_size);
		return err;
	}
	/* The reset queue will never complete what it held. */
	while ((buf = vs_detach_unused_buf(vq)))
		if (recycle)
			recycle(vq, buf);
	dma_free(vs->mem, vs->mem_size);
	dma_free(vs->state, vs->state_size);
	vs_install(vs, &rm, num);
	__atomic_store_n(&vs->broken, false, __ATOMIC_RELAXED);
	err = cfg->enable_vq_after_reset(vq);
	if (err) {
		pr_err("virtqueue %s: re-enabling after resize to %u failed (%d)\n", vq->name, num,
		       err);
		vs_break(vs);
	}
	return err;
}

static void vs_break_op(struct virtqueue *vq)
{
	vs_break(to_vs(vq));
}

static void vs_unbreak(struct virtqueue *vq)
{
	__atomic_store_n(&to_vs(vq)->broken, false, __ATOMIC_RELAXED);
}

static bool vs_is_broken_op(const struct virtqueue *vq)
{
	return vs_is_broken(to_vs(vq));
}

static bool vs_more_used(const struct virtqueue *vq)
{
	const struct vring_split *vs = to_vs(vq);

	return __atomic_load_n(&vs->vring.used->idx, __ATOMIC_ACQUIRE) != vs->last_used_idx;
}

const struct virtqueue_ops vring_split_ops = {
	.add_sgs = vring_split_add_sgs,
	.kick_prepare = vring_split_kick_prepare,
	.notify = vring_split_notify,
	.enable_cb_prepare = vs_enable_cb_prepare,
	.enable_cb = vs_enable_cb,
	.enable_cb_delayed = vs_enable_cb_delayed,
	.disable_cb = vs_disable_cb,
	.poll = vs_poll,
	.get_buf_ctx = vring_split_get_buf_ctx,
	.detach_unused_buf = vs_detach_unused_buf,
	.get_vring_size = vs_get_vring_size,
	.resize = vs_resize,
	.break_ = vs_break_op,
	.unbreak_ = vs_unbreak,
	.is_broken = vs_is_broken_op,
	.more_used = vs_more_used,
	.layout = "split",
	.del = vs_del,
	.desc_addr = vs_desc_addr,
	.driver_addr = vs_avail_addr,
	.device_addr = vs_used_addr,
};
