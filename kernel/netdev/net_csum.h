/*
 * Transmit checksum offload, the frame side (virtio 1.2 section 5.1.6.2,
 * VIRTIO_NET_F_CSUM; RFC 793 3.1 and RFC 768 for the TCP and UDP checksums
 * over IPv4, RFC 1071 for the arithmetic).
 *
 * A device that finishes checksums is handed the frame with the transport
 * checksum field holding the sum of the IPv4 pseudo-header (addresses,
 * protocol, transport length), folded to 16 bits and not inverted, plus
 * where the checksummed range starts (csum_start, the TCP or UDP header)
 * and where the result goes relative to it (csum_offset: 16 for TCP, 6 for
 * UDP). The device sums from csum_start to the end of the frame and stores
 * the complement there: the pseudo-header enters through the field.
 *
 * Pure (no allocation, no stack, no device), so the host tests can feed it
 * frames cut into pieces at any byte (test/host/test_net_csum.c).
 */
#ifndef KERNEL_NETDEV_NET_CSUM_H
#define KERNEL_NETDEV_NET_CSUM_H

#include "kernel/netdev/netdev.h"

/* What net_csum_tx() did to a frame. */
enum net_csum_verdict {
	/* Not an unfragmented IPv4 TCP or UDP packet (ARP, ICMP, a fragment,
	 * a malformed header): the frame is untouched, and whatever its
	 * sender put in it goes out. */
	NET_CSUM_AS_IS,
	/* The pseudo-header sum is in the checksum field and *info says
	 * where the device must finish it. */
	NET_CSUM_PARTIAL,
	/* The frame carries bytes after its IP packet (padding), which a
	 * device summing "to the end" would include: the checksum was
	 * computed here, completely (a UDP result of 0 sent as 0xffff). */
	NET_CSUM_SOFTWARE,
};

/* Prepares the TCP or UDP checksum of one Ethernet frame (no VLAN tag)
 * given as `nsegs` pieces, for a device that finishes partial checksums.
 * Whatever the checksum field held before is overwritten. The pieces'
 * memory is written to (the field may straddle two of them), so it must
 * be the caller's own. Fills *info only for NET_CSUM_PARTIAL. */
enum net_csum_verdict net_csum_tx(const struct netdev_seg *segs, unsigned nsegs,
				  struct netdev_tx_info *info);

#endif
