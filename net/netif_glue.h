/*
 * lwIP bound to the kernel's network devices (net/netif_glue.c): one netif
 * per device, its address (DHCP or ip=), and waiting for one. Everything
 * here runs in thread context (kernel/netdev/netdev.h).
 */
#ifndef NET_NETIF_GLUE_H
#define NET_NETIF_GLUE_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/netdev/netdev.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"

/* The netif of a device, or the default netif for dev == NULL. */
struct netif *net_netif(struct netdev *dev);
/* True once the default netif has an IPv4 address. */
bool net_has_address(void);
/* Waits (polling) for an address; true if one came within timeout_ms. */
bool net_wait_address(unsigned timeout_ms);
/* "dhcp" or "static". */
const char *net_addr_source(void);

/* Parses "a.b.c.d:port". 0 or -EINVAL. */
int net_parse_peer(const char *s, ip_addr_t *ip, uint16_t *port);

#endif
