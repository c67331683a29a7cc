/*
 * Connection accounting for the TCP services (net/conn_limit.h): why each
 * rule exists.
 *
 * A limit per service. lwIP has one pool of TCP PCBs for everything; a
 * service that could take all of it would starve the others (and the
 * shell's own connections). Each service gets a share (net/lwipopts.h
 * derives the shares from a memory budget).
 *
 * A queue, not a refusal. A connection that arrives while its service is
 * full is already established (lwIP calls accept after the handshake);
 * resetting it would be an error for a client that merely came at a busy
 * moment. It waits instead, counted against its listener's backlog with
 * tcp_backlog_delayed(), so that once the backlog is full lwIP drops new
 * SYNs and clients retry, which is what a full listen queue does on any
 * system (RFC 9293 3.10.7.2 lets a server ignore a SYN it has no room for).
 *
 * The oldest idle connection is dropped to make room, as tcp_kill_prio()
 * does in lwIP's own pool: of the connections waiting on their peer (not
 * busy sending), the one that has waited longest. "Idle" counts from the
 * moment the connection began waiting (accepted, or its last answer
 * acknowledged), not from its last byte, so a client trickling a request
 * one byte a second is as idle as a silent one. Only a connection idle for
 * evict_after or more is dropped: one accepted a millisecond ago has a
 * request on its way, and a busy server must not reset it.
 *
 * Timeouts. A connection without progress (no byte received, none of ours
 * acknowledged) for idle_ms is ended: silent clients, and clients that
 * stopped reading what we send. A request (HTTP) must be complete within
 * request_ms of its first byte, whatever its pace: the slowloris attack
 * keeps a connection busy with a byte now and then.
 */
#include <stdio.h>

#include "net/conn_limit.h"

/* Wrap-safe: a is at or after b. */
static bool cl_after_eq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

static void cl_append(struct conn_list *l, struct conn *c)
{
	c->next = NULL;
	c->prev = l->tail;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
}

static void cl_unlink(struct conn_list *l, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
}

/* The active connection idle longest, if it has been idle long enough. */
static struct conn *cl_victim(struct conn_pool *pool, uint32_t now)
{
	struct conn *best = NULL;

	for (struct conn *c = pool->active.head; c; c = c->next) {
		if (c->busy || !cl_after_eq(now, c->idle_since + pool->evict_after))
			continue;
		if (!best || !cl_after_eq(c->idle_since, best->idle_since))
			best = c;
	}
	return best;
}

static void cl_end(struct conn *c, enum conn_end why)
{
	struct conn_pool *pool = c->pool;

	switch (why) {
	case CONN_EVICTED:
		pool->stats.evicted++;
		break;
	case CONN_IDLE_TIMEOUT:
		pool->stats.idle_timeouts++;
		break;
	case CONN_REQUEST_TIMEOUT:
		pool->stats.request_timeouts++;
		break;
	}
	pool->ops->end(c, why); /* calls conn_close(c), may free c */
}

/* Gives free slots, or the slots of evicted idle connections, to waiting
 * connections, oldest first. `self` is being opened: its caller learns
 * from conn_open's result, not from ops->activate. */
static void cl_balance(struct conn_pool *pool, struct conn *self, uint32_t now)
{
	if (pool->balancing)
		return;
	pool->balancing = true;
	while (pool->waiting.head) {
		struct conn *c = pool->waiting.head;

		if (pool->nactive >= pool->max) {
			struct conn *v = cl_victim(pool, now);

			if (!v)
				break;
			cl_end(v, CONN_EVICTED);
			continue;
		}
		cl_unlink(&pool->waiting, c);
		pool->nwaiting--;
		c->waiting = false;
		c->idle_since = c->last = now; /* its wait was not its fault */
		cl_append(&pool->active, c);
		if (++pool->nactive > pool->stats.peak)
			pool->stats.peak = pool->nactive;
		if (c != self)
			pool->ops->activate(c);
	}
	pool->balancing = false;
}

bool conn_open(struct conn_pool *pool, struct conn *c, uint32_t now)
{
	*c = (struct conn){
		.pool = pool, .opened = now, .last = now, .idle_since = now, .waiting = true};
	pool->stats.accepted++;
	cl_append(&pool->waiting, c);
	pool->nwaiting++;
	cl_balance(pool, c, now);
	if (c->waiting)
		pool->stats.queued++;
	return !c->waiting;
}

void conn_close(struct conn *c, uint32_t now)
{
	struct conn_pool *pool = c->pool;

	if (!pool)
		return;
	if (c->waiting) {
		cl_unlink(&pool->waiting, c);
		pool->nwaiting--;
	} else {
		cl_unlink(&pool->active, c);
		pool->nactive--;
	}
	c->pool = NULL;
	cl_balance(pool, NULL, now);
}

void conn_progress(struct conn *c, uint32_t now)
{
	c->last = now;
}

void conn_set_busy(struct conn *c, bool busy, uint32_t now)
{
	if (c->busy && !busy)
		c->idle_since = now;
	c->busy = busy;
}

void conn_request_begin(struct conn *c, uint32_t now)
{
	if (c->has_deadline || !c->pool || !c->pool->request_ms)
		return;
	c->deadline = now + c->pool->request_ms;
	c->has_deadline = true;
}

void conn_request_end(struct conn *c)
{
	c->has_deadline = false;
}

void conn_pool_tick(struct conn_pool *pool, uint32_t now)
{
	struct conn *c, *next;

	/* Ending a connection may move a waiting one to the active list, so
	 * each walk starts again after an end. */
	for (c = pool->waiting.head; c; c = next) {
		next = c->next;
		if (cl_after_eq(now, c->opened + pool->idle_ms)) {
			cl_end(c, CONN_IDLE_TIMEOUT);
			next = pool->waiting.head;
		}
	}
	for (c = pool->active.head; c; c = next) {
		next = c->next;
		if (cl_after_eq(now, c->last + pool->idle_ms)) {
			cl_end(c, CONN_IDLE_TIMEOUT);
			next = pool->active.head;
		} else if (c->has_deadline && cl_after_eq(now, c->deadline)) {
			cl_end(c, CONN_REQUEST_TIMEOUT);
			next = pool->active.head;
		}
	}
	cl_balance(pool, NULL, now);
}

int conn_pool_format(const struct conn_pool *pool, char *buf, size_t size)
{
	const struct conn_pool_stats *s = &pool->stats;
	char req[64] = "";

	if (pool->request_ms)
		snprintf(req, sizeof req, ", request timeouts %llu (%u ms)",
			 (unsigned long long)s->request_timeouts, (unsigned)pool->request_ms);
	return snprintf(buf, size,
			"  connections: %u of %u active (peak %u), %u waiting; accepted %llu, "
			"queued %llu, evicted %llu, idle timeouts %llu (%u ms)%s\n",
			pool->nactive, pool->max, s->peak, pool->nwaiting,
			(unsigned long long)s->accepted, (unsigned long long)s->queued,
			(unsigned long long)s->evicted, (unsigned long long)s->idle_timeouts,
			(unsigned)pool->idle_ms, req);
}
