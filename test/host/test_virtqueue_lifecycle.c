/*
 * Host tests of a virtqueue's life outside the data path (virtio/virtqueue.c
 * with virtio/ring/ring_split.c and virtio/ring/ring_packed.c), against the
 * simulated device of vring_sim.c: where the parts of each ring live and
 * which sizes are accepted (virtio 1.2 sections 2.7 and 2.8, legacy layout
 * 2.7.2), resizing a ring through a per-queue reset (2.6.1, VIRTIO_F_RING_RESET)
 * with its refusals and out-of-memory path, and breaking and unbreaking a
 * queue or a whole device, as a failed doorbell does.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "vq_fixture.h"

static void test_break(uint64_t layout)
{
	const char *L = layout ? "packed" : "split";
	struct fixture f;
	struct sim_req r;
	struct scatterlist sg;
	char b[4];
	int tok, tok2;
	unsigned len;

	fx_init(&f, 4, layout);
	sg_init_one(&sg, b, 4);
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok);
	sim_pop(&f.dev, &r);
	sim_push(&f.dev, r.head, 0);
	virtqueue_break(f.vq);
	CHECK(virtqueue_is_broken(f.vq), "[%s] break: is_broken", L);
	CHECK(virtqueue_add_outbuf(f.vq, &sg, 1, &tok2) == -EIO, "[%s] broken: add fails with -EIO",
	      L);
	CHECK(virtqueue_get_buf(f.vq, &len) == NULL, "[%s] broken: get_buf returns nothing", L);
	CHECK(!virtqueue_notify(f.vq) && f.notifies == 0, "[%s] broken: notify does not ring", L);
	CHECK(vring_interrupt(f.vq) && f.callbacks == 0,
	      "[%s] broken: interrupt is ours but no callback runs", L);
	virtqueue_unbreak(f.vq);
	CHECK(!virtqueue_is_broken(f.vq) && virtqueue_get_buf(f.vq, &len) == &tok,
	      "[%s] unbreak: the used buffer comes back", L);

	virtio_break_device(&f.vdev);
	CHECK(virtqueue_is_broken(f.vq), "[%s] virtio_break_device breaks the device's queues", L);
	__virtio_unbreak_device(&f.vdev);
	CHECK(!virtqueue_is_broken(f.vq), "[%s] __virtio_unbreak_device unbreaks them", L);

	f.notify_fails = true;
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok2);
	CHECK(!virtqueue_kick(f.vq) && virtqueue_is_broken(f.vq),
	      "[%s] a doorbell that fails breaks the queue", L);
	fx_fini(&f);
}

/* A transport that can reset one queue (2.6.1), for resize. */
static int resets, enables;

static int fake_disable_vq_and_reset(struct virtqueue *vq)
{
	resets++;
	return 0;
}

static int fake_enable_vq_after_reset(struct virtqueue *vq)
{
	enables++;
	return 0;
}

static const struct virtio_config_ops reset_ops = {
	.disable_vq_and_reset = fake_disable_vq_and_reset,
	.enable_vq_after_reset = fake_enable_vq_after_reset,
};

static unsigned recycled;

static void recycle(struct virtqueue *vq, void *buf)
{
	recycled++;
}

static void test_resize(uint64_t layout)
{
	const char *L = layout ? "packed" : "split";
	const struct virtqueue_ops *ops;
	/* 2.7 wants a power of two; 2.8 takes any size but 0. */
	unsigned bad = layout ? 0 : 6;
	struct fixture f;
	struct sim_req r;
	struct scatterlist sg;
	char b[4];
	int tok[8];
	unsigned len;
	struct virtqueue_ops no_resize_ops;

	resets = enables = 0;
	recycled = 0;
	fx_init(&f, 8, layout);
	ops = f.vq->ops;
	sg_init_one(&sg, b, 4);
	for (int i = 0; i < 3; i++)
		virtqueue_add_outbuf(f.vq, &sg, 1, &tok[i]);
	CHECK(virtqueue_resize(f.vq, 4, recycle) == -EOPNOTSUPP,
	      "[%s] resize without queue reset: -EOPNOTSUPP", L);
	sim_pop(&f.dev, &r);
	sim_push(&f.dev, r.head, 0);
	CHECK(virtqueue_get_buf(f.vq, &len) == &tok[0] && virtqueue_get_vring_size(f.vq) == 8,
	      "[%s] and the old ring keeps working", L);

	no_resize_ops = *f.vq->ops;
	no_resize_ops.resize = NULL;
	f.vq->ops = &no_resize_ops;
	CHECK(virtqueue_resize(f.vq, 4, recycle) == -ENOENT, "[%s] ring without resize: -ENOENT",
	      L);
	f.vq->ops = ops;
	fx_fini(&f);

	/* A transport that can reset one queue is not enough: the feature
	 * must have been negotiated too (2.6.1). */
	fx_init_cfg(&f, 8, layout, &reset_ops);
	CHECK(virtqueue_resize(f.vq, 4, recycle) == -EOPNOTSUPP && resets == 0,
	      "[%s] queue reset without VIRTIO_F_RING_RESET: -EOPNOTSUPP, device untouched", L);
	fx_fini(&f);

	/* Both, as the ring is created (features are final before queues
	 * are set up, 3.1.1); again two of three buffers outstanding. */
	fx_init_cfg(&f, 8, layout | VIRTIO_BIT(VIRTIO_F_RING_RESET), &reset_ops);
	for (int i = 0; i < 3; i++)
		virtqueue_add_outbuf(f.vq, &sg, 1, &tok[i]);
	sim_pop(&f.dev, &r);
	sim_push(&f.dev, r.head, 0);
	CHECK(virtqueue_get_buf(f.vq, &len) == &tok[0], "[%s] resizable ring works", L);
	CHECK(virtqueue_resize(f.vq, bad, recycle) == -EINVAL, "[%s] size %u: -EINVAL", L, bad);
	CHECK(virtqueue_resize(f.vq, 16, recycle) == -EINVAL, "[%s] beyond num_max: -EINVAL", L);
	dma_host_fail_after = 1;
	CHECK(virtqueue_resize(f.vq, 4, recycle) == -ENOMEM && resets == 0 &&
		      virtqueue_get_vring_size(f.vq) == 8,
	      "[%s] no memory: -ENOMEM, device untouched, old ring kept", L);
	CHECK(virtqueue_resize(f.vq, 4, recycle) == 0 && resets == 1 && enables == 1,
	      "[%s] resize to 4 resets and re-enables the queue", L);
	CHECK(recycled == 2 && virtqueue_get_vring_size(f.vq) == 4 && f.vq->num_free == 4,
	      "[%s] the two outstanding buffers were recycled; 4 free descriptors", L);
	sim_init(&f.dev, f.vq);
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok[5]);
	sim_pop(&f.dev, &r);
	sim_push(&f.dev, r.head, 0);
	CHECK(virtqueue_get_buf(f.vq, &len) == &tok[5], "[%s] the new ring works", L);
	CHECK(fx_fini(&f) == 0 && dma_host_outstanding == f.dma_before, "[%s] old ring freed", L);
}

/* Where the three parts live (2.7: alignment 16 / 2 / 4; legacy wants
 * the used ring on the transport's boundary, the block page aligned). */
static struct virtqueue *split_ring(unsigned index, unsigned num, unsigned align, const char *name)
{
	const struct vring_params p = {
		.index = index, .num = num, .align = align, .notify = fx_notify, .name = name};

	return vring_create_virtqueue_split(&p);
}

static void test_layout(void)
{
	struct virtqueue *vq;
	uint64_t d, a, u;

	vq = split_ring(3, 256, 0, "modern");
	d = virtqueue_get_desc_addr(vq);
	a = virtqueue_get_avail_addr(vq);
	u = virtqueue_get_used_addr(vq);
	CHECK(vq->index == 3 && d % 16 == 0 && a == d + 16 * 256 && u % 4 == 0 &&
		      u >= a + vring_avail_size(256),
	      "modern layout: desc 16-aligned, avail after it, used 4-aligned after avail");
	vring_del_virtqueue(vq);
	vq = split_ring(0, 64, 4096, "legacy");
	d = virtqueue_get_desc_addr(vq);
	u = virtqueue_get_used_addr(vq);
	CHECK(d % 4096 == 0 && u % 4096 == 0 && u - d == 4096,
	      "legacy layout: one page-aligned block, used ring on the next page");
	vring_del_virtqueue(vq);
	CHECK(split_ring(0, 48, 0, "bad") == NULL && split_ring(0, 65536, 0, "bad") == NULL,
	      "sizes that are not a power of two up to 32768 are refused");
}

/* The packed layout (2.8): descriptor ring 16-aligned, driver and device
 * event suppression areas 4-aligned after it; any size from 1 to 32768. */
static void test_layout_packed(void)
{
	struct virtio_device vdev = {.features = F_PACKED};
	struct virtqueue *vq;
	uint64_t d, drv, dev;

	vq = vring_create_virtqueue(2, 100, 0, &vdev, fx_notify, NULL, "packed");
	CHECK(vq && !strcmp(virtqueue_layout(vq), "packed") && virtqueue_get_vring_size(vq) == 100,
	      "packed: a ring of 100 (no power of two) through the core's constructor");
	d = virtqueue_get_desc_addr(vq);
	drv = virtqueue_get_avail_addr(vq);
	dev = virtqueue_get_used_addr(vq);
	CHECK(d % 16 == 0 && drv == d + 16 * 100 && drv % 4 == 0 && dev == drv + 4,
	      "packed layout: desc ring 16-aligned, driver then device event areas 4-aligned");
	vring_del_virtqueue(vq);
	CHECK(vring_create_virtqueue(0, 0, 0, &vdev, fx_notify, NULL, "bad") == NULL &&
		      vring_create_virtqueue(0, 32769, 0, &vdev, fx_notify, NULL, "bad") == NULL,
	      "packed sizes 0 and 32769 are refused");
	vq = vring_create_virtqueue(0, 32768, 0, &vdev, fx_notify, NULL, "max");
	CHECK(vq && virtqueue_get_vring_size(vq) == 32768, "packed size 32768 is accepted");
	if (vq)
		vring_del_virtqueue(vq);
	CHECK(vring_queue_size(&vdev, 1000, 256) == 256 && vring_queue_size(&vdev, 100, 256) == 100,
	      "packed queue size: the device maximum as it is, capped");
	vdev.features = 0;
	CHECK(vring_queue_size(&vdev, 100, 256) == 64 && vring_queue_size(&vdev, 1000, 256) == 256,
	      "split queue size: a power of two");
}

int main(void)
{
	for (uint64_t layout = 0; layout <= F_PACKED; layout += F_PACKED) {
		test_break(layout);
		test_resize(layout);
	}
	test_layout();
	test_layout_packed();
	return tap_done();
}
