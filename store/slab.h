/*
 * slab.h - memory for the store's nodes, by size class.
 *
 * A node is one small allocation (header, perms, name, value), and there
 * are 100k of them: malloc's 8-byte header and 16-byte rounding were a
 * sixth of the tree. Here sizes are rounded to 8 bytes, slots of one size
 * share 64 KiB pages mapped from the system, and a page that empties is
 * given back. Larger sizes go to malloc. Not thread-safe: one per store.
 *
 * Errors: slab_alloc returns NULL. Memory: every page is owned by the
 * slab; slab_fini unmaps them all, whatever is still allocated.
 */
#ifndef STORE_SLAB_H
#define STORE_SLAB_H

#include <stddef.h>

#define SLAB_MAX 512u /* larger sizes: malloc */
#define SLAB_CLASSES (SLAB_MAX / 8u)

struct slab_page;

struct slab {
	struct slab_page *avail[SLAB_CLASSES]; /* pages with a free slot */
	struct slab_page *all;                 /* every page */
	size_t pages;
};

/* size bytes, 8-byte aligned; the same size must be given to slab_free. */
void *slab_alloc(struct slab *s, size_t size);
void slab_free(struct slab *s, void *p, size_t size);
void slab_fini(struct slab *s);

#endif
