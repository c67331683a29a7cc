/*
 * panic() for host tests (panic_host.h): abort with the message, or, when
 * the test expects it, record the message and jump back into the test.
 * Weak, like the other shims.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernel/lib/panic.h"
#include "panic_host.h"

_Thread_local jmp_buf *panic_host_catch;
_Thread_local char panic_host_message[256];

__attribute__((weak)) noreturn void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(panic_host_message, sizeof panic_host_message, fmt, ap);
	va_end(ap);
	if (panic_host_catch) {
		jmp_buf *to = panic_host_catch;

		panic_host_catch = NULL;
		longjmp(*to, 1);
	}
	fprintf(stderr, "*** PANIC: %s\n", panic_host_message);
	abort();
}
