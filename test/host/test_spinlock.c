/*
 * The ticket spinlock of kernel/lib/spinlock.c, unchanged, on host threads
 * (each thread is a CPU: test/host/shim/percpu_host.c). Several threads
 * increment shared counters under the lock and the totals must be exact;
 * the checks that catch misuse (taking a lock twice, releasing someone
 * else's, waiting on a holder that never lets go) must fire, with messages
 * that name the lock. Built twice: with ASan/UBSan, and with
 * ThreadSanitizer (build/host-tsan/), which reports any access the lock
 * fails to order.
 */
#include <pthread.h>
#include <string.h>

#include "kernel/lib/spinlock.h"
#include "panic_host.h"
#include "tap.h"

#define THREADS	   4
#define ITERATIONS 100000

static struct spinlock counter_lock = SPINLOCK_INIT("counters");
static uint64_t counter_a, counter_b; /* b is always 2a when the lock is free */
static int torn;

static void *increment(void *arg)
{
	for (int i = 0; i < ITERATIONS; i++) {
		unsigned long fl = spin_lock_irqsave(&counter_lock);

		if (counter_b != 2 * counter_a)
			torn++;
		counter_a++;
		counter_b += 2;
		spin_unlock_irqrestore(&counter_lock, fl);
	}
	return NULL;
}

static void test_totals(void)
{
	pthread_t t[THREADS];

	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, increment, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	CHECK(counter_a == (uint64_t)THREADS * ITERATIONS && counter_b == 2 * counter_a,
	      "%d threads x %d increments under the lock: a = %llu, b = %llu", THREADS, ITERATIONS,
	      (unsigned long long)counter_a, (unsigned long long)counter_b);
	CHECK(torn == 0, "no thread ever saw the pair half updated (%d times)", torn);
	CHECK(counter_lock.next == counter_lock.serving && counter_lock.holder == 0,
	      "the lock is free at the end: every ticket served (%u)", counter_lock.serving);
}

/* Run fn(l) and report whether it panicked with a message containing `want`. */
static bool panics(void (*fn)(struct spinlock *), struct spinlock *l, const char *want)
{
	jmp_buf jb;

	panic_host_message[0] = 0;
	if (setjmp(jb) == 0) {
		panic_host_catch = &jb;
		fn(l);
		panic_host_catch = NULL;
		return false;
	}
	return strstr(panic_host_message, want) != NULL;
}

static void lock_twice(struct spinlock *l)
{
	spin_lock(l);
	spin_lock(l);
}

static void unlock_free(struct spinlock *l)
{
	spin_unlock(l);
}

static void test_recursion_and_bad_release(void)
{
	struct spinlock a = SPINLOCK_INIT("recursive"), b = SPINLOCK_INIT("never taken");

	CHECK(panics(lock_twice, &a, "spinlock recursive: CPU"),
	      "taking a lock this CPU holds panics at once: \"%s\"", panic_host_message);
	CHECK(strstr(panic_host_message, "takes it again"), "and says the CPU takes it again");
	CHECK(panics(unlock_free, &b, "spinlock never taken: CPU"),
	      "releasing a lock nobody holds panics: \"%s\"", panic_host_message);
}

/* A holder that never lets go: the waiter gives up after spin_limit_ms. */
static struct spinlock stuck = SPINLOCK_INIT("stuck");
static int holder_ready;

static void *hold_forever(void *arg)
{
	spin_lock(&stuck);
	__atomic_store_n(&holder_ready, 1, __ATOMIC_RELEASE);
	return NULL; /* the thread ends holding it */
}

static void lock_stuck(struct spinlock *l)
{
	spin_lock(l);
}

static void test_held_too_long(void)
{
	pthread_t t;

	spin_limit_ms = 100;
	pthread_create(&t, NULL, hold_forever, NULL);
	pthread_join(t, NULL);
	CHECK(__atomic_load_n(&holder_ready, __ATOMIC_ACQUIRE), "another CPU holds the lock");
	CHECK(panics(lock_stuck, &stuck, "spinlock stuck: CPU"),
	      "a waiter on a lock held too long panics: \"%s\"", panic_host_message);
	CHECK(strstr(panic_host_message, "waited 100 ms") && strstr(panic_host_message, "holds it"),
	      "naming how long it waited and who holds the lock");
}

int main(void)
{
	test_totals();
	test_recursion_and_bad_release();
	test_held_too_long();
	return tap_done();
}
