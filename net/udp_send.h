/*
 * UDP sends on a device that may finish checksums itself (net/udp_send.c).
 */
#ifndef NET_UDP_SEND_H
#define NET_UDP_SEND_H

#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/udp.h"

/* udp_sendto(), except that a datagram IPv4 must fragment is checksummed
 * by lwIP even on a device that finishes checksums (net/udp_send.c). All
 * of the kernel's UDP sends use it. */
err_t net_udp_sendto(struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *dst, u16_t port);

#endif
