/*
 * gitstore.h - persistence of the xenstore tree in a Git-format repository.
 *
 * The request path appends each store commit to an in-memory batch
 * (gitstore_append) and writes the batch to a write-ahead journal with one
 * write() per loop iteration (gitstore_flush). A writer thread turns the
 * journal records into Git commits, one per record, in order, and advances
 * refs/heads/main once the objects are on disk in a pack. Layout, journal
 * format and error policy: docs/STORE-FORMAT.md.
 *
 * Threads: every function must be called from one thread (the daemon loop);
 * the engine runs its own writer thread internally.
 * Errors: 0 or a negative errno; gitstore_last_error() describes the last one.
 * Memory: a struct gitstore is owned by the caller (gitstore_close). No
 * function keeps pointers into arguments after it returns.
 */
#ifndef GITSTORE_H
#define GITSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../protocol/perms.h"

struct gitstore;
struct store;
struct store_commit;

enum gitstore_fsync {
	GITSTORE_FSYNC_NEVER,    /* written to the kernel: survives kill -9 */
	GITSTORE_FSYNC_ALWAYS,   /* fdatasync before every acknowledgement */
	GITSTORE_FSYNC_INTERVAL, /* fdatasync at most every fsync_interval_ms */
};

/* Recommended backpressure threshold (records not yet in Git). */
#define GITSTORE_LAG_MAX_DEFAULT 20000u

struct gitstore_options {
	enum gitstore_fsync fsync;
	unsigned fsync_interval_ms;
	/*
	 * gitstore_flush() blocks while more than lag_max records are not
	 * yet in Git (0: GITSTORE_LAG_MAX_DEFAULT). This is the backpressure
	 * that bounds journal size, memory and recovery time.
	 */
	uint64_t lag_max;
	/* Longest time a commit waits before its pack is written (0: 1000). */
	unsigned pack_interval_ms;
	/* Boot id file (NULL: /proc/sys/kernel/random/boot_id). */
	const char *boot_id_path;
	/*
	 * Pack bytes written between two checks for a checkpoint pack at
	 * least (0: the default, 64 MiB; GITSTORE_CHECKPOINT_OFF: none are
	 * written, an existing one is still read). A check writes one only
	 * when the head tree moved away from the last (docs/STORE-FORMAT.md).
	 */
	uint64_t checkpoint_bytes;
	/*
	 * Tests: recovery reads the checkpoint pack through libgit2 too,
	 * instead of straight from the file (the two must agree).
	 */
	bool load_no_raw;
};

#define GITSTORE_CHECKPOINT_OFF UINT64_MAX

/* Fills o with the defaults. */
void gitstore_options_init(struct gitstore_options *o);

/*
 * Opens (creating if needed) the bare repository at dir and its journal.
 * opts may be NULL. Nothing is loaded yet: call gitstore_recover() next.
 * On failure *out is NULL and the message is in errbuf (if not NULL).
 */
int gitstore_open(struct gitstore **out, const char *dir,
		  const struct gitstore_options *opts, char *errbuf,
		  size_t errlen);

/*
 * Recovery, once, before the first append: loads the tree of
 * refs/heads/main into st with store_load_begin/node/effect/end, applies
 * on top the journal's records not yet in Git (the acknowledged state),
 * and starts the writer thread, which commits those records in the
 * background, each exactly once, in order (they stay in the journal until
 * then). If the boot id changed (or there is no commit), the records are
 * committed first and a fresh initial tree starts. Nothing here reads
 * history beyond the head commit. Afterwards the store's seq continues
 * from the last record.
 */
int gitstore_recover(struct gitstore *gs, struct store *st);

/*
 * The same, but hands the recovered nodes (parents first, children in
 * creation order) to a callback instead of a struct store (they are
 * loaded into a temporary one first). fn returns 0 or a negative errno
 * that stops the load. *last_seq receives the last seq.
 */
typedef int (*gitstore_node_fn)(void *ctx, const char *path,
				const void *value, uint32_t len,
				const struct xsw_perm *perms, unsigned nperms);
int gitstore_recover_nodes(struct gitstore *gs, gitstore_node_fn fn,
			   void *ctx, uint64_t *last_seq);

/*
 * Serialises c into the pending batch and returns the seq given to it
 * (the engine numbers records itself, continuing across restarts; this
 * is the Xenstore-Seq trailer). Nothing is durable before gitstore_flush.
 * Returns 0 on success.
 */
int gitstore_append(struct gitstore *gs, const struct store_commit *c,
		    uint64_t *seq);

/*
 * Writes the pending batch to the journal with one write() (and
 * fdatasync per the fsync option). When it returns 0, every appended
 * record survives kill -9. On error the batch is kept and retried by the
 * next flush, in order; the caller must not acknowledge those records
 * until a flush returns 0 (see the error policy in STORE-FORMAT.md).
 */
int gitstore_flush(struct gitstore *gs);

/*
 * Daemon state (the domain table, each guest ring's position, watches,
 * transactions and unsent output): opaque bytes per key, made durable by
 * the same gitstore_flush() write as the commits appended before it, and
 * never committed to Git. len 0 deletes the key. Every new journal segment
 * starts with the latest value of every key, so none is lost when old
 * segments go. Returns 0, -ENOMEM or -E2BIG.
 */
int gitstore_put_state(struct gitstore *gs, uint32_t key, const void *data,
		       size_t len);
/*
 * After recovery: the latest value of every key found in the journal
 * (fn returns 0 to go on). data is valid during the call only.
 */
typedef int (*gitstore_state_fn)(void *ctx, uint32_t key, const void *data,
				 size_t len);
int gitstore_state_foreach(struct gitstore *gs, gitstore_state_fn fn,
			   void *ctx);

/* Records flushed to the journal but not yet in Git (on disk). */
uint64_t gitstore_lag(struct gitstore *gs);

/* Waits until Git holds every flushed record (clean shutdown, tests). */
int gitstore_sync(struct gitstore *gs);

/* Flushes, syncs, stops the writer and frees gs. NULL is allowed. */
int gitstore_close(struct gitstore *gs);

/* The last error's description; valid until the next call on gs. */
const char *gitstore_last_error(struct gitstore *gs);

struct gitstore_stats {
	uint64_t appended_seq;   /* last seq appended */
	uint64_t flushed_seq;    /* last seq in the journal */
	uint64_t git_seq;        /* last seq in refs/heads/main */
	uint64_t commits;        /* Git commits written by this process */
	uint64_t packs;          /* packs written by this process */
	uint64_t journal_bytes;  /* bytes written to the journal */
	uint64_t flushes;
	uint64_t writer_handovers; /* writer threads replaced at rest */
	int journal_error;       /* last flush error, 0 when healthy */
	int writer_error;        /* last Git writer error, 0 when healthy */
	uint64_t writer_failures; /* failed attempts of the writer, in all */
	uint64_t faults_taken;   /* injected failures that happened (tests) */
	char boot_id[40];
	char writer_msg[256];    /* what failed last ("" before any failure) */
};
void gitstore_get_stats(struct gitstore *gs, struct gitstore_stats *out);

/*
 * Fault injection, for tests: the next count operations at point fail
 * with err (negative errno). JOURNAL_WRITE fails the journal write after
 * writing half the batch (a torn write); PACK_WRITE fails the writer's
 * pack write; FSYNC fails fdatasync.
 *
 * The two KILL points end the process with SIGKILL at the next flush
 * whose batch holds a commit (err, any negative errno, arms them): KILL_MID_BATCH after
 * writing only the batch's first record, as the kernel leaves a write()
 * that a kill -9 cut at a page boundary; KILL_AFTER_BATCH after the whole
 * write, before any reply leaves. For crash tests only.
 *
 * Two points act inside the writer's pack, where PACK_WRITE fails the
 * publish before any byte of it is written: PACK_FILE fails a write of
 * the pack's bytes to its file (each step of GS_PACK_STAGE bytes, which
 * may come in the middle of a commit's objects, the header, the checksum,
 * or a small pack written whole) after half of them reached it;
 * PACK_ENTRY fails the addition of one object to the pack, which fails
 * the commit being written there (in the middle of its trees), as a
 * failed allocation would.
 */
enum gitstore_fault {
	GITSTORE_FAULT_JOURNAL_WRITE,
	GITSTORE_FAULT_FSYNC,
	GITSTORE_FAULT_PACK_WRITE,
	GITSTORE_FAULT_KILL_MID_BATCH,
	GITSTORE_FAULT_KILL_AFTER_BATCH,
	GITSTORE_FAULT_PACK_FILE,
	GITSTORE_FAULT_PACK_ENTRY,
	GITSTORE_FAULT_COUNT,
};
void gitstore_inject_fault(struct gitstore *gs, enum gitstore_fault point,
			   int err, unsigned count);
/* The same, once skip operations at point have succeeded. */
void gitstore_inject_fault_after(struct gitstore *gs,
				 enum gitstore_fault point, int err,
				 unsigned skip, unsigned count);

#endif
