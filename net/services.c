/*
 * The network services, on lwIP's raw API (callbacks from netdev_poll(),
 * thread context):
 *   UDP echo, port 7 (RFC 862): each datagram goes back to its sender;
 *   TCP echo, port 7 (RFC 862): every byte received is sent back, with
 *     flow control: received data is acknowledged to the peer (tcp_recved,
 *     which reopens its window) only once it fits in our send buffer, so a
 *     fast sender is slowed down rather than data dropped;
 *   HTTP, port 80: a status page (uptime, devices, counters) for any GET;
 *   lwiperf, port 5001: lwIP's iperf 2 compatible TCP server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/lib/log.h"
#include "kernel/netdev/netdev.h"
#include "kernel/time/timer.h"
#include "lwip/apps/lwiperf.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "net/netif_glue.h"
#include "net/services.h"
#include "net/udp_send.h"
#include "virtio/virtio.h"

#define ECHO_PORT 7
#define HTTP_PORT 80
#define HTTP_MAX  4096 /* the status page */

struct net_service_stats net_service_stats;

/* ---- UDP echo ------------------------------------------------------------- */

static void udp_echo_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
			  u16_t port)
{
	net_service_stats.udp_echo++;
	net_udp_sendto(pcb, p, addr, port);
	pbuf_free(p);
}

/* ---- TCP echo ------------------------------------------------------------- */

struct echo_conn {
	struct tcp_pcb *pcb;
	struct pbuf *queue; /* received, not yet written back */
	u16_t offset;	    /* into queue's first pbuf */
	bool closing;
};

static void echo_free(struct echo_conn *c)
{
	if (c->queue)
		pbuf_free(c->queue);
	free(c);
}

static void echo_close(struct echo_conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	echo_free(c);
	if (tcp_close(pcb) != ERR_OK)
		tcp_abort(pcb);
}

/* Writes as much of the queue as the send buffer takes. */
static void echo_push(struct echo_conn *c)
{
	u32_t written = 0;

	while (c->queue) {
		struct pbuf *q = c->queue;
		u16_t left = q->len - c->offset;
		u16_t room = tcp_sndbuf(c->pcb);
		u16_t n = left < room ? left : room;

		if (n == 0 && left != 0)
			break;
		if (n && tcp_write(c->pcb, (u8_t *)q->payload + c->offset, n,
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
		net_service_stats.tcp_echo_bytes += written;
		tcp_recved(c->pcb, (u16_t)written);
		tcp_output(c->pcb);
	}
	if (c->closing && !c->queue)
		echo_close(c);
}

static err_t echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct echo_conn *c = arg;

	if (!c) {
		if (p)
			pbuf_free(p);
		return ERR_OK;
	}
	if (!p) {
		c->closing = true;
		echo_push(c);
		return ERR_OK;
	}
	if (c->queue)
		pbuf_cat(c->queue, p);
	else
		c->queue = p;
	echo_push(c);
	return ERR_OK;
}

static err_t echo_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	if (arg)
		echo_push(arg);
	return ERR_OK;
}

static void echo_err(void *arg, err_t err)
{
	/* The pcb is already gone. */
	if (arg)
		echo_free(arg);
}

static err_t echo_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct echo_conn *c;

	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	c = calloc(1, sizeof *c);
	if (!c)
		return ERR_MEM;
	c->pcb = pcb;
	net_service_stats.tcp_echo_conns++;
	tcp_arg(pcb, c);
	tcp_recv(pcb, echo_recv);
	tcp_sent(pcb, echo_sent);
	tcp_err(pcb, echo_err);
	tcp_nagle_disable(pcb);
	return ERR_OK;
}

/* ---- HTTP status page ----------------------------------------------------- */

static int status_page(char *buf, size_t size)
{
	uint64_t ms = time_ns() / 1000000u;
	struct netif *nif = net_netif(NULL);
	int n = 0;

#define OUT(...) (n += snprintf(buf + n, n < (int)size ? size - (size_t)n : 0, __VA_ARGS__))
	OUT("<!DOCTYPE html>\n<html><head><title>virtio-os</title></head><body>\n");
	OUT("<h1>virtio-os status</h1>\n<pre>\n");
	OUT("uptime: %llu.%03llu s\n", (unsigned long long)(ms / 1000),
	    (unsigned long long)(ms % 1000));
	if (nif)
		OUT("address: %s (%s)\n", ip4addr_ntoa(netif_ip4_addr(nif)), net_addr_source());
	OUT("\ndevices:\n");
	for (struct virtio_device *v = virtio_device_next(NULL); v; v = virtio_device_next(v)) {
		char line[160];

		virtio_device_format(v, line, sizeof line);
		OUT("  %s\n", line);
	}
	OUT("\ninterfaces:\n");
	for (struct netdev *d = netdev_first(); d; d = d->next) {
		OUT("  %s: link %s, rx %llu packets %llu bytes, tx %llu packets %llu bytes, "
		    "interrupts %llu, kicks %llu\n",
		    d->name, d->link_up ? "up" : "down", (unsigned long long)d->stats.rx_packets,
		    (unsigned long long)d->stats.rx_bytes, (unsigned long long)d->stats.tx_packets,
		    (unsigned long long)d->stats.tx_bytes, (unsigned long long)d->stats.interrupts,
		    (unsigned long long)d->stats.kicks);
	}
	OUT("\nservices: udp echo %llu, tcp echo %llu connections %llu bytes, http %llu\n",
	    (unsigned long long)net_service_stats.udp_echo,
	    (unsigned long long)net_service_stats.tcp_echo_conns,
	    (unsigned long long)net_service_stats.tcp_echo_bytes,
	    (unsigned long long)net_service_stats.http_requests);
	OUT("</pre>\n</body></html>\n");
#undef OUT
	return n < (int)size ? n : (int)size - 1;
}

struct http_conn {
	char req[512];
	unsigned len;
	bool answered;
};

static void http_close(struct tcp_pcb *pcb, struct http_conn *h)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	free(h);
	if (tcp_close(pcb) != ERR_OK)
		tcp_abort(pcb);
}

static err_t http_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	/* Everything acknowledged: done (HTTP/1.0, one request). */
	if (arg && tcp_sndqueuelen(pcb) == 0)
		http_close(pcb, arg);
	return ERR_OK;
}

static err_t http_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct http_conn *h = arg;
	static char page[HTTP_MAX], head[160];
	int blen, hlen;

	if (!p) {
		if (h)
			http_close(pcb, h);
		return ERR_OK;
	}
	if (!h || h->answered) {
		tcp_recved(pcb, p->tot_len);
		pbuf_free(p);
		return ERR_OK;
	}
	u16_t take = p->tot_len < sizeof h->req - 1 - h->len ? p->tot_len
							     : (u16_t)(sizeof h->req - 1 - h->len);
	pbuf_copy_partial(p, h->req + h->len, take, 0);
	h->len += take;
	h->req[h->len] = '\0';
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	if (!strstr(h->req, "\r\n\r\n") && !strstr(h->req, "\n\n") && h->len < sizeof h->req - 1)
		return ERR_OK;

	h->answered = true;
	net_service_stats.http_requests++;
	if (strncmp(h->req, "GET ", 4)) {
		static const char bad[] = "HTTP/1.0 405 Method Not Allowed\r\nContent-Length: 0\r\n"
					  "Connection: close\r\n\r\n";
		tcp_write(pcb, bad, sizeof bad - 1, 0);
	} else {
		blen = status_page(page, sizeof page);
		hlen = snprintf(head, sizeof head,
				"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
				"%d\r\nConnection: close\r\n\r\n",
				blen);
		tcp_write(pcb, head, (u16_t)hlen, TCP_WRITE_FLAG_COPY | TCP_WRITE_FLAG_MORE);
		tcp_write(pcb, page, (u16_t)blen, TCP_WRITE_FLAG_COPY);
	}
	tcp_output(pcb);
	return ERR_OK;
}

static void http_err(void *arg, err_t err)
{
	free(arg);
}

static err_t http_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct http_conn *h;

	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	h = calloc(1, sizeof *h);
	if (!h)
		return ERR_MEM;
	tcp_arg(pcb, h);
	tcp_recv(pcb, http_recv);
	tcp_sent(pcb, http_sent);
	tcp_err(pcb, http_err);
	return ERR_OK;
}

/* ---- lwiperf -------------------------------------------------------------- */

static void iperf_report(void *arg, enum lwiperf_report_type type, const ip_addr_t *local_addr,
			 u16_t local_port, const ip_addr_t *remote_addr, u16_t remote_port,
			 u32_t bytes_transferred, u32_t ms_duration, u32_t bandwidth_kbitpsec)
{
	pr_info("lwiperf: %s %lu bytes in %lu ms, %lu kbit/s\n",
		type == LWIPERF_TCP_DONE_SERVER ? "done" : "aborted",
		(unsigned long)bytes_transferred, (unsigned long)ms_duration,
		(unsigned long)bandwidth_kbitpsec);
}

/* ---- Start ---------------------------------------------------------------- */

static struct tcp_pcb *listen_on(u16_t port, tcp_accept_fn accept)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);

	if (!pcb || tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK) {
		pr_err("net: cannot bind TCP port %u\n", port);
		return NULL;
	}
	pcb = tcp_listen(pcb);
	if (pcb)
		tcp_accept(pcb, accept);
	return pcb;
}

/* After lwIP is up: net_init() in netif_glue.c is a SUBSYS_INITCALL. */
static void net_services_start(void)
{
	struct udp_pcb *u = udp_new_ip_type(IPADDR_TYPE_V4);

	if (u && udp_bind(u, IP4_ADDR_ANY, ECHO_PORT) == ERR_OK)
		udp_recv(u, udp_echo_recv, NULL);
	else
		pr_err("net: cannot bind UDP port %u\n", ECHO_PORT);
	listen_on(ECHO_PORT, echo_accept);
	listen_on(HTTP_PORT, http_accept);
	if (!lwiperf_start_tcp_server_default(iperf_report, NULL))
		pr_err("net: cannot start lwiperf on port %u\n", LWIPERF_TCP_PORT_DEFAULT);
}
INITCALL(net_services_start);
