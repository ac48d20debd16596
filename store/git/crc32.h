/* crc32.h - CRC-32 of pack entries (the .idx lists one per entry). */
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

#endif
