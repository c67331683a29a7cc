/*
 * Shared scaffolding for the virtqueue host tests: a bare virtio_device
 * with chosen ring features, a ring on it whose doorbell and callback just
 * count, and the simulated device side. The layout follows the features,
 * as in the kernel: split (virtio 1.2 section 2.7), or packed (2.8) when
 * they include VIRTIO_F_RING_PACKED, so one suite runs over both rings.
 */
#ifndef TEST_HOST_VQ_FIXTURE_H
#define TEST_HOST_VQ_FIXTURE_H

#include <string.h>

#include "shim/dma_host.h"
#include "virtio/ring/ring_packed.h"
#include "virtio/ring/ring_split.h"
#include "virtio/virtio.h"
#include "virtio/virtqueue_transport.h"
#include "vring_sim.h"

#define F_EVENT	   VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX)
#define F_INDIRECT VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC)
#define F_PACKED   VIRTIO_BIT(VIRTIO_F_RING_PACKED)

/* Every combination the suites run: both layouts, with and without event
 * index and indirect descriptors. */
static const uint64_t fx_all_features[] = {
	0,
	F_EVENT,
	F_INDIRECT,
	F_EVENT | F_INDIRECT,
	F_PACKED,
	F_PACKED | F_EVENT,
	F_PACKED | F_INDIRECT,
	F_PACKED | F_EVENT | F_INDIRECT,
};
#define FX_NFEATURES (sizeof(fx_all_features) / sizeof(fx_all_features[0]))

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

/* A ring of `num` for a device that negotiated `features`, on a transport
 * with `config` (may be NULL: none). */
static inline bool fx_init_cfg(struct fixture *f, unsigned num, uint64_t features,
			       const struct virtio_config_ops *config)
{
	memset(f, 0, sizeof(*f));
	fx_current = f;
	f->dma_before = dma_host_outstanding;
	f->vdev.features = features;
	f->vdev.config = config;
	f->vq = vring_create_virtqueue(0, num, 0, &f->vdev, fx_notify, fx_callback, "test");
	if (!f->vq)
		return false;
	f->vdev.vqs = f->vq;
	sim_init(&f->dev, f->vq);
	return true;
}

static inline bool fx_init(struct fixture *f, unsigned num, uint64_t features)
{
	return fx_init_cfg(f, num, features, NULL);
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
	static const char *const names[2][4] = {
		{"split, flags, direct", "split, event idx, direct", "split, flags, indirect",
		 "split, event idx, indirect"},
		{"packed, flags, direct", "packed, event idx, direct", "packed, flags, indirect",
		 "packed, event idx, indirect"},
	};

	return names[(features & F_PACKED) != 0]
		    [((features & F_EVENT) ? 1 : 0) + ((features & F_INDIRECT) ? 2 : 0)];
}

#endif
