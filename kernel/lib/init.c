/*
 * The three rounds of init calls (kernel/lib/init.h), gathered by the
 * linker into the `initcalls_subsys`, `initcalls` and `initcalls_late`
 * sections (linker/kernel.ld).
 */
#include "kernel/lib/init.h"

void run_initcalls(void)
{
	SECTION_FOREACH(initcalls_subsys, struct initcall, call)
	call->fn();
	SECTION_FOREACH(initcalls, struct initcall, call)
	call->fn();
	SECTION_FOREACH(initcalls_late, struct initcall, call)
	call->fn();
}
