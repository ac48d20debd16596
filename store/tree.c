/*
 * tree.c - the main node tree: index, creation-ordered children, owners.
 *
 * No permission checks and no records here: callers decide and report.
 * Every function costs O(path length), except tree_delete (the subtree).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *path_basename(const char *path)
{
	return strrchr(path, '/') + 1;
}

/* Length of the parent path of a canonical path other than "/". */
size_t path_parent_len(const char *path, size_t len)
{
	while (len > 0 && path[len - 1] != '/')
		len--;
	return len > 1 ? len - 1 : 1;
}

unsigned path_depth(const char *path)
{
	unsigned d = 0;

	if (path[0] == '/' && path[1] == '\0')
		return 0;
	for (; *path; path++)
		d += *path == '/';
	return d;
}

struct snode *tree_find(const struct store *st, const char *path, size_t len)
{
	struct snode *n = NULL;

	HASH_FIND(hh, st->index, path, len, n);
	return n;
}

void owner_add(struct store *st, uint32_t domid, int64_t delta)
{
	struct owner_count *o;

	HASH_FIND(hh, st->owners, &domid, sizeof(domid), o);
	if (!o) {
		if (!delta)
			return;
		o = calloc(1, sizeof(*o));
		if (!o)
			return; /* counts are advisory for quotas only */
		o->domid = domid;
		HASH_ADD(hh, st->owners, domid, sizeof(o->domid), o);
	}
	o->count += delta;
	if (o->count == 0) {
		HASH_DEL(st->owners, o);
		free(o);
	}
}

int64_t owner_get(const struct store *st, uint32_t domid)
{
	struct owner_count *o;

	HASH_FIND(hh, st->owners, &domid, sizeof(domid), o);
	return o ? o->count : 0;
}

static unsigned char *data_new(const void *value, uint32_t len,
			       const struct xsw_perm *perms, unsigned nperms)
{
	size_t plen = nperms * sizeof(*perms);
	unsigned char *d = malloc(plen + len ? plen + len : 1);

	if (!d)
		return NULL;
	memcpy(d, perms, plen);
	if (len)
		memcpy(d + plen, value, len);
	return d;
}

static void bytes_account(struct store *st, const struct snode *n, int sign)
{
	uint64_t b = n->len + n->pathlen + n->nperms * sizeof(struct xsw_perm);

	st->bytes += sign > 0 ? b : -b;
}

int tree_create(struct store *st, struct snode *parent, const char *path,
		const void *value, uint32_t len, const struct xsw_perm *perms,
		unsigned nperms, struct snode **out)
{
	size_t plen = strlen(path);
	struct snode *n = calloc(1, sizeof(*n) + plen + 1);

	if (!n)
		return -ENOMEM;
	n->data = data_new(value, len, perms, nperms);
	if (!n->data) {
		free(n);
		return -ENOMEM;
	}
	memcpy(n->path, path, plen + 1);
	n->pathlen = plen;
	n->len = len;
	n->nperms = nperms;
	n->generation = st->generation++;
	n->parent = parent;
	if (parent) {
		n->prev = parent->last;
		if (parent->last)
			parent->last->next = n;
		else
			parent->first = n;
		parent->last = n;
		parent->nchildren++;
		parent->childlen += strlen(path_basename(path)) + 1;
		parent->generation = st->generation++;
	}
	HASH_ADD_KEYPTR(hh, st->index, n->path, n->pathlen, n);
	st->nodes++;
	bytes_account(st, n, 1);
	if (nperms)
		owner_add(st, perms[0].domid, 1);
	if (out)
		*out = n;
	return 0;
}

int tree_set_data(struct store *st, struct snode *n, const void *value,
		  uint32_t len, const struct xsw_perm *perms, unsigned nperms)
{
	unsigned char *d = data_new(value, len, perms, nperms);

	if (!d)
		return -ENOMEM;
	bytes_account(st, n, -1);
	if (n->nperms)
		owner_add(st, snode_perms(n)[0].domid, -1);
	free(n->data);
	n->data = d;
	n->len = len;
	n->nperms = nperms;
	n->generation = st->generation++;
	bytes_account(st, n, 1);
	/* perms may have pointed into the old data: use the copy. */
	if (nperms)
		owner_add(st, snode_perms(n)[0].domid, 1);
	return 0;
}

static void unlink_child(struct snode *n)
{
	struct snode *p = n->parent;

	if (n->prev)
		n->prev->next = n->next;
	else
		p->first = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		p->last = n->prev;
	n->prev = n->next = NULL;
}

void tree_move_last(struct snode *n)
{
	struct snode *p = n->parent;

	if (!p || p->last == n)
		return;
	unlink_child(n);
	n->prev = p->last;
	p->last->next = n;
	p->last = n;
}

static void free_one(struct store *st, struct snode *n)
{
	HASH_DEL(st->index, n);
	st->nodes--;
	bytes_account(st, n, -1);
	if (n->nperms)
		owner_add(st, snode_perms(n)[0].domid, -1);
	free(n->data);
	free(n);
}

void tree_delete(struct store *st, struct snode *n, tree_del_fn ev, void *ctx)
{
	struct snode *top = n, *parent = n->parent, *cur = n, *next;

	if (parent) {
		unlink_child(n);
		parent->nchildren--;
		parent->childlen -= strlen(path_basename(n->path)) + 1;
		parent->generation = st->generation++;
	}
	/* Post-order without recursion: descend to a leaf, free, go on. */
	while (cur) {
		while (cur->first)
			cur = cur->first;
		if (ev)
			ev(ctx, cur);
		if (cur == top) {
			free_one(st, cur);
			break;
		}
		next = cur->next ? cur->next : cur->parent;
		cur->parent->first = cur->next;
		if (cur->next)
			cur->next->prev = NULL;
		else
			cur->parent->last = NULL;
		free_one(st, cur);
		cur = next;
	}
}

void tree_free_all(struct store *st)
{
	struct snode *n, *tmp;
	struct owner_count *o, *otmp;

	HASH_ITER(hh, st->index, n, tmp) {
		HASH_DEL(st->index, n);
		free(n->data);
		free(n);
	}
	HASH_ITER(hh, st->owners, o, otmp) {
		HASH_DEL(st->owners, o);
		free(o);
	}
	st->root = NULL;
	st->nodes = 0;
	st->bytes = 0;
}
