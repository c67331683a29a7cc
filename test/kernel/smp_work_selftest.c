/*
 * `test=smp`, second part: the CPUs working at once. Cross-CPU calls run
 * where they were sent and come back quickly (a wake-up IPI, not the next
 * tick); a call aimed at a CPU busy with an earlier call times out and is
 * withdrawn, never to run; a ticket-lock torture keeps exact totals with
 * every CPU incrementing shared counters; and the page allocator and the
 * heap, hammered from every CPU at once, never hand out one piece of memory
 * twice.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "kernel/acpi/acpi.h"
#include "kernel/lib/spinlock.h"
#include "kernel/mm/page_alloc.h"
#include "kernel/selftest/selftest.h"
#include "kernel/smp/smp.h"
#include "kernel/smp/smp_call.h"
#include "kernel/time/timer.h"

#define CALL_TIMEOUT_MS 2000
#define ROUND_TRIPS	100

/* ---- calls ---- */

static void where_am_i(void *arg)
{
	*(int *)arg = (int)this_cpu()->index;
}

struct call_to_boot {
	int *ran_on, *err;
};

/* Run on CPU 1: try to call CPU 0. */
static void call_boot_cpu(void *arg)
{
	struct call_to_boot *a = arg;

	*a->err = smp_call(0, where_am_i, a->ran_on, 10);
}

/* A call that sleeps: only thread context may. */
static void sleep_20ms(void *arg)
{
	uint64_t t0 = time_ns();

	sleep_ms(20);
	*(uint64_t *)arg = (time_ns() - t0) / 1000;
}

static void check_calls(void)
{
	unsigned n = smp_cpus_online();
	bool all = true;

	for (unsigned i = 0; i < n; i++) {
		int ran_on = -1;
		int err = smp_call(i, where_am_i, &ran_on, CALL_TIMEOUT_MS);

		if (err || ran_on != (int)i) {
			check(false, "a call to CPU %u ran on CPU %d (error %d)", i, ran_on, err);
			all = false;
		}
	}
	check(all, "a call to each of the %u CPUs ran on that CPU", n);
	check(smp_call(n, where_am_i, &(int){0}, 10) == -ENODEV,
	      "a call to CPU %u, which is not online, gives -ENODEV", n);
	if (n > 1) {
		int err = 0, ran_on = -1;
		struct call_to_boot arg = {&ran_on, &err};
		smp_call(1, call_boot_cpu, &arg, CALL_TIMEOUT_MS);
		check(err == -ENODEV && ran_on == -1,
		      "CPU 1 cannot call the boot CPU, which runs no idle loop (%d)", err);
	}
	if (n < 2)
		return;

	uint64_t slept_us = 0;
	int err = smp_call(1, sleep_20ms, &slept_us, CALL_TIMEOUT_MS);
	check(err == 0 && slept_us >= 20000 && slept_us < 200000,
	      "a call may sleep: 20 ms on CPU 1 took %llu us (%d)", (unsigned long long)slept_us,
	      err);

	/* The caller sleeps in hlt; the answer's wake-up IPI must end each
	 * wait, so a round trip costs far less than the 10 ms tick. */
	uint64_t t0 = time_ns();
	int sink;
	for (int i = 0; i < ROUND_TRIPS; i++)
		smp_call(1, where_am_i, &sink, CALL_TIMEOUT_MS);
	uint64_t us = (time_ns() - t0) / 1000 / ROUND_TRIPS;
	check(us < 2000, "%d calls to CPU 1 and back: %llu us each (the tick is 10000 us)",
	      ROUND_TRIPS, (unsigned long long)us);
}

/* A call that keeps its CPU's idle loop busy for `arg` milliseconds. */
static void busy_ms(void *arg)
{
	uint64_t end = time_ns() + (uint64_t)(uintptr_t)arg * 1000000ull;

	while (time_ns() < end)
		cpu_relax();
}

static int late_ran;
static void mark_ran(void *arg)
{
	__atomic_store_n(&late_ran, 1, __ATOMIC_RELEASE);
}

static void check_call_timeout(void)
{
	struct smp_call busy;
	int err;

	if (smp_cpus_online() < 2)
		return;
	late_ran = 0;
	err = smp_call_start(1, &busy, busy_ms, (void *)(uintptr_t)300);
	check(err == 0, "CPU 1 is kept busy for 300 ms by a call (%d)", err);
	err = smp_call(1, mark_ran, NULL, 50);
	check(err == -ETIMEDOUT, "a second call, given 50 ms, times out (%d)", err);
	check(smp_call_wait(&busy, CALL_TIMEOUT_MS) == 0, "the busy call finishes");
	err = smp_call(1, where_am_i, &(int){0}, CALL_TIMEOUT_MS);
	check(err == 0 && !__atomic_load_n(&late_ran, __ATOMIC_ACQUIRE),
	      "the withdrawn call never ran, and CPU 1 takes calls again (%d)", err);
}

/* ---- the lock torture ---- */

/* For a fixed time rather than a fixed count: with more virtual CPUs than
 * host cores, each hand-over of a fair (ticket) lock may wait for the host
 * to schedule the one vCPU whose turn it is, so a count would take
 * anywhere from milliseconds to minutes. Each CPU counts its own rounds
 * privately; the shared total must equal their sum exactly. */
#define TORTURE_MS 300

static struct spinlock torture_lock = SPINLOCK_INIT("torture");
static uint64_t counter_a, counter_b; /* b == 2a whenever the lock is free */
static unsigned torn;
static uint64_t torture_end;
static uint64_t rounds[ACPI_MAX_CPUS]; /* each written by its own CPU only */

static void torture(void *arg)
{
	uint64_t *mine = arg;

	while (time_ns() < torture_end) {
		unsigned long fl = spin_lock_irqsave(&torture_lock);

		if (counter_b != 2 * counter_a)
			torn++;
		counter_a++;
		counter_b += 2;
		spin_unlock_irqrestore(&torture_lock, fl);
		(*mine)++;
	}
}

static void *rounds_for(unsigned cpu)
{
	return &rounds[cpu];
}

static void check_torture(void)
{
	unsigned n = smp_cpus_online(), busy = 0;
	uint64_t sum = 0;
	int err;

	counter_a = counter_b = torn = 0;
	memset(rounds, 0, sizeof(rounds));
	torture_end = time_ns() + TORTURE_MS * 1000000ull;
	err = smp_call_everywhere(torture, rounds_for, 30000);
	for (unsigned i = 0; i < n; i++) {
		sum += rounds[i];
		busy += rounds[i] > 0;
	}
	check(err == 0 && busy == n, "lock torture: all %u CPUs took the lock (%u did)", n, busy);
	check(counter_a == sum && counter_b == 2 * sum,
	      "the shared counters are exact: %llu increments, %llu by the CPUs' own counts, "
	      "in %d ms (%llu per second)",
	      (unsigned long long)counter_a, (unsigned long long)sum, TORTURE_MS,
	      (unsigned long long)(sum * 1000 / TORTURE_MS));
	check(torn == 0, "no CPU ever saw the pair half updated (%u times)", torn);
}

/* ---- the allocators from every CPU ---- */

#define ALLOC_ROUNDS 48

struct alloc_log {
	void *page[ALLOC_ROUNDS];
	unsigned npages[ALLOC_ROUNDS];
	void *heap[ALLOC_ROUNDS];
	unsigned failed;
};

static struct alloc_log logs[ACPI_MAX_CPUS];

static uint64_t stamp(unsigned cpu, unsigned round)
{
	return 0x57a3900000000000ull | (uint64_t)cpu << 16 | round;
}

static void allocate(void *arg)
{
	struct alloc_log *log = arg;
	unsigned cpu = this_cpu()->index;

	for (unsigned r = 0; r < ALLOC_ROUNDS; r++) {
		log->npages[r] = 1 + r % 3;
		log->page[r] = page_alloc(log->npages[r]);
		log->heap[r] = malloc(24 + 40 * (r % 5));
		if (!log->page[r] || !log->heap[r]) {
			log->failed++;
			continue;
		}
		/* Stamp the last word of the run and the start of the piece:
		 * a piece handed out twice gets another CPU's stamp. */
		uint64_t *last =
			(uint64_t *)((char *)log->page[r] + log->npages[r] * PAGE_SIZE) - 1;
		*last = stamp(cpu, r);
		*(uint64_t *)log->heap[r] = stamp(cpu, r);
	}
}

static void *log_for(unsigned cpu)
{
	return &logs[cpu];
}

static int by_address(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
	return x < y ? -1 : x > y;
}

static void check_allocators(void)
{
	static uintptr_t starts[ACPI_MAX_CPUS * ALLOC_ROUNDS];
	unsigned n = smp_cpus_online(), count = 0, failed = 0, stamps_ok = 0, overlaps = 0;
	struct mm_stats before, after;
	int err;

	memset(logs, 0, sizeof(logs));
	mm_get_stats(&before);
	err = smp_call_everywhere(allocate, log_for, 30000);

	for (unsigned c = 0; c < n; c++) {
		failed += logs[c].failed;
		for (unsigned r = 0; r < ALLOC_ROUNDS; r++) {
			void *p = logs[c].page[r];
			if (!p || !logs[c].heap[r])
				continue;
			uint64_t *last =
				(uint64_t *)((char *)p + logs[c].npages[r] * PAGE_SIZE) - 1;
			if (*last == stamp(c, r) && *(uint64_t *)logs[c].heap[r] == stamp(c, r))
				stamps_ok++;
			/* The run's pages in order, tagged by their length in
			 * the low bits (page addresses have 12 free). */
			starts[count++] = (uintptr_t)p | logs[c].npages[r];
		}
	}
	qsort(starts, count, sizeof(starts[0]), by_address);
	for (unsigned i = 1; i < count; i++) {
		uintptr_t prev = starts[i - 1] & ~(PAGE_SIZE - 1);
		uintptr_t prev_end = prev + (starts[i - 1] & (PAGE_SIZE - 1)) * PAGE_SIZE;
		if ((starts[i] & ~(PAGE_SIZE - 1)) < prev_end)
			overlaps++;
	}
	check(err == 0 && failed == 0 && count == n * ALLOC_ROUNDS,
	      "%u CPUs at once: %u page runs and %u heap pieces allocated (%u failed)", n, count,
	      count, failed);
	check(overlaps == 0, "no two page runs overlap (%u overlaps)", overlaps);
	check(stamps_ok == count, "every run and piece still holds its own CPU's stamp (%u of %u)",
	      stamps_ok, count);

	for (unsigned c = 0; c < n; c++)
		for (unsigned r = 0; r < ALLOC_ROUNDS; r++) {
			page_free(logs[c].page[r], logs[c].npages[r]);
			free(logs[c].heap[r]);
		}
	mm_get_stats(&after);
	check(after.free == before.free, "all freed: %llu bytes free before and after",
	      (unsigned long long)after.free);
}

static void smp_locks_selftest(void)
{
	check_calls();
	check_call_timeout();
	check_torture();
	check_allocators();
}
SELFTEST(smp, smp_locks_selftest);
