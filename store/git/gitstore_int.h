/*
 * gitstore_int.h - the engine's state, shared by its files (not installed).
 *
 * Ownership by thread: the loop thread owns batch/appended_seq; the writer
 * thread owns repo, mirror and head_* once started (recovery uses them
 * before); fields under lock are shared.
 */
#ifndef GS_INT_H
#define GS_INT_H

#include <pthread.h>

#include "gitstore.h"
#include "checkpoint.h"
#include "journal.h"
#include "mirror.h"
#include "record.h"
#include "repo.h"
#include "state.h"

struct gs_chunk {
	struct gs_chunk *next;
	struct gs_buf buf; /* framed records */
	char boot[40];
};

struct gitstore {
	char *dir;
	int lock_fd; /* flock on <dir>/xenstored.lock: one daemon per store */
	struct gitstore_options opts;
	char boot[40];
	char err[512];
	struct gs_repo repo;
	struct gs_journal journal;
	struct gs_mirror mirror;
	struct gs_checkpoint ckpt; /* its own thread, started with the writer */
	bool mirror_ok, recovered, started;

	/* writer side: the newest commit, maybe not yet published */
	git_oid head;
	bool has_head;
	uint64_t head_seq;
	char head_boot[40];
	uint64_t pending_commits;
	uint64_t first_pending_ns;
	git_oid tag_oid; /* boot commit to tag once published */
	bool tag_pending;
	bool merge_failed; /* a pack merge failed since the last publish */

	/* loop side */
	struct gs_buf batch;
	uint64_t batch_last_seq;
	uint64_t appended_seq;
	uint64_t last_fsync_ns;
	struct gs_state *state; /* latest daemon state per key */

	/* shared, under lock */
	pthread_mutex_t lock;
	pthread_cond_t wake_writer, wake_loop;
	struct gs_chunk *qhead, *qtail;
	unsigned qchunks; /* chunks in the queue */
	/*
	 * The writer sleeps for at most GS_WRITER_POLL_MS and looks at the
	 * queue itself: the loop need not wake it for each batch.
	 */
	bool writer_polling;
	uint64_t flushed_seq, git_seq;
	bool stop, sync_req;
	int writer_error, journal_error;
	uint64_t writer_failures;
	char writer_msg[256];
	uint64_t commits, packs, journal_bytes, flushes;
	int fault_err[GITSTORE_FAULT_COUNT];
	unsigned fault_count[GITSTORE_FAULT_COUNT];
	unsigned fault_skip[GITSTORE_FAULT_COUNT]; /* to pass before those */
	uint64_t faults_taken;
	pthread_t thread; /* the newest writer thread (see writer_hand_over) */
	pthread_t writer_prev; /* while handing_over: the one to join */
	bool handing_over;
	uint64_t handovers;
};

/*
 * The writer's mirror keeps at most about this many nodes in memory at
 * rest (a node and its table slot cost about 160 bytes) ...
 */
#define GS_MIRROR_NODES_MAX 16384u
/*
 * ... dropping first the subtrees no effect reached in this many effects:
 * a workload's hot paths stay, a fill's cold domains go back to Git.
 */
#define GS_MIRROR_KEEP 4096u

/*
 * While records flow, the writer looks for new ones this often instead of
 * being woken for each batch: a wake per write put a third thread on the
 * two cores the client and the loop share, and cost the loop two futex
 * calls. It adds at most this much to the lag of Git behind the journal.
 */
#define GS_WRITER_POLL_MS 10u
/* ... unless this many batches wait: then the loop wakes it at once. */
#define GS_WRITER_WAKE_CHUNKS 64u

/*
 * Pack merges (gs_repo_consolidate()) keep the pack count near half of
 * GS_PACKS_MAX, but only while the writer is idle: under a burst of
 * writes they took a quarter of its time (each object read back, indexed
 * and written again), for packs that the next idle spell merges anyway.
 * While records wait, the count may grow to GS_PACKS_BURST_MAX (5 s or
 * more of the fastest burst, a pack per lag_max/4 commits) before a
 * merge starts; recovery reads the head's tree from the checkpoint pack
 * and the newest packs, so it hardly depends on that count.
 */
#define GS_PACKS_MAX 32u
#define GS_PACKS_BURST_MAX 128u
/*
 * Whether the writer works on a merge now (busy: records wait; floor: the
 * repo's merge_floor, a count at which nothing was worth merging).
 */
bool gs_merge_due(unsigned npacks, unsigned floor, bool merging, bool busy);

uint64_t gs_now_ns(void);
uint64_t gs_mono_ns(void);
/* Consumes one injected fault at point (under lock): its err or 0. */
int gs_fault_take(struct gitstore *gs, enum gitstore_fault point);

/* writer.c: used by recovery before the thread starts, then by the thread */
int gs_commit_record(struct gitstore *gs, const struct gs_record *rec,
		     const char *boot);
int gs_commit_boot(struct gitstore *gs);
int gs_publish(struct gitstore *gs);
int gs_writer_start(struct gitstore *gs);
void gs_writer_stop(struct gitstore *gs);

/*
 * recover.c: the tree at Git's head to fn (parents first), then, when
 * efn is set and the boot is the same, the effects of the journal's
 * records not yet in Git to efn, which the writer commits later; without
 * efn those are committed to Git before the tree is read.
 */
typedef int (*gs_effect_fn)(void *ctx, const struct store_effect *e);
int gs_recover(struct gitstore *gs, gitstore_node_fn fn, gs_effect_fn efn,
	       void *ctx, uint64_t *last_seq);

/*
 * recover_load.c: the nodes of Git tree `tree` to fn, parents first,
 * children in creation order, read on two threads.
 */
int gs_recover_load(struct gitstore *gs, const git_oid *tree,
		    gitstore_node_fn fn, void *ctx);

/* Reads seq and boot id from a commit's trailers (0 / "" if absent). */
int gs_commit_meta(struct gitstore *gs, const git_oid *id, git_oid *tree,
		   uint64_t *seq, char *boot, size_t bootlen);

#endif
