/* repo.c - bare repository, the pack being built, pack output, refs. */
#include "repo.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <git2/sys/repository.h>

#include "checkpoint.h"
#include "crc32.h"
#include "repo_int.h"
#include "checkpoint.h"
#include "sha1.h"
#include <stdio.h>
#include <string.h>

#define MAIN_REF "refs/heads/main"

int gs_git_error(int code, char *msg, size_t len)
{
	const git_error *e = git_error_last();
	if (msg && len)
		snprintf(msg, len, "libgit2: %s", e && e->message ? e->message
							       : "unknown error");
	switch (code) {
	case GIT_ENOTFOUND:
		return -ENOENT;
	case GIT_EEXISTS:
		return -EEXIST;
	case GIT_ELOCKED:
		return -EBUSY;
	default:
		return -EIO;
	}
}

int gs_repo_list_packs(struct gs_repo *r, struct gs_packfile **out, size_t *n)
{
	DIR *d = opendir(r->pack_dir);
	struct dirent *de;
	struct gs_packfile *v = NULL;
	size_t cnt = 0, cap = 0;
	char keep[2][64];
	int nkeep = r->dir ? gs_checkpoint_names(r->dir, keep) : 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 10 || l >= 60 || strncmp(de->d_name, "pack-", 5) ||
		    strcmp(de->d_name + l - 4, ".idx"))
			continue;
		/* a checkpoint pack stays whole: see checkpoint.h */
		if ((nkeep > 0 && !strncmp(de->d_name, keep[0], l - 4) &&
		     !keep[0][l - 4]) ||
		    (nkeep > 1 && !strncmp(de->d_name, keep[1], l - 4) &&
		     !keep[1][l - 4]))
			continue;
		if (cnt == cap) {
			cap = cap ? 2 * cap : 64;
			struct gs_packfile *nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		char path[4200];
		struct stat st;
		memcpy(v[cnt].name, de->d_name, l - 4);
		v[cnt].name[l - 4] = '\0';
		snprintf(path, sizeof(path), "%s/%s.pack", r->pack_dir,
			 v[cnt].name);
		if (stat(path, &st))
			continue;
		v[cnt++].size = st.st_size;
	}
	closedir(d);
	*out = v;
	*n = cnt;
	return 0;
}

static unsigned count_packs(struct gs_repo *r)
{
	struct gs_packfile *v;
	size_t n;
	if (gs_repo_list_packs(r, &v, &n))
		return 0;
	free(v);
	return (unsigned)n;
}

int gs_repo_open(struct gs_repo *r, const char *dir, bool fsync)
{
	int e;
	memset(r, 0, sizeof(*r));
	r->fsync = fsync;
	git_libgit2_init();
	/*
	 * Objects are read once (recovery's load, the mirror's lazy trees):
	 * libgit2's object cache (up to 256 MiB) only kept the whole tree a
	 * second time, and mapped pack windows stayed resident.
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 0);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)(256u << 10));
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)(2u << 20));
	/*
	 * Refs point at commits this process has just written: checking
	 * that they exist searched every pack index at each publish, and
	 * kept the indexes' pages resident.
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0);
	if (fsync)
		git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
	e = git_repository_open_bare(&r->repo, dir);
	if (e == GIT_ENOTFOUND) {
		git_repository_init_options o;
		git_repository_init_options_init(&o,
			GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		o.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
		o.initial_head = "main";
		o.description = "xenstore tree history";
		e = git_repository_init_ext(&r->repo, dir, &o);
	}
	if (e)
		goto fail;
	if ((e = git_repository_odb(&r->odb, r->repo)))
		goto fail;
	if (asprintf(&r->pack_dir, "%s/objects/pack", dir) < 0) {
		r->pack_dir = NULL;
		gs_repo_close(r);
		return -ENOMEM;
	}
	if (mkdir(r->pack_dir, 0755) && errno != EEXIST) {
		e = -errno;
		gs_repo_close(r);
		return e;
	}
	if (!(r->dir = strdup(dir))) {
		gs_repo_close(r);
		return -ENOMEM;
	}
	r->npacks = count_packs(r);
	return 0;
fail:
	e = gs_git_error(e, NULL, 0);
	gs_repo_close(r);
	return e;
}

void gs_repo_close(struct gs_repo *r)
{
	bool inited = r->repo || r->odb;
	gs_merge_abort(r);
	if (r->zs) {
		deflateEnd(r->zs);
		free(r->zs);
	}
	free(r->ents);
	free(r->set);
	free(r->seen);
	gs_pack_out_drop(r);
	free(r->pack_dir);
	free(r->dir);
	gs_buf_free(&r->text);
	gs_buf_free(&r->prev);
	gs_buf_free(&r->idx);
	git_odb_free(r->odb);
	git_repository_free(r->repo);
	if (inited)
		git_libgit2_shutdown();
	memset(r, 0, sizeof(*r));
}

void gs_repo_set_fault(struct gs_repo *r, gs_repo_fault_fn fn, void *ctx)
{
	r->fault_ctx = ctx;
	__atomic_store_n(&r->fault, fn, __ATOMIC_RELEASE);
}

static size_t oid_slot(const git_oid *id, size_t mask)
{
	uint64_t h;
	memcpy(&h, id->id, sizeof(h)); /* ids are uniformly distributed */
	return (size_t)h & mask;
}

/*
 * A slot: the entry's index + 1, and 32 more bits of its id above, so
 * that a probe past other ids does not read their entries (a cache miss
 * each: most lookups are of new objects, not there).
 */
static uint64_t oid_tag(const git_oid *id)
{
	uint32_t t;
	memcpy(&t, id->id + 8, sizeof(t));
	return (uint64_t)t << 32;
}

/*
 * A bit per id (its bytes 12..15, independent of the set's slot and
 * tag bits) set for every entry: most lookups are of new objects, and
 * this 128 KiB answers "absent" for them from the cache where a probe of
 * the set (up to 1 MiB, 2 slots per entry) missed it. About 6% false
 * "maybe" at the most entries a pack holds before publishing.
 */
#define SEEN_BITS (1u << 20)

static uint32_t seen_bit(const git_oid *id)
{
	uint32_t v;
	memcpy(&v, id->id + 12, sizeof(v));
	return v & (SEEN_BITS - 1);
}

static void seen_set(uint64_t *seen, const git_oid *id)
{
	uint32_t b = seen_bit(id);
	seen[b / 64] |= (uint64_t)1 << (b % 64);
}

/* Best effort: without it every lookup probes the set. */
static void seen_alloc(struct gs_repo *r)
{
	if (r->seen || !(r->seen = calloc(SEEN_BITS / 64, sizeof(uint64_t))))
		return;
	for (size_t k = 0; k < r->pending; k++)
		seen_set(r->seen, &r->ents[k].oid);
}

void gs_repo_obj_prefetch(const struct gs_repo *r, const git_oid *id)
{
	if (r->seen)
		__builtin_prefetch(&r->seen[seen_bit(id) / 64]);
	if (r->setcap)
		__builtin_prefetch(&r->set[oid_slot(id, r->setcap - 1)]);
}

void gs_repo_obj_prefetch_entry(const struct gs_repo *r, const git_oid *id)
{
	if (!r->setcap)
		return;
	uint64_t tag = oid_tag(id);
	for (size_t i = oid_slot(id, r->setcap - 1);; i = (i + 1) & (r->setcap - 1)) {
		uint64_t v = r->set[i];
		if (!v)
			return;
		if ((v & ~(uint64_t)UINT32_MAX) == tag) {
			__builtin_prefetch(&r->ents[(uint32_t)v - 1]);
			return;
		}
	}
}

long gs_repo_obj_find(const struct gs_repo *r, const git_oid *id)
{
	if (!r->setcap)
		return -1;
	if (r->seen) {
		uint32_t b = seen_bit(id);
		if (!(r->seen[b / 64] & ((uint64_t)1 << (b % 64))))
			return -1;
	}
	uint64_t tag = oid_tag(id);
	for (size_t i = oid_slot(id, r->setcap - 1);; i = (i + 1) & (r->setcap - 1)) {
		uint64_t v = r->set[i];
		if (!v)
			return -1;
		uint32_t k = (uint32_t)v;
		if ((v & ~(uint64_t)UINT32_MAX) == tag &&
		    !memcmp(r->ents[k - 1].oid.id, id->id, GIT_OID_RAWSZ))
			return (long)k - 1;
	}
}

static int set_rebuild(struct gs_repo *r, size_t cap)
{
	/*
	 * Written before it is read: calloc's fresh pages read first got
	 * the shared zero page, and each first write to one then replaced
	 * it, flushing the TLBs of every core the daemon's threads ran on.
	 */
	uint64_t *set = malloc(cap * sizeof(*set));
	if (!set)
		return -ENOMEM;
	memset(set, 0, cap * sizeof(*set));
	for (size_t k = 0; k < r->pending; k++) {
		size_t i = oid_slot(&r->ents[k].oid, cap - 1);
		while (set[i])
			i = (i + 1) & (cap - 1);
		set[i] = oid_tag(&r->ents[k].oid) | (uint32_t)(k + 1);
	}
	free(r->set);
	r->set = set;
	r->setcap = cap;
	return 0;
}

/*
 * Git's object id. With marks (see struct gs_repo_marks), the hash
 * resumes from the mark below the first changed byte.
 */
void gs_repo_object_id(git_object_t type, const void *data, size_t len,
		       struct gs_repo_marks *mk, git_oid *out)
{
	static const char *names[] = { [GIT_OBJECT_COMMIT] = "commit ",
				       [GIT_OBJECT_TREE] = "tree ",
				       [GIT_OBJECT_BLOB] = "blob " };
	char hdr[48];
	/* "<type> <len>\0" by hand: snprintf cost as much as a small hash */
	size_t tl = strlen(names[type]), nl = 0;
	char num[24];
	size_t v = len;
	do
		num[sizeof(num) - ++nl] = (char)('0' + v % 10);
	while ((v /= 10));
	memcpy(hdr, names[type], tl);
	memcpy(hdr + tl, num + sizeof(num) - nl, nl);
	hdr[tl + nl] = '\0';
	size_t hl = tl + nl + 1;
	if (mk) {
		gs_sha1_marked(hdr, hl, data, len, hl + mk->from, mk->v,
			       out->id);
		return;
	}
	/* Git's object id, without libgit2's slower collision-detecting SHA-1 */
	struct gs_sha1 c;
	gs_sha1_init(&c);
	gs_sha1_update(&c, hdr, hl);
	gs_sha1_update(&c, data, len);
	gs_sha1_final(&c, out->id);
}

size_t gs_repo_marks_count(git_object_t type, size_t len)
{
	/* as gs_repo_object_id()'s header: "<type> <len>\0" */
	size_t hl = (type == GIT_OBJECT_COMMIT ? 7 : 5) + 1, v = len;
	do
		hl++;
	while ((v /= 10));
	return gs_sha1_marks_count(hl + len);
}

/*
 * Objects below this size (values, perms, commits), all trees and all
 * deltas (mostly binary ids) go into the pack as zlib streams of stored
 * blocks: deflate's fixed cost per stream (Huffman tables) was more than
 * all the rest of a commit, for a few hundred bytes saved. `git repack
 * -a -d -F` compresses them later.
 */
#define STORE_BELOW 4096u

/* A zlib stream of stored blocks holding data; returns its size. */
static size_t put_stored(unsigned char *p, const void *data, size_t len)
{
	const unsigned char *q = data;
	size_t n = 0, left = len;
	p[n++] = 0x78; /* deflate, 32K window */
	p[n++] = 0x01; /* fastest, no dictionary; (0x7801 % 31 == 0) */
	do {
		size_t k = left < 65535 ? left : 65535;
		p[n++] = k == left; /* BFINAL on the last, BTYPE 00 */
		p[n++] = (unsigned char)k;
		p[n++] = (unsigned char)(k >> 8);
		p[n++] = (unsigned char)~k;
		p[n++] = (unsigned char)(~k >> 8);
		memcpy(p + n, q, k);
		n += k, q += k, left -= k;
	} while (left);
	uint32_t a = gs_adler32(1, data, len);
	p[n++] = (unsigned char)(a >> 24);
	p[n++] = (unsigned char)(a >> 16);
	p[n++] = (unsigned char)(a >> 8);
	p[n++] = (unsigned char)a;
	return n;
}

/* Level 1 through the reused z_stream; returns the size or -ENOMEM. */
static long deflate_into(struct gs_repo *r, const void *data, size_t len,
			 unsigned char *out, size_t cap)
{
	z_stream *zs = r->zs;
	if (!zs) {
		if (!(zs = calloc(1, sizeof(*zs))))
			return -ENOMEM;
		if (deflateInit2(zs, 1, Z_DEFLATED, 15, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK) {
			free(zs);
			return -ENOMEM;
		}
		r->zs = zs;
	} else {
		deflateReset(zs);
	}
	zs->next_in = (Bytef *)data;
	zs->avail_in = (uInt)len;
	zs->next_out = out;
	zs->avail_out = (uInt)cap;
	if (deflate(zs, Z_FINISH) != Z_STREAM_END)
		return -ENOMEM;
	return (long)zs->total_out;
}

int gs_repo_reserve(struct gs_repo *r, size_t n)
{
	int e;
	size_t need = r->pending + n;
	if (2 * need > r->setcap) {
		size_t cap = r->setcap ? 2 * r->setcap : 4096;
		while (2 * need > cap)
			cap *= 2;
		if ((e = set_rebuild(r, cap)))
			return e;
	}
	if (need > r->cap) {
		/* doubling: one entry at a time is the common case */
		size_t cap = r->cap ? 2 * r->cap : 1024;
		if (cap < need)
			cap = need;
		struct gs_pack_entry *ents = realloc(r->ents, cap * sizeof(*ents));
		if (!ents)
			return -ENOMEM;
		r->ents = ents;
		r->cap = cap;
	}
	return 0;
}

/* Room for one more entry in the list and the set. */
static int ents_reserve(struct gs_repo *r)
{
	int e = gs_repo_reserve(r, 1);
	if (!e && !r->seen)
		seen_alloc(r);
	return e;
}

/* Appends to the entry list; room reserved. */
static void ents_push(struct gs_repo *r, const git_oid *id, uint64_t off,
		      uint32_t crc, long base)
{
	struct gs_pack_entry *en = &r->ents[r->pending];
	git_oid_cpy(&en->oid, id);
	en->off = off;
	en->crc = crc;
	en->base = base >= 0 ? (uint32_t)base + 1 : 0;
	en->depth = base >= 0 ? r->ents[base].depth + 1 : 0;
	size_t i = oid_slot(id, r->setcap - 1);
	while (r->set[i])
		i = (i + 1) & (r->setcap - 1);
	r->set[i] = oid_tag(id) | (uint32_t)++r->pending;
	if (r->seen)
		seen_set(r->seen, id);
}

int gs_repo_obj_add(struct gs_repo *r, const git_oid *id, uint64_t off,
		    uint32_t crc)
{
	int e = ents_reserve(r);
	if (!e)
		ents_push(r, id, off, crc, -1);
	return e;
}

const unsigned char *gs_repo_entry_raw(const struct gs_repo *r, size_t i,
				       git_object_t type, size_t *len)
{
	const struct gs_pack_entry *en = &r->ents[i];
	/* r->pack holds the pack from r->pack_flushed on: older bytes are in
	 * its file, and such an entry is no base (its caller stores whole) */
	if (en->base || en->off < r->pack_flushed)
		return NULL;
	const unsigned char *p = (const unsigned char *)r->pack.data +
				 (en->off - r->pack_flushed);
	const unsigned char *end = (const unsigned char *)r->pack.data +
				   r->pack.len;
	if (((p[0] >> 4) & 7) != (unsigned)type)
		return NULL;
	size_t sz = p[0] & 0x0f, k = 0;
	unsigned shift = 4;
	while (p[k] & 0x80 && shift < 32) {
		k++;
		sz |= (size_t)(p[k] & 0x7f) << shift;
		shift += 7;
	}
	k++;
	/* put_stored()'s layout: zlib header, then one final stored block */
	if (sz >= 65535 || end - p < (ptrdiff_t)(k + 7 + sz) ||
	    p[k] != 0x78 || p[k + 1] != 0x01 || p[k + 2] != 1 ||
	    (size_t)(p[k + 3] | p[k + 4] << 8) != sz)
		return NULL;
	*len = sz;
	return p + k + 7;
}

int gs_repo_add_entry(struct gs_repo *r, const git_oid *id, unsigned code,
		      const void *data, size_t len, long base)
{
	int e;
	if ((e = gs_repo_fault_at(r, GS_REPO_FAULT_ENTRY)) ||
	    (e = ents_reserve(r)))
		return e;
	/* what the check for id reads: cache misses, overlapped with the
	 * entry's copy and checksums */
	gs_repo_obj_prefetch(r, id);
	size_t zlen = compressBound((uLong)len);
	if (zlen < len + 6 + 5 * (len / 65535 + 1))
		zlen = len + 6 + 5 * (len / 65535 + 1);
	if ((e = gs_pack_out_reserve(r, 32 + zlen)))
		return e;
	uint64_t off = gs_repo_pack_bytes(r);
	unsigned char *p = (unsigned char *)r->pack.data + r->pack.len;
	size_t n = 0, sz = len;
	/* entry header: type and size, 4 bits then 7 bits per byte */
	p[n] = (unsigned char)((code << 4) | (sz & 0x0f));
	sz >>= 4;
	while (sz) {
		p[n++] |= 0x80;
		p[n] = sz & 0x7f;
		sz >>= 7;
	}
	n++;
	if (base >= 0) {
		/* OFS_DELTA: distance back to the base, Git's offset varint */
		uint64_t d = off - r->ents[base].off;
		unsigned char buf[16];
		int pos = 15;
		buf[pos] = d & 127;
		while (d >>= 7)
			buf[--pos] = (unsigned char)(128 | (--d & 127));
		memcpy(p + n, buf + pos, (size_t)(16 - pos));
		n += (size_t)(16 - pos);
	}
	if (code == GIT_OBJECT_TREE || code == 6 || len < STORE_BELOW) {
		n += put_stored(p + n, data, len);
	} else {
		long e2 = deflate_into(r, data, len, p + n, zlen);
		if (e2 < 0)
			return e2;
		n += (size_t)e2;
	}
	uint32_t crc = gs_crc32(0, p, n);
	/* once per pack; older packs may hold it too, harmless */
	if (gs_repo_obj_find(r, id) >= 0)
		return 0;
	r->pack.len += n;
	ents_push(r, id, off, crc, base);
	return 0;
}

int gs_repo_write(struct gs_repo *r, git_object_t type, const void *data,
		  size_t len, git_oid *out)
{
	if (type < GIT_OBJECT_COMMIT || type > GIT_OBJECT_BLOB)
		return -EINVAL;
	gs_repo_object_id(type, data, len, NULL, out);
	return gs_repo_add_entry(r, out, (unsigned)type, data, len, -1);
}

static void be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static int write_file(const char *path, const void *a, size_t alen,
		      const void *b, size_t blen, bool sync)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444);
	if (fd < 0)
		return -errno;
	int e = 0;
	const void *parts[2] = { a, b };
	size_t lens[2] = { alen, blen };
	for (int k = 0; k < 2 && !e; k++) {
		const char *q = parts[k];
		size_t left = lens[k];
		while (left && !e) {
			ssize_t w = write(fd, q, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				e = w < 0 ? -errno : -ENOSPC;
			else
				q += w, left -= (size_t)w;
		}
	}
	if (!e && sync && fsync(fd))
		e = -errno;
	if (close(fd) && !e)
		e = -errno;
	if (e)
		unlink(path);
	return e;
}

static int cmp_ent(const void *a, const void *b, void *arg)
{
	const struct gs_pack_entry *ents = arg;
	return git_oid_cmp(&ents[*(const uint32_t *)a].oid,
			   &ents[*(const uint32_t *)b].oid);
}

/* Buckets this full are sorted by qsort (ids of hostile content may share
 * a prefix); the rest, a few entries each, by insertion. */
#define BUCKET_QSORT 16u

/*
 * The order of r's entries by id, in *out (malloc'd, n entries). Ids are
 * uniform: a counting sort on their first bits leaves buckets of about
 * one entry. qsort of the entries cost a seventh of the writer's time at
 * a publish every 50 ms, and moving them meant rebuilding the set.
 */
static int ents_order(const struct gs_repo *r, uint32_t **out)
{
	size_t n = r->pending;
	unsigned bits = 8;
	/* up to 20 bits (4 MiB of counts) for a merged pack's million ids */
	while (bits < 20 && ((size_t)1 << bits) < n)
		bits++;
	size_t nb = (size_t)1 << bits;
	uint32_t *ord = malloc((n ? n : 1) * sizeof(*ord));
	uint32_t *start = calloc(nb + 1, sizeof(*start));
	if (!ord || !start) {
		free(ord);
		free(start);
		return -ENOMEM;
	}
	const struct gs_pack_entry *ents = r->ents;
#define PREFIX(k) ((uint32_t)(ents[k].oid.id[0] << 16 | ents[k].oid.id[1] << 8 | \
			     ents[k].oid.id[2]) >> (24 - bits))
	for (size_t k = 0; k < n; k++)
		start[PREFIX(k) + 1]++;
	for (size_t b = 0; b < nb; b++)
		start[b + 1] += start[b];
	for (size_t k = 0; k < n; k++)
		ord[start[PREFIX(k)]++] = (uint32_t)k;
#undef PREFIX
	/* start[b] is now the end of bucket b */
	for (size_t b = 0, lo = 0; b < nb; lo = start[b++]) {
		size_t hi = start[b];
		if (hi - lo > BUCKET_QSORT) {
			qsort_r(ord + lo, hi - lo, sizeof(*ord), cmp_ent,
				(void *)ents);
			continue;
		}
		for (size_t i = lo + 1; i < hi; i++) {
			uint32_t v = ord[i];
			size_t j = i;
			for (; j > lo && git_oid_cmp(&ents[ord[j - 1]].oid,
						     &ents[v].oid) > 0; j--)
				ord[j] = ord[j - 1];
			ord[j] = v;
		}
	}
	free(start);
	*out = ord;
	return 0;
}

/* Index v2: fanout, ids, CRCs, offsets, pack checksum, own checksum. */
static int build_index(struct gs_repo *r, const unsigned char *packsum,
		       struct gs_buf *idx)
{
	size_t n = r->pending;
	size_t big = 0;
	uint32_t *ord;
	for (size_t i = 0; i < n; i++)
		big += r->ents[i].off >= 0x80000000u;
	int e = gs_buf_reserve(idx, 8 + 1024 + n * 28 + big * 8 + 40);
	if (e || (e = ents_order(r, &ord)))
		return e;
	unsigned char *p = (unsigned char *)idx->data;
	memcpy(p, "\377tOc", 4);
	be32(p + 4, 2);
	size_t k = 0;
	for (unsigned b = 0; b < 256; b++) {
		while (k < n && r->ents[ord[k]].oid.id[0] <= b)
			k++;
		be32(p + 8 + 4 * b, (uint32_t)k);
	}
	unsigned char *ids = p + 8 + 1024, *crcs = ids + 20 * n,
		      *offs = crcs + 4 * n, *large = offs + 4 * n;
	size_t li = 0;
	for (size_t i = 0; i < n; i++) {
		const struct gs_pack_entry *en = &r->ents[ord[i]];
		memcpy(ids + 20 * i, en->oid.id, 20);
		be32(crcs + 4 * i, en->crc);
		uint64_t off = en->off;
		if (off < 0x80000000u) {
			be32(offs + 4 * i, (uint32_t)off);
		} else {
			be32(offs + 4 * i, 0x80000000u | (uint32_t)li);
			be32(large + 8 * li, (uint32_t)(off >> 32));
			be32(large + 8 * li + 4, (uint32_t)off);
			li++;
		}
	}
	free(ord);
	unsigned char *tail = large + 8 * li;
	memcpy(tail, packsum, 20);
	struct gs_sha1 c;
	gs_sha1_init(&c);
	gs_sha1_update(&c, p, (size_t)(tail + 20 - p));
	gs_sha1_final(&c, tail + 20);
	idx->len = (size_t)(tail + 40 - p);
	return 0;
}

static void sum_hex(const unsigned char *sum, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 20; i++) {
		hex[2 * i] = digits[sum[i] >> 4];
		hex[2 * i + 1] = digits[sum[i] & 15];
	}
	hex[40] = '\0';
}

int gs_repo_index_write(struct gs_repo *r, const unsigned char *sum)
{
	struct gs_buf *idx = &r->idx;
	char hex[41], index[4200], tmp[4200];
	int e;
	sum_hex(sum, hex);
	snprintf(index, sizeof(index), "%s/pack-%s.idx", r->pack_dir, hex);
	snprintf(tmp, sizeof(tmp), "%s/tmp_idx_%s", r->pack_dir, hex);
	idx->len = 0;
	if ((e = build_index(r, sum, idx)) ||
	    (e = write_file(tmp, idx->data, idx->len, NULL, 0, r->fsync)))
		goto out;
	if (rename(tmp, index)) {
		e = -errno;
		unlink(tmp);
		goto out;
	}
	if (r->fsync) {
		int fd = open(r->pack_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	r->pending = 0;
	memset(r->set, 0, r->setcap * sizeof(*r->set));
	if (r->seen)
		memset(r->seen, 0, SEEN_BITS / 8);
	/* a burst (recovery, a big transaction) must not pin its peak */
	if (r->cap > 65536) {
		free(r->ents);
		free(r->set);
		free(r->seen);
		r->ents = NULL;
		r->set = NULL;
		r->seen = NULL;
		r->cap = r->setcap = 0;
	}
out:
	if (r->cap > 65536 || !r->ents) /* a burst's: not kept */
		gs_buf_free(idx);
	return e;
}

int gs_repo_set_main(struct gs_repo *r, const git_oid *commit)
{
	git_reference *ref;
	int e = git_reference_create(&ref, r->repo, MAIN_REF, commit, 1, NULL);
	if (e)
		return gs_git_error(e, NULL, 0);
	git_reference_free(ref);
	return 0;
}

int gs_repo_get_main(struct gs_repo *r, git_oid *commit, bool *exists)
{
	int e = git_reference_name_to_id(commit, r->repo, MAIN_REF);
	*exists = e == 0;
	if (e == GIT_ENOTFOUND)
		return 0;
	return e ? gs_git_error(e, NULL, 0) : 0;
}

int gs_repo_tag(struct gs_repo *r, const char *name, const git_oid *commit)
{
	char full[256];
	git_reference *ref;
	snprintf(full, sizeof(full), "refs/tags/%s", name);
	int e = git_reference_create(&ref, r->repo, full, commit, 1, NULL);
	if (e)
		return gs_git_error(e, NULL, 0);
	git_reference_free(ref);
	return 0;
}
