/*
 * A tiny TAP-style reporter for host unit tests: one `ok N - name` or
 * `not ok N - name` line per check, and a non-zero exit status if any check
 * failed. test_host_programs.py turns each line into one pytest result.
 */
#ifndef TEST_HOST_TAP_H
#define TEST_HOST_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_count, tap_failed;

static inline bool tap_check(bool ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	printf("%s %d - ", ok ? "ok" : "not ok", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok) {
		printf(" (%s:%d)", file, line);
		tap_failed++;
	}
	printf("\n");
	fflush(stdout);
	return ok;
}

#define CHECK(cond, ...) tap_check((cond), __FILE__, __LINE__, __VA_ARGS__)

static inline int tap_done(void)
{
	printf("# %d checks, %d failed\n", tap_count, tap_failed);
	return tap_failed ? 1 : 0;
}

#endif
