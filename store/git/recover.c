/*
 * recover.c - start-up: the tree at Git's head, then the journal's records
 * on top of it in memory; the writer commits those in the background.
 *
 * Only a change of boot (or an empty repository) commits the journal to
 * Git before loading: the fresh tree of a new boot must follow the old
 * boot's last commits in history.
 */
#include "gitstore_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The seq a record payload starts with (0 for state records). */
static uint64_t payload_seq(const char *p, size_t len)
{
	uint64_t v = 0;
	if (len < 8)
		return 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | (unsigned char)p[i];
	return v;
}

/* Calls fn for every good record of segs, in order. */
static int segs_foreach(const struct gs_jseg *segs, size_t n,
			gs_journal_fn fn, void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		const struct gs_jseg *g = &segs[i];
		size_t off = g->start, fl;
		while (off < g->end &&
		       (fl = gs_frame_check(g->data + off, g->end - off))) {
			int e = fn(ctx, g->boot, g->data + off + GS_FRAME_HDR,
				   fl - GS_FRAME_HDR);
			if (e)
				return e;
			off += fl;
		}
	}
	return 0;
}

/*
 * Later records of a key replace earlier ones: the latest wins. The state
 * of another boot described guests that are gone with it. True if payload
 * was a state record.
 */
static bool take_state(struct gitstore *gs, const char *boot,
		       const char *payload, size_t len, int *e)
{
	uint32_t key;
	const char *data;
	size_t dlen;
	if (!gs_state_decode(payload, len, &key, &data, &dlen))
		return false;
	*e = strcmp(boot, gs->boot) ? 0
	     : gs_state_set(&gs->state, key, data, dlen);
	return true;
}

/* Slow path: commits a record to Git now. */
static int replay_one(void *ctx, const char *boot, const char *payload,
		      size_t len)
{
	struct gitstore *gs = ctx;
	struct gs_record rec;
	int e = 0;
	if (take_state(gs, boot, payload, len, &e))
		return e;
	if (gs_record_decode(payload, len, &rec))
		return 0; /* CRC-checked yet undecodable: skip, as torn */
	/* Seqs at or below Git's are in history already: exactly once. */
	if (rec.seq > gs->head_seq) {
		e = gs_commit_record(gs, &rec, boot);
		if (e)
			snprintf(gs->err, sizeof(gs->err),
				 "replaying record %llu: %s",
				 (unsigned long long)rec.seq, strerror(-e));
	}
	gs_record_release(&rec);
	return e;
}

struct fast {
	struct gitstore *gs;
	gs_effect_fn efn;
	void *ctx;
	uint64_t seq;  /* the last record applied (or in Git) */
	bool foreign;  /* a record not in Git was written in another boot */
};

static int check_one(void *ctx, const char *boot, const char *payload,
		     size_t len)
{
	struct fast *f = ctx;
	if (payload_seq(payload, len) > f->gs->head_seq &&
	    strcmp(boot, f->gs->boot))
		f->foreign = true;
	return 0;
}

/* Fast path: applies a record to the loaded tree, in memory only. */
static int apply_one(void *ctx, const char *boot, const char *payload,
		     size_t len)
{
	struct fast *f = ctx;
	struct gs_record rec;
	int e = 0;
	if (take_state(f->gs, boot, payload, len, &e))
		return e;
	if (gs_record_decode(payload, len, &rec))
		return 0; /* as the writer does: skipped */
	/* a seq seen twice (a batch rewritten after a failed fsync) */
	if (rec.seq > f->seq) {
		for (unsigned i = 0; i < rec.neffects && !e; i++)
			e = f->efn(f->ctx, &rec.effects[i]);
		if (e)
			snprintf(f->gs->err, sizeof(f->gs->err),
				 "applying record %llu: %s",
				 (unsigned long long)rec.seq, strerror(-e));
		f->seq = rec.seq;
	}
	gs_record_release(&rec);
	return e;
}

static int max_seq(void *ctx, const char *boot, const char *payload,
		   size_t len)
{
	uint64_t *m = ctx, s = payload_seq(payload, len);
	(void)boot;
	if (s > *m)
		*m = s;
	return 0;
}

/*
 * The new segment (after the last record) carries the daemon state; old
 * segments whose records are not all in Git stay until the writer has
 * committed them, their records queued for it as if just flushed.
 */
static int fast_journal(struct gitstore *gs, struct gs_jseg *segs, size_t n,
			uint64_t last)
{
	struct gs_buf snap = { 0 };
	int e = gs_state_encode_all(gs->state, &snap);
	if (!e)
		e = gs_journal_start_with(&gs->journal, last + 1, snap.data,
					  snap.len);
	gs_buf_free(&snap);
	if (e)
		return e;
	for (size_t i = 0; i < n; i++) {
		struct gs_jseg *g = &segs[i];
		uint64_t m = 0;
		if (g->first == last + 1)
			continue; /* only state records: replaced just now */
		segs_foreach(g, 1, max_seq, &m);
		if (m <= gs->head_seq) {
			if ((e = gs_journal_drop(&gs->journal, g->first)))
				return e;
			continue;
		}
		struct gs_chunk *c = malloc(sizeof(*c));
		if (!c || (e = gs_journal_keep(&gs->journal, g->first, m))) {
			free(c);
			return -ENOMEM;
		}
		memmove(g->data, g->data + g->start, g->end - g->start);
		c->next = NULL;
		c->buf = (struct gs_buf){ g->data, g->end - g->start,
					  g->end - g->start };
		memcpy(c->boot, g->boot, sizeof(c->boot));
		g->data = NULL;
		if (gs->qtail)
			gs->qtail->next = c;
		else
			gs->qhead = c;
		gs->qtail = c;
		gs->qchunks++;
	}
	return 0;
}

/* Slow path: everything old goes into Git (on disk) first. */
static int slow_journal(struct gitstore *gs, struct gs_jseg *segs, size_t n)
{
	int e = segs_foreach(segs, n, replay_one, gs);
	if (e)
		return e;
	if (!gs->has_head || strcmp(gs->head_boot, gs->boot)) {
		if ((e = gs_commit_boot(gs)))
			return e;
	}
	if ((e = gs_publish(gs)))
		return e;
	/*
	 * Its journal can go, once the new segment holds the daemon state
	 * the old ones carried.
	 */
	struct gs_buf snap = { 0 };
	if (!(e = gs_state_encode_all(gs->state, &snap)))
		e = gs_journal_start_with(&gs->journal, gs->head_seq + 1,
					  snap.data, snap.len);
	gs_buf_free(&snap);
	return e ? e : gs_journal_drop_old(&gs->journal);
}

/*
 * While the whole tree is read: no SHA-1 of every object read (packs
 * carry a zlib checksum per object and a CRC in the index), and room to
 * keep the windows of every pack mapped instead of remapping them.
 */
static void load_opts(bool loading)
{
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, !loading);
}

int gs_recover(struct gitstore *gs, gitstore_node_fn fn, gs_effect_fn efn,
	       void *ctx, uint64_t *last_seq)
{
	struct gs_jseg *segs = NULL;
	size_t nsegs = 0;
	git_oid head, tree;
	uint64_t head_seq;
	char head_boot[40];
	bool exists;
	int e;
	if (gs->recovered)
		return -EALREADY;
	if ((e = gs_repo_get_main(&gs->repo, &head, &exists))) {
		gs_git_error(e, gs->err, sizeof(gs->err));
		return e;
	}
	if (exists) {
		if ((e = gs_commit_meta(gs, &head, &tree, &gs->head_seq,
					gs->head_boot, sizeof(gs->head_boot))))
			return e;
		git_oid_cpy(&gs->head, &head);
		gs->has_head = true;
	}
	if ((e = gs_mirror_init(&gs->mirror, &gs->repo, exists ? &tree : NULL)))
		goto fail;
	gs->mirror_ok = true;
	if ((e = gs_journal_load(&gs->journal, &segs, &nsegs)))
		goto fail;
	struct fast f = { gs, efn, ctx, gs->head_seq, false };
	segs_foreach(segs, nsegs, check_one, &f);
	bool fast = efn && gs->has_head && !strcmp(gs->head_boot, gs->boot) &&
		    !f.foreign;
	if (!fast && (e = slow_journal(gs, segs, nsegs)))
		goto fail;
	/* the slow path moved the head */
	if (!fast && (e = gs_commit_meta(gs, &gs->head, &tree, &head_seq,
					 head_boot, sizeof(head_boot))))
		goto fail;
	load_opts(true);
	e = gs_recover_load(gs, &tree, fn, ctx);
	load_opts(false);
	if (e)
		goto fail;
	if (fast && ((e = segs_foreach(segs, nsegs, apply_one, &f)) ||
		     (e = fast_journal(gs, segs, nsegs, f.seq))))
		goto fail;
	gs_journal_segs_free(segs, nsegs);
	segs = NULL;
	gs->git_seq = gs->head_seq;
	gs->flushed_seq = gs->appended_seq = fast ? f.seq : gs->head_seq;
	/* a first batch of state records only ends at the same seq */
	gs->batch_last_seq = gs->appended_seq;
	if ((e = gs_writer_start(gs)))
		goto fail;
	gs->recovered = true;
	if (last_seq)
		*last_seq = gs->appended_seq;
	return 0;
fail:
	gs_journal_segs_free(segs, nsegs);
	if (!gs->err[0] || e == -EIO) {
		const git_error *ge = git_error_last();
		snprintf(gs->err, sizeof(gs->err), "recovery: %s%s%s",
			 strerror(-e), ge && ge->message ? ": " : "",
			 ge && ge->message ? ge->message : "");
	}
	return e;
}
