/*
 * crc32.c - CRC-32 (reflected, polynomial 0xEDB88320) by folding 64 bytes
 * at a time with carry-less multiplication, then a Barrett reduction
 * (Intel's "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ").
 * The tail that does not fill 16 bytes goes through zlib's table.
 */
#include "crc32.h"

#include <zlib.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define TARGET __attribute__((target("pclmul,sse2")))

/* x^(k) mod P constants, bit-reflected, for folding 512, 128, 64, 32 bits */
#define K1 0x154442bd4ULL
#define K2 0x1c6e41596ULL
#define K3 0x1751997d0ULL
#define K4 0x0ccaa009eULL
#define K5 0x163cd6124ULL
#define POLY 0x1db710641ULL /* P, reflected, with its x^32 term */
#define MU 0x1f7011641ULL   /* floor(x^64 / P), reflected */

TARGET static inline __m128i fold(__m128i x, __m128i k, __m128i next)
{
	return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
					   _mm_clmulepi64_si128(x, k, 0x11)),
			     next);
}

/* 128 bits of folded state to the raw 32-bit CRC state. */
TARGET static uint32_t reduce(__m128i x1)
{
	__m128i k = _mm_set_epi64x((long long)K4, (long long)K3);
	/* 128 -> 64 bits, adding 32 zero bits */
	x1 = _mm_xor_si128(_mm_clmulepi64_si128(k, x1, 0x01),
			   _mm_srli_si128(x1, 8));
	/* 64 -> 32 bits */
	__m128i mask = _mm_set_epi32(0, 0, 0, -1);
	__m128i x2b = _mm_srli_si128(x1, 4);
	x1 = _mm_and_si128(x1, mask);
	x1 = _mm_clmulepi64_si128(x1, _mm_set_epi64x(0, (long long)K5), 0x00);
	x1 = _mm_xor_si128(x1, x2b);
	/* Barrett reduction to the 32-bit remainder */
	__m128i pu = _mm_set_epi64x((long long)MU, (long long)POLY);
	x2b = x1;
	x1 = _mm_and_si128(x1, mask);
	x1 = _mm_clmulepi64_si128(x1, pu, 0x10);
	x1 = _mm_and_si128(x1, mask);
	x1 = _mm_clmulepi64_si128(x1, pu, 0x00);
	x1 = _mm_xor_si128(x1, x2b);
	return (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(x1, 4));
}

/* The raw (not inverted) CRC state over len bytes, len >= 64, len % 16 == 0. */
TARGET static uint32_t crc_fold(uint32_t st, const unsigned char *p, size_t len)
{
	__m128i x1 = _mm_loadu_si128((const __m128i *)p);
	__m128i x2 = _mm_loadu_si128((const __m128i *)(p + 16));
	__m128i x3 = _mm_loadu_si128((const __m128i *)(p + 32));
	__m128i x4 = _mm_loadu_si128((const __m128i *)(p + 48));
	x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)st));
	p += 64, len -= 64;
	__m128i k = _mm_set_epi64x((long long)K2, (long long)K1);
	for (; len >= 64; p += 64, len -= 64) {
		x1 = fold(x1, k, _mm_loadu_si128((const __m128i *)p));
		x2 = fold(x2, k, _mm_loadu_si128((const __m128i *)(p + 16)));
		x3 = fold(x3, k, _mm_loadu_si128((const __m128i *)(p + 32)));
		x4 = fold(x4, k, _mm_loadu_si128((const __m128i *)(p + 48)));
	}
	k = _mm_set_epi64x((long long)K4, (long long)K3);
	x1 = fold(x1, k, x2);
	x1 = fold(x1, k, x3);
	x1 = fold(x1, k, x4);
	for (; len >= 16; p += 16, len -= 16)
		x1 = fold(x1, k, _mm_loadu_si128((const __m128i *)p));
	return reduce(x1);
}

/* The same for 16 <= len < 64, len % 16 == 0: one lane, 16 bytes a step. */
TARGET static uint32_t crc_fold16(uint32_t st, const unsigned char *p,
				  size_t len)
{
	__m128i x1 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p),
				   _mm_cvtsi32_si128((int)st));
	__m128i k = _mm_set_epi64x((long long)K4, (long long)K3);
	for (p += 16, len -= 16; len >= 16; p += 16, len -= 16)
		x1 = fold(x1, k, _mm_loadu_si128((const __m128i *)p));
	return reduce(x1);
}

/*
 * Fewer than 16 bytes, a byte at a time on the raw state with zlib's
 * table: most pack entries are small (a value, a tree delta), and a call
 * into zlib per head or tail cost more than the bytes.
 */
static uint32_t crc_bytes(uint32_t st, const unsigned char *p, size_t len)
{
	const z_crc_t *tab = get_crc_table(); /* zlib's static table */
	while (len--)
		st = (uint32_t)tab[(st ^ *p++) & 0xff] ^ (st >> 8);
	return st;
}

uint32_t gs_crc32(uint32_t crc, const void *buf, size_t len)
{
	/* a bit test in libgcc's CPU model, set up before main() */
	if (len < 16 || !__builtin_cpu_supports("pclmul"))
		return len < 16 ? ~crc_bytes(~crc, buf, len)
				: (uint32_t)crc32_z(crc, buf, len);
	size_t n = len & ~(size_t)15;
	uint32_t st = n >= 64 ? crc_fold(~crc, buf, n) : crc_fold16(~crc, buf, n);
	return ~crc_bytes(st, (const unsigned char *)buf + n, len - n);
}

#define ADLER_BASE 65521u
/* zlib's NMAX: the most bytes before the sums must be reduced mod BASE */
#define ADLER_NMAX 5552u

/*
 * Per 16 bytes d[0..15]: a += sum d[i], b += 16 * a_before + sum (16 - i)
 * * d[i]. The byte sums come from SAD against zero, the weighted ones
 * from multiply-adds; the 16 * a_before terms are summed apart (vps) and
 * scaled once at the end of a run of at most NMAX bytes.
 */
__attribute__((target("ssse3"))) static uint32_t
adler_simd(uint32_t adler, const unsigned char *p, size_t len)
{
	uint32_t a = adler & 0xffff, b = adler >> 16;
	const __m128i w = _mm_setr_epi8(16, 15, 14, 13, 12, 11, 10, 9, 8, 7,
					6, 5, 4, 3, 2, 1);
	const __m128i ones = _mm_set1_epi16(1), zero = _mm_setzero_si128();
	while (len >= 16) {
		size_t n = (len < ADLER_NMAX ? len : ADLER_NMAX) & ~(size_t)15;
		__m128i vs1 = _mm_cvtsi32_si128((int)a), vs2 = _mm_cvtsi32_si128((int)b);
		__m128i vps = zero;
		len -= n;
		for (; n; n -= 16, p += 16) {
			__m128i d = _mm_loadu_si128((const __m128i *)p);
			vps = _mm_add_epi32(vps, vs1);
			vs1 = _mm_add_epi32(vs1, _mm_sad_epu8(d, zero));
			vs2 = _mm_add_epi32(vs2, _mm_madd_epi16(
						  _mm_maddubs_epi16(d, w), ones));
		}
		vs2 = _mm_add_epi32(vs2, _mm_slli_epi32(vps, 4));
		uint32_t s1[4], s2[4];
		_mm_storeu_si128((__m128i *)s1, vs1);
		_mm_storeu_si128((__m128i *)s2, vs2);
		a = (uint32_t)(((uint64_t)s1[0] + s1[1] + s1[2] + s1[3]) % ADLER_BASE);
		b = (uint32_t)(((uint64_t)s2[0] + s2[1] + s2[2] + s2[3]) % ADLER_BASE);
	}
	while (len--) {
		a += *p++;
		b += a;
	}
	return (b % ADLER_BASE) << 16 | (a % ADLER_BASE);
}

uint32_t gs_adler32(uint32_t adler, const void *buf, size_t len)
{
	if (!__builtin_cpu_supports("ssse3"))
		return (uint32_t)adler32_z(adler, buf, len);
	return adler_simd(adler, buf, len);
}

#else

uint32_t gs_crc32(uint32_t crc, const void *buf, size_t len)
{
	return (uint32_t)crc32_z(crc, buf, len);
}

uint32_t gs_adler32(uint32_t adler, const void *buf, size_t len)
{
	return (uint32_t)adler32_z(adler, buf, len);
}

#endif
