/*
 * The shell's `uptime` command (kernel/time/timer.c).
 */
#include <stdint.h>
#include <stdio.h>

#include "kernel/shell/shell.h"
#include "kernel/time/timer.h"

static int cmd_uptime(int argc, char **argv)
{
	uint64_t ns = time_ns();

	printf("up %llu.%03llu s, ticks %llu\n", (unsigned long long)(ns / 1000000000u),
	       (unsigned long long)(ns / 1000000u % 1000u), (unsigned long long)timer_ticks());
	return 0;
}
SHELL_COMMAND(uptime, "uptime", "time since the timer started, and timer ticks", cmd_uptime);
