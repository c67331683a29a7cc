/*
 * The self-test runner (kernel/selftest/selftest.h): `test=NAME[,NAME...]` runs the
 * named SELFTESTs in the order given, each check printing a TAP-like line,
 * and the machine exits with a status saying whether all passed. The QEMU
 * tests on the host read the lines and the status.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/machine.h"
#include "kernel/selftest/selftest.h"

static unsigned checks, failures;

bool check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %u - ", ok ? "ok" : "not ok", ++checks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		failures++;
	return ok;
}

/* Run every part registered under `name` (in link order); how many. */
static unsigned run_selftest(const char *name)
{
	unsigned parts = 0;

	SECTION_FOREACH(selftests, struct selftest, t)
	{
		if (strcmp(t->name, name) == 0) {
			printf("# selftest %s\n", t->name);
			t->run();
			parts++;
		}
	}
	return parts;
}

void selftest_run(const char *list)
{
	char names[256];
	char *name, *next;
	unsigned ran = 0;

	if (strlen(list) >= sizeof names) {
		check(false, "test list of %zu characters fits in %zu", strlen(list),
		      sizeof names - 1);
		list = "";
	}
	strcpy(names, list);
	for (name = names; name; name = next) {
		next = strchr(name, ',');
		if (next)
			*next++ = '\0';
		if (!*name)
			continue; /* "boot,,newlib" */
		if (!run_selftest(name)) {
			check(false, "unknown self-test '%s'", name);
			continue;
		}
		ran++;
	}
	/* `test=` with nothing in it is a mistake, not a pass. */
	if (ran == 0 && failures == 0)
		check(false, "test= names at least one self-test (got '%s')", list);
	printf("# %u checks, %u failed\n", checks, failures);
	printf("selftest: %s\n", failures ? "FAIL" : "PASS");
	machine_exit(failures ? EXIT_FAIL : EXIT_PASS);
}
