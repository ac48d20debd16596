/*
 * journal.h - the write-ahead journal: segment files of framed records.
 *
 * <store>/journal/<first seq, 16 hex digits>.xsj; each segment starts with
 * "XSJ1", u8 boot id length, u8 1 (every write ends with a batch end), two
 * zero bytes, the boot id of the daemon that wrote it, then framed records
 * (record.h). A segment is deleted once Git holds all its records.
 *
 * Each write (one batch: the commits of a loop iteration and the daemon
 * state that goes with them) ends with a batch end record (payload u64 0,
 * "XSBE"). A kill -9 can cut a write() at a page boundary, keeping some
 * whole records of the batch and not the others; readers take a record
 * only once its batch end follows, so a batch counts whole or not at all.
 * Segments whose header byte is 0 (older daemons) have no batch ends:
 * there, the records end at the first torn or corrupt frame.
 */
#ifndef GS_JOURNAL_H
#define GS_JOURNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define GS_SEGMENT_MAX (64u << 20)

struct gs_segment {
	uint64_t first_seq, last_seq;
};

struct gs_journal {
	char *dir;          /* owned */
	char boot[40];
	int fd;             /* active segment, -1 none */
	uint64_t seg_first; /* its name */
	uint64_t seg_last;  /* last seq written to it */
	off_t off;          /* end of its last complete record */
	bool dir_fsync;
	/* Closed segments awaiting Git; the writer thread deletes them. */
	pthread_mutex_t lock;
	struct gs_segment *closed;
	size_t nclosed, capclosed;
};

/* Prepares <storedir>/journal; opens no segment yet. */
int gs_journal_init(struct gs_journal *j, const char *storedir,
		    const char *boot, bool dir_fsync);
void gs_journal_fini(struct gs_journal *j);

/* Starts a new active segment whose first record will be first_seq. */
int gs_journal_start(struct gs_journal *j, uint64_t first_seq);
/* The same, its first records (data: one batch) in place before the name
 * appears. */
int gs_journal_start_with(struct gs_journal *j, uint64_t first_seq,
			  const char *data, size_t len);
/* True if writing len bytes now starts a new segment (see below). */
bool gs_journal_will_start(const struct gs_journal *j, size_t len);

/*
 * Writes data (whole framed records, the last one numbered last_seq) and
 * a batch end with one write(). fault (negative errno, 0 none) simulates a torn write: half
 * the data is written and fault returned. On any failure the segment is
 * cut back to its last complete record, or, if that fails, a new segment
 * is started by the next call, so the journal never holds garbage before a
 * good record.
 */
int gs_journal_write(struct gs_journal *j, const char *data, size_t len,
		     uint64_t last_seq, int fault);
/*
 * For crash tests: writes data with no batch end, as a write() cut by
 * kill -9 leaves it (the process is to die next). 0 or -errno.
 */
int gs_journal_write_cut(struct gs_journal *j, const char *data, size_t len);
/*
 * The end of the records of data[start, len) that count: after the last
 * batch end (batches) or at the first torn or corrupt frame.
 */
size_t gs_journal_good_end(const char *data, size_t start, size_t len,
			   bool batches);
int gs_journal_sync(struct gs_journal *j);

/* Deletes closed segments whose records are all in Git (<= git_seq). */
void gs_journal_gc(struct gs_journal *j, uint64_t git_seq);

/*
 * Reads every segment in name order and calls fn for each good record
 * payload with the segment's boot id; a segment's torn tail is skipped.
 * fn returns 0 to go on. Segments read are deleted by gs_journal_drop_old.
 */
typedef int (*gs_journal_fn)(void *ctx, const char *boot, const char *payload,
			     size_t len);
int gs_journal_scan(struct gs_journal *j, gs_journal_fn fn, void *ctx);
/* An old segment read whole by gs_journal_load(). */
struct gs_jseg {
	uint64_t first;      /* its name */
	char boot[40];       /* the daemon's that wrote it */
	char *data;          /* owned: the file */
	size_t start, end;   /* its good framed records: data[start, end) */
};
/*
 * Reads every segment but the active one, in name order, into *segs
 * (caller frees with gs_journal_segs_free); a torn tail is left out.
 */
int gs_journal_load(struct gs_journal *j, struct gs_jseg **segs, size_t *n);
void gs_journal_segs_free(struct gs_jseg *segs, size_t n);
/*
 * Keeps old segment first (its last commit record: last) until Git holds
 * last: gs_journal_gc() deletes it then. 0 or -ENOMEM (it stays on disk).
 */
int gs_journal_keep(struct gs_journal *j, uint64_t first, uint64_t last);
/* Deletes one old segment. */
int gs_journal_drop(struct gs_journal *j, uint64_t first);
/* Deletes every segment except the active one. */
int gs_journal_drop_old(struct gs_journal *j);

#endif
