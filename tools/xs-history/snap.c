/*
 * snap.c - the tree at one change, read lazily from Git: a node's value,
 * perms and children are read when first needed, so that looking at one
 * path, or comparing two trees that share subtrees, costs only what
 * differs. Pending journal records are applied on top as effects.
 * A fanned-out directory's children are read from its bucket trees
 * (store/git/fanout.h), at any depth.
 */
#include "hist.h"
#include "store/git/fanout.h"
#include "store/git/mirror.h"
#include "store/git/record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKET_LEVELS 8u /* deeper buckets: a corrupt tree */

static struct snode *snode_new(const char *name, size_t len)
{
	struct snode *n = calloc(1, sizeof(*n));
	if (!n || !(n->name = strndup(name, len))) {
		free(n);
		return NULL;
	}
	return n;
}

static void snode_free(struct snode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		snode_free(n->kids[i]);
	free(n->kids);
	free(n->name);
	free(n->value);
	free(n->perms);
	free(n);
}

static int kid_add(struct snode *p, struct snode *k)
{
	if (p->nkids == p->capkids) {
		size_t cap = p->capkids ? 2 * p->capkids : 4;
		struct snode **v = realloc(p->kids, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		p->kids = v;
		p->capkids = cap;
	}
	p->kids[p->nkids++] = k;
	return 0;
}

static int blob_read(struct snap *s, const git_oid *id, char **out,
		     uint32_t *len)
{
	git_blob *b;
	if (git_blob_lookup(&b, s->h->repo, id))
		return -EIO;
	size_t n = (size_t)git_blob_rawsize(b);
	char *v = malloc(n + 1);
	if (!v) {
		git_blob_free(b);
		return -ENOMEM;
	}
	memcpy(v, git_blob_rawcontent(b), n);
	v[n] = '\0';
	git_blob_free(b);
	*out = v;
	*len = (uint32_t)n;
	return 0;
}

/* "n0\nr5\n" (as stored) -> "n0,r5" (as xenstore-ls prints). */
static void perms_text(char *p)
{
	size_t n = strlen(p);
	while (n && p[n - 1] == '\n')
		p[--n] = '\0';
	for (char *c = p; *c; c++)
		if (*c == '\n')
			*c = ',';
}

static void order_kids(struct snode *n, const char *order, size_t len)
{
	size_t k = 0;
	const char *p = order, *end = order + len;
	while (p < end && k < n->nkids) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		for (size_t i = k; i < n->nkids; i++)
			if (strlen(n->kids[i]->name) == l &&
			    !memcmp(n->kids[i]->name, p, l)) {
				struct snode *t = n->kids[k];
				n->kids[k++] = n->kids[i];
				n->kids[i] = t;
				break;
			}
		p += l + 1;
	}
}

/* Git's order of tree names (fanout.h gs_fan_name_cmp()). */
static int by_git_order(const void *a, const void *b)
{
	const struct snode *x = *(struct snode *const *)a;
	const struct snode *y = *(struct snode *const *)b;
	return gs_fan_name_cmp(x->name, strlen(x->name), y->name,
			       strlen(y->name));
}

/* A child of n from a tree entry. */
static int kid_from_entry(struct snode *n, const char *name, const git_oid *id)
{
	struct snode *k = snode_new(name, strlen(name));
	if (!k)
		return -ENOMEM;
	k->tree = *id;
	k->has_tree = true;
	int e = kid_add(n, k);
	if (e)
		snode_free(k);
	return e;
}

/* Adds the children in bucket tree id, and in its buckets, to n. */
static int bucket_load(struct snap *s, struct snode *n, const git_oid *id,
		       unsigned level)
{
	git_tree *t;
	if (level >= BUCKET_LEVELS || git_tree_lookup(&t, s->h->repo, id))
		return -EIO;
	int e = 0;
	size_t cnt = git_tree_entrycount(t);
	for (size_t i = 0; i < cnt && !e; i++) {
		const git_tree_entry *te = git_tree_entry_byindex(t, i);
		const char *name = git_tree_entry_name(te);
		if (git_tree_entry_type(te) != GIT_OBJECT_TREE)
			continue; /* a bucket holds no blobs */
		if (name[0] != '.')
			e = kid_from_entry(n, name, git_tree_entry_id(te));
		else if (gs_fan_is_bucket(name))
			e = bucket_load(s, n, git_tree_entry_id(te), level + 1);
	}
	git_tree_free(t);
	return e;
}

int snode_load(struct snap *s, struct snode *n)
{
	if (n->loaded)
		return 0;
	n->loaded = true;
	if (!n->has_tree)
		return 0;
	git_tree *t;
	if (git_tree_lookup(&t, s->h->repo, &n->tree))
		return -EIO;
	int e = 0;
	bool fanned = false;
	char *order = NULL;
	uint32_t olen = 0;
	size_t cnt = git_tree_entrycount(t);
	for (size_t i = 0; i < cnt && !e; i++) {
		const git_tree_entry *te = git_tree_entry_byindex(t, i);
		const char *name = git_tree_entry_name(te);
		const git_oid *id = git_tree_entry_id(te);
		if (git_tree_entry_type(te) == GIT_OBJECT_TREE) {
			if (name[0] != '.') {
				e = kid_from_entry(n, name, id);
			} else if (gs_fan_is_bucket(name)) {
				fanned = true;
				e = bucket_load(s, n, id, 0);
			}
		} else if (!strcmp(name, ".value")) {
			free(n->value);
			e = blob_read(s, id, &n->value, &n->len);
		} else if (!strcmp(name, ".perms")) {
			uint32_t l;
			free(n->perms);
			if (!(e = blob_read(s, id, &n->perms, &l)))
				perms_text(n->perms);
		} else if (!strcmp(name, ".order")) {
			e = blob_read(s, id, &order, &olen);
		}
	}
	git_tree_free(t);
	/* buckets come in hash order: Git's order, as a flat tree has it */
	if (!e && fanned)
		qsort(n->kids, n->nkids, sizeof(*n->kids), by_git_order);
	if (!e && order)
		order_kids(n, order, olen);
	free(order);
	if (!e && !n->value && !(n->value = strdup("")))
		e = -ENOMEM;
	if (!e && !n->perms && !(n->perms = strdup("n0")))
		e = -ENOMEM;
	return e;
}

/* Child named name[0..len) of n, loading n; NULL if none. */
static int kid_find(struct snap *s, struct snode *n, const char *name,
		    size_t len, size_t *pos, struct snode **out)
{
	int e = snode_load(s, n);
	*out = NULL;
	if (e)
		return e;
	for (size_t i = 0; i < n->nkids; i++)
		if (strlen(n->kids[i]->name) == len &&
		    !memcmp(n->kids[i]->name, name, len)) {
			*pos = i;
			*out = n->kids[i];
			return 0;
		}
	return 0;
}

int snap_find(struct snap *s, const char *path, struct snode **out)
{
	struct snode *n = s->root;
	const char *p = path;
	*out = NULL;
	while (n && *p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t l = strcspn(p, "/"), pos;
		int e = kid_find(s, n, p, l, &pos, &n);
		if (e)
			return e;
		p += l;
	}
	if (n) {
		int e = snode_load(s, n);
		if (e)
			return e;
	}
	*out = n;
	return 0;
}

/* Applies one effect of a pending record. */
static int apply(struct snap *s, const struct store_effect *ef)
{
	struct snode *n = s->root, *k;
	const char *p = ef->path;
	int e;
	for (;;) {
		if ((e = snode_load(s, n)))
			return e;
		n->has_tree = false; /* changed from here down */
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t l = strcspn(p, "/"), pos = 0;
		if ((e = kid_find(s, n, p, l, &pos, &k)))
			return e;
		if (!k) {
			if (ef->deleted)
				return 0;
			if (!(k = snode_new(p, l)))
				return -ENOMEM;
			k->loaded = true;
			k->value = strdup("");
			k->perms = strdup(n->perms ? n->perms : "n0");
			if (!k->value || !k->perms || (e = kid_add(n, k))) {
				snode_free(k);
				return -ENOMEM;
			}
		}
		p += l;
		while (*p == '/')
			p++;
		if (!*p && ef->deleted) {
			snode_free(k);
			memmove(&n->kids[pos], &n->kids[pos + 1],
				(n->nkids - pos - 1) * sizeof(k));
			n->nkids--;
			return 0;
		}
		n = k;
	}
	if (ef->deleted)
		return 0; /* the root is never deleted */
	char *v = malloc(ef->len + 1), *pt = malloc(16 * ef->nperms + 4);
	if (!v || !pt) {
		free(v);
		free(pt);
		return -ENOMEM;
	}
	memcpy(v, ef->value, ef->len);
	v[ef->len] = '\0';
	size_t l = gs_perms_format(ef->perms, ef->nperms, pt);
	pt[l] = '\0';
	perms_text(pt);
	free(n->value);
	free(n->perms);
	n->value = v;
	n->len = ef->len;
	n->perms = pt;
	return 0;
}

int snap_at(struct hist *h, size_t idx, struct snap *s)
{
	s->h = h;
	s->root = snode_new("", 0);
	if (!s->root)
		return -ENOMEM;
	/* the newest commit at or before idx, then pending records */
	size_t base = idx < h->ngit ? idx : h->ngit - 1;
	int e = 0;
	if (h->ngit) {
		git_commit *c;
		if (git_commit_lookup(&c, h->repo, &h->v[base].oid)) {
			const git_error *ge = git_error_last();
			snprintf(h->err, sizeof(h->err),
				 "%s: corrupt repository: %s", h->store,
				 ge && ge->message ? ge->message : "bad commit");
			return -EIO;
		}
		s->root->tree = *git_commit_tree_id(c);
		s->root->has_tree = true;
		git_commit_free(c);
	} else {
		s->root->loaded = true;
		s->root->value = strdup("");
		s->root->perms = strdup("n0");
	}
	for (size_t i = h->ngit; i <= idx && i < h->n && !e; i++) {
		const struct gs_record *r = h->v[i].rec;
		for (unsigned k = 0; k < r->neffects && !e; k++)
			e = apply(s, &r->effects[k]);
	}
	return e;
}

void snap_free(struct snap *s)
{
	snode_free(s->root);
	s->root = NULL;
}

/* --- walking and comparing ------------------------------------------- */

static char *join(const char *path, const char *name)
{
	char *p;
	bool root = !strcmp(path, "/");
	if (asprintf(&p, "%s%s%s", path, root ? "" : "/", name) < 0)
		return NULL;
	return p;
}

int snap_walk(struct snap *s, struct snode *n, const char *path, snode_fn fn,
	      void *ctx)
{
	int e = snode_load(s, n);
	if (!e)
		e = fn(ctx, path, n);
	for (size_t i = 0; i < n->nkids && !e; i++) {
		char *p = join(path, n->kids[i]->name);
		if (!p)
			return -ENOMEM;
		e = snap_walk(s, n->kids[i], p, fn, ctx);
		free(p);
	}
	return e;
}

struct one_side {
	hdiff_fn fn;
	void *ctx;
	enum hdiff_kind kind;
};

static int side_cb(void *ctx, const char *path, const struct snode *n)
{
	struct one_side *o = ctx;
	struct hdiff d = { o->kind, path, NULL, NULL };
	if (o->kind == HDIFF_ADDED)
		d.new = n;
	else
		d.old = n;
	return o->fn(o->ctx, &d);
}

static int diff_nodes(struct snap *sa, struct snode *a, struct snap *sb,
		      struct snode *b, const char *path, hdiff_fn fn, void *ctx)
{
	if (!a && !b)
		return 0;
	if (a && b && a->has_tree && b->has_tree &&
	    git_oid_equal(&a->tree, &b->tree))
		return 0;
	if (!a || !b) {
		struct one_side o = { fn, ctx, a ? HDIFF_REMOVED : HDIFF_ADDED };
		return snap_walk(a ? sa : sb, a ? a : b, path, side_cb, &o);
	}
	int e = snode_load(sa, a);
	if (!e)
		e = snode_load(sb, b);
	if (e)
		return e;
	if (a->len != b->len || memcmp(a->value, b->value, a->len) ||
	    strcmp(a->perms, b->perms)) {
		struct hdiff d = { HDIFF_CHANGED, path, a, b };
		if ((e = fn(ctx, &d)))
			return e;
	}
	/* old children first (changed or removed), in a's order, then added */
	for (size_t i = 0; i < a->nkids && !e; i++) {
		struct snode *bk = NULL;
		for (size_t j = 0; j < b->nkids; j++)
			if (!strcmp(a->kids[i]->name, b->kids[j]->name)) {
				bk = b->kids[j];
				break;
			}
		char *p = join(path, a->kids[i]->name);
		if (!p)
			return -ENOMEM;
		e = diff_nodes(sa, a->kids[i], sb, bk, p, fn, ctx);
		free(p);
	}
	for (size_t j = 0; j < b->nkids && !e; j++) {
		bool found = false;
		for (size_t i = 0; i < a->nkids && !found; i++)
			found = !strcmp(a->kids[i]->name, b->kids[j]->name);
		if (found)
			continue;
		char *p = join(path, b->kids[j]->name);
		if (!p)
			return -ENOMEM;
		e = diff_nodes(sa, NULL, sb, b->kids[j], p, fn, ctx);
		free(p);
	}
	return e;
}

int snap_diff(struct snap *a, struct snap *b, const char *path, hdiff_fn fn,
	      void *ctx)
{
	struct snode *na, *nb;
	int e = snap_find(a, path, &na);
	if (!e)
		e = snap_find(b, path, &nb);
	if (!e)
		e = diff_nodes(a, na, b, nb, path, fn, ctx);
	return e;
}
