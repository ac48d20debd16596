/*
 * repo_pack.c - the pack being built, out to its file.
 *
 * Entries are appended to r->pack; past GS_PACK_STAGE bytes they go to a
 * temporary file (objects/pack/tmp_pack_*, removed at start if a crash
 * left one), so that a pack of many MiB costs that much of page cache,
 * not of the daemon's memory. Its header (the object count) and checksum
 * are known only at the end: gs_repo_dump() writes the header, hashes the
 * file back from the page cache, appends the checksum and links the
 * file as pack-<sum>.pack, then writes the index. A pack that never grew
 * past the stage is written in one go, as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repo_int.h"
#include "sha1.h"

#define PACK_HDR 12u

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void pack_header(const struct gs_repo *r, unsigned char *h)
{
	memcpy(h, "PACK", 4);
	put_be32(h + 4, 2);
	put_be32(h + 8, (uint32_t)r->pending);
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *q = buf;
	while (len) {
		ssize_t w = pwrite(fd, q, len, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -ENOSPC;
		q += w;
		len -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/*
 * pwrite_all() of the pack's bytes, through the test hook: an injected
 * error leaves half of them written, as a disk filling up does.
 */
static int pack_pwrite(struct gs_repo *r, int fd, const void *buf, size_t len,
		       uint64_t off)
{
	int e = gs_repo_fault_at(r, GS_REPO_FAULT_FILE);
	if (!e)
		return pwrite_all(fd, buf, len, off);
	(void)pwrite_all(fd, buf, len / 2, off);
	return e;
}

static int pack_file_open(struct gs_repo *r)
{
	size_t n = strlen(r->pack_dir) + sizeof("/tmp_pack_XXXXXX");
	char *path = malloc(n);
	if (!path)
		return -ENOMEM;
	snprintf(path, n, "%s/tmp_pack_XXXXXX", r->pack_dir);
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		int e = -errno;
		free(path);
		return e;
	}
	fchmod(fd, 0444); /* as git leaves its packs; the fd stays writable */
	r->pack_fd = fd;
	r->pack_open = true;
	r->pack_tmp = path;
	return 0;
}

/* Moves the bytes held in r->pack to the end of the file. */
static int pack_flush(struct gs_repo *r)
{
	int e;
	if (!r->pack.len)
		return 0;
	if (!r->pack_open && (e = pack_file_open(r)))
		return e;
	if ((e = pack_pwrite(r, r->pack_fd, r->pack.data, r->pack.len,
			     r->pack_flushed)))
		return e;
	r->pack_flushed += r->pack.len;
	r->pack.len = 0;
	return 0;
}

int gs_pack_out_reserve(struct gs_repo *r, size_t need)
{
	int e;
	if (!gs_repo_pack_bytes(r)) {
		if ((e = gs_buf_reserve(&r->pack, PACK_HDR)))
			return e;
		r->pack.len = PACK_HDR; /* filled in by gs_repo_dump */
	}
	/*
	 * A failed write (disk full) is tried again at the next step and by
	 * gs_repo_dump(), which reports it and is retried by the writer: the
	 * bytes meanwhile stay in memory, and no commit fails half-written.
	 */
	if (r->pack.len + need > GS_PACK_STAGE)
		(void)pack_flush(r);
	return gs_buf_reserve(&r->pack, need);
}

void gs_pack_out_drop(struct gs_repo *r)
{
	if (r->pack_open) {
		close(r->pack_fd);
		unlink(r->pack_tmp);
	}
	free(r->pack_tmp);
	r->pack_tmp = NULL;
	r->pack_open = false;
	r->pack_flushed = 0;
	gs_buf_free(&r->pack);
}

static int write_new(struct gs_repo *r, const char *path, const void *a,
		     size_t alen, const void *b, size_t blen, bool sync)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444);
	if (fd < 0)
		return -errno;
	int e = pack_pwrite(r, fd, a, alen, 0);
	if (!e)
		e = pack_pwrite(r, fd, b, blen, alen);
	if (!e && sync && fsync(fd))
		e = -errno;
	if (close(fd) && !e)
		e = -errno;
	if (e)
		unlink(path);
	return e;
}

/*
 * Completes the file: header, checksum (hashed back, r->pack as the
 * buffer), trailer. Nothing is appended past the trailer's offset, so a
 * failed dump followed by more entries overwrites it.
 */
static int pack_file_finish(struct gs_repo *r, unsigned char *sum)
{
	unsigned char h[PACK_HDR];
	struct gs_sha1 c;
	int e;
	if ((e = pack_flush(r)))
		return e;
	pack_header(r, h);
	if ((e = pack_pwrite(r, r->pack_fd, h, sizeof(h), 0)))
		return e;
	if ((e = gs_buf_reserve(&r->pack, GS_PACK_STAGE)))
		return e;
	gs_sha1_init(&c);
	for (uint64_t off = 0; off < r->pack_flushed;) {
		size_t want = r->pack_flushed - off < GS_PACK_STAGE
			? (size_t)(r->pack_flushed - off) : GS_PACK_STAGE;
		ssize_t got = pread(r->pack_fd, r->pack.data, want, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return got < 0 ? -errno : -EIO;
		gs_sha1_update(&c, r->pack.data, (size_t)got);
		off += (uint64_t)got;
	}
	gs_sha1_final(&c, sum);
	if ((e = pack_pwrite(r, r->pack_fd, sum, 20, r->pack_flushed)))
		return e;
	if (r->fsync && fsync(r->pack_fd))
		return -errno;
	return 0;
}

int gs_repo_dump(struct gs_repo *r)
{
	return gs_repo_dump_named(r, NULL, NULL);
}

int gs_repo_dump_named(struct gs_repo *r,
		       int (*before)(void *ctx, const char *name), void *ctx)
{
	unsigned char sum[20];
	char hex[GIT_OID_HEXSZ + 1];
	int e;
	if (!r->pending)
		return 0;
	bool file = r->pack_open || r->pack_flushed;
	if (file) {
		if ((e = pack_file_finish(r, sum)))
			return e;
	} else {
		pack_header(r, (unsigned char *)r->pack.data);
		struct gs_sha1 c;
		gs_sha1_init(&c);
		gs_sha1_update(&c, r->pack.data, r->pack.len);
		gs_sha1_final(&c, sum);
	}
	git_oid id;
	git_oid_fromraw(&id, sum);
	git_oid_tostr(hex, sizeof(hex), &id);
	size_t n = strlen(r->pack_dir) + sizeof("/pack-.pack") + 40;
	char *pack = malloc(n);
	if (!pack)
		return -ENOMEM;
	snprintf(pack, n, "%s/pack-%s.pack", r->pack_dir, hex);
	if (before) {
		char name[64];
		snprintf(name, sizeof(name), "pack-%s", hex);
		if ((e = before(ctx, name))) {
			free(pack);
			return e;
		}
	}
	/*
	 * The pack first: git only looks at packs that have an index. A
	 * link, not a rename: if the index fails, the file is still whole
	 * under its temporary name for the next try.
	 */
	if (file)
		e = link(r->pack_tmp, pack) && errno != EEXIST ? -errno : 0;
	else
		e = write_new(r, pack, r->pack.data, r->pack.len, sum, 20,
			      r->fsync);
	if (!e && (e = gs_repo_index_write(r, sum)))
		unlink(pack);
	free(pack);
	if (e)
		return e;
	if (file) {
		close(r->pack_fd);
		unlink(r->pack_tmp);
		free(r->pack_tmp);
		r->pack_tmp = NULL;
		r->pack_open = false;
	}
	r->pack_flushed = 0;
	r->pack.len = 0;
	if (r->pack.cap > 2 * GS_PACK_STAGE)
		gs_buf_free(&r->pack); /* an object larger than the stage */
	r->npacks++;
	git_odb_refresh(r->odb);
	return 0;
}

void gs_repo_rest(struct gs_repo *r)
{
	if (r->pending || gs_repo_pack_bytes(r))
		return;
	free(r->ents);
	free(r->set);
	free(r->seen);
	r->ents = NULL;
	r->set = NULL;
	r->seen = NULL;
	r->cap = r->setcap = 0;
	gs_buf_free(&r->pack);
	gs_buf_free(&r->idx);
}
