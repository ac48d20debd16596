/*
 * mirror_fan.c - a directory of GS_FAN_MIN children or more, written
 * fanned out (fanout.h): a write hashes the buckets of its changed
 * children and a small top tree, not the whole directory.
 *
 * Its cache (n->w) keeps the children sorted by (bucket, Git order), so
 * that a bucket is a contiguous range, with each child's bucket and each
 * bucket's tree bytes and last id. It is rebuilt when the set of children
 * changes; between such changes a write patches its dirty children's ids
 * into their buckets and writes only those buckets again, each a delta
 * of its last version (its chain's root when that chain is full).
 */
#include "mirror_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fanout.h"

/* A tree entry "40000 <name>\0<id>" at dst; returns its length. */
static size_t put_tree(char *dst, const char *name, size_t len,
		       const git_oid *id)
{
	memcpy(dst, "40000 ", 6);
	memcpy(dst + 6, name, len);
	dst[6 + len] = '\0';
	memcpy(dst + 7 + len, id->id, GIT_OID_RAWSZ);
	return 7 + len + GIT_OID_RAWSZ;
}

/* A blob entry: head is "100644 <6-character name>", then its NUL. */
static size_t put_blob(char *dst, const char head[14], const git_oid *id)
{
	memcpy(dst, head, 14);
	memcpy(dst + 14, id->id, GIT_OID_RAWSZ);
	return 14 + GIT_OID_RAWSZ;
}

/* The longest top tree: 16 buckets, then .order, .perms and .value. */
#define TOP_MAX (GS_FAN_WAYS * (7u + 2u + GIT_OID_RAWSZ) + \
		 3u * (14u + GIT_OID_RAWSZ))

/*
 * A small tree (top, mid): its chain's root, id (zero: none) and bytes,
 * and its previous version's (plen 0: none), the base of the next delta.
 */
struct gs_froot {
	git_oid id, pid;
	uint32_t len, plen;
	char bytes[TOP_MAX], prev[TOP_MAX];
};

/* The struct and its nleaf-sized arrays. */
static size_t fan_size(uint32_t nleaf)
{
	struct gs_mfan *f = NULL;
	return sizeof(*f) + 3 * (nleaf + 1) * sizeof(*f->start) +
	       nleaf * (2 * sizeof(*f->lo) + 2 * sizeof(*f->leaf) +
			sizeof(*f->dirty));
}

/* The top tree's root, then the mids' at depth 2. */
static size_t fan_nsmall(const struct gs_mfan *f)
{
	return f->depth == 2 ? 1 + GS_FAN_WAYS : 1;
}

size_t gs_mirror_fan_bytes(const struct gs_mfan *f)
{
	/* idoff: one per child, as many as the leaves' start says */
	return fan_size(f->nleaf) + 2 * (size_t)f->boff[f->nleaf] +
	       f->moff[f->nleaf] * sizeof(*f->marks) +
	       f->start[f->nleaf] * sizeof(*f->idoff) +
	       fan_nsmall(f) * sizeof(*f->small);
}

void gs_mirror_fan_free(struct gs_mfan *f)
{
	if (!f)
		return;
	free(f->buf);
	free(f->rbuf);
	free(f->marks);
	free(f->idoff);
	free(f->small);
	free(f);
}

static struct gs_mfan *fan_new(unsigned depth)
{
	uint32_t nleaf = depth == 1 ? GS_FAN_WAYS : GS_FAN_WAYS * GS_FAN_WAYS;
	/* struct, then the uint32_t arrays, then leaf, root and dirty */
	struct gs_mfan *f = calloc(1, fan_size(nleaf));
	if (!f)
		return NULL;
	f->depth = depth;
	f->nleaf = nleaf;
	f->start = (uint32_t *)(f + 1);
	f->boff = f->start + nleaf + 1;
	f->moff = f->boff + nleaf + 1;
	f->lo = f->moff + nleaf + 1;
	f->hi = f->lo + nleaf;
	f->leaf = (git_oid *)(f->hi + nleaf);
	f->root = f->leaf + nleaf;
	f->dirty = (bool *)(f->root + nleaf);
	if (!(f->small = calloc(fan_nsmall(f), sizeof(*f->small)))) {
		free(f);
		return NULL;
	}
	return f;
}

/* The leaves' tree bytes, from the sorted children, into f->buf. */
static int fan_serialise(struct gs_mfan *f, struct gs_mnode **v)
{
	uint32_t cnt = f->start[f->nleaf];
	size_t len = 0;
	for (uint32_t i = 0; i < cnt; i++)
		len += 7u + v[i]->namelen + GIT_OID_RAWSZ;
	if (len > UINT32_MAX)
		return -EFBIG;
	f->buf = malloc(len ? len : 1);
	f->rbuf = malloc(len ? len : 1);
	f->idoff = malloc(cnt ? cnt * sizeof(*f->idoff) : 1);
	if (!f->buf || !f->rbuf || !f->idoff)
		return -ENOMEM;
	size_t off = 0, nmarks = 0;
	for (uint32_t b = 0; b < f->nleaf; b++) {
		f->boff[b] = (uint32_t)off;
		f->moff[b] = (uint32_t)nmarks;
		for (uint32_t i = f->start[b]; i < f->start[b + 1]; i++) {
			off += put_tree(f->buf + off, v[i]->name,
					v[i]->namelen, &v[i]->tree);
			f->idoff[i] = (uint32_t)(off - GIT_OID_RAWSZ);
		}
		/* nothing known of its last version: all changed */
		f->lo[b] = 0;
		f->hi[b] = (uint32_t)(off - f->boff[b]);
		nmarks += gs_repo_marks_count(GIT_OBJECT_TREE, off - f->boff[b]);
	}
	f->boff[f->nleaf] = (uint32_t)off;
	f->moff[f->nleaf] = (uint32_t)nmarks;
	f->marks = malloc((nmarks ? nmarks : 1) * sizeof(*f->marks));
	return f->marks ? 0 : -ENOMEM;
}

/* The bytes [*lo, *hi) widened to cover where x and y (len each) differ. */
static void diff_range(const char *x, const char *y, uint32_t len,
		       uint32_t *lo, uint32_t *hi)
{
	uint32_t i = 0, j = len;
	while (i < len && x[i] == y[i])
		i++;
	while (j > i && x[j - 1] == y[j - 1])
		j--;
	if (i < j && i < *lo)
		*lo = i;
	if (i < j && j > *hi)
		*hi = j;
}

/*
 * What the new cache f takes over from the old one: the chain roots
 * (kept with their bytes, so any tree of the same length may be a delta
 * of them), and for a leaf of the same length, what changed since its
 * last version (the base of its next delta) and its SHA-1 marks.
 */
static void fan_carry(struct gs_mfan *f, const struct gs_mfan *of)
{
	if (!of)
		return;
	f->small[0] = of->small[0];
	if (of->depth != f->depth)
		return;
	memcpy(f->small + 1, of->small + 1,
	       (fan_nsmall(f) - 1) * sizeof(*f->small));
	for (uint32_t b = 0; b < f->nleaf; b++) {
		uint32_t len = f->boff[b + 1] - f->boff[b];
		uint32_t ob = of->boff[b];
		if (len != of->boff[b + 1] - ob)
			continue;
		git_oid_cpy(&f->root[b], &of->root[b]);
		memcpy(f->rbuf + f->boff[b], of->rbuf + ob, len);
		f->lo[b] = of->lo[b];
		f->hi[b] = of->hi[b];
		diff_range(f->buf + f->boff[b], of->buf + ob, len, &f->lo[b],
			   &f->hi[b]);
		memcpy(f->marks + f->moff[b], of->marks + of->moff[b],
		       (f->moff[b + 1] - f->moff[b]) * sizeof(*f->marks));
	}
}

static int cmp_child(const void *a, const void *b)
{
	return gs_mnode_git_cmp(*(struct gs_mnode *const *)a,
				*(struct gs_mnode *const *)b);
}

/* The .order blob: n's children in creation order, one per line. */
static int order_write(struct gs_mirror *m, struct gs_mnode *n, git_oid *out)
{
	size_t len = 0, off = 0;
	int e;
	for (struct gs_mnode *c = n->first; c; c = c->next)
		len += c->namelen + 1u;
	if ((e = gs_mirror_scratch_reserve(m, len)))
		return e;
	for (struct gs_mnode *c = n->first; c; c = c->next) {
		memcpy(m->scratch + off, c->name, c->namelen);
		off += c->namelen;
		m->scratch[off++] = '\n';
	}
	return gs_repo_write(m->repo, GIT_OBJECT_BLOB, m->scratch, off, out);
}

/*
 * A child's bucket: kept from the last sort while it is the same node.
 * A node created since is dirty (its creation marked it), and only such
 * a node can sit at a freed child's address, so a clean child whose
 * toff points at itself is the one that was sorted there.
 */
static uint32_t child_key(const struct gs_mwide *w, const struct gs_mfan *of,
			  const struct gs_mnode *c, unsigned depth)
{
	if (of && of->depth == depth && !c->dirty &&
	    c->toff < of->start[of->nleaf] && w->sorted[c->toff] == c)
		return w->keys[c->toff];
	return gs_fan_key(c->name, c->namelen, depth);
}

/*
 * Sorts n's children into buckets afresh (the set changed, or there is
 * no cache). A bucket that holds the same nodes in the same places as in
 * the last sort keeps its id; the others are to be written, against their
 * last id as the base of a delta.
 */
static int fan_sort(struct gs_mirror *m, struct gs_mnode *n)
{
	struct gs_mwide *w = n->w;
	struct gs_mfan *of = w->fan;
	uint32_t cnt = n->nchildren, i = 0;
	unsigned depth = gs_fan_depth(cnt);
	struct gs_mfan *f = fan_new(depth);
	struct gs_mnode **v = malloc(cnt * sizeof(*v));
	uint16_t *k = malloc(cnt * sizeof(*k)), *kc = malloc(cnt * sizeof(*k));
	uint32_t pos[GS_FAN_WAYS * GS_FAN_WAYS];
	int e = -ENOMEM;
	if (!f || !v || !k || !kc)
		goto fail;
	for (struct gs_mnode *c = n->first; c; c = c->next, i++) {
		kc[i] = (uint16_t)child_key(w, of, c, depth);
		f->start[kc[i] + 1]++;
	}
	for (uint32_t b = 0; b < f->nleaf; b++) {
		f->start[b + 1] += f->start[b];
		pos[b] = f->start[b];
	}
	i = 0;
	for (struct gs_mnode *c = n->first; c; c = c->next, i++) {
		k[pos[kc[i]]] = kc[i];
		v[pos[kc[i]]++] = c;
	}
	bool same = of && of->depth == depth;
	for (uint32_t b = 0; b < f->nleaf; b++) {
		uint32_t a = f->start[b], z = f->start[b + 1];
		if (z - a > 1)
			qsort(v + a, z - a, sizeof(*v), cmp_child);
		for (uint32_t j = a; j < z; j++)
			v[j]->toff = j;
		f->dirty[b] = true;
		if (!same)
			continue;
		git_oid_cpy(&f->leaf[b], &of->leaf[b]); /* a delta's base */
		uint32_t oa = of->start[b], oz = of->start[b + 1];
		f->dirty[b] = z - a != oz - oa ||
			      memcmp(v + a, w->sorted + oa, (z - a) * sizeof(*v));
	}
	if (same)
		memcpy(f->mid, of->mid, sizeof(f->mid));
	if ((e = fan_serialise(f, v)) || (e = order_write(m, n, &w->order)))
		goto fail;
	fan_carry(f, of);
	free(kc);
	m->wbytes -= gs_mirror_wide_bytes(w);
	free(w->sorted);
	free(w->keys);
	gs_mirror_fan_free(w->fan);
	w->sorted = v;
	w->keys = k;
	w->fan = f;
	w->nsorted = cnt;
	w->sorted_ok = true;
	w->need_order = true; /* a fanned directory always has .order */
	m->wbytes += gs_mirror_wide_bytes(w);
	return 0;
fail:
	gs_mirror_fan_free(f);
	free(v);
	free(k);
	free(kc);
	return e;
}

static bool oid_zero(const git_oid *id)
{
	static const git_oid zero;
	return !memcmp(id, &zero, sizeof(zero));
}

/*
 * After a write of data as *out: stored whole, it is the root of the
 * next chains (the base of a delta when one is full).
 */
static void root_keep(struct gs_mirror *m, const char *data, uint32_t len,
		      git_oid *root, char *rbytes, uint32_t *rlen,
		      const git_oid *out)
{
	if (git_oid_equal(out, root) || gs_repo_obj_depth(m->repo, out) != 0)
		return;
	memcpy(rbytes, data, len);
	git_oid_cpy(root, out);
	*rlen = len;
}

/*
 * Can the tree prev be the base of the next version's delta: in the pack
 * being built, its chain not full. Each version a delta of the last is a
 * few ids; a delta of the root grows with each id changed since, to half
 * the tree (and costs a diff of it all).
 */
static bool chain_open(struct gs_mirror *m, const git_oid *prev)
{
	long d = gs_repo_obj_depth(m->repo, prev);
	return d >= 0 && d < GS_DELTA_DEPTH_MAX;
}

/*
 * A tree of len bytes whose chain cannot go on: a delta of its chain's
 * root (id *root, bytes rbytes, *rlen long) when that has the same length
 * and the pack being built still has it; else whole, and the new root.
 */
static int root_write(struct gs_mirror *m, const char *data, uint32_t len,
		      git_oid *root, char *rbytes, uint32_t *rlen,
		      struct gs_repo_marks *mk, git_oid *out)
{
	bool base = *rlen == len && !oid_zero(root);
	return gs_repo_write_delta_diff(m->repo, GIT_OBJECT_TREE, data, len,
					base ? root : NULL, rbytes, mk, out);
}

/*
 * Leaf bucket b's tree: a delta of its last version over the range that
 * changed, hashed from its last SHA-1 mark before that range.
 */
static int leaf_write(struct gs_mirror *m, struct gs_mfan *f, uint32_t b)
{
	uint32_t off = f->boff[b], len = f->boff[b + 1] - off, rlen = len;
	uint32_t lo = f->lo[b], hi = f->hi[b];
	int e;
	if (!len) {
		memset(&f->leaf[b], 0, sizeof(f->leaf[b]));
		memset(&f->root[b], 0, sizeof(f->root[b]));
		return 0;
	}
	struct gs_repo_marks mk = { f->marks + f->moff[b], lo };
	git_oid prev = f->leaf[b];
	if (lo >= hi) /* same bytes (moved children back): all a copy */
		lo = hi = len;
	if (hi - lo <= len / 2 && chain_open(m, &prev))
		e = gs_repo_write_delta_range(m->repo, GIT_OBJECT_TREE,
					      f->buf + off, len, &prev, lo,
					      len - hi, &mk, &f->leaf[b]);
	else
		e = root_write(m, f->buf + off, len, &f->root[b],
			       f->rbuf + off, &rlen, &mk, &f->leaf[b]);
	if (e)
		return e;
	root_keep(m, f->buf + off, len, &f->root[b], f->rbuf + off, &rlen,
		  &f->leaf[b]);
	f->lo[b] = len; /* leaf[b] and the marks are these bytes' */
	f->hi[b] = 0;
	return 0;
}

/* The small tree in the scratch (len bytes), with r's bases. */
static int small_write(struct gs_mirror *m, struct gs_froot *r, size_t len,
		       git_oid *out)
{
	int e;
	if (len > TOP_MAX)
		return -EIO; /* a bug, not a state */
	if (r->plen && chain_open(m, &r->pid))
		e = gs_repo_write_delta(m->repo, GIT_OBJECT_TREE, m->scratch,
					len, &r->pid, r->prev, r->plen, NULL,
					out);
	else
		e = root_write(m, m->scratch, (uint32_t)len, &r->id, r->bytes,
			       &r->len, NULL, out);
	if (e)
		return e;
	root_keep(m, m->scratch, (uint32_t)len, &r->id, r->bytes, &r->len,
		  out);
	memcpy(r->prev, m->scratch, len);
	git_oid_cpy(&r->pid, out);
	r->plen = (uint32_t)len;
	return 0;
}

/*
 * A tree of the non-empty buckets among ids[0..16) (then, for the top
 * tree, n's dot entries; their names sort after any bucket's): into the
 * scratch, its length in *len.
 */
static int buckets_put(struct gs_mirror *m, const git_oid *ids,
		       const uint32_t *start, uint32_t span, size_t *len)
{
	char name[3];
	int e = gs_mirror_scratch_reserve(m, GS_FAN_WAYS * 29u + 3u * 34u);
	if (e)
		return e;
	*len = 0;
	for (uint32_t d = 0; d < GS_FAN_WAYS; d++) {
		if (start[d * span] == start[(d + 1) * span])
			continue; /* empty: no bucket */
		gs_fan_bucket_name(d, name);
		*len += put_tree(m->scratch + *len, name, 2, &ids[d]);
	}
	return 0;
}

static int fan_write_buckets(struct gs_mirror *m, struct gs_mnode *n)
{
	struct gs_mwide *w = n->w;
	struct gs_mfan *f = w->fan;
	size_t len;
	int e;
	for (uint32_t b = 0; b < f->nleaf; b++)
		if (f->dirty[b] && (e = leaf_write(m, f, b)))
			return e;
	for (uint32_t h = 0; f->depth == 2 && h < GS_FAN_WAYS; h++) {
		bool dirty = false;
		for (uint32_t d = 0; d < GS_FAN_WAYS; d++)
			dirty |= f->dirty[h * GS_FAN_WAYS + d];
		if (!dirty)
			continue;
		if (f->start[h * GS_FAN_WAYS] == f->start[(h + 1) * GS_FAN_WAYS]) {
			memset(&f->mid[h], 0, sizeof(f->mid[h]));
			continue;
		}
		if ((e = buckets_put(m, f->leaf + h * GS_FAN_WAYS,
				     f->start + h * GS_FAN_WAYS, 1, &len)))
			return e;
		if ((e = small_write(m, &f->small[1 + h], len, &f->mid[h])))
			return e;
	}
	memset(f->dirty, 0, f->nleaf * sizeof(*f->dirty));
	/* the top tree: buckets, then .order, .perms, .value */
	if ((e = buckets_put(m, f->depth == 1 ? f->leaf : f->mid, f->start,
			     f->depth == 1 ? 1 : GS_FAN_WAYS, &len)))
		return e;
	len += put_blob(m->scratch + len, "100644 .order", &w->order);
	len += put_blob(m->scratch + len, "100644 .perms", &n->perms);
	len += put_blob(m->scratch + len, "100644 .value", &n->value);
	return small_write(m, &f->small[0], len, &n->tree);
}

int gs_mirror_fan_write(struct gs_mirror *m, struct gs_mnode *n)
{
	int e;
	if (n->w && !n->w->fan) /* a flat directory's cache */
		gs_mirror_wide_free(m, n);
	if (!n->w && (e = gs_mirror_wide_new(m, n)))
		return e;
	struct gs_mwide *w = n->w; /* not evicted during a write */
	if ((!w->sorted_ok || w->fan->depth != gs_fan_depth(n->nchildren)) &&
	    (e = fan_sort(m, n)))
		goto fail;
	while (n->dhead) {
		struct gs_mnode *c = n->dhead;
		if ((e = gs_mirror_node_write(m, c)))
			goto fail;
		uint32_t i = c->toff;
		struct gs_mfan *f = w->fan;
		if (i >= f->start[f->nleaf] || w->sorted[i] != c) {
			e = -EIO; /* not sorted in: a bug, not a state */
			goto fail;
		}
		char *id = f->buf + f->idoff[i];
		if (memcmp(id, c->tree.id, GIT_OID_RAWSZ)) {
			uint32_t b = w->keys[i], at = f->idoff[i] - f->boff[b];
			memcpy(id, c->tree.id, GIT_OID_RAWSZ);
			f->dirty[b] = true;
			if (at < f->lo[b])
				f->lo[b] = at;
			if (at + GIT_OID_RAWSZ > f->hi[b])
				f->hi[b] = at + GIT_OID_RAWSZ;
		}
	}
	if ((e = fan_write_buckets(m, n)))
		goto fail;
	gs_mirror_wide_touch(m, w);
	gs_mirror_dirty_unlink(n);
	n->dirty = false;
	return 0;
fail:
	/* which buckets are stale is lost: the next write sorts afresh */
	gs_mirror_wide_free(m, n);
	return e;
}
