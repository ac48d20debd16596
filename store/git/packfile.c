/* packfile.c - reading finished pack and index files raw (packfile.h). */
#include "packfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int gs_packfile_map(const char *path, size_t min, const unsigned char **out,
		    size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size <= 0 || (size_t)st.st_size < min) {
		close(fd);
		return -EIO;
	}
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -errno;
	*out = m;
	*len = (size_t)st.st_size;
	return 0;
}

uint32_t gs_packfile_idx_count(const char *pack_dir, const char *name)
{
	char path[4200];
	unsigned char b[4];
	snprintf(path, sizeof(path), "%s/%s.idx", pack_dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* version 2: magic, version, then the 256 fan-out counts */
	ssize_t got = pread(fd, b, sizeof(b), 8 + 4 * 255);
	close(fd);
	return got == (ssize_t)sizeof(b) ? gs_be32(b) : 0;
}
