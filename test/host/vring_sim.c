/*
 * The device half of a split (virtio 1.2 section 2.7) or packed (2.8)
 * virtqueue, simulated for tests. See vring_sim.h. The checks are the
 * device's requirements on the driver (2.7.4.1, 2.7.5.1, 2.7.5.3.1; 2.8.6,
 * 2.8.7, 2.8.1's flag rules): a simulated device that fails them means the
 * ring under test broke the contract.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernel/mm/dma.h"
#include "virtio/ring/ring_packed.h"
#include "virtio/ring/ring_split.h"
#include "virtio/virtio.h"
#include "virtio/virtqueue_transport.h"
#include "vring_sim.h"

void sim_init(struct sim_dev *d, struct virtqueue *vq)
{
	memset(d, 0, sizeof(*d));
	d->packed = vq->ops == &vring_packed_ops;
	if (d->packed) {
		d->pvr = *virtqueue_get_vring_packed(vq);
		d->avail_wrap = d->used_wrap = true; /* 2.8.1 */
	} else {
		d->vr = *virtqueue_get_vring(vq);
	}
	d->event = vq->vdev && virtio_has_feature(vq->vdev, VIRTIO_RING_F_EVENT_IDX);
	d->indirect = vq->vdev && virtio_has_feature(vq->vdev, VIRTIO_RING_F_INDIRECT_DESC);
}

static int proto(struct sim_dev *d, const char *fmt, ...)
{
	va_list ap;

	if (!d->errors++) {
		va_start(ap, fmt);
		vsnprintf(d->error, sizeof(d->error), fmt, ap);
		va_end(ap);
	}
	return -EPROTO;
}

static bool split_has_avail(struct sim_dev *d)
{
	return __atomic_load_n(&d->vr.avail->idx, __ATOMIC_ACQUIRE) != d->last_avail;
}

static int add_seg(struct sim_dev *d, struct sim_req *r, const struct vring_desc *desc)
{
	bool write = desc->flags & VRING_DESC_F_WRITE;

	if (r->nseg == SIM_MAX_SEGS)
		return proto(d, "chain longer than the simulator's %d segments", SIM_MAX_SEGS);
	if (!write && r->in_len)
		return proto(d, "readable descriptor after a writable one (2.7.4.1)");
	r->seg[r->nseg++] = (struct sim_seg){phys_to_virt(desc->addr), desc->len, write};
	if (write)
		r->in_len += desc->len;
	else
		r->out_len += desc->len;
	return 0;
}

static int split_pop(struct sim_dev *d, struct sim_req *r)
{
	unsigned num = d->vr.num, count = 0;
	uint16_t avail_idx, i;

	avail_idx = __atomic_load_n(&d->vr.avail->idx, __ATOMIC_ACQUIRE);
	if (avail_idx == d->last_avail)
		return -EAGAIN;
	if ((uint16_t)(avail_idx - d->last_avail) > num)
		return proto(d, "avail->idx %u is more than %u ahead of %u", avail_idx, num,
			     d->last_avail);
	memset(r, 0, sizeof(*r));
	r->head = d->vr.avail->ring[d->last_avail & (num - 1)];
	d->last_avail++;
	if (r->head >= num)
		return proto(d, "avail head %u >= ring size %u", r->head, num);
	i = r->head;
	for (;;) {
		const struct vring_desc *desc = &d->vr.desc[i];

		if (++count > num)
			return proto(d, "descriptor chain from %u loops", r->head);
		if (desc->flags & VRING_DESC_F_INDIRECT) {
			const struct vring_desc *tab = phys_to_virt(desc->addr);
			unsigned n = desc->len / sizeof(*tab), k = 0;

			if (!d->indirect)
				return proto(d, "indirect descriptor without INDIRECT_DESC");
			if (i != r->head || (desc->flags & VRING_DESC_F_NEXT))
				return proto(d, "indirect descriptor not alone in its chain");
			if (desc->len == 0 || desc->len % sizeof(*tab))
				return proto(d, "indirect table length %u", desc->len);
			if (desc->addr % VRING_DESC_ALIGN)
				return proto(d, "indirect table at %#llx misaligned",
					     (unsigned long long)desc->addr);
			r->indirect = true;
			for (unsigned seen = 0;; seen++) {
				if (seen >= n)
					return proto(d, "indirect chain loops or runs off");
				if (tab[k].flags & VRING_DESC_F_INDIRECT)
					return proto(d, "nested indirect descriptor (2.7.5.3.1)");
				if (add_seg(d, r, &tab[k]))
					return -EPROTO;
				if (!(tab[k].flags & VRING_DESC_F_NEXT))
					break;
				k = tab[k].next;
				if (k >= n)
					return proto(d, "indirect next %u past table of %u", k, n);
			}
			return 0;
		}
		if (add_seg(d, r, desc))
			return -EPROTO;
		if (!(desc->flags & VRING_DESC_F_NEXT))
			return 0;
		i = desc->next;
		if (i >= num)
			return proto(d, "descriptor next %u >= ring size %u", i, num);
	}
}

uint32_t sim_fill(const struct sim_req *r, uint8_t pattern, uint32_t max)
{
	uint32_t done = 0;

	for (unsigned s = 0; s < r->nseg && done < max; s++) {
		uint32_t n = r->seg[s].len;

		if (!r->seg[s].write)
			continue;
		if (n > max - done)
			n = max - done;
		memset(r->seg[s].buf, pattern, n);
		done += n;
	}
	return done;
}

uint32_t sim_read(const struct sim_req *r, void *out, uint32_t max)
{
	uint32_t done = 0;

	for (unsigned s = 0; s < r->nseg && done < max; s++) {
		uint32_t n = r->seg[s].len;

		if (r->seg[s].write)
			break;
		if (n > max - done)
			n = max - done;
		memcpy((char *)out + done, r->seg[s].buf, n);
		done += n;
	}
	return done;
}

static void split_push(struct sim_dev *d, uint32_t id, uint32_t len)
{
	struct vring_used_elem *e = &d->vr.used->ring[d->used_idx & (d->vr.num - 1)];

	__atomic_store_n(&e->id, id, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
	d->used_idx++;
	/* The entry, and the data in the buffers, before the index. */
	__atomic_store_n(&d->vr.used->idx, d->used_idx, __ATOMIC_RELEASE);
}

static bool split_need_interrupt(struct sim_dev *d)
{
	uint16_t old = d->signalled, new_idx = d->used_idx;

	/* used->idx visible before reading the driver's wish: pairs with
	 * the barrier in the driver's enable_cb / get_buf. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	d->signalled = new_idx;
	if (old == new_idx)
		return false;
	if (d->event)
		return vring_need_event(__atomic_load_n(vring_used_event(&d->vr), __ATOMIC_RELAXED),
					new_idx, old);
	return !(__atomic_load_n(&d->vr.avail->flags, __ATOMIC_RELAXED) &
		 VRING_AVAIL_F_NO_INTERRUPT);
}

static bool split_want_kicks(struct sim_dev *d, bool want)
{
	if (d->event) {
		/* Parked just behind: the driver's index reaches it last. */
		__atomic_store_n(vring_avail_event(&d->vr),
				 (uint16_t)(want ? d->last_avail : d->last_avail - 1),
				 __ATOMIC_RELAXED);
	} else {
		__atomic_store_n(&d->vr.used->flags, (uint16_t)(want ? 0 : VRING_USED_F_NO_NOTIFY),
				 __ATOMIC_RELAXED);
	}
	if (!want)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return split_has_avail(d);
}

/* ---- Packed (2.8) --------------------------------------------------------- */

static bool pk_avail_at(const struct sim_dev *d, uint16_t pos, bool wrap)
{
	uint16_t f = __atomic_load_n(&d->pvr.desc[pos].flags, __ATOMIC_ACQUIRE);
	bool a = f & VRING_PACKED_DESC_F_AVAIL, u = f & VRING_PACKED_DESC_F_USED;

	return a == wrap && u != wrap;
}

static bool packed_has_avail(struct sim_dev *d)
{
	return pk_avail_at(d, d->avail_pos, d->avail_wrap);
}

static void pk_advance(struct sim_dev *d, uint16_t *pos, bool *wrap, unsigned *laps)
{
	if (++*pos == d->pvr.num) {
		*pos = 0;
		*wrap = !*wrap;
		++*laps;
	}
}

static int pk_add_seg(struct sim_dev *d, struct sim_req *r, const struct vring_packed_desc *desc)
{
	struct vring_desc v = {desc->addr, desc->len, desc->flags, 0};

	return add_seg(d, r, &v);
}

static int packed_pop(struct sim_dev *d, struct sim_req *r)
{
	unsigned num = d->pvr.num;
	uint16_t id = 0, count = 0;

	if (!packed_has_avail(d))
		return -EAGAIN;
	memset(r, 0, sizeof(*r));
	for (;;) {
		const struct vring_packed_desc *desc = &d->pvr.desc[d->avail_pos];
		uint16_t flags = desc->flags;

		/* Every descriptor of the chain must carry this lap's bits. */
		if (!pk_avail_at(d, d->avail_pos, d->avail_wrap))
			return proto(d, "descriptor %u of a chain is not available (flags %#x)",
				     d->avail_pos, flags);
		if (++count > num)
			return proto(d, "chain longer than the ring");
		id = desc->id;
		if (flags & VRING_DESC_F_INDIRECT) {
			const struct vring_packed_desc *tab = phys_to_virt(desc->addr);
			unsigned n = desc->len / sizeof(*tab);

			if (!d->indirect)
				return proto(d, "indirect descriptor without INDIRECT_DESC");
			if (count != 1 || (flags & VRING_DESC_F_NEXT))
				return proto(d,
					     "indirect descriptor not alone in its chain (2.8.7)");
			if (desc->len == 0 || desc->len % sizeof(*tab))
				return proto(d, "indirect table length %u", desc->len);
			if (desc->addr % VRING_DESC_ALIGN)
				return proto(d, "indirect table at %#llx misaligned",
					     (unsigned long long)desc->addr);
			r->indirect = true;
			for (unsigned k = 0; k < n; k++) {
				if (tab[k].flags & VRING_DESC_F_INDIRECT)
					return proto(d, "nested indirect descriptor (2.8.7)");
				if (pk_add_seg(d, r, &tab[k]))
					return -EPROTO;
			}
		} else if (pk_add_seg(d, r, desc)) {
			return -EPROTO;
		}
		pk_advance(d, &d->avail_pos, &d->avail_wrap, &d->avail_laps);
		if (!(flags & VRING_DESC_F_NEXT) || (flags & VRING_DESC_F_INDIRECT))
			break;
	}
	/* 2.8.6: the buffer id is the last descriptor's. */
	if (id >= num)
		return proto(d, "buffer id %u >= ring size %u", id, num);
	if (id < SIM_MAX_NUM)
		d->ndescs[id] = count;
	r->head = id;
	d->last_avail++;
	return 0;
}

static void packed_push(struct sim_dev *d, uint32_t id, uint32_t len)
{
	struct vring_packed_desc *e = &d->pvr.desc[d->used_pos];
	uint16_t flags = d->used_wrap ? VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED : 0;
	unsigned n = id < SIM_MAX_NUM && d->ndescs[id] ? d->ndescs[id] : 1;

	__atomic_store_n(&e->id, (uint16_t)id, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
	/* The id and len (and the data in the buffers) before the flags
	 * that hand the slot back (2.8.21). */
	__atomic_store_n(&e->flags, flags, __ATOMIC_RELEASE);
	/* Then skip the rest of the buffer's slots (2.8.5). */
	for (unsigned k = 0; k < n; k++)
		pk_advance(d, &d->used_pos, &d->used_wrap, &d->used_laps);
	d->used_idx = (uint16_t)(d->used_idx + n);
}

/* The driver's off_wrap in the device's free-running slot count: an offset
 * of the device's current lap, or of the one before. */
static uint16_t pk_event_fr(const struct sim_dev *d, uint16_t ow, uint16_t pos_fr, uint16_t pos,
			    bool wrap)
{
	uint16_t off = ow & 0x7fff, lap_start = (uint16_t)(pos_fr - pos);

	if ((bool)(ow >> 15) != wrap)
		return (uint16_t)(lap_start - d->pvr.num + off);
	return (uint16_t)(lap_start + off);
}

static bool packed_need_interrupt(struct sim_dev *d)
{
	uint16_t old = d->signalled, new_idx = d->used_idx, flags, ow;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	d->signalled = new_idx;
	if (old == new_idx)
		return false;
	flags = __atomic_load_n(&d->pvr.driver->flags, __ATOMIC_RELAXED);
	if (flags == VRING_PACKED_EVENT_FLAG_DISABLE)
		return false;
	if (flags != VRING_PACKED_EVENT_FLAG_DESC || !d->event)
		return true;
	ow = __atomic_load_n(&d->pvr.driver->off_wrap, __ATOMIC_RELAXED);
	return vring_need_event(pk_event_fr(d, ow, new_idx, d->used_pos, d->used_wrap), new_idx,
				old);
}

static bool packed_want_kicks(struct sim_dev *d, bool want)
{
	struct vring_packed_desc_event *ev = d->pvr.device;

	if (want && d->event)
		__atomic_store_n(&ev->off_wrap,
				 (uint16_t)(d->avail_pos | (unsigned)d->avail_wrap << 15),
				 __ATOMIC_RELAXED);
	__atomic_store_n(&ev->flags,
			 (uint16_t)(!want      ? VRING_PACKED_EVENT_FLAG_DISABLE
				    : d->event ? VRING_PACKED_EVENT_FLAG_DESC
					       : VRING_PACKED_EVENT_FLAG_ENABLE),
			 __ATOMIC_RELEASE);
	if (!want)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return packed_has_avail(d);
}

/* ---- Either layout ---------------------------------------------------------- */

bool sim_has_avail(struct sim_dev *d)
{
	return d->packed ? packed_has_avail(d) : split_has_avail(d);
}

int sim_pop(struct sim_dev *d, struct sim_req *r)
{
	return d->packed ? packed_pop(d, r) : split_pop(d, r);
}

void sim_push(struct sim_dev *d, uint32_t id, uint32_t len)
{
	if (d->packed)
		packed_push(d, id, len);
	else
		split_push(d, id, len);
}

bool sim_need_interrupt(struct sim_dev *d)
{
	return d->packed ? packed_need_interrupt(d) : split_need_interrupt(d);
}

bool sim_want_kicks(struct sim_dev *d, bool want)
{
	return d->packed ? packed_want_kicks(d, want) : split_want_kicks(d, want);
}

bool sim_driver_irq_off(const struct sim_dev *d)
{
	if (d->packed)
		return d->pvr.driver->flags == VRING_PACKED_EVENT_FLAG_DISABLE;
	return d->vr.avail->flags & VRING_AVAIL_F_NO_INTERRUPT;
}

unsigned sim_driver_event(const struct sim_dev *d)
{
	if (d->packed)
		return d->pvr.driver->off_wrap & 0x7fffu;
	return *vring_used_event(&d->vr);
}

void sim_scribble(struct sim_dev *d)
{
	if (!d->packed) {
		memset(d->vr.desc, 0xff, vring_desc_size(d->vr.num));
		return;
	}
	for (unsigned i = 0; i < d->pvr.num; i++) {
		d->pvr.desc[i].addr = ~0ull;
		d->pvr.desc[i].len = ~0u;
		d->pvr.desc[i].id = 0xffff;
	}
}
