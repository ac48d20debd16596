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

uint64_t store_memory_owned(const struct store *st, uint32_t domid)
{
	int64_t m = owner_mem_get(st, domid);

	return m > 0 ? (uint64_t)m : 0;
}

static void view_of(const struct store *st, const struct snode *n,
		    const char *path, struct store_node_view *v)
{
	v->path = path;
	v->value = snode_value(n);
	v->len = n->len;
	v->perms = snode_perms(n);
	v->nperms = n->nperms;
	v->generation = n->generation;
	v->nchildren = tree_nchildren(st, n);
}

static size_t push(char *buf, size_t len, const struct snode *n)
{
	if (len == 1)
		len = 0; /* below "/" */
	buf[len] = '/';
	memcpy(buf + len + 1, snode_name(n), n->namelen);
	len += n->namelen + 1;
	buf[len] = '\0';
	return len;
}

static size_t pop(char *buf, size_t len, const struct snode *n)
{
	len -= n->namelen + 1;
	if (!len)
		len = 1; /* back at "/" */
	buf[len] = '\0';
	return len;
}

/*
 * Pre-order without recursion through parent and sibling links, with the
 * path kept in the store's buffer (views point there).
 */
int store_walk(const struct store *cst, const char *path, store_walk_fn fn,
	       void *ctx)
{
	struct store *st = (struct store *)cst;
	const struct snode *top = tree_find(st, path, strlen(path)), *n;
	char *buf = st->pathbuf;
	struct store_node_view v;
	size_t len;
	int r;

	if (!top)
		return -ENOENT;
	len = tree_path(st, top, buf);
	for (n = top; n;) {
		view_of(st, n, buf, &v);
		r = fn(ctx, &v);
		if (r)
			return r;
		if (n->first) {
			n = snode_first(st, n);
			len = push(buf, len, n);
			continue;
		}
		while (n != top && !n->next) {
			len = pop(buf, len, n);
			n = snode_parent(st, n);
		}
		if (n == top)
			break;
		len = pop(buf, len, n);
		n = snode_next(st, n);
		len = push(buf, len, n);
	}
	return 0;
}

static int fail(char *err, size_t errlen, const char *what, const char *path)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", what, path);
	return -EIO;
}

struct check_ctx {
	const struct store *st;
	uint64_t count;
	char *err;
	size_t errlen;
	struct owner_count *owners; /* recounted by the walk */
	bool oom;
};

static void recount(struct check_ctx *c, const struct snode *n, size_t plen)
{
	uint32_t domid = snode_perms(n)[0].domid;
	struct owner_count *o;

	HASH_FIND(hh, c->owners, &domid, sizeof(domid), o);
	if (!o) {
		o = calloc(1, sizeof(*o));
		if (!o) {
			c->oom = true;
			return;
		}
		o->domid = domid;
		HASH_ADD(hh, c->owners, domid, sizeof(o->domid), o);
	}
	o->count++;
	o->mem += (int64_t)store_node_memory(plen, n->namelen, n->nperms,
					     n->len);
}

/* The per-owner counts and memory (quotas) against a recount. */
static int check_owners(struct check_ctx *c)
{
	struct owner_count *o, *tmp, *m;
	int r = 0;

	if (!c->oom && HASH_COUNT(c->owners) != HASH_COUNT(c->st->owners))
		r = fail(c->err, c->errlen, "owner table", "/");
	HASH_ITER(hh, c->owners, o, tmp) {
		HASH_FIND(hh, c->st->owners, &o->domid, sizeof(o->domid), m);
		if (!r && !c->oom &&
		    (!m || m->count != o->count || m->mem != o->mem)) {
			char dom[16];

			snprintf(dom, sizeof(dom), "%u", o->domid);
			r = fail(c->err, c->errlen, "owner count or memory of domain", dom);
		}
		HASH_DEL(c->owners, o);
		free(o);
	}
	return r;
}

static int check_one(void *ctx, const struct store_node_view *v)
{
	struct check_ctx *c = ctx;
	const struct snode *n = tree_find(c->st, v->path, strlen(v->path)), *k;
	uint32_t clen = 0;

	c->count++;
	if (!n || snode_value(n) != v->value)
		return fail(c->err, c->errlen, "not indexed", v->path);
	if (!n->nperms)
		return fail(c->err, c->errlen, "no permissions", v->path);
	recount(c, n, strlen(v->path));
	for (k = snode_first(c->st, n); k; k = snode_next(c->st, k)) {
		uint32_t kr = snode_ref(c->st, k);

		if (snode_parent(c->st, k) != n || !k->namelen ||
		    memchr(snode_name(k), '/', k->namelen))
			return fail(c->err, c->errlen, "misplaced child",
				    v->path);
		if ((k->next && snode_next(c->st, k)->prev != kr) ||
		    (!k->next && snode_first(c->st, n)->prev != kr))
			return fail(c->err, c->errlen, "broken child list",
				    v->path);
		clen += k->namelen + 1;
	}
	if (clen != n->childlen)
		return fail(c->err, c->errlen, "child count", v->path);
	return 0;
}

int store_check(const struct store *st, char *err, size_t errlen)
{
	struct check_ctx c = { st, 0, err, errlen, NULL, false };
	size_t i, live = 0;
	int r;

	if (!st->root || st->root->parent)
		return fail(err, errlen, "bad root", "/");
	r = store_walk(st, "/", check_one, &c);
	if (!r)
		r = check_owners(&c);
	else
		check_owners(&c); /* frees the recount */
	if (r)
		return r;
	for (i = 0; i < st->nslots; i++)
		live += st->slots[i] && st->slots[i] != 1;
	if (c.count != st->nodes || live != st->nodes)
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
		return tree_set_data(st, &m, value, len, perms, n);
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

/* The path's length up to its i-th '/' after the root (the whole path
 * when there are fewer). */
static size_t prefix_len(const char *path, size_t plen, size_t from)
{
	const char *s = memchr(path + from + 1, '/', plen - from - 1);
	return s ? (size_t)(s - path) : plen;
}

int store_load_effect(struct store *st, const struct store_effect *e)
{
	size_t plen = strlen(e->path), l = 0;
	struct snode *m, *p;

	if (e->path[0] != '/' || !st->root)
		return -EINVAL;
	m = tree_find(st, e->path, plen);
	if (e->deleted) {
		char buf[XSW_ABS_PATH_MAX + 2];

		if (!m)
			return 0;
		if (m != st->root) {
			tree_delete(st, m, e->path, NULL, NULL);
			return 0;
		}
		/* "/" cannot go: removing it empties it */
		while (m->first) {
			struct snode *k = snode_first(st, m);

			if (tree_path(st, k, buf) > XSW_ABS_PATH_MAX)
				return -ENAMETOOLONG;
			tree_delete(st, k, buf, NULL, NULL);
		}
		return 0;
	}
	if (!e->nperms)
		return -EINVAL;
	if (m)
		return tree_set_data(st, &m, e->value, e->len, e->perms,
				     e->nperms);
	/*
	 * Missing parents are created empty with their parent's
	 * permissions, as the Git side does (mirror.c), so that both agree.
	 */
	p = st->root;
	while ((l = prefix_len(e->path, plen, l)) < plen) {
		struct snode *c = tree_find(st, e->path, l);
		char part[XSW_ABS_PATH_MAX + 2];
		int r;

		if (!c) {
			if (l > XSW_ABS_PATH_MAX)
				return -ENAMETOOLONG;
			memcpy(part, e->path, l);
			part[l] = '\0';
			r = tree_create(st, p, part, NULL, 0, snode_perms(p),
					p->nperms, &c);
			if (r)
				return r;
		}
		p = c;
	}
	return tree_create(st, p, e->path, e->value, e->len, e->perms,
			   e->nperms, NULL);
}

int store_load_end(struct store *st, uint64_t seq)
{
	if (!st->root)
		return -EINVAL;
	st->seq = seq;
	return 0;
}
