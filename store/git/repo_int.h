/*
 * repo_int.h - what repo.c (the pack being built, output) and
 * repo_delta.c (delta entries) share. Not for use outside store/git/repo*.c.
 */
#ifndef GS_REPO_INT_H
#define GS_REPO_INT_H

#include "repo.h"

/* Git's object id of data; with mk, resumed from its marks (repo.h). */
void gs_repo_object_id(git_object_t type, const void *data, size_t len,
		       struct gs_repo_marks *mk, git_oid *out);

/*
 * Appends one entry to the pack being built: type code (1-3 whole, 6
 * OFS_DELTA against the entry at index base, else base is -1), payload
 * data (the object, or the delta) stored or compressed. Nothing when
 * the pack being built has id already (0): the check comes last, so
 * that its cache misses overlap the entry's copy and checksums; callers
 * build deltas before knowing whether the object is new (it nearly
 * always is).
 */
int gs_repo_add_entry(struct gs_repo *r, const git_oid *id, unsigned code,
		      const void *data, size_t len, long base);

/*
 * The bytes of entry i of the pack being built when it is a whole object
 * of that type stored in one block (as trees are), else NULL; *len gets
 * their length; NULL too once the entry went out to the pack's file.
 * Points into the pack: valid until the next entry.
 */
const unsigned char *gs_repo_entry_raw(const struct gs_repo *r, size_t i,
				       git_object_t type, size_t *len);
/*
 * repo_pack.c: the pack's output. Makes room for need more bytes at the
 * end of r->pack (writing what it holds to the pack's file first when it
 * is past GS_PACK_STAGE; if that fails, it stays); the first call of a
 * pack adds its header. Fails only for want of memory.
 */
int gs_pack_out_reserve(struct gs_repo *r, size_t need);
/* Drops the pack being built (its temporary file too). */
void gs_pack_out_drop(struct gs_repo *r);

#endif
