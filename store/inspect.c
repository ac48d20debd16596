/*
 * inspect.c - whole-tree views: statistics, walk, consistency check, and
 * loading a tree for recovery. Only these cost O(tree size), by nature.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void store_get_stats(const struct store *st, struct store_stats *out)
{
	out->nodes = st->nodes;
	out->bytes = st->bytes;
	out->generation = st->generation;
	out->open_txns = st->open_txns;
}

uint32_t store_nodes_owned(const struct store *st, uint32_t domid)
{
	int64_t n = owner_get(st, domid);

	return n > 0 ? (uint32_t)n : 0;
}

static void view_of(const struct snode *n, struct store_node_view *v)
{
	v->path = n->path;
	v->value = snode_value(n);
	v->len = n->len;
	v->perms = snode_perms(n);
	v->nperms = n->nperms;
	v->generation = n->generation;
	v->nchildren = n->nchildren;
}

int store_walk(const struct store *st, const char *path, store_walk_fn fn,
	       void *ctx)
{
	const struct snode *top = tree_find(st, path, strlen(path)), *n;
	struct store_node_view v;
	int r;

	if (!top)
		return -ENOENT;
	/* Pre-order without recursion, through parent and sibling links. */
	for (n = top; n;) {
		view_of(n, &v);
		r = fn(ctx, &v);
		if (r)
			return r;
		if (n->first) {
			n = n->first;
			continue;
		}
		while (n != top && !n->next)
			n = n->parent;
		n = n == top ? NULL : n->next;
	}
	return 0;
}

static int fail(char *err, size_t errlen, const char *what, const char *path)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", what, path);
	return -EIO;
}

int store_check(const struct store *st, char *err, size_t errlen)
{
	const struct snode *n, *c;
	uint64_t count = 0;
	uint32_t nch, clen;
	size_t base;

	if (!st->root || strcmp(st->root->path, "/") || st->root->parent)
		return fail(err, errlen, "bad root", "/");
	for (n = st->root; n;) {
		count++;
		if (tree_find(st, n->path, n->pathlen) != n)
			return fail(err, errlen, "not indexed", n->path);
		if (!n->nperms)
			return fail(err, errlen, "no permissions", n->path);
		base = n->pathlen == 1 ? 1 : n->pathlen + 1;
		nch = clen = 0;
		for (c = n->first; c; c = c->next) {
			if (c->parent != n || c->pathlen <= base ||
			    strncmp(c->path, n->path, n->pathlen) ||
			    c->path[base - 1] != '/' ||
			    strchr(c->path + base, '/'))
				return fail(err, errlen, "misplaced child",
					    c->path);
			if ((c->next && c->next->prev != c) ||
			    (!c->next && n->last != c))
				return fail(err, errlen, "broken child list",
					    c->path);
			nch++;
			clen += c->pathlen - base + 1;
		}
		if (nch != n->nchildren || clen != n->childlen)
			return fail(err, errlen, "child count", n->path);
		if (n->first) {
			n = n->first;
			continue;
		}
		while (n && !n->next)
			n = n->parent;
		n = n ? n->next : NULL;
	}
	if (count != st->nodes || count != HASH_COUNT(st->index))
		return fail(err, errlen, "node count", "/");
	return 0;
}

int store_load_begin(struct store *st)
{
	tree_free_all(st);
	return 0;
}

int store_load_node(struct store *st, const char *path, const void *value,
		    uint32_t len, const struct xsw_perm *perms, unsigned n)
{
	size_t plen = strlen(path);
	struct snode *m, *p = NULL;

	if (path[0] != '/' || !n)
		return -EINVAL;
	m = tree_find(st, path, plen);
	if (m)
		return tree_set_data(st, m, value, len, perms, n);
	if (plen > 1) {
		p = tree_find(st, path, path_parent_len(path, plen));
		if (!p)
			return -EINVAL; /* parents come first */
	} else if (st->root) {
		return -EEXIST;
	}
	return tree_create(st, p, path, value, len, perms, n,
			   plen == 1 ? &st->root : NULL);
}

int store_load_end(struct store *st, uint64_t seq)
{
	if (!st->root)
		return -EINVAL;
	st->seq = seq;
	return 0;
}
