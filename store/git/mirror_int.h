/*
 * mirror_int.h - what mirror.c (nodes, loading, effects, walk),
 * mirror_perms.c (the .perms blob cache) and mirror_write.c (tree
 * serialisation, wide directories' cache) share. Not for use outside
 * store/git/mirror*.c.
 */
#ifndef GS_MIRROR_INT_H
#define GS_MIRROR_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fanout.h"
#include "mirror.h"

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
	uint32_t stamp;  /* m->gen when last on a changed path; 0: never */
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
	struct gs_sha1_mark *marks; /* SHA-1 along last, see node_patch() */
	/*
	 * The first (whole) version of last's delta chain in the pack being
	 * built, same layout, lastlen bytes; or NULL: the base of a delta
	 * when the chain is full.
	 */
	char *first;
	git_oid first_id;
	uint32_t lastlen;
	uint32_t nmarks; /* entries allocated in marks */
	uint32_t nsorted; /* entries allocated in sorted */
	uint32_t voff, poff; /* .value and .perms ids in last */
	bool sorted_ok, need_order;
	/*
	 * last's layout still holds (same children, same dot entries): a
	 * new version is last with ids patched at known offsets, no
	 * re-serialisation of the whole directory.
	 */
	bool layout_ok;
	bool marks_ok; /* marks are those of last's hash */
	/*
	 * Fanned out (fanout.h): sorted is in (bucket, Git order), keys[i]
	 * is sorted[i]'s bucket and sorted[i]->toff is i; fan holds the
	 * buckets. NULL for a flat directory (last, marks, first unused).
	 */
	struct gs_mfan *fan;
	uint16_t *keys;
};

/*
 * A fanned directory's buckets: leaf b holds sorted[start[b] ..
 * start[b + 1]), its tree id is leaf[b] (zero: empty, not written) and
 * its tree bytes are buf[boff[b] .. boff[b + 1]), where sorted[i]'s id
 * is at buf + idoff[i]: a write patches the ids of its dirty children,
 * it does not visit the others (a cache miss each). At depth 2, mid[h1]
 * is the tree of leaves h1 * 16 .. h1 * 16 + 15. One allocation, the
 * nleaf-sized arrays after the struct.
 *
 * Each tree is stored as a delta of its last version, and when that
 * chain is full, of the whole version at its root, whose bytes are kept
 * here: the pack being built leaves memory GS_PACK_STAGE bytes at a
 * time, and reading the root back from it failed once it had gone to the
 * file, storing the bucket whole again.
 */
struct gs_froot;
struct gs_mfan {
	uint32_t depth, nleaf;
	uint32_t *start;   /* nleaf + 1 */
	uint32_t *boff;    /* nleaf + 1 */
	uint32_t *moff;    /* nleaf + 1: leaf b's marks, marks[moff[b] ..) */
	/*
	 * nleaf each: leaf b's bytes [lo, hi) changed since its last version
	 * leaf[b] (on which its marks were taken): [0, len) when unknown
	 */
	uint32_t *lo, *hi;
	git_oid *leaf;     /* nleaf */
	git_oid *root;     /* nleaf: leaf b's chain root; zero: none */
	bool *dirty;       /* nleaf: to write again at this write */
	char *buf;         /* boff[nleaf] bytes, owned */
	char *rbuf;        /* the same size, owned: root[b]'s bytes at boff[b] */
	struct gs_sha1_mark *marks; /* moff[nleaf], owned */
	uint32_t *idoff;   /* one per child, owned */
	git_oid mid[16];   /* depth 2 only */
	/* owned: the top tree's chain root, then (depth 2) the mids' */
	struct gs_froot *small;
};

/*
 * Takes n off its parent's dirty list (it is clean or going away). A
 * write always takes the head; only a deletion searches.
 */
static inline void gs_mirror_dirty_unlink(struct gs_mnode *n)
{
	if (!n->dirty || !n->parent)
		return;
	struct gs_mnode **pp = &n->parent->dhead;
	while (*pp != n)
		pp = &(*pp)->dnext;
	*pp = n->dnext;
	n->dnext = NULL;
}

/* mirror.c: looks up a blob; the caller frees *out with git_blob_free(). */
int gs_mirror_read_blob(struct gs_mirror *m, const git_oid *id,
			git_blob **out);

/* mirror_perms.c: the cache behind m->perms (owned by the mirror). */
struct gs_perms_cache *gs_perms_cache_new(void);
void gs_perms_cache_free(struct gs_perms_cache *pc);
/* The blob id of p's .perms text, written to the repo on first use. */
int gs_mirror_perms_oid(struct gs_mirror *m, const struct xsw_perm *p,
			unsigned n, git_oid *out);
/*
 * The parsed list of blob id; *p points into the cache (owned by it,
 * valid until gs_mirror_fini()).
 */
int gs_mirror_perms_get(struct gs_mirror *m, const git_oid *id,
			const struct xsw_perm **p, unsigned *n);

/* mirror_write.c: drops n's wide directory cache, if any. */
void gs_mirror_wide_free(struct gs_mirror *m, struct gs_mnode *n);
/* Writes n's tree if dirty (and the dirty trees below it). */
int gs_mirror_node_write(struct gs_mirror *m, struct gs_mnode *n);
/* Grows m->scratch to need bytes. */
int gs_mirror_scratch_reserve(struct gs_mirror *m, size_t need);
/* Bytes of w's cache, for m->wbytes. */
size_t gs_mirror_wide_bytes(const struct gs_mwide *w);
/* A new, empty cache for n, first in the recency list. */
int gs_mirror_wide_new(struct gs_mirror *m, struct gs_mnode *n);
/* w was written: first in the recency list. */
void gs_mirror_wide_touch(struct gs_mirror *m, struct gs_mwide *w);

/* mirror_fan.c: writes n, of gs_fan_depth(n->nchildren) > 0, fanned out. */
int gs_mirror_fan_write(struct gs_mirror *m, struct gs_mnode *n);
/* Bytes of f, for gs_mirror_wide_bytes(); frees f (NULL: nothing). */
size_t gs_mirror_fan_bytes(const struct gs_mfan *f);
void gs_mirror_fan_free(struct gs_mfan *f);

/* Git's order of two children (fanout.h gs_fan_name_cmp()). */
static inline int gs_mnode_git_cmp(const struct gs_mnode *x,
				   const struct gs_mnode *y)
{
	return gs_fan_name_cmp(x->name, x->namelen, y->name, y->namelen);
}

#endif
