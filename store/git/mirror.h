/*
 * mirror.h - the tree as Git sees it, kept by the writer thread.
 *
 * Each node keeps the object ids of its value blob, perms blob and tree,
 * not the value itself (the store holds values). Nodes loaded from Git are
 * expanded lazily, when an effect or a walk reaches them. Applying effects
 * marks the path to the root dirty; gs_mirror_write() writes only the dirty
 * trees, so a commit costs the depth of the changed nodes plus the width of
 * their directories, not the size of the tree.
 *
 * Git layout: node /a/b is tree a/b/ with blobs .value (raw value), .perms
 * ("n0\nr5\n"), and, when the children's creation order differs from Git's
 * sorted order, .order (child names, one per line, in creation order). A
 * directory of GS_FAN_MIN children or more keeps them in bucket trees
 * (fanout.h) and always has .order; loading reads either shape.
 */
#ifndef GS_MIRROR_H
#define GS_MIRROR_H

#include <git2.h>
#include <stdint.h>

#include "../store.h"
#include "repo.h"

struct gs_mnode;
struct gs_mwide;
struct gs_perms_cache;

struct gs_mirror {
	struct gs_repo *repo;   /* not owned */
	struct gs_mnode *root;
	struct gs_perms_cache *perms;
	git_oid empty_blob;
	char *scratch;          /* tree serialisation buffer */
	size_t scratch_cap;
	/*
	 * Every node but the root, by (parent, name): one table instead of a
	 * hash table per directory keeps a node small (see mirror.c).
	 */
	struct gs_mnode **tab;
	size_t tabcap, tabn;
	struct gs_mnode **sortv; /* a narrow directory's sorted children */
	size_t sortcap;
	/* wide directories' cached state, most recently written first */
	struct gs_mwide *whead, *wtail;
	size_t wbytes;
	uint32_t gen;            /* effects applied, wrapping: for trimming */
};

/*
 * Initialises m over repo; tree NULL gives an empty root ("" value, "n0"),
 * else the root is the (lazily loaded) Git tree.
 */
int gs_mirror_init(struct gs_mirror *m, struct gs_repo *repo,
		   const git_oid *tree);
void gs_mirror_fini(struct gs_mirror *m);

/* Applies one effect (write or delete a subtree). */
int gs_mirror_apply(struct gs_mirror *m, const struct store_effect *e);

/* Writes the dirty trees; *tree receives the root tree id. */
int gs_mirror_write(struct gs_mirror *m, git_oid *tree);

/*
 * Memory: when more than budget nodes are in memory, drops the children
 * of every clean node not on the path of any of the last keep effects;
 * they are loaded from Git again when an effect or a walk reaches them.
 * Only when every object written is on disk (right after gs_repo_dump()),
 * since loading reads the repository. Returns the nodes dropped.
 */
size_t gs_mirror_trim(struct gs_mirror *m, size_t budget, uint32_t keep);

/*
 * Walks the whole tree (loading it), parents first, children in creation
 * order, reading each value. fn's non-zero return stops the walk.
 */
typedef int (*gs_mirror_fn)(void *ctx, const char *path, const void *value,
			    uint32_t len, const struct xsw_perm *perms,
			    unsigned nperms);
int gs_mirror_walk(struct gs_mirror *m, gs_mirror_fn fn, void *ctx);

/* Formats perms as stored in .perms; returns the length (out >= 16*n). */
size_t gs_perms_format(const struct xsw_perm *p, unsigned n, char *out);
/* Parses .perms text; returns the count or -EINVAL. */
int gs_perms_parse(const char *s, size_t len, struct xsw_perm *out,
		   unsigned max);

#endif
