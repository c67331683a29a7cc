/* panic(): the kernel found itself in a state it cannot continue from. */
#include <stdarg.h>
#include <stdio.h>

#include "arch/x86_64/machine.h"
#include "kernel/lib/panic.h"

noreturn void panic(const char *fmt, ...)
{
	va_list ap;

	__asm__ volatile("cli");
	printf("\n*** PANIC: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	machine_exit(EXIT_PANIC);
}
