/* recover_store.c - recovery into a struct store (store.h). */
#include "gitstore_int.h"

static int load_node(void *ctx, const char *path, const void *value,
		     uint32_t len, const struct xsw_perm *perms,
		     unsigned nperms)
{
	return store_load_node(ctx, path, value, len, perms, nperms);
}

int gitstore_recover(struct gitstore *gs, struct store *st)
{
	uint64_t seq;
	int e = store_load_begin(st);
	if (!e)
		e = gitstore_recover_nodes(gs, load_node, st, &seq);
	if (!e)
		e = store_load_end(st, seq);
	return e;
}
