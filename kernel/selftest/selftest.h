/*
 * In-kernel self-tests, run by `test=NAME[,NAME...]`. Each check prints a
 * TAP-like line, `ok N - text` or `not ok N - text`; after all tests the
 * kernel prints `selftest: PASS` or `selftest: FAIL` and exits QEMU with
 * EXIT_PASS or EXIT_FAIL.
 */
#ifndef KERNEL_SELFTEST_SELFTEST_H
#define KERNEL_SELFTEST_SELFTEST_H

#include <stdbool.h>
#include "kernel/lib/section.h"

/* Several files may register parts of one test under the same name (as
 * `smp` does): `test=NAME` runs them all, in link order. */
struct selftest {
	const char *name;
	void (*run)(void);
};

#define SELFTEST(name_, func)                                                                      \
	SECTION_ENTRY(selftests, struct selftest, selftest_##func) = {#name_, func}

/* Record one check; returns `ok` so callers can stop early on failure. */
bool check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Run the tests named in `list` (comma separated); never returns. */
void selftest_run(const char *list) __attribute__((__noreturn__));

#endif
