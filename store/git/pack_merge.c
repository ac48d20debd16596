/*
 * pack_merge.c - merging the smallest packs into one, in bounded steps.
 *
 * Entries are copied raw from the old packs (found through their .idx
 * offsets), never inflated: only an OFS_DELTA's distance to its base is
 * rewritten. Inflating and re-adding every object stopped the writer for
 * seconds under load. The work is split into steps of a time budget: first
 * the plan (the new offsets, duplicates dropped, so the pack header's count
 * is known before its checksum starts), then the copy into a temporary
 * file; the index is written and the old packs removed at the end.
 */
#include "crc32.h"
#include "packfile.h"
#include "repo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <git2/sys/repository.h>

#include "sha1.h"

/* Bytes of old packs merged at once at most (at least two packs). */
#define MERGE_BYTES_MAX ((off_t)128 << 20)
#define OUTBUF (1u << 20)
/* Packs under twice this size are merged with any others. */
#define MERGE_SMALL ((off_t)4 << 20)

struct src_ent {
	uint64_t off, end; /* the entry's bytes in the old pack */
	uint32_t crc;      /* from the old index */
	uint32_t id;       /* position in the old index */
	uint32_t dst;      /* its entry in the new pack + 1 */
	uint32_t base;     /* OFS_DELTA: the base's entry in the new pack + 1 */
	uint16_t hlen;     /* type and size header */
	uint16_t olen;     /* OFS_DELTA: distance bytes, rewritten; else 0 */
	bool dup;          /* an earlier entry of the new pack has the id */
};

struct src_pack {
	char name[64];
	const unsigned char *map; /* the .pack, mapped */
	size_t size;
	unsigned char *idx; /* the .idx, read */
	const unsigned char *ids;
	struct src_ent *e;  /* sorted by offset */
	uint32_t n;
};

struct gs_merge {
	struct src_pack *src;
	size_t nsrc, k, i;  /* cursor: old pack, entry */
	bool copying;       /* planned; writing */
	struct gs_repo out; /* only its entry list (offsets in the new pack) */
	uint64_t out_len;   /* bytes planned, then written */
	int fd;
	char tmp[4200];
	struct gs_sha1 sha;
	unsigned char *buf;
	size_t blen;
};

static int cmp_size(const void *a, const void *b)
{
	off_t x = ((const struct gs_packfile *)a)->size;
	off_t y = ((const struct gs_packfile *)b)->size;
	return x < y ? -1 : x > y;
}

/*
 * Sorts *v by offset: LSD radix, 11 bits a pass, only as many passes as
 * the largest offset needs (3 for a pack under 8 GiB). qsort with a
 * comparison call per step was most of a merge's planning.
 */
static int sort_by_off(struct src_ent **v, uint32_t n)
{
	struct src_ent *a = *v, *b;
	uint64_t all = 0;
	for (uint32_t j = 0; j < n; j++)
		all |= a[j].off;
	if (n < 2)
		return 0;
	if (!(b = malloc((size_t)n * sizeof(*b))))
		return -ENOMEM;
	for (unsigned sh = 0; sh < 64 && (all >> sh); sh += 11) {
		uint32_t pos[2048] = { 0 };
		for (uint32_t j = 0; j < n; j++)
			pos[(a[j].off >> sh) & 2047]++;
		for (uint32_t d = 0, sum = 0; d < 2048; d++) {
			uint32_t c = pos[d];
			pos[d] = sum;
			sum += c;
		}
		for (uint32_t j = 0; j < n; j++)
			b[pos[(a[j].off >> sh) & 2047]++] = a[j];
		struct src_ent *t = a;
		a = b;
		b = t;
	}
	free(b);
	*v = a;
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int read_all(const char *path, unsigned char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	unsigned char *p = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (p && got < (size_t)st.st_size) {
		ssize_t r = read(fd, p + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (!p)
		return -ENOMEM;
	if (got != (size_t)st.st_size) {
		free(p);
		return -EIO;
	}
	*out = p;
	*len = got;
	return 0;
}

/* Reads an old pack's index and maps the pack; entries sorted by offset. */
static int src_load(struct gs_repo *r, struct src_pack *s)
{
	char path[4200];
	size_t ilen = 0;
	int e;
	snprintf(path, sizeof(path), "%s/%s.idx", r->pack_dir, s->name);
	if ((e = read_all(path, &s->idx, &ilen)))
		return e;
	const unsigned char *p = s->idx;
	if (ilen < 8 + 1024 + 40 || memcmp(p, "\377tOc", 4) ||
	    gs_be32(p + 4) != 2)
		return -EIO;
	uint32_t n = gs_be32(p + 8 + 4 * 255);
	if ((uint64_t)n * 28 + 8 + 1024 + 40 > ilen)
		return -EIO;
	const unsigned char *crcs = p + 8 + 1024 + 20 * (size_t)n;
	const unsigned char *offs = crcs + 4 * (size_t)n, *large = offs + 4 * (size_t)n;
	size_t nlarge = (ilen - 40 - (size_t)(large - p)) / 8;
	s->ids = p + 8 + 1024;
	s->n = n;
	if (!(s->e = calloc(n ? n : 1, sizeof(*s->e))))
		return -ENOMEM;
	for (uint32_t j = 0; j < n; j++) {
		uint64_t off = gs_be32(offs + 4 * j);
		if (off & 0x80000000u) {
			off &= 0x7fffffffu;
			if (off >= nlarge)
				return -EIO;
			off = (uint64_t)gs_be32(large + 8 * off) << 32 |
			      gs_be32(large + 8 * off + 4);
		}
		s->e[j].off = off;
		s->e[j].crc = gs_be32(crcs + 4 * j);
		s->e[j].id = j;
	}
	if ((e = sort_by_off(&s->e, n)))
		return e;
	snprintf(path, sizeof(path), "%s/%s.pack", r->pack_dir, s->name);
	if ((e = gs_packfile_map(path, 32, &s->map, &s->size)))
		return e;
	if (memcmp(s->map, "PACK", 4))
		return -EIO;
	for (uint32_t j = 0; j < n; j++) {
		s->e[j].end = j + 1 < n ? s->e[j + 1].off : s->size - 20;
		if (s->e[j].off < 12 || s->e[j].end <= s->e[j].off ||
		    s->e[j].end > s->size - 20)
			return -EIO;
	}
	return 0;
}

static void src_free(struct src_pack *s)
{
	if (s->map)
		munmap((void *)s->map, s->size);
	free(s->idx);
	free(s->e);
	s->map = NULL;
	s->idx = NULL;
	s->e = NULL;
}

/* Git's OFS_DELTA distance encoding; returns its length. */
static size_t put_ofs(unsigned char *p, uint64_t d)
{
	unsigned char b[16];
	int pos = 15;
	b[pos] = d & 127;
	while (d >>= 7)
		b[--pos] = (unsigned char)(128 | (--d & 127));
	memcpy(p, b + pos, (size_t)(16 - pos));
	return (size_t)(16 - pos);
}

static struct src_ent *find_off(struct src_pack *s, uint64_t off)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->e[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->e[lo].off == off ? &s->e[lo] : NULL;
}

/* Gives one old entry its place in the new pack (or its duplicate's). */
static int plan_one(struct gs_merge *m, struct src_pack *s, struct src_ent *x)
{
	const unsigned char *p = s->map + x->off;
	size_t avail = x->end - x->off, h = 1;
	unsigned type = (p[0] >> 4) & 7;
	while (p[h - 1] & 0x80)
		if (++h > 12 || h >= avail)
			return -EIO;
	if (type == 0 || type == 5)
		return -EIO;
	if (type == 6) {
		uint64_t d = p[h] & 127;
		size_t o = 1;
		while (p[h + o - 1] & 128) {
			if (o > 9 || h + o >= avail)
				return -EIO;
			d = ((d + 1) << 7) | (p[h + o] & 127);
			o++;
		}
		struct src_ent *b = d && d <= x->off ? find_off(s, x->off - d) : NULL;
		if (!b || !b->dst || h + o >= avail)
			return -EIO;
		x->olen = (uint16_t)o;
		x->base = b->dst;
	}
	x->hlen = (uint16_t)h;
	git_oid id;
	memcpy(id.id, s->ids + 20 * (size_t)x->id, GIT_OID_RAWSZ);
	long f = gs_repo_obj_find(&m->out, &id);
	if (f >= 0) {
		x->dup = true;
		x->dst = (uint32_t)f + 1;
		return 0;
	}
	uint64_t len = avail;
	if (type == 6) {
		unsigned char tmp[16];
		uint64_t d = m->out_len - m->out.ents[x->base - 1].off;
		len = len - x->olen + put_ofs(tmp, d);
	}
	int e = gs_repo_obj_add(&m->out, &id, m->out_len, x->crc);
	if (e)
		return e;
	x->dst = (uint32_t)m->out.pending;
	m->out_len += len;
	return 0;
}

static int flush_out(struct gs_merge *m)
{
	size_t done = 0;
	while (done < m->blen) {
		ssize_t w = write(m->fd, m->buf + done, m->blen - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -ENOSPC;
		done += (size_t)w;
	}
	m->blen = 0;
	return 0;
}

static int emit(struct gs_merge *m, const void *data, size_t len)
{
	const unsigned char *q = data;
	int e;
	gs_sha1_update(&m->sha, data, len);
	m->out_len += len;
	while (len) {
		if (m->blen == OUTBUF && (e = flush_out(m)))
			return e;
		size_t k = OUTBUF - m->blen < len ? OUTBUF - m->blen : len;
		memcpy(m->buf + m->blen, q, k);
		m->blen += k, q += k, len -= k;
	}
	return 0;
}

static int copy_one(struct gs_merge *m, struct src_pack *s, struct src_ent *x)
{
	if (x->dup)
		return 0;
	struct gs_pack_entry *en = &m->out.ents[x->dst - 1];
	if (en->off != m->out_len)
		return -EIO; /* the plan and the copy disagree: a bug */
	const unsigned char *p = s->map + x->off;
	if (!x->olen)
		return emit(m, p, x->end - x->off); /* the index's CRC holds */
	unsigned char hdr[32];
	memcpy(hdr, p, x->hlen);
	size_t hn = x->hlen + put_ofs(hdr + x->hlen,
				       en->off - m->out.ents[x->base - 1].off);
	const unsigned char *data = p + x->hlen + x->olen;
	size_t dlen = x->end - x->off - x->hlen - x->olen;
	en->crc = gs_crc32(gs_crc32(0, hdr, hn), data, dlen);
	int e = emit(m, hdr, hn);
	return e ? e : emit(m, data, dlen);
}

void gs_merge_abort(struct gs_repo *r)
{
	struct gs_merge *m = r->merge;
	if (!m)
		return;
	for (size_t k = 0; k < m->nsrc; k++)
		src_free(&m->src[k]);
	free(m->src);
	free(m->out.ents);
	free(m->out.set);
	free(m->out.seen);
	gs_buf_free(&m->out.idx);
	free(m->buf);
	if (m->fd >= 0) {
		close(m->fd);
		unlink(m->tmp);
	}
	free(m);
	r->merge = NULL;
}

/* Chooses the smallest packs, leaving max/2, within MERGE_BYTES_MAX. */
static int merge_start(struct gs_repo *r, unsigned max)
{
	struct gs_packfile *v;
	size_t n, take, k;
	int e;
	if ((e = gs_repo_list_packs(r, &v, &n)))
		return e;
	r->npacks = (unsigned)n;
	if (n <= max) {
		free(v);
		return 0;
	}
	qsort(v, n, sizeof(*v), cmp_size);
	take = n - max / 2;
	off_t bytes = 0;
	for (k = 0; k < take && (k < 2 || bytes + v[k].size < MERGE_BYTES_MAX); k++) {
		/*
		 * Packs of about the size of those taken so far (any under
		 * MERGE_SMALL: cheap): once 32 packs of the cap's size
		 * existed, each new small pack was merged with one of them,
		 * 128 MiB rewritten for a few new objects.
		 */
		if (k && v[k].size > 2 * (bytes > MERGE_SMALL ? bytes : MERGE_SMALL))
			break;
		bytes += v[k].size;
	}
	if (k < 2) {
		r->merge_floor = (unsigned)n;
		free(v);
		return 0;
	}
	r->merge_floor = 0;
	struct gs_merge *m = calloc(1, sizeof(*m));
	if (!m || !(m->src = calloc(k, sizeof(*m->src)))) {
		free(m);
		free(v);
		return -ENOMEM;
	}
	m->nsrc = k;
	m->fd = -1;
	m->out_len = 12;
	m->out.pack_dir = r->pack_dir; /* borrowed */
	m->out.fsync = r->fsync;
	size_t objs = 0;
	for (size_t j = 0; j < k; j++) {
		memcpy(m->src[j].name, v[j].name, sizeof(v[j].name));
		objs += gs_packfile_idx_count(r->pack_dir, v[j].name);
	}
	free(v);
	/* best effort: sized once, not doubled and rehashed as it fills */
	(void)gs_repo_reserve(&m->out, objs);
	r->merge = m;
	return 1;
}

static int merge_finish(struct gs_repo *r, struct gs_merge *m)
{
	unsigned char sum[20];
	char hex[41], path[4300];
	int e;
	if ((e = flush_out(m)))
		return e;
	gs_sha1_final(&m->sha, sum);
	memcpy(m->buf, sum, 20);
	m->blen = 20;
	if ((e = flush_out(m)))
		return e;
	if (r->fsync && fsync(m->fd))
		return -errno;
	e = close(m->fd);
	m->fd = -1;
	if (e) {
		unlink(m->tmp);
		return -EIO;
	}
	for (int i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	snprintf(path, sizeof(path), "%s/pack-%s.pack", r->pack_dir, hex);
	if (rename(m->tmp, path)) {
		e = -errno;
		unlink(m->tmp);
		return e;
	}
	if ((e = gs_repo_index_write(&m->out, sum))) {
		unlink(path);
		return e;
	}
	for (size_t k = 0; k < m->nsrc; k++) {
		/* index first: Git never sees an index without its pack */
		snprintf(path, sizeof(path), "%s/%s.idx", r->pack_dir, m->src[k].name);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s.pack", r->pack_dir, m->src[k].name);
		unlink(path);
	}
	r->npacks = r->npacks + 1 - (unsigned)m->nsrc;
	/* a new odb: the old one may still list the removed packs */
	git_odb *fresh;
	char objects[4200];
	snprintf(objects, sizeof(objects), "%s/objects", r->dir);
	if (!git_odb_open(&fresh, objects)) {
		git_repository_set_odb(r->repo, fresh);
		git_odb_free(r->odb);
		r->odb = fresh;
	}
	return 0;
}

static int merge_copy_begin(struct gs_repo *r, struct gs_merge *m)
{
	snprintf(m->tmp, sizeof(m->tmp), "%s/tmp_pack_merge_XXXXXX", r->pack_dir);
	if ((m->fd = mkostemp(m->tmp, O_CLOEXEC)) < 0)
		return -errno;
	if (!(m->buf = malloc(OUTBUF)))
		return -ENOMEM;
	unsigned char h[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2 };
	uint32_t n = (uint32_t)m->out.pending;
	h[8] = (unsigned char)(n >> 24);
	h[9] = (unsigned char)(n >> 16);
	h[10] = (unsigned char)(n >> 8);
	h[11] = (unsigned char)n;
	gs_sha1_init(&m->sha);
	m->out_len = 0;
	m->copying = true;
	m->k = m->i = 0;
	return emit(m, h, sizeof(h));
}

static int merge_step(struct gs_repo *r, struct gs_merge *m, uint64_t until)
{
	int e = 0;
	unsigned tick = 0;
	while (m->k < m->nsrc) {
		struct src_pack *s = &m->src[m->k];
		if (!s->e && (e = src_load(r, s)))
			return e;
		while (m->i < s->n) {
			struct src_ent *x = &s->e[m->i++];
			if ((e = m->copying ? copy_one(m, s, x) : plan_one(m, s, x)))
				return e;
			if (++tick % 256 == 0 && mono_ns() >= until)
				return 1;
		}
		if (m->copying)
			src_free(s); /* unmapped: done with it */
		else /* planned: resident again one source at a time, to copy */
			madvise((void *)s->map, s->size, MADV_DONTNEED);
		m->k++, m->i = 0;
		if (mono_ns() >= until && (m->k < m->nsrc || !m->copying))
			return 1;
	}
	if (!m->copying) /* all planned: the count is known */
		return (e = merge_copy_begin(r, m)) ? e : 1;
	return merge_finish(r, m);
}

int gs_repo_consolidate(struct gs_repo *r, unsigned max, uint64_t budget_ns)
{
	int e;
	if (!r->merge) {
		if (r->npacks <= max || r->npacks <= r->merge_floor)
			return 0;
		if ((e = merge_start(r, max)) <= 0)
			return e;
	}
	e = merge_step(r, r->merge, mono_ns() + budget_ns);
	if (e != 1)
		gs_merge_abort(r);
	return e;
}
