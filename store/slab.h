/*
 * slab.h - memory for the store's nodes, by size class, with 32-bit
 * references.
 *
 * A node is one small allocation (header, perms, name, value), and there
 * are 100k of them: malloc's 8-byte header and 16-byte rounding were a
 * sixth of the tree. Here sizes are rounded to 8 bytes, slots of one size
 * share 64 KiB pages mapped from the system, and a page that empties is
 * given back. Larger sizes go to malloc.
 *
 * Every allocation also has a 32-bit reference (slab_ref), half a pointer,
 * which the nodes use to link each other: 19 bits of table entry (a page,
 * or one malloc'd block) and 13 bits of 8-byte offset in the page (0 for
 * a malloc'd block). Reference 0 is NULL, and no allocation is ever given
 * reference 1. At most SLAB_IDS - 1 pages and large blocks together (32 GiB
 * of pages): past that slab_alloc fails. Not thread-safe: one per store.
 *
 * Errors: slab_alloc returns NULL. Memory: every page is owned by the
 * slab; slab_fini unmaps them all, whatever is still allocated (large
 * blocks still allocated are freed too).
 */
#ifndef STORE_SLAB_H
#define STORE_SLAB_H

#include <stddef.h>
#include <stdint.h>

#define SLAB_MAX 512u /* larger sizes: malloc */
#define SLAB_CLASSES (SLAB_MAX / 8u)
#define SLAB_OFF_BITS 13u
#define SLAB_IDS (1u << (32 - SLAB_OFF_BITS))

struct slab_page;

struct slab {
	struct slab_page *avail[SLAB_CLASSES]; /* pages with a free slot */
	struct slab_page *all;                 /* every page */
	size_t pages;
	/* By reference id: a page, a large block, or a free id (bit 0 set,
	 * the next free id above it). Id 0 is never used. */
	uintptr_t *table;
	uint32_t ntable, capt, free_id; /* free_id: 0 when none */
};

/* size bytes, 8-byte aligned; the same size must be given to slab_free. */
void *slab_alloc(struct slab *s, size_t size);
void slab_free(struct slab *s, void *p, size_t size);
void slab_fini(struct slab *s);
/* The reference of p (allocated with size), never 0 or 1. */
uint32_t slab_ref(const struct slab *s, const void *p, size_t size);

/* The allocation referenced by ref; NULL for 0. */
static inline void *slab_ptr(const struct slab *s, uint32_t ref)
{
	uint32_t off = ref & ((1u << SLAB_OFF_BITS) - 1);

	if (!ref)
		return NULL;
	return (char *)s->table[ref >> SLAB_OFF_BITS] + ((size_t)off << 3);
}

#endif
