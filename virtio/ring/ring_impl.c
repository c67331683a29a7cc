/*
 * The driver-side bookkeeping the split ring (virtio 1.2 section 2.7) and
 * the packed ring (2.8) share, on their rare paths: creating, resizing
 * (through a queue reset, 2.6.1) and freeing a ring, handing back the
 * buffers a reset queue will never complete, breaking a queue, and the
 * messages about a device that returned an impossible id or length.
 *
 * INTERNAL to the two ring layouts; see ring_impl.h for what it holds
 * and why. The layout-specific steps are the hooks of struct vring_layout.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/lib/log.h"
#include "kernel/mm/dma.h"
#include "virtio/ring/ring_impl.h"

void vring_break_op(struct virtqueue *vq)
{
	vring_break(to_common(vq));
}

void vring_unbreak_op(struct virtqueue *vq)
{
	__atomic_store_n(&to_common(vq)->broken, false, __ATOMIC_RELAXED);
}

bool vring_is_broken_op(const struct virtqueue *vq)
{
	return vring_is_broken(to_common(vq));
}

void vring_bad_used_id(struct vring_common *c, uint32_t id, const char *at, unsigned pos)
{
	if (id >= c->num)
		pr_err("virtqueue %s: used id %u out of range, expected below %u\n", c->vq.name, id,
		       c->num);
	else
		pr_err("virtqueue %s: used id %u at %s %u is not a buffer in flight (repeated or "
		       "never made available; %u in flight)\n",
		       c->vq.name, id, at, pos, c->in_flight);
	vring_break(c);
}

uint32_t vring_clamp_len(struct vring_common *c, uint32_t id, uint32_t ulen,
			 const struct vring_buf_state *st)
{
	/* Once per queue: a device that does it once does it for every
	 * buffer, and the counter keeps the tally. */
	if (!c->warned_len)
		pr_warn("virtqueue %s: used len %u for id %u exceeds the %u writable bytes "
			"posted; clamped\n",
			c->vq.name, ulen, id, st->in_len);
	c->warned_len = true;
	c->vq.stats.len_clamped++;
	c->vq.len_clamped = true;
	return st->in_len;
}

/* The two DMA blocks of a ring: the areas the device sees, and the
 * driver's private state (from the same allocator, so the rings depend on
 * nothing but kernel/mm/dma.h; the device never sees it). */
struct ring_mem {
	void *mem;
	size_t mem_size;
	struct vring_buf_state *state;
	size_t state_size;
};

static int ring_mem_alloc(const struct vring_common *c, const struct vring_layout *l,
			  struct ring_mem *rm, unsigned num)
{
	size_t align;

	rm->mem_size = l->area_size(c, num, &align);
	rm->mem = dma_alloc(rm->mem_size, align);
	rm->state_size = num * (sizeof(struct vring_buf_state) + l->extra_size);
	rm->state = dma_alloc(rm->state_size, 16);
	if (!rm->mem || !rm->state) {
		if (rm->mem)
			dma_free(rm->mem, rm->mem_size);
		if (rm->state)
			dma_free(rm->state, rm->state_size);
		return -ENOMEM;
	}
	return 0;
}

static void ring_mem_free(void *mem, size_t mem_size, void *state, size_t state_size)
{
	dma_free(mem, mem_size);
	dma_free(state, state_size);
}

/* Installs zeroed ring memory: no buffer in flight, every descriptor free;
 * the layout sets its positions as a (queue) reset leaves the device. */
static void ring_install(struct vring_common *c, const struct ring_mem *rm, unsigned num)
{
	c->mem = rm->mem;
	c->mem_size = rm->mem_size;
	c->state = rm->state;
	c->state_size = rm->state_size;
	c->num = num;
	c->in_flight = 0;
	c->vq.num_free = num;
	c->layout->install(c);
	/* Without a callback there is nobody to interrupt. */
	if (!c->vq.callback)
		c->vq.ops->disable_cb(&c->vq);
}

int vring_common_init(struct vring_common *c, const struct vring_layout *layout,
		      const struct virtqueue_ops *ops, const struct vring_params *p)
{
	struct ring_mem rm;

	if (ring_mem_alloc(c, layout, &rm, p->num)) {
		pr_err("virtqueue %s: no memory for a %s ring of %u\n", p->name ? p->name : "?",
		       ops->layout, p->num);
		return -ENOMEM;
	}
	c->layout = layout;
	c->vq.ops = ops;
	c->vq.callback = p->callback;
	c->vq.name = p->name;
	c->vq.vdev = p->vdev;
	c->vq.index = p->index;
	c->vq.num_max = p->num;
	c->notify = p->notify;
	c->reset = p->reset;
	c->enable = p->enable;
	c->indirect = p->indirect;
	c->event = p->event_idx;
	ring_install(c, &rm, p->num);
	return 0;
}

void vring_common_del(struct virtqueue *vq)
{
	struct vring_common *c = to_common(vq);

	for (unsigned i = 0; i < c->num; i++)
		vring_free_indirect(c, &c->state[i]);
	while (c->indir_spare) {
		void *t = c->indir_spare;

		c->indir_spare = *(void **)t;
		dma_free(t, vring_indir_bytes(c, VRING_INDIR_SMALL));
	}
	c->indir_spares = 0;
	ring_mem_free(c->mem, c->mem_size, c->state, c->state_size);
	dma_free(c, c->layout->obj_size);
}

/* Only our own state says what is outstanding: after a reset the device's
 * memory means nothing. */
void *vring_detach_unused_buf(struct virtqueue *vq)
{
	struct vring_common *c = to_common(vq);

	for (unsigned i = 0; i < c->num; i++) {
		void *data = c->state[i].data;

		if (data) {
			c->layout->detach(c, (uint16_t)i);
			return data;
		}
	}
	return NULL;
}

unsigned vring_get_vring_size(const struct virtqueue *vq)
{
	return to_common(vq)->num;
}

int vring_resize(struct virtqueue *vq, unsigned num,
		 void (*recycle)(struct virtqueue *vq, void *buf))
{
	struct vring_common *c = to_common(vq);
	struct ring_mem rm;
	void *buf;
	int err;

	if (!c->layout->size_ok(num) || num > vq->num_max)
		return -EINVAL;
	/* The device keeps using the old ring unless this one queue can be
	 * stopped and pointed elsewhere (2.6.1). */
	if (!c->reset || !c->enable)
		return -EOPNOTSUPP;
	if (num == c->num)
		return 0;
	if (ring_mem_alloc(c, c->layout, &rm, num))
		return -ENOMEM;
	err = c->reset(vq);
	if (err) {
		ring_mem_free(rm.mem, rm.mem_size, rm.state, rm.state_size);
		return err;
	}
	/* The reset queue will never complete what it held. */
	while ((buf = vring_detach_unused_buf(vq)))
		if (recycle)
			recycle(vq, buf);
	ring_mem_free(c->mem, c->mem_size, c->state, c->state_size);
	ring_install(c, &rm, num);
	__atomic_store_n(&c->broken, false, __ATOMIC_RELAXED);
	err = c->enable(vq);
	if (err) {
		pr_err("virtqueue %s: re-enabling after resize to %u failed (%d)\n", vq->name, num,
		       err);
		vring_break(c);
	}
	return err;
}
