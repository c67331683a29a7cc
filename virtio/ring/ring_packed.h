/*
 * The packed virtqueue (virtio 1.2 section 2.8) as a struct virtqueue: its
 * constructor, for virtio/virtqueue_transport.c (which picks the layout a
 * device negotiated) and the host tests, and the ring functions themselves,
 * exported so the ring benchmark can compare calling them directly with
 * going through the ops table. Drivers use virtio/virtqueue.h.
 */
#ifndef VIRTIO_RING_RING_PACKED_H
#define VIRTIO_RING_RING_PACKED_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/ring/ring_format.h"
#include "virtio/ring/ring_params.h"
#include "virtio/virtqueue.h"

extern const struct virtqueue_ops vring_packed_ops;

/*
 * Creates queue p->index with a packed ring of p->num descriptors (1 to
 * 32768, any number: 2.8 has no power-of-two rule) in one zeroed,
 * contiguous DMA block: the descriptor ring, then the driver and the device
 * event suppression structures (p->align does not apply). NULL (and a
 * message) on a bad size or no memory.
 */
struct virtqueue *vring_create_virtqueue_packed(const struct vring_params *p);

/* The ring itself, for tests and simulated devices. */
const struct vring_packed *virtqueue_get_vring_packed(const struct virtqueue *vq);

/* The packed-ring operations behind vring_packed_ops. */
int vring_packed_add_sgs(struct virtqueue *vq, struct scatterlist *sgs[], unsigned out_sgs,
			 unsigned in_sgs, void *data, void *ctx);
bool vring_packed_kick_prepare(struct virtqueue *vq);
bool vring_packed_notify(struct virtqueue *vq);
void *vring_packed_get_buf_ctx(struct virtqueue *vq, unsigned *len, void **ctx);

#endif
