/*
 * Shared scaffolding for the virtqueue host tests: a bare virtio_device
 * with chosen ring features, a split ring on it (virtio 1.2 section 2.7)
 * whose doorbell and callback just count, and the simulated device side.
 */
#ifndef TEST_HOST_VQ_FIXTURE_H
#define TEST_HOST_VQ_FIXTURE_H

#include <string.h>

#include "shim/dma_host.h"
#include "virtio/ring_split.h"
#include "virtio/virtio.h"
#include "vring_sim.h"

#define F_EVENT	   VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX)
#define F_INDIRECT VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC)

struct fixture {
	struct virtio_device vdev;
	struct virtqueue *vq;
	struct sim_dev dev;
	unsigned notifies;  /* doorbell rings the device saw */
	unsigned callbacks; /* vq callbacks run */
	bool notify_fails;  /* the transport's doorbell reports the device gone */
	long dma_before;
};

static struct fixture *fx_current;

static bool fx_notify(struct virtqueue *vq)
{
	fx_current->notifies++;
	return !fx_current->notify_fails;
}

static void fx_callback(struct virtqueue *vq)
{
	fx_current->callbacks++;
}

static inline bool fx_init(struct fixture *f, unsigned num, uint64_t features)
{
	memset(f, 0, sizeof(*f));
	fx_current = f;
	f->dma_before = dma_host_outstanding;
	f->vdev.features = features;
	f->vq = vring_create_virtqueue_split(0, num, 0, &f->vdev, fx_notify, fx_callback, "test");
	if (!f->vq)
		return false;
	f->vdev.vqs = f->vq;
	sim_init(&f->dev, f->vq);
	return true;
}

/* Detaches what is left, frees the ring; returns how many tokens were
 * still outstanding. */
static inline unsigned fx_fini(struct fixture *f)
{
	unsigned n = 0;

	while (virtqueue_detach_unused_buf(f->vq))
		n++;
	vring_del_virtqueue(f->vq);
	f->vq = NULL;
	return n;
}

static inline const char *fx_name(uint64_t features)
{
	switch (features & (F_EVENT | F_INDIRECT)) {
	case 0:
		return "flags, direct";
	case F_EVENT:
		return "event idx, direct";
	case F_INDIRECT:
		return "flags, indirect";
	default:
		return "event idx, indirect";
	}
}

#endif
