/*
 * ckpt_stale.h - how far a head tree moved away from the checkpoint pack
 * (checkpoint.h): the objects recovery would read outside it.
 *
 * Recovery reads the checkpoint pack in order, from one file; every
 * object of the head it lacks is a lookup and a read through libgit2 in
 * the newer packs (random reads from a cold cache). Their number, not the
 * bytes of pack written since, is what a new checkpoint would save.
 *
 * Errors: 0 or a negative errno.
 */
#ifndef GS_CKPT_STALE_H
#define GS_CKPT_STALE_H

#include <git2.h>
#include <stdbool.h>
#include <stdint.h>

#include "ckpt_read.h"

/* Asked now and then during a count: true cancels it (-ECANCELED). */
typedef bool (*gs_ckpt_stop_fn)(void *arg);

/*
 * Counts the trees and blobs reachable from tree that r lacks, each as
 * often as a path reaches it (as recovery reads them), descending only
 * into trees r lacks: a tree in the pack has everything below it there
 * too, since the pack holds the closure of each tree it holds (it is
 * built by walking the tree of one commit, whole). Trees are read through
 * odb. Stops once the count passes limit: *count is then limit + 1.
 * stop (or NULL) is asked every few hundred entries.
 */
int gs_ckpt_stale_count(const struct gs_ckpt_read *r, git_odb *odb,
			const git_oid *tree, uint64_t limit,
			gs_ckpt_stop_fn stop, void *arg, uint64_t *count);

#endif
