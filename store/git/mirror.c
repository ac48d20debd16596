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

struct gs_mnode {
	char *name;
	size_t namelen;
	struct gs_mnode *parent;
	struct gs_mnode *children; /* uthash keeps creation order */
	UT_hash_handle hh;
	git_oid tree, value, perms;
	unsigned nchildren;
	bool loaded, dirty;
	/* children in Git order and the .order blob, kept while the set of
	 * children does not change (a wide directory is sorted once) */
	bool sorted_ok, need_order;
	struct gs_mnode **sorted;
	git_oid order;
	/* a wide directory's last tree bytes, the base of the next delta */
	char *last;
	size_t lastlen;
	/*
	 * last's layout still holds (same children, same dot entries): a
	 * new version is last with ids patched at known offsets, no
	 * re-serialisation of the whole directory.
	 */
	bool layout_ok;
	uint32_t toff;        /* this node's id in its parent's last */
	uint32_t voff, poff;  /* .value and .perms ids in last */
	/* dirty children, so that a write visits only the changed paths */
	struct gs_mnode *dhead, *dnext, *dprev;
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

static struct gs_mnode *node_new(const char *name, size_t len,
				 struct gs_mnode *parent)
{
	struct gs_mnode *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->name = malloc(len + 1);
	if (!n->name) {
		free(n);
		return NULL;
	}
	memcpy(n->name, name, len);
	n->name[len] = '\0';
	n->namelen = len;
	n->parent = parent;
	return n;
}

static void node_free(struct gs_mnode *n)
{
	struct gs_mnode *c, *tmp;
	HASH_ITER(hh, n->children, c, tmp) {
		HASH_DEL(n->children, c);
		node_free(c);
	}
	free(n->sorted);
	free(n->last);
	free(n->name);
	free(n);
}

static void mark_dirty(struct gs_mnode *n)
{
	for (; n && !n->dirty; n = n->parent) {
		n->dirty = true;
		struct gs_mnode *p = n->parent;
		if (p) {
			n->dprev = NULL;
			n->dnext = p->dhead;
			if (p->dhead)
				p->dhead->dprev = n;
			p->dhead = n;
		}
	}
}

/* Takes n off its parent's dirty list (it is clean or going away). */
static void dirty_unlink(struct gs_mnode *n)
{
	if (!n->dirty || !n->parent)
		return;
	if (n->dprev)
		n->dprev->dnext = n->dnext;
	else
		n->parent->dhead = n->dnext;
	if (n->dnext)
		n->dnext->dprev = n->dprev;
	n->dnext = n->dprev = NULL;
}

static int add_child(struct gs_mnode *parent, struct gs_mnode *c)
{
	HASH_ADD_KEYPTR(hh, parent->children, c->name, c->namelen, c);
	parent->nchildren++;
	parent->sorted_ok = false;
	return 0;
}

static int read_blob(struct gs_mirror *m, const git_oid *id, git_blob **out)
{
	int e = git_blob_lookup(out, m->repo->repo, id);
	return e ? gs_git_error(e, NULL, 0) : 0;
}

/* Reorders n's children by the names listed in an .order blob. */
static void apply_order(struct gs_mnode *n, const char *s, size_t len)
{
	struct gs_mnode *ordered = NULL, *c, *tmp;
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (s + i)) : len - i;
		HASH_FIND(hh, n->children, s + i, l, c);
		if (c) {
			HASH_DEL(n->children, c);
			HASH_ADD_KEYPTR(hh, ordered, c->name, c->namelen, c);
		}
		i += l + 1;
	}
	HASH_ITER(hh, n->children, c, tmp) {
		HASH_DEL(n->children, c);
		HASH_ADD_KEYPTR(hh, ordered, c->name, c->namelen, c);
	}
	n->children = ordered;
	n->sorted_ok = false;
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
		if (!c) {
			git_tree_free(t);
			return -ENOMEM;
		}
		git_oid_cpy(&c->tree, git_tree_entry_id(te));
		add_child(n, c);
	}
	git_tree_free(t);
	if (has_order) {
		git_blob *b;
		if ((e = read_blob(m, &order, &b)))
			return e;
		apply_order(n, git_blob_rawcontent(b),
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
		node_free(m->root);
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
		HASH_FIND(hh, cur->children, name, len, c);
		if (!c) {
			if (ef->deleted)
				return 0; /* already gone */
			/* A missing parent: created as the store does, inheriting. */
			if (!(c = node_new(name, len, cur)))
				return -ENOMEM;
			git_oid_cpy(&c->value, &m->empty_blob);
			git_oid_cpy(&c->perms, &cur->perms);
			c->loaded = true;
			add_child(cur, c);
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
			struct gs_mnode *x, *t;
			HASH_ITER(hh, cur->children, x, t) {
				HASH_DEL(cur->children, x);
				node_free(x);
			}
			cur->dhead = NULL;
			cur->nchildren = 0;
			cur->sorted_ok = false;
			mark_dirty(cur);
			return 0;
		}
		struct gs_mnode *parent = cur->parent;
		HASH_DEL(parent->children, cur);
		dirty_unlink(cur);
		parent->nchildren--;
		parent->sorted_ok = false;
		node_free(cur);
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

/* Sorts n's children in Git order; writes .order if creation order differs. */
static int node_sort(struct gs_mirror *m, struct gs_mnode *n)
{
	struct gs_mnode *c, *tmp;
	size_t k = 0, olen = 0;
	int e;
	struct gs_mnode **v = realloc(n->sorted,
				      (n->nchildren + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	n->sorted = v;
	HASH_ITER(hh, n->children, c, tmp) {
		v[k++] = c;
		olen += c->namelen + 1;
	}
	qsort(v, k, sizeof(*v), cmp_child);
	n->need_order = false;
	k = 0;
	HASH_ITER(hh, n->children, c, tmp)
		if (v[k++] != c)
			n->need_order = true;
	if (n->need_order) {
		if ((e = scratch_reserve(m, olen)))
			return e;
		size_t off = 0;
		HASH_ITER(hh, n->children, c, tmp) {
			memcpy(m->scratch + off, c->name, c->namelen);
			off += c->namelen;
			m->scratch[off++] = '\n';
		}
		if ((e = gs_repo_write(m->repo, GIT_OBJECT_BLOB, m->scratch, off,
				       &n->order)))
			return e;
	}
	n->sorted_ok = true;
	n->layout_ok = false;
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
static void patch_id(struct gs_mnode *n, uint32_t off, const git_oid *id,
		     size_t *lo, size_t *hi)
{
	if (!memcmp(n->last + off, id->id, GIT_OID_RAWSZ))
		return;
	memcpy(n->last + off, id->id, GIT_OID_RAWSZ);
	if (off < *lo)
		*lo = off;
	if (off + GIT_OID_RAWSZ > *hi)
		*hi = off + GIT_OID_RAWSZ;
}

/*
 * A wide directory whose layout did not change: its dirty children's ids
 * and its own two blobs' ids are patched into last, and the new tree is a
 * delta of the old one over the changed range.
 */
static int node_patch(struct gs_mirror *m, struct gs_mnode *n)
{
	size_t lo = n->lastlen, hi = 0;
	int e;
	while (n->dhead) {
		struct gs_mnode *c = n->dhead;
		if ((e = node_write(m, c)))
			return e;
		patch_id(n, c->toff, &c->tree, &lo, &hi);
	}
	patch_id(n, n->voff, &n->value, &lo, &hi);
	patch_id(n, n->poff, &n->perms, &lo, &hi);
	if (lo < hi) {
		git_oid old = n->tree;
		e = gs_repo_write_delta_range(m->repo, GIT_OBJECT_TREE, n->last,
					      n->lastlen, &old, lo,
					      n->lastlen - hi, &n->tree);
		if (e) {
			/* last no longer matches n->tree: start afresh */
			free(n->last);
			n->last = NULL;
			n->layout_ok = false;
			return e;
		}
	}
	dirty_unlink(n);
	n->dirty = false;
	return 0;
}

static int node_write(struct gs_mirror *m, struct gs_mnode *n)
{
	int e;
	if (!n->dirty)
		return 0;
	if (n->layout_ok && n->sorted_ok && n->last)
		return node_patch(m, n);
	if ((e = write_children(m, n)))
		return e;
	if (!n->sorted_ok && (e = node_sort(m, n)))
		return e;
	/* the dot entries, in Git order, merged into the sorted children */
	struct tree_ent dots[3];
	size_t nd = 0;
	if (n->need_order)
		dots[nd++] = (struct tree_ent){ ".order", 6, false, &n->order };
	dots[nd++] = (struct tree_ent){ ".perms", 6, false, &n->perms };
	dots[nd++] = (struct tree_ent){ ".value", 6, false, &n->value };
	size_t need = nd * (7 + 7 + GIT_OID_RAWSZ);
	for (unsigned i = 0; i < n->nchildren; i++)
		need += 6 + n->sorted[i]->namelen + 1 + GIT_OID_RAWSZ;
	if ((e = scratch_reserve(m, need)))
		return e;
	size_t off = 0, di = 0;
	for (unsigned i = 0; i <= n->nchildren; i++) {
		struct tree_ent ce = { 0 };
		if (i < n->nchildren)
			ce = (struct tree_ent){ n->sorted[i]->name,
						n->sorted[i]->namelen, true,
						&n->sorted[i]->tree };
		while (di < nd && (i == n->nchildren ||
				   ent_cmp(&dots[di], &ce) < 0)) {
			memcpy(m->scratch + off, "100644 ", 7);
			memcpy(m->scratch + off + 7, dots[di].name, 7); /* + NUL */
			memcpy(m->scratch + off + 14, dots[di].oid->id,
			       GIT_OID_RAWSZ);
			if (dots[di].oid == &n->value)
				n->voff = (uint32_t)(off + 14);
			else if (dots[di].oid == &n->perms)
				n->poff = (uint32_t)(off + 14);
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
		n->sorted[i]->toff = (uint32_t)off;
		off += GIT_OID_RAWSZ;
	}
	if (n->nchildren < WIDE) {
		e = gs_repo_write(m->repo, GIT_OBJECT_TREE, m->scratch, off,
				  &n->tree);
	} else {
		git_oid old = n->tree;
		e = n->last ? gs_repo_write_delta(m->repo, GIT_OBJECT_TREE,
						  m->scratch, off, &old, n->last,
						  n->lastlen, &n->tree)
			    : gs_repo_write(m->repo, GIT_OBJECT_TREE, m->scratch,
					    off, &n->tree);
		char *keep = e || off > UINT32_MAX ? NULL
						   : realloc(n->last, off);
		if (keep) {
			memcpy(keep, m->scratch, off);
			n->last = keep;
			n->lastlen = off;
			n->layout_ok = true;
		} else if (!e) {
			/* last must be n->tree's bytes, or no base at all */
			free(n->last);
			n->last = NULL;
			n->layout_ok = false;
		}
	}
	if (e)
		return e;
	dirty_unlink(n);
	n->dirty = false;
	return 0;
}

int gs_mirror_write(struct gs_mirror *m, git_oid *tree)
{
	int e = node_write(m, m->root);
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
	struct gs_mnode *c, *tmp;
	HASH_ITER(hh, n->children, c, tmp) {
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
