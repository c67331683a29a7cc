/*
 * The `ip=ADDR/PREFIX[,gw=GW]` option: a static IPv4 address for the first
 * interface (net/netif_glue.c) instead of DHCP. The text is checked here,
 * with no lwIP in it, so the host tests can run every case.
 *
 * Addresses are written as four decimal numbers (RFC 791's dotted quad);
 * an address must be one a host may have (RFC 1122 3.2.1.3 and RFC 6890):
 * not in 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4 (multicast) or 240.0.0.0/4
 * (reserved, with 255.255.255.255), and not the network's own address or
 * its broadcast address (prefixes up to /30; RFC 3021 lets /31 use both).
 */
#ifndef NET_IP_STATIC_H
#define NET_IP_STATIC_H

#include <stdint.h>

struct ip_static {
	uint32_t addr, mask, gw; /* host byte order; gw 0 when not given */
	unsigned prefix;
};

/* 0 with *out filled, or -EINVAL with *why saying what was expected (a
 * static string). */
int ip_static_parse(const char *text, struct ip_static *out, const char **why);

/* The option's check for kernel/lib/cmdline.c: NULL when `text` is good,
 * else what was expected. */
const char *ip_static_check(const char *text);

#endif
