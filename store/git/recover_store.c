/*
 * recover_store.c - recovery into a struct store (store.h): the only way
 * to take the journal's records without committing them to Git first,
 * since deletions need a tree to apply to.
 */
#include "gitstore_int.h"

static int load_node(void *ctx, const char *path, const void *value,
		     uint32_t len, const struct xsw_perm *perms,
		     unsigned nperms)
{
	return store_load_node(ctx, path, value, len, perms, nperms);
}

static int load_effect(void *ctx, const struct store_effect *e)
{
	return store_load_effect(ctx, e);
}

int gitstore_recover(struct gitstore *gs, struct store *st)
{
	uint64_t seq;
	int e = store_load_begin(st);
	if (!e)
		e = gs_recover(gs, load_node, load_effect, st, &seq);
	if (!e)
		e = store_load_end(st, seq);
	return e;
}

struct forward {
	gitstore_node_fn fn;
	void *ctx;
};

static int forward_node(void *ctx, const struct store_node_view *v)
{
	struct forward *f = ctx;
	return f->fn(f->ctx, v->path, v->len ? v->value : "", v->len,
		     v->perms, v->nperms);
}

int gitstore_recover_nodes(struct gitstore *gs, gitstore_node_fn fn,
			   void *ctx, uint64_t *last_seq)
{
	struct forward f = { fn, ctx };
	struct store *st;
	int e = store_new(&st);
	if (e)
		return e;
	if (!(e = gitstore_recover(gs, st)) && fn)
		e = store_walk(st, "/", forward_node, &f);
	if (!e && last_seq)
		*last_seq = gs->appended_seq;
	store_free(st);
	return e;
}
