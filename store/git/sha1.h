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

#endif
