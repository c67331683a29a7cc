/*
 * Random bytes from the host: the kernel interface of the virtio entropy
 * device driver (drivers/virtio_rng.c, virtio 1.2 section 5.4).
 */
#ifndef DRIVERS_VIRTIO_RNG_H
#define DRIVERS_VIRTIO_RNG_H

#include <stddef.h>

struct virtio_device;
struct virtqueue;

/* Fills buf with len random bytes from the first rng device, sleeping
 * (sti; hlt) until the device delivers them. Thread context. Returns len,
 * -ENODEV without a device, -EIO / -ETIMEDOUT when the device misbehaves. */
int rng_read(void *buf, size_t len);

/* The same from rng device number `dev` (0 .. rng_count() - 1). */
int rng_read_dev(unsigned dev, void *buf, size_t len);
unsigned rng_count(void);
/* For the self-test: device `dev`'s virtio device and request queue. */
struct virtio_device *rng_vdev(unsigned dev);
struct virtqueue *rng_vq(unsigned dev);

#endif
