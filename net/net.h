/*
 * The network layer's internal interface: lwIP's netifs bound to the
 * kernel's network devices (net/netif_glue.c), the services
 * (net/services.c), ping (net/net_shell.c) and the self-test.
 * Everything here runs in thread context (kernel/netdev/netdev.h).
 */
#ifndef NET_NET_H
#define NET_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/netdev/netdev.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/udp.h"

/* The netif of a device, or the default netif for dev == NULL. */
struct netif *net_netif(struct netdev *dev);
/* True once the default netif has an IPv4 address. */
bool net_has_address(void);
/* Waits (polling) for an address; true if one came within timeout_ms. */
bool net_wait_address(unsigned timeout_ms);
/* "dhcp" or "static". */
const char *net_addr_source(void);

/* Sends `count` ICMP echo requests to `dst`, one per second (or as soon
 * as the reply is in), printing a line per reply unless quiet. Returns the
 * number of replies; min/avg/max round trip in microseconds. */
struct ping_stats {
	unsigned sent, received;
	uint64_t min_us, avg_us, max_us;
};
int net_ping(const ip_addr_t *dst, unsigned count, bool quiet, struct ping_stats *st);

/* udp_sendto(), except that a datagram IPv4 must fragment is checksummed
 * by lwIP even on a device that finishes checksums (net/udp_send.c). All
 * of the kernel's UDP sends use it. */
err_t net_udp_sendto(struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *dst, u16_t port);

/* Parses "a.b.c.d:port". 0 or -EINVAL. */
int net_parse_peer(const char *s, ip_addr_t *ip, uint16_t *port);

void net_services_start(void);
/* Counters of the services, for the status page and the self-test. */
struct net_service_stats {
	uint64_t udp_echo, tcp_echo_conns, tcp_echo_bytes, http_requests;
};
extern struct net_service_stats net_service_stats;

#endif
