/*
 * ckpt_stale.c - objects of a head tree outside the checkpoint pack
 * (ckpt_stale.h).
 */
#include "ckpt_stale.h"
#include "repo.h"

#include <errno.h>
#include <string.h>

/* Entries between two looks at the stop flag. */
#define STOP_CHECK 256u

struct count {
	const struct gs_ckpt_read *r;
	git_odb *odb;
	uint64_t limit, n;
	gs_ckpt_stop_fn stop;
	void *arg;
	unsigned tick;
};

/* id is a tree the checkpoint lacks, counted already: its entries. */
static int count_tree(struct count *c, const git_oid *id)
{
	git_odb_object *o;
	int e = git_odb_read(&o, c->odb, id);
	if (e)
		return gs_git_error(e, NULL, 0);
	if (git_odb_object_type(o) != GIT_OBJECT_TREE) {
		git_odb_object_free(o);
		return -EIO;
	}
	const char *p = git_odb_object_data(o);
	const char *end = p + git_odb_object_size(o);
	while (p < end && !e && c->n <= c->limit) {
		const git_oid *cid;
		bool is_tree;
		if ((e = gs_tree_entry_next(&p, end, &cid, &is_tree)))
			break;
		if (++c->tick % STOP_CHECK == 0 && c->stop && c->stop(c->arg))
			e = -ECANCELED;
		else if (gs_ckpt_read_has(c->r, cid))
			continue; /* and all below it */
		else if (++c->n > c->limit)
			break;
		else if (is_tree)
			e = count_tree(c, cid);
	}
	git_odb_object_free(o);
	return e;
}

int gs_ckpt_stale_count(const struct gs_ckpt_read *r, git_odb *odb,
			const git_oid *tree, uint64_t limit,
			gs_ckpt_stop_fn stop, void *arg, uint64_t *count)
{
	struct count c = { .r = r, .odb = odb, .limit = limit, .stop = stop,
			   .arg = arg };
	int e = 0;
	if (!gs_ckpt_read_has(r, tree) && ++c.n <= limit)
		e = count_tree(&c, tree);
	*count = c.n > limit ? limit + 1 : c.n;
	return e;
}
