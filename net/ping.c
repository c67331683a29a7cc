/*
 * ICMP echo (RFC 792), the engine behind the shell's `ping` and the net
 * self-test: an lwIP raw pcb sends the requests and catches the replies,
 * and the wait runs in netdev_wait(), which runs the stack while it sleeps.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kernel/console/console.h"
#include "kernel/netdev/netdev.h"
#include "kernel/time/timer.h"
#include "lwip/icmp.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/prot/ip4.h"
#include "lwip/raw.h"
#include "net/ping.h"

#define PING_ID	     0x5649 /* "VI" */
#define PING_DATA    56
#define PING_TIMEOUT 1000000000ull

struct ping_state {
	u16_t seq;
	bool got;
	uint64_t sent_ns, rtt_ns;
	unsigned ttl;
};

static u8_t ping_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
	struct ping_state *ps = arg;
	struct icmp_echo_hdr echo;
	u16_t hlen;

	/* The raw pcb sees the whole IP packet. */
	if (p->tot_len < IP_HLEN + sizeof echo)
		return 0;
	hlen = (u16_t)(IPH_HL((struct ip_hdr *)p->payload) * 4);
	if (pbuf_copy_partial(p, &echo, sizeof echo, hlen) != sizeof echo)
		return 0;
	if (echo.type != ICMP_ER || echo.id != lwip_htons(PING_ID) ||
	    echo.seqno != lwip_htons(ps->seq))
		return 0; /* not ours: let lwIP have it */
	ps->rtt_ns = time_ns() - ps->sent_ns;
	ps->ttl = IPH_TTL((struct ip_hdr *)p->payload);
	ps->got = true;
	pbuf_free(p);
	return 1;
}

static bool ping_done(void *arg)
{
	return ((struct ping_state *)arg)->got;
}

int net_ping(const ip_addr_t *dst, unsigned count, bool quiet, struct ping_stats *st)
{
	struct ping_state ps = {0};
	struct raw_pcb *pcb = raw_new(IP_PROTO_ICMP);
	uint64_t sum = 0;

	memset(st, 0, sizeof *st);
	if (!pcb)
		return -ENOMEM;
	raw_recv(pcb, ping_recv, &ps);
	for (unsigned i = 0; i < count; i++) {
		struct pbuf *p =
			pbuf_alloc(PBUF_IP, sizeof(struct icmp_echo_hdr) + PING_DATA, PBUF_RAM);
		struct icmp_echo_hdr *e;
		uint64_t start = time_ns();
		err_t err;

		if (console_interrupted()) { /* Ctrl-C: stop, keep what was counted */
			if (p)
				pbuf_free(p);
			break;
		}
		if (!p)
			break;
		e = p->payload;
		ps.seq = (u16_t)(i + 1);
		ps.got = false;
		ICMPH_TYPE_SET(e, ICMP_ECHO);
		ICMPH_CODE_SET(e, 0);
		e->id = lwip_htons(PING_ID);
		e->seqno = lwip_htons(ps.seq);
		for (unsigned b = 0; b < PING_DATA; b++)
			((u8_t *)(e + 1))[b] = (u8_t)b;
		e->chksum = 0;
		e->chksum = inet_chksum(e, p->len);
		ps.sent_ns = time_ns();
		err = raw_sendto(pcb, p, dst);
		pbuf_free(p);
		st->sent++;
		if (err != ERR_OK) {
			if (!quiet)
				printf("ping: send to %s failed (lwIP error %d)\n",
				       ipaddr_ntoa(dst), err);
		} else if (netdev_wait(ping_done, &ps, PING_TIMEOUT)) {
			uint64_t us = ps.rtt_ns / 1000;

			st->received++;
			sum += us;
			if (st->received == 1 || us < st->min_us)
				st->min_us = us;
			if (us > st->max_us)
				st->max_us = us;
			if (!quiet)
				printf("%u bytes from %s: icmp_seq=%u ttl=%u time=%llu.%03llu ms\n",
				       PING_DATA + 8, ipaddr_ntoa(dst), ps.seq, ps.ttl,
				       (unsigned long long)(us / 1000),
				       (unsigned long long)(us % 1000));
		} else if (!quiet && !console_interrupted()) {
			printf("no reply from %s: icmp_seq=%u\n", ipaddr_ntoa(dst), ps.seq);
		}
		/* One per second, like ping(8), but never idle after a loss. */
		if (i + 1 < count && ps.got)
			while (time_ns() - start < 1000000000ull / 4)
				netdev_wait(ping_done, &(struct ping_state){0},
					    1000000000ull / 4 - (time_ns() - start));
	}
	raw_remove(pcb);
	if (st->received)
		st->avg_us = sum / st->received;
	return (int)st->received;
}
