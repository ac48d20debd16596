/*
 * checkpoint.h - a pack holding the whole tree at a recent head, so that
 * recovery reads one file of a few tens of MiB in order instead of objects
 * scattered across a history of gigabytes (a start from a cold page cache
 * was dominated by those reads).
 *
 * A background thread, at the lowest CPU priority, walks the tree of a
 * published commit and writes every tree and blob reachable from it, whole
 * (no delta), parents first, into one ordinary pack, when enough pack
 * bytes were written since the last one (the first gate) and the head
 * tree moved away from it: more of its objects lie outside the pack than
 * a limit (checkpoint.c; ckpt_stale.h counts them, skipping every subtree
 * the pack holds). Otherwise it writes nothing and waits for as many
 * bytes again. <dir>/checkpoint names
 * it (first line; a second line names the previous one while it is
 * replaced). Git accepts an object in several packs, so the pack is
 * redundant: deleting it, or the file, loses nothing. Pack merges leave
 * the packs named there alone (gs_checkpoint_names()).
 *
 * Errors: 0 or a negative errno.
 */
#ifndef GS_CHECKPOINT_H
#define GS_CHECKPOINT_H

#include <git2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Default pack bytes written between two checkpoints at least. */
#define GS_CHECKPOINT_BYTES_DEFAULT ((uint64_t)64 << 20)

/* Head objects outside the checkpoint pack tolerated at least. */
#define GS_CHECKPOINT_STALE_DEFAULT 4096u

struct gs_checkpoint {
	char *dir;             /* owned: the repository */
	bool fsync;
	uint64_t min_bytes;    /* GS_CHECKPOINT_BYTES_DEFAULT or a test's */
	uint64_t min_stale;    /* GS_CHECKPOINT_STALE_DEFAULT or a test's */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* under lock */
	bool stop, want, scanned;
	git_oid commit;        /* the newest published commit */
	uint64_t since;        /* pack bytes written since the last one */
	uint64_t last_size;    /* bytes of the last checkpoint pack */
	uint64_t done;         /* checkpoints written by this process */
	uint64_t skipped;      /* checks that found the last one near enough */
	uint64_t stale;        /* head objects outside it at the last check
				  (up to the limit and one past it) */
	int err;               /* last failure, 0 when healthy */
};

/*
 * Starts the thread (it first counts the packs newer than the last one).
 * head (or NULL): the published head, a checkpoint candidate already.
 * min_bytes, min_stale: 0 for the defaults above.
 */
int gs_checkpoint_start(struct gs_checkpoint *c, const char *dir, bool fsync,
			uint64_t min_bytes, uint64_t min_stale,
			const git_oid *head);
/* Stops it; a checkpoint under way is dropped. */
void gs_checkpoint_stop(struct gs_checkpoint *c);
/* After a publish: commit is on disk, bytes of pack were just written. */
void gs_checkpoint_poke(struct gs_checkpoint *c, const git_oid *commit,
			uint64_t bytes);

/*
 * The pack names (without extension) that <dir>/checkpoint lists, at most
 * two, into names[2][64]; returns how many (0 without a checkpoint).
 */
int gs_checkpoint_names(const char *dir, char names[2][64]);

/*
 * An object database for reading the head tree: dir's packs, with the
 * checkpoint pack (when it exists) searched first and asked to the kernel
 * to be read ahead whole. *out is the caller's (git_odb_free()).
 */
int gs_checkpoint_odb_open(const char *dir, git_odb **out);

#endif
