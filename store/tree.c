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

#define TOMB 1u
#define PARENT(n) snode_parent(st, n)
#define FIRST(n) snode_first(st, n)
#define NEXT(n) snode_next(st, n)
#define PREV(n) snode_at(st, (n)->prev)
#define REF(n) snode_ref(st, n)

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

/* The first slot to probe for hash h in n slots (any n, not only 2^k). */
static inline size_t slot_first(uint64_t h, size_t n)
{
	return (size_t)(((h >> 32) * (uint64_t)n) >> 32);
}

static inline size_t slot_next(size_t i, size_t n)
{
	return i + 1 == n ? 0 : i + 1;
}

/* Does node n have this full path? Compared name by name, leaf first. */
static bool path_is(const struct store *st, const struct snode *n,
		    const char *path, size_t len)
{
	while (n->parent) {
		if (len < (size_t)n->namelen + 1 ||
		    path[len - n->namelen - 1] != '/' ||
		    memcmp(path + len - n->namelen, snode_name(n), n->namelen))
			return false;
		len -= n->namelen + 1;
		n = PARENT(n);
	}
	return len == 0 || (len == 1 && path[0] == '/');
}

size_t tree_path(const struct store *st, const struct snode *n, char *buf)
{
	const struct snode *c;
	size_t len = 0, pos;

	if (!n->parent) {
		buf[0] = '/';
		buf[1] = '\0';
		return 1;
	}
	for (c = n; c->parent; c = PARENT(c))
		len += c->namelen + 1;
	buf[len] = '\0';
	for (c = n, pos = len; c->parent; c = PARENT(c)) {
		pos -= c->namelen;
		memcpy(buf + pos, snode_name(c), c->namelen);
		buf[--pos] = '/';
	}
	return len;
}

struct snode *tree_find(const struct store *st, const char *path, size_t len)
{
	size_t i;
	uint32_t r;

	if (!st->nslots)
		return NULL;
	for (i = slot_first(hash_path(path, len), st->nslots); (r = st->slots[i]);
	     i = slot_next(i, st->nslots)) {
		struct snode *n = snode_at(st, r);

		if (r != TOMB && path_is(st, n, path, len))
			return n;
	}
	return NULL;
}

static void slot_put(uint32_t *slots, size_t nslots, uint32_t n, uint64_t h)
{
	size_t i = slot_first(h, nslots);

	while (slots[i] && slots[i] != TOMB)
		i = slot_next(i, nslots);
	slots[i] = n;
}

/* Rebuilds the index at a new size; hashes come from a walk of the tree. */
static int index_rebuild(struct store *st, size_t nslots)
{
	uint32_t *slots = calloc(nslots, sizeof(*slots));
	struct snode *n;
	char *buf = st->pathbuf;
	size_t len;

	if (!slots)
		return -ENOMEM;
	if (st->root) {
		slot_put(slots, nslots, REF(st->root), hash_path("/", 1));
		len = 0;
		for (n = FIRST(st->root); n;) {
			buf[len] = '/';
			memcpy(buf + len + 1, snode_name(n), n->namelen);
			len += n->namelen + 1;
			slot_put(slots, nslots, REF(n), hash_path(buf, len));
			if (n->first) {
				n = FIRST(n);
				continue;
			}
			while (n && !n->next) {
				len -= n->namelen + 1;
				n = PARENT(n)->parent ? PARENT(n) : NULL;
			}
			if (n) {
				len -= n->namelen + 1;
				n = NEXT(n);
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
	/*
	 * Keep at most 3/4 filled, tombstones included; rebuilt half full.
	 * Any size (slot_first), so the index grows by half, not double: at
	 * 4 bytes a slot, 5.3 to 8 bytes a node rather than 5.3 to 10.7.
	 */
	if ((st->nfilled + 1) * 4 > st->nslots * 3) {
		size_t ns = (st->nodes + 1) * 2;

		if (index_rebuild(st, ns < 16 ? 16 : ns))
			return -ENOMEM;
	}
	slot_put(st->slots, st->nslots, REF(n), hash_path(path, len));
	st->nfilled++;
	return 0;
}

static uint32_t *index_slot(const struct store *st, const struct snode *n,
			    const char *path, size_t len)
{
	size_t i;
	uint32_t r = REF(n);

	for (i = slot_first(hash_path(path, len), st->nslots); st->slots[i];
	     i = slot_next(i, st->nslots))
		if (st->slots[i] == r)
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

#define node_size snode_size_of

static void node_free(struct store *st, struct snode *n)
{
	slab_free(&st->slab, n, node_size(n->nperms, n->namelen, n->len));
}

static void bytes_account(struct store *st, const struct snode *n, int sign)
{
	uint64_t b = n->len + n->namelen + n->nperms * sizeof(struct xsw_perm);

	st->bytes += sign > 0 ? b : -b;
}

/* Links n as the last child of p (first->prev is the last child). */
static void link_last(struct store *st, struct snode *p, struct snode *n)
{
	uint32_t r = REF(n);
	struct snode *f = FIRST(p);

	n->next = 0;
	if (!f) {
		p->first = r;
		n->prev = r;
		return;
	}
	n->prev = f->prev;
	PREV(f)->next = r;
	f->prev = r;
}

static void unlink_child(struct store *st, struct snode *n)
{
	struct snode *p = PARENT(n);
	uint32_t r = REF(n);

	if (p->first == r)
		p->first = n->next;
	else
		PREV(n)->next = n->next;
	if (n->next)
		NEXT(n)->prev = n->prev;
	else if (p->first)
		FIRST(p)->prev = n->prev;
	n->prev = n->next = 0;
}

int tree_create(struct store *st, struct snode *parent, const char *path,
		const void *value, uint32_t len, const struct xsw_perm *perms,
		unsigned nperms, struct snode **out)
{
	const char *name = parent ? path_basename(path) : "";
	size_t namelen = strlen(name);
	struct snode *n;

	if (len > SNODE_LEN_MAX || nperms > SNODE_PERMS_MAX)
		return -E2BIG;
	if (!(n = slab_alloc(&st->slab, node_size(nperms, namelen, len))))
		return -ENOMEM;
	memset(n, 0, sizeof(*n));
	n->len = len;
	n->nperms = nperms;
	n->namelen = namelen;
	memcpy(snode_perms(n), perms, nperms * sizeof(*perms));
	memcpy((char *)snode_name(n), name, namelen + 1);
	if (len)
		memcpy((char *)snode_value(n), value, len);
	n->parent = REF(parent);
	if (index_add(st, n, path, strlen(path))) {
		node_free(st, n);
		return -ENOMEM;
	}
	st->nodes++;
	n->generation = st->generation++;
	if (parent) {
		link_last(st, parent, n);
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
	struct snode *o = *np, *n, *c;
	uint32_t *slot, oref = REF(o), r;
	char path[XSW_ABS_PATH_MAX + 2];
	size_t plen = tree_path(st, o, path);
	bool was_first = o->parent && PARENT(o)->first == oref;
	bool only = was_first && !o->next;

	if (len > SNODE_LEN_MAX || nperms > SNODE_PERMS_MAX)
		return -E2BIG;
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
	*slot = r = REF(n);
	/* Everything that referenced the old node now references this one. */
	if (!n->parent)
		st->root = n;
	else if (only)
		n->prev = r;
	else {
		if (was_first)
			PARENT(n)->first = r;
		else
			PREV(n)->next = r;
		if (n->next)
			NEXT(n)->prev = r;
		else
			FIRST(PARENT(n))->prev = r;
	}
	for (c = FIRST(n); c; c = NEXT(c))
		c->parent = r;
	if (only)
		PARENT(n)->first = r;
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

unsigned tree_nchildren(const struct store *st, const struct snode *n)
{
	unsigned k = 0;

	for (n = FIRST(n); n; n = NEXT(n))
		k++;
	return k;
}

void tree_move_last(struct store *st, struct snode *n)
{
	struct snode *p = PARENT(n);

	if (!p || !n->next)
		return;
	unlink_child(st, n);
	link_last(st, p, n);
}

static void free_one(struct store *st, struct snode *n, const char *path,
		     size_t len)
{
	uint32_t *slot = index_slot(st, n, path, len);

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
		struct snode *p = PARENT(n);

		unlink_child(st, n);
		p->childlen -= n->namelen + 1;
		p->generation = st->generation++;
	}
	memmove(buf, path, len + 1);
	/* Post-order without recursion, keeping the current path in buf. */
	for (;;) {
		while (cur->first) {
			cur = FIRST(cur);
			len = path_push(buf, len, cur);
		}
		if (ev)
			ev(ctx, cur, buf);
		if (cur == top) {
			free_one(st, cur, buf, len);
			return;
		}
		parent = PARENT(cur);
		next = NEXT(cur);
		nl = cur->namelen;
		parent->first = cur->next;
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
			n = FIRST(n);
		next = n->next ? NEXT(n) : PARENT(n);
		if (n->parent)
			PARENT(n)->first = n->next;
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
