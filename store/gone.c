/*
 * gone.c - forgetting a domain that died or was released (XSA-322,
 * XSA-419): its nodes go, and no permission entry keeps naming it, so a
 * later domain with the same id inherits nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

struct gone_item {
	char *path;
	bool remove;
	struct xsw_perm *perms; /* the stripped list when !remove */
	unsigned nperms;
};

struct gone_walk {
	uint32_t domid;
	struct gone_item *items;
	unsigned n, cap;
	const char *removed; /* last subtree root to remove: skip inside it */
	int err;
};

static bool inside(const char *root, const char *path)
{
	size_t n = strlen(root);

	if (strncmp(root, path, n))
		return false;
	return path[n] == '/' || (n == 1 && root[0] == '/');
}

static int gone_visit(void *ctx, const struct store_node_view *v)
{
	struct gone_walk *g = ctx;
	struct gone_item *it;
	unsigned keep = 0;
	bool named = false;

	if (g->removed && inside(g->removed, v->path))
		return 0;
	for (unsigned i = 1; i < v->nperms; i++)
		named |= v->perms[i].domid == g->domid;
	/* the root is never removed, even if a domain owned it */
	if (!(v->nperms && v->perms[0].domid == g->domid && v->path[1]) &&
	    !named)
		return 0;
	if (g->n == g->cap) {
		unsigned cap = g->cap ? g->cap * 2 : 16;
		struct gone_item *n = realloc(g->items, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		g->items = n;
		g->cap = cap;
	}
	it = &g->items[g->n];
	memset(it, 0, sizeof(*it));
	if (!(it->path = strdup(v->path)))
		return -ENOMEM;
	g->n++;
	if (v->perms[0].domid == g->domid && v->path[1]) {
		it->remove = true;
		g->removed = it->path;
		return 0;
	}
	it->perms = malloc(v->nperms * sizeof(*it->perms));
	if (!it->perms)
		return -ENOMEM;
	for (unsigned i = 0; i < v->nperms; i++)
		if (i == 0 || v->perms[i].domid != g->domid)
			it->perms[keep++] = v->perms[i];
	it->nperms = keep;
	return 0;
}

int store_domain_gone(struct store *st, uint32_t domid)
{
	/* the daemon's own identity: no quota, no permission check */
	struct store_caller who = {
		.domid = 0, .privileged = true, .target = UINT32_MAX,
	};
	struct gone_walk g = { .domid = domid };
	struct store_txn *txn = NULL;
	int r;

	if (domid == 0)
		return -EINVAL; /* dom0 owns the tree's skeleton */
	r = store_walk(st, "/", gone_visit, &g);
	if (!r && g.n) {
		r = store_txn_begin(st, &who, 0, &txn);
		for (unsigned i = 0; !r && i < g.n; i++) {
			struct gone_item *it = &g.items[i];

			r = it->remove ? store_rm(st, txn, &who, it->path)
				       : store_set_perms(st, txn, &who, it->path,
							 it->perms, it->nperms);
			if (r == -ENOENT)
				r = 0; /* under a subtree removed just before */
		}
		if (r && txn)
			store_txn_abort(st, txn);
		else if (txn)
			r = store_txn_commit(st, txn);
	}
	for (unsigned i = 0; i < g.n; i++) {
		free(g.items[i].path);
		free(g.items[i].perms);
	}
	free(g.items);
	return r;
}
