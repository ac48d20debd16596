/*
 * tree.c - the main node tree: compact nodes, the path index, children in
 * creation order, per-owner counts.
 *
 * No permission checks and no records here: callers decide and report.
 * Every function costs O(path length) (amortised for the index growth),
 * except tree_delete (the subtree) and tree_set_data (the node's children,
 * whose parent pointers follow the node if it moves).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define TOMB ((struct snode *)1)

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

static uint64_t hash_path(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, then a final mix */
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

/* Does node n have this full path? Compared name by name, leaf first. */
static bool path_is(const struct snode *n, const char *path, size_t len)
{
	while (n->parent) {
		if (len < (size_t)n->namelen + 1 ||
		    path[len - n->namelen - 1] != '/' ||
		    memcmp(path + len - n->namelen, snode_name(n), n->namelen))
			return false;
		len -= n->namelen + 1;
		n = n->parent;
	}
	return len == 0 || (len == 1 && path[0] == '/');
}

size_t tree_path(const struct snode *n, char *buf)
{
	const struct snode *c;
	size_t len = 0, pos;

	if (!n->parent) {
		buf[0] = '/';
		buf[1] = '\0';
		return 1;
	}
	for (c = n; c->parent; c = c->parent)
		len += c->namelen + 1;
	buf[len] = '\0';
	for (c = n, pos = len; c->parent; c = c->parent) {
		pos -= c->namelen;
		memcpy(buf + pos, snode_name(c), c->namelen);
		buf[--pos] = '/';
	}
	return len;
}

struct snode *tree_find(const struct store *st, const char *path, size_t len)
{
	size_t mask = st->nslots - 1, i;
	struct snode *n;

	if (!st->nslots)
		return NULL;
	for (i = hash_path(path, len) & mask; (n = st->slots[i]); i = (i + 1) & mask)
		if (n != TOMB && path_is(n, path, len))
			return n;
	return NULL;
}

static void slot_put(struct snode **slots, size_t nslots, struct snode *n,
		     uint64_t h)
{
	size_t mask = nslots - 1, i = h & mask;

	while (slots[i] && slots[i] != TOMB)
		i = (i + 1) & mask;
	slots[i] = n;
}

/* Rebuilds the index at a new size; hashes come from a walk of the tree. */
static int index_rebuild(struct store *st, size_t nslots)
{
	struct snode **slots = calloc(nslots, sizeof(*slots)), *n;
	char *buf = st->pathbuf;
	size_t len;

	if (!slots)
		return -ENOMEM;
	if (st->root) {
		slot_put(slots, nslots, st->root, hash_path("/", 1));
		len = 0;
		for (n = st->root->first; n;) {
			buf[len] = '/';
			memcpy(buf + len + 1, snode_name(n), n->namelen);
			len += n->namelen + 1;
			slot_put(slots, nslots, n, hash_path(buf, len));
			if (n->first) {
				n = n->first;
				continue;
			}
			while (n && !n->next) {
				len -= n->namelen + 1;
				n = n->parent->parent ? n->parent : NULL;
			}
			if (n) {
				len -= n->namelen + 1;
				n = n->next;
			}
		}
	}
	free(st->slots);
	st->slots = slots;
	st->nslots = nslots;
	st->nfilled = st->nodes;
	return 0;
}

static int index_add(struct store *st, struct snode *n, const char *path,
		     size_t len)
{
	/* Keep at most 3/4 filled, tombstones included. */
	if ((st->nfilled + 1) * 4 > st->nslots * 3) {
		size_t ns = st->nslots ? st->nslots : 16;

		while ((st->nodes + 1) * 2 > ns)
			ns *= 2;
		if (index_rebuild(st, ns))
			return -ENOMEM;
	}
	slot_put(st->slots, st->nslots, n, hash_path(path, len));
	st->nfilled++;
	return 0;
}

static struct snode **index_slot(const struct store *st, const struct snode *n,
				 const char *path, size_t len)
{
	size_t mask = st->nslots - 1, i;

	for (i = hash_path(path, len) & mask; st->slots[i]; i = (i + 1) & mask)
		if (st->slots[i] == n)
			return &st->slots[i];
	return NULL;
}

void owner_add(struct store *st, uint32_t domid, int64_t delta, int64_t mem)
{
	struct owner_count *o;

	HASH_FIND(hh, st->owners, &domid, sizeof(domid), o);
	if (!o) {
		if (!delta && !mem)
			return;
		o = calloc(1, sizeof(*o));
		if (!o)
			return; /* counts are advisory for quotas only */
		o->domid = domid;
		HASH_ADD(hh, st->owners, domid, sizeof(o->domid), o);
	}
	o->count += delta;
	o->mem += mem;
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

int64_t owner_mem_get(const struct store *st, uint32_t domid)
{
	struct owner_count *o;

	HASH_FIND(hh, st->owners, &domid, sizeof(domid), o);
	return o ? o->mem : 0;
}

static int64_t snode_mem(const struct snode *n, size_t pathlen)
{
	return (int64_t)store_node_memory(pathlen, n->namelen, n->nperms,
					  n->len);
}

static size_t node_size(size_t nperms, size_t namelen, size_t len);

static void node_free(struct store *st, struct snode *n)
{
	slab_free(&st->slab, n, node_size(n->nperms, n->namelen, n->len));
}

static size_t node_size(size_t nperms, size_t namelen, size_t len)
{
	return sizeof(struct snode) + nperms * sizeof(struct xsw_perm) +
	       namelen + 1 + len;
}

static void bytes_account(struct store *st, const struct snode *n, int sign)
{
	uint64_t b = n->len + n->namelen + n->nperms * sizeof(struct xsw_perm);

	st->bytes += sign > 0 ? b : -b;
}

/* Links n as the last child of p (first->prev is the last child). */
static void link_last(struct snode *p, struct snode *n)
{
	n->next = NULL;
	if (!p->first) {
		p->first = n;
		n->prev = n;
		return;
	}
	n->prev = p->first->prev;
	p->first->prev->next = n;
	p->first->prev = n;
}

static void unlink_child(struct snode *n)
{
	struct snode *p = n->parent;

	if (p->first == n)
		p->first = n->next;
	else
		n->prev->next = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else if (p->first)
		p->first->prev = n->prev;
	n->prev = n->next = NULL;
}

int tree_create(struct store *st, struct snode *parent, const char *path,
		const void *value, uint32_t len, const struct xsw_perm *perms,
		unsigned nperms, struct snode **out)
{
	const char *name = parent ? path_basename(path) : "";
	size_t namelen = strlen(name);
	struct snode *n = slab_alloc(&st->slab, node_size(nperms, namelen, len));

	if (!n)
		return -ENOMEM;
	memset(n, 0, sizeof(*n));
	n->len = len;
	n->nperms = nperms;
	n->namelen = namelen;
	memcpy(snode_perms(n), perms, nperms * sizeof(*perms));
	memcpy((char *)snode_name(n), name, namelen + 1);
	if (len)
		memcpy((char *)snode_value(n), value, len);
	n->parent = parent;
	if (index_add(st, n, path, strlen(path))) {
		node_free(st, n);
		return -ENOMEM;
	}
	st->nodes++;
	n->generation = st->generation++;
	if (parent) {
		link_last(parent, n);
		parent->nchildren++;
		parent->childlen += namelen + 1;
		parent->generation = st->generation++;
	}
	bytes_account(st, n, 1);
	if (nperms)
		owner_add(st, perms[0].domid, 1, snode_mem(n, strlen(path)));
	if (out)
		*out = n;
	return 0;
}

void tree_touch(struct store *st, struct snode *n)
{
	n->generation = st->generation++;
}

int tree_set_data(struct store *st, struct snode **np, const void *value,
		  uint32_t len, const struct xsw_perm *perms, unsigned nperms)
{
	struct snode *o = *np, *n, *c, **slot;
	char path[XSW_ABS_PATH_MAX + 2];
	size_t plen = tree_path(o, path);
	bool was_first = o->parent && o->parent->first == o;
	bool only = was_first && !o->next;

	/* Built aside: value and perms may point into the old node. */
	n = slab_alloc(&st->slab, node_size(nperms, o->namelen, len));
	if (!n)
		return -ENOMEM;
	slot = index_slot(st, o, path, plen);
	if (!slot) {
		slab_free(&st->slab, n, node_size(nperms, o->namelen, len));
		return -EIO;
	}
	*n = *o;
	n->len = len;
	n->nperms = nperms;
	memcpy(snode_perms(n), perms, nperms * sizeof(*perms));
	memcpy((char *)snode_name(n), snode_name(o), o->namelen + 1);
	if (len)
		memcpy((char *)snode_value(n), value, len);
	*slot = n;
	/* Everything that pointed at the old node now points here. */
	if (!n->parent)
		st->root = n;
	else if (only)
		n->prev = n;
	else {
		if (was_first)
			n->parent->first = n;
		else
			n->prev->next = n;
		if (n->next)
			n->next->prev = n;
		else
			n->parent->first->prev = n;
	}
	for (c = n->first; c; c = c->next)
		c->parent = n;
	if (only)
		n->parent->first = n;
	bytes_account(st, o, -1);
	if (o->nperms)
		owner_add(st, snode_perms(o)[0].domid, -1, -snode_mem(o, plen));
	node_free(st, o);
	n->generation = st->generation++;
	bytes_account(st, n, 1);
	if (nperms)
		owner_add(st, snode_perms(n)[0].domid, 1, snode_mem(n, plen));
	*np = n;
	return 0;
}

void tree_move_last(struct snode *n)
{
	struct snode *p = n->parent;

	if (!p || !n->next)
		return;
	unlink_child(n);
	link_last(p, n);
}

static void free_one(struct store *st, struct snode *n, const char *path,
		     size_t len)
{
	struct snode **slot = index_slot(st, n, path, len);

	if (slot)
		*slot = TOMB;
	st->nodes--;
	bytes_account(st, n, -1);
	if (n->nperms)
		owner_add(st, snode_perms(n)[0].domid, -1, -snode_mem(n, len));
	node_free(st, n);
}

static size_t path_push(char *buf, size_t len, const struct snode *n)
{
	buf[len] = '/';
	memcpy(buf + len + 1, snode_name(n), n->namelen);
	len += n->namelen + 1;
	buf[len] = '\0';
	return len;
}

void tree_delete(struct store *st, struct snode *n, const char *path,
		 tree_del_fn ev, void *ctx)
{
	struct snode *top = n, *cur = n, *next, *parent;
	char *buf = st->pathbuf;
	size_t len = strlen(path), nl;

	if (n->parent) {
		unlink_child(n);
		n->parent->nchildren--;
		n->parent->childlen -= n->namelen + 1;
		n->parent->generation = st->generation++;
	}
	memmove(buf, path, len + 1);
	/* Post-order without recursion, keeping the current path in buf. */
	for (;;) {
		while (cur->first) {
			cur = cur->first;
			len = path_push(buf, len, cur);
		}
		if (ev)
			ev(ctx, cur, buf);
		if (cur == top) {
			free_one(st, cur, buf, len);
			return;
		}
		parent = cur->parent;
		next = cur->next;
		nl = cur->namelen;
		parent->first = next;
		if (next)
			next->prev = cur->prev;
		free_one(st, cur, buf, len);
		len -= nl + 1;
		buf[len] = '\0';
		if (next) {
			cur = next;
			len = path_push(buf, len, cur);
		} else {
			cur = parent;
		}
	}
}

void tree_free_all(struct store *st)
{
	struct snode *n = st->root, *next;
	struct owner_count *o, *otmp;

	/* Post-order through the links; no index needed. */
	while (n) {
		while (n->first)
			n = n->first;
		next = n->next ? n->next : n->parent;
		if (n->parent)
			n->parent->first = n->next;
		node_free(st, n);
		n = next;
	}
	slab_fini(&st->slab);
	free(st->slots);
	st->slots = NULL;
	st->nslots = st->nfilled = 0;
	HASH_ITER(hh, st->owners, o, otmp) {
		HASH_DEL(st->owners, o);
		free(o);
	}
	st->root = NULL;
	st->nodes = 0;
	st->bytes = 0;
}
