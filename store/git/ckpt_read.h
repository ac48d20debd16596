/*
 * ckpt_read.h - reading objects of the checkpoint pack (checkpoint.h)
 * straight from the file, for recovery.
 *
 * The pack is ours: whole objects, no deltas. Its index and pack are
 * mapped; a lookup is the index's fan-out and a binary search, a read is
 * one inflate into the caller's buffer with the caller's z_stream. No
 * locks, no per-object allocation, no cache: two threads can read one
 * struct gs_ckpt_read, each with its own z_stream and buffer. Objects it
 * does not hold (written after the checkpoint) come from libgit2.
 *
 * Errors: 0 or a negative errno; -ENOENT: not in the checkpoint pack
 * (or no pack at all), read it elsewhere.
 */
#ifndef GS_CKPT_READ_H
#define GS_CKPT_READ_H

#include <git2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "record.h"

struct gs_ckpt_read {
	const unsigned char *idx, *pack; /* mapped, owned */
	size_t idx_len, pack_len;
	uint32_t n;                      /* objects */
	const unsigned char *oids;       /* n x 20, sorted */
	const unsigned char *off32;      /* n x 4, big-endian */
	const unsigned char *off64;      /* for offsets >= 2^31 */
	uint32_t n64;
};

/*
 * Maps dir's checkpoint pack (the first one <dir>/checkpoint names).
 * -ENOENT without one; -EIO when its index or pack is malformed.
 */
int gs_ckpt_read_open(struct gs_ckpt_read *r, const char *dir);
void gs_ckpt_read_close(struct gs_ckpt_read *r);

/*
 * The same with only the index mapped (the pack's header is checked):
 * for gs_ckpt_read_has(), which is all the checkpoint thread asks.
 */
int gs_ckpt_read_open_index(struct gs_ckpt_read *r, const char *dir);

/* Whether the checkpoint pack holds id (false when none is open). */
bool gs_ckpt_read_has(const struct gs_ckpt_read *r, const git_oid *id);

/*
 * Inflates object id into out (replacing its contents: out->len is the
 * object's size, out->data stays the caller's). *type is a git_object_t.
 * z: an inflateInit()ed stream of the calling thread.
 */
int gs_ckpt_read_obj(const struct gs_ckpt_read *r, z_stream *z,
		     const git_oid *id, struct gs_buf *out, int *type);

#endif
