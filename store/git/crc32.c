/*
 * crc32.c - CRC-32 (reflected, polynomial 0xEDB88320) by folding 64 bytes
 * at a time with carry-less multiplication, then a Barrett reduction
 * (Intel's "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ").
 * The head and tail that do not fill 16 bytes go through zlib.
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

uint32_t gs_crc32(uint32_t crc, const void *buf, size_t len)
{
	/* a bit test in libgcc's CPU model, set up before main() */
	if (len < 64 || !__builtin_cpu_supports("pclmul"))
		return (uint32_t)crc32_z(crc, buf, len);
	size_t n = len & ~(size_t)15;
	uint32_t st = crc_fold(~crc, buf, n);
	return (uint32_t)crc32_z(~st, (const unsigned char *)buf + n, len - n);
}

#else

uint32_t gs_crc32(uint32_t crc, const void *buf, size_t len)
{
	return (uint32_t)crc32_z(crc, buf, len);
}

#endif
