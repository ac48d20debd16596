/*
 * checkpoint.c - the checkpoint pack (checkpoint.h), on its own thread.
 */
#include "checkpoint.h"
#include "repo.h"
#include "sha1.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2/sys/odb_backend.h>
#include <zlib.h>

/* Rewritten once the history grew by this many times its size. */
#define GROWTH_FACTOR 8u
/* Objects between two looks at the stop flag. */
#define STOP_CHECK 256u
/* Searched before the ordinary packs (libgit2's own use 1 and 2). */
#define CHECKPOINT_PRIORITY 10

int gs_checkpoint_names(const char *dir, char names[2][64])
{
	char path[4200], buf[160];
	snprintf(path, sizeof(path), "%s/checkpoint", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	int k = 0;
	for (char *p = buf, *nl; k < 2 && (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		/* pack-<40 hex>: anything else is ignored */
		if (strlen(p) != 45 || strncmp(p, "pack-", 5) ||
		    strspn(p + 5, "0123456789abcdef") != 40)
			break;
		memcpy(names[k++], p, 46);
	}
	return k;
}

int gs_checkpoint_odb_open(const char *dir, git_odb **out)
{
	char path[4300], names[2][64];
	int e = git_odb_open(out, (snprintf(path, sizeof(path), "%s/objects",
					    dir), path));
	if (e)
		return gs_git_error(e, NULL, 0);
	if (gs_checkpoint_names(dir, names) < 1)
		return 0;
	/* the whole file is wanted: read it ahead, in order, meanwhile */
	static const char *const ext[] = { "idx", "pack" };
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/objects/pack/%s.%s", dir,
			 names[0], ext[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return 0; /* gone (git gc): the ordinary packs serve */
		posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/objects/pack/%s.idx", dir, names[0]);
	git_odb_backend *b;
	if (git_odb_backend_one_pack(&b, path))
		return 0;
	if (git_odb_add_backend(*out, b, CHECKPOINT_PRIORITY))
		b->free(b);
	return 0;
}

/* Output buffer of the pack being written. */
#define OUTBUF ((size_t)256 << 10)
/* Largest stored (uncompressed) deflate block. */
#define STORED_MAX 65535u

/*
 * The pack being written, streamed to a temporary file: only the entry
 * list (id, offset, CRC: about 40 bytes an object) stays in memory, not
 * the pack (tens of MiB for 100k nodes, which would be the daemon's RSS
 * peak while a checkpoint runs).
 */
struct out {
	struct gs_repo idx;  /* only its entry list: gs_repo_obj_*() */
	int fd;
	char tmp[4300];
	unsigned char *buf;
	size_t blen;
	uint64_t off;        /* bytes written so far */
	uint32_t crc;        /* of the entry being written */
};

struct walk {
	struct gs_checkpoint *c;
	git_odb *odb;      /* reads */
	struct out *w;     /* the pack being built */
	unsigned tick;
};

static int flush_out(struct out *o)
{
	size_t done = 0;
	while (done < o->blen) {
		ssize_t n = write(o->fd, o->buf + done, o->blen - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ENOSPC;
		done += (size_t)n;
	}
	o->blen = 0;
	return 0;
}

static int emit(struct out *o, const void *data, size_t len)
{
	const unsigned char *q = data;
	o->crc = (uint32_t)crc32(o->crc, q, (uInt)len);
	o->off += len;
	while (len) {
		int e;
		if (o->blen == OUTBUF && (e = flush_out(o)))
			return e;
		size_t k = OUTBUF - o->blen < len ? OUTBUF - o->blen : len;
		memcpy(o->buf + o->blen, q, k);
		o->blen += k, q += k, len -= k;
	}
	return 0;
}

/*
 * One whole object, as zlib stored blocks (no compression: recovery
 * inflates it at memory speed, and the pack's size is what a cold start
 * reads, about the same either way for small values and trees of ids).
 */
static int emit_object(struct out *o, const git_oid *id, git_object_t type,
		       const unsigned char *data, size_t len)
{
	unsigned char h[16];
	size_t n = 0, sz = len;
	uint64_t at = o->off;
	int e;
	h[n] = (unsigned char)((unsigned)type << 4 | (sz & 0x0f));
	for (sz >>= 4; sz; sz >>= 7) {
		h[n++] |= 0x80;
		h[n] = sz & 0x7f;
	}
	n++;
	h[n++] = 0x78; /* zlib header: deflate, 32K window, no dictionary */
	h[n++] = 0x01;
	o->crc = 0;
	if ((e = emit(o, h, n)))
		return e;
	size_t done = 0;
	do {
		size_t k = len - done > STORED_MAX ? STORED_MAX : len - done;
		unsigned char b[5] = { done + k == len, (unsigned char)k,
				       (unsigned char)(k >> 8),
				       (unsigned char)~k,
				       (unsigned char)(~k >> 8) };
		if ((e = emit(o, b, 5)) || (e = emit(o, data + done, k)))
			return e;
		done += k;
	} while (done < len);
	uint32_t a = (uint32_t)adler32(1, data, (uInt)len);
	unsigned char t[4] = { a >> 24, a >> 16, a >> 8, a };
	if ((e = emit(o, t, 4)))
		return e;
	return gs_repo_obj_add(&o->idx, id, at, o->crc);
}

/* Git's id of an object (its header, then its bytes). */
static void object_id(git_object_t type, const void *data, size_t len,
		      git_oid *out)
{
	char h[48];
	int n = snprintf(h, sizeof(h), "%s %zu", git_object_type2string(type),
			 len);
	struct gs_sha1 c;
	gs_sha1_init(&c);
	gs_sha1_update(&c, h, (size_t)n + 1);
	gs_sha1_update(&c, data, len);
	gs_sha1_final(&c, out->id);
}

static bool stopping(struct gs_checkpoint *c)
{
	pthread_mutex_lock(&c->lock);
	bool s = c->stop;
	pthread_mutex_unlock(&c->lock);
	return s;
}

/* Copies id (of type) into the pack unless it is there already. */
static int copy_obj(struct walk *k, const git_oid *id, git_odb_object **keep)
{
	git_odb_object *o;
	git_oid got;
	if (++k->tick % STOP_CHECK == 0 && stopping(k->c))
		return -ECANCELED;
	int e = git_odb_read(&o, k->odb, id);
	if (e)
		return gs_git_error(e, NULL, 0);
	git_object_t type = git_odb_object_type(o);
	const void *d = git_odb_object_data(o);
	size_t len = git_odb_object_size(o);
	object_id(type, d, len, &got);
	/* a corrupt object: no checkpoint rather than a bad one */
	e = git_oid_equal(&got, id) ? emit_object(k->w, id, type, d, len)
				    : -EIO;
	if (!e && keep)
		*keep = o;
	else
		git_odb_object_free(o);
	return e;
}

/* A tree, then its blobs, then its subtrees: the order recovery reads. */
static int walk_tree(struct walk *k, const git_oid *id)
{
	git_odb_object *o;
	int e = copy_obj(k, id, &o);
	if (e)
		return e;
	const char *d = git_odb_object_data(o), *end = d + git_odb_object_size(o);
	for (int pass = 0; pass < 2 && !e; pass++) {
		for (const char *p = d; p < end && !e;) {
			const char *sp = memchr(p, ' ', (size_t)(end - p));
			const char *nul = sp ? memchr(sp, '\0', (size_t)(end - sp))
					     : NULL;
			if (!nul || end - nul < 1 + GIT_OID_RAWSZ) {
				e = -EIO;
				break;
			}
			const git_oid *cid = (const git_oid *)(nul + 1);
			bool is_tree = sp - p == 5 && !memcmp(p, "40000", 5);
			p = nul + 1 + GIT_OID_RAWSZ;
			if (is_tree != (pass == 1) ||
			    gs_repo_obj_find(&k->w->idx, cid) >= 0)
				continue; /* other pass, or written already */
			e = is_tree ? walk_tree(k, cid) : copy_obj(k, cid, NULL);
		}
	}
	git_odb_object_free(o);
	return e;
}

struct names_ctx {
	struct gs_checkpoint *c;
	char old[2][64];
	int nold;
	char name[64];
};

static int write_list(const char *dir, const char *a, const char *b)
{
	char path[4200], tmp[4300];
	snprintf(path, sizeof(path), "%s/checkpoint", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "%s\n", a);
	if (b)
		fprintf(f, "%s\n", b);
	if (fclose(f) || rename(tmp, path)) {
		int e = -errno;
		unlink(tmp);
		return e;
	}
	return 0;
}

/* Named before the pack appears, so that no merge ever takes it. */
static int before_dump(void *ctx, const char *name)
{
	struct names_ctx *n = ctx;
	snprintf(n->name, sizeof(n->name), "%s", name);
	return write_list(n->c->dir, name, n->nold ? n->old[0] : NULL);
}

static void remove_pack(const char *dir, const char *name)
{
	char path[4300];
	/* index first: Git never sees an index without its pack */
	snprintf(path, sizeof(path), "%s/objects/pack/%s.idx", dir, name);
	unlink(path);
	snprintf(path, sizeof(path), "%s/objects/pack/%s.pack", dir, name);
	unlink(path);
}

/* The tree id of commit (raw: "tree <hex>" is its first line). */
static int commit_tree(git_odb *odb, const git_oid *commit, git_oid *tree)
{
	git_odb_object *o;
	int e = git_odb_read(&o, odb, commit);
	if (e)
		return gs_git_error(e, NULL, 0);
	const char *d = git_odb_object_data(o);
	e = git_odb_object_size(o) >= 45 && !memcmp(d, "tree ", 5) &&
	    !git_oid_fromstrn(tree, d + 5, GIT_OID_HEXSZ) ? 0 : -EIO;
	git_odb_object_free(o);
	return e;
}

static int out_open(struct out *o, const char *dir, bool fsync)
{
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	if (asprintf(&o->idx.pack_dir, "%s/objects/pack", dir) < 0) {
		o->idx.pack_dir = NULL;
		return -ENOMEM;
	}
	o->idx.fsync = fsync;
	snprintf(o->tmp, sizeof(o->tmp), "%s/tmp_pack_ckpt_XXXXXX",
		 o->idx.pack_dir);
	if (!(o->buf = malloc(OUTBUF)) ||
	    (o->fd = mkostemp(o->tmp, O_CLOEXEC)) < 0) {
		o->tmp[0] = '\0';
		return o->buf ? -errno : -ENOMEM;
	}
	/* the count is filled in at the end */
	static const unsigned char h[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2 };
	return emit(o, h, sizeof(h));
}

static void out_close(struct out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	if (o->tmp[0])
		unlink(o->tmp);
	free(o->buf);
	free(o->idx.ents);
	free(o->idx.set);
	free(o->idx.pack_dir);
}

/*
 * The object count into the header, then the checksum of the whole file
 * (read back: the header changed after the bytes went out).
 */
static int out_finish(struct out *o, unsigned char sum[20])
{
	int e = flush_out(o);
	uint32_t n = (uint32_t)o->idx.pending;
	unsigned char cnt[4] = { n >> 24, n >> 16, n >> 8, n };
	if (e)
		return e;
	if (pwrite(o->fd, cnt, 4, 8) != 4)
		return -EIO;
	struct gs_sha1 c;
	gs_sha1_init(&c);
	for (uint64_t at = 0; at < o->off;) {
		ssize_t r = pread(o->fd, o->buf, OUTBUF, (off_t)at);
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		gs_sha1_update(&c, o->buf, (size_t)r);
		at += (uint64_t)r;
	}
	gs_sha1_final(&c, sum);
	if (pwrite(o->fd, sum, 20, (off_t)o->off) != 20)
		return -EIO;
	if (o->idx.fsync && fsync(o->fd))
		return -errno;
	return 0;
}

static int build(struct gs_checkpoint *c, const git_oid *commit,
		 uint64_t *size)
{
	struct out w;
	struct walk k = { .c = c, .w = &w };
	struct names_ctx n = { .c = c };
	git_oid tree;
	unsigned char sum[20];
	char path[4300];
	int e = out_open(&w, c->dir, c->fsync);
	if (!e && !(e = gs_checkpoint_odb_open(c->dir, &k.odb))) {
		if (!(e = commit_tree(k.odb, commit, &tree)))
			e = walk_tree(&k, &tree);
		git_odb_free(k.odb);
	}
	if (!e)
		e = out_finish(&w, sum);
	*size = w.off + 20;
	n.nold = gs_checkpoint_names(c->dir, n.old);
	if (!e) {
		char name[64] = "pack-";
		for (int i = 0; i < 20; i++)
			snprintf(name + 5 + 2 * i, 3, "%02x", sum[i]);
		/* named before the pack appears, so that no merge takes it */
		e = before_dump(&n, name);
		snprintf(path, sizeof(path), "%s/%s.pack", w.idx.pack_dir, name);
		if (!e && rename(w.tmp, path))
			e = -errno;
		if (!e) {
			w.tmp[0] = '\0';
			if ((e = gs_repo_index_write(&w.idx, sum)))
				unlink(path);
		}
	}
	out_close(&w);
	if (e)
		return e;
	for (int i = 0; i < n.nold; i++)
		if (strcmp(n.old[i], n.name))
			remove_pack(c->dir, n.old[i]);
	return write_list(c->dir, n.name, NULL);
}

/* Pack bytes newer than the last checkpoint (all of them without one). */
static uint64_t bytes_since(const char *dir)
{
	char path[4300], names[2][64];
	struct stat st;
	struct timespec t0 = { 0, 0 };
	uint64_t sum = 0;
	if (gs_checkpoint_names(dir, names) > 0) {
		snprintf(path, sizeof(path), "%s/objects/pack/%s.pack", dir,
			 names[0]);
		if (!stat(path, &st))
			t0 = st.st_mtim;
	}
	snprintf(path, sizeof(path), "%s/objects/pack", dir);
	DIR *d = opendir(path);
	struct dirent *de;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".pack"))
			continue;
		snprintf(path, sizeof(path), "%s/objects/pack/%s", dir,
			 de->d_name);
		if (!stat(path, &st) &&
		    (st.st_mtim.tv_sec > t0.tv_sec ||
		     (st.st_mtim.tv_sec == t0.tv_sec &&
		      st.st_mtim.tv_nsec > t0.tv_nsec)))
			sum += (uint64_t)st.st_size;
	}
	closedir(d);
	return sum;
}

static bool due(const struct gs_checkpoint *c)
{
	uint64_t need = c->last_size * GROWTH_FACTOR;
	return c->want && c->since >= (need > c->min_bytes ? need : c->min_bytes);
}

/* A checkpoint cut by kill -9 leaves its temporary file: one per store. */
static void remove_stale(const char *dir)
{
	char path[4300];
	snprintf(path, sizeof(path), "%s/objects/pack", dir);
	DIR *d = opendir(path);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "tmp_pack_ckpt_", 14))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

static void *checkpoint_main(void *arg)
{
	struct gs_checkpoint *c = arg;
	/* idle priority: the loop and the writer come first */
	setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
	remove_stale(c->dir);
	uint64_t since = bytes_since(c->dir);
	pthread_mutex_lock(&c->lock);
	c->since += since;
	c->scanned = true;
	for (;;) {
		while (!c->stop && !due(c))
			pthread_cond_wait(&c->wake, &c->lock);
		if (c->stop)
			break;
		git_oid commit = c->commit;
		c->since = 0;
		c->want = false;
		pthread_mutex_unlock(&c->lock);
		uint64_t size = 0;
		int e = build(c, &commit, &size);
		pthread_mutex_lock(&c->lock);
		c->err = e;
		if (!e) {
			c->last_size = size;
			c->done++;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int gs_checkpoint_start(struct gs_checkpoint *c, const char *dir, bool fsync,
			uint64_t min_bytes, const git_oid *head)
{
	memset(c, 0, sizeof(*c));
	if (!(c->dir = strdup(dir)))
		return -ENOMEM;
	c->fsync = fsync;
	c->min_bytes = min_bytes ? min_bytes : GS_CHECKPOINT_BYTES_DEFAULT;
	if (head) {
		git_oid_cpy(&c->commit, head);
		c->want = true;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	int e = pthread_create(&c->thread, NULL, checkpoint_main, c);
	if (e) {
		free(c->dir);
		c->dir = NULL;
		return -e;
	}
	c->started = true;
	return 0;
}

void gs_checkpoint_stop(struct gs_checkpoint *c)
{
	if (!c->started)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c->dir);
	c->dir = NULL;
	c->started = false;
}

void gs_checkpoint_poke(struct gs_checkpoint *c, const git_oid *commit,
			uint64_t bytes)
{
	if (!c->started)
		return;
	pthread_mutex_lock(&c->lock);
	git_oid_cpy(&c->commit, commit);
	c->want = true;
	c->since += bytes;
	if (c->scanned && due(c))
		pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
}
