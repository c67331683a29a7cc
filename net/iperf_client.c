/*
 * `iperf -c A.B.C.D [-p PORT] [-t SECONDS]`: an iperf 2 TCP client, for
 * guest-to-host throughput against a host's `iperf -s` (under QEMU user
 * networking the host's 127.0.0.1 is 10.0.2.2). lwIP raw API, thread
 * context (netdev_wait()).
 *
 * Why not the other ways of sending from the guest:
 *  - `iperf -c ... -r` from the host against lwiperf's server (port 5001)
 *    needs lwiperf to connect back once the host's leg ends. lwiperf
 *    2.1.3 expects the iperf 2.0 stream layout: the 24-byte header alone
 *    in the first segment, then repeated at the start of every 128 KiB
 *    buffer, and it aborts the session (DATAERROR) when a segment at such
 *    an offset is not that header. iperf 2.1's client sends a 60-byte
 *    extended header and repeats it once, never at 128 KiB offsets, so
 *    lwiperf aborts after the first segments (how many depends on how
 *    slirp cuts the stream) and never connects back.
 *  - lwiperf_start_tcp_client(): its duration is fixed at 10 s (the
 *    header's amount is hard-coded) and lwiperf_abort() frees a session
 *    whose pcb still points at it, so a shorter run cannot be stopped.
 *
 * Wire format: iperf 2's 24-byte client header (flags, threads, port,
 * buffer length, window/rate, amount; big-endian) with flags 0 (no
 * reverse test: the host only receives) and amount -(hundredths of a
 * second), a time-limited test; then payload, digits like iperf's own.
 *
 * Result: bytes the host acknowledged (header included, as the host's
 * iperf counts them) over the time from connect to the last
 * acknowledgement; integer arithmetic only (-mgeneral-regs-only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/console/console.h"
#include "kernel/netdev/netdev.h"
#include "kernel/shell/shell.h"
#include "kernel/time/timer.h"
#include "lwip/def.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"

#define IPERF_PORT	  5001
#define IPERF_HDR_LEN	  24
#define IPERF_CHUNK	  (4 * TCP_MSS)
#define CONNECT_NS	  10000000000ull
#define DRAIN_NS	  30000000000ull /* for the last acknowledgements */
#define IPERF_MAX_SECONDS 3600

struct iperf_client {
	struct tcp_pcb *pcb;
	uint64_t start_ns, deadline_ns, last_ack_ns;
	uint64_t queued, acked;
	bool connected, stopping, failed, closed;
	err_t err;
	uint8_t header[IPERF_HDR_LEN];
};

/* Written without copying (lwIP references it until acknowledged), so it
 * is filled once and never changes afterwards. */
static uint8_t payload[IPERF_CHUNK];

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void ic_push(struct iperf_client *c)
{
	bool any = false;

	if (!c->pcb || !c->connected)
		return;
	if (c->queued == 0) {
		if (tcp_write(c->pcb, c->header, IPERF_HDR_LEN, TCP_WRITE_FLAG_COPY) != ERR_OK)
			return; /* no room yet: the sent callback comes back */
		c->queued = IPERF_HDR_LEN;
		any = true;
	}
	/* The deadline is checked here too, not only by the waiting loop, so
	 * no more than a send buffer's worth is queued after it. */
	while (!c->stopping && time_ns() < c->deadline_ns) {
		u16_t n = tcp_sndbuf(c->pcb);

		if (n > IPERF_CHUNK)
			n = IPERF_CHUNK;
		if (n < TCP_MSS)
			break; /* wait for a full segment's room: fewer, larger writes */
		if (tcp_write(c->pcb, payload, n, TCP_WRITE_FLAG_MORE) != ERR_OK)
			break; /* out of segments: the sent callback comes back */
		c->queued += n;
		any = true;
	}
	if (any)
		tcp_output(c->pcb);
}

static err_t ic_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct iperf_client *c = arg;

	c->acked += len;
	c->last_ack_ns = time_ns();
	ic_push(c);
	return ERR_OK;
}

static err_t ic_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct iperf_client *c = arg;

	if (!p) {
		c->closed = true; /* the server went away */
		return ERR_OK;
	}
	/* An iperf 2 server sends nothing in a plain test; drop anything. */
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static void ic_err(void *arg, err_t err)
{
	struct iperf_client *c = arg;

	c->pcb = NULL; /* freed by lwIP */
	c->err = err;
	c->failed = true;
}

static err_t ic_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct iperf_client *c = arg;

	c->connected = true;
	c->start_ns = time_ns();
	c->last_ack_ns = c->start_ns;
	c->deadline_ns += c->start_ns;
	ic_push(c);
	return ERR_OK;
}

static bool ic_connect_over(void *arg)
{
	struct iperf_client *c = arg;

	return c->connected || c->failed;
}

static bool ic_send_over(void *arg)
{
	struct iperf_client *c = arg;

	/* After every poll round, not only on acknowledgements: a write
	 * refused for lack of pbufs (held by the driver until its tx_done)
	 * when everything sent is already acknowledged would otherwise wait
	 * for a sent callback that never comes, and the stream stalls. */
	ic_push(c);
	return c->failed || c->closed || time_ns() >= c->deadline_ns;
}

static bool ic_drained(void *arg)
{
	struct iperf_client *c = arg;

	return c->failed || c->closed || c->acked == c->queued;
}

static void ic_release(struct iperf_client *c)
{
	if (!c->pcb)
		return;
	tcp_arg(c->pcb, NULL);
	tcp_recv(c->pcb, NULL);
	tcp_sent(c->pcb, NULL);
	tcp_err(c->pcb, NULL);
	if (c->failed || tcp_close(c->pcb) != ERR_OK)
		tcp_abort(c->pcb);
	c->pcb = NULL;
}

static int iperf_client_run(const ip_addr_t *dst, u16_t port, unsigned seconds)
{
	struct iperf_client c = {.deadline_ns = (uint64_t)seconds * 1000000000ull};
	uint64_t ms;

	if (payload[0] == 0)
		for (unsigned i = 0; i < sizeof payload; i++)
			payload[i] = (uint8_t)('0' + i % 10);
	put_be32(&c.header[4], 1);
	put_be32(&c.header[8], IPERF_PORT);
	put_be32(&c.header[20], (uint32_t) - (int32_t)(seconds * 100));

	c.pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	if (!c.pcb) {
		printf("iperf: no TCP pcb (lwIP's pool is empty; see netstat)\n");
		return 1;
	}
	tcp_arg(c.pcb, &c);
	tcp_recv(c.pcb, ic_recv);
	tcp_sent(c.pcb, ic_sent);
	tcp_err(c.pcb, ic_err);
	if (tcp_connect(c.pcb, dst, port, ic_connected) != ERR_OK) {
		printf("iperf: cannot start a connection to %s port %u\n", ipaddr_ntoa(dst), port);
		tcp_abort(c.pcb);
		return 1;
	}
	if (!netdev_wait(ic_connect_over, &c, CONNECT_NS) || !c.connected) {
		char why[32] = "no answer within 10 s";

		if (c.err == ERR_RST)
			snprintf(why, sizeof why, "refused");
		else if (c.failed)
			snprintf(why, sizeof why, "lwIP error %d", c.err);
		printf("iperf: no connection to %s port %u: %s; expected an iperf 2 server "
		       "(iperf -s) there\n",
		       ipaddr_ntoa(dst), port, why);
		ic_release(&c);
		return 1;
	}
	netdev_wait(ic_send_over, &c, (uint64_t)(seconds + 1) * 1000000000ull);
	c.stopping = true;
	if (console_interrupted()) {
		ic_release(&c);
		printf("iperf: stopped by Ctrl-C: %llu of %llu bytes acknowledged\n",
		       (unsigned long long)c.acked, (unsigned long long)c.queued);
		return 1;
	}
	netdev_wait(ic_drained, &c, DRAIN_NS);
	ic_release(&c);
	if (c.failed || c.acked != c.queued) {
		printf("iperf: FAILED: %llu of %llu bytes acknowledged (lwIP error %d)\n",
		       (unsigned long long)c.acked, (unsigned long long)c.queued, c.err);
		return 1;
	}
	ms = (c.last_ack_ns - c.start_ns) / 1000000u;
	printf("iperf: %llu bytes to %s port %u in %llu ms, %llu kbit/s\n",
	       (unsigned long long)c.acked, ipaddr_ntoa(dst), port, (unsigned long long)ms,
	       (unsigned long long)(c.acked * 8 / (ms ? ms : 1)));
	return 0;
}

static int cmd_iperf(int argc, char **argv)
{
	ip_addr_t dst;
	bool have_dst = false, bad = argc % 2 == 0; /* options come in pairs */
	unsigned long port = IPERF_PORT, seconds = 10;

	for (int i = 1; !bad && i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "-c") && ipaddr_aton(argv[i + 1], &dst))
			have_dst = true;
		else if (!strcmp(argv[i], "-p"))
			port = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "-t"))
			seconds = strtoul(argv[i + 1], NULL, 0);
		else
			bad = true;
	}
	if (bad || !have_dst || port == 0 || port > 65535 || seconds == 0 ||
	    seconds > IPERF_MAX_SECONDS) {
		printf("usage: iperf -c A.B.C.D [-p PORT (5001)] [-t SECONDS (10, at most %u)]\n",
		       IPERF_MAX_SECONDS);
		return 1;
	}
	return iperf_client_run(&dst, (u16_t)port, (unsigned)seconds);
}
SHELL_COMMAND(iperf, "iperf -c A.B.C.D [-p PORT] [-t SECONDS]",
	      "iperf 2 TCP client: send to a host's `iperf -s` for SECONDS, print the rate",
	      cmd_iperf);
