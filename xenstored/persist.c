/*
 * persist.c - persistence barrier. In-memory only for now: the Git store
 * plugs in here (submit appends to the batch, flush writes it).
 */
#include "persist.h"

int xsd_persist_init(const struct xsd_config *cfg, struct store *st)
{
	(void)cfg;
	(void)st;
	return 0;
}

void xsd_persist_submit(const struct store_commit *c)
{
	(void)c;
}

int xsd_persist_flush(void)
{
	return 0;
}

void xsd_persist_close(void)
{
}
