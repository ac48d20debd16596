/*
 * repo.h - the bare Git repository and the pack being built.
 *
 * New objects are hashed and compressed into the pack being built: its
 * entries go to a temporary file in objects/pack as they come (in steps of
 * GS_PACK_STAGE bytes: a burst's pack is not held in memory), and only
 * their ids, offsets and CRCs stay here. gs_repo_dump() completes it and
 * gives it its name, then writes its index. Nothing reads a new object
 * before it is on disk (the writer keeps the ids it needs), so no
 * in-memory object database is needed, and libgit2 never sees the pack
 * before its index exists. refs/heads/main moves only after both.
 */
#ifndef GS_REPO_H
#define GS_REPO_H

#include <errno.h>
#include <git2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "record.h"
#include "sha1.h"

struct gs_pack_entry {
	git_oid oid;
	uint32_t base; /* OFS_DELTA: the base's index + 1; 0 whole */
	uint64_t off;
	uint32_t crc;
	uint32_t depth; /* delta chain length, 0 for a whole object */
};

/*
 * Tests: where gs_repo.fault is asked for an error. FILE: before each
 * write of the pack's bytes to its file (the staged steps, the header,
 * the checksum, a small pack written in one go); its error comes after
 * half the bytes reached the file, as a disk that fills up tears a
 * write. ENTRY: before an object is added to the pack being built; its
 * error fails that write, nothing added, as a failed allocation would.
 */
enum gs_repo_fault {
	GS_REPO_FAULT_FILE,
	GS_REPO_FAULT_ENTRY,
};
typedef int (*gs_repo_fault_fn)(void *ctx, enum gs_repo_fault where);

struct gs_repo {
	git_repository *repo;
	git_odb *odb;
	char *pack_dir;            /* owned */
	struct gs_buf pack;        /* the pack's bytes not yet in its file */
	uint64_t pack_flushed;     /* bytes of the pack in its file */
	int pack_fd;               /* its temporary file, if pack_open */
	bool pack_open;
	char *pack_tmp;            /* owned: that file's path, or NULL */
	struct gs_pack_entry *ents;
	size_t pending, cap;       /* objects in the pack being built */
	uint64_t *set;             /* open addressing over ents: index + 1,
					      id bits above (repo.c) */
	size_t setcap;
	uint64_t *seen;            /* SEEN_BITS bits: ids that may be in
					      ents (repo.c), or NULL */
	bool fsync;
	char *dir;                 /* owned */
	unsigned npacks;           /* pack files in objects/pack */
	unsigned merge_floor;      /* the pack count at which a merge found
					      nothing worth merging (0: none) */
	struct gs_buf text;        /* the writer's commit text, reused */
	struct gs_buf prev;        /* the last commit's text, a delta base */
	struct gs_buf idx;         /* the last index written, its buffer
					      reused (freed at rest): a fresh 1 MiB
					      per publish was mapped, faulted in
					      and unmapped each time */
	git_oid prev_id;
	void *zs;                  /* z_stream for large objects, reused:
					      init costs more than an object */
	struct gs_merge *merge;    /* owned; a pack merge under way, or NULL */
	/*
	 * Tests: returns 0 or the error to inject at where (NULL: none).
	 * Set by another thread with gs_repo_set_fault(): read atomically.
	 */
	gs_repo_fault_fn fault;
	void *fault_ctx;
};

/*
 * Installs fn (ctx its argument) as r's fault hook; from any thread, once
 * (a later call must pass the same fn and ctx).
 */
void gs_repo_set_fault(struct gs_repo *r, gs_repo_fault_fn fn, void *ctx);
/* The hook's verdict at where: 0 when none is installed. */
static inline int gs_repo_fault_at(struct gs_repo *r, enum gs_repo_fault where)
{
	gs_repo_fault_fn fn = __atomic_load_n(&r->fault, __ATOMIC_ACQUIRE);
	return fn ? fn(r->fault_ctx, where) : 0;
}

/* Opens or creates (bare, HEAD -> refs/heads/main) the repo at dir. */
int gs_repo_open(struct gs_repo *r, const char *dir, bool fsync);
void gs_repo_close(struct gs_repo *r);

/* Hashes one object and adds it to the pack being built (once). */
int gs_repo_write(struct gs_repo *r, git_object_t type, const void *data,
		  size_t len, git_oid *out);

/*
 * SHA-1 states along an object's hashed form (gs_sha1_marked()), kept by
 * the caller for an object rewritten often at the same length (a wide
 * directory's tree): v has gs_repo_marks_count() entries, from is the
 * first byte of data that differs from the version they were taken on
 * (0: none valid, hash it all). The write updates them.
 */
struct gs_repo_marks {
	struct gs_sha1_mark *v;
	size_t from;
};
size_t gs_repo_marks_count(git_object_t type, size_t len);

/*
 * The same for a new version of an object whose previous version (base,
 * bytes blen) may be in the pack being built: then it is stored as a
 * delta against it (common prefix and suffix), which keeps a wide
 * directory's tree from costing its whole size in every commit.
 */
int gs_repo_write_delta(struct gs_repo *r, git_object_t type,
			const void *data, size_t len, const git_oid *base,
			const void *bdata, size_t blen,
			struct gs_repo_marks *mk, git_oid *out);

/*
 * The same when the caller knows what changed: base had the same length,
 * and data differs from it only in data[pre .. len - suf). mk (or NULL)
 * as above.
 */
int gs_repo_write_delta_range(struct gs_repo *r, git_object_t type,
			      const void *data, size_t len,
			      const git_oid *base, size_t pre, size_t suf,
			      struct gs_repo_marks *mk, git_oid *out);

/*
 * A commit: stored as a delta of the previous one written here when that
 * is in the pack being built (lines equal at the same position are
 * copied: most of a commit's trailers repeat).
 */
int gs_repo_write_commit(struct gs_repo *r, const void *data, size_t len,
			 git_oid *out);

/*
 * A small object rewritten often (a narrow directory's tree): stored as
 * a delta of the whole object at the root of prev's chain in the pack
 * being built, when it has the same length and the delta is less than
 * half of it; else whole, the base of the next versions. Each version is
 * one delta away from a whole one.
 */
int gs_repo_write_delta_root(struct gs_repo *r, git_object_t type,
			     const void *data, size_t len, const git_oid *prev,
			     git_oid *out);

/* Longest delta chain: readers resolve it whole. */
#define GS_DELTA_DEPTH_MAX 50u

/* Delta chain length of id in the pack being built: 0 whole, -1 absent. */
long gs_repo_obj_depth(const struct gs_repo *r, const git_oid *id);

/*
 * The same for a new version of the same length as base (bytes bdata)
 * that differs from it in many places: stored as a delta of copies and
 * inserts when that is less than half the object, else whole. For a wide
 * directory whose chain of deltas is full: a delta against the chain's
 * first (whole) version is a few changed ids, not the whole tree. base
 * NULL: stored whole (hashed with mk all the same).
 */
int gs_repo_write_delta_diff(struct gs_repo *r, git_object_t type,
			     const void *data, size_t len, const git_oid *base,
			     const void *bdata, struct gs_repo_marks *mk,
			     git_oid *out);

/* Bytes kept in memory before they go to the pack's file. */
#define GS_PACK_STAGE (128u << 10)

/* Size of the pack being built so far (0: no object yet). */
static inline uint64_t gs_repo_pack_bytes(const struct gs_repo *r)
{
	return r->pack_flushed + r->pack.len;
}

/*
 * Writes the pack being built, and its index, then starts a new one. On
 * failure the pack is kept as it was: a later call tries again.
 */
int gs_repo_dump(struct gs_repo *r);
/*
 * The same, calling before(ctx, "pack-<sha>") first (when not NULL): a
 * non-zero return stops the dump with that error, nothing written.
 */
int gs_repo_dump_named(struct gs_repo *r,
		       int (*before)(void *ctx, const char *name), void *ctx);

/*
 * With nothing pending: frees the entry list, its index and the staging
 * buffer (a burst's sizes), to be allocated again by the next object.
 */
void gs_repo_rest(struct gs_repo *r);

/*
 * With more than max packs on disk, merges the smallest ones into one so
 * that the count stays near max/2, taking a pack only when it is at most
 * twice the size of those taken before it, or small (under 8 MiB): each
 * object is then rewritten a logarithmic number of times (merging a small
 * pack into a large one rewrote the large one for a few new objects).
 * When no two packs qualify, merge_floor keeps the count, and nothing is
 * merged until it grows. Entries are copied as they are (no inflating),
 * into a new pack written in steps of about budget_ns each, so that the writer
 * never stops for long: call again (after a publish, or when idle) while
 * it returns 1. 0: no merge under way; negative errno: the merge was
 * dropped, the old packs stay. Independent of the pack being built.
 */
int gs_repo_consolidate(struct gs_repo *r, unsigned max, uint64_t budget_ns);
/* Drops a merge under way (its temporary file); the old packs stay. */
void gs_merge_abort(struct gs_repo *r);

/* For pack_merge.c: */
struct gs_packfile {
	char name[64]; /* "pack-<sha>" */
	off_t size;
};
/* The packs with an index in objects/pack; *out malloc'd. */
int gs_repo_list_packs(struct gs_repo *r, struct gs_packfile **out, size_t *n);
/* Index of id in r's entry list, or -1. */
long gs_repo_obj_find(const struct gs_repo *r, const git_oid *id);
/*
 * Starts loading what gs_repo_obj_find(r, id) will read, for an id
 * looked up a little later (a tree's previous version, written before
 * its children are): its slot is a cache miss in a set of up to 1 MiB.
 */
void gs_repo_obj_prefetch(const struct gs_repo *r, const git_oid *id);
/*
 * The second step, once the slot is likely cached: probes the set and
 * starts loading the entry it points to (no id comparison, no result).
 */
void gs_repo_obj_prefetch_entry(const struct gs_repo *r, const git_oid *id);
/* Makes room for n more entries in r's list and set (one allocation each). */
int gs_repo_reserve(struct gs_repo *r, size_t n);
/* Adds an entry (already in a pack's bytes at off) to r's list. */
int gs_repo_obj_add(struct gs_repo *r, const git_oid *id, uint64_t off,
		    uint32_t crc);
/*
 * Writes the index of r's entry list for the pack with checksum sum
 * (objects/pack/pack-<sum>.pack, already on disk), then empties the list.
 */
int gs_repo_index_write(struct gs_repo *r, const unsigned char *sum);

/* Points refs/heads/main at commit. */
int gs_repo_set_main(struct gs_repo *r, const git_oid *commit);
/* Reads refs/heads/main: 0 and *exists false if there is no commit yet. */
int gs_repo_get_main(struct gs_repo *r, git_oid *commit, bool *exists);

/* Creates (or moves) the lightweight tag refs/tags/<name>. */
int gs_repo_tag(struct gs_repo *r, const char *name, const git_oid *commit);

/* Maps the last libgit2 error to a negative errno and a message. */
int gs_git_error(int code, char *msg, size_t len);

/*
 * Walks a raw tree object: the entry at *p (before end) gives its id (a
 * pointer into the object) and whether it is a subtree, and *p moves to
 * the next entry. 0, or -EIO when the entry is malformed.
 */
static inline int gs_tree_entry_next(const char **p, const char *end,
				     const git_oid **id, bool *is_tree)
{
	const char *sp = memchr(*p, ' ', (size_t)(end - *p));
	const char *nul = sp ? memchr(sp, '\0', (size_t)(end - sp)) : NULL;
	if (!nul || end - nul < 1 + GIT_OID_RAWSZ)
		return -EIO;
	*id = (const git_oid *)(const void *)(nul + 1);
	*is_tree = sp - *p == 5 && !memcmp(*p, "40000", 5);
	*p = nul + 1 + GIT_OID_RAWSZ;
	return 0;
}

#endif
