/*
 * What creating a ring takes, whatever its layout (split, virtio 1.2
 * section 2.7; packed, 2.8): for the two constructors (ring_split.h,
 * ring_packed.h) and whoever calls them (virtio/virtqueue_transport.c, which
 * fills this from a device's negotiated features and its transport; the
 * host tests). A ring learns everything it needs here, so it never looks
 * at a virtio device or a transport.
 */
#ifndef VIRTIO_RING_RING_PARAMS_H
#define VIRTIO_RING_RING_PARAMS_H

#include <stdbool.h>

#include "virtio/virtqueue.h"

struct vring_params {
	unsigned index; /* queue number on the device */
	unsigned num;	/* entries (descriptors) */
	/* Split ring only: the used-ring boundary a legacy transport wants
	 * (4096), 0 for the spec's minimum. */
	unsigned align;
	bool indirect;	/* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool event_idx; /* VIRTIO_RING_F_EVENT_IDX negotiated */
	/* Kept in vq->vdev for the driver and the transport; the ring never
	 * looks inside. May be NULL (tests). */
	struct virtio_device *vdev;
	const char *name;	 /* must outlive the queue */
	vq_callback_t *callback; /* NULL: the driver polls this queue */
	/* The transport's doorbell; false if the device is gone. */
	bool (*notify)(struct virtqueue *vq);
	/* The transport's single-queue reset (VIRTIO_F_RING_RESET, 2.6.1),
	 * which virtqueue_resize() needs: stop and reset the queue / program
	 * its new ring and enable it. Both NULL when the device cannot. */
	int (*reset)(struct virtqueue *vq);
	int (*enable)(struct virtqueue *vq);
};

#endif
