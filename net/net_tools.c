/*
 * `nettest`: traffic generators for tests between guests and for the
 * benchmark, on lwIP's raw API (thread context, netdev_wait()).
 *   nettest tcp A.B.C.D BYTES [PORT]   connect to an echo server (port 7),
 *       send BYTES of a position-dependent pattern, check every byte that
 *       comes back;
 *   nettest udp A.B.C.D:PORT COUNT [SIZE]   send COUNT datagrams as fast
 *       as the device takes them, report packets/s. Datagram n holds n as
 *       a little-endian 32-bit number, then pattern(n * SIZE + i) for each
 *       byte i after it, so a receiver can check every byte and every
 *       datagram carries a different checksum.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/console/console.h"
#include "kernel/netdev/netdev.h"
#include "kernel/shell/shell.h"
#include "kernel/time/timer.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "net/netif_glue.h"
#include "net/udp_send.h"

#define CHUNK 4096

/* Byte `i` of the test stream: not periodic within the stream lengths we
 * use, so a dropped, duplicated or reordered piece shows. */
static inline uint8_t pattern(uint64_t i)
{
	return (uint8_t)((i * 131u) ^ (i >> 9) ^ (i >> 17) ^ 0x5a);
}

struct tcp_test {
	struct tcp_pcb *pcb;
	uint64_t total, written, verified;
	uint64_t bad_at;
	bool connected, failed, done;
	err_t err;
};

static void tt_push(struct tcp_test *t)
{
	static uint8_t chunk[CHUNK];
	bool any = false;

	while (t->pcb && t->written < t->total) {
		uint64_t left = t->total - t->written;
		u16_t n = tcp_sndbuf(t->pcb);

		if (n > CHUNK)
			n = CHUNK;
		if (n > left)
			n = (u16_t)left;
		if (n == 0)
			break;
		for (u16_t k = 0; k < n; k++)
			chunk[k] = pattern(t->written + k);
		if (tcp_write(t->pcb, chunk, n, TCP_WRITE_FLAG_COPY) != ERR_OK)
			break; /* queue full: the sent callback comes back */
		t->written += n;
		any = true;
	}
	if (any)
		tcp_output(t->pcb);
}

static err_t tt_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct tcp_test *t = arg;

	if (!p) {
		if (t->verified < t->total)
			t->failed = true; /* closed early */
		t->done = true;
		return ERR_OK;
	}
	for (struct pbuf *q = p; q; q = q->next) {
		const uint8_t *b = q->payload;

		for (u16_t k = 0; k < q->len; k++, t->verified++) {
			if (t->verified >= t->total || b[k] != pattern(t->verified)) {
				if (!t->failed)
					t->bad_at = t->verified;
				t->failed = true;
			}
		}
	}
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	if (t->verified >= t->total)
		t->done = true;
	return ERR_OK;
}

static err_t tt_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	tt_push(arg);
	return ERR_OK;
}

static void tt_err(void *arg, err_t err)
{
	struct tcp_test *t = arg;

	t->pcb = NULL; /* freed by lwIP */
	t->err = err;
	t->failed = true;
	t->done = true;
}

static err_t tt_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct tcp_test *t = arg;

	t->connected = true;
	tt_push(t);
	return ERR_OK;
}

static bool tt_done(void *arg)
{
	return ((struct tcp_test *)arg)->done;
}

static int nettest_tcp(const ip_addr_t *dst, uint64_t bytes, u16_t port)
{
	struct tcp_test t = {.total = bytes};
	uint64_t start = time_ns(), ns;

	t.pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	if (!t.pcb) {
		printf("nettest: no TCP pcb\n");
		return 1;
	}
	tcp_arg(t.pcb, &t);
	tcp_recv(t.pcb, tt_recv);
	tcp_sent(t.pcb, tt_sent);
	tcp_err(t.pcb, tt_err);
	tcp_nagle_disable(t.pcb);
	if (tcp_connect(t.pcb, dst, port, tt_connected) != ERR_OK) {
		printf("nettest: connect failed\n");
		tcp_abort(t.pcb);
		return 1;
	}
	netdev_wait(tt_done, &t, 300000000000ull);
	ns = time_ns() - start;
	if (t.pcb) {
		tcp_arg(t.pcb, NULL);
		tcp_recv(t.pcb, NULL);
		tcp_sent(t.pcb, NULL);
		tcp_err(t.pcb, NULL);
		if (tcp_close(t.pcb) != ERR_OK)
			tcp_abort(t.pcb);
	}
	if (console_interrupted()) {
		printf("nettest: tcp stopped by Ctrl-C: %llu of %llu bytes verified\n",
		       (unsigned long long)t.verified, (unsigned long long)t.total);
		return 1;
	}
	if (t.failed || t.verified != t.total) {
		printf("nettest: tcp FAILED: %llu of %llu bytes verified (first bad byte at %llu, "
		       "lwIP error %d)\n",
		       (unsigned long long)t.verified, (unsigned long long)t.total,
		       (unsigned long long)t.bad_at, t.err);
		return 1;
	}
	printf("nettest: tcp %llu bytes echoed and verified in %llu ms (%llu kbit/s)\n",
	       (unsigned long long)t.total, (unsigned long long)(ns / 1000000),
	       (unsigned long long)(t.total * 8 * 1000000 / (ns / 1000 + 1)));
	return 0;
}

static bool never(void *arg)
{
	return false;
}

static int nettest_udp(const ip_addr_t *dst, u16_t port, unsigned count, unsigned size)
{
	struct udp_pcb *pcb = udp_new_ip_type(IPADDR_TYPE_V4);
	unsigned sent = 0, busy = 0;
	uint64_t start = time_ns(), ns;

	if (!pcb)
		return 1;
	while (sent < count && time_ns() - start < 60000000000ull && !console_interrupted()) {
		struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)size, PBUF_RAM);
		err_t err;

		if (!p) {
			netdev_wait(never, NULL, 0);
			continue;
		}
		for (unsigned i = sizeof sent; i < size; i++)
			((uint8_t *)p->payload)[i] = pattern((uint64_t)sent * size + i);
		memcpy(p->payload, &sent, sizeof sent);
		err = net_udp_sendto(pcb, p, dst, port);
		pbuf_free(p);
		if (err == ERR_OK) {
			sent++;
		} else {
			/* Ring full: let the device catch up, then retry. */
			busy++;
			netdev_wait(never, NULL, 0);
		}
	}
	ns = time_ns() - start;
	udp_remove(pcb);
	printf("nettest: udp %u datagrams of %u bytes in %llu ms: %llu packets/s (%u busy "
	       "retries)\n",
	       sent, size, (unsigned long long)(ns / 1000000),
	       (unsigned long long)((uint64_t)sent * 1000000000ull / (ns + 1)), busy);
	return sent == count ? 0 : 1;
}

static int cmd_nettest(int argc, char **argv)
{
	ip_addr_t dst;
	u16_t port = 7;

	if (argc >= 4 && !strcmp(argv[1], "tcp") && ipaddr_aton(argv[2], &dst)) {
		uint64_t bytes = strtoull(argv[3], NULL, 0);

		if (argc > 4)
			port = (u16_t)strtoul(argv[4], NULL, 0);
		if (bytes == 0)
			return 1;
		return nettest_tcp(&dst, bytes, port);
	}
	if (argc >= 4 && !strcmp(argv[1], "udp") && net_parse_peer(argv[2], &dst, &port) == 0) {
		unsigned size = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 0) : 64;

		if (size < sizeof(unsigned) || size > 1472)
			size = 64;
		return nettest_udp(&dst, port, (unsigned)strtoul(argv[3], NULL, 0), size);
	}
	printf("usage: nettest tcp A.B.C.D BYTES [PORT] | nettest udp A.B.C.D:PORT COUNT [SIZE]\n");
	return 1;
}
SHELL_COMMAND(nettest, "nettest tcp HOST BYTES [PORT] | udp HOST:PORT COUNT [SIZE]",
	      "TCP echo check / UDP flood for tests and benchmarks", cmd_nettest);
