/*
 * mirror.c - the writer's view of the tree as Git objects: nodes, loading,
 * effects, walk. Writing trees is in mirror_write.c, .perms blobs in
 * mirror_perms.c.
 */
#include "mirror_int.h"

#include "fanout.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define XSW_PATH_MAX_WALK 8192u /* longer than any valid path */
#define TAB_MIN 1024u

static uint32_t key_hash(const struct gs_mnode *parent, const char *name,
			 size_t len)
{
	/* FNV-1a over the parent's address and the name */
	uint64_t h = 1469598103934665603ull;
	uintptr_t p = (uintptr_t)parent;
	for (unsigned i = 0; i < sizeof(p); i++, p >>= 8)
		h = (h ^ (p & 0xff)) * 1099511628211ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
	return (uint32_t)(h ^ (h >> 32));
}

static struct gs_mnode *tab_find(const struct gs_mirror *m,
				 const struct gs_mnode *parent,
				 const char *name, size_t len)
{
	if (!m->tabcap)
		return NULL;
	uint32_t h = key_hash(parent, name, len);
	size_t mask = m->tabcap - 1;
	for (size_t i = h & mask; m->tab[i]; i = (i + 1) & mask) {
		struct gs_mnode *c = m->tab[i];
		if (c->hash == h && c->parent == parent && c->namelen == len &&
		    !memcmp(c->name, name, len))
			return c;
	}
	return NULL;
}

static void tab_put(struct gs_mnode **tab, size_t cap, struct gs_mnode *n)
{
	size_t i = n->hash & (cap - 1);
	while (tab[i])
		i = (i + 1) & (cap - 1);
	tab[i] = n;
}

static int tab_resize(struct gs_mirror *m, size_t cap)
{
	struct gs_mnode **t = calloc(cap, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < m->tabcap; i++)
		if (m->tab[i])
			tab_put(t, cap, m->tab[i]);
	free(m->tab);
	m->tab = t;
	m->tabcap = cap;
	return 0;
}

static int tab_add(struct gs_mirror *m, struct gs_mnode *n)
{
	int e;
	if ((m->tabn + 1) * 4 > m->tabcap * 3 &&
	    (e = tab_resize(m, m->tabcap ? m->tabcap * 2 : TAB_MIN)))
		return e;
	tab_put(m->tab, m->tabcap, n);
	m->tabn++;
	return 0;
}

/* Linear probing: the entries after the hole move back (no tombstones). */
static void tab_del(struct gs_mirror *m, struct gs_mnode *n)
{
	size_t mask = m->tabcap - 1, i = n->hash & mask;
	while (m->tab[i] != n)
		i = (i + 1) & mask;
	for (size_t j = (i + 1) & mask; m->tab[j]; j = (j + 1) & mask) {
		size_t k = m->tab[j]->hash & mask;
		/* j's entry may fill the hole unless its home is in (i, j] */
		if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
			m->tab[i] = m->tab[j];
			i = j;
		}
	}
	m->tab[i] = NULL;
	m->tabn--;
}

/* After deletions: a table sized for a past peak is given back. */
static void tab_shrink(struct gs_mirror *m)
{
	size_t cap = m->tabcap;
	while (cap > TAB_MIN && m->tabn * 8 < cap)
		cap /= 2;
	if (cap != m->tabcap)
		(void)tab_resize(m, cap); /* only memory if it fails */
}

static void list_append(struct gs_mnode *p, struct gs_mnode *c)
{
	c->next = NULL;
	if (!p->first) {
		c->prev = c;
		p->first = c;
	} else {
		c->prev = p->first->prev;
		p->first->prev->next = c;
		p->first->prev = c;
	}
}

static void list_remove(struct gs_mnode *p, struct gs_mnode *c)
{
	if (c == p->first)
		p->first = c->next;
	else
		c->prev->next = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else if (p->first)
		p->first->prev = c->prev;
	c->next = c->prev = NULL;
}

static struct gs_mnode *node_new(const char *name, size_t len,
				 struct gs_mnode *parent)
{
	if (len > UINT16_MAX)
		return NULL;
	struct gs_mnode *n = calloc(1, sizeof(*n) + len + 1);
	if (!n)
		return NULL;
	memcpy(n->name, name, len);
	n->namelen = (uint16_t)len;
	n->parent = parent;
	n->hash = key_hash(parent, name, len);
	return n;
}

/* Frees n's subtree; n itself must be out of its parent's list. */
static void node_free(struct gs_mirror *m, struct gs_mnode *n)
{
	struct gs_mnode *c = n->first;
	while (c) {
		struct gs_mnode *next = c->next;
		node_free(m, c);
		c = next;
	}
	gs_mirror_wide_free(m, n);
	if (n->parent)
		tab_del(m, n);
	free(n);
}

/* The set of n's children changed: its cached order is stale. */
static void children_changed(struct gs_mnode *n)
{
	if (n->w)
		n->w->sorted_ok = false;
}

static void mark_dirty(struct gs_mirror *m, struct gs_mnode *n)
{
	for (; n && !n->dirty; n = n->parent) {
		n->dirty = true;
		n->stamp = m->gen ? m->gen : 1; /* 0: never changed */
		struct gs_mnode *p = n->parent;
		if (p) {
			n->dnext = p->dhead;
			p->dhead = n;
		}
	}
}

/*
 * Takes n off its parent's dirty list (it is clean or going away). A
 * write always takes the head; only a deletion searches.
 */
static int add_child(struct gs_mirror *m, struct gs_mnode *parent,
		     struct gs_mnode *c)
{
	int e = tab_add(m, c);
	if (e)
		return e;
	list_append(parent, c);
	parent->nchildren++;
	children_changed(parent);
	return 0;
}

int gs_mirror_read_blob(struct gs_mirror *m, const git_oid *id,
			git_blob **out)
{
	int e = git_blob_lookup(out, m->repo->repo, id);
	return e ? gs_git_error(e, NULL, 0) : 0;
}

/* Reorders n's children by the names listed in an .order blob. */
static void apply_order(struct gs_mirror *m, struct gs_mnode *n,
			const char *s, size_t len)
{
	struct gs_mnode ordered = { 0 }, *c;
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (s + i)) : len - i;
		c = tab_find(m, n, s + i, l);
		if (c && !c->ordered) { /* a name may be listed twice */
			list_remove(n, c);
			list_append(&ordered, c);
			c->ordered = true;
		}
		i += l + 1;
	}
	while ((c = n->first)) {
		list_remove(n, c);
		list_append(&ordered, c);
	}
	n->first = ordered.first;
	for (c = n->first; c; c = c->next)
		c->ordered = false;
	children_changed(n);
}

/*
 * Adds the children in tree t to n, and those of its buckets (fanout.h),
 * at any depth; a bucket holds no dot entries, so only the top tree's
 * count.
 */
static int load_entries(struct gs_mirror *m, struct gs_mnode *n, git_tree *t,
			bool top, git_oid *order, bool *has_order,
			bool *fanned)
{
	size_t cnt = git_tree_entrycount(t);
	int e;
	for (size_t i = 0; i < cnt; i++) {
		const git_tree_entry *te = git_tree_entry_byindex(t, i);
		const char *name = git_tree_entry_name(te);
		bool dir = git_tree_entry_type(te) == GIT_OBJECT_TREE;
		if (dir && gs_fan_is_bucket(name)) {
			git_tree *b;
			e = git_tree_lookup(&b, m->repo->repo,
					    git_tree_entry_id(te));
			if (e)
				return gs_git_error(e, NULL, 0);
			e = load_entries(m, n, b, false, order, has_order,
					 fanned);
			git_tree_free(b);
			if (e)
				return e;
			*fanned = true;
			continue;
		}
		if (name[0] == '.') {
			if (!top)
				continue;
			if (!strcmp(name, ".value"))
				git_oid_cpy(&n->value, git_tree_entry_id(te));
			else if (!strcmp(name, ".perms"))
				git_oid_cpy(&n->perms, git_tree_entry_id(te));
			else if (!strcmp(name, ".order")) {
				git_oid_cpy(order, git_tree_entry_id(te));
				*has_order = true;
			}
			continue;
		}
		if (!dir)
			continue;
		struct gs_mnode *c = node_new(name, strlen(name), n);
		if (!c || add_child(m, n, c)) {
			free(c);
			return -ENOMEM;
		}
		git_oid_cpy(&c->tree, git_tree_entry_id(te));
	}
	return 0;
}

static int cmp_child(const void *a, const void *b)
{
	return gs_mnode_git_cmp(*(struct gs_mnode *const *)a,
				*(struct gs_mnode *const *)b);
}

/* Bucket order is no order: without .order, children go in Git's. */
static int sort_children(struct gs_mnode *n)
{
	struct gs_mnode **v = malloc(n->nchildren * sizeof(*v)), *c;
	size_t k = 0;
	if (!v)
		return -ENOMEM;
	for (c = n->first; c; c = c->next)
		v[k++] = c;
	qsort(v, k, sizeof(*v), cmp_child);
	n->first = NULL;
	for (size_t i = 0; i < k; i++)
		list_append(n, v[i]);
	free(v);
	children_changed(n);
	return 0;
}

static size_t collapse(struct gs_mirror *m, struct gs_mnode *n);

static int node_load(struct gs_mirror *m, struct gs_mnode *n)
{
	git_tree *t;
	git_oid order;
	bool has_order = false, fanned = false;
	if (n->loaded)
		return 0;
	int e = git_tree_lookup(&t, m->repo->repo, &n->tree);
	if (e)
		return gs_git_error(e, NULL, 0);
	git_oid_cpy(&n->value, &m->empty_blob);
	git_oid_cpy(&n->perms, &m->root->perms); /* no .perms: as root */
	e = load_entries(m, n, t, true, &order, &has_order, &fanned);
	git_tree_free(t);
	if (!e && has_order) {
		git_blob *b;
		if (!(e = gs_mirror_read_blob(m, &order, &b))) {
			apply_order(m, n, git_blob_rawcontent(b),
				    (size_t)git_blob_rawsize(b));
			git_blob_free(b);
		}
	} else if (!e && fanned) {
		e = sort_children(n);
	}
	if (e) {
		/*
		 * a failed read (a bucket, the .order blob) may leave part of
		 * the children: the record is retried, which loads n again
		 */
		collapse(m, n);
		return e;
	}
	n->loaded = true;
	return 0;
}

int gs_mirror_init(struct gs_mirror *m, struct gs_repo *repo,
		   const git_oid *tree)
{
	static const struct xsw_perm n0 = { 0, XSW_PERM_NONE };
	memset(m, 0, sizeof(*m));
	m->repo = repo;
	m->perms = gs_perms_cache_new();
	m->root = node_new("", 0, NULL);
	if (!m->perms || !m->root) {
		gs_mirror_fini(m);
		return -ENOMEM;
	}
	int e = git_odb_hash(&m->empty_blob, "", 0, GIT_OBJECT_BLOB);
	if (e)
		return gs_git_error(e, NULL, 0);
	/* Both blobs exist in every tree we write; write them once here. */
	if ((e = gs_repo_write(repo, GIT_OBJECT_BLOB, "", 0, &m->empty_blob)) ||
	    (e = gs_mirror_perms_oid(m, &n0, 1, &m->root->perms))) {
		gs_mirror_fini(m);
		return e;
	}
	if (tree) {
		git_oid_cpy(&m->root->tree, tree);
		return 0;
	}
	git_oid_cpy(&m->root->value, &m->empty_blob);
	m->root->loaded = true;
	mark_dirty(m, m->root);
	return 0;
}

void gs_mirror_fini(struct gs_mirror *m)
{
	if (m->root)
		node_free(m, m->root);
	free(m->tab);
	free(m->sortv);
	gs_perms_cache_free(m->perms);
	free(m->scratch);
	memset(m, 0, sizeof(*m));
}

int gs_mirror_apply(struct gs_mirror *m, const struct store_effect *ef)
{
	struct gs_mnode *cur = m->root, *c;
	const char *p = ef->path;
	int e;
	if (*p != '/')
		return -EINVAL;
	m->gen++;
	while (*p == '/' && p[1]) {
		const char *name = p + 1, *end = strchr(name, '/');
		size_t len = end ? (size_t)(end - name) : strlen(name);
		if (!len)
			return -EINVAL;
		if ((e = node_load(m, cur)))
			return e;
		c = tab_find(m, cur, name, len);
		if (!c) {
			if (ef->deleted)
				return 0; /* already gone */
			/* A missing parent: created as the store does, inheriting. */
			if (!(c = node_new(name, len, cur)))
				return -ENOMEM;
			git_oid_cpy(&c->value, &m->empty_blob);
			git_oid_cpy(&c->perms, &cur->perms);
			c->loaded = true;
			if ((e = add_child(m, cur, c))) {
				free(c);
				return e;
			}
			mark_dirty(m, c);
		}
		cur = c;
		p = name + len;
		/* each tree on the path is written again: see node_write() */
		gs_repo_obj_prefetch(m->repo, &c->tree);
	}
	if (ef->deleted) {
		if (cur == m->root) {
			/* "/" cannot go: removing it empties it */
			if ((e = node_load(m, cur)))
				return e;
			struct gs_mnode *x = cur->first;
			while (x) {
				struct gs_mnode *next = x->next;
				node_free(m, x);
				x = next;
			}
			cur->first = NULL;
			cur->dhead = NULL;
			cur->nchildren = 0;
			children_changed(cur);
			tab_shrink(m);
			mark_dirty(m, cur);
			return 0;
		}
		struct gs_mnode *parent = cur->parent;
		list_remove(parent, cur);
		gs_mirror_dirty_unlink(cur);
		parent->nchildren--;
		children_changed(parent);
		node_free(m, cur);
		tab_shrink(m);
		mark_dirty(m, parent);
		return 0;
	}
	if ((e = node_load(m, cur)))
		return e;
	if ((e = gs_repo_write(m->repo, GIT_OBJECT_BLOB, ef->value, ef->len,
			       &cur->value)))
		return e;
	if ((e = gs_mirror_perms_oid(m, ef->perms, ef->nperms, &cur->perms)))
		return e;
	mark_dirty(m, cur);
	return 0;
}

/* Drops n's children: n is clean, so its tree id says all about them. */
static size_t collapse(struct gs_mirror *m, struct gs_mnode *n)
{
	size_t before = m->tabn;
	struct gs_mnode *c = n->first;
	while (c) {
		struct gs_mnode *next = c->next;
		node_free(m, c);
		c = next;
	}
	gs_mirror_wide_free(m, n); /* its sorted children are gone */
	n->first = NULL;
	n->nchildren = 0;
	n->loaded = false;
	return before - m->tabn;
}

static size_t trim(struct gs_mirror *m, struct gs_mnode *n, uint32_t keep)
{
	size_t dropped = 0;
	for (struct gs_mnode *c = n->first; c; c = c->next) {
		if (!c->first)
			continue;
		if (!c->dirty && (!c->stamp || m->gen - c->stamp >= keep))
			dropped += collapse(m, c);
		else
			dropped += trim(m, c, keep);
	}
	return dropped;
}

size_t gs_mirror_trim(struct gs_mirror *m, size_t budget, uint32_t keep)
{
	if (!m->root || m->tabn <= budget)
		return 0;
	size_t dropped = trim(m, m->root, keep);
	tab_shrink(m);
	return dropped;
}

static int walk(struct gs_mirror *m, struct gs_mnode *n, char *path,
		size_t plen, gs_mirror_fn fn, void *ctx)
{
	const struct xsw_perm *pp;
	unsigned npp;
	int e;
	if ((e = node_load(m, n)) ||
	    (e = gs_mirror_perms_get(m, &n->perms, &pp, &npp)))
		return e;
	if (git_oid_equal(&n->value, &m->empty_blob)) {
		e = fn(ctx, plen ? path : "/", "", 0, pp, npp);
	} else {
		git_blob *b;
		if ((e = gs_mirror_read_blob(m, &n->value, &b)))
			return e;
		e = fn(ctx, plen ? path : "/", git_blob_rawcontent(b),
		       (uint32_t)git_blob_rawsize(b), pp, npp);
		git_blob_free(b);
	}
	if (e)
		return e;
	for (struct gs_mnode *c = n->first; c; c = c->next) {
		if (plen + 1 + c->namelen >= XSW_PATH_MAX_WALK)
			return -ENAMETOOLONG;
		path[plen] = '/';
		memcpy(path + plen + 1, c->name, c->namelen + 1);
		if ((e = walk(m, c, path, plen + 1 + c->namelen, fn, ctx)))
			return e;
		path[plen] = '\0';
	}
	return 0;
}

int gs_mirror_walk(struct gs_mirror *m, gs_mirror_fn fn, void *ctx)
{
	char *path = malloc(XSW_PATH_MAX_WALK);
	if (!path)
		return -ENOMEM;
	path[0] = '\0';
	int e = walk(m, m->root, path, 0, fn, ctx);
	free(path);
	return e;
}
