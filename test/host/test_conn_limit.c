/*
 * Host unit test for the TCP services' connection accounting
 * (net/conn_limit.c): the limit per service, waiting for a slot in order,
 * the oldest idle connection evicted (and never a busy one, nor one idle
 * for less than evict_after), idle and request timeouts (a trickling
 * request is not saved by its bytes), and time that wraps around 2^32 ms.
 * A fake service records every end and activation.
 */
#include <string.h>

#include "net/conn_limit.h"
#include "tap.h"

#define N 8

static struct conn conns[N];
static enum conn_end ended_why[N];
static int ended[N], activated[N];
static uint32_t clock_now;

static int idx(struct conn *c)
{
	return (int)(c - conns);
}

static void fake_end(struct conn *c, enum conn_end why)
{
	ended[idx(c)]++;
	ended_why[idx(c)] = why;
	conn_close(c, clock_now);
}

static void fake_activate(struct conn *c)
{
	activated[idx(c)]++;
}

static const struct conn_pool_ops ops = {.end = fake_end, .activate = fake_activate};

static struct conn_pool new_pool(unsigned max, uint32_t start)
{
	memset(conns, 0, sizeof conns);
	memset(ended, 0, sizeof ended);
	memset(activated, 0, sizeof activated);
	clock_now = start;
	return (struct conn_pool){.name = "t",
				  .max = max,
				  .idle_ms = 10000,
				  .request_ms = 3000,
				  .evict_after = 1000,
				  .ops = &ops};
}

static void test_limit_and_queue(void)
{
	struct conn_pool p = new_pool(2, 0);

	CHECK(conn_open(&p, &conns[0], 0) && conn_open(&p, &conns[1], 0),
	      "two connections fit a pool of two");
	/* Both busy: nothing may be evicted, so the next ones wait in order. */
	conn_set_busy(&conns[0], true, 0);
	conn_set_busy(&conns[1], true, 0);
	CHECK(!conn_open(&p, &conns[2], 5000) && conns[2].waiting, "a third waits");
	CHECK(!conn_open(&p, &conns[3], 5100), "a fourth waits too");
	CHECK(p.nactive == 2 && p.nwaiting == 2 && p.stats.queued == 2,
	      "2 active, 2 waiting, 2 counted as queued");
	CHECK(!ended[0] && !ended[1], "busy connections are never evicted");
	conn_close(&conns[1], 5200);
	CHECK(activated[2] == 1 && !conns[2].waiting && !activated[3],
	      "a freed slot goes to the oldest waiting connection, and only to it");
	conn_close(&conns[2], 5300);
	CHECK(activated[3] == 1 && p.nactive == 2 && p.nwaiting == 0, "then to the next");
	conn_close(&conns[0], 5400);
	conn_close(&conns[0], 5400);
	CHECK(p.nactive == 1 && p.stats.peak == 2, "closing twice is harmless");
}

static void test_evict_oldest_idle(void)
{
	struct conn_pool p = new_pool(3, 100);

	conn_open(&p, &conns[0], 100);
	conn_open(&p, &conns[1], 200);
	conn_open(&p, &conns[2], 300);
	conn_set_busy(&conns[0], true, 400); /* oldest, but busy */
	/* conns[2] trickles a request: progress, but still waiting on its peer. */
	conn_progress(&conns[2], 1000);
	conn_request_begin(&conns[2], 1000);
	CHECK(!conn_open(&p, &conns[3], 1150) && !ended[1] && !ended[2],
	      "nobody idle for evict_after yet: the newcomer waits, no one is evicted");
	conn_close(&conns[3], 1150);
	CHECK(conn_open(&p, &conns[4], 1250), "later, a newcomer gets a slot at once");
	CHECK(ended[1] == 1 && ended_why[1] == CONN_EVICTED && !ended[0] && !ended[2],
	      "by evicting the connection idle longest (conns[1]), not the busy one");
	conn_set_busy(&conns[4], true, 1250);
	CHECK(conn_open(&p, &conns[5], 1350) && ended[2] == 1,
	      "a trickling request counts as idle from its start, not from its last byte");
	CHECK(p.stats.evicted == 2, "evictions are counted");
	conn_set_busy(&conns[5], true, 1350);
	conn_set_busy(&conns[0], false, 1400);
	CHECK(!conn_open(&p, &conns[6], 2000) && !ended[0],
	      "idle again only from the moment it stopped being busy");
	conn_pool_tick(&p, 2400);
	CHECK(ended[0] == 1 && !conns[6].waiting && activated[6] == 1,
	      "once it has been idle long enough, a tick gives its slot to the waiting one");
}

static void test_timeouts(uint32_t t0)
{
	struct conn_pool p = new_pool(4, t0);

	conn_open(&p, &conns[0], t0);
	conn_open(&p, &conns[1], t0);
	conn_open(&p, &conns[2], t0);
	conn_request_begin(&conns[1], t0 + 100);
	for (uint32_t t = 100; t <= 2900; t += 100) {
		conn_progress(&conns[1], t0 + t); /* a byte every 100 ms */
		conn_progress(&conns[2], t0 + t);
		conn_pool_tick(&p, t0 + t);
	}
	CHECK(!ended[1], "a request under way is not ended before request_ms");
	conn_request_begin(&conns[1], t0 + 2950); /* already timed: no new deadline */
	conn_pool_tick(&p, t0 + 3100);
	CHECK(ended[1] == 1 && ended_why[1] == CONN_REQUEST_TIMEOUT,
	      "a request not complete within request_ms is ended, bytes or not (t0 %u)", t0);
	conn_pool_tick(&p, t0 + 9999);
	CHECK(!ended[0], "not idle for idle_ms yet");
	conn_pool_tick(&p, t0 + 10000);
	CHECK(ended[0] == 1 && ended_why[0] == CONN_IDLE_TIMEOUT && !ended[2],
	      "idle for idle_ms: ended; one with progress is not");
	conn_request_begin(&conns[2], t0 + 10000);
	conn_request_end(&conns[2]);
	conn_pool_tick(&p, t0 + 12000);
	CHECK(!ended[2], "a completed request has no deadline");
	CHECK(p.stats.idle_timeouts == 1 && p.stats.request_timeouts == 1, "both counted");
}

static void test_waiting_timeout(void)
{
	struct conn_pool p = new_pool(1, 0);

	conn_open(&p, &conns[0], 0);
	conn_set_busy(&conns[0], true, 0);
	conn_open(&p, &conns[1], 50);
	for (uint32_t t = 500; t < 10050; t += 500) {
		conn_progress(&conns[0], t);
		conn_pool_tick(&p, t);
	}
	CHECK(!ended[1], "a connection may wait for a slot up to idle_ms");
	conn_pool_tick(&p, 10050);
	CHECK(ended[1] == 1 && ended_why[1] == CONN_IDLE_TIMEOUT && p.nwaiting == 0,
	      "and is ended after that");
}

static void test_format(void)
{
	struct conn_pool p = new_pool(5, 0);
	char buf[256], small[16];

	conn_open(&p, &conns[0], 0);
	conn_pool_format(&p, buf, sizeof buf);
	CHECK(strstr(buf, "1 of 5 active") && strstr(buf, "request timeouts 0 (3000 ms)") &&
		      buf[strlen(buf) - 1] == '\n',
	      "the netstat line: %s", buf);
	CHECK(conn_pool_format(&p, small, sizeof small) == (int)strlen(buf) &&
		      strlen(small) == sizeof small - 1,
	      "a short buffer is cut and the full length returned");
}

int main(void)
{
	test_limit_and_queue();
	test_evict_oldest_idle();
	test_timeouts(1000);
	test_timeouts(0xfffff000u); /* the millisecond clock wraps during the test */
	test_waiting_timeout();
	test_format();
	return tap_done();
}
