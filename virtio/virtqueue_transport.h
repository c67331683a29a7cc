/*
 * Virtqueues as transports see them (virtio 1.2 sections 2.6-2.8): a ring of
 * the layout the device and driver negotiated (split 2.7, or packed 2.8 with
 * VIRTIO_F_RING_PACKED), the three addresses a transport programs into the
 * device, whatever the layout, and the interrupt entry point:
 *
 *   split   descriptor table | available ring        | used ring
 *   packed  descriptor ring  | driver event suppr.   | device event suppr.
 *           ("descriptor area", "driver area", "device area" in 2.6)
 *
 * Transports never branch on the layout, except through the queue size rule
 * (vring_queue_size()). Implemented in virtio/virtqueue_transport.c; drivers
 * use virtio/virtqueue.h instead.
 */
#ifndef VIRTIO_VIRTQUEUE_TRANSPORT_H
#define VIRTIO_VIRTQUEUE_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtqueue.h"

struct virtio_device;

/*
 * Creates queue `index` of `vdev` with `num` entries, packed if `vdev`
 * negotiated VIRTIO_F_RING_PACKED, else split (then `align` is the legacy
 * used-ring alignment, 0 for modern transports; see ring/ring_split.h). The
 * ring uses indirect descriptors and event indices if negotiated, and can
 * be resized if VIRTIO_F_RING_RESET was and the transport can reset one
 * queue (vdev->features must be final). `notify` is the transport's
 * doorbell, returning false if the device is gone; `callback` may be NULL;
 * `name` must outlive the queue. NULL (and a message) on a bad size or no
 * memory. The caller links the queue into vdev->vqs and tells the device
 * its areas.
 */
struct virtqueue *vring_create_virtqueue(unsigned index, unsigned num, unsigned align,
					 struct virtio_device *vdev,
					 bool (*notify)(struct virtqueue *vq),
					 vq_callback_t *callback, const char *name);

/* The ring size to use for a queue whose device maximum is `max`, capped at
 * `cap` by the transport: a split ring needs a power of two (2.7), a packed
 * one does not (2.8) and takes the maximum as it is. 0 if `max` is 0. */
unsigned vring_queue_size(const struct virtio_device *vdev, unsigned max, unsigned cap);

/* Frees the ring. The device must no longer use it (reset first) and the
 * driver must have detached its buffers. */
void vring_del_virtqueue(struct virtqueue *vq);

/* Guest-physical addresses of the descriptor area, the driver area and the
 * device area (the split ring's avail and used rings, hence the names). */
uint64_t virtqueue_get_desc_addr(const struct virtqueue *vq);
uint64_t virtqueue_get_avail_addr(const struct virtqueue *vq);
uint64_t virtqueue_get_used_addr(const struct virtqueue *vq);

/*
 * Transport interrupt handlers call this for a queue that may have used
 * buffers. Returns true if it did (so shared INTx handlers can tell whether
 * the interrupt was theirs), after running the vq callback. Interrupt
 * context.
 */
bool vring_interrupt(struct virtqueue *vq);

#endif
