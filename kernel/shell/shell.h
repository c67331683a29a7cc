/*
 * The serial shell. Commands are declared next to the code they show:
 *	SHELL_COMMAND(lspci, "lspci", "list PCI functions", cmd_lspci);
 */
#ifndef KERNEL_SHELL_SHELL_H
#define KERNEL_SHELL_SHELL_H

#include "kernel/lib/section.h"

struct shell_command {
	const char *name;
	const char *usage; /* "blk read DEV SECTOR [COUNT]" */
	const char *help;
	int (*run)(int argc, char **argv); /* 0 = success */
};

#define SHELL_COMMAND(id, usage_, help_, func)                                                     \
	SECTION_ENTRY(shell_commands, struct shell_command, shell_cmd_##id) = {#id, usage_, help_, \
									       func}

void shell_run(void) __attribute__((__noreturn__));

#endif
