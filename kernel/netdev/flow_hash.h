/*
 * Flow hashing: which transmit queue an outgoing Ethernet frame takes when
 * a device has several (virtio 1.2 section 5.1.6.5.5, "Automatic receive
 * steering in multiqueue mode": the device steers a flow's received packets
 * to the queue the driver last sent that flow on, so the choice made here
 * also decides where replies arrive).
 *
 * Every frame of one TCP or UDP connection must take the same queue, or the
 * peer sees them out of order; different connections should spread evenly.
 */
#ifndef KERNEL_NETDEV_FLOW_HASH_H
#define KERNEL_NETDEV_FLOW_HASH_H

#include <stdint.h>

/* A 32-bit hash of the frame's flow: IPv4 source and destination address,
 * and for unfragmented TCP and UDP the two ports too. 0 for anything that
 * is not IPv4 or is too short to tell (ARP, IPv6, runts). `len` is how many
 * bytes of the frame are readable at `frame` (its first fragment). */
uint32_t flow_hash(const void *frame, uint32_t len);

/* flow_hash() reduced to a queue number below `nqueues` (at least 1). */
unsigned flow_pick_queue(const void *frame, uint32_t len, unsigned nqueues);

#endif
