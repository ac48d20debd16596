/*
 * history.c - the list of changes: commits (through the side index) and
 * pending journal records. Read-only on the store.
 *
 * Side index, <cache>/<hash of the store's real path>.idx: a header (magic,
 * count, head commit) then one record per commit, oldest first: u32 size,
 * oid[20], i64 time, u64 seq, u32 dom, conn, tx, u8 flags, u8 boot length,
 * boot id (only when it differs from the previous record's), ops text.
 */
#include "hist.h"
#include "store/git/journal.h"
#include "store/git/record.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define IDX_MAGIC "XSHIDX01"
#define IDX_HDR 64u
#define F_BOOT 1u

static int fail(struct hist *h, int e, const char *fmt, const char *arg)
{
	snprintf(h->err, sizeof(h->err), fmt, arg, strerror(-e));
	return e;
}

static int own(struct hist *h, char *p)
{
	if (h->nowned == h->capowned) {
		size_t cap = h->capowned ? 2 * h->capowned : 64;
		char **v = realloc(h->owned, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		h->owned = v;
		h->capowned = cap;
	}
	h->owned[h->nowned++] = p;
	return 0;
}

static struct hist_change *push(struct hist *h)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 1024;
		struct hist_change *v = realloc(h->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		h->v = v;
		h->cap = cap;
	}
	struct hist_change *c = &h->v[h->n++];
	memset(c, 0, sizeof(*c));
	return c;
}

static int boot_index(struct hist *h, const char *id, size_t len,
		      uint32_t *out)
{
	if (len >= 40)
		len = 39;
	if (h->nboots && strlen(h->boots[h->nboots - 1]) == len &&
	    !memcmp(h->boots[h->nboots - 1], id, len)) {
		*out = (uint32_t)h->nboots - 1;
		return 0;
	}
	char (*b)[40] = realloc(h->boots, (h->nboots + 1) * sizeof(*b));
	if (!b)
		return -ENOMEM;
	h->boots = b;
	memcpy(b[h->nboots], id, len);
	b[h->nboots][len] = '\0';
	*out = (uint32_t)h->nboots++;
	return 0;
}

bool hist_path_under(const char *path, const char *base)
{
	size_t n = strlen(base);
	if (n == 1 && base[0] == '/')
		return path[0] == '/';
	return !strncmp(path, base, n) && (path[n] == '\0' || path[n] == '/');
}

int hist_ops_each(const struct hist_change *c, hist_op_fn fn, void *ctx)
{
	const char *p = c->ops, *end = c->ops + c->opslen;
	char buf[4096 + 32];
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *sp = memchr(p, ' ', l);
		if (sp && l < sizeof(buf)) {
			memcpy(buf, p, l);
			buf[l] = '\0';
			buf[sp - p] = '\0';
			int e = fn(ctx, buf, buf + (sp - p) + 1);
			if (e)
				return e;
		}
		p += l + 1;
	}
	return 0;
}

/* --- one commit -> one change ----------------------------------------- */

static uint64_t trailer_u64(const char *msg, const char *key, bool *found)
{
	const char *p = strstr(msg, key);
	*found = p != NULL;
	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

/*
 * Parses commit c into a change (all but its boot index: the boot id goes
 * to boot); its ops text is malloc'd into *ops.
 */
static int parse_commit(git_commit *c, struct hist_change *ch, char **ops,
			char boot[40])
{
	const char *msg = git_commit_message(c);
	bool f;
	git_oid_cpy(&ch->oid, git_commit_id(c));
	ch->time = git_commit_time(c);
	ch->seq = trailer_u64(msg, "\nXenstore-Seq: ", &f);
	ch->dom = (uint32_t)trailer_u64(msg, "\nXenstore-Domain: ", &f);
	if (!f)
		ch->dom = HIST_DOM_NONE;
	ch->conn = (uint32_t)trailer_u64(msg, "\nXenstore-Connection: ", &f);
	ch->tx = (uint32_t)trailer_u64(msg, "\nXenstore-Transaction: ", &f);
	ch->boot_commit = !strncmp(msg, "boot ", 5);
	const char *b = strstr(msg, "\nXenstore-Boot: ");
	size_t bl = b ? strcspn(b + 16, "\n") : 7;
	if (bl > 39)
		bl = 39;
	memcpy(boot, b ? b + 16 : "unknown", bl);
	boot[bl] = '\0';
	/* ops: every "Xenstore-Op: kind path" trailer line */
	size_t cap = 64, len = 0;
	char *o = malloc(cap);
	if (!o)
		return -ENOMEM;
	for (const char *p = msg; (p = strstr(p, "\nXenstore-Op: "));) {
		p += 14;
		size_t l = strcspn(p, "\n");
		if (len + l + 2 > cap) {
			while (len + l + 2 > cap)
				cap *= 2;
			char *no = realloc(o, cap);
			if (!no) {
				free(o);
				return -ENOMEM;
			}
			o = no;
		}
		memcpy(o + len, p, l);
		len += l;
		o[len++] = '\n';
	}
	*ops = o;
	ch->ops = o;
	ch->opslen = (uint32_t)len;
	return 0;
}

/* --- the side index --------------------------------------------------- */

static uint64_t fnv(const char *s)
{
	uint64_t x = 1469598103934665603ull;
	for (; *s; s++)
		x = (x ^ (unsigned char)*s) * 1099511628211ull;
	return x;
}

static char *default_cache_path(const char *store, const char *dir)
{
	char real[PATH_MAX], *out = NULL, *base = NULL;
	if (!realpath(store, real))
		return NULL;
	if (!dir) {
		const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
		if (x && *x) {
			if (asprintf(&base, "%s/xs-history", x) < 0)
				return NULL;
		} else if (home && *home) {
			if (asprintf(&base, "%s/.cache/xs-history", home) < 0)
				return NULL;
		} else {
			return NULL;
		}
		dir = base;
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		/* ~/.cache may be missing too */
		char *parent = strdup(dir), *sl = parent ? strrchr(parent, '/') : NULL;
		if (sl) {
			*sl = '\0';
			mkdir(parent, 0700);
		}
		free(parent);
		mkdir(dir, 0700);
	}
	if (asprintf(&out, "%s/%016" PRIx64 ".idx", dir, fnv(real)) < 0)
		out = NULL;
	free(base);
	return out;
}

struct idx_hdr {
	char magic[8];
	uint64_t count;
	unsigned char head[20];
	uint64_t bytes; /* valid bytes after the header */
};

/* Loads the records of the mapped index into h->v; false if malformed. */
static bool idx_parse(struct hist *h, const char *m, size_t len,
		      const struct idx_hdr *hd)
{
	size_t off = IDX_HDR, end = IDX_HDR + hd->bytes;
	uint32_t boot = 0;
	if (end > len)
		return false;
	for (uint64_t i = 0; i < hd->count; i++) {
		uint32_t sz;
		if (off + 4 > end)
			return false;
		memcpy(&sz, m + off, 4);
		if (sz < 62 || off + sz > end)
			return false;
		const char *r = m + off;
		struct hist_change *c = push(h);
		if (!c)
			return false;
		memcpy(c->oid.id, r + 4, 20);
		memcpy(&c->time, r + 24, 8);
		memcpy(&c->seq, r + 32, 8);
		memcpy(&c->dom, r + 40, 4);
		memcpy(&c->conn, r + 44, 4);
		memcpy(&c->tx, r + 48, 4);
		c->boot_commit = r[52] & F_BOOT;
		size_t bl = (unsigned char)r[53];
		if (62 + bl > sz)
			return false;
		/* 54..61: reserved */
		if (bl && boot_index(h, r + 62, bl, &boot))
			return false;
		if (!h->nboots)
			return false;
		c->boot = boot;
		c->ops = r + 62 + bl;
		c->opslen = sz - 62 - (uint32_t)bl;
		off += sz;
	}
	return true;
}

static int idx_append(struct hist *h, int fd, struct idx_hdr *hd,
		      size_t first, uint32_t prev_boot)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (size_t i = first; i < h->ngit; i++) {
		const struct hist_change *c = &h->v[i];
		bool nb = i == 0 || c->boot != prev_boot;
		size_t bl = nb ? strlen(h->boots[c->boot]) : 0;
		uint32_t sz = 62 + (uint32_t)bl + c->opslen;
		if (len + sz > cap) {
			while (len + sz > cap)
				cap *= 2;
			char *nbuf = realloc(buf, cap);
			if (!nbuf) {
				free(buf);
				return -ENOMEM;
			}
			buf = nbuf;
		}
		char *r = buf + len;
		memset(r, 0, 62);
		memcpy(r, &sz, 4);
		memcpy(r + 4, c->oid.id, 20);
		memcpy(r + 24, &c->time, 8);
		memcpy(r + 32, &c->seq, 8);
		memcpy(r + 40, &c->dom, 4);
		memcpy(r + 44, &c->conn, 4);
		memcpy(r + 48, &c->tx, 4);
		r[52] = c->boot_commit ? F_BOOT : 0;
		r[53] = (char)bl;
		memcpy(r + 62, h->boots[c->boot], bl);
		memcpy(r + 62 + bl, c->ops, c->opslen);
		len += sz;
		prev_boot = c->boot;
	}
	int e = 0;
	if (pwrite(fd, buf, len, (off_t)(IDX_HDR + hd->bytes)) != (ssize_t)len)
		e = -EIO;
	free(buf);
	if (e)
		return e;
	hd->bytes += len;
	hd->count = h->ngit;
	memcpy(hd->head, h->v[h->ngit - 1].oid.id, 20);
	char hb[IDX_HDR] = { 0 };
	memcpy(hb, hd, sizeof(*hd));
	if (pwrite(fd, hb, IDX_HDR, 0) != IDX_HDR)
		return -EIO;
	return 0;
}

/*
 * A new index in a new file renamed over the old one: another reader may
 * still have the old one mapped, and must not see it shrink under it.
 */
static void idx_replace(struct hist *h)
{
	char *tmp;
	if (!h->ngit ||
	    asprintf(&tmp, "%s.%d.tmp", h->cache_path, (int)getpid()) < 0)
		return;
	int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	struct idx_hdr hd = { .count = 0 };
	memcpy(hd.magic, IDX_MAGIC, 8);
	if (fd >= 0 && !idx_append(h, fd, &hd, 0, 0) &&
	    !rename(tmp, h->cache_path)) {
		close(fd);
		free(tmp);
		return;
	}
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
}

/* --- loading ---------------------------------------------------------- */

static void drop_pending(struct hist *h)
{
	for (size_t i = h->ngit; i < h->n; i++) {
		if (h->v[i].rec) {
			gs_record_release(h->v[i].rec);
			free(h->v[i].rec);
		}
		free(h->v[i].payload);
		free(h->v[i].opsbuf);
	}
	h->n = h->ngit;
	/* boots seen only in pending records go with them */
	h->nboots = h->ngit ? h->v[h->ngit - 1].boot + 1 : 0;
}

static void drop_changes(struct hist *h)
{
	drop_pending(h);
	for (size_t i = 0; i < h->nowned; i++)
		free(h->owned[i]);
	h->nowned = 0;
	h->n = h->ngit = 0;
	free(h->boots);
	h->boots = NULL;
	h->nboots = 0;
	if (h->map)
		munmap(h->map, h->maplen);
	h->map = NULL;
}

/*
 * Commits from head back to (not including) stop, appended oldest first.
 * *found: stop was reached.
 */
static int walk_new(struct hist *h, const git_oid *head, const git_oid *stop,
		    bool *found)
{
	/* newest first, each commit read once; boots are numbered after */
	struct tmp {
		struct hist_change c;
		char *ops;
		uint32_t boot;
	} *v = NULL;
	char (*boots)[40] = NULL;
	size_t n = 0, cap = 0, nb = 0;
	git_oid cur = *head;
	int e = 0;
	*found = stop == NULL;
	for (;;) {
		if (stop && git_oid_equal(&cur, stop)) {
			*found = true;
			break;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			struct tmp *nv = realloc(v, cap * sizeof(*nv));
			if (!nv) {
				e = -ENOMEM;
				break;
			}
			v = nv;
		}
		git_commit *c;
		char boot[40];
		if (git_commit_lookup(&c, h->repo, &cur)) {
			e = -EIO;
			break;
		}
		memset(&v[n], 0, sizeof(v[n]));
		e = parse_commit(c, &v[n].c, &v[n].ops, boot);
		bool more = git_commit_parentcount(c) > 0;
		if (more)
			cur = *git_commit_parent_id(c, 0);
		git_commit_free(c);
		if (e)
			break;
		n++;
		if (!nb || strcmp(boots[nb - 1], boot)) {
			char (*nbv)[40] = realloc(boots, (nb + 1) * sizeof(*nbv));
			if (!nbv) {
				e = -ENOMEM;
				break;
			}
			boots = nbv;
			memcpy(boots[nb++], boot, 40);
		}
		v[n - 1].boot = (uint32_t)nb - 1;
		if (!more)
			break;
	}
	size_t handed = 0; /* v[n - handed .. n) belong to h now */
	if (!e && (!stop || *found)) {
		for (size_t k = n; k-- > 0 && !e;) {
			struct hist_change *ch = push(h);
			if (!ch) {
				e = -ENOMEM;
				break;
			}
			*ch = v[k].c;
			if ((e = own(h, v[k].ops))) {
				h->n--;
				break;
			}
			handed++;
			e = boot_index(h, boots[v[k].boot],
				       strlen(boots[v[k].boot]), &ch->boot);
		}
		h->ngit = h->n;
	}
	for (size_t k = 0; k + handed < n; k++)
		free(v[k].ops);
	free(v);
	free(boots);
	return e;
}

static int load_commits(struct hist *h, const git_oid *head)
{
	bool found;
	int fd = -1, e;
	struct idx_hdr hd = { .count = 0 };
	if (h->cache_path)
		fd = open(h->cache_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 && flock(fd, LOCK_EX)) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0) {
		struct stat st;
		char hb[IDX_HDR];
		if (!fstat(fd, &st) && st.st_size >= IDX_HDR &&
		    pread(fd, hb, IDX_HDR, 0) == IDX_HDR &&
		    !memcmp(hb, IDX_MAGIC, 8)) {
			memcpy(&hd, hb, sizeof(hd));
			void *m = mmap(NULL, (size_t)st.st_size, PROT_READ,
				       MAP_SHARED, fd, 0);
			if (m != MAP_FAILED) {
				h->map = m;
				h->maplen = (size_t)st.st_size;
				if (!idx_parse(h, m, h->maplen, &hd))
					drop_changes(h), h->n = 0;
			}
		}
		h->ngit = h->n;
	}
	size_t first = h->ngit;
	uint32_t prev_boot = h->ngit ? h->v[h->ngit - 1].boot : 0;
	git_oid stop;
	if (h->ngit) {
		memcpy(stop.id, hd.head, 20);
		if (git_oid_equal(&stop, head)) {
			e = 0;
			goto out;
		}
	}
	e = walk_new(h, head, h->ngit ? &stop : NULL, &found);
	if (!e && !found) {
		/* the index does not lead to main: build it again */
		drop_changes(h);
		first = 0;
		e = walk_new(h, head, NULL, &found);
	}
	if (!e && fd >= 0 && first)
		idx_append(h, fd, &hd, first, prev_boot); /* a cache: best effort */
	else if (!e && fd >= 0)
		idx_replace(h);
out:
	if (fd >= 0)
		close(fd); /* the lock goes with it; the map stays valid */
	if (e == -EIO) {
		const git_error *ge = git_error_last();
		snprintf(h->err, sizeof(h->err),
			 "%s: corrupt repository: %s", h->store,
			 ge && ge->message ? ge->message : "unreadable commit");
	}
	return e;
}

struct jscan {
	struct hist *h;
	uint64_t after; /* seqs in Git already */
	int err;
};

static int journal_one(void *ctx, const char *boot, const char *payload,
		       size_t len)
{
	struct jscan *js = ctx;
	struct hist *h = js->h;
	uint64_t seq;
	if (len < 8)
		return 0;
	memcpy(&seq, payload, 8); /* the payload starts with it (LE) */
	seq = le64toh(seq);
	if (seq <= js->after)
		return 0; /* in Git already: the usual case, made cheap */
	/* a record may be in the journal twice (a retried flush) */
	struct gs_record *r = calloc(1, sizeof(*r));
	char *copy = malloc(len ? len : 1);
	if (!r || !copy) {
		free(r);
		free(copy);
		return -ENOMEM;
	}
	memcpy(copy, payload, len);
	if (gs_record_decode(copy, len, r) || r->seq <= js->after ||
	    (h->n && r->seq <= h->v[h->n - 1].seq)) {
		/* undecodable is torn, as the daemon sees it; or seen already */
		gs_record_release(r);
		free(r);
		free(copy);
		return 0;
	}
	size_t olen = 0;
	for (unsigned i = 0; i < r->nops; i++)
		olen += strlen(r->ops[i].path) + 12;
	char *ops = malloc(olen + 1), *p = ops;
	struct hist_change *c = ops ? push(h) : NULL;
	if (!c) {
		free(ops);
		gs_record_release(r);
		free(r);
		free(copy);
		return -ENOMEM;
	}
	static const char *kinds[] = { "write", "mkdir", "rm", "set_perms",
				       "domain" };
	for (unsigned i = 0; i < r->nops; i++)
		p += sprintf(p, "%s %s\n",
			     (unsigned)r->ops[i].kind < 5 ? kinds[r->ops[i].kind]
							  : "op",
			     r->ops[i].path);
	c->pending = true;
	c->time = (int64_t)(r->time_ns / 1000000000u);
	c->seq = r->seq;
	c->dom = r->caller.domid;
	c->conn = r->caller.conn_id;
	c->tx = r->tx_id;
	c->ops = ops;
	c->opslen = (uint32_t)(p - ops);
	c->rec = r;
	c->payload = copy;
	c->opsbuf = ops;
	return boot_index(h, boot, strlen(boot), &c->boot);
}

static int read_main(struct hist *h, git_oid *head, bool *exists)
{
	git_reference *ref = NULL;
	*exists = false;
	int ge = git_reference_lookup(&ref, h->repo, "refs/heads/main");
	if (ge == GIT_ENOTFOUND)
		return 0;
	const git_oid *t = ge ? NULL : git_reference_target(ref);
	if (t) {
		*head = *t;
		*exists = true;
	}
	git_reference_free(ref);
	if (!t) {
		const git_error *e = git_error_last();
		snprintf(h->err, sizeof(h->err), "%s: corrupt repository: %s",
			 h->store, e && e->message ? e->message : "bad main");
		return -EIO;
	}
	return 0;
}

/* Xenstore-Seq of main's commit, 0 if unknown. */
static uint64_t main_seq(struct hist *h)
{
	git_oid head;
	bool exists, f;
	git_commit *c;
	uint64_t seq = 0;
	if (read_main(h, &head, &exists) || !exists ||
	    git_commit_lookup(&c, h->repo, &head)) {
		h->err[0] = '\0'; /* read_main says it again after the scan */
		return 0;
	}
	seq = trailer_u64(git_commit_message(c), "\nXenstore-Seq: ", &f);
	git_commit_free(c);
	return seq;
}

/* Commits: appended to what is loaded if main only moved forward. */
static int update_commits(struct hist *h, const git_oid *head, bool exists)
{
	drop_pending(h);
	if (h->ngit && exists) {
		git_oid old = h->v[h->ngit - 1].oid;
		bool found;
		if (git_oid_equal(&old, head))
			return 0;
		int e = walk_new(h, head, &old, &found);
		if (e || found)
			return e;
	}
	drop_changes(h);
	return exists ? load_commits(h, head) : 0;
}

/*
 * The journal first, then the ref: a segment deleted meanwhile holds
 * records Git has by then. A segment deleted between listing and reading
 * (ENOENT) means Git moved on: read again.
 */
static int load_all(struct hist *h)
{
	struct stat st;
	char *jdir = NULL;
	int e = 0;
	if (asprintf(&jdir, "%s/journal", h->store) < 0)
		return -ENOMEM;
	for (int attempt = 0; attempt < 10; attempt++) {
		struct hist j = { .store = h->store };
		struct gs_journal jr = { .dir = jdir, .fd = -1 };
		struct jscan js = { &j, 0, 0 };
		git_oid head;
		bool exists;
		e = 0;
		/* Git only grows: what it held before the scan is a floor */
		if (h->ngit)
			js.after = h->v[h->ngit - 1].seq;
		else
			js.after = main_seq(h);
		if (!stat(jdir, &st))
			e = gs_journal_scan(&jr, journal_one, &js);
		if (!e)
			e = read_main(h, &head, &exists);
		if (!e)
			e = update_commits(h, &head, exists);
		/* the journal records past Git's last seq are pending */
		uint64_t after = h->ngit ? h->v[h->ngit - 1].seq : 0;
		for (size_t i = 0; i < j.n && !e; i++) {
			struct hist_change *src = &j.v[i];
			if (src->seq <= after)
				continue;
			struct hist_change *c = push(h);
			if (!c) {
				e = -ENOMEM;
				break;
			}
			*c = *src;
			src->rec = NULL;
			src->payload = src->opsbuf = NULL;
			e = boot_index(h, j.boots[src->boot],
				       strlen(j.boots[src->boot]), &c->boot);
		}
		j.ngit = 0;
		drop_changes(&j);
		free(j.v);
		free(j.owned);
		if (e != -ENOENT)
			break;
	}
	free(jdir);
	return e;
}

int hist_open(struct hist *h, const char *store, const char *cache_dir)
{
	struct stat st;
	memset(h, 0, sizeof(*h));
	git_libgit2_init();
	/*
	 * The store belongs to the daemon's user, the auditor may be another:
	 * reading it runs nothing from it (no hooks, no filters), so Git's
	 * "dubious ownership" refusal only stands in the way.
	 */
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
	if (!(h->store = strdup(store)))
		return -ENOMEM;
	if (stat(store, &st))
		return fail(h, -errno, "%s: no store here (%s)", store);
	if (git_repository_open_ext(&h->repo, store,
				    GIT_REPOSITORY_OPEN_NO_SEARCH |
					    GIT_REPOSITORY_OPEN_BARE,
				    NULL)) {
		const git_error *ge = git_error_last();
		snprintf(h->err, sizeof(h->err),
			 "%s: not a store (no readable Git repository: %s)",
			 store, ge && ge->message ? ge->message : "?");
		return -ENOENT;
	}
	if (!cache_dir || *cache_dir)
		h->cache_path = default_cache_path(store, cache_dir);
	int e = load_all(h);
	if (e && !h->err[0])
		fail(h, e, "%s: reading the history: %s", store);
	if (!e && !h->n) {
		snprintf(h->err, sizeof(h->err), "%s: the store has no history yet",
			 store);
		return -ENOENT;
	}
	return e;
}

int hist_refresh(struct hist *h)
{
	h->err[0] = '\0';
	int e = load_all(h);
	if (e && !h->err[0])
		fail(h, e, "%s: reading the history: %s", h->store);
	return e;
}

void hist_close(struct hist *h)
{
	drop_changes(h);
	free(h->v);
	free(h->owned);
	free(h->cache_path);
	free(h->store);
	git_repository_free(h->repo);
	git_libgit2_shutdown();
	memset(h, 0, sizeof(*h));
}
