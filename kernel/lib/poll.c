/*
 * The pollers registered with POLLER() (kernel/lib/poll.h), gathered by the
 * linker into the `pollers` section (linker/kernel.ld).
 */
#include "kernel/lib/poll.h"

bool poll_all(void)
{
	bool busy = false;

	/* Every poller runs each round, even after one reported work, so a
	 * flood on one cannot starve the others. */
	SECTION_FOREACH(pollers, struct poller, p)
	{
		if (p->poll())
			busy = true;
	}
	return busy;
}

bool poll_pending(void)
{
	SECTION_FOREACH(pollers, struct poller, p)
	{
		if (p->pending && p->pending())
			return true;
	}
	return false;
}
