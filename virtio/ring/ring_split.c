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
 *
 * What the packed ring does the same way (the per-chain state, the checks
 * on a request and on what the device returns, create, resize, delete) is
 * in ring_impl.c; this file is the split layout itself.
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
#include "virtio/ring/ring_split.h"

/* The driver's private record of one descriptor (shadow of the table),
 * kept after the per-chain state (struct vring_buf_state, indexed by the
 * chain's head) in the common state block. */
struct vring_desc_extra {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next; /* chain link, or free-list link when free */
};

struct vring_split {
	struct vring_common c; /* first: the struct virtqueue, state, features */
	struct vring vring;
	unsigned align;
	struct vring_desc_extra *extra; /* num entries */

	uint16_t free_head;	     /* first free descriptor */
	uint16_t avail_idx_shadow;   /* our copy of avail->idx: never read it back */
	uint16_t avail_flags_shadow; /* our copy of avail->flags */
	uint16_t last_used_idx;	     /* next used entry to consume */
	uint16_t num_added;	     /* added since the last kick_prepare */
	uint16_t since_kick;	     /* added since the last kick wanted, at most num */
};

/* ring_impl.c frees and casts the ring through its first member. */
_Static_assert(offsetof(struct vring_split, c) == 0, "vring_common first");

static inline struct vring_split *to_vs(const struct virtqueue *vq)
{
	return (struct vring_split *)to_common(vq);
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

/* 2.7: the split ring's size is a power of 2, at most 32768. */
static bool vs_size_ok(unsigned num)
{
	return is_pow2(num) && num <= VRING_SPLIT_MAX_NUM;
}

static size_t vs_area_size(const struct vring_common *c, unsigned num, size_t *align)
{
	const struct vring_split *vs = to_vs(&c->vq);

	*align = vs->align > VRING_DESC_ALIGN ? vs->align : VRING_DESC_ALIGN;
	return used_offset(num, vs->align) + vring_used_size(num);
}

/* Points at the new memory and puts the queue in the state the device
 * expects after a (queue) reset: all indices 0, every descriptor free. */
static void vs_install(struct vring_common *c)
{
	struct vring_split *vs = to_vs(&c->vq);
	unsigned num = c->num;

	vs->extra = (struct vring_desc_extra *)(c->state + num);
	vs->vring.num = num;
	vs->vring.desc = c->mem;
	vs->vring.avail = (struct vring_avail *)((char *)c->mem + vring_desc_size(num));
	vs->vring.used = (struct vring_used *)((char *)c->mem + used_offset(num, vs->align));
	for (unsigned i = 0; i < num; i++)
		vs->extra[i].next = (uint16_t)(i + 1);
	vs->free_head = 0;
	vs->avail_idx_shadow = 0;
	vs->avail_flags_shadow = 0;
	vs->last_used_idx = 0;
	vs->num_added = 0;
	vs->since_kick = 0;
}

/* Returns a chain's descriptors to the free list, walking our own copy. */
static void detach_buf(struct vring_split *vs, uint16_t head)
{
	struct vring_buf_state *st = &vs->c.state[head];
	uint16_t i = head;

	for (unsigned k = 1; k < st->ndescs; k++)
		i = vs->extra[i].next;
	vs->extra[i].next = vs->free_head;
	vs->free_head = head;
	vring_release_state(&vs->c, st);
}

static void vs_detach(struct vring_common *c, uint16_t head)
{
	detach_buf(to_vs(&c->vq), head);
}

static const struct vring_layout vs_layout = {
	.obj_size = sizeof(struct vring_split),
	.desc_size = sizeof(struct vring_desc),
	.extra_size = sizeof(struct vring_desc_extra),
	.size_ok = vs_size_ok,
	.area_size = vs_area_size,
	.install = vs_install,
	.detach = vs_detach,
};

struct virtqueue *vring_create_virtqueue_split(const struct vring_params *p)
{
	const char *name = p->name ? p->name : "?";
	unsigned align = p->align ? p->align : VRING_USED_ALIGN;
	struct vring_split *vs;

	if (!vs_size_ok(p->num)) {
		pr_err("virtqueue %s: size %u, expected a power of two up to %u\n", name, p->num,
		       VRING_SPLIT_MAX_NUM);
		return NULL;
	}
	if (!is_pow2(align)) {
		pr_err("virtqueue %s: alignment %u is not a power of two\n", name, align);
		return NULL;
	}
	vs = dma_alloc(sizeof(*vs), 16);
	if (!vs)
		return NULL;
	vs->align = align; /* the area size depends on it */
	if (vring_common_init(&vs->c, &vs_layout, &vring_split_ops, p)) {
		dma_free(vs, sizeof(*vs));
		return NULL;
	}
	return &vs->c.vq;
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
	struct vring_desc *indir;
	unsigned total, n, num = vs->vring.num;
	uint32_t in_len;
	uint16_t head, i, prev, ndescs;
	struct scatterlist *sg;
	int err;

	err = vring_add_check(&vs->c, sgs, out_sgs, in_sgs, data, &total, &in_len);
	if (err)
		return err;
	indir = vring_alloc_indirect(&vs->c, total);
	ndescs = indir ? 1 : (uint16_t)total;
	if (vq->num_free < ndescs)
		return vring_add_full(&vs->c, indir, total);

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
	vring_add_state(&vs->c, head, data, ctx, indir, total, in_len, ndescs);

	/* 2.7.13: the ring entry (and the descriptors) must be visible
	 * before the index that publishes them: a release store. */
	vs->vring.avail->ring[vs->avail_idx_shadow & (num - 1)] = head;
	vs->avail_idx_shadow++;
	__atomic_store_n(&vs->vring.avail->idx, vs->avail_idx_shadow, __ATOMIC_RELEASE);
	vq->stats.added++;

	if (vs->since_kick < num)
		vs->since_kick++;
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
	if (vs->c.event) {
		/*
		 * The window starts where we last kicked, not where we last
		 * looked (Linux uses `old`): an avail_event read stale, before
		 * the device's new wish landed, would otherwise be final. The
		 * device parks avail_event at an index we already passed and
		 * waits, and every later window starts past it, so no kick
		 * ever comes. QEMU 7.2's TCG drops a single vCPU's fences,
		 * which makes that read happen (tx stalled under iperf). Now
		 * the next kick_prepare, even with nothing added, sees the
		 * wish and kicks. A wish older than the ring is no wish: the
		 * device has consumed past it, hence the cap at num.
		 */
		needed = vring_need_event(dev_read16(vring_avail_event(&vs->vring)), new_idx,
					  (uint16_t)(new_idx - vs->since_kick));
		if (needed)
			vs->since_kick = 0;
	} else {
		needed = !(dev_read16(&vs->vring.used->flags) & VRING_USED_F_NO_NOTIFY);
	}
	if (!needed && old != new_idx)
		vq->stats.kicks_suppressed++;
	return needed;
}

bool vring_split_notify(struct virtqueue *vq)
{
	return vring_notify(to_common(vq));
}

void *vring_split_get_buf_ctx(struct virtqueue *vq, unsigned *len, void **ctx)
{
	struct vring_split *vs = to_vs(vq);
	unsigned num = vs->vring.num;
	uint16_t used_idx, pending;
	uint32_t id, ulen;
	struct vring_used_elem *elem;
	struct vring_buf_state *st;
	void *data;

	vq->len_clamped = false;
	if (vring_is_broken(&vs->c))
		return NULL;
	/* Acquire: the entry (and the data the device wrote into our
	 * buffers) is read only after seeing the index that covers it. */
	used_idx = __atomic_load_n(&vs->vring.used->idx, __ATOMIC_ACQUIRE);
	if (used_idx == vs->last_used_idx)
		return NULL;
	/* The device can have used at most what it was given. */
	pending = (uint16_t)(used_idx - vs->last_used_idx);
	if (pending > vs->c.in_flight) {
		pr_err("virtqueue %s: used->idx jumped from %u to %u with only %u buffers "
		       "in flight\n",
		       vq->name, vs->last_used_idx, used_idx, vs->c.in_flight);
		vring_break(&vs->c);
		return NULL;
	}

	elem = &vs->vring.used->ring[vs->last_used_idx & (num - 1)];
	id = dev_read32(&elem->id);
	ulen = dev_read32(&elem->len);
	/* The id names the chain's head descriptor. */
	st = vring_used_state(&vs->c, id, "used entry", vs->last_used_idx);
	if (!st)
		return NULL;
	data = vring_used_buf(&vs->c, st, id, ulen, len, ctx);
	detach_buf(vs, (uint16_t)id);
	vs->last_used_idx++;

	/* With callbacks on, move used_event along so the next used buffer
	 * interrupts; the barrier orders it before our next used->idx read
	 * (the device stores used->idx, then reads used_event). */
	if (vs->c.event && !(vs->avail_flags_shadow & VRING_AVAIL_F_NO_INTERRUPT)) {
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
		if (!vs->c.event)
			dev_write16(&vs->vring.avail->flags, vs->avail_flags_shadow);
	}
	if (vs->c.event)
		dev_write16(vring_used_event(&vs->vring), vs->last_used_idx);
	return vs->last_used_idx;
}

static bool vs_poll(struct virtqueue *vq, unsigned last_used)
{
	struct vring_split *vs = to_vs(vq);

	if (vring_is_broken(&vs->c))
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
		if (!vs->c.event)
			dev_write16(&vs->vring.avail->flags, vs->avail_flags_shadow);
	}
	/* Ask for the interrupt after ~3/4 of what is outstanding. */
	bufs = (uint16_t)((uint16_t)(vs->avail_idx_shadow - vs->last_used_idx) * 3 / 4);
	if (vs->c.event)
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
	if (vs->c.event)
		dev_write16(vring_used_event(&vs->vring), (uint16_t)(vs->last_used_idx - 1));
	else
		dev_write16(&vs->vring.avail->flags, vs->avail_flags_shadow);
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
	.detach_unused_buf = vring_detach_unused_buf,
	.get_vring_size = vring_get_vring_size,
	.resize = vring_resize,
	.break_ = vring_break_op,
	.unbreak_ = vring_unbreak_op,
	.is_broken = vring_is_broken_op,
	.more_used = vs_more_used,
	.layout = "split",
	.del = vring_common_del,
	.desc_addr = vs_desc_addr,
	.driver_addr = vs_avail_addr,
	.device_addr = vs_used_addr,
};
