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

/* An accepted connection: its callbacks (arg is the service's state, which
 * holds `conn`), no Nagle (answers are written whole), and its place in the
 * pool. If the pool is full it waits, counted against the listen backlog
 * (tcp_backlog_delayed), until the pool's activate callback. */
void tcp_service_attach(struct tcp_pcb *pcb, void *arg, struct conn *conn, struct conn_pool *pool,
			tcp_recv_fn recv, tcp_sent_fn sent, tcp_err_fn err);

/* A waiting connection got its slot. */
void tcp_service_activated(struct tcp_pcb *pcb);

/* Hands the pcb back to lwIP: callbacks cleared, closed gracefully (FIN
 * after what is queued) or, with reset or if that fails, aborted. The
 * caller has released its state (conn_close first). Returns ERR_ABRT if
 * the pcb is gone, for a callback of this pcb to return. */
err_t tcp_service_close(struct tcp_pcb *pcb, bool reset);

#endif
