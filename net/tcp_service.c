/*
 * The lwIP side of the TCP services' connections (net/tcp_service.h): how a
 * connection enters a service's pool and how it leaves, the same for every
 * service (RFC 9293 for the states it passes through).
 *
 * A connection waiting for a slot stays in lwIP's listen backlog
 * (tcp_backlog_delayed, TCP_LISTEN_BACKLOG in net/lwipopts.h), so a full
 * service makes lwIP drop new SYNs (the clients retry) instead of taking
 * PCBs without end. lwIP releases that backlog place by itself only for a
 * connection closed in SYN-RECEIVED, hence tcp_backlog_accepted() on every
 * close (it does nothing for a connection that never waited).
 *
 * A closed connection is lwIP's until its FIN is acknowledged and
 * TIME-WAIT is over. It gets the lowest priority, so that when the PCB
 * pool runs dry tcp_alloc() may take it back with tcp_kill_prio(), as it
 * takes TIME-WAIT and LAST-ACK ones, instead of refusing a new connection.
 */
#include <stdlib.h>

#include "kernel/lib/log.h"
#include "lwip/sys.h"
#include "net/tcp_service.h"

bool tcp_service_listen(u16_t port, u8_t backlog, tcp_accept_fn accept)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);

	if (!pcb || tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK) {
		pr_err("net: cannot bind TCP port %u\n", port);
		if (pcb)
			tcp_close(pcb);
		return false;
	}
	pcb = tcp_listen_with_backlog(pcb, backlog);
	if (!pcb) {
		pr_err("net: cannot listen on TCP port %u\n", port);
		return false;
	}
	tcp_accept(pcb, accept);
	return true;
}

err_t tcp_service_accept(struct tcp_pcb *pcb, err_t err, size_t size, struct conn_pool *pool,
			 const struct tcp_service_callbacks *cb)
{
	struct tcp_conn *c;

	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	c = calloc(1, size);
	if (!c)
		return ERR_MEM;
	c->pcb = pcb;
	tcp_arg(pcb, c);
	tcp_recv(pcb, cb->recv);
	tcp_sent(pcb, cb->sent);
	tcp_err(pcb, cb->err);
	tcp_nagle_disable(pcb);
	if (!conn_open(pool, &c->conn, sys_now()))
		tcp_backlog_delayed(pcb);
	return ERR_OK;
}

void tcp_service_activated(struct tcp_pcb *pcb)
{
	tcp_backlog_accepted(pcb);
}

err_t tcp_service_close(struct tcp_pcb *pcb, bool reset)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_backlog_accepted(pcb);
	tcp_setprio(pcb, TCP_PRIO_MIN);
	if (!reset && tcp_close(pcb) == ERR_OK)
		return ERR_OK;
	tcp_abort(pcb);
	return ERR_ABRT;
}
