/*
 * The echo service, port 7 (RFC 862), on lwIP's raw API (callbacks from
 * netdev_poll(), thread context).
 *
 * UDP: each datagram goes back to its sender, if it was sent to our own
 * address. One sent to a broadcast or multicast address is dropped and
 * counted: answering those would make every echo service on a network
 * reply to one spoofed datagram, a reflection amplifier (the reason RFC
 * 1122 3.2.2 forbids ICMP errors for such datagrams). A datagram whose UDP
 * length disagrees with its IP payload never gets here (lwIP patch
 * net/lwip-patches/0001-udp-length-must-match-ip-payload.patch).
 *
 * TCP: every byte received is sent back, with flow control: received data
 * is acknowledged to the peer (tcp_recved, which reopens its window) only
 * once it is written back, so a fast sender is slowed down rather than
 * data dropped. At most NET_ECHO_SEND_MAX of it is in flight per
 * connection (the memory budget, net/lwipopts.h). NET_ECHO_CONNS
 * connections at once, more wait; one without progress for the idle
 * timeout is closed, and when all are taken the one idle longest makes
 * room (net/conn_limit.c).
 */
#include <stdlib.h>

#include "kernel/lib/log.h"
#include "lwip/ip.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "net/echo_service.h"
#include "net/tcp_service.h"
#include "net/udp_send.h"

#define ECHO_PORT     7
#define ECHO_EVICT_MS 1000 /* idle this long: may be dropped for a new one */

struct echo_stats echo_stats;

/* ---- UDP -------------------------------------------------------------------- */

static void es_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
			u16_t port)
{
	/* The netif that took the datagram (lwIP's state for this input). */
	const ip4_addr_t *own = netif_ip4_addr(ip_current_netif());

	if (ip4_addr_isany_val(*own) || !ip4_addr_cmp(ip4_current_dest_addr(), own)) {
		echo_stats.udp_not_unicast++;
	} else if (net_udp_sendto(pcb, p, addr, port) == ERR_OK) {
		echo_stats.udp_echoed++;
	} else {
		echo_stats.udp_send_errors++;
	}
	pbuf_free(p);
}

/* ---- TCP -------------------------------------------------------------------- */

struct echo_conn {
	struct tcp_conn tc; /* first: tcp_service_accept allocates the struct */
	struct pbuf *queue; /* received, not yet written back */
	u16_t offset;	    /* into queue's first pbuf */
	bool closing;	    /* the peer closed: close once the queue is written */
};

static void es_end(struct conn *conn, enum conn_end why);
static void es_activate(struct conn *conn);

static const struct conn_pool_ops es_pool_ops = {.end = es_end, .activate = es_activate};

struct conn_pool echo_pool = {
	.name = "echo",
	.max = NET_ECHO_CONNS,
	.idle_ms = ECHO_IDLE_MS,
	.evict_after = ECHO_EVICT_MS,
	.ops = &es_pool_ops,
};

static void es_free(struct echo_conn *c)
{
	if (c->queue)
		pbuf_free(c->queue);
	conn_close(&c->tc.conn, sys_now());
	free(c);
}

/* Gracefully, or with a reset for a peer that does not read (it would
 * hold a closing connection's data for ever). ERR_ABRT if the pcb is
 * gone. */
static err_t es_close(struct echo_conn *c, bool reset)
{
	struct tcp_pcb *pcb = c->tc.pcb;

	es_free(c);
	return tcp_service_close(pcb, reset);
}

/* Writes as much of the queue as the send buffer and the cap take. */
static err_t es_push(struct echo_conn *c)
{
	u32_t written = 0;
	u16_t in_flight = (u16_t)(TCP_SND_BUF - tcp_sndbuf(c->tc.pcb));

	if (c->tc.conn.waiting)
		return ERR_OK; /* no slot yet: es_activate comes back */
	while (c->queue) {
		struct pbuf *q = c->queue;
		u16_t left = q->len - c->offset;
		u16_t room = tcp_sndbuf(c->tc.pcb);
		u16_t n;

		if (in_flight + written >= NET_ECHO_SEND_MAX)
			break;
		if (room > NET_ECHO_SEND_MAX - in_flight - written)
			room = (u16_t)(NET_ECHO_SEND_MAX - in_flight - written);
		n = left < room ? left : room;
		if (n == 0 && left != 0)
			break;
		if (n && tcp_write(c->tc.pcb, (u8_t *)q->payload + c->offset, n,
				   TCP_WRITE_FLAG_COPY | (n < left || q->next ? TCP_WRITE_FLAG_MORE
									      : 0)) != ERR_OK)
			break; /* out of segments: the sent callback retries */
		written += n;
		c->offset += n;
		if (c->offset == q->len) {
			c->queue = q->next;
			if (c->queue)
				pbuf_ref(c->queue);
			pbuf_free(q);
			c->offset = 0;
		}
	}
	if (written) {
		echo_stats.tcp_bytes += written;
		tcp_recved(c->tc.pcb, (u16_t)written);
		tcp_output(c->tc.pcb);
	}
	if (c->closing && !c->queue)
		return es_close(c, false);
	conn_set_busy(&c->tc.conn, c->queue || tcp_sndqueuelen(c->tc.pcb), sys_now());
	return ERR_OK;
}

static err_t es_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct echo_conn *c = arg;

	if (!p) {
		c->closing = true;
		return es_push(c);
	}
	conn_progress(&c->tc.conn, sys_now());
	if (c->queue)
		pbuf_cat(c->queue, p);
	else
		c->queue = p;
	return es_push(c);
}

static err_t es_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct echo_conn *c = arg;

	conn_progress(&c->tc.conn, sys_now());
	return es_push(c);
}

static void es_err(void *arg, err_t err)
{
	/* The pcb is already gone. */
	es_free(arg);
}

static void es_end(struct conn *conn, enum conn_end why)
{
	struct echo_conn *c = (struct echo_conn *)conn;

	es_close(c, c->queue || tcp_sndqueuelen(c->tc.pcb));
}

static void es_activate(struct conn *conn)
{
	struct echo_conn *c = (struct echo_conn *)conn;

	tcp_service_activated(c->tc.pcb);
	es_push(c);
}

static const struct tcp_service_callbacks es_callbacks = {
	.recv = es_recv, .sent = es_sent, .err = es_err};

static err_t es_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	err_t status =
		tcp_service_accept(pcb, err, sizeof(struct echo_conn), &echo_pool, &es_callbacks);

	if (status == ERR_OK)
		echo_stats.tcp_conns++;
	return status;
}

void echo_service_start(void)
{
	struct udp_pcb *u = udp_new_ip_type(IPADDR_TYPE_V4);

	if (u && udp_bind(u, IP4_ADDR_ANY, ECHO_PORT) == ERR_OK)
		udp_recv(u, es_udp_recv, NULL);
	else
		pr_err("net: cannot bind UDP port %u\n", ECHO_PORT);
	tcp_service_listen(ECHO_PORT, NET_ECHO_BACKLOG, es_accept);
}
