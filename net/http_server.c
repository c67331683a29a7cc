/*
 * The HTTP server, port 80: HTTP/1.1 (RFC 9112) with the semantics of
 * RFC 9110, on lwIP's raw API. It serves one resource, the status page
 * (net/status_page.c), at "/" and "/index.html", to GET and HEAD;
 * requests are parsed by net/http_request.c.
 *
 * Connections persist (RFC 9112 9.3): an HTTP/1.1 one unless the client
 * says "Connection: close", an HTTP/1.0 one when it says "Connection:
 * keep-alive". Every answer carries Content-Length and says which it is.
 * Pipelined requests (9.3.2) are answered in order. Errors: 400, 404, 405
 * (with Allow), 408 for a request not complete in time, 414, 431, 501, 503
 * for a connection that waited too long for a slot, 505; after an error
 * other than 404 the connection is closed. No Date field: the kernel has no
 * clock of the time of day, and RFC 9110 6.6.1 says a server without one
 * must not send it.
 *
 * Limits (net/conn_limit.c): NET_HTTP_CONNS connections at once, more wait
 * in the listen backlog; a request must be complete within the request
 * timeout of its first byte (slowloris), a connection without progress for
 * the idle timeout is closed; when all are taken, the connection idle
 * longest makes room. One connection has at most NET_HTTP_SEND_MAX in
 * flight (net/lwipopts.h: the memory budget), which one answer always fits.
 *
 * Why not lwIP's httpd (src/apps/http/httpd.c, 2.1.3), which this kernel
 * could build from the same sources: it does not do what the server must.
 *   - Methods: http_parse_request() knows GET and POST; HEAD is answered 501.
 *   - No 414 and no 431: a request line or head too long for
 *     LWIP_HTTPD_REQ_BUFSIZE is a 400, and only if a "/400.html" file
 *     exists; without one, every error (400, 501) closes the connection
 *     without an answer (http_find_error_file() returns ERR_ARG).
 *   - Persistence is HTTP/1.0's: a connection is kept only when the request
 *     says "Connection: keep-alive" (its own comment: "for strict 1.1, a
 *     connection would always be persistent"), and every status line reads
 *     HTTP/1.0 (g_psHTTPHeaderStrings[HTTP_HDR_OK]).
 *   - Pipelining loses requests: data arriving while a file is sent is
 *     freed ("already sending but still receiving data"), and bytes after
 *     the first request's blank line are freed with it (hs->req).
 *   - No connection limit: LWIP_HTTPD_KILL_OLD_ON_CONNECTIONS_EXCEEDED
 *     kills the oldest connection (busy or not) only when allocating a new
 *     state fails; its timeout (HTTPD_POLL_INTERVAL x HTTPD_MAX_RETRIES)
 *     counts from the last send, the same for a silent client and a slow one.
 * Patching all of that would replace its request parser, its header
 * generation and its receive path, most of the request side of httpd.c;
 * the server here is smaller than that patch would be.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "net/http_request.h"
#include "net/http_server.h"
#include "net/status_page.h"
#include "net/tcp_service.h"

#define HTTP_PORT     80
#define HTTP_EVICT_MS 1000 /* idle this long: may be dropped for a new one */

struct http_stats http_stats;

struct http_conn {
	struct tcp_conn tc;   /* first: tcp_service_accept allocates the struct */
	struct pbuf *pending; /* received, not yet copied into buf */
	bool peer_closed;     /* the client sent FIN */
	size_t len;
	char buf[HTTP_HEAD_MAX];
};

static void hs_end(struct conn *conn, enum conn_end why);
static void hs_activate(struct conn *conn);

static const struct conn_pool_ops hs_pool_ops = {.end = hs_end, .activate = hs_activate};

struct conn_pool http_pool = {
	.name = "http",
	.max = NET_HTTP_CONNS,
	.idle_ms = HTTP_IDLE_MS,
	.request_ms = HTTP_REQUEST_MS,
	.evict_after = HTTP_EVICT_MS,
	.ops = &hs_pool_ops,
};

static const char *hs_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	}
	return "Error";
}

static void hs_count(int status)
{
	http_stats.requests++;
	if (status < 300)
		http_stats.ok++;
	else if (status == 404)
		http_stats.not_found++;
	else if (status < 500)
		http_stats.client_errors++;
	else
		http_stats.server_errors++;
}

/* Head and body of one answer, in a buffer of its own (lwIP runs in one
 * context, and tcp_write copies). */
static char hs_out[NET_HTTP_SEND_MAX];

static size_t hs_build(int status, bool head_only, bool keep_alive)
{
	static char body[STATUS_PAGE_MAX];
	bool page = status == 200;
	size_t blen, n;

	if (page)
		blen = status_page(body, sizeof body);
	else
		blen = (size_t)snprintf(body, sizeof body, "%d %s\n", status, hs_reason(status));
	n = (size_t)snprintf(hs_out, sizeof hs_out,
			     "HTTP/1.1 %d %s\r\nServer: virtio-os\r\nContent-Type: %s\r\n"
			     "Content-Length: %zu\r\nConnection: %s\r\n%s\r\n",
			     status, hs_reason(status),
			     page ? "text/html; charset=utf-8" : "text/plain; charset=utf-8", blen,
			     keep_alive ? "keep-alive" : "close",
			     status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!head_only) {
		memcpy(hs_out + n, body, blen);
		n += blen;
	}
	return n;
}

/* Queues one answer whole, if the send buffer and the per-connection cap
 * allow; false to try again once more is acknowledged. */
static bool hs_write(struct http_conn *c, int status, bool head_only, bool keep_alive)
{
	size_t n = hs_build(status, head_only, keep_alive);
	size_t in_flight = TCP_SND_BUF - tcp_sndbuf(c->tc.pcb);

	if (in_flight && in_flight + n > NET_HTTP_SEND_MAX)
		return false;
	if (n > tcp_sndbuf(c->tc.pcb) ||
	    tcp_write(c->tc.pcb, hs_out, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
		return false; /* segments or heap short: the sent callback retries */
	tcp_output(c->tc.pcb);
	conn_set_busy(&c->tc.conn, true, sys_now());
	hs_count(status);
	return true;
}

/* Closes the connection: gracefully, or with a reset for a client that
 * does not read what it was sent. ERR_ABRT if the pcb is gone. */
static err_t hs_close(struct http_conn *c, bool reset)
{
	struct tcp_pcb *pcb = c->tc.pcb;

	if (c->pending) {
		/* Taken, so that closing with unread data does not reset the
		 * connection (tcp_close sends RST then) under the last answer. */
		tcp_recved(pcb, c->pending->tot_len);
		pbuf_free(c->pending);
	}
	conn_close(&c->tc.conn, sys_now());
	free(c);
	return tcp_service_close(pcb, reset);
}

/* Moves received bytes into the request buffer, opening the window by as
 * much. */
static void hs_fill(struct http_conn *c)
{
	while (c->pending && c->len < sizeof c->buf) {
		u16_t n = (u16_t)(sizeof c->buf - c->len);

		if (n > c->pending->tot_len)
			n = c->pending->tot_len;
		pbuf_copy_partial(c->pending, c->buf + c->len, n, 0);
		c->len += n;
		c->pending = pbuf_free_header(c->pending, n);
		tcp_recved(c->tc.pcb, n);
	}
}

static bool hs_is_page(const struct http_request *req)
{
	return (req->path_len == 1 && req->path[0] == '/') ||
	       (req->path_len == 11 && !memcmp(req->path, "/index.html", 11));
}

/* Answers every complete request in the buffer, as room allows. */
static err_t hs_advance(struct http_conn *c)
{
	struct http_request req;

	if (c->tc.conn.waiting)
		return ERR_OK; /* no slot yet: hs_activate comes back */
	for (;;) {
		hs_fill(c);
		if (c->len == 0) {
			conn_request_end(&c->tc.conn);
			break;
		}
		if (!http_request_parse(c->buf, c->len, &req)) {
			conn_request_begin(&c->tc.conn, sys_now());
			break;
		}
		if (req.status == 0 && !hs_is_page(&req))
			req.status = 404;
		if (!hs_write(c, req.status ? req.status : 200, req.method == HTTP_HEAD,
			      req.keep_alive))
			return ERR_OK; /* no room: hs_sent comes back */
		conn_request_end(&c->tc.conn);
		if (!req.keep_alive)
			return hs_close(c, false);
		c->len -= req.length;
		memmove(c->buf, c->buf + req.length, c->len);
	}
	/* Nothing complete is left to answer; a client that has closed its
	 * side cannot finish a request. */
	if (c->peer_closed)
		return hs_close(c, false);
	return ERR_OK;
}

static err_t hs_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct http_conn *c = arg;

	if (!p) {
		c->peer_closed = true;
		return hs_advance(c);
	}
	if (c->pending)
		return ERR_MEM; /* lwIP keeps it and offers it again */
	c->pending = p;
	conn_progress(&c->tc.conn, sys_now());
	return hs_advance(c);
}

static err_t hs_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct http_conn *c = arg;
	uint32_t now = sys_now();

	conn_progress(&c->tc.conn, now);
	if (tcp_sndqueuelen(pcb) == 0)
		conn_set_busy(&c->tc.conn, false, now);
	return hs_advance(c);
}

static void hs_err(void *arg, err_t err)
{
	struct http_conn *c = arg;

	/* The pcb is already gone. */
	if (c->pending)
		pbuf_free(c->pending);
	conn_close(&c->tc.conn, sys_now());
	free(c);
}

/* conn_limit ends a connection: a last word to a client that was in the
 * middle of something, then close; a client not reading what it was sent
 * gets a reset. */
static void hs_end(struct conn *conn, enum conn_end why)
{
	struct http_conn *c = (struct http_conn *)conn;

	if (tcp_sndqueuelen(c->tc.pcb)) {
		hs_close(c, true);
		return;
	}
	if (c->tc.conn.waiting)
		hs_write(c, 503, false, false);
	else if (why == CONN_REQUEST_TIMEOUT)
		hs_write(c, 408, false, false);
	hs_close(c, false);
}

static void hs_activate(struct conn *conn)
{
	struct http_conn *c = (struct http_conn *)conn;

	tcp_service_activated(c->tc.pcb);
	hs_advance(c);
}

static const struct tcp_service_callbacks hs_callbacks = {
	.recv = hs_recv, .sent = hs_sent, .err = hs_err};

static err_t hs_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	return tcp_service_accept(pcb, err, sizeof(struct http_conn), &http_pool, &hs_callbacks);
}

void http_server_start(void)
{
	tcp_service_listen(HTTP_PORT, NET_HTTP_BACKLOG, hs_accept);
}
