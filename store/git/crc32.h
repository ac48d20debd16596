/*
 * crc32.h - CRC-32 of pack entries (the .idx lists one per entry), and
 * the Adler-32 that ends each zlib stream of stored blocks.
 */
#ifndef GS_CRC32_H
#define GS_CRC32_H

#include <stddef.h>
#include <stdint.h>

/*
 * zlib's crc32(crc, buf, len), with carry-less multiplication (PCLMULQDQ)
 * where the CPU has it: every byte of every pack is checksummed, and
 * zlib's table-driven CRC cost a tenth of the writer's time.
 */
uint32_t gs_crc32(uint32_t crc, const void *buf, size_t len);

/*
 * zlib's adler32(adler, buf, len), 16 bytes a step with SSSE3 where the
 * CPU has it: a stored stream costs no deflate but still its Adler-32,
 * and zlib's (a byte at a time) was a fiftieth of the writer's time.
 */
uint32_t gs_adler32(uint32_t adler, const void *buf, size_t len);

#endif
