/*
 * txn.c - transactions as an overlay on the main tree, with cxenstored's
 * conflict rule (xenstored_transaction.c).
 *
 * Every path a transaction touches gets one struct tnode, in access order,
 * holding a copy of the node (value, perms, child names) or of its absence
 * as it was at that first access: later accesses in the transaction see
 * the copy, as cxenstored's per-transaction node copies give, even when
 * another connection changes the node meanwhile. Only accessed nodes are
 * copied, never the tree, so a transaction costs what it touches. The first
 * access being a read records the main node's generation (or its absence):
 * commit fails with EAGAIN if that changed. As in cxenstored, every change
 * is preceded by a read of the node and of the parents it touches, so a
 * write conflicts with a concurrent change of the same node, and creating
 * siblings conflicts through the parent's child list.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../protocol/wire.h"
#include "internal.h"

struct tnode {
	UT_hash_handle hh;
	struct tnode *next_acc;
	uint64_t gen_seen;   /* main generation at first access */
	uint64_t generation; /* of the copy */
	unsigned order;
	bool check_gen, modified, exists, data_dirty, children_dirty;
	bool fire, fire_exact;
	unsigned char *data; /* perms then value, as struct snode */
	uint32_t len, nperms;
	char *children;      /* "a\0b\0", creation order */
	uint32_t childlen, nchildren;
	struct xsw_perm *fire_perms; /* perms of a removed node */
	unsigned nfire_perms;
	uint32_t pathlen;
	char path[];
};

struct txn_op_rec {
	enum store_op_kind kind;
	char *path;
};

struct store_txn {
	struct store_caller who;
	uint32_t tx_id;
	struct tnode *index;
	struct tnode *first, *last;
	unsigned ntn;
	int fail;
	struct owner_count *deltas;
	uint64_t copy_mem; /* store_txn_memory() */
	struct txn_op_rec *ops;
	unsigned nops, capops;
};

static struct tnode *tn_find(struct store_txn *t, const char *path, size_t len)
{
	struct tnode *tn = NULL;

	HASH_FIND(hh, t->index, path, len, tn);
	return tn;
}

static struct tnode *tn_new(const char *path, size_t len)
{
	struct tnode *tn = calloc(1, sizeof(*tn) + len + 1);

	if (!tn)
		return NULL;
	memcpy(tn->path, path, len);
	tn->pathlen = len;
	return tn;
}

static void tn_insert(struct store_txn *t, struct tnode *tn)
{
	tn->order = t->ntn++;
	HASH_ADD_KEYPTR(hh, t->index, tn->path, tn->pathlen, tn);
	if (t->last)
		t->last->next_acc = tn;
	else
		t->first = tn;
	t->last = tn;
}

void txn_fail(struct store_txn *t, int err)
{
	if (!t->fail)
		t->fail = err;
}

static void view_tn(const struct tnode *tn, struct nview *v)
{
	memset(v, 0, sizeof(*v));
	v->path = tn->path;
	if (!tn->exists)
		return;
	v->exists = true;
	v->perms = (const struct xsw_perm *)tn->data;
	v->nperms = tn->nperms;
	v->value = (const char *)tn->data + tn->nperms * sizeof(struct xsw_perm);
	v->len = tn->len;
	v->generation = tn->generation;
	v->nchildren = tn->nchildren;
	v->childlen = tn->childlen;
	v->tn = (struct tnode *)tn;
}

static int names_of_main(const struct store *st, const struct snode *m,
			 char **names, size_t *len)
{
	size_t off = 0;
	char *buf = malloc(m->childlen ? m->childlen : 1);
	const struct snode *c;

	if (!buf)
		return -ENOMEM;
	for (c = snode_first(st, m); c; c = snode_next(st, c)) {
		memcpy(buf + off, snode_name(c), c->namelen + 1);
		off += c->namelen + 1;
	}
	*names = buf;
	*len = off;
	return 0;
}

int txn_child_names(const struct store *st, struct store_txn *t,
		    const struct nview *v, char **names, size_t *len)
{
	char *buf;

	(void)t;
	if (v->main)
		return names_of_main(st, v->main, names, len);
	buf = malloc(v->childlen ? v->childlen : 1);
	if (!buf)
		return -ENOMEM;
	if (v->childlen)
		memcpy(buf, v->tn->children, v->childlen);
	*names = buf;
	*len = v->childlen;
	return 0;
}

/* A node's state at the transaction's first access of it. */
static int tn_snapshot(const struct store *st, struct snode *m,
		       struct tnode *tn)
{
	size_t l;

	tn->gen_seen = m ? m->generation : STORE_NO_GEN;
	if (!m)
		return 0;
	l = m->nperms * sizeof(struct xsw_perm);
	tn->data = malloc(l + m->len ? l + m->len : 1);
	if (!tn->data)
		return -ENOMEM;
	memcpy(tn->data, snode_perms(m), l);
	memcpy(tn->data + l, snode_value(m), m->len);
	tn->len = m->len;
	tn->nperms = m->nperms;
	if (m->childlen) {
		size_t cl;

		if (names_of_main(st, m, &tn->children, &cl))
			return -ENOMEM;
	}
	tn->childlen = m->childlen;
	tn->nchildren = tree_nchildren(st, m);
	tn->generation = m->generation;
	tn->exists = true;
	return 0;
}

static void tn_free(struct tnode *tn)
{
	free(tn->data);
	free(tn->children);
	free(tn->fire_perms);
	free(tn);
}

static struct tnode *tn_access(struct store *st, struct store_txn *t,
			       const char *path, size_t len, bool check)
{
	struct tnode *tn = tn_find(t, path, len);

	if (tn)
		return tn;
	if (!t->who.privileged && store_limits_of(st, &t->who)->txn_nodes &&
	    t->ntn >= store_limits_of(st, &t->who)->txn_nodes) {
		txn_fail(t, -ENOSPC);
		errno = ENOSPC;
		return NULL;
	}
	tn = tn_new(path, len);
	if (!tn || tn_snapshot(st, tree_find(st, path, len), tn)) {
		if (tn)
			tn_free(tn);
		txn_fail(t, -ENOMEM);
		errno = ENOMEM;
		return NULL;
	}
	tn->check_gen = check;
	tn_insert(t, tn);
	return tn;
}

int txn_read(struct store *st, struct store_txn *t, const char *path,
	     struct nview *out)
{
	struct tnode *tn = tn_access(st, t, path, strlen(path), true);

	if (!tn)
		return -errno;
	view_tn(tn, out);
	return 0;
}

/* The transaction changes the node: its copy is applied at commit. */
static void tn_modify(struct store_txn *t, struct tnode *tn)
{
	if (!tn->modified && tn->exists)
		t->copy_mem += store_node_memory(tn->pathlen,
						 strlen(path_basename(tn->path)),
						 tn->nperms, tn->len);
	tn->modified = true;
}

uint64_t store_txn_memory(const struct store_txn *t)
{
	return t->copy_mem;
}

static struct tnode *tn_parent(struct store *st, struct store_txn *t,
			       const struct tnode *tn)
{
	size_t pl = path_parent_len(tn->path, tn->pathlen);
	/* cxenstored reads the parent it updates: it is checked at commit. */
	struct tnode *p = tn_access(st, t, tn->path, pl, true);

	if (p)
		tn_modify(t, p);
	return p;
}

static const char *tn_name(const struct tnode *tn)
{
	return path_basename(tn->path);
}

int txn_write(struct store *st, struct store_txn *t, const char *path,
	      bool create, const void *value, uint32_t len,
	      const struct xsw_perm *perms, unsigned nperms)
{
	size_t plen = nperms * sizeof(*perms), nl;
	struct tnode *tn = tn_access(st, t, path, strlen(path), false), *p;
	unsigned char *d;
	char *c;

	if (!tn)
		return -errno;
	tn_modify(t, tn);
	d = malloc(plen + len ? plen + len : 1);
	if (!d)
		goto nomem;
	memcpy(d, perms, plen);
	if (len)
		memcpy(d + plen, value, len);
	free(tn->data);
	tn->data = d;
	tn->len = len;
	tn->nperms = nperms;
	tn->data_dirty = true;
	tn->generation = st->generation++;
	if (!create)
		return 0;
	tn->exists = true;
	free(tn->children);
	tn->children = NULL;
	tn->childlen = tn->nchildren = 0;
	p = tn_parent(st, t, tn);
	if (!p)
		return t->fail;
	nl = strlen(tn_name(tn)) + 1;
	c = realloc(p->children, p->childlen + nl);
	if (!c)
		goto nomem;
	memcpy(c + p->childlen, tn_name(tn), nl);
	p->children = c;
	p->childlen += nl;
	p->nchildren++;
	p->children_dirty = true;
	p->generation = st->generation++;
	return 0;
nomem:
	txn_fail(t, -ENOMEM);
	return -ENOMEM;
}

void txn_fire(struct store_txn *t, const char *path, bool exact)
{
	struct tnode *tn = tn_find(t, path, strlen(path));

	if (!tn) {
		txn_fail(t, -ENOMEM);
		return;
	}
	/* A non-exact event replaces an exact one, not the other way round. */
	if (!tn->fire) {
		tn->fire = true;
		tn->fire_exact = exact;
	} else if (!exact) {
		tn->fire_exact = false;
	}
}

static int rm_sub(struct store *st, struct store_txn *t, const char *path,
		  bool root)
{
	struct nview v;
	char *names, *child, *name;
	size_t len, plen = strlen(path), off;
	struct tnode *tn;
	int err = txn_read(st, t, path, &v);

	if (err)
		return err;
	if (!v.exists)
		return 0;
	err = txn_child_names(st, t, &v, &names, &len);
	if (err)
		return err;
	/* No name is longer than the whole list. */
	child = malloc(plen + len + 2);
	for (off = 0; !err && child && off < len; off += strlen(name) + 1) {
		name = names + off;
		memcpy(child, path, plen);
		child[plen] = '/';
		strcpy(child + plen + (plen > 1), name);
		err = rm_sub(st, t, child, false);
	}
	if (!child && !err)
		err = -ENOMEM;
	free(child);
	free(names);
	if (err)
		return err;
	tn = tn_find(t, path, plen);
	tn_modify(t, tn);
	/* cxenstored fires a removed node with the perms it had. */
	free(tn->fire_perms);
	tn->nfire_perms = tn->nperms;
	tn->fire_perms = malloc(tn->nperms * sizeof(struct xsw_perm) + 1);
	if (!tn->fire_perms)
		return -ENOMEM;
	memcpy(tn->fire_perms, tn->data, tn->nperms * sizeof(struct xsw_perm));
	if (tn->nperms)
		txn_owner_delta(t, tn->fire_perms[0].domid, -1,
				-(int64_t)store_node_memory(tn->pathlen,
					strlen(path_basename(tn->path)),
					tn->nperms, tn->len));
	tn->exists = false;
	tn->data_dirty = false;
	free(tn->children);
	tn->children = NULL;
	tn->childlen = tn->nchildren = 0;
	tn->generation = st->generation++;
	txn_fire(t, path, !root);
	return 0;
}

int txn_remove(struct store *st, struct store_txn *t, const char *path,
	       bool exact)
{
	struct tnode *tn, *p;
	const char *name;
	size_t nl;
	uint32_t off;
	int err;

	(void)exact;
	err = rm_sub(st, t, path, true);
	if (err) {
		txn_fail(t, err);
		return err;
	}
	tn = tn_find(t, path, strlen(path));
	p = tn_parent(st, t, tn);
	if (!p)
		return t->fail;
	name = tn_name(tn);
	nl = strlen(name) + 1;
	for (off = 0; off < p->childlen; off += strlen(p->children + off) + 1) {
		if (!strcmp(p->children + off, name)) {
			memmove(p->children + off, p->children + off + nl,
				p->childlen - off - nl);
			p->childlen -= nl;
			p->nchildren--;
			break;
		}
	}
	p->children_dirty = true;
	p->generation = st->generation++;
	return 0;
}

void txn_op(struct store_txn *t, enum store_op_kind kind, const char *path)
{
	struct txn_op_rec *o;

	if (t->nops == t->capops) {
		unsigned c = t->capops ? t->capops * 2 : 8;

		o = realloc(t->ops, c * sizeof(*o));
		if (!o) {
			txn_fail(t, -ENOMEM);
			return;
		}
		t->ops = o;
		t->capops = c;
	}
	o = &t->ops[t->nops];
	o->kind = kind;
	o->path = strdup(path);
	if (!o->path) {
		txn_fail(t, -ENOMEM);
		return;
	}
	t->nops++;
}

void txn_owner_delta(struct store_txn *t, uint32_t domid, int delta,
		     int64_t mem)
{
	struct owner_count *o;

	HASH_FIND(hh, t->deltas, &domid, sizeof(domid), o);
	if (!o) {
		o = calloc(1, sizeof(*o));
		if (!o) {
			txn_fail(t, -ENOMEM);
			return;
		}
		o->domid = domid;
		HASH_ADD(hh, t->deltas, domid, sizeof(o->domid), o);
	}
	o->count += delta;
	o->mem += mem;
}

int64_t txn_owner_get(const struct store *st, const struct store_txn *t,
		      uint32_t domid)
{
	struct owner_count *o;

	HASH_FIND(hh, t->deltas, &domid, sizeof(domid), o);
	return owner_get(st, domid) + (o ? o->count : 0);
}

int64_t txn_owner_mem_get(const struct store *st, const struct store_txn *t,
			  uint32_t domid)
{
	struct owner_count *o;

	HASH_FIND(hh, t->deltas, &domid, sizeof(domid), o);
	return owner_mem_get(st, domid) + (o ? o->mem : 0);
}

int store_txn_begin(struct store *st, const struct store_caller *who,
		    uint32_t tx_id, struct store_txn **out)
{
	struct store_txn *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->who = *who;
	t->tx_id = tx_id;
	/* cxenstored gives each transaction a generation of its own. */
	st->generation++;
	st->open_txns++;
	*out = t;
	return 0;
}

static void txn_free(struct store *st, struct store_txn *t)
{
	struct tnode *tn, *tmp;
	struct owner_count *o, *otmp;
	unsigned i;

	HASH_ITER(hh, t->index, tn, tmp) {
		HASH_DEL(t->index, tn);
		tn_free(tn);
	}
	HASH_ITER(hh, t->deltas, o, otmp) {
		HASH_DEL(t->deltas, o);
		free(o);
	}
	for (i = 0; i < t->nops; i++)
		free(t->ops[i].path);
	free(t->ops);
	st->open_txns--;
	free(t);
}

void store_txn_abort(struct store *st, struct store_txn *t)
{
	if (t)
		txn_free(st, t);
}

/* Parents before children; among equals, access order. */
static int by_depth(const void *a, const void *b)
{
	const struct tnode *x = *(struct tnode *const *)a;
	const struct tnode *y = *(struct tnode *const *)b;
	unsigned dx = path_depth(x->path), dy = path_depth(y->path);

	if (dx != dy)
		return dx < dy ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}


static int check_conflicts(struct store *st, struct store_txn *t)
{
	struct tnode *tn;
	struct snode *m;

	for (tn = t->first; tn; tn = tn->next_acc) {
		if (!tn->check_gen)
			continue;
		m = tree_find(st, tn->path, tn->pathlen);
		if ((m ? m->generation : STORE_NO_GEN) != tn->gen_seen)
			return -EAGAIN;
	}
	return 0;
}

static int check_owner_quota(struct store *st, struct store_txn *t)
{
	const struct store_limits *lim = store_limits_of(st, &t->who);
	struct owner_count *o, *tmp;

	if (t->who.privileged)
		return 0;
	HASH_ITER(hh, t->deltas, o, tmp) {
		if (lim->nodes_per_domain && o->count > 0 &&
		    owner_get(st, o->domid) + o->count > lim->nodes_per_domain)
			return -ENOSPC;
		/* other transactions of the domain may have grown it since */
		/* this transaction's own copies go with its end */
		if (lim->memory && o->domid == t->who.domid && o->mem > 0 &&
		    owner_mem_get(st, o->domid) + o->mem +
		    (int64_t)store_memory_held(st, o->domid) -
		    (int64_t)t->copy_mem >
		    (int64_t)lim->memory)
			return -ENOMEM;
	}
	return 0;
}

/* Brings a main node's child order in line with the transaction's list. */
static void reorder_children(struct store *st, const struct tnode *tn)
{
	char buf[XSW_ABS_PATH_MAX + 2];
	size_t base = tn->pathlen == 1 ? 1 : tn->pathlen + 1, l;
	uint32_t off;
	struct snode *c;

	memcpy(buf, tn->path, tn->pathlen);
	buf[base - 1] = '/';
	for (off = 0; off < tn->childlen; off += l + 1) {
		l = strlen(tn->children + off);
		if (base + l >= sizeof(buf))
			continue;
		memcpy(buf + base, tn->children + off, l);
		c = tree_find(st, buf, base + l);
		if (c)
			tree_move_last(st, c);
	}
}

/* Applies one changed node to the main tree and records its effect. */
static int apply_one(struct store *st, struct tnode *tn)
{
	struct snode *m = tree_find(st, tn->path, tn->pathlen), *p;
	const struct xsw_perm *perms = (const struct xsw_perm *)tn->data;
	const void *value = tn->data + tn->nperms * sizeof(struct xsw_perm);
	int err = 0;

	if (!tn->exists) {
		if (m) {
			cb_effect(&st->cb, tn->path, true, NULL, 0, NULL, 0);
			tree_delete(st, m, tn->path, NULL, NULL);
		}
		return 0;
	}
	if (!m) {
		p = tree_find(st, tn->path,
			      path_parent_len(tn->path, tn->pathlen));
		if (!p)
			return -EIO;
		err = tree_create(st, p, tn->path, value, tn->len, perms,
				  tn->nperms, NULL);
	} else if (tn->data_dirty) {
		err = tree_set_data(st, &m, value, tn->len, perms, tn->nperms);
	} else {
		tree_touch(st, m);
		return 0;
	}
	if (!err)
		cb_effect(&st->cb, tn->path, false, value, tn->len, perms,
			  tn->nperms);
	return err;
}

int store_txn_commit(struct store *st, struct store_txn *t)
{
	struct tnode **mod = NULL, *tn;
	unsigned n = 0, i;
	/* cxenstored answers ENOMEM for any transaction it marked failed. */
	int err = t->fail ? -ENOMEM : 0;

	if (!err)
		err = check_conflicts(st, t);
	if (!err)
		err = check_owner_quota(st, t);
	if (!err) {
		mod = malloc((t->ntn + 1) * sizeof(*mod));
		if (!mod)
			err = -ENOMEM;
	}
	if (err)
		goto out;
	for (tn = t->first; tn; tn = tn->next_acc)
		if (tn->modified)
			mod[n++] = tn;
	if (!n)
		goto out; /* read-only: nothing to report */
	qsort(mod, n, sizeof(*mod), by_depth);
	cb_reset(&st->cb);
	for (i = 0; i < t->nops; i++)
		cb_op(&st->cb, t->ops[i].kind, t->ops[i].path);
	for (i = 0; i < n && !err; i++)
		err = apply_one(st, mod[i]);
	for (i = 0; i < n; i++)
		if (mod[i]->exists && mod[i]->children_dirty)
			reorder_children(st, mod[i]);
	for (tn = t->first; tn; tn = tn->next_acc) {
		if (!tn->fire)
			continue;
		if (tn->exists)
			cb_event(&st->cb, tn->path, tn->fire_exact,
				 (const struct xsw_perm *)tn->data, tn->nperms,
				 NULL, 0);
		else
			cb_event(&st->cb, tn->path, tn->fire_exact,
				 tn->fire_perms, tn->nfire_perms, NULL, 0);
	}
	if (!err)
		err = cb_emit(st, &t->who, t->tx_id);
out:
	free(mod);
	txn_free(st, t);
	return err;
}
