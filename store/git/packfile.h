/*
 * packfile.h - reading finished pack and index files raw (the checkpoint
 * reader, the pack merge): big-endian fields and read-only maps.
 */
#ifndef GS_PACKFILE_H
#define GS_PACKFILE_H

#include <stddef.h>
#include <stdint.h>

/* The big-endian 32-bit field at p (index and pack headers, offsets). */
static inline uint32_t gs_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/*
 * Maps path read-only and private: *out and *len; the caller unmaps it
 * (munmap). -EIO when the file is shorter than min bytes (or empty),
 * else 0 or a negative errno.
 */
int gs_packfile_map(const char *path, size_t min, const unsigned char **out,
		    size_t *len);

/*
 * Objects in the pack whose index is pack_dir/name.idx, from the index's
 * fan-out; 0 when it cannot be read.
 */
uint32_t gs_packfile_idx_count(const char *pack_dir, const char *name);

#endif
