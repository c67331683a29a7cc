/*
 * The split virtqueue (virtio 1.2 section 2.7) as a struct virtqueue: its
 * constructor, for virtio/virtqueue_transport.c (which picks the layout a
 * device negotiated) and the host tests, and the ring functions themselves,
 * exported so the ring benchmark can compare calling them directly with
 * going through the ops table. Drivers use virtio/virtqueue.h.
 */
#ifndef VIRTIO_RING_RING_SPLIT_H
#define VIRTIO_RING_RING_SPLIT_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/ring/ring_format.h"
#include "virtio/ring/ring_params.h"
#include "virtio/virtqueue.h"

extern const struct virtqueue_ops vring_split_ops;

/*
 * Creates queue p->index with a ring of p->num entries (a power of two, at
 * most 32768) in one zeroed, contiguous DMA block: descriptor table,
 * available ring, then the used ring on a p->align boundary (legacy
 * transports need 4096 and the whole block page aligned; modern ones pass
 * 0). Returns NULL (and logs why) on a bad size or no memory. The caller
 * links the queue into vdev->vqs and tells the device the three addresses.
 */
struct virtqueue *vring_create_virtqueue_split(const struct vring_params *p);

/* The ring itself, for tests and simulated devices. */
const struct vring *virtqueue_get_vring(const struct virtqueue *vq);

/* The split-ring operations behind vring_split_ops. */
int vring_split_add_sgs(struct virtqueue *vq, struct scatterlist *sgs[], unsigned out_sgs,
			unsigned in_sgs, void *data, void *ctx);
bool vring_split_kick_prepare(struct virtqueue *vq);
bool vring_split_notify(struct virtqueue *vq);
void *vring_split_get_buf_ctx(struct virtqueue *vq, unsigned *len, void **ctx);

#endif
