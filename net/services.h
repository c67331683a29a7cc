/*
 * The network services (net/services.c): UDP and TCP echo, the HTTP status
 * page, lwiperf. They start by themselves (an init call); their counters
 * are for the status page and `netstat`.
 */
#ifndef NET_SERVICES_H
#define NET_SERVICES_H

#include <stdint.h>

struct net_service_stats {
	uint64_t udp_echo, tcp_echo_conns, tcp_echo_bytes, http_requests;
};
extern struct net_service_stats net_service_stats;

#endif
