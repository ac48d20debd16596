/*
 * checkpoint.c - the checkpoint pack (checkpoint.h), on its own thread.
 */
#include "checkpoint.h"
#include "ckpt_stale.h"
#include "repo.h"

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

/* Rewritten once the history grew by this many times its size. */
#define GROWTH_FACTOR 8u
/* Objects between two looks at the stop flag. */
#define STOP_CHECK 256u
/*
 * A new checkpoint is written once more than max(min_stale, 1/STALE_SHARE
 * of the checkpoint's objects) of the head's objects lie outside it.
 * Recovery reads the pack in order from one file, and each object outside
 * it through libgit2 (a lookup across the newer packs, a random read from
 * a cold cache): a sixteenth keeps those a small share of the load at any
 * tree size, and GS_CHECKPOINT_STALE_DEFAULT keeps a few hundred hot keys
 * (their blobs and the trees above them) from rewriting a 65k-object
 * tree that did not change.
 */
#define STALE_SHARE 16u
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

struct walk {
	struct gs_checkpoint *c;
	git_odb *odb;      /* reads */
	struct gs_repo *w; /* the pack being built */
	unsigned tick;
};

/* Whether a stop was asked for; arg is the struct gs_checkpoint (a
 * gs_ckpt_stop_fn, for the staleness count too). */
static bool stopping(void *arg)
{
	struct gs_checkpoint *c = arg;
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
	e = gs_repo_write(k->w, git_odb_object_type(o), git_odb_object_data(o),
			  git_odb_object_size(o), &got);
	if (!e && !git_oid_equal(&got, id))
		e = -EIO; /* a corrupt object: no checkpoint rather than a bad one */
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
			const git_oid *cid;
			bool is_tree;
			if ((e = gs_tree_entry_next(&p, end, &cid, &is_tree)))
				break;
			if (is_tree != (pass == 1) ||
			    gs_repo_obj_find(k->w, cid) >= 0)
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

static int build(struct gs_checkpoint *c, const git_oid *commit,
		 uint64_t *size)
{
	struct gs_repo w;
	struct walk k = { .c = c, .w = &w };
	struct names_ctx n = { .c = c };
	git_oid tree;
	int e = gs_repo_open(&w, c->dir, c->fsync);
	if (e)
		return e;
	if (!(e = gs_checkpoint_odb_open(c->dir, &k.odb))) {
		if (!(e = commit_tree(k.odb, commit, &tree)))
			e = walk_tree(&k, &tree);
		git_odb_free(k.odb);
	}
	n.nold = gs_checkpoint_names(c->dir, n.old);
	*size = gs_repo_pack_bytes(&w);
	if (!e)
		e = gs_repo_dump_named(&w, before_dump, &n);
	gs_repo_close(&w);
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

/*
 * Whether the tree of commit moved far enough from the checkpoint pack
 * for a new one: 1 yes (also without a usable checkpoint pack), 0 no, or
 * an error. *stale: objects of the tree outside the pack, counted up to
 * the limit and one past it.
 */
static int worth_rewriting(struct gs_checkpoint *c, const git_oid *commit,
			   uint64_t *stale)
{
	struct gs_ckpt_read r;
	char path[4300];
	git_odb *odb;
	git_oid tree;
	*stale = 0;
	if (gs_ckpt_read_open_index(&r, c->dir))
		return 1;
	uint64_t limit = r.n / STALE_SHARE;
	if (limit < c->min_stale)
		limit = c->min_stale;
	/* the trees it descends into are not in the checkpoint pack anyway */
	snprintf(path, sizeof(path), "%s/objects", c->dir);
	int e = git_odb_open(&odb, path);
	if (e) {
		gs_ckpt_read_close(&r);
		return gs_git_error(e, NULL, 0);
	}
	e = commit_tree(odb, commit, &tree);
	if (!e)
		e = gs_ckpt_stale_count(&r, odb, &tree, limit, stopping, c,
					stale);
	git_odb_free(odb);
	gs_ckpt_read_close(&r);
	return e ? e : *stale > limit;
}

static bool due(const struct gs_checkpoint *c)
{
	uint64_t need = c->last_size * GROWTH_FACTOR;
	return c->want && c->since >= (need > c->min_bytes ? need : c->min_bytes);
}

static void *checkpoint_main(void *arg)
{
	struct gs_checkpoint *c = arg;
	/* idle priority: the loop and the writer come first */
	setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
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
		uint64_t size = 0, stale = 0;
		/* a failed count (not a stop) leaves the decision to build() */
		int e = worth_rewriting(c, &commit, &stale);
		if (e == -ECANCELED) {
			pthread_mutex_lock(&c->lock);
			break;
		}
		bool skip = e == 0;
		e = skip ? 0 : build(c, &commit, &size);
		pthread_mutex_lock(&c->lock);
		c->err = e;
		c->stale = stale;
		if (skip)
			c->skipped++;
		else if (!e) {
			c->last_size = size;
			c->done++;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int gs_checkpoint_start(struct gs_checkpoint *c, const char *dir, bool fsync,
			uint64_t min_bytes, uint64_t min_stale,
			const git_oid *head)
{
	memset(c, 0, sizeof(*c));
	if (!(c->dir = strdup(dir)))
		return -ENOMEM;
	c->fsync = fsync;
	c->min_bytes = min_bytes ? min_bytes : GS_CHECKPOINT_BYTES_DEFAULT;
	c->min_stale = min_stale ? min_stale : GS_CHECKPOINT_STALE_DEFAULT;
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
	pthread_setname_np(c->thread, "xsd-checkpoint");
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
