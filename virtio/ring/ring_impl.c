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

#include "kernel/mm/dma.h"
#include "kernel/lib/log.h"
#include "virtio/ring/ring_impl.h"
#include "virtio/virtio.h"

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
		      const struct virtqueue_ops *ops, unsigned index, unsigned num,
		      struct virtio_device *vdev, bool (*notify)(struct virtqueue *vq),
		      vq_callback_t *callback, const char *name)
{
	struct ring_mem rm;

	if (ring_mem_alloc(c, layout, &rm, num)) {
		pr_err("virtqueue %s: no memory for a %s ring of %u\n", name ? name : "?",
		       ops->layout, num);
		return -ENOMEM;
	}
	c->layout = layout;
	c->vq.ops = ops;
	c->vq.callback = callback;
	c->vq.name = name;
	c->vq.vdev = vdev;
	c->vq.index = index;
	c->vq.num_max = num;
	c->notify = notify;
	c->indirect = vdev && virtio_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC);
	c->event = vdev && virtio_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX);
	ring_install(c, &rm, num);
	return 0;
}

void vring_common_del(struct virtqueue *vq)
{
	struct vring_common *c = to_common(vq);

	for (unsigned i = 0; i < c->num; i++)
		vring_free_indirect(c, &c->state[i]);
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
	struct virtio_device *vdev = vq->vdev;
	const struct virtio_config_ops *cfg = vdev ? vdev->config : NULL;
	struct ring_mem rm;
	void *buf;
	int err;

	if (!c->layout->size_ok(num) || num > vq->num_max)
		return -EINVAL;
	/* The device keeps using the old ring unless this one queue can be
	 * stopped and pointed elsewhere (2.6.1). */
	if (!cfg || !cfg->disable_vq_and_reset || !cfg->enable_vq_after_reset ||
	    !virtio_has_feature(vdev, VIRTIO_F_RING_RESET))
		return -EOPNOTSUPP;
	if (num == c->num)
		return 0;
	if (ring_mem_alloc(c, c->layout, &rm, num))
		return -ENOMEM;
	err = cfg->disable_vq_and_reset(vq);
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
	err = cfg->enable_vq_after_reset(vq);
	if (err) {
		pr_err("virtqueue %s: re-enabling after resize to %u failed (%d)\n", vq->name, num,
		       err);
		vring_break(c);
	}
	return err;
}
