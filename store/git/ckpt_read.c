/*
 * ckpt_read.c - the checkpoint pack read raw (ckpt_read.h).
 *
 * Index format v2 (Git's pack-format.txt): "\377tOc", version 2, 256
 * fan-out counts, n object ids, n CRC32s, n 4-byte offsets (top bit: an
 * index into the 8-byte offsets that follow), then two checksums.
 */
#include "ckpt_read.h"
#include "checkpoint.h"
#include "packfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Mapped whole and read in order: the load touches nearly every page. */
static int map_file(const char *path, const unsigned char **out, size_t *len)
{
	int e = gs_packfile_map(path, 1, out, len);
	if (!e)
		madvise((void *)*out, *len, MADV_WILLNEED);
	return e;
}

void gs_ckpt_read_close(struct gs_ckpt_read *r)
{
	if (r->idx)
		munmap((void *)r->idx, r->idx_len);
	if (r->pack)
		munmap((void *)r->pack, r->pack_len);
	memset(r, 0, sizeof(*r));
}

static int check_idx(struct gs_ckpt_read *r)
{
	const unsigned char *p = r->idx;
	size_t base = 8 + 256 * 4;
	if (r->idx_len < base + 40 || memcmp(p, "\377tOc", 4) || gs_be32(p + 4) != 2)
		return -EIO;
	uint32_t prev = 0;
	for (int i = 0; i < 256; i++) {
		uint32_t c = gs_be32(p + 8 + 4 * i);
		if (c < prev)
			return -EIO;
		prev = c;
	}
	r->n = prev;
	size_t fixed = base + (size_t)r->n * 28 + 40;
	if (r->idx_len < fixed || (r->idx_len - fixed) % 8)
		return -EIO;
	r->oids = p + base;
	r->off32 = r->oids + (size_t)r->n * 24; /* past ids and CRCs */
	r->off64 = r->off32 + (size_t)r->n * 4;
	r->n64 = (uint32_t)((r->idx_len - fixed) / 8);
	return 0;
}

/*
 * A pack of len bytes (its header and checksum at least) starting with
 * p[0..12): version 2, n objects.
 */
static bool pack_head_ok(const unsigned char *p, uint64_t len, uint32_t n)
{
	return len >= 32 && !memcmp(p, "PACK", 4) && gs_be32(p + 4) == 2 &&
	       gs_be32(p + 8) == n;
}

/* whole: the pack mapped too; else only its header is read. */
static int open_ckpt(struct gs_ckpt_read *r, const char *dir, bool whole)
{
	char names[2][64], path[4300];
	memset(r, 0, sizeof(*r));
	if (gs_checkpoint_names(dir, names) < 1)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/objects/pack/%s.idx", dir, names[0]);
	int e = whole ? map_file(path, &r->idx, &r->idx_len)
		      : gs_packfile_map(path, 1, &r->idx, &r->idx_len);
	if (!e)
		e = check_idx(r);
	snprintf(path, sizeof(path), "%s/objects/pack/%s.pack", dir, names[0]);
	if (!e && whole) {
		e = map_file(path, &r->pack, &r->pack_len);
		if (!e && !pack_head_ok(r->pack, r->pack_len, r->n))
			e = -EIO;
	} else if (!e) {
		unsigned char h[12];
		struct stat st;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			e = -errno;
		else if (fstat(fd, &st) || pread(fd, h, 12, 0) != 12 ||
			 !pack_head_ok(h, (uint64_t)st.st_size, r->n))
			e = -EIO;
		if (fd >= 0)
			close(fd);
	}
	if (e)
		gs_ckpt_read_close(r);
	return e == -EIO ? e : (e ? -ENOENT : 0);
}

int gs_ckpt_read_open(struct gs_ckpt_read *r, const char *dir)
{
	return open_ckpt(r, dir, true);
}

int gs_ckpt_read_open_index(struct gs_ckpt_read *r, const char *dir)
{
	return open_ckpt(r, dir, false);
}

/* The pack offset of id, or -ENOENT. */
static int64_t find(const struct gs_ckpt_read *r, const git_oid *id)
{
	const unsigned char *fan = r->idx + 8;
	unsigned b = id->id[0];
	uint32_t lo = b ? gs_be32(fan + 4 * (b - 1)) : 0, hi = gs_be32(fan + 4 * b);
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(r->oids + (size_t)mid * 20, id->id, 20);
		if (!c) {
			uint32_t o = gs_be32(r->off32 + (size_t)mid * 4);
			if (!(o & 0x80000000u))
				return o;
			o &= 0x7fffffffu;
			if (o >= r->n64)
				return -EIO;
			const unsigned char *q = r->off64 + (size_t)o * 8;
			return (int64_t)((uint64_t)gs_be32(q) << 32 | gs_be32(q + 4)) &
			       INT64_MAX;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -ENOENT;
}

bool gs_ckpt_read_has(const struct gs_ckpt_read *r, const git_oid *id)
{
	return r->idx && find(r, id) >= 0;
}

int gs_ckpt_read_obj(const struct gs_ckpt_read *r, z_stream *z,
		     const git_oid *id, struct gs_buf *out, int *type)
{
	if (!r->pack)
		return -ENOENT;
	int64_t off = find(r, id);
	size_t end = r->pack_len - 20; /* the trailing checksum */
	if (off < 0)
		return (int)off;
	if ((uint64_t)off < 12 || (uint64_t)off >= end)
		return -EIO;
	const unsigned char *p = r->pack + off, *stop = r->pack + end;
	unsigned c = *p++;
	int t = (c >> 4) & 7;
	uint64_t size = c & 15;
	for (unsigned shift = 4; c & 0x80; shift += 7) {
		if (p == stop || shift > 57)
			return -EIO;
		c = *p++;
		size |= (uint64_t)(c & 0x7f) << shift;
	}
	if (t < GIT_OBJECT_COMMIT || t > GIT_OBJECT_TAG)
		return -ENOENT; /* a delta: not ours, let libgit2 resolve it */
	if (size > (64u << 20))
		return -EIO;
	out->len = 0;
	int e = gs_buf_reserve(out, (size_t)size + 1);
	if (e)
		return e;
	if (inflateReset(z) != Z_OK)
		return -EIO;
	z->next_in = (unsigned char *)p;
	z->avail_in = (uInt)((size_t)(stop - p) > UINT32_MAX ? UINT32_MAX
							       : stop - p);
	z->next_out = (unsigned char *)out->data;
	/* one more byte of room: an object longer than its header says fails */
	z->avail_out = (uInt)size + 1;
	if (inflate(z, Z_FINISH) != Z_STREAM_END || z->total_out != size)
		return -EIO;
	out->len = (size_t)size;
	*type = t;
	return 0;
}
