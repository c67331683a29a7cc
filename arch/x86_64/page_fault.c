/*
 * The page-fault error code, decoded (Intel SDM vol. 3A, 4.7). See
 * page_fault.h.
 */
#include <stdarg.h>
#include <stdio.h>

#include "arch/x86_64/page_fault.h"

#define PF_KNOWN                                                                                   \
	(PF_PRESENT | PF_WRITE | PF_USER | PF_RSVD | PF_FETCH | PF_PK | PF_SS | PF_HLAT | PF_SGX)

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len >= o->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

const char *page_fault_describe(uint64_t code, char *buf, size_t size)
{
	struct out o = {buf, size, 0};

	if (size == 0)
		return buf;
	buf[0] = '\0';
	/* With RSVD set the walk stopped at a malformed entry: P is then 1,
	 * but "protection violation" would mislead, so say what happened. */
	if (code & PF_RSVD)
		put(&o, "reserved bit set in a paging entry (an address beyond MAXPHYADDR?)");
	else
		put(&o, code & PF_PRESENT ? "protection violation" : "page not present");
	put(&o, ", %s", code & PF_WRITE ? "write" : "read");
	put(&o, ", %s mode", code & PF_USER ? "user" : "supervisor");
	put(&o, ", %s", code & PF_FETCH ? "instruction fetch" : "data access");
	if (code & PF_PK)
		put(&o, ", protection key");
	if (code & PF_SS)
		put(&o, ", shadow stack");
	if (code & PF_HLAT)
		put(&o, ", HLAT paging");
	if (code & PF_SGX)
		put(&o, ", SGX");
	if (code & ~(uint64_t)PF_KNOWN)
		put(&o, ", other bits %#llx", (unsigned long long)(code & ~(uint64_t)PF_KNOWN));
	return buf;
}
