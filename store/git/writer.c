/* writer.c - journal records to Git commits, on the writer thread. */
#include "gitstore_int.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Publish early when this many objects wait: each costs about 56 bytes
 * of index entry until then (a 100k-node fill reached 200000 objects).
 * A little under 65 536, the size of the pack's entry list and half its
 * hash set: the objects of the commit that crosses the limit then fit,
 * where going past it doubled both (the set, 2 MiB, all resident).
 */
#define PENDING_OBJECTS_MAX 61440u
/*
 * ... or when the pack being built (in its file, not in memory) reaches
 * this many bytes: a smaller pack leaves wide directories without a delta
 * base more often, which measured slower on the large tree.
 */
#define PACK_BYTES_MAX (8u << 20)
/*
 * Idle this long with every commit published: the writer gives back what
 * the last burst left (index arrays, most of the mirror, malloc's free
 * lists). The mirror, if it has more nodes than this, keeps only its
 * top: what the nodes it drops held, scattered in malloc's arena, is given
 * back only when nothing remains between them.
 */
#define REST_AFTER_MS 500u
#define MIRROR_REST_NODES 1024u
/* give freed memory back after a publish of at least this many bytes */
#define TRIM_AFTER_BYTES (1u << 20)
/* ... or after dropping this many of the mirror's nodes */
#define TRIM_AFTER_NODES 4096u
/* merge the smallest packs when there are more (GS_PACKS_MAX) ... */
#define PACKS_MAX GS_PACKS_MAX
/*
 * Work on a pack merge per publish, or per turn while idle: the loop blocks
 * on the writer above lag_max, so the writer must never stop for long.
 */
#define MERGE_STEP_NS 10000000u
/* under pressure, publish at least this often */
#define PRESSED_PUBLISH_NS 250000000u
#define BACKOFF_MIN_MS 50u
#define BACKOFF_MAX_MS 2000u

static const char *op_name(enum store_op_kind k)
{
	switch (k) {
	case STORE_OP_WRITE: return "write";
	case STORE_OP_MKDIR: return "mkdir";
	case STORE_OP_RM: return "rm";
	case STORE_OP_SET_PERMS: return "set_perms";
	case STORE_OP_DOMAIN: return "domain";
	}
	return "op";
}

/*
 * Commit text is built by hand into a buffer reused across commits:
 * vsnprintf and a malloc per commit were a tenth of the writer's time.
 * Callers reserve room first (put_* do not check).
 */
static void put_mem(struct gs_buf *b, const void *s, size_t n)
{
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

#define PUT_LIT(b, lit) put_mem((b), (lit), sizeof(lit) - 1)

static void put_u64(struct gs_buf *b, uint64_t v)
{
	char t[20];
	int n = 0;
	do
		t[sizeof(t) - ++n] = (char)('0' + v % 10);
	while ((v /= 10));
	put_mem(b, t + sizeof(t) - n, (size_t)n);
}

static void put_oid(struct gs_buf *b, const git_oid *id)
{
	static const char hex[] = "0123456789abcdef";
	char *p = b->data + b->len;
	for (int i = 0; i < GIT_OID_RAWSZ; i++) {
		p[2 * i] = hex[id->id[i] >> 4];
		p[2 * i + 1] = hex[id->id[i] & 15];
	}
	b->len += GIT_OID_HEXSZ;
}

/* Appends s with control characters replaced (one-line trailers). */
static void put_clean(struct gs_buf *b, const char *s, size_t n)
{
	char *p = b->data + b->len;
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
	b->len += n;
}

/* Room for the header below, with an author of alen bytes. */
#define HEADER_MAX(alen) (200 + (alen))

static void put_header(struct gs_buf *b, const git_oid *tree,
		       const git_oid *parent, const char *author,
		       size_t alen, uint64_t secs)
{
	PUT_LIT(b, "tree ");
	put_oid(b, tree);
	if (parent) {
		PUT_LIT(b, "\nparent ");
		put_oid(b, parent);
	}
	PUT_LIT(b, "\nauthor ");
	put_mem(b, author, alen);
	PUT_LIT(b, " ");
	put_u64(b, secs);
	PUT_LIT(b, " +0000\ncommitter xenstored <xenstored@xenstore> ");
	put_u64(b, secs);
	PUT_LIT(b, " +0000\n\n");
}

static int commit_write(struct gitstore *gs, struct gs_buf *b,
			uint64_t seq, const char *boot)
{
	git_oid id;
	int e = gs_repo_write_commit(&gs->repo, b->data, b->len, &id);
	if (e)
		return e;
	git_oid_cpy(&gs->head, &id);
	gs->has_head = true;
	gs->head_seq = seq;
	if (strcmp(gs->head_boot, boot))
		snprintf(gs->head_boot, sizeof(gs->head_boot), "%s", boot);
	if (!gs->pending_commits++)
		gs->first_pending_ns = gs_mono_ns();
	pthread_mutex_lock(&gs->lock);
	gs->commits++;
	pthread_mutex_unlock(&gs->lock);
	return 0;
}

int gs_commit_record(struct gitstore *gs, const struct gs_record *rec,
		     const char *boot)
{
	struct gs_buf *b = &gs->repo.text;
	git_oid tree;
	char author[64];
	int e = 0;
	/* the previous commit, this one's delta base, is looked up last */
	if (gs->repo.prev.len)
		gs_repo_obj_prefetch(&gs->repo, &gs->repo.prev_id);
	for (unsigned i = 0; i < rec->neffects && !e; i++)
		e = gs_mirror_apply(&gs->mirror, &rec->effects[i]);
	if (!e)
		e = gs_mirror_write(&gs->mirror, &tree);
	if (e)
		return e;
	uint32_t dom = rec->caller.domid;
	struct gs_buf a = { author, 0, sizeof(author) };
	PUT_LIT(&a, "dom");
	put_u64(&a, dom);
	PUT_LIT(&a, " <dom");
	put_u64(&a, dom);
	PUT_LIT(&a, "@xenstore>");
	/* the room needed: fixed text, numbers, and the paths twice */
	size_t blen = strlen(boot), need = HEADER_MAX(a.len) + 300 + blen;
	for (unsigned i = 0; i < rec->nops; i++)
		need += 32 + strlen(rec->ops[i].path);
	if (rec->nops)
		need += strlen(rec->ops[0].path);
	b->len = 0;
	if ((e = gs_buf_reserve(b, need)))
		return e;
	put_header(b, &tree, gs->has_head ? &gs->head : NULL, author, a.len,
		   rec->time_ns / 1000000000u);
	/* Summary line: the first operation, and how many follow. */
	if (rec->tx_id) {
		PUT_LIT(b, "transaction ");
		put_u64(b, rec->tx_id);
		PUT_LIT(b, ": ");
	}
	if (rec->nops) {
		const char *op = op_name(rec->ops[0].kind);
		put_mem(b, op, strlen(op));
		PUT_LIT(b, " ");
		put_clean(b, rec->ops[0].path, strlen(rec->ops[0].path));
		if (rec->nops > 1) {
			PUT_LIT(b, " and ");
			put_u64(b, rec->nops - 1);
			PUT_LIT(b, " more");
		}
	} else {
		PUT_LIT(b, "change");
	}
	PUT_LIT(b, "\n\nXenstore-Domain: ");
	put_u64(b, dom);
	PUT_LIT(b, "\nXenstore-Connection: ");
	put_u64(b, rec->caller.conn_id);
	PUT_LIT(b, "\nXenstore-Transaction: ");
	put_u64(b, rec->tx_id);
	PUT_LIT(b, "\nXenstore-Seq: ");
	put_u64(b, rec->seq);
	PUT_LIT(b, "\nXenstore-Boot: ");
	put_mem(b, boot, blen);
	PUT_LIT(b, "\n");
	for (unsigned i = 0; i < rec->nops; i++) {
		const char *op = op_name(rec->ops[i].kind);
		PUT_LIT(b, "Xenstore-Op: ");
		put_mem(b, op, strlen(op));
		PUT_LIT(b, " ");
		put_clean(b, rec->ops[i].path, strlen(rec->ops[i].path));
		PUT_LIT(b, "\n");
	}
	return commit_write(gs, b, rec->seq, boot);
}

int gs_commit_boot(struct gitstore *gs)
{
	static const struct xsw_perm n0 = { 0, XSW_PERM_NONE };
	const struct store_effect init[] = {
		{ "/", false, "", 0, &n0, 1 },
		{ "/tool", false, "", 0, &n0, 1 },
		{ "/tool/xenstored", false, "", 0, &n0, 1 },
	};
	struct gs_buf *b = &gs->repo.text;
	git_oid tree;
	if (gs->mirror_ok)
		gs_mirror_fini(&gs->mirror);
	gs->mirror_ok = false;
	int e = gs_mirror_init(&gs->mirror, &gs->repo, NULL);
	if (e)
		return e;
	gs->mirror_ok = true;
	for (unsigned i = 0; i < 3 && !e; i++)
		e = gs_mirror_apply(&gs->mirror, &init[i]);
	if (!e)
		e = gs_mirror_write(&gs->mirror, &tree);
	static const char author[] = "xenstored <xenstored@xenstore>";
	b->len = 0;
	if (!e)
		e = gs_buf_reserve(b, HEADER_MAX(sizeof(author)) + 200 +
				   2 * strlen(gs->boot));
	if (e)
		return e;
	put_header(b, &tree, gs->has_head ? &gs->head : NULL, author,
		   sizeof(author) - 1, gs_now_ns() / 1000000000u);
	PUT_LIT(b, "boot ");
	put_mem(b, gs->boot, strlen(gs->boot));
	PUT_LIT(b, ": initial tree\n\nXenstore-Seq: ");
	put_u64(b, gs->head_seq);
	PUT_LIT(b, "\nXenstore-Boot: ");
	put_mem(b, gs->boot, strlen(gs->boot));
	PUT_LIT(b, "\n");
	e = commit_write(gs, b, gs->head_seq, gs->boot);
	if (!e) {
		git_oid_cpy(&gs->tag_oid, &gs->head);
		gs->tag_pending = true;
	}
	return e;
}

bool gs_merge_due(unsigned npacks, unsigned floor, bool merging, bool busy)
{
	if (merging)
		return !busy || npacks > GS_PACKS_BURST_MAX;
	if (npacks <= floor)
		return false;
	if (npacks > GS_PACKS_BURST_MAX)
		return true;
	return !busy && npacks > GS_PACKS_MAX;
}

/* Best effort: many small packs only slow readers down. */
static void merge_step(struct gitstore *gs, bool busy)
{
	if (!gs_merge_due(gs->repo.npacks, gs->repo.merge_floor,
			  gs->repo.merge != NULL, busy))
		return;
	int ce = gs_repo_consolidate(&gs->repo, PACKS_MAX, MERGE_STEP_NS);
	if (ce < 0) {
		gs->merge_failed = true; /* not again before the next publish */
		pthread_mutex_lock(&gs->lock);
		snprintf(gs->writer_msg, sizeof(gs->writer_msg),
			 "pack consolidation: %s", strerror(-ce));
		pthread_mutex_unlock(&gs->lock);
	}
}

int gs_publish(struct gitstore *gs)
{
	if (!gs->pending_commits)
		return 0;
	pthread_mutex_lock(&gs->lock);
	int e = gs_fault_take(gs, GITSTORE_FAULT_PACK_WRITE);
	pthread_mutex_unlock(&gs->lock);
	size_t bytes = (size_t)gs_repo_pack_bytes(&gs->repo);
	if (!e)
		e = gs_repo_dump(&gs->repo);
	/* The ref moves only once its objects are in a pack on disk. */
	if (!e)
		e = gs_repo_set_main(&gs->repo, &gs->head);
	if (!e && gs->tag_pending) {
		char name[64];
		snprintf(name, sizeof(name), "boot/%s", gs->boot);
		e = gs_repo_tag(&gs->repo, name, &gs->tag_oid);
		if (!e)
			gs->tag_pending = false;
	}
	if (e)
		return e;
	gs->pending_commits = 0;
	pthread_mutex_lock(&gs->lock);
	gs->git_seq = gs->head_seq;
	gs->writer_error = 0; /* before waiters wake: they read both */
	gs->packs++;
	bool backlog = gs->qhead != NULL;
	pthread_cond_broadcast(&gs->wake_loop);
	pthread_mutex_unlock(&gs->lock);
	gs_journal_gc(&gs->journal, gs->head_seq);
	gs_checkpoint_poke(&gs->ckpt, &gs->head, bytes);
	gs->merge_failed = false;
	merge_step(gs, backlog);
	/* every object is on disk now: cold subtrees can be read back */
	size_t dropped = gs->mirror_ok && !gs->repo.pending
		? gs_mirror_trim(&gs->mirror, GS_MIRROR_NODES_MAX,
				 GS_MIRROR_KEEP)
		: 0;
	/*
	 * A burst's pack, journal chunks, decoded records and mirror nodes
	 * are freed by now; without this glibc keeps them in the arenas'
	 * free lists. Not while records wait: the burst goes on and would
	 * fault the same pages in again, and each trim's madvise() flushes
	 * the TLBs of the other threads' cores (writer_rest() trims when it
	 * ends).
	 */
	if (!backlog &&
	    (bytes >= TRIM_AFTER_BYTES || dropped >= TRIM_AFTER_NODES))
		malloc_trim(0);
	return 0;
}

/* Records the failure for stats and waiters; returns the backoff in ms. */
static unsigned fail(struct gitstore *gs, int e, const char *what,
		     unsigned backoff)
{
	const git_error *ge = git_error_last();
	pthread_mutex_lock(&gs->lock);
	gs->writer_error = e;
	gs->writer_failures++;
	snprintf(gs->writer_msg, sizeof(gs->writer_msg), "%s: %s (%s)", what,
		 strerror(-e), ge && ge->message ? ge->message : "-");
	pthread_cond_broadcast(&gs->wake_loop);
	pthread_mutex_unlock(&gs->lock);
	backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
	return backoff > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff;
}

static void deadline_in(struct timespec *ts, uint64_t ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	uint64_t ns = (uint64_t)ts->tv_nsec + ms * 1000000u;
	ts->tv_sec += (time_t)(ns / 1000000000u);
	ts->tv_nsec = (long)(ns % 1000000000u);
}

/* Sleeps ms unless stop is asked for; true when stopping. Under lock. */
static bool nap(struct gitstore *gs, unsigned ms)
{
	struct timespec ts;
	deadline_in(&ts, ms);
	if (!gs->stop)
		pthread_cond_timedwait(&gs->wake_writer, &gs->lock, &ts);
	return gs->stop;
}

/* Commits every record of a chunk, retrying a failing one. */
static int process_chunk(struct gitstore *gs, struct gs_chunk *c)
{
	size_t off = 0, fl;
	unsigned backoff = 0;
	while ((fl = gs_frame_check(c->buf.data + off, c->buf.len - off))) {
		struct gs_record rec;
		int e = gs_record_decode(c->buf.data + off + GS_FRAME_HDR,
					 fl - GS_FRAME_HDR, &rec);
		if (!e && rec.seq > gs->head_seq)
			e = gs_commit_record(gs, &rec, c->boot);
		if (!e || e == -EINVAL) {
			/* -EINVAL: a record we cannot decode never will be */
			gs_record_release(&rec);
			off += fl;
			backoff = 0;
			continue;
		}
		gs_record_release(&rec);
		backoff = fail(gs, e, "commit", backoff);
		pthread_mutex_lock(&gs->lock);
		bool stopping = nap(gs, backoff);
		pthread_mutex_unlock(&gs->lock);
		if (stopping)
			return e;
		/* effects are absolute states: applying them again is safe */
	}
	return 0;
}

/* Under lock. Packs are rate-limited: one per interval, or per lag_max/4
 * commits when the backlog presses, or when nothing is left and someone
 * waits. */
static bool publish_due(struct gitstore *gs)
{
	if (!gs->pending_commits)
		return false;
	if ((gs->sync_req || gs->stop) && !gs->qhead)
		return true;
	if (gs->repo.pending >= PENDING_OBJECTS_MAX ||
	    gs_repo_pack_bytes(&gs->repo) >= PACK_BYTES_MAX)
		return true;
	uint64_t age = gs_mono_ns() - gs->first_pending_ns;
	/*
	 * Under pressure, a pack per quarter of lag_max: the loop waits on
	 * a publish only above lag_max, and packs of a few thousand commits
	 * cost less per commit (index, ref, merges) than one per 50 ms.
	 */
	if (gs->flushed_seq - gs->git_seq > gs->opts.lag_max / 2)
		return gs->pending_commits >= gs->opts.lag_max / 4 ||
		       age >= PRESSED_PUBLISH_NS;
	return age >= (uint64_t)gs->opts.pack_interval_ms * 1000000u;
}

/* Under lock, commits pending: how long until publish_due() says so. */
static uint64_t pack_wait_ms(struct gitstore *gs)
{
	uint64_t age = (gs_mono_ns() - gs->first_pending_ns) / 1000000u;
	uint64_t due = gs->opts.pack_interval_ms;
	return age < due ? due - age : 1;
}

/* Not under lock. Called once per quiet spell, everything published. */
static void writer_rest(struct gitstore *gs)
{
	if (gs->mirror_ok && !gs->repo.pending) /* it reads back from Git */
		gs_mirror_trim(&gs->mirror, MIRROR_REST_NODES, 0);
	gs_repo_rest(&gs->repo);
}

static void *writer_main(void *arg);

/*
 * Under lock, at rest: a new writer thread takes over and this one ends.
 * glibc keeps up to 7 freed chunks of each small size per thread (its
 * tcache) and returns them to the arenas only when the thread exits;
 * after a burst they are scattered, each keeping a page resident that
 * malloc_trim() cannot give back (about 0.7 MiB measured after a 100k-node
 * fill). The new thread joins this one, then trims. Returns true when
 * this thread must end; false (stopping, failures being retried, or no
 * thread to be had) keeps it, and trims.
 */
static bool writer_hand_over(struct gitstore *gs, bool failing)
{
	pthread_t next;
	if (gs->stop || failing ||
	    pthread_create(&next, NULL, writer_main, gs)) {
		pthread_mutex_unlock(&gs->lock);
		malloc_trim(0);
		pthread_mutex_lock(&gs->lock);
		return false;
	}
	pthread_setname_np(next, "xsd-writer");
	gs->thread = next; /* gs_writer_stop() joins the newest */
	gs->writer_prev = pthread_self();
	gs->handing_over = true;
	gs->handovers++;
	return true;
}

static void *writer_main(void *arg)
{
	struct gitstore *gs = arg;
	unsigned backoff = 0;
	bool rested = true, worked = false;
	pthread_mutex_lock(&gs->lock);
	if (gs->handing_over) {
		/* the previous thread ends: its cache goes back, then trim */
		pthread_t prev = gs->writer_prev;
		gs->handing_over = false;
		pthread_mutex_unlock(&gs->lock);
		pthread_join(prev, NULL);
		malloc_trim(0);
		pthread_mutex_lock(&gs->lock);
	}
	for (;;) {
		while (!gs->qhead && !gs->stop && !publish_due(gs)) {
			if (!gs->merge_failed &&
			    gs_merge_due(gs->repo.npacks, gs->repo.merge_floor,
					 gs->repo.merge != NULL, false)) {
				/* idle: merge */
				pthread_mutex_unlock(&gs->lock);
				merge_step(gs, false);
				pthread_mutex_lock(&gs->lock);
				continue;
			}
			struct timespec ts;
			bool quiet = !gs->pending_commits && !rested;
			uint64_t wait = gs->pending_commits
				? pack_wait_ms(gs)
				: quiet ? REST_AFTER_MS : 60000;
			/*
			 * Records came since the last sleep: more will, so
			 * look again soon rather than be woken for each.
			 * A poll that finds none ends the polling.
			 */
			bool poll = worked && wait > GS_WRITER_POLL_MS;
			if (poll)
				wait = GS_WRITER_POLL_MS;
			gs->writer_polling = worked;
			worked = false;
			deadline_in(&ts, wait);
			int w = pthread_cond_timedwait(&gs->wake_writer,
						       &gs->lock, &ts);
			gs->writer_polling = false;
			if (w == ETIMEDOUT && !poll && quiet && !gs->qhead &&
			    !gs->pending_commits) {
				pthread_mutex_unlock(&gs->lock);
				writer_rest(gs);
				pthread_mutex_lock(&gs->lock);
				rested = true;
				if (writer_hand_over(gs, backoff != 0)) {
					pthread_mutex_unlock(&gs->lock);
					return NULL;
				}
			}
		}
		rested = false;
		/* one chunk at a time, so that publishing keeps its pace */
		struct gs_chunk *c = gs->qhead;
		if (c) {
			gs->qhead = c->next;
			if (!gs->qhead)
				gs->qtail = NULL;
			gs->qchunks--;
			worked = true;
		}
		pthread_mutex_unlock(&gs->lock);
		int err = c ? process_chunk(gs, c) : 0;
		if (c) {
			gs_buf_free(&c->buf);
			free(c);
		}
		pthread_mutex_lock(&gs->lock);
		if (err) /* stopping with a record not in Git: it stays in the journal */
			break;
		if (publish_due(gs)) {
			pthread_mutex_unlock(&gs->lock);
			int e = gs_publish(gs);
			if (e)
				backoff = fail(gs, e, "pack", backoff);
			else
				backoff = 0;
			pthread_mutex_lock(&gs->lock);
			if (e && nap(gs, backoff) && !gs->qhead)
				break; /* stopping: the journal keeps the rest */
			continue;
		}
		if (gs->stop && !gs->qhead && !gs->pending_commits)
			break;
	}
	pthread_mutex_unlock(&gs->lock);
	return NULL;
}

int gs_writer_start(struct gitstore *gs)
{
	/*
	 * Recovery's peak (the tree read back from Git, replayed records)
	 * is freed by now: give it back to the system instead of keeping it
	 * in malloc's free lists for the daemon's whole life.
	 */
	malloc_trim(0);
	int e = pthread_create(&gs->thread, NULL, writer_main, gs);
	if (e)
		return -e;
	/* named so that per-thread CPU (top -H, /proc/PID/task) finds it */
	pthread_setname_np(gs->thread, "xsd-writer");
	gs->started = true;
	/* best effort: without it recovery reads the ordinary packs */
	if (gs->opts.checkpoint_bytes != GITSTORE_CHECKPOINT_OFF)
		gs_checkpoint_start(&gs->ckpt, gs->dir, gs->repo.fsync,
				    gs->opts.checkpoint_bytes, 0,
				    gs->has_head ? &gs->head : NULL);
	return 0;
}

void gs_writer_stop(struct gitstore *gs)
{
	if (!gs->started)
		return;
	pthread_mutex_lock(&gs->lock);
	gs->stop = true;
	pthread_cond_broadcast(&gs->wake_writer);
	pthread_mutex_unlock(&gs->lock);
	/*
	 * A hand-over sees stop under the lock and keeps its thread, so the
	 * newest thread read after stop is set is the last one.
	 */
	pthread_mutex_lock(&gs->lock);
	pthread_t last = gs->thread;
	pthread_mutex_unlock(&gs->lock);
	pthread_join(last, NULL);
	gs->started = false;
	gs_checkpoint_stop(&gs->ckpt);
}

int gs_commit_meta(struct gitstore *gs, const git_oid *id, git_oid *tree,
		   uint64_t *seq, char *boot, size_t bootlen)
{
	git_commit *c;
	int e = git_commit_lookup(&c, gs->repo.repo, id);
	if (e)
		return gs_git_error(e, gs->err, sizeof(gs->err));
	git_oid_cpy(tree, git_commit_tree_id(c));
	*seq = 0;
	boot[0] = '\0';
	const char *msg = git_commit_message(c), *p;
	if ((p = strstr(msg, "\nXenstore-Seq: ")))
		*seq = strtoull(p + 15, NULL, 10);
	if ((p = strstr(msg, "\nXenstore-Boot: "))) {
		p += 16;
		size_t n = strcspn(p, "\n");
		if (n >= bootlen)
			n = bootlen - 1;
		memcpy(boot, p, n);
		boot[n] = '\0';
	}
	git_commit_free(c);
	return 0;
}
