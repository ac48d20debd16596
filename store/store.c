/*
 * store.c - the xenstore operations, with cxenstored's permission, errno
 * and quota rules (Xen 4.17 xenstored_core.c).
 *
 * Each operation is written once against a "view" of a node: outside a
 * transaction the main tree (changes applied at once, then reported to the
 * commit hook), inside one the transaction's overlay (txn.c). As in
 * cxenstored, every check happens before the first change, so a failed
 * request changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../protocol/wire.h"
#include "internal.h"

struct opctx {
	struct store *st;
	struct store_txn *t;
	const struct store_caller *who;
};

static const struct xsw_perm initial_perms[] = { { 0, XSW_PERM_NONE } };

int store_new(struct store **out)
{
	struct store *st = calloc(1, sizeof(*st));
	int err;

	if (!st)
		return -ENOMEM;
	err = tree_create(st, NULL, "/", NULL, 0, initial_perms, 1, &st->root);
	if (!err)
		err = tree_create(st, st->root, "/tool", NULL, 0, initial_perms,
				  1, NULL);
	if (!err)
		err = tree_create(st, tree_find(st, "/tool", 5),
				  "/tool/xenstored", NULL, 0, initial_perms, 1,
				  NULL);
	if (err) {
		store_free(st);
		return err;
	}
	*out = st;
	return 0;
}

void store_free(struct store *st)
{
	if (!st)
		return;
	tree_free_all(st);
	cb_free(&st->cb);
	free(st);
}

void store_set_limits(struct store *st, const struct store_limits *lim)
{
	st->lim = *lim;
}

void store_set_limits_hook(struct store *st, store_limits_fn fn, void *ctx)
{
	st->lim_fn = fn;
	st->lim_ctx = ctx;
}

void store_set_memory_hook(struct store *st, store_memory_fn fn, void *ctx)
{
	st->mem_fn = fn;
	st->mem_ctx = ctx;
}

void store_set_commit_hook(struct store *st, store_commit_fn fn, void *ctx)
{
	st->hook = fn;
	st->hook_ctx = ctx;
}

static bool unpriv(const struct opctx *c)
{
	return !c->who->privileged;
}

/* cxenstored's perm_for_conn(), with its OWNER bit for SET_PERMS. */
static unsigned access_of(const struct store_caller *who,
			  const struct xsw_perm *p, unsigned n)
{
	if (who->privileged ||
	    (n && (p[0].domid == who->domid ||
		   (who->target != UINT32_MAX && p[0].domid == who->target))))
		return XSW_PERM_BOTH | STORE_PERM_OWNER;
	return xsw_perms_access(p, n, who->domid, false, who->target);
}

static void view_main(struct snode *n, const char *path, struct nview *v)
{
	memset(v, 0, sizeof(*v));
	v->path = path;
	if (!n)
		return;
	v->exists = true;
	v->value = snode_value(n);
	v->len = n->len;
	v->perms = snode_perms(n);
	v->nperms = n->nperms;
	v->generation = n->generation;
	v->nchildren = 0; /* counted by store_read, the one user */
	v->childlen = n->childlen;
	v->main = n;
}

/* 0 with v->exists telling; errors only from transaction quotas/memory. */
static int rd(struct opctx *c, const char *path, struct nview *v)
{
	if (c->t)
		return txn_read(c->st, c->t, path, v);
	view_main(tree_find(c->st, path, strlen(path)), path, v);
	return 0;
}

/*
 * cxenstored's errno_from_parents(): a failure on a node is reported as
 * is only if the caller has the requested access to the nearest existing
 * ancestor; otherwise EACCES, so that nothing leaks about the node.
 */
static int errno_from_parents(struct opctx *c, const char *path, int err,
			      unsigned perm)
{
	char buf[XSW_ABS_PATH_MAX + 1];
	size_t len = strlen(path);
	struct nview v;
	int r;

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, path, len + 1);
	do {
		len = path_parent_len(buf, len);
		buf[len] = '\0';
		r = rd(c, buf, &v);
		if (r)
			return r;
		if (v.exists)
			break;
	} while (len > 1);
	if (!v.exists)
		return -EACCES;
	return (access_of(c->who, v.perms, v.nperms) & perm) ? err : -EACCES;
}

/* cxenstored's path-max quota: the length relative to a domain's home. */
static bool path_too_long(const struct opctx *c, const char *path)
{
	unsigned domid;
	int off = 0;

	if (!unpriv(c) || !store_limits_of(c->st, c->who)->path_max)
		return false;
	if (sscanf(path, "/local/domain/%5u/%n", &domid, &off) != 1)
		off = 0;
	return strlen(path) - off > store_limits_of(c->st, c->who)->path_max;
}

static int get_node(struct opctx *c, const char *path, unsigned perm,
		    struct nview *v)
{
	int err;

	if (!path || path[0] != '/' || path_too_long(c, path))
		return -EINVAL;
	err = rd(c, path, v);
	if (err)
		return err;
	if (v->exists) {
		if ((access_of(c->who, v->perms, v->nperms) & perm) == perm)
			return 0;
		err = -EACCES;
	} else {
		err = -ENOENT;
	}
	return errno_from_parents(c, path, err, perm);
}

/* cxenstored's entry-size quota counts its record: header, perms, data, children. */
static bool size_ok(const struct opctx *c, unsigned nperms, uint32_t len,
		    uint32_t childlen)
{
	uint64_t sz = STORE_NODE_HDR + (uint64_t)nperms * 8 + len + childlen;
	uint32_t max = store_limits_of(c->st, c->who)->node_size;

	return !unpriv(c) || !max || sz < max;
}

static int64_t owned(const struct opctx *c, uint32_t domid)
{
	return c->t ? txn_owner_get(c->st, c->t, domid)
		    : owner_get(c->st, domid);
}

/*
 * The memory quota: an unprivileged caller's own nodes may not grow past
 * it (cxenstored's domain_memory_add_chk answers ENOMEM). Shrinking is
 * always allowed, so that a domain over it can free memory.
 */
static bool mem_ok(const struct opctx *c, uint32_t owner, int64_t growth)
{
	uint32_t max = store_limits_of(c->st, c->who)->memory;
	int64_t cur;

	if (!unpriv(c) || !max || owner != c->who->domid || growth <= 0)
		return true;
	cur = c->t ? txn_owner_mem_get(c->st, c->t, owner)
		   : owner_mem_get(c->st, owner);
	cur += (int64_t)store_memory_held(c->st, owner);
	return cur + growth <= (int64_t)max;
}

static int64_t view_mem(const char *path, unsigned nperms, uint32_t len)
{
	return (int64_t)store_node_memory(strlen(path),
					  strlen(path_basename(path)), nperms,
					  len);
}

static void begin(struct opctx *c)
{
	if (!c->t)
		cb_reset(&c->st->cb);
}

/* Outside a transaction, the change is one commit, reported now. */
static int finish(struct opctx *c, enum store_op_kind kind, const char *path)
{
	if (c->t) {
		txn_op(c->t, kind, path);
		return 0;
	}
	cb_op(&c->st->cb, kind, path);
	return cb_emit(c->st, c->who, 0);
}

static void fire(struct opctx *c, const char *path, bool exact,
		 const struct xsw_perm *perms, unsigned n,
		 const struct xsw_perm *old, unsigned nold)
{
	if (c->t)
		txn_fire(c->t, path, exact);
	else
		cb_event(&c->st->cb, path, exact, perms, n, old, nold);
}

/* Node update of an existing node, value and perms both given. */
static int put(struct opctx *c, struct nview *v, const void *value,
	       uint32_t len, const struct xsw_perm *perms, unsigned n)
{
	int64_t old_mem = view_mem(v->path, v->nperms, v->len);
	int64_t new_mem = view_mem(v->path, n, len);
	uint32_t old_owner = v->nperms ? v->perms[0].domid : UINT32_MAX;
	uint32_t new_owner = n ? perms[0].domid : UINT32_MAX;
	int err;

	if (!mem_ok(c, new_owner,
		    new_mem - (old_owner == new_owner ? old_mem : 0)))
		return -ENOMEM;
	if (c->t) {
		err = txn_write(c->st, c->t, v->path, false, value, len,
				perms, n);
		if (!err && old_owner != UINT32_MAX)
			txn_owner_delta(c->t, old_owner, 0, -old_mem);
		if (!err && new_owner != UINT32_MAX)
			txn_owner_delta(c->t, new_owner, 0, new_mem);
		return err;
	}
	err = tree_set_data(c->st, &v->main, value, len, perms, n);
	/* value and perms may have pointed into the old node: use the new. */
	if (!err)
		cb_effect(&c->st->cb, v->path, false,
			  snode_value(v->main), len, snode_perms(v->main), n);
	return err;
}

/*
 * cxenstored's create_node(): the missing ancestors are created too, each
 * with its parent's permissions, owned by the caller if unprivileged.
 */
static int create_node(struct opctx *c, const char *path, const void *value,
		       uint32_t len)
{
	char buf[XSW_ABS_PATH_MAX + 1];
	size_t lens[XSW_ABS_PATH_MAX / 2 + 2];
	size_t plen = strlen(path), l = plen;
	unsigned k = 0, i, n;
	struct xsw_perm *perms;
	struct snode *parent = NULL;
	struct nview v;
	int64_t mem[XSW_ABS_PATH_MAX / 2 + 2], growth = 0;
	int err;

	if (plen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, path, plen + 1);
	/* Walk up to the nearest existing node; lens[] are the missing ones. */
	for (;;) {
		lens[k++] = l;
		l = path_parent_len(buf, l);
		buf[l] = '\0';
		err = rd(c, buf, &v);
		if (err)
			return err;
		if (v.exists)
			break;
		if (l == 1)
			return -EIO; /* no root: cannot happen */
	}
	n = v.nperms;
	if (unpriv(c) && store_limits_of(c->st, c->who)->nodes_per_domain &&
	    owned(c, c->who->domid) + k > store_limits_of(c->st, c->who)->nodes_per_domain)
		return -ENOSPC;
	/* The existing parent gains one name: lens[k - 1] less its own path. */
	if (!size_ok(c, v.nperms, v.len,
		     v.childlen + (lens[k - 1] - l - (l > 1 ? 1 : 0)) + 1) ||
	    !size_ok(c, n, len, 0))
		return -ENOSPC;
	for (i = k - 1; i > 0; i--) {
		/* An intermediate new node holds one child name. */
		if (!size_ok(c, n, 0, lens[i - 1] - lens[i]))
			return -ENOSPC;
	}
	/* what each new node will be charged: lens[i] minus its parent's */
	for (i = 0; i < k; i++) {
		size_t parent_len = i + 1 < k ? lens[i + 1] : l;
		size_t namelen = lens[i] - parent_len - (parent_len > 1 ? 1 : 0);

		mem[i] = (int64_t)store_node_memory(lens[i], namelen, n,
						    i == 0 ? len : 0);
		growth += mem[i];
	}
	if (unpriv(c) && !mem_ok(c, c->who->domid, growth))
		return -ENOMEM;
	perms = malloc(n * sizeof(*perms));
	if (!perms)
		return -ENOMEM;
	memcpy(perms, v.perms, n * sizeof(*perms));
	if (unpriv(c))
		perms[0].domid = c->who->domid;
	parent = v.main;
	memcpy(buf, path, plen + 1);
	/* Top down, so that each parent exists before its child. */
	for (i = k; i-- > 0;) {
		const void *val = i == 0 ? value : NULL;
		uint32_t vlen = i == 0 ? len : 0;

		buf[lens[i]] = '\0';
		if (c->t) {
			err = txn_write(c->st, c->t, buf, true, val, vlen,
					perms, n);
			if (!err)
				txn_owner_delta(c->t, perms[0].domid, 1, mem[i]);
		} else {
			err = tree_create(c->st, parent, buf, val, vlen, perms,
					  n, &parent);
			if (!err)
				cb_effect(&c->st->cb, buf, false, val, vlen,
					  perms, n);
		}
		buf[lens[i]] = i ? '/' : '\0';
		if (err)
			break;
	}
	free(perms);
	return err;
}

int store_read(struct store *st, struct store_txn *txn,
	       const struct store_caller *who, const char *path,
	       struct store_node_view *out)
{
	struct opctx c = { st, txn, who };
	struct nview v;
	int err = get_node(&c, path, XSW_PERM_READ, &v);

	if (err)
		return err;
	out->path = v.path;
	out->value = v.value;
	out->len = v.len;
	out->perms = v.perms;
	out->nperms = v.nperms;
	out->generation = v.generation;
	out->nchildren = v.main ? tree_nchildren(st, v.main) : v.nchildren;
	return 0;
}

int store_directory(struct store *st, struct store_txn *txn,
		    const struct store_caller *who, const char *path,
		    char **names, size_t *len, uint64_t *generation)
{
	struct opctx c = { st, txn, who };
	struct nview v;
	int err = get_node(&c, path, XSW_PERM_READ, &v);

	if (err)
		return err;
	if (generation)
		*generation = v.generation;
	return txn_child_names(st, txn, &v, names, len);
}

int store_write(struct store *st, struct store_txn *txn,
		const struct store_caller *who, const char *path,
		const void *value, uint32_t len)
{
	struct opctx c = { st, txn, who };
	struct nview v;
	int err;

	begin(&c);
	err = get_node(&c, path, XSW_PERM_WRITE, &v);
	if (err == -ENOENT) {
		err = create_node(&c, path, value, len);
		if (err)
			return err;
		err = rd(&c, path, &v);
	} else if (!err) {
		if (!size_ok(&c, v.nperms, len, v.childlen))
			return -ENOSPC;
		err = put(&c, &v, value, len, v.perms, v.nperms);
		if (!err)
			err = rd(&c, path, &v);
	}
	if (err)
		return err;
	fire(&c, path, false, v.perms, v.nperms, NULL, 0);
	return finish(&c, STORE_OP_WRITE, path);
}

int store_mkdir(struct store *st, struct store_txn *txn,
		const struct store_caller *who, const char *path)
{
	struct opctx c = { st, txn, who };
	struct nview v;
	int err;

	begin(&c);
	err = get_node(&c, path, XSW_PERM_WRITE, &v);
	if (!err)
		return 0; /* exists: nothing changes, nothing is reported */
	if (err != -ENOENT)
		return err;
	err = create_node(&c, path, NULL, 0);
	if (!err)
		err = rd(&c, path, &v);
	if (err)
		return err;
	fire(&c, path, false, v.perms, v.nperms, NULL, 0);
	return finish(&c, STORE_OP_MKDIR, path);
}

struct rm_ctx {
	struct store *st;
	const struct snode *root;
};

/* Every removed node fires; the subtree's root non-exact, the rest exact. */
static void rm_event(void *ctx, const struct snode *n, const char *path)
{
	struct rm_ctx *r = ctx;

	cb_event(&r->st->cb, path, n != r->root, snode_perms(n), n->nperms,
		 NULL, 0);
}

int store_rm(struct store *st, struct store_txn *txn,
	     const struct store_caller *who, const char *path)
{
	struct opctx c = { st, txn, who };
	struct nview v, pv;
	char buf[XSW_ABS_PATH_MAX + 1];
	size_t plen;
	int err;

	begin(&c);
	err = get_node(&c, path, XSW_PERM_WRITE, &v);
	if (err == -ENOENT) {
		/* Removing a missing node is fine if its parent exists. */
		plen = path_parent_len(path, strlen(path));
		memcpy(buf, path, plen);
		buf[plen] = '\0';
		err = rd(&c, buf, &pv);
		if (err)
			return err;
		return pv.exists ? 0 : -ENOENT;
	}
	if (err)
		return err;
	if (!strcmp(path, "/"))
		return -EINVAL;
	if (txn) {
		err = txn_remove(st, txn, path, false);
		if (err)
			return err;
	} else {
		struct rm_ctx r = { st, v.main };

		cb_effect(&st->cb, path, true, NULL, 0, NULL, 0);
		tree_delete(st, v.main, path, rm_event, &r);
	}
	return finish(&c, STORE_OP_RM, path);
}

int store_set_perms(struct store *st, struct store_txn *txn,
		    const struct store_caller *who, const char *path,
		    const struct xsw_perm *perms, unsigned n)
{
	struct opctx c = { st, txn, who };
	struct xsw_perm *old = NULL;
	struct nview v;
	unsigned nold;
	int err;

	begin(&c);
	if (n < 1)
		return -EINVAL;
	if (unpriv(&c) && store_limits_of(st, who)->perms_per_node &&
	    n > store_limits_of(st, who)->perms_per_node)
		return -ENOSPC;
	if (perms[0].perms & XSW_PERM_IGNORE)
		return -ENOENT;
	err = get_node(&c, path, XSW_PERM_WRITE | STORE_PERM_OWNER, &v);
	if (err)
		return err;
	/* Unprivileged domains may not give their nodes away. */
	if (unpriv(&c) && perms[0].domid != v.perms[0].domid)
		return -EPERM;
	if (!size_ok(&c, n, v.len, v.childlen))
		return -ENOSPC;
	nold = v.nperms;
	old = malloc(nold * sizeof(*old) + 1);
	if (!old)
		return -ENOMEM;
	memcpy(old, v.perms, nold * sizeof(*old));
	err = put(&c, &v, v.value, v.len, perms, n);
	if (!err && txn) { /* (put() moved the memory) */
		txn_owner_delta(txn, old[0].domid, -1, 0);
		txn_owner_delta(txn, perms[0].domid, 1, 0);
	}
	if (!err) {
		fire(&c, path, false, perms, n, old, nold);
		err = finish(&c, STORE_OP_SET_PERMS, path);
	}
	free(old);
	return err;
}

int store_note_op(struct store *st, const struct store_caller *who,
		  enum store_op_kind kind, const char *path)
{
	cb_reset(&st->cb);
	cb_op(&st->cb, kind, path);
	return cb_emit(st, who, 0);
}
