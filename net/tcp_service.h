/*
 * The lwIP side of a TCP service's connections (net/tcp_service.c), shared
 * by the echo service and the HTTP server; the accounting itself is
 * net/conn_limit.c.
 */
#ifndef NET_TCP_SERVICE_H
#define NET_TCP_SERVICE_H

#include <stdbool.h>

#include "lwip/tcp.h"
#include "net/conn_limit.h"

/* Listens on port with a listen backlog of `backlog` connections
 * (handshaking or waiting for a slot); false, with a message, if not. */
bool tcp_service_listen(u16_t port, u8_t backlog, tcp_accept_fn accept);

/* How every service's connection struct begins: its place in the pool
 * and its pcb. */
struct tcp_conn {
	struct conn conn;
	struct tcp_pcb *pcb;
};

/* The lwIP callbacks a service gives each of its connections. */
struct tcp_service_callbacks {
	tcp_recv_fn recv;
	tcp_sent_fn sent;
	tcp_err_fn err;
};

/* For a service's accept callback, which returns what this returns. A
 * zeroed connection of `size` bytes (a struct that begins with a struct
 * tcp_conn) becomes the arg of cb's callbacks; no Nagle (answers are
 * written whole); it takes its place in the pool or, if the pool is full,
 * waits, counted against the listen backlog (tcp_backlog_delayed), until
 * the pool's activate callback. An error lwIP reported, or ERR_MEM (lwIP
 * then resets the connection), leaves nothing allocated. */
err_t tcp_service_accept(struct tcp_pcb *pcb, err_t err, size_t size, struct conn_pool *pool,
			 const struct tcp_service_callbacks *cb);

/* A waiting connection got its slot. */
void tcp_service_activated(struct tcp_pcb *pcb);

/* Hands the pcb back to lwIP: callbacks cleared, closed gracefully (FIN
 * after what is queued) or, with reset or if that fails, aborted. The
 * caller has released its state (conn_close first). Returns ERR_ABRT if
 * the pcb is gone, for a callback of this pcb to return. */
err_t tcp_service_close(struct tcp_pcb *pcb, bool reset);

#endif
