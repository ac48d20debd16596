/*
 * recover_load.c - reading the tree at Git's head for recovery.
 *
 * The only start-up cost that grows with the tree: every node is a Git
 * tree plus a .value blob. Objects of the checkpoint pack (checkpoint.h)
 * are read straight from the mapped file (ckpt_read.h), the few written
 * since from an object database (no parsed objects, no writer's mirror:
 * that one loads lazily, when a commit reaches a node). The first wide
 * directory's second half is read by a second thread with its own
 * object database and inflate state, into a buffer that is handed on
 * after the first half, so the order stays parents first, children in
 * creation order. A fanned-out directory (fanout.h) has its children in
 * bucket trees: they are gathered first, at any depth, so that the order
 * and the split see one list of children, as of a flat tree.
 */
#include "ckpt_read.h"
#include "fanout.h"
#include "gitstore_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LOAD 8192u /* longer than any valid path */
#define SPLIT_MIN 64u       /* children worth a second thread */
#define PERMS_MAX 4096u
#define BUCKET_LEVELS 8u  /* deeper buckets: a corrupt tree */

struct perm_ent {
	git_oid id;
	struct xsw_perm *p; /* NULL: a free slot */
	unsigned n;
};

struct child {
	const char *name;
	size_t len;
	git_oid tree;
};

/* A node's children; a fanned-out one's names live in copies of its buckets. */
struct kids {
	struct child *c;
	size_t n, cap;
	char **keep; /* owned: bucket trees the names point into */
	size_t nkeep, capkeep;
	bool fanned;
};

struct task {
	char *path; /* owned */
	git_oid tree;
};

/* An object read: from the checkpoint pack into a buffer, or libgit2's. */
struct obj {
	const char *data;
	size_t len;
	git_odb_object *go;
};

struct walker {
	git_odb *odb;             /* not owned */
	const struct gs_ckpt_read *ck; /* NULL: everything through odb */
	z_stream z;               /* ck's inflate state, this thread's */
	bool z_ok;
	struct gs_buf *bufs;      /* one per tree depth, then the value's */
	size_t nbufs;
	gitstore_node_fn fn;      /* NULL: nodes go into out */
	void *ctx;
	struct gs_buf out;
	struct perm_ent *pc;      /* .perms blobs parsed, by id */
	size_t pccap, pcn;
	git_oid empty, root_perms;
	/* the split: set on the main walker until used */
	struct walker *helper;
	struct task *tasks;
	size_t ntasks;
	pthread_t thread;
	bool started;
	int err;
};

/* The buffer of slot i (trees by depth; values after the deepest). */
static struct gs_buf *buf_at(struct walker *w, size_t i)
{
	if (i >= w->nbufs) {
		size_t n = i + 16;
		struct gs_buf *b = realloc(w->bufs, n * sizeof(*b));
		if (!b)
			return NULL;
		memset(b + w->nbufs, 0, (n - w->nbufs) * sizeof(*b));
		w->bufs = b;
		w->nbufs = n;
	}
	return &w->bufs[i];
}

/*
 * Object id, valid until obj_free() or the next read into the same slot.
 * The checkpoint pack first; anything it lacks or cannot give through
 * libgit2, which searches every pack.
 */
static int read_obj(struct walker *w, const git_oid *id, size_t slot,
		    struct obj *o)
{
	o->go = NULL;
	if (w->ck && w->z_ok) {
		struct gs_buf *b = buf_at(w, slot);
		int type;
		if (b && !gs_ckpt_read_obj(w->ck, &w->z, id, b, &type)) {
			o->data = b->data;
			o->len = b->len;
			return 0;
		}
	}
	int e = git_odb_read(&o->go, w->odb, id);
	if (e)
		return gs_git_error(e, NULL, 0);
	o->data = git_odb_object_data(o->go);
	o->len = git_odb_object_size(o->go);
	return 0;
}

static void obj_free(struct obj *o)
{
	git_odb_object_free(o->go);
	o->go = NULL;
}

static struct perm_ent *pc_slot(struct perm_ent *pc, size_t cap,
				const git_oid *id)
{
	size_t i = ((size_t)id->id[0] << 16 | (size_t)id->id[1] << 8 |
		    id->id[2]) & (cap - 1);
	while (pc[i].p && !git_oid_equal(&pc[i].id, id))
		i = (i + 1) & (cap - 1);
	return &pc[i];
}

/* The parsed perms of blob id (cached: a few blobs serve most nodes). */
static int perms_get(struct walker *w, const git_oid *id, size_t slot,
		     const struct xsw_perm **p, unsigned *n)
{
	if (w->pccap) {
		struct perm_ent *s = pc_slot(w->pc, w->pccap, id);
		if (s->p) {
			*p = s->p;
			*n = s->n;
			return 0;
		}
	}
	if ((w->pcn + 1) * 2 > w->pccap) {
		size_t cap = w->pccap ? 2 * w->pccap : 64;
		struct perm_ent *pc = calloc(cap, sizeof(*pc));
		if (!pc)
			return -ENOMEM;
		for (size_t i = 0; i < w->pccap; i++)
			if (w->pc[i].p)
				*pc_slot(pc, cap, &w->pc[i].id) = w->pc[i];
		free(w->pc);
		w->pc = pc;
		w->pccap = cap;
	}
	struct obj o;
	int e = read_obj(w, id, slot, &o);
	if (e)
		return e;
	struct xsw_perm tmp[PERMS_MAX];
	int cnt = gs_perms_parse(o.data, o.len, tmp, PERMS_MAX);
	obj_free(&o);
	if (cnt <= 0)
		return -EIO;
	struct perm_ent *s = pc_slot(w->pc, w->pccap, id);
	if (!(s->p = malloc((size_t)cnt * sizeof(*tmp))))
		return -ENOMEM;
	memcpy(s->p, tmp, (size_t)cnt * sizeof(*tmp));
	git_oid_cpy(&s->id, id);
	s->n = (unsigned)cnt;
	w->pcn++;
	*p = s->p;
	*n = s->n;
	return 0;
}

/* A node for the helper's buffer: path NUL, u32 len, value, u32 n, perms. */
static int put_node(struct gs_buf *b, const char *path, size_t plen,
		    const void *v, uint32_t len, const struct xsw_perm *p,
		    unsigned n)
{
	size_t need = plen + 1 + 8 + len + n * sizeof(*p);
	int e = gs_buf_reserve(b, need);
	if (e)
		return e;
	char *d = b->data + b->len;
	memcpy(d, path, plen + 1);
	d += plen + 1;
	memcpy(d, &len, 4);
	memcpy(d + 4, v, len);
	d += 4 + len;
	uint32_t n32 = n;
	memcpy(d, &n32, 4);
	memcpy(d + 4, p, n * sizeof(*p));
	b->len += need;
	return 0;
}

static int replay_buf(const struct gs_buf *b, gitstore_node_fn fn, void *ctx)
{
	size_t off = 0;
	while (off < b->len) {
		const char *path = b->data + off;
		off += strlen(path) + 1;
		uint32_t len, n;
		memcpy(&len, b->data + off, 4);
		const char *v = b->data + off + 4;
		off += 4 + len;
		memcpy(&n, b->data + off, 4);
		struct xsw_perm p[PERMS_MAX];
		memcpy(p, b->data + off + 4, n * sizeof(*p));
		off += 4 + n * sizeof(*p);
		int e = fn(ctx, path, v, len, p, n);
		if (e)
			return e;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const struct child *x = a, *y = b;
	size_t l = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->name, y->name, l);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Git's order of tree entries (fanout.h gs_fan_name_cmp()). */
static int by_git_order(const void *a, const void *b)
{
	const struct child *x = a, *y = b;
	return gs_fan_name_cmp(x->name, x->len, y->name, y->len);
}

/* The next entry of a raw tree at *d: 0, 1 past the end, or -EIO. */
static int tree_next(const char **d, const char *end, const char **name,
		     size_t *len, const git_oid **id, bool *is_tree)
{
	if (*d >= end)
		return 1;
	const char *sp = memchr(*d, ' ', (size_t)(end - *d));
	const char *nm = sp ? sp + 1 : NULL;
	const char *nul = nm ? memchr(nm, '\0', (size_t)(end - nm)) : NULL;
	if (!nul || end - nul < 1 + GIT_OID_RAWSZ)
		return -EIO;
	*is_tree = sp - *d == 5 && !memcmp(*d, "40000", 5);
	*name = nm;
	*len = (size_t)(nul - nm);
	*id = (const git_oid *)(nul + 1);
	*d = nul + 1 + GIT_OID_RAWSZ;
	return 0;
}

static int kids_add(struct kids *k, const char *name, size_t len,
		    const git_oid *id)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 16;
		struct child *nc = realloc(k->c, cap * sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		k->c = nc;
		k->cap = cap;
	}
	k->c[k->n++] = (struct child){ name, len, *id };
	return 0;
}

static void kids_free(struct kids *k)
{
	free(k->c);
	for (size_t i = 0; i < k->nkeep; i++)
		free(k->keep[i]);
	free(k->keep);
}

/*
 * Adds the children of bucket tree id, and of the buckets in it, to k.
 * The bucket is copied out of slot (read again below) and kept in k,
 * since the children's names point into it.
 */
static int bucket_read(struct walker *w, const git_oid *id, size_t slot,
		       struct kids *k, unsigned level)
{
	struct obj o;
	if (level >= BUCKET_LEVELS)
		return -EIO;
	if (k->nkeep == k->capkeep) {
		size_t cap = k->capkeep ? 2 * k->capkeep : 16;
		char **nk = realloc(k->keep, cap * sizeof(*nk));
		if (!nk)
			return -ENOMEM;
		k->keep = nk;
		k->capkeep = cap;
	}
	int e = read_obj(w, id, slot, &o);
	if (e)
		return e;
	char *t = malloc(o.len ? o.len : 1);
	if (t)
		memcpy(t, o.data, o.len);
	size_t len = o.len;
	obj_free(&o);
	if (!t)
		return -ENOMEM;
	k->keep[k->nkeep++] = t;
	k->fanned = true;
	const char *d = t, *end = t + len, *name;
	const git_oid *cid;
	size_t nlen;
	bool is_tree;
	while (!(e = tree_next(&d, end, &name, &nlen, &cid, &is_tree))) {
		if (!is_tree)
			continue; /* a bucket holds no blobs */
		if (name[0] != '.')
			e = kids_add(k, name, nlen, cid);
		else if (gs_fan_is_bucket(name))
			e = bucket_read(w, cid, slot, k, level + 1);
		if (e)
			return e;
	}
	return e < 0 ? e : 0;
}

/*
 * Puts the children in the order an .order blob lists (names listed
 * twice count once; unlisted ones follow in Git's order), as the
 * writer's mirror does.
 */
static int apply_order(struct child *v, size_t n, const char *s, size_t len)
{
	struct child *sorted = malloc(n * sizeof(*v)), *out;
	unsigned char *used = calloc(n, 1);
	out = malloc(n * sizeof(*v));
	if (!sorted || !used || !out) {
		free(sorted);
		free(used);
		free(out);
		return -ENOMEM;
	}
	memcpy(sorted, v, n * sizeof(*v));
	qsort(sorted, n, sizeof(*v), by_name);
	size_t k = 0, i = 0;
	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (s + i)) : len - i;
		struct child key = { s + i, l, { { 0 } } };
		struct child *c = bsearch(&key, sorted, n, sizeof(*v), by_name);
		if (c && !used[c - sorted]) {
			used[c - sorted] = 1;
			out[k++] = *c;
		}
		i += l + 1;
	}
	for (size_t j = 0; j < n; j++) {
		struct child *c = bsearch(&v[j], sorted, n, sizeof(*v), by_name);
		if (!used[c - sorted])
			out[k++] = v[j];
	}
	memcpy(v, out, n * sizeof(*v));
	free(sorted);
	free(used);
	free(out);
	return 0;
}

static int walk(struct walker *w, char *path, size_t plen, size_t depth,
		const git_oid *tree);
static void *helper_main(void *arg);

/* Hands the children from first on to the helper thread. */
static int split(struct walker *h, const char *path, size_t plen,
		 const struct child *c, size_t first, size_t n)
{
	if (!(h->tasks = calloc(n - first, sizeof(*h->tasks))))
		return -ENOMEM;
	for (size_t i = first; i < n; i++) {
		struct task *t = &h->tasks[h->ntasks];
		if (!(t->path = malloc(plen + c[i].len + 2)))
			return -ENOMEM;
		memcpy(t->path, path, plen);
		t->path[plen] = '/';
		memcpy(t->path + plen + 1, c[i].name, c[i].len);
		t->path[plen + 1 + c[i].len] = '\0';
		git_oid_cpy(&t->tree, &c[i].tree);
		h->ntasks++;
	}
	int e = pthread_create(&h->thread, NULL, helper_main, h);
	if (e)
		return -e;
	h->started = true;
	return 0;
}

/* Slots of read_obj(): the tree of each depth, and one for its blobs. */
#define TREE_SLOT(depth) (2 * (depth))
#define BLOB_SLOT(depth) (2 * (depth) + 1)

static int walk(struct walker *w, char *path, size_t plen, size_t depth,
		const git_oid *tree)
{
	struct obj o;
	git_oid value, perms, order;
	bool has_order = false;
	struct kids k = { 0 };
	struct child *c = NULL;
	size_t n = 0;
	int e = read_obj(w, tree, TREE_SLOT(depth), &o);
	if (e)
		return e;
	git_oid_cpy(&value, &w->empty);
	git_oid_cpy(&perms, &w->root_perms); /* no .perms: as root */
	const char *d = o.data, *end = d + o.len, *name;
	const git_oid *id;
	size_t nlen;
	bool is_tree;
	while (!(e = tree_next(&d, end, &name, &nlen, &id, &is_tree))) {
		if (name[0] != '.') {
			if (is_tree && (e = kids_add(&k, name, nlen, id)))
				goto out;
		} else if (!strcmp(name, ".value")) {
			git_oid_cpy(&value, id);
		} else if (!strcmp(name, ".perms")) {
			git_oid_cpy(&perms, id);
		} else if (!strcmp(name, ".order")) {
			git_oid_cpy(&order, id);
			has_order = true;
		} else if (is_tree && gs_fan_is_bucket(name)) {
			/* the blob slot: free until the perms are read */
			if ((e = bucket_read(w, id, BLOB_SLOT(depth), &k, 0)))
				goto out;
		}
	}
	if (e < 0)
		goto out;
	e = 0;
	c = k.c;
	n = k.n;
	/* buckets come in hash order: Git's order, as a flat tree has it */
	if (k.fanned)
		qsort(c, n, sizeof(*c), by_git_order);
	/*
	 * a name in the directory's tree and in a bucket too (a tree the
	 * writer never makes): read twice, the .order would place it once
	 * and leave a child unset
	 */
	for (size_t i = 1; k.fanned && i < n; i++)
		if (!by_git_order(&c[i - 1], &c[i])) {
			e = -EIO;
			goto out;
		}
	const struct xsw_perm *pp;
	unsigned npp;
	if ((e = perms_get(w, &perms, BLOB_SLOT(depth), &pp, &npp)))
		goto out;
	const char *shown = plen ? path : "/";
	if (git_oid_equal(&value, &w->empty)) {
		e = w->fn ? w->fn(w->ctx, shown, "", 0, pp, npp)
			  : put_node(&w->out, shown, strlen(shown), "", 0, pp,
				     npp);
	} else {
		struct obj vo;
		if ((e = read_obj(w, &value, BLOB_SLOT(depth), &vo)))
			goto out;
		uint32_t len = (uint32_t)vo.len;
		e = w->fn ? w->fn(w->ctx, shown, vo.data, len, pp, npp)
			  : put_node(&w->out, shown, strlen(shown), vo.data,
				     len, pp, npp);
		obj_free(&vo);
	}
	if (e)
		goto out;
	if (has_order) {
		struct obj oo;
		if ((e = read_obj(w, &order, BLOB_SLOT(depth), &oo)))
			goto out;
		e = apply_order(c, n, oo.data, oo.len);
		obj_free(&oo);
		if (e)
			goto out;
	}
	size_t mine = n;
	struct walker *h = NULL;
	if (w->helper && n >= SPLIT_MIN) { /* once: two threads */
		h = w->helper;
		w->helper = NULL;
		mine = n / 2;
		if ((e = split(h, path, plen, c, mine, n)))
			goto out;
	}
	for (size_t i = 0; i < mine && !e; i++) {
		if (plen + 1 + c[i].len >= PATH_MAX_LOAD) {
			e = -ENAMETOOLONG;
			break;
		}
		path[plen] = '/';
		memcpy(path + plen + 1, c[i].name, c[i].len);
		path[plen + 1 + c[i].len] = '\0';
		e = walk(w, path, plen + 1 + c[i].len, depth + 1, &c[i].tree);
		path[plen] = '\0';
	}
	if (h) {
		/* the second half, read meanwhile: after the first, in order */
		pthread_join(h->thread, NULL);
		h->started = false;
		if (!e)
			e = h->err;
		if (!e)
			e = replay_buf(&h->out, w->fn, w->ctx);
	}
out:
	kids_free(&k);
	obj_free(&o);
	return e;
}

static void *helper_main(void *arg)
{
	struct walker *h = arg;
	char *path = malloc(PATH_MAX_LOAD);
	int e = path ? 0 : -ENOMEM;
	for (size_t i = 0; i < h->ntasks && !e; i++) {
		size_t l = strlen(h->tasks[i].path);
		if (l >= PATH_MAX_LOAD) {
			e = -ENAMETOOLONG;
			break;
		}
		memcpy(path, h->tasks[i].path, l + 1);
		e = walk(h, path, l, 0, &h->tasks[i].tree);
	}
	free(path);
	h->err = e;
	return NULL;
}

static void walker_init_ck(struct walker *w, const struct gs_ckpt_read *ck)
{
	if (!ck)
		return;
	w->ck = ck;
	w->z_ok = inflateInit(&w->z) == Z_OK;
}

static void walker_fini(struct walker *w)
{
	if (w->z_ok)
		inflateEnd(&w->z);
	for (size_t i = 0; i < w->nbufs; i++)
		gs_buf_free(&w->bufs[i]);
	free(w->bufs);
	for (size_t i = 0; i < w->pccap; i++)
		free(w->pc[i].p);
	free(w->pc);
	for (size_t i = 0; i < w->ntasks; i++)
		free(w->tasks[i].path);
	free(w->tasks);
	gs_buf_free(&w->out);
}

int gs_recover_load(struct gitstore *gs, const git_oid *tree,
		    gitstore_node_fn fn, void *ctx)
{
	static const struct xsw_perm n0 = { 0, XSW_PERM_NONE };
	struct walker w = { .fn = fn, .ctx = ctx };
	struct walker h = { .fn = NULL };
	struct gs_ckpt_read ck;
	char *path = malloc(PATH_MAX_LOAD);
	int e = path ? 0 : -ENOMEM;
	/* without a usable checkpoint pack: everything through libgit2 */
	bool raw = !gs->opts.load_no_raw &&
		   !gs_ckpt_read_open(&ck, gs->repo.dir);
	walker_init_ck(&w, raw ? &ck : NULL);
	/* the checkpoint pack first: most of the tree, in one file, in order */
	if (!e)
		e = gs_checkpoint_odb_open(gs->repo.dir, &w.odb);
	if (!e && (e = git_odb_hash(&w.empty, "", 0, GIT_OBJECT_BLOB)))
		e = gs_git_error(e, NULL, 0);
	char n0text[32];
	size_t n0len = gs_perms_format(&n0, 1, n0text);
	if (!e && (e = git_odb_hash(&w.root_perms, n0text, n0len,
				    GIT_OBJECT_BLOB)))
		e = gs_git_error(e, NULL, 0);
	/* a second object database: the threads share no pack lock */
	if (!e && !gs_checkpoint_odb_open(gs->repo.dir, &h.odb)) {
		git_oid_cpy(&h.empty, &w.empty);
		git_oid_cpy(&h.root_perms, &w.root_perms);
		walker_init_ck(&h, raw ? &ck : NULL);
		w.helper = &h;
	}
	if (!e) {
		path[0] = '\0';
		e = walk(&w, path, 0, 0, tree);
	}
	if (h.started) /* an error in the first half: wait for the second */
		pthread_join(h.thread, NULL);
	if (h.odb)
		git_odb_free(h.odb);
	if (w.odb)
		git_odb_free(w.odb);
	walker_fini(&w);
	walker_fini(&h);
	if (raw)
		gs_ckpt_read_close(&ck);
	free(path);
	return e;
}
