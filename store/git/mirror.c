/* mirror.c - the writer's view of the tree as Git objects. */
#include "mirror.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

/* directories this wide are written as deltas of their last tree */
#define WIDE 32u
#define PERMS_MAX 1024u /* entries parsed from one .perms blob */
#define XSW_PATH_MAX_WALK 8192u /* longer than any valid path */
/*
 * Bytes of cached state (sorted children, last tree bytes) kept for wide
 * directories; the least recently written lose theirs first and are
 * serialised whole on their next write.
 */
#define WIDE_CACHE_MAX (4u << 20)
#define TAB_MIN 1024u

/*
 * One allocation per node, name inline: at 100k nodes the node is most of
 * the writer's memory. Children are a list in creation order (first->prev
 * is the last child) and are found through the mirror's table.
 */
struct gs_mnode {
	struct gs_mnode *parent;
	struct gs_mnode *first, *next, *prev;
	/* dirty children, so that a write visits only the changed paths */
	struct gs_mnode *dhead, *dnext;
	struct gs_mwide *w; /* only while wide and recently written */
	git_oid tree, value, perms;
	uint32_t nchildren;
	uint32_t toff;   /* this node's id in its parent's last */
	uint32_t hash;   /* of (parent, name), for the table */
	uint16_t namelen;
	bool loaded : 1, dirty : 1;
	bool ordered : 1; /* apply_order() moved it already */
	char name[];
};

/*
 * A wide directory's children in Git order and .order blob, kept while
 * the set of children does not change (sorted once), and its last tree
 * bytes, the base of the next delta.
 */
struct gs_mwide {
	struct gs_mnode *node;
	struct gs_mwide *lprev, *lnext; /* the mirror's recency list */
	struct gs_mnode **sorted;
	git_oid order;
	char *last;
	uint32_t lastlen;
	uint32_t nsorted; /* entries allocated in sorted */
	uint32_t voff, poff; /* .value and .perms ids in last */
	bool sorted_ok, need_order;
	/*
	 * last's layout still holds (same children, same dot entries): a
	 * new version is last with ids patched at known offsets, no
	 * re-serialisation of the whole directory.
	 */
	bool layout_ok;
};

/* perms text -> blob id, and blob id -> parsed list */
struct perms_text {
	char *text;
	git_oid oid;
	UT_hash_handle hh;
};

struct perms_parsed {
	git_oid oid;
	unsigned n;
	struct xsw_perm *p;
	UT_hash_handle hh;
};

struct gs_perms_cache {
	struct perms_text *by_text;
	struct perms_parsed *by_oid;
};

struct tree_ent {
	const char *name;
	size_t len;
	bool dir;
	const git_oid *oid;
};

size_t gs_perms_format(const struct xsw_perm *p, unsigned n, char *out)
{
	static const char letters[] = "nrwb";
	size_t len = 0;
	for (unsigned i = 0; i < n; i++)
		len += (size_t)sprintf(out + len, "%c%" PRIu32 "%s\n",
				       letters[p[i].perms & 3], p[i].domid,
				       (p[i].perms & XSW_PERM_IGNORE) ? "!" : "");
	return len;
}

int gs_perms_parse(const char *s, size_t len, struct xsw_perm *out,
		   unsigned max)
{
	unsigned n = 0;
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (s + i)) : len - i;
		if (l < 2 || n == max)
			return -EINVAL;
		const char *e = s + i;
		uint8_t bits;
		switch (e[0]) {
		case 'n': bits = XSW_PERM_NONE; break;
		case 'r': bits = XSW_PERM_READ; break;
		case 'w': bits = XSW_PERM_WRITE; break;
		case 'b': bits = XSW_PERM_BOTH; break;
		default: return -EINVAL;
		}
		uint64_t d = 0;
		size_t k = 1;
		for (; k < l && e[k] >= '0' && e[k] <= '9'; k++)
			d = d * 10 + (uint64_t)(e[k] - '0');
		if (k == 1 || d > UINT32_MAX)
			return -EINVAL;
		if (k < l && e[k] == '!') {
			bits |= XSW_PERM_IGNORE;
			k++;
		}
		if (k != l)
			return -EINVAL;
		out[n].domid = (uint32_t)d;
		out[n].perms = bits;
		n++;
		i += l + 1;
	}
	return (int)n;
}

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

static void wide_unlink(struct gs_mirror *m, struct gs_mwide *w)
{
	if (w->lprev)
		w->lprev->lnext = w->lnext;
	else
		m->whead = w->lnext;
	if (w->lnext)
		w->lnext->lprev = w->lprev;
	else
		m->wtail = w->lprev;
	w->lprev = w->lnext = NULL;
}

static size_t wide_bytes(const struct gs_mwide *w)
{
	return sizeof(*w) + w->lastlen +
	       (size_t)w->nsorted * sizeof(*w->sorted);
}

static void wide_free(struct gs_mirror *m, struct gs_mnode *n)
{
	struct gs_mwide *w = n->w;
	if (!w)
		return;
	m->wbytes -= wide_bytes(w);
	wide_unlink(m, w);
	free(w->sorted);
	free(w->last);
	free(w);
	n->w = NULL;
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
	wide_free(m, n);
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

static void mark_dirty(struct gs_mnode *n)
{
	for (; n && !n->dirty; n = n->parent) {
		n->dirty = true;
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
static void dirty_unlink(struct gs_mnode *n)
{
	if (!n->dirty || !n->parent)
		return;
	struct gs_mnode **pp = &n->parent->dhead;
	while (*pp != n)
		pp = &(*pp)->dnext;
	*pp = n->dnext;
	n->dnext = NULL;
}

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

static int read_blob(struct gs_mirror *m, const git_oid *id, git_blob **out)
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

static int node_load(struct gs_mirror *m, struct gs_mnode *n)
{
	git_tree *t;
	git_oid order;
	bool has_order = false;
	if (n->loaded)
		return 0;
	int e = git_tree_lookup(&t, m->repo->repo, &n->tree);
	if (e)
		return gs_git_error(e, NULL, 0);
	git_oid_cpy(&n->value, &m->empty_blob);
	git_oid_cpy(&n->perms, &m->root->perms); /* no .perms: as root */
	size_t cnt = git_tree_entrycount(t);
	for (size_t i = 0; i < cnt; i++) {
		const git_tree_entry *te = git_tree_entry_byindex(t, i);
		const char *name = git_tree_entry_name(te);
		if (name[0] == '.') {
			if (!strcmp(name, ".value"))
				git_oid_cpy(&n->value, git_tree_entry_id(te));
			else if (!strcmp(name, ".perms"))
				git_oid_cpy(&n->perms, git_tree_entry_id(te));
			else if (!strcmp(name, ".order")) {
				git_oid_cpy(&order, git_tree_entry_id(te));
				has_order = true;
			}
			continue;
		}
		if (git_tree_entry_type(te) != GIT_OBJECT_TREE)
			continue;
		struct gs_mnode *c = node_new(name, strlen(name), n);
		if (!c || add_child(m, n, c)) {
			free(c);
			git_tree_free(t);
			return -ENOMEM;
		}
		git_oid_cpy(&c->tree, git_tree_entry_id(te));
	}
	git_tree_free(t);
	if (has_order) {
		git_blob *b;
		if ((e = read_blob(m, &order, &b)))
			return e;
		apply_order(m, n, git_blob_rawcontent(b),
			    (size_t)git_blob_rawsize(b));
		git_blob_free(b);
	}
	n->loaded = true;
	return 0;
}

static int perms_oid(struct gs_mirror *m, const struct xsw_perm *p,
		     unsigned n, git_oid *out)
{
	char stackbuf[512], *text = stackbuf;
	if (n > 24 && !(text = malloc(16u * n + 1)))
		return -ENOMEM;
	size_t len = gs_perms_format(p, n, text);
	struct perms_text *pt;
	int e = 0;
	HASH_FIND(hh, m->perms->by_text, text, len, pt);
	if (pt) {
		git_oid_cpy(out, &pt->oid);
		goto out;
	}
	if ((e = gs_repo_write(m->repo, GIT_OBJECT_BLOB, text, len, out)))
		goto out;
	pt = calloc(1, sizeof(*pt));
	if (pt && (pt->text = malloc(len + 1))) {
		memcpy(pt->text, text, len + 1);
		git_oid_cpy(&pt->oid, out);
		HASH_ADD_KEYPTR(hh, m->perms->by_text, pt->text, len, pt);
	} else {
		free(pt); /* only a cache */
	}
out:
	if (text != stackbuf)
		free(text);
	return e;
}

int gs_mirror_init(struct gs_mirror *m, struct gs_repo *repo,
		   const git_oid *tree)
{
	static const struct xsw_perm n0 = { 0, XSW_PERM_NONE };
	memset(m, 0, sizeof(*m));
	m->repo = repo;
	m->perms = calloc(1, sizeof(*m->perms));
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
	    (e = perms_oid(m, &n0, 1, &m->root->perms))) {
		gs_mirror_fini(m);
		return e;
	}
	if (tree) {
		git_oid_cpy(&m->root->tree, tree);
		return 0;
	}
	git_oid_cpy(&m->root->value, &m->empty_blob);
	m->root->loaded = true;
	mark_dirty(m->root);
	return 0;
}

void gs_mirror_fini(struct gs_mirror *m)
{
	if (m->root)
		node_free(m, m->root);
	free(m->tab);
	free(m->sortv);
	if (m->perms) {
		struct perms_text *t, *tt;
		HASH_ITER(hh, m->perms->by_text, t, tt) {
			HASH_DEL(m->perms->by_text, t);
			free(t->text);
			free(t);
		}
		struct perms_parsed *p, *pp;
		HASH_ITER(hh, m->perms->by_oid, p, pp) {
			HASH_DEL(m->perms->by_oid, p);
			free(p->p);
			free(p);
		}
		free(m->perms);
	}
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
			mark_dirty(c);
		}
		cur = c;
		p = name + len;
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
			mark_dirty(cur);
			return 0;
		}
		struct gs_mnode *parent = cur->parent;
		list_remove(parent, cur);
		dirty_unlink(cur);
		parent->nchildren--;
		children_changed(parent);
		node_free(m, cur);
		tab_shrink(m);
		mark_dirty(parent);
		return 0;
	}
	if ((e = node_load(m, cur)))
		return e;
	if ((e = gs_repo_write(m->repo, GIT_OBJECT_BLOB, ef->value, ef->len,
			       &cur->value)))
		return e;
	if ((e = perms_oid(m, ef->perms, ef->nperms, &cur->perms)))
		return e;
	mark_dirty(cur);
	return 0;
}

/* Git's tree order: names compared as if directories ended in '/'. */
static int ent_cmp(const void *a, const void *b)
{
	const struct tree_ent *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->name, y->name, n);
	if (c)
		return c;
	unsigned cx = x->len > n ? (unsigned char)x->name[n] : (x->dir ? '/' : 0);
	unsigned cy = y->len > n ? (unsigned char)y->name[n] : (y->dir ? '/' : 0);
	return (int)cx - (int)cy;
}

static int scratch_reserve(struct gs_mirror *m, size_t need)
{
	if (need <= m->scratch_cap)
		return 0;
	size_t cap = m->scratch_cap ? m->scratch_cap : 4096;
	while (cap < need)
		cap *= 2;
	char *s = realloc(m->scratch, cap);
	if (!s)
		return -ENOMEM;
	m->scratch = s;
	m->scratch_cap = cap;
	return 0;
}

static int cmp_child(const void *a, const void *b)
{
	const struct gs_mnode *x = *(struct gs_mnode *const *)a;
	const struct gs_mnode *y = *(struct gs_mnode *const *)b;
	struct tree_ent ex = { x->name, x->namelen, true, NULL };
	struct tree_ent ey = { y->name, y->namelen, true, NULL };
	return ent_cmp(&ex, &ey);
}

/*
 * Sorts n's children in Git order into *out; *order gets the .order blob
 * when creation order differs (*need_order). A wide directory keeps the
 * result while its children stay the same; a narrow one sorts into the
 * mirror's scratch vector on every write, which costs less than keeping
 * a vector per directory.
 */
static int node_sort(struct gs_mirror *m, struct gs_mnode *n,
		     struct gs_mnode ***out, bool *need_order, git_oid *order)
{
	struct gs_mwide *w = n->w;
	struct gs_mnode *c, **v;
	size_t k = 0, olen = 0;
	int e;
	if (w && w->sorted_ok) {
		*out = w->sorted;
		*need_order = w->need_order;
		return 0;
	}
	if (w) {
		m->wbytes -= wide_bytes(w);
		v = realloc(w->sorted, (n->nchildren + 1) * sizeof(*v));
		if (v) {
			w->sorted = v;
			w->nsorted = n->nchildren + 1;
		}
		m->wbytes += wide_bytes(w);
	} else {
		v = m->sortv;
		if (n->nchildren + 1 > m->sortcap) {
			v = realloc(m->sortv, (n->nchildren + 1) * sizeof(*v));
			if (v) {
				m->sortv = v;
				m->sortcap = n->nchildren + 1;
			}
		}
	}
	if (!v)
		return -ENOMEM;
	for (c = n->first; c; c = c->next) {
		v[k++] = c;
		olen += c->namelen + 1u;
	}
	qsort(v, k, sizeof(*v), cmp_child);
	*need_order = false;
	k = 0;
	for (c = n->first; c; c = c->next)
		if (v[k++] != c)
			*need_order = true;
	if (*need_order) {
		if ((e = scratch_reserve(m, olen)))
			return e;
		size_t off = 0;
		for (c = n->first; c; c = c->next) {
			memcpy(m->scratch + off, c->name, c->namelen);
			off += c->namelen;
			m->scratch[off++] = '\n';
		}
		if ((e = gs_repo_write(m->repo, GIT_OBJECT_BLOB, m->scratch, off,
				       order)))
			return e;
	}
	if (w) {
		w->need_order = *need_order;
		w->sorted_ok = true;
		w->layout_ok = false;
	}
	*out = v;
	return 0;
}

static int node_write(struct gs_mirror *m, struct gs_mnode *n);

/* Writes n's dirty children; the list empties as they become clean. */
static int write_children(struct gs_mirror *m, struct gs_mnode *n)
{
	int e;
	while (n->dhead) {
		struct gs_mnode *c = n->dhead;
		if ((e = node_write(m, c)))
			return e;
	}
	return 0;
}

/* Copies id into last at off; widens [*lo, *hi) to cover a change. */
static void patch_id(struct gs_mwide *w, uint32_t off, const git_oid *id,
		     size_t *lo, size_t *hi)
{
	if (!memcmp(w->last + off, id->id, GIT_OID_RAWSZ))
		return;
	memcpy(w->last + off, id->id, GIT_OID_RAWSZ);
	if (off < *lo)
		*lo = off;
	if (off + GIT_OID_RAWSZ > *hi)
		*hi = off + GIT_OID_RAWSZ;
}

/* n was written: first in the recency list of wide directories. */
static void wide_touch(struct gs_mirror *m, struct gs_mwide *w)
{
	if (m->whead == w)
		return;
	wide_unlink(m, w);
	w->lnext = m->whead;
	if (m->whead)
		m->whead->lprev = w;
	m->whead = w;
	if (!m->wtail)
		m->wtail = w;
}

/*
 * A wide directory whose layout did not change: its dirty children's ids
 * and its own two blobs' ids are patched into last, and the new tree is a
 * delta of the old one over the changed range.
 */
static int node_patch(struct gs_mirror *m, struct gs_mnode *n)
{
	struct gs_mwide *w = n->w; /* not evicted during a write */
	size_t lo = w->lastlen, hi = 0;
	int e;
	while (n->dhead) {
		struct gs_mnode *c = n->dhead;
		if ((e = node_write(m, c)))
			return e;
		patch_id(w, c->toff, &c->tree, &lo, &hi);
	}
	patch_id(w, w->voff, &n->value, &lo, &hi);
	patch_id(w, w->poff, &n->perms, &lo, &hi);
	if (lo < hi) {
		git_oid old = n->tree;
		e = gs_repo_write_delta_range(m->repo, GIT_OBJECT_TREE, w->last,
					      w->lastlen, &old, lo,
					      w->lastlen - hi, &n->tree);
		if (e) {
			/* last no longer matches n->tree: start afresh */
			wide_free(m, n);
			return e;
		}
	}
	wide_touch(m, w);
	dirty_unlink(n);
	n->dirty = false;
	return 0;
}

/* Keeps last (the bytes of n->tree) as the base of the next delta. */
static void wide_keep(struct gs_mirror *m, struct gs_mnode *n, size_t len,
		      uint32_t voff, uint32_t poff)
{
	struct gs_mwide *w = n->w;
	m->wbytes -= wide_bytes(w);
	char *keep = len > UINT32_MAX ? NULL : realloc(w->last, len);
	if (keep) {
		memcpy(keep, m->scratch, len);
		w->last = keep;
		w->lastlen = (uint32_t)len;
		w->voff = voff;
		w->poff = poff;
		w->layout_ok = true;
	} else {
		/* last must be n->tree's bytes, or no base at all */
		free(w->last);
		w->last = NULL;
		w->lastlen = 0;
		w->layout_ok = false;
	}
	m->wbytes += wide_bytes(w);
	wide_touch(m, w);
}

static int node_write(struct gs_mirror *m, struct gs_mnode *n)
{
	int e;
	if (!n->dirty)
		return 0;
	if (n->w && n->w->layout_ok && n->w->sorted_ok && n->w->last)
		return node_patch(m, n);
	if ((e = write_children(m, n)))
		return e;
	bool wide = n->nchildren >= WIDE;
	if (!wide && n->w)
		wide_free(m, n);
	if (wide && !n->w) {
		if (!(n->w = calloc(1, sizeof(*n->w))))
			return -ENOMEM;
		n->w->node = n;
		m->wbytes += wide_bytes(n->w);
		wide_touch(m, n->w);
	}
	struct gs_mnode **sorted;
	git_oid order_local, *order = n->w ? &n->w->order : &order_local;
	bool need_order;
	if ((e = node_sort(m, n, &sorted, &need_order, order)))
		return e;
	/* the dot entries, in Git order, merged into the sorted children */
	struct tree_ent dots[3];
	size_t nd = 0;
	uint32_t voff = 0, poff = 0;
	if (need_order)
		dots[nd++] = (struct tree_ent){ ".order", 6, false, order };
	dots[nd++] = (struct tree_ent){ ".perms", 6, false, &n->perms };
	dots[nd++] = (struct tree_ent){ ".value", 6, false, &n->value };
	size_t need = nd * (7 + 7 + GIT_OID_RAWSZ);
	for (unsigned i = 0; i < n->nchildren; i++)
		need += 6 + sorted[i]->namelen + 1 + GIT_OID_RAWSZ;
	if ((e = scratch_reserve(m, need)))
		return e;
	size_t off = 0, di = 0;
	for (unsigned i = 0; i <= n->nchildren; i++) {
		struct tree_ent ce = { 0 };
		if (i < n->nchildren)
			ce = (struct tree_ent){ sorted[i]->name,
						sorted[i]->namelen, true,
						&sorted[i]->tree };
		while (di < nd && (i == n->nchildren ||
				   ent_cmp(&dots[di], &ce) < 0)) {
			memcpy(m->scratch + off, "100644 ", 7);
			memcpy(m->scratch + off + 7, dots[di].name, 7); /* + NUL */
			memcpy(m->scratch + off + 14, dots[di].oid->id,
			       GIT_OID_RAWSZ);
			if (dots[di].oid == &n->value)
				voff = (uint32_t)(off + 14);
			else if (dots[di].oid == &n->perms)
				poff = (uint32_t)(off + 14);
			off += 14 + GIT_OID_RAWSZ;
			di++;
		}
		if (i == n->nchildren)
			break;
		memcpy(m->scratch + off, "40000 ", 6);
		memcpy(m->scratch + off + 6, ce.name, ce.len);
		off += 6 + ce.len;
		m->scratch[off++] = '\0';
		memcpy(m->scratch + off, ce.oid->id, GIT_OID_RAWSZ);
		sorted[i]->toff = (uint32_t)off;
		off += GIT_OID_RAWSZ;
	}
	if (!wide) {
		e = gs_repo_write(m->repo, GIT_OBJECT_TREE, m->scratch, off,
				  &n->tree);
	} else {
		git_oid old = n->tree;
		struct gs_mwide *w = n->w;
		e = w->last ? gs_repo_write_delta(m->repo, GIT_OBJECT_TREE,
						  m->scratch, off, &old, w->last,
						  w->lastlen, &n->tree)
			    : gs_repo_write(m->repo, GIT_OBJECT_TREE, m->scratch,
					    off, &n->tree);
		if (e)
			wide_free(m, n); /* last must be n->tree's bytes */
		else
			wide_keep(m, n, off, voff, poff);
	}
	if (e)
		return e;
	dirty_unlink(n);
	n->dirty = false;
	return 0;
}

/* Outside a write: wide directories not written lately lose their cache. */
static void wide_evict(struct gs_mirror *m)
{
	while (m->wbytes > WIDE_CACHE_MAX && m->wtail)
		wide_free(m, m->wtail->node);
}

int gs_mirror_write(struct gs_mirror *m, git_oid *tree)
{
	int e = node_write(m, m->root);
	wide_evict(m);
	if (!e)
		git_oid_cpy(tree, &m->root->tree);
	return e;
}

static int perms_get(struct gs_mirror *m, const git_oid *id,
		     struct perms_parsed **out)
{
	struct perms_parsed *pp;
	HASH_FIND(hh, m->perms->by_oid, id, sizeof(*id), pp);
	if (pp) {
		*out = pp;
		return 0;
	}
	git_blob *b;
	int e = read_blob(m, id, &b);
	if (e)
		return e;
	struct xsw_perm tmp[PERMS_MAX];
	int n = gs_perms_parse(git_blob_rawcontent(b),
			       (size_t)git_blob_rawsize(b), tmp, PERMS_MAX);
	git_blob_free(b);
	if (n <= 0)
		return -EIO; /* a node always has an owner entry */
	pp = calloc(1, sizeof(*pp));
	if (!pp || !(pp->p = malloc((size_t)n * sizeof(*pp->p)))) {
		free(pp);
		return -ENOMEM;
	}
	memcpy(pp->p, tmp, (size_t)n * sizeof(*pp->p));
	pp->n = (unsigned)n;
	git_oid_cpy(&pp->oid, id);
	HASH_ADD(hh, m->perms->by_oid, oid, sizeof(pp->oid), pp);
	*out = pp;
	return 0;
}

static int walk(struct gs_mirror *m, struct gs_mnode *n, char *path,
		size_t plen, gs_mirror_fn fn, void *ctx)
{
	struct perms_parsed *pp;
	int e;
	if ((e = node_load(m, n)) || (e = perms_get(m, &n->perms, &pp)))
		return e;
	if (git_oid_equal(&n->value, &m->empty_blob)) {
		e = fn(ctx, plen ? path : "/", "", 0, pp->p, pp->n);
	} else {
		git_blob *b;
		if ((e = read_blob(m, &n->value, &b)))
			return e;
		e = fn(ctx, plen ? path : "/", git_blob_rawcontent(b),
		       (uint32_t)git_blob_rawsize(b), pp->p, pp->n);
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
