/*
 * Scatterlist helpers (kernel/lib/scatterlist.h): building lists, and
 * walking them across chain links.
 */
#include <stddef.h>
#include <string.h>

#include "kernel/lib/scatterlist.h"

void sg_init_table(struct scatterlist *sg, unsigned n)
{
	memset(sg, 0, sizeof(*sg) * n);
	if (n)
		sg[n - 1].flags = SG_END;
}

void sg_init_one(struct scatterlist *sg, void *buf, uint32_t len)
{
	sg_init_table(sg, 1);
	sg_set_buf(sg, buf, len);
}

void sg_set_buf(struct scatterlist *sg, void *buf, uint32_t len)
{
	sg->buf = buf;
	sg->length = len;
	sg->flags &= SG_END;
}

void sg_mark_end(struct scatterlist *sg)
{
	sg->flags = (sg->flags & ~SG_CHAIN) | SG_END;
}

void sg_chain(struct scatterlist *prv, unsigned prv_nents, struct scatterlist *next)
{
	struct scatterlist *link = &prv[prv_nents - 1];

	link->buf = next;
	link->length = 0;
	link->flags = SG_CHAIN;
}

struct scatterlist *sg_next(struct scatterlist *sg)
{
	if (sg->flags & SG_END)
		return NULL;
	sg++;
	while (sg->flags & SG_CHAIN)
		sg = sg->buf;
	return sg;
}
