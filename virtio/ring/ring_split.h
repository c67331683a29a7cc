/*
 * The split virtqueue (virtio 1.2 section 2.7) as a struct virtqueue: the
 * constructor the transports use (virtqueue_transport.h has the layout-neutral one and
 * the address accessors), and the ring functions
 * themselves, exported so the ring benchmark can compare calling them
 * directly with going through the ops table. Drivers use virtqueue.h.
 */
#ifndef VIRTIO_RING_RING_SPLIT_H
#define VIRTIO_RING_RING_SPLIT_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/ring/ring_format.h"
#include "virtio/virtqueue.h"
#include "virtio/virtqueue_transport.h"

struct virtio_device;

extern const struct virtqueue_ops vring_split_ops;

/*
 * Creates queue `index` of `vdev` with a ring of `num` entries (a power of
 * two, at most 32768) in one zeroed, contiguous DMA block: descriptor table,
 * available ring, then the used ring on an `align` boundary (legacy
 * transports need 4096 and the whole block page aligned; modern ones may
 * pass 0). The ring uses indirect descriptors and event indices if `vdev`
 * negotiated them (vdev->features must be final). `notify` is the
 * transport's doorbell for this queue; it returns false if the device is
 * gone. `callback` may be NULL. `name` must outlive the queue. Returns
 * NULL (and logs why) on a bad size or no memory. The caller links the
 * queue into vdev->vqs and tells the device the three addresses.
 */
struct virtqueue *vring_create_virtqueue_split(unsigned index, unsigned num, unsigned align,
					       struct virtio_device *vdev,
					       bool (*notify)(struct virtqueue *vq),
					       vq_callback_t *callback, const char *name);
/* vring_del_virtqueue() and the area addresses: see virtqueue_transport.h. */

/* The ring itself, for tests and simulated devices. */
const struct vring *virtqueue_get_vring(const struct virtqueue *vq);

/* The split-ring operations behind vring_split_ops. */
int vring_split_add_sgs(struct virtqueue *vq, struct scatterlist *sgs[], unsigned out_sgs,
			unsigned in_sgs, void *data, void *ctx);
bool vring_split_kick_prepare(struct virtqueue *vq);
bool vring_split_notify(struct virtqueue *vq);
void *vring_split_get_buf_ctx(struct virtqueue *vq, unsigned *len, void **ctx);

#endif
