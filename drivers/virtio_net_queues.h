/*
 * The virtio-net data path (drivers/virtio_net_queues.c): the queue
 * interrupt, receive and transmit, and the poll that runs them.
 */
#ifndef DRIVERS_VIRTIO_NET_QUEUES_H
#define DRIVERS_VIRTIO_NET_QUEUES_H

#include <stdbool.h>

#include "drivers/virtio_net_dev.h"

/* The callback of every receive and transmit queue (interrupt context):
 * masks the queue and flags the device; the poll does the work. */
void vnet_queue_irq(struct virtqueue *vq);
/* Kicks `vq` if the device asked for it. Interrupts off. */
void vnet_kick(struct virtnet *vn, struct virtqueue *vq);
/* Puts idle receive buffers back on the ring and kicks once. */
void vnet_rx_refill(struct vnet_rxq *rq);
/* A receive buffer the driver holds again (used, or handed back). */
void vnet_rx_release(struct vnet_rxq *rq, uint8_t *buf);
/* Takes back what the device sent and hands the tokens to the stack. */
void vnet_tx_reclaim(struct virtnet *vn, struct vnet_txq *tq);

/* The netdev_ops of kernel/netdev/netdev.h. Thread context. */
int vnet_xmit(struct netdev *nd, const struct netdev_seg *segs, unsigned nsegs,
	      const struct netdev_tx_info *info, void *token);
bool vnet_poll(struct netdev *nd, unsigned budget);

#endif
