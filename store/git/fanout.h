/*
 * fanout.h - where a wide directory's children live in Git.
 *
 * A Git tree id covers its whole tree object, so a directory stored as one
 * tree costs its whole width in SHA-1 at every commit below it (1000
 * domains under /local/domain: ~30 KB hashed per write). A directory with
 * GS_FAN_MIN children or more is therefore stored fanned out, as Git
 * notes are: its children sit in bucket trees named by the first hex
 * digits of the SHA-1 of their name, so a commit rewrites a bucket and a
 * small top tree instead of the whole directory.
 *
 *   depth 0 (fewer than GS_FAN_MIN children):  a/b/<child>/
 *   depth 1 (up to GS_FAN_DEEP - 1):           a/b/.<h1>/<child>/
 *   depth 2 (GS_FAN_DEEP or more):             a/b/.<h1>/.<h2>/<child>/
 *
 * h1, h2: the first and second lowercase hex digit of SHA-1(child name);
 * child "7" has SHA-1 902ba3cd..., so /local/domain/7 fanned out is
 * local/domain/.9/7. Only non-empty buckets exist. A bucket holds only
 * buckets of the next level or children (no .value or .perms); a fanned
 * directory keeps its .value, .perms and, always, .order (its children in
 * creation order: bucket order is not a useful order). Readers tell
 * a fanned directory by its content (a tree entry named "." and one hex
 * digit), never by counting, so any depth reads back.
 *
 * Pure functions; no allocation.
 */
#ifndef GS_FANOUT_H
#define GS_FANOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Children from which a directory is fanned out (depth 1). */
#define GS_FAN_MIN 256u
/* Children from which it gets a second level of buckets (depth 2). */
#define GS_FAN_DEEP 4096u
/* Buckets per level: one hex digit. */
#define GS_FAN_WAYS 16u

/* Levels of buckets for a directory of n children: 0, 1 or 2. */
static inline unsigned gs_fan_depth(uint32_t n)
{
	return n < GS_FAN_MIN ? 0 : n < GS_FAN_DEEP ? 1 : 2;
}

/*
 * The bucket of a child at depth levels: the first depth hex digits of
 * SHA-1(name) as a number in [0, 16^depth) (0 at depth 0). Digit i of
 * the bucket path is (key >> (4 * (depth - 1 - i))) & 15.
 */
uint32_t gs_fan_key(const char *name, size_t len, unsigned depth);

/* Is name (NUL-terminated) a bucket's name: "." and one hex digit? */
static inline bool gs_fan_is_bucket(const char *name)
{
	char c = name[0] == '.' ? name[1] : 0;
	return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) &&
	       name[2] == '\0';
}

/* The hex digit a bucket's name carries (gs_fan_is_bucket() is true). */
static inline unsigned gs_fan_bucket_digit(const char *name)
{
	char c = name[1];
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
}

/* The name of bucket digit d (0-15), ".0" to ".f", into out[3]. */
static inline void gs_fan_bucket_name(unsigned d, char out[3])
{
	out[0] = '.';
	out[1] = "0123456789abcdef"[d & 15];
	out[2] = '\0';
}

/*
 * Git's order of two tree entries' names, both entries trees (a tree
 * compares as "name/"): the order of a directory's children in its tree,
 * which the readers restore after gathering them from buckets.
 */
static inline int gs_fan_name_cmp(const char *x, size_t xl, const char *y,
				  size_t yl)
{
	size_t n = xl < yl ? xl : yl;
	int c = memcmp(x, y, n);
	if (c)
		return c;
	unsigned cx = xl > n ? (unsigned char)x[n] : '/';
	unsigned cy = yl > n ? (unsigned char)y[n] : '/';
	return (int)cx - (int)cy;
}

#endif
