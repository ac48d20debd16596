/*
 * hist.h - read-only access to a store's history for xs-history.
 *
 * A history is the list of changes of refs/heads/main (first parent, oldest
 * first) followed by the journal records the daemon acknowledged but has
 * not yet turned into commits ("pending"). Commit metadata is kept in a
 * side index in a cache directory, updated incrementally, so that a query
 * costs a scan of that index instead of a walk of every commit.
 *
 * Errors: 0 or a negative errno, with a message in h->err.
 * Memory: everything hangs off struct hist and is freed by hist_close().
 */
#ifndef XS_HISTORY_H
#define XS_HISTORY_H

#include <git2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct gs_record;

/* The daemon's own changes (boot commits) have no domain. */
#define HIST_DOM_NONE UINT32_MAX

struct hist_change {
	git_oid oid;          /* zero for pending records */
	bool pending;         /* journal record, not yet a commit */
	bool boot_commit;     /* "boot <id>: initial tree" */
	int64_t time;         /* seconds since the epoch */
	uint64_t seq;
	uint32_t dom, conn, tx;
	uint32_t boot;        /* index into hist.boots */
	const char *ops;      /* "write /a\nrm /b\n": kind, space, path */
	uint32_t opslen;
	struct gs_record *rec; /* pending only: its effects */
	char *payload, *opsbuf; /* pending only: owned */
};

struct hist {
	char *store;
	git_repository *repo;
	struct hist_change *v; /* oldest first; pending last */
	size_t n, cap;
	size_t ngit;           /* v[0..ngit) are commits */
	char (*boots)[40];
	size_t nboots;
	char err[512];
	/* index cache */
	char *cache_path;      /* NULL: no cache */
	void *map;
	size_t maplen;
	char **owned;          /* malloc'd ops texts and payloads */
	size_t nowned, capowned;
};

/*
 * Opens the store read-only and loads its history. cache_dir NULL: the
 * default ($XDG_CACHE_HOME or ~/.cache, then xs-history/); "" disables it.
 */
int hist_open(struct hist *h, const char *store, const char *cache_dir);
/* Picks up new commits and journal records (follow). */
int hist_refresh(struct hist *h);
void hist_close(struct hist *h);

/* Is path (canonical) equal to or below base? */
bool hist_path_under(const char *path, const char *base);

/*
 * Calls fn for each op of c: kind ("write", "mkdir", "rm", "set_perms",
 * "domain") and path, both NUL-terminated copies valid during the call.
 */
typedef int (*hist_op_fn)(void *ctx, const char *kind, const char *path);
int hist_ops_each(const struct hist_change *c, hist_op_fn fn, void *ctx);

/* WHEN: commit id (7+ hex), @secs, ISO 8601, 90s/2h/3d/1w, ~N, now. */
int hist_when(struct hist *h, const char *when, size_t *idx);
/* The same for --since/--until: a time, or a position (*is_pos). */
int hist_when_bound(struct hist *h, const char *when, int64_t *t,
		    size_t *pos, bool *is_pos);

/*
 * Snapshots: the tree as of change idx, loaded lazily from Git, with
 * pending records applied on top.
 */
struct snode {
	char *name;
	git_oid tree;
	bool has_tree;   /* unchanged since loaded from Git tree */
	bool loaded;     /* value, perms and kids read */
	char *value;
	uint32_t len;
	char *perms;     /* "n0,r5" */
	struct snode **kids;
	size_t nkids, capkids;
};
struct snap {
	struct hist *h;
	struct snode *root;
};
int snap_at(struct hist *h, size_t idx, struct snap *s);
void snap_free(struct snap *s);
/* The node at path (loaded), or NULL; -errno on a read error. */
int snap_find(struct snap *s, const char *path, struct snode **out);
int snode_load(struct snap *s, struct snode *n);

/* Differences, in tree order, below (and at) path. */
enum hdiff_kind { HDIFF_ADDED, HDIFF_REMOVED, HDIFF_CHANGED };
struct hdiff {
	enum hdiff_kind kind;
	const char *path;
	const struct snode *old, *new; /* NULL when absent */
};
typedef int (*hdiff_fn)(void *ctx, const struct hdiff *d);
int snap_diff(struct snap *a, struct snap *b, const char *path, hdiff_fn fn,
	      void *ctx);
/* Walks n and below, parents first, children in creation order. */
typedef int (*snode_fn)(void *ctx, const char *path, const struct snode *n);
int snap_walk(struct snap *s, struct snode *n, const char *path, snode_fn fn,
	      void *ctx);

/* Output helpers (out.c). */
void out_value(FILE *f, const char *v, uint32_t len);      /* xenstore-ls */
void out_json_str(FILE *f, const char *v, size_t len);    /* "..." */
void out_time(char *buf, size_t len, int64_t t);          /* ISO 8601 UTC */
void out_node_line(FILE *f, const char *path, const struct snode *n);
void out_node_json(FILE *f, const char *key, const struct snode *n);
void out_diff_line(FILE *f, const char *indent, const struct hdiff *d);
void out_diff_json(FILE *f, const struct hdiff *d);
void out_change_json_head(FILE *f, const struct hist *h,
			  const struct hist_change *c);

#endif
