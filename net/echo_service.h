/*
 * The echo service on port 7, UDP and TCP (net/echo_service.c): its
 * counters and its TCP connection pool.
 */
#ifndef NET_ECHO_SERVICE_H
#define NET_ECHO_SERVICE_H

#include <stdint.h>

#include "net/conn_limit.h"

#define ECHO_IDLE_MS 30000 /* default; net/services.c sets the pool's */

struct echo_stats {
	uint64_t udp_echoed, udp_not_unicast, udp_send_errors;
	uint64_t tcp_conns, tcp_bytes;
};
extern struct echo_stats echo_stats;
extern struct conn_pool echo_pool;

/* Binds UDP and TCP port 7; after lwip_init(). */
void echo_service_start(void);

#endif
