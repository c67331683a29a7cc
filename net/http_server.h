/*
 * The HTTP server on port 80 (net/http_server.c): the status page over
 * HTTP/1.1 and 1.0, its connection pool and counters.
 */
#ifndef NET_HTTP_SERVER_H
#define NET_HTTP_SERVER_H

#include <stdint.h>

#include "net/conn_limit.h"

/* Defaults; net/services.c sets the pool's from the command line. */
#define HTTP_REQUEST_MS 5000  /* a request head must arrive within this */
#define HTTP_IDLE_MS	15000 /* a connection without progress is closed */

struct http_stats {
	uint64_t requests, ok, not_found, client_errors, server_errors;
};
extern struct http_stats http_stats;
extern struct conn_pool http_pool;

/* Listens on port 80; after lwip_init(). */
void http_server_start(void);

#endif
