/*
 * ICMP echo requests (net/ping.c), for the shell's `ping` and the self-test.
 */
#ifndef NET_PING_H
#define NET_PING_H

#include <stdbool.h>
#include <stdint.h>

#include "lwip/ip_addr.h"

/* Sends `count` ICMP echo requests to `dst`, one per second (or as soon
 * as the reply is in), printing a line per reply unless quiet. Returns the
 * number of replies; min/avg/max round trip in microseconds. */
struct ping_stats {
	unsigned sent, received;
	uint64_t min_us, avg_us, max_us;
};
int net_ping(const ip_addr_t *dst, unsigned count, bool quiet, struct ping_stats *st);

#endif
