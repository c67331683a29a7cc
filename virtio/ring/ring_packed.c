/*
 * The packed virtqueue, driver side (virtio 1.2 section 2.8): one ring of
 * descriptors that the driver makes available and the device overwrites
 * with used descriptors, in ring order, told apart by the AVAIL/USED flag
 * bits and one wrap counter on each side (2.8.1, 2.8.2); buffer ids
 * separate from ring slots (2.8.4, 2.8.5); chains as consecutive
 * descriptors (2.8.6); indirect tables (2.8.7); the driver and device event
 * suppression structures with the descriptor-specific "notify me at this
 * offset" of EVENT_IDX (2.8.10); the barriers of 2.8.21 (ordering rules
 * shared with 2.7.13); queue resize through a queue reset (2.6.1).
 *
 * Positions and wrap counters. The driver makes descriptors available at
 * `next_avail`, flipping its wrap counter each time it passes the end of
 * the ring; a descriptor is available when its AVAIL bit equals that
 * counter and its USED bit does not. The device writes one used descriptor
 * per buffer, in the order it finishes them, starting at the first slot it
 * has not written yet, and then skips the rest of the slots that buffer
 * occupied; a slot holds a used descriptor when AVAIL and USED both equal
 * the wrap counter of the lap the driver expects (`used_wrap`). So the
 * driver, which alone knows how many slots buffer `id` took, advances
 * `last_used` by that many.
 *
 * Ids. A buffer's id is any free number below the ring size, from a free
 * list; the device hands it back in the used descriptor. The driver keeps
 * everything about a buffer (token, slot count, indirect table, writable
 * bytes) in its own per-id state and never reads back a descriptor it wrote.
 *
 * The device is not trusted: a used descriptor's flags, id and len are
 * each read once (the flags with acquire ordering, since they publish the
 * rest) and checked before use. An id out of range or not in flight breaks
 * the queue; a length beyond what was posted is clamped and reported, like
 * the split ring.
 *
 * IN_ORDER (VIRTIO_F_IN_ORDER) is not offered by the core, so the device
 * may use buffers in any order and every used descriptor carries its id;
 * the ring never assumes an order.
 *
 * What the split ring does the same way (the per-buffer state, the checks
 * on a request and on what the device returns, create, resize, delete) is
 * in ring_impl.c; this file is the packed layout itself.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel/lib/log.h"
#include "kernel/mm/dma.h"
#include "virtio/ring/ring_format.h"
#include "virtio/ring/ring_impl.h"
#include "virtio/ring/ring_packed.h"

struct vring_pk {
	struct vring_common c; /* first: the struct virtqueue, state, features */
	struct vring_packed vring;
	/* Free-id list links, num entries after the per-id state (struct
	 * vring_buf_state) in the common state block. */
	uint16_t *next_id;

	uint16_t free_id;	     /* first free buffer id */
	uint16_t next_avail;	     /* slot of the next descriptor we make available */
	uint16_t last_used;	     /* slot of the next used descriptor to read */
	uint16_t avail_used_flags;   /* AVAIL/USED bits of this lap's available descriptors */
	uint16_t event_flags_shadow; /* our copy of driver->flags: never read it back */
	uint16_t num_added;	     /* descriptors added since the last kick_prepare */
	uint16_t since_kick;	     /* ... since the last kick wanted, at most num */
	bool avail_wrap;	     /* the driver's ring wrap counter (2.8.1) */
	bool used_wrap;		     /* the wrap counter the next used descriptor carries */
};

#define WRAP_SHIFT VRING_PACKED_EVENT_F_WRAP_CTR
#define AVAIL_USED (VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED)

/* ring_impl.c frees and casts the ring through its first member. */
_Static_assert(offsetof(struct vring_pk, c) == 0, "vring_common first");

static inline struct vring_pk *to_pk(const struct virtqueue *vq)
{
	return (struct vring_pk *)to_common(vq);
}

/* Does slot `pos` hold a used descriptor of the lap with wrap counter
 * `wrap` (2.8.1: AVAIL == USED == wrap)? Acquire: the id and len in the
 * slot, and the data in the buffer, are read only after this. */
static bool is_used(const struct vring_pk *pk, uint16_t pos, bool wrap)
{
	uint16_t flags = __atomic_load_n(&pk->vring.desc[pos].flags, __ATOMIC_ACQUIRE);
	bool avail = flags & VRING_PACKED_DESC_F_AVAIL, used = flags & VRING_PACKED_DESC_F_USED;

	return avail == used && used == wrap;
}

/* Opaque positions for enable_cb_prepare/poll and the event offsets of
 * 2.8.10: the slot in bits 0-14, the wrap counter in bit 15. */
static uint16_t off_wrap(uint16_t pos, bool wrap)
{
	return (uint16_t)(pos | (unsigned)wrap << WRAP_SHIFT);
}

/* Layout of one block: descriptor ring | driver event | device event. */
static size_t driver_offset(unsigned num)
{
	return sizeof(struct vring_packed_desc) * num; /* a multiple of 16, so 4-aligned */
}

/* 2.8: any size up to 2^15 (offsets in event structures are 15 bits). */
static bool pk_size_ok(unsigned num)
{
	return num && num <= VRING_PACKED_MAX_NUM;
}

static size_t pk_area_size(const struct vring_common *c, unsigned num, size_t *align)
{
	*align = VRING_PACKED_DESC_ALIGN;
	return driver_offset(num) + 2 * sizeof(struct vring_packed_desc_event);
}

/* Points at the new memory, in the state 2.8.1 prescribes after a (queue)
 * reset: both wrap counters 1, both positions 0, every id free. Zeroed
 * descriptors (AVAIL = USED = 0) are neither available to the device (it
 * wants AVAIL = 1) nor used for us (we want 1 too), and a zeroed driver
 * area asks for every interrupt (flags ENABLE). */
static void pk_install(struct vring_common *c)
{
	struct vring_pk *pk = to_pk(&c->vq);
	unsigned num = c->num;

	pk->next_id = (uint16_t *)(c->state + num);
	pk->vring.num = num;
	pk->vring.desc = c->mem;
	pk->vring.driver = (struct vring_packed_desc_event *)((char *)c->mem + driver_offset(num));
	pk->vring.device = pk->vring.driver + 1;
	for (unsigned i = 0; i < num; i++)
		pk->next_id[i] = (uint16_t)(i + 1);
	pk->free_id = 0;
	pk->next_avail = 0;
	pk->last_used = 0;
	pk->avail_wrap = true;
	pk->used_wrap = true;
	pk->avail_used_flags = VRING_PACKED_DESC_F_AVAIL;
	pk->event_flags_shadow = VRING_PACKED_EVENT_FLAG_ENABLE;
	pk->num_added = 0;
	pk->since_kick = 0;
}

/* Returns buffer `id` to the free list. Its ring slots come back as
 * last_used moves past them (get_buf) or with a reset (detach). */
static void detach_buf(struct vring_pk *pk, uint16_t id)
{
	vring_release_state(&pk->c, &pk->c.state[id]);
	pk->next_id[id] = pk->free_id;
	pk->free_id = id;
}

static void pk_detach(struct vring_common *c, uint16_t id)
{
	detach_buf(to_pk(&c->vq), id);
}

static const struct vring_layout pk_layout = {
	.obj_size = sizeof(struct vring_pk),
	.desc_size = sizeof(struct vring_packed_desc),
	.extra_size = sizeof(uint16_t),
	.size_ok = pk_size_ok,
	.area_size = pk_area_size,
	.install = pk_install,
	.detach = pk_detach,
};

struct virtqueue *vring_create_virtqueue_packed(const struct vring_params *p)
{
	struct vring_pk *pk;

	if (!pk_size_ok(p->num)) {
		pr_err("virtqueue %s: packed ring size %u, expected 1 to %u\n",
		       p->name ? p->name : "?", p->num, VRING_PACKED_MAX_NUM);
		return NULL;
	}
	pk = dma_alloc(sizeof(*pk), 16);
	if (!pk)
		return NULL;
	if (vring_common_init(&pk->c, &pk_layout, &vring_packed_ops, p)) {
		dma_free(pk, sizeof(*pk));
		return NULL;
	}
	return &pk->c.vq;
}

static uint64_t pk_desc_addr(const struct virtqueue *vq)
{
	return virt_to_phys(to_pk(vq)->vring.desc);
}

static uint64_t pk_driver_addr(const struct virtqueue *vq)
{
	return virt_to_phys(to_pk(vq)->vring.driver);
}

static uint64_t pk_device_addr(const struct virtqueue *vq)
{
	return virt_to_phys(to_pk(vq)->vring.device);
}

const struct vring_packed *virtqueue_get_vring_packed(const struct virtqueue *vq)
{
	return &to_pk(vq)->vring;
}

/* Moves to the next slot; passing the end starts a new lap, whose
 * available descriptors carry the flipped AVAIL/USED bits (2.8.1). */
static uint16_t next_slot(struct vring_pk *pk, uint16_t i)
{
	if (++i == pk->vring.num) {
		i = 0;
		pk->avail_wrap = !pk->avail_wrap;
		pk->avail_used_flags ^= AVAIL_USED;
	}
	return i;
}

int vring_packed_add_sgs(struct virtqueue *vq, struct scatterlist *sgs[], unsigned out_sgs,
			 unsigned in_sgs, void *data, void *ctx)
{
	struct vring_pk *pk = to_pk(vq);
	struct vring_packed_desc *desc = pk->vring.desc, *indir;
	unsigned total, n, since, num = pk->vring.num;
	uint32_t in_len;
	uint16_t head, i, id, ndescs, head_flags = 0;
	struct scatterlist *sg;
	int err;

	err = vring_add_check(&pk->c, sgs, out_sgs, in_sgs, data, &total, &in_len);
	if (err)
		return err;
	indir = vring_alloc_indirect(&pk->c, total);
	ndescs = indir ? 1 : (uint16_t)total;
	if (vq->num_free < ndescs)
		return vring_add_full(&pk->c, indir, total);
	/* A buffer takes at least one slot, so a free slot means a free
	 * id; anything else is our own bookkeeping gone wrong. */
	id = pk->free_id;
	if (id >= num) {
		if (indir)
			vring_put_indirect(&pk->c, indir, total);
		pr_err("virtqueue %s: no free buffer id with %u slots free\n", vq->name,
		       vq->num_free);
		vring_break(&pk->c);
		return -EIO;
	}

	head = i = pk->next_avail;
	if (indir) {
		/* 2.8.7: the table's entries are read in order; NEXT is not
		 * used inside it and the id lives in the ring descriptor. */
		unsigned k = 0;

		for (n = 0; n < out_sgs + in_sgs; n++) {
			for (sg = sgs[n]; sg; sg = sg_next(sg), k++) {
				indir[k].addr = sg_phys(sg);
				indir[k].len = sg->length;
				indir[k].id = 0;
				indir[k].flags = (uint16_t)(n >= out_sgs ? VRING_DESC_F_WRITE : 0);
			}
		}
		desc[head].addr = virt_to_phys(indir);
		desc[head].len = total * sizeof(struct vring_packed_desc);
		desc[head].id = id;
		head_flags = (uint16_t)(VRING_DESC_F_INDIRECT | pk->avail_used_flags);
		i = next_slot(pk, i);
	} else {
		unsigned k = 0;

		for (n = 0; n < out_sgs + in_sgs; n++) {
			for (sg = sgs[n]; sg; sg = sg_next(sg), k++) {
				uint16_t flags =
					(uint16_t)((n >= out_sgs ? VRING_DESC_F_WRITE : 0) |
						   (k + 1 < total ? VRING_DESC_F_NEXT : 0) |
						   pk->avail_used_flags);

				/* 2.8.6: the id belongs in the last descriptor;
				 * every one carries it, as devices may look. */
				desc[i].addr = sg_phys(sg);
				desc[i].len = sg->length;
				desc[i].id = id;
				/* The head's flags make the whole chain
				 * available: written last, below. The others may
				 * go now: the device reads them only after seeing
				 * the head. */
				if (i == head)
					head_flags = flags;
				else
					dev_write16(&desc[i].flags, flags);
				i = next_slot(pk, i);
			}
		}
	}
	pk->next_avail = i;
	pk->free_id = pk->next_id[id];
	vring_add_state(&pk->c, id, data, ctx, indir, total, in_len, ndescs);
	pk->num_added += ndescs;
	/* Saturates at the ring size (kick_prepare says why). */
	since = pk->since_kick + ndescs;
	pk->since_kick = (uint16_t)(since < num ? since : num);

	/* 2.8.21: the descriptors (and the buffers) must be visible before
	 * the head's flags that make them available: a release store. */
	__atomic_store_n(&desc[head].flags, head_flags, __ATOMIC_RELEASE);
	vq->stats.added++;

	/* kick_prepare compares positions in 16 bits; decide before the
	 * count of added descriptors could wrap. */
	if (pk->num_added >= 0x8000)
		virtqueue_kick(vq);
	return 0;
}

bool vring_packed_kick_prepare(struct virtqueue *vq)
{
	struct vring_pk *pk = to_pk(vq);
	/* Where we last kicked, not where we last looked: see the split
	 * ring's kick_prepare for the stale read this survives. */
	uint16_t new_pos = pk->next_avail, old = (uint16_t)(new_pos - pk->since_kick);
	uint16_t flags, event;
	uint32_t snap;
	bool needed;

	/* The head flags we stored must be visible before we read whether
	 * the device wants to hear about them; the device orders the other
	 * way (writes its wish, then re-reads the ring). */
	virtio_mb();
	/* off_wrap and flags in one read, so they belong together. */
	snap = __atomic_load_n((const uint32_t *)(const void *)pk->vring.device, __ATOMIC_RELAXED);
	event = (uint16_t)snap;
	flags = (uint16_t)(snap >> 16);
	if (pk->c.event && flags == VRING_PACKED_EVENT_FLAG_DESC) {
		/* 2.8.10: notify once the descriptor at `event` of the lap
		 * named by its wrap bit is made available. An offset from the
		 * lap before ours lies num slots behind in our numbering; then
		 * the rule of 2.7.7.2 applies to slot positions. */
		uint16_t pos = event & (uint16_t) ~(1u << WRAP_SHIFT);

		if ((bool)(event >> WRAP_SHIFT) != pk->avail_wrap)
			pos = (uint16_t)(pos - pk->vring.num);
		needed = vring_need_event(pos, new_pos, old);
	} else {
		/* DISABLE, or ENABLE; DESC without EVENT_IDX, or a value the
		 * spec does not define, errs on the side of notifying. */
		needed = flags != VRING_PACKED_EVENT_FLAG_DISABLE;
	}
	if (needed)
		pk->since_kick = 0;
	else if (pk->num_added)
		vq->stats.kicks_suppressed++;
	pk->num_added = 0;
	return needed;
}

bool vring_packed_notify(struct virtqueue *vq)
{
	return vring_notify(to_common(vq));
}

void *vring_packed_get_buf_ctx(struct virtqueue *vq, unsigned *len, void **ctx)
{
	struct vring_pk *pk = to_pk(vq);
	struct vring_packed_desc *d;
	struct vring_buf_state *st;
	unsigned num = pk->vring.num;
	uint32_t ulen;
	uint16_t id, pos;
	void *data;

	vq->len_clamped = false;
	if (vring_is_broken(&pk->c))
		return NULL;
	if (!is_used(pk, pk->last_used, pk->used_wrap))
		return NULL;
	d = &pk->vring.desc[pk->last_used];
	id = dev_read16(&d->id);
	ulen = dev_read32(&d->len);
	st = vring_used_state(&pk->c, id, "slot", pk->last_used);
	if (!st)
		return NULL;
	data = vring_used_buf(&pk->c, st, id, ulen, len, ctx);
	/* 2.8.5 / 2.8.6: the device skipped the rest of this buffer's slots;
	 * only we know how many (our own count, never the device's). */
	pos = (uint16_t)(pk->last_used + st->ndescs);
	if (pos >= num) {
		pos = (uint16_t)(pos - num);
		pk->used_wrap = !pk->used_wrap;
	}
	pk->last_used = pos;
	detach_buf(pk, id);

	/* With descriptor-specific events on, move the offset along so the
	 * next used buffer interrupts; the barrier orders it before our next
	 * look at the ring (the device writes a used descriptor, then reads
	 * our wish). */
	if (pk->event_flags_shadow == VRING_PACKED_EVENT_FLAG_DESC) {
		dev_write16(&pk->vring.driver->off_wrap, off_wrap(pk->last_used, pk->used_wrap));
		virtio_mb();
	}
	return data;
}

/* Turns interrupts back on: descriptor-specific with EVENT_IDX (the offset
 * first, so the device never sees DESC with a stale offset), else ENABLE. */
static void enable_events(struct vring_pk *pk, uint16_t event)
{
	if (pk->c.event) {
		dev_write16(&pk->vring.driver->off_wrap, event);
		__atomic_thread_fence(__ATOMIC_RELEASE);
	}
	if (pk->event_flags_shadow == VRING_PACKED_EVENT_FLAG_DISABLE) {
		pk->event_flags_shadow =
			pk->c.event ? VRING_PACKED_EVENT_FLAG_DESC : VRING_PACKED_EVENT_FLAG_ENABLE;
		dev_write16(&pk->vring.driver->flags, pk->event_flags_shadow);
	}
}

static unsigned pk_enable_cb_prepare(struct virtqueue *vq)
{
	struct vring_pk *pk = to_pk(vq);
	uint16_t pos = off_wrap(pk->last_used, pk->used_wrap);

	enable_events(pk, pos);
	return pos;
}

static bool pk_poll(struct virtqueue *vq, unsigned last_used)
{
	struct vring_pk *pk = to_pk(vq);
	uint16_t pos = (uint16_t)(last_used & ~(1u << WRAP_SHIFT));

	if (vring_is_broken(&pk->c) || pos >= pk->vring.num)
		return false;
	/* Our "interrupt me" must be visible before we look for used
	 * buffers, or one used in between would raise no interrupt and go
	 * unseen. */
	virtio_mb();
	return is_used(pk, pos, (last_used >> WRAP_SHIFT) & 1);
}

static bool pk_enable_cb(struct virtqueue *vq)
{
	return !pk_poll(vq, pk_enable_cb_prepare(vq));
}

static bool pk_enable_cb_delayed(struct virtqueue *vq)
{
	struct vring_pk *pk = to_pk(vq);
	unsigned num = pk->vring.num;
	/* Ask for the interrupt after ~3/4 of the slots in flight. */
	unsigned bufs = (num - vq->num_free) * 3 / 4, passed = 0, pos;
	bool wrap = pk->used_wrap;

	pos = pk->last_used + bufs;
	if (pos >= num) {
		pos -= num;
		wrap = !wrap;
	}
	enable_events(pk, off_wrap((uint16_t)pos, wrap));
	virtio_mb();
	/*
	 * Has the device already gone past that point (then it may never
	 * interrupt for it)? Used descriptors sit at the start of each used
	 * buffer's slots, so walk them with our own slot counts rather than
	 * look at one slot that may lie inside a buffer. The ids are checked
	 * again, and acted on, by get_buf.
	 */
	pos = pk->last_used;
	wrap = pk->used_wrap;
	for (unsigned steps = 0; steps < num; steps++) {
		uint16_t id;

		if (!is_used(pk, (uint16_t)pos, wrap))
			return true;
		id = dev_read16(&pk->vring.desc[pos].id);
		if (id >= num || !pk->c.state[id].data)
			return false; /* get_buf will find it and break the queue */
		passed += pk->c.state[id].ndescs;
		if (passed > bufs)
			return false;
		pos += pk->c.state[id].ndescs;
		if (pos >= num) {
			pos -= num;
			wrap = !wrap;
		}
	}
	return false;
}

static void pk_disable_cb(struct virtqueue *vq)
{
	struct vring_pk *pk = to_pk(vq);

	/* DISABLE works with or without EVENT_IDX (2.8.10). */
	if (pk->event_flags_shadow == VRING_PACKED_EVENT_FLAG_DISABLE)
		return;
	pk->event_flags_shadow = VRING_PACKED_EVENT_FLAG_DISABLE;
	dev_write16(&pk->vring.driver->flags, pk->event_flags_shadow);
}

static bool pk_more_used(const struct virtqueue *vq)
{
	const struct vring_pk *pk = to_pk(vq);

	return is_used(pk, pk->last_used, pk->used_wrap);
}

const struct virtqueue_ops vring_packed_ops = {
	.add_sgs = vring_packed_add_sgs,
	.kick_prepare = vring_packed_kick_prepare,
	.notify = vring_packed_notify,
	.enable_cb_prepare = pk_enable_cb_prepare,
	.enable_cb = pk_enable_cb,
	.enable_cb_delayed = pk_enable_cb_delayed,
	.disable_cb = pk_disable_cb,
	.poll = pk_poll,
	.get_buf_ctx = vring_packed_get_buf_ctx,
	.detach_unused_buf = vring_detach_unused_buf,
	.get_vring_size = vring_get_vring_size,
	.resize = vring_resize,
	.break_ = vring_break_op,
	.unbreak_ = vring_unbreak_op,
	.is_broken = vring_is_broken_op,
	.more_used = pk_more_used,
	.layout = "packed",
	.del = vring_common_del,
	.desc_addr = pk_desc_addr,
	.driver_addr = pk_driver_addr,
	.device_addr = pk_device_addr,
};
