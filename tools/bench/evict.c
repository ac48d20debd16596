/*
 * evict.c - see evict.h.
 */
#include "evict.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t resident_sum;

/* Bytes of fd's first size bytes that are in the page cache. */
static uint64_t resident_bytes(int fd, off_t size)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t pages = ((size_t)size + (size_t)pg - 1) / (size_t)pg;
	uint64_t n = 0;
	if (!size)
		return 0;
	void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return 0;
	unsigned char *v = malloc(pages);
	if (v && !mincore(m, (size_t)size, v))
		for (size_t i = 0; i < pages; i++)
			n += v[i] & 1;
	free(v);
	munmap(m, (size_t)size);
	return n * (uint64_t)pg;
}

static int evict_one(const char *path, const struct stat *st, int flag,
		     struct FTW *ftw)
{
	(void)ftw;
	if (flag != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* gone meanwhile (a daemon may be running) */
	fdatasync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	resident_sum += resident_bytes(fd, st->st_size);
	close(fd);
	return 0;
}

int evict_tree(const char *dir, uint64_t *resident)
{
	resident_sum = 0;
	if (nftw(dir, evict_one, 32, FTW_PHYS) != 0)
		return errno ? -errno : -EIO;
	if (resident)
		*resident = resident_sum;
	return 0;
}
