/*
 * The benchmark runner (kernel/selftest/bench.h): `bench=NAME[,NAME...]` runs the
 * named BENCHMARKs in order and exits QEMU. Figures only: an unknown name
 * is reported, and the exit status says whether every name was found.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/machine.h"
#include "kernel/selftest/bench.h"

void bench_run(const char *list)
{
	char names[256];
	char *name, *next;
	bool unknown = false;

	snprintf(names, sizeof names, "%s", list);
	for (name = names; name; name = next) {
		const struct benchmark *found = NULL;

		next = strchr(name, ',');
		if (next)
			*next++ = '\0';
		if (!*name)
			continue;
		SECTION_FOREACH(benchmarks, struct benchmark, b)
		{
			if (strcmp(b->name, name) == 0)
				found = b;
		}
		if (!found) {
			printf("bench: no benchmark '%s'; known:", name);
			SECTION_FOREACH(benchmarks, struct benchmark, b)
			{
				printf(" %s", b->name);
			}
			printf("\n");
			unknown = true;
			continue;
		}
		printf("bench: %s\n", found->name);
		found->run();
	}
	printf("bench: done\n");
	machine_exit(unknown ? EXIT_FAIL : EXIT_PASS);
}
