/*
 * commit.c - builds the struct store_commit handed to the commit hook.
 *
 * Strings, values and permissions are copied into one arena while the
 * commit is built (nodes they came from may be freed meanwhile, e.g. by
 * RM), and stored as offsets until cb_emit() fixes the pointers up: the
 * arena may move while it grows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define OFF(x) ((const void *)(uintptr_t)(x))
#define NOOFF ((size_t)-1)

static size_t arena_put(struct commit_buf *cb, const void *p, size_t len,
			bool nul)
{
	size_t need = cb->used + len + (nul ? 1 : 0) + 7, off;
	char *a;

	if (need > cb->cap) {
		size_t cap = cb->cap ? cb->cap : 4096;

		while (cap < need)
			cap *= 2;
		a = realloc(cb->arena, cap);
		if (!a) {
			cb->oom = true;
			return NOOFF;
		}
		cb->arena = a;
		cb->cap = cap;
	}
	/* Keep perms arrays aligned. */
	cb->used = (cb->used + 7) & ~(size_t)7;
	off = cb->used;
	if (len)
		memcpy(cb->arena + off, p, len);
	cb->used += len;
	if (nul)
		cb->arena[cb->used++] = '\0';
	return off;
}

static bool grow(void **arr, unsigned n, unsigned *cap, size_t size,
		 struct commit_buf *cb)
{
	void *a;
	unsigned c;

	if (n < *cap)
		return true;
	c = *cap ? *cap * 2 : 8;
	a = realloc(*arr, (size_t)c * size);
	if (!a) {
		cb->oom = true;
		return false;
	}
	*arr = a;
	*cap = c;
	return true;
}

void cb_reset(struct commit_buf *cb)
{
	cb->nops = cb->neffects = cb->nevents = 0;
	cb->used = 0;
	cb->oom = false;
}

void cb_free(struct commit_buf *cb)
{
	free(cb->ops);
	free(cb->effects);
	free(cb->events);
	free(cb->arena);
	memset(cb, 0, sizeof(*cb));
}

void cb_op(struct commit_buf *cb, enum store_op_kind kind, const char *path)
{
	struct store_op *o;

	if (!grow((void **)&cb->ops, cb->nops, &cb->capops, sizeof(*o), cb))
		return;
	o = &cb->ops[cb->nops++];
	o->kind = kind;
	o->path = OFF(arena_put(cb, path, strlen(path), true));
}

void cb_effect(struct commit_buf *cb, const char *path, bool deleted,
	       const void *value, uint32_t len, const struct xsw_perm *perms,
	       unsigned nperms)
{
	struct store_effect *e;

	if (!grow((void **)&cb->effects, cb->neffects, &cb->capeffects,
		  sizeof(*e), cb))
		return;
	e = &cb->effects[cb->neffects++];
	memset(e, 0, sizeof(*e));
	e->path = OFF(arena_put(cb, path, strlen(path), true));
	e->deleted = deleted;
	if (deleted) {
		e->value = OFF(NOOFF);
		e->perms = OFF(NOOFF);
		return;
	}
	e->value = OFF(arena_put(cb, value, len, false));
	e->len = len;
	e->perms = OFF(arena_put(cb, perms, nperms * sizeof(*perms), false));
	e->nperms = nperms;
}

void cb_event(struct commit_buf *cb, const char *path, bool exact,
	      const struct xsw_perm *perms, unsigned nperms,
	      const struct xsw_perm *old, unsigned nold)
{
	struct store_event *e;

	if (!grow((void **)&cb->events, cb->nevents, &cb->capevents,
		  sizeof(*e), cb))
		return;
	e = &cb->events[cb->nevents++];
	e->path = OFF(arena_put(cb, path, strlen(path), true));
	e->exact = exact;
	e->perms = OFF(arena_put(cb, perms, nperms * sizeof(*perms), false));
	e->nperms = nperms;
	e->old_perms = OFF(old ? arena_put(cb, old, nold * sizeof(*old), false)
			       : NOOFF);
	e->nold_perms = old ? nold : 0;
}

static const void *fix(const struct commit_buf *cb, const void *off)
{
	size_t o = (size_t)(uintptr_t)off;

	return o == NOOFF ? NULL : cb->arena + o;
}

int cb_emit(struct store *st, const struct store_caller *who, uint32_t tx_id)
{
	struct commit_buf *cb = &st->cb;
	struct store_commit c;
	unsigned i;

	if (cb->oom)
		return -ENOMEM;
	for (i = 0; i < cb->nops; i++)
		cb->ops[i].path = fix(cb, cb->ops[i].path);
	for (i = 0; i < cb->neffects; i++) {
		struct store_effect *e = &cb->effects[i];

		e->path = fix(cb, e->path);
		e->value = fix(cb, e->value);
		e->perms = fix(cb, e->perms);
	}
	for (i = 0; i < cb->nevents; i++) {
		struct store_event *e = &cb->events[i];

		e->path = fix(cb, e->path);
		e->perms = fix(cb, e->perms);
		e->old_perms = fix(cb, e->old_perms);
	}
	memset(&c, 0, sizeof(c));
	c.caller = *who;
	c.tx_id = tx_id;
	c.seq = ++st->seq;
	c.nops = cb->nops;
	c.ops = cb->ops;
	c.neffects = cb->neffects;
	c.effects = cb->effects;
	c.nevents = cb->nevents;
	c.events = cb->events;
	if (st->hook)
		st->hook(st->hook_ctx, &c);
	return 0;
}
