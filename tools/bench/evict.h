/*
 * evict.h - dropping a folder's files from the page cache, so that a
 * benchmark can time a start from a cold cache without dropping the whole
 * machine's cache (posix_fadvise DONTNEED on every regular file; pages
 * still dirty are written first, since the kernel keeps dirty pages).
 *
 * Errors: 0 or a negative errno. Memory: none kept.
 */
#ifndef BENCH_EVICT_H
#define BENCH_EVICT_H

#include <stdint.h>

/*
 * Evicts every regular file under dir (recursively). *resident, when not
 * NULL, receives the bytes of those files that were still in the page
 * cache afterwards (mincore), to tell how cold the start really is.
 */
int evict_tree(const char *dir, uint64_t *resident);

#endif
