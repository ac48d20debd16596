/* sha1.c - SHA-1: libcrypto's when available, else FIPS 180-4 in plain C. */
#include "sha1.h"

#include <string.h>

#ifdef GS_HAVE_LIBCRYPTO
/*
 * The low-level SHA1_* calls: the EVP interface allocates a context and
 * looks the digest up for every object, which cost more than hashing a
 * small object. They use the same assembly (SHA extensions).
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
_Static_assert(sizeof(SHA_CTX) <= sizeof(((struct gs_sha1 *)0)->ossl),
	       "SHA_CTX fits struct gs_sha1");
#endif

#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

static void block(struct gs_sha1 *c, const unsigned char *p)
{
	uint32_t w[80], a, b, d, e, f, k, t, cc;
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3], e = c->h[4];
	for (int i = 0; i < 80; i++) {
		if (i < 20)
			f = (b & cc) | (~b & d), k = 0x5a827999;
		else if (i < 40)
			f = b ^ cc ^ d, k = 0x6ed9eba1;
		else if (i < 60)
			f = (b & cc) | (b & d) | (cc & d), k = 0x8f1bbcdc;
		else
			f = b ^ cc ^ d, k = 0xca62c1d6;
		t = ROL(a, 5) + f + e + k + w[i];
		e = d, d = cc, cc = ROL(b, 30), b = a, a = t;
	}
	c->h[0] += a, c->h[1] += b, c->h[2] += cc, c->h[3] += d, c->h[4] += e;
}

void gs_sha1_init(struct gs_sha1 *c)
{
#ifdef GS_HAVE_LIBCRYPTO
	SHA1_Init((SHA_CTX *)c->ossl);
	return;
#endif
	static const uint32_t iv[5] = { 0x67452301, 0xefcdab89, 0x98badcfe,
					0x10325476, 0xc3d2e1f0 };
	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
}

void gs_sha1_update(struct gs_sha1 *c, const void *data, size_t len)
{
#ifdef GS_HAVE_LIBCRYPTO
	SHA1_Update((SHA_CTX *)c->ossl, data, len);
	return;
#endif
	const unsigned char *p = data;
	size_t used = c->len % 64;
	c->len += len;
	if (used) {
		size_t n = 64 - used < len ? 64 - used : len;
		memcpy(c->buf + used, p, n);
		p += n, len -= n;
		if (used + n < 64)
			return;
		block(c, c->buf);
	}
	for (; len >= 64; p += 64, len -= 64)
		block(c, p);
	memcpy(c->buf, p, len);
}

void gs_sha1_final(struct gs_sha1 *c, unsigned char out[20])
{
#ifdef GS_HAVE_LIBCRYPTO
	SHA1_Final(out, (SHA_CTX *)c->ossl);
	return;
#endif
	uint64_t bits = c->len * 8;
	unsigned char pad[72] = { 0x80 };
	size_t used = c->len % 64;
	size_t n = used < 56 ? 56 - used : 120 - used;
	for (int i = 0; i < 8; i++)
		pad[n + i] = (unsigned char)(bits >> (56 - 8 * i));
	gs_sha1_update(c, pad, n + 8);
	for (int i = 0; i < 5; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
}

/* The state at a block boundary (len a multiple of 64). */
static void mark_get(const struct gs_sha1 *c, struct gs_sha1_mark *m)
{
#ifdef GS_HAVE_LIBCRYPTO
	const SHA_CTX *s = (const SHA_CTX *)c->ossl;
	m->h[0] = s->h0, m->h[1] = s->h1, m->h[2] = s->h2;
	m->h[3] = s->h3, m->h[4] = s->h4;
	return;
#endif
	memcpy(m->h, c->h, sizeof(m->h));
}

static void mark_resume(struct gs_sha1 *c, const struct gs_sha1_mark *m,
			uint64_t len)
{
	gs_sha1_init(c);
#ifdef GS_HAVE_LIBCRYPTO
	SHA_CTX *s = (SHA_CTX *)c->ossl;
	s->h0 = m->h[0], s->h1 = m->h[1], s->h2 = m->h[2];
	s->h3 = m->h[3], s->h4 = m->h[4];
	s->Nl = (SHA_LONG)(len << 3);
	s->Nh = (SHA_LONG)(len >> 29);
	s->num = 0;
	return;
#endif
	memcpy(c->h, m->h, sizeof(m->h));
	c->len = len;
}

void gs_sha1_marked(const void *hdr, size_t hlen, const void *data,
		    size_t len, size_t from, struct gs_sha1_mark *marks,
		    unsigned char out[20])
{
	_Static_assert(GS_SHA1_MARK % 64 == 0, "marks at block boundaries");
	const unsigned char *h = hdr, *d = data;
	size_t total = hlen + len, i = from / GS_SHA1_MARK, pos;
	struct gs_sha1 c;
	if (i > gs_sha1_marks_count(total))
		i = gs_sha1_marks_count(total);
	if (i) {
		pos = i * GS_SHA1_MARK;
		mark_resume(&c, &marks[i - 1], pos);
	} else {
		pos = 0;
		gs_sha1_init(&c);
	}
	while (pos < total) {
		size_t end = (pos / GS_SHA1_MARK + 1) * GS_SHA1_MARK;
		if (end > total)
			end = total;
		if (pos < hlen) {
			size_t k = (end < hlen ? end : hlen) - pos;
			gs_sha1_update(&c, h + pos, k);
			pos += k;
		}
		if (pos < end) {
			gs_sha1_update(&c, d + (pos - hlen), end - pos);
			pos = end;
		}
		if (pos % GS_SHA1_MARK == 0)
			mark_get(&c, &marks[pos / GS_SHA1_MARK - 1]);
	}
	gs_sha1_final(&c, out);
}
