/*
 * Ring sizes of a virtio-net device (drivers/virtio_net_ring.c), like
 * Linux's `ethtool -g` / `-G`: resized through a queue reset (virtio 1.2
 * section 2.6.1).
 */
#ifndef DRIVERS_VIRTIO_NET_RING_H
#define DRIVERS_VIRTIO_NET_RING_H

#include "kernel/netdev/netdev.h"

/* The netdev_ops get_ring / set_ring. Thread context. */
void vnet_get_ring(struct netdev *nd, struct netdev_ring *r);
int vnet_set_ring(struct netdev *nd, unsigned rx, unsigned tx);

#endif
