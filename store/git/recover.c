/* recover.c - start-up: catch Git up with the journal, then load the tree. */
#include "gitstore_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int replay_one(void *ctx, const char *boot, const char *payload,
		      size_t len)
{
	struct gitstore *gs = ctx;
	struct gs_record rec;
	uint32_t key;
	const char *data;
	size_t dlen;
	/*
	 * Later records of a key replace earlier ones: the latest wins. The
	 * state of another boot described guests that are gone with it.
	 */
	if (gs_state_decode(payload, len, &key, &data, &dlen))
		return strcmp(boot, gs->boot) ? 0
		       : gs_state_set(&gs->state, key, data, dlen);
	int e = gs_record_decode(payload, len, &rec);
	if (e)
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

int gitstore_recover_nodes(struct gitstore *gs, gitstore_node_fn fn,
			   void *ctx, uint64_t *last_seq)
{
	git_oid head, tree;
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
	if ((e = gs_journal_scan(&gs->journal, replay_one, gs)))
		goto fail;
	if (!gs->has_head || strcmp(gs->head_boot, gs->boot)) {
		if ((e = gs_commit_boot(gs)))
			goto fail;
	}
	if ((e = gs_publish(gs)))
		goto fail;
	/*
	 * Everything old is in Git now (on disk): its journal can go, once
	 * the new segment holds the daemon state the old ones carried.
	 */
	struct gs_buf snap = { 0 };
	if (!(e = gs_state_encode_all(gs->state, &snap)))
		e = gs_journal_start_with(&gs->journal, gs->head_seq + 1,
					  snap.data, snap.len);
	gs_buf_free(&snap);
	if (e || (e = gs_journal_drop_old(&gs->journal)))
		goto fail;
	gs->git_seq = gs->flushed_seq = gs->appended_seq = gs->head_seq;
	/* a first batch of state records only ends at the same seq */
	gs->batch_last_seq = gs->head_seq;
	if ((e = gs_mirror_walk(&gs->mirror, fn, ctx)))
		goto fail;
	/* the walk loaded the whole tree; all of it is on disk */
	gs_mirror_trim(&gs->mirror, GS_MIRROR_NODES_MAX, GS_MIRROR_KEEP);
	if ((e = gs_writer_start(gs)))
		goto fail;
	gs->recovered = true;
	if (last_seq)
		*last_seq = gs->head_seq;
	return 0;
fail:
	if (!gs->err[0] || e == -EIO) {
		const git_error *ge = git_error_last();
		snprintf(gs->err, sizeof(gs->err), "recovery: %s%s%s",
			 strerror(-e), ge && ge->message ? ": " : "",
			 ge && ge->message ? ge->message : "");
	}
	return e;
}
