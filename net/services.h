/*
 * The network services (net/services.c starts them): UDP and TCP echo
 * (net/echo_service.c), the HTTP status page (net/http_server.c), lwiperf.
 * They start by themselves (an init call).
 */
#ifndef NET_SERVICES_H
#define NET_SERVICES_H

#include <stddef.h>

/* The services' counters and connection pools, a few lines for `netstat`
 * and the status page; snprintf's return value. */
int net_services_format(char *buf, size_t size);

#endif
