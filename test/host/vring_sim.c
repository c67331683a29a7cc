/*
 * The device half of a split virtqueue (virtio 1.2 section 2.7), simulated
 * for tests. See vring_sim.h. The checks are the device's requirements on
 * the driver (2.7.4.1, 2.7.5.1, 2.7.5.3.1): a simulated device that fails
 * them means the ring under test broke the contract.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernel/dma.h"
#include "virtio/ring_split.h"
#include "virtio/virtio.h"
#include "vring_sim.h"

void sim_init(struct sim_dev *d, struct virtqueue *vq)
{
	memset(d, 0, sizeof(*d));
	d->vr = *virtqueue_get_vring(vq);
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

bool sim_has_avail(struct sim_dev *d)
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

int sim_pop(struct sim_dev *d, struct sim_req *r)
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

void sim_push(struct sim_dev *d, uint32_t id, uint32_t len)
{
	struct vring_used_elem *e = &d->vr.used->ring[d->used_idx & (d->vr.num - 1)];

	__atomic_store_n(&e->id, id, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
	d->used_idx++;
	/* The entry, and the data in the buffers, before the index. */
	__atomic_store_n(&d->vr.used->idx, d->used_idx, __ATOMIC_RELEASE);
}

bool sim_need_interrupt(struct sim_dev *d)
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

bool sim_want_kicks(struct sim_dev *d, bool want)
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
	return sim_has_avail(d);
}
