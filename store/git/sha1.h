/* sha1.h - SHA-1 for pack and index checksums (Git's object ids use it). */
#ifndef GS_SHA1_H
#define GS_SHA1_H

#include <stddef.h>
#include <stdint.h>

/*
 * With libcrypto (SHA extensions where the CPU has them), else portable.
 * Plain data, no allocation: a context may be copied to resume hashing.
 */
struct gs_sha1 {
	_Alignas(8) unsigned char ossl[96]; /* SHA_CTX, with libcrypto */
	uint32_t h[5];
	uint64_t len;
	unsigned char buf[64];
};

void gs_sha1_init(struct gs_sha1 *c);
void gs_sha1_update(struct gs_sha1 *c, const void *data, size_t len);
void gs_sha1_final(struct gs_sha1 *c, unsigned char out[20]);

/*
 * Hashing a long message again after a change near its end: the state
 * every GS_SHA1_MARK bytes of it is kept, and the new version is hashed
 * from the last mark before its first changed byte (SHA-1 is sequential:
 * the bytes after a change are always hashed again).
 */
#define GS_SHA1_MARK 256u
struct gs_sha1_mark {
	uint32_t h[5];
};

/* Marks of a message of len bytes (one per whole GS_SHA1_MARK bytes). */
static inline size_t gs_sha1_marks_count(size_t len)
{
	return len / GS_SHA1_MARK;
}

/*
 * SHA-1 of hdr then data. marks[i] is the state after (i + 1) *
 * GS_SHA1_MARK bytes; those before byte from (counted from the start of
 * hdr) must be those of this message, the rest are (re)computed. from 0
 * hashes everything and fills marks.
 */
void gs_sha1_marked(const void *hdr, size_t hlen, const void *data,
		    size_t len, size_t from, struct gs_sha1_mark *marks,
		    unsigned char out[20]);

#endif
