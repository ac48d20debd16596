/*
 * history.h - reading a store's Git history with the stock git CLI, for
 * the crash test.
 *
 * Format-neutral on purpose: the crash test writes values that carry a
 * unique marker ("xcrash-<client>-<seq>-<t|w>"), and a commit is attributed
 * to the operation whose marker its diff adds more often than it removes
 * (values that only move, as when a directory is fanned out into buckets,
 * are both removed and added). So the check depends only on
 * "a node's value is a blob holding the value", which docs/STORE-FORMAT.md
 * guarantees (git show <rev>:<path> prints the value).
 *
 * Errors: 0 or a negative errno; a message in err. Memory: *ops is
 * malloc'd, the caller frees it.
 */
#ifndef BENCH_HISTORY_H
#define BENCH_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#define XCRASH_PREFIX "xcrash-"

struct hist_op {
	int cid;
	uint64_t seq;
	char kind;     /* 't' transaction, 'w' plain write */
	int nlines;    /* nodes the commit set to this marker */
};

/*
 * Commits in (from, HEAD], oldest first (from NULL: all of HEAD's
 * history). Commits that add no marker (net) are counted in *plain. A
 * commit adding two different markers (net) is an error (-EPROTO);
 * nlines is the net count of lines the commit adds with its marker.
 */
int history_read(const char *store, const char *from, struct hist_op **ops,
		 size_t *nops, size_t *ncommits, size_t *plain, char head[41],
		 char *err, size_t errlen);
/* The commit id of HEAD, or of refs/heads/main when HEAD is unborn. */
int history_head(const char *store, char head[41]);
/* `git fsck` exits 0 and reports no error. */
int history_fsck(const char *store, char *err, size_t errlen);
/* 1 if a is an ancestor of (or equal to) b, 0 if not, -errno. */
int history_is_ancestor(const char *store, const char *a, const char *b);

#endif
