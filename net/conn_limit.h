/*
 * Connection accounting shared by the TCP services (net/conn_limit.c): a
 * limit per service, a queue for connections that arrive while it is full,
 * idle and request timeouts, and the oldest idle connection dropped to make
 * room, as lwIP's tcp_kill_prio() drops the longest-inactive PCB when its
 * pool runs dry.
 *
 * Pure bookkeeping, with no lwIP in it: the service tells it what happens
 * (progress, busy or idle, a request begun or done) and is called back to
 * end a connection or to start one that waited. Time is a millisecond
 * counter that may wrap (lwIP's sys_now()).
 */
#ifndef NET_CONN_LIMIT_H
#define NET_CONN_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a connection is ended. */
enum conn_end {
	CONN_EVICTED,	      /* the oldest idle one, to make room */
	CONN_IDLE_TIMEOUT,    /* no progress for idle_ms (or waited that long for a slot) */
	CONN_REQUEST_TIMEOUT, /* a request not complete within request_ms */
};

struct conn_pool;

struct conn {
	struct conn *prev, *next; /* in the pool's active or waiting list */
	struct conn_pool *pool;
	uint32_t opened;     /* when accepted */
	uint32_t last;	     /* last progress: bytes received or acknowledged */
	uint32_t idle_since; /* when it last began waiting on its peer */
	uint32_t deadline;   /* of the request under way, if has_deadline */
	bool busy;	     /* we owe the peer data: never evicted */
	bool has_deadline;
	bool waiting; /* accepted, but queued for a slot */
};

struct conn_list {
	struct conn *head, *tail; /* oldest first */
};

struct conn_pool_ops {
	/* Close c now and call conn_close() on it. May be called from inside
	 * conn_open() (an eviction) and conn_pool_tick(). */
	void (*end)(struct conn *c, enum conn_end why);
	/* A waiting connection got its slot. */
	void (*activate)(struct conn *c);
};

struct conn_pool_stats {
	uint64_t accepted, queued, evicted, idle_timeouts, request_timeouts;
	unsigned peak;
};

struct conn_pool {
	const char *name;
	unsigned max;	      /* connections served at once */
	uint32_t idle_ms;     /* no progress this long: ended */
	uint32_t request_ms;  /* 0, or the time a request may take */
	uint32_t evict_after; /* idle at least this long to be evicted */
	const struct conn_pool_ops *ops;
	/* State. */
	struct conn_list active, waiting;
	unsigned nactive, nwaiting;
	bool balancing;
	struct conn_pool_stats stats;
};

/* A new connection. True if it may be served now; false if it waits for a
 * slot (ops->activate tells when). Makes room by evicting the active
 * connection idle longest, if it has been idle evict_after or more. */
bool conn_open(struct conn_pool *pool, struct conn *c, uint32_t now);
/* The connection is gone (closed, aborted, reset by the peer); its slot goes
 * to the oldest waiting connection. Idempotent. */
void conn_close(struct conn *c, uint32_t now);

/* Bytes received, or ours acknowledged: the idle clock restarts. */
void conn_progress(struct conn *c, uint32_t now);
/* Busy: we have data to send or in flight. Idle: waiting on the peer. */
void conn_set_busy(struct conn *c, bool busy, uint32_t now);
/* The first byte of a request arrived: it must be complete within
 * request_ms. Nothing if a request is already timed. */
void conn_request_begin(struct conn *c, uint32_t now);
void conn_request_end(struct conn *c);

/* Ends the connections that timed out; called a few times a second. */
void conn_pool_tick(struct conn_pool *pool, uint32_t now);

/* One line (with its newline) of the pool's state and counters, for
 * `netstat` and the status page; snprintf's return value. */
int conn_pool_format(const struct conn_pool *pool, char *buf, size_t size);

#endif
