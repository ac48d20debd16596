/* test_crc32.c - the pack CRC equals zlib's for any length and alignment. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <zlib.h>

#include "store/git/crc32.h"

Test(crc32, matches_zlib)
{
	static unsigned char buf[4200];
	srand(7);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)rand();
	for (size_t len = 0; len <= 1100; len++)
		for (size_t off = 0; off < 16; off += 5) {
			uint32_t seed = len % 3 ? (uint32_t)rand() : 0;
			uint32_t want = (uint32_t)crc32(seed, buf + off, (uInt)len);
			cr_assert_eq(gs_crc32(seed, buf + off, len), want,
				     "len %zu off %zu", len, off);
		}
	cr_assert_eq(gs_crc32(0, buf, sizeof(buf) - 1),
		     (uint32_t)crc32(0, buf, sizeof(buf) - 1));
}

Test(crc32, chains_like_zlib)
{
	static unsigned char buf[3000];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 31 + 7);
	uint32_t c = gs_crc32(0, buf, 700);
	c = gs_crc32(c, buf + 700, sizeof(buf) - 700);
	cr_assert_eq(c, (uint32_t)crc32(0, buf, sizeof(buf)));
}

Test(adler32, matches_zlib)
{
	/* past zlib's NMAX (5552) twice, so that the sums are reduced */
	static unsigned char buf[12000];
	srand(11);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i < 6000 ? rand() : 0xff);
	for (size_t len = 0; len <= 300; len++)
		for (size_t off = 0; off < 16; off += 5) {
			uint32_t seed = len % 3 ? (uint32_t)rand() % 65521u * 65537u : 1;
			uint32_t want = (uint32_t)adler32(seed, buf + off, (uInt)len);
			cr_assert_eq(gs_adler32(seed, buf + off, len), want,
				     "len %zu off %zu", len, off);
		}
	for (size_t len = 5500; len <= 12000 - 16; len += 97)
		for (size_t off = 0; off < 16; off += 7)
			cr_assert_eq(gs_adler32(1, buf + off, len),
				     (uint32_t)adler32(1, buf + off, (uInt)len),
				     "len %zu off %zu", len, off);
}
