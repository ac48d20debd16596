/*
 * mirror_write.c - dirty trees serialised in Git's format; wide
 * directories written as deltas of their last tree, with a bounded cache.
 */
#include "mirror_int.h"

#include "fanout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* directories this wide are written as deltas of their last tree */
#define WIDE 32u
/*
 * Bytes of cached state (sorted children, last tree bytes) kept for wide
 * directories; the least recently written lose theirs first and are
 * serialised whole on their next write.
 */
#define WIDE_CACHE_MAX (4u << 20)
/*
 * Trees this long also keep SHA-1 marks and their chain's first version:
 * worth their memory only there (a cache that no longer holds every
 * directory written often costs a sort and a serialisation per write).
 */
#define WIDE_EXTRA_MIN 8192u

struct tree_ent {
	const char *name;
	size_t len;
	bool dir;
	const git_oid *oid;
};

static void wide_unlink(struct gs_mirror *m, struct gs_mwide *w)
{
	/*
	 * a new cache is in no list yet: taken for the head, it would empty
	 * the list and leave the others where eviction never finds them
	 */
	if (!w->lprev && m->whead != w)
		return;
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
	const struct gs_mfan *f = w->fan;
	return sizeof(*w) + w->lastlen +
	       (size_t)w->nsorted * sizeof(*w->sorted) +
	       (size_t)w->nmarks * sizeof(*w->marks) +
	       (w->first ? w->lastlen : 0) +
	       (w->keys ? (size_t)w->nsorted * sizeof(*w->keys) : 0) +
	       (f ? gs_mirror_fan_bytes(f) : 0);
}

size_t gs_mirror_wide_bytes(const struct gs_mwide *w)
{
	return wide_bytes(w);
}

void gs_mirror_wide_free(struct gs_mirror *m, struct gs_mnode *n)
{
	struct gs_mwide *w = n->w;
	if (!w)
		return;
	m->wbytes -= wide_bytes(w);
	wide_unlink(m, w);
	free(w->sorted);
	free(w->last);
	free(w->marks);
	free(w->first);
	free(w->keys);
	gs_mirror_fan_free(w->fan);
	free(w);
	n->w = NULL;
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

int gs_mirror_scratch_reserve(struct gs_mirror *m, size_t need)
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
	return gs_mnode_git_cmp(*(struct gs_mnode *const *)a,
				*(struct gs_mnode *const *)b);
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
	if (k < WIDE) {
		/*
		 * Insertion sort: a narrow directory is sorted at each write,
		 * and its children mostly come in order already (qsort's
		 * calls through a pointer cost more than the few moves).
		 */
		for (size_t i = 1; i < k; i++) {
			struct gs_mnode *x = v[i];
			size_t j = i;
			for (; j && cmp_child(&v[j - 1], &x) > 0; j--)
				v[j] = v[j - 1];
			v[j] = x;
		}
	} else {
		qsort(v, k, sizeof(*v), cmp_child);
	}
	*need_order = false;
	k = 0;
	for (c = n->first; c; c = c->next)
		if (v[k++] != c)
			*need_order = true;
	if (*need_order) {
		if ((e = gs_mirror_scratch_reserve(m, olen)))
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

/*
 * After a write of last as id: when it was stored whole, it is the base
 * of the next full chain's delta. Best effort: without memory, the chain
 * ends with a whole tree as before.
 */
static void first_keep(struct gs_mirror *m, struct gs_mwide *w,
		       const git_oid *id)
{
	if (w->lastlen < WIDE_EXTRA_MIN || !w->last ||
	    gs_repo_obj_depth(m->repo, id) != 0)
		return;
	m->wbytes -= wide_bytes(w);
	char *f = w->first ? w->first : malloc(w->lastlen ? w->lastlen : 1);
	if (f) {
		memcpy(f, w->last, w->lastlen);
		git_oid_cpy(&w->first_id, id);
	}
	w->first = f;
	m->wbytes += wide_bytes(w);
}

/* last's layout changes: first is not its size any more. */
static void first_drop(struct gs_mirror *m, struct gs_mwide *w)
{
	m->wbytes -= wide_bytes(w);
	free(w->first);
	w->first = NULL;
	m->wbytes += wide_bytes(w);
}

/* n was written: first in the recency list of wide directories. */
void gs_mirror_wide_touch(struct gs_mirror *m, struct gs_mwide *w)
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
 * The SHA-1 marks along last, for node_patch(): *mk gets them, from 0 when
 * they must be computed afresh; NULL without memory for them (the id is
 * then hashed whole, as without marks).
 */
static struct gs_repo_marks *marks_for(struct gs_mirror *m, struct gs_mwide *w,
				       struct gs_repo_marks *mk, size_t lo)
{
	size_t n = gs_repo_marks_count(GIT_OBJECT_TREE, w->lastlen);
	if (w->lastlen < WIDE_EXTRA_MIN) {
		if (w->marks) { /* it shrank */
			m->wbytes -= wide_bytes(w);
			free(w->marks);
			w->marks = NULL;
			w->nmarks = 0;
			w->marks_ok = false;
			m->wbytes += wide_bytes(w);
		}
		return NULL;
	}
	if (!w->marks_ok && w->nmarks != n) {
		m->wbytes -= wide_bytes(w);
		struct gs_sha1_mark *v = realloc(w->marks, (n ? n : 1) *
							   sizeof(*v));
		if (v) {
			w->marks = v;
			w->nmarks = (uint32_t)n;
		}
		m->wbytes += wide_bytes(w);
		if (!v)
			return NULL;
	}
	mk->v = w->marks;
	mk->from = w->marks_ok ? lo : 0;
	w->marks_ok = true; /* by the time the write returns 0 */
	return mk;
}

/*
 * A wide directory whose layout did not change: its dirty children's ids
 * and its own two blobs' ids are patched into last, and the new tree is a
 * delta of the old one over the changed range. Its id is hashed from the
 * last SHA-1 mark before the range: a write to a random child of a
 * directory hashes half of it, not all.
 */
static int node_patch(struct gs_mirror *m, struct gs_mnode *n)
{
	struct gs_mwide *w = n->w; /* not evicted during a write */
	size_t lo = w->lastlen, hi = 0;
	int e;
	while (n->dhead) {
		struct gs_mnode *c = n->dhead;
		if ((e = node_write(m, c))) {
			/*
			 * The children before it are patched into last, which
			 * no longer holds n->tree's bytes: a retry would find
			 * their ids there, leave them out of the changed range
			 * and write a delta that does not give the id hashed.
			 */
			gs_mirror_wide_free(m, n);
			return e;
		}
		patch_id(w, c->toff, &c->tree, &lo, &hi);
	}
	patch_id(w, w->voff, &n->value, &lo, &hi);
	patch_id(w, w->poff, &n->perms, &lo, &hi);
	if (lo < hi) {
		git_oid old = n->tree;
		struct gs_repo_marks mk, *mkp = marks_for(m, w, &mk, lo);
		/* a full chain: a delta of its first version, if still here */
		if (w->first &&
		    gs_repo_obj_depth(m->repo, &old) >= GS_DELTA_DEPTH_MAX &&
		    gs_repo_obj_depth(m->repo, &w->first_id) == 0)
			e = gs_repo_write_delta_diff(m->repo, GIT_OBJECT_TREE,
						     w->last, w->lastlen,
						     &w->first_id, w->first,
						     mkp, &n->tree);
		else
			e = gs_repo_write_delta_range(m->repo, GIT_OBJECT_TREE,
						      w->last, w->lastlen, &old,
						      lo, w->lastlen - hi, mkp,
						      &n->tree);
		if (e) {
			/* last no longer matches n->tree: start afresh */
			gs_mirror_wide_free(m, n);
			return e;
		}
		first_keep(m, w, &n->tree);
	}
	gs_mirror_wide_touch(m, w);
	gs_mirror_dirty_unlink(n);
	n->dirty = false;
	return 0;
}

/* Keeps last (the bytes of n->tree) as the base of the next delta. */
static void wide_keep(struct gs_mirror *m, struct gs_mnode *n, size_t len,
		      uint32_t voff, uint32_t poff)
{
	struct gs_mwide *w = n->w;
	first_drop(m, w);
	m->wbytes -= wide_bytes(w);
	char *keep = len > UINT32_MAX ? NULL : realloc(w->last, len);
	if (keep) {
		memcpy(keep, m->scratch, len);
		w->last = keep;
		w->lastlen = (uint32_t)len;
		w->voff = voff;
		w->poff = poff;
		w->layout_ok = true;
		w->marks_ok = false;
	} else {
		/* last must be n->tree's bytes, or no base at all */
		free(w->last);
		w->last = NULL;
		w->lastlen = 0;
		w->layout_ok = false;
		w->marks_ok = false;
	}
	m->wbytes += wide_bytes(w);
	gs_mirror_wide_touch(m, w);
}

int gs_mirror_wide_new(struct gs_mirror *m, struct gs_mnode *n)
{
	if (!(n->w = calloc(1, sizeof(*n->w))))
		return -ENOMEM;
	n->w->node = n;
	m->wbytes += wide_bytes(n->w);
	gs_mirror_wide_touch(m, n->w);
	return 0;
}

int gs_mirror_node_write(struct gs_mirror *m, struct gs_mnode *n)
{
	return node_write(m, n);
}

static int node_write(struct gs_mirror *m, struct gs_mnode *n)
{
	int e;
	if (!n->dirty)
		return 0;
	/*
	 * its previous tree, the base of its delta, is looked up after the
	 * children are written: its slot was prefetched when the effect was
	 * applied, its entry is loaded meanwhile
	 */
	gs_repo_obj_prefetch_entry(m->repo, &n->tree);
	if (gs_fan_depth(n->nchildren))
		return gs_mirror_fan_write(m, n);
	if (n->w && n->w->fan) /* it was fanned out: flat again */
		gs_mirror_wide_free(m, n);
	if (n->w && n->w->layout_ok && n->w->sorted_ok && n->w->last)
		return node_patch(m, n);
	if ((e = write_children(m, n)))
		return e;
	bool wide = n->nchildren >= WIDE;
	if (!wide && n->w)
		gs_mirror_wide_free(m, n);
	if (wide && !n->w && (e = gs_mirror_wide_new(m, n)))
		return e;
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
	if ((e = gs_mirror_scratch_reserve(m, need)))
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
		/* most writes change one id of it: a small delta */
		git_oid old = n->tree;
		e = gs_repo_write_delta_root(m->repo, GIT_OBJECT_TREE,
					     m->scratch, off, &old, &n->tree);
	} else {
		git_oid old = n->tree;
		struct gs_mwide *w = n->w;
		e = w->last ? gs_repo_write_delta(m->repo, GIT_OBJECT_TREE,
						  m->scratch, off, &old, w->last,
						  w->lastlen, NULL, &n->tree)
			    : gs_repo_write(m->repo, GIT_OBJECT_TREE, m->scratch,
					    off, &n->tree);
		if (e) {
			gs_mirror_wide_free(m, n); /* last must be n->tree's bytes */
		} else {
			wide_keep(m, n, off, voff, poff);
			first_keep(m, n->w, &n->tree);
		}
	}
	if (e)
		return e;
	gs_mirror_dirty_unlink(n);
	n->dirty = false;
	return 0;
}

/* Outside a write: wide directories not written lately lose their cache. */
static void wide_evict(struct gs_mirror *m)
{
	while (m->wbytes > WIDE_CACHE_MAX && m->wtail)
		gs_mirror_wide_free(m, m->wtail->node);
}

int gs_mirror_write(struct gs_mirror *m, git_oid *tree)
{
	int e = node_write(m, m->root);
	wide_evict(m);
	if (!e)
		git_oid_cpy(tree, &m->root->tree);
	return e;
}
