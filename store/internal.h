/*
 * internal.h - shared between the store/ sources only.
 *
 * Main tree: one struct snode per node, indexed by full path (uthash), with
 * children in a doubly linked list in creation order. Transactions keep an
 * overlay: a copy of each node they access (struct tnode), never the tree.
 * Memory: everything here is owned by struct store or struct store_txn.
 */
#ifndef STORE_INTERNAL_H
#define STORE_INTERNAL_H

#include <uthash.h>

#include "../protocol/wire.h"
#include "slab.h"
#include "store.h"

#define STORE_NO_GEN UINT64_MAX
/* Extra access bit, as cxenstored's XS_PERM_OWNER: needed by SET_PERMS. */
#define STORE_PERM_OWNER 8u
/* cxenstored's record header size, counted by the node size quota. */
#define STORE_NODE_HDR 24u

/*
 * One slot per node (slab.h): this header, then perms[nperms], the node's own
 * name (NUL-terminated), then len value bytes. Full paths are not stored
 * (they are rebuilt from parents when needed), which keeps 100k nodes
 * below cxenstored's memory. A change of value or perms reallocates the
 * node (tree_set_data), so pointers to it must be refreshed.
 */
struct snode {
	struct snode *parent, *first, *next, *prev; /* first->prev: last child */
	uint64_t generation;
	uint32_t len;
	uint32_t nchildren;
	uint32_t childlen; /* sum of (child name length + 1) */
	uint16_t nperms;
	uint16_t namelen;
};

static inline struct xsw_perm *snode_perms(const struct snode *n)
{
	return (struct xsw_perm *)(void *)(n + 1);
}

static inline const char *snode_name(const struct snode *n)
{
	return (const char *)(snode_perms(n) + n->nperms);
}

static inline const char *snode_value(const struct snode *n)
{
	return snode_name(n) + n->namelen + 1;
}

struct owner_count {
	UT_hash_handle hh;
	uint32_t domid;
	int64_t count;
	int64_t mem; /* store_node_memory() of the nodes counted */
};

/* Records of the commit being built; strings live in arena (offsets). */
struct commit_buf {
	struct store_op *ops;
	unsigned nops, capops;
	struct store_effect *effects;
	unsigned neffects, capeffects;
	struct store_event *events;
	unsigned nevents, capevents;
	char *arena;
	size_t used, cap;
	bool oom;
};

struct store {
	/* Open addressing index by full path; TOMB marks removed entries. */
	struct snode **slots;
	size_t nslots, nfilled;
	struct snode *root;
	char pathbuf[XSW_ABS_PATH_MAX + 2]; /* views of walked nodes point here */
	uint64_t generation;
	uint64_t seq;
	uint64_t nodes;
	uint64_t bytes;
	uint64_t open_txns;
	struct store_limits lim;
	store_commit_fn hook;
	void *hook_ctx;
	struct owner_count *owners;
	struct commit_buf cb;
	store_limits_fn lim_fn;
	void *lim_ctx;
	struct slab slab; /* the nodes */
	store_memory_fn mem_fn;
	void *mem_ctx;
};

/* The limits that apply to who (its domain's, else the store's). */
static inline const struct store_limits *
store_limits_of(const struct store *st, const struct store_caller *who)
{
	const struct store_limits *l =
		st->lim_fn ? st->lim_fn(st->lim_ctx, who->domid) : NULL;

	return l ? l : &st->lim;
}

/* Memory domid holds outside the tree (store_set_memory_hook). */
static inline uint64_t store_memory_held(const struct store *st,
					 uint32_t domid)
{
	return st->mem_fn ? st->mem_fn(st->mem_ctx, domid) : 0;
}

/* tree.c: the main tree, no permission checks. */
struct snode *tree_find(const struct store *st, const char *path, size_t len);
/* The node's full path into buf (>= XSW_ABS_PATH_MAX + 2); its length. */
size_t tree_path(const struct snode *n, char *buf);
int tree_create(struct store *st, struct snode *parent, const char *path,
		const void *value, uint32_t len, const struct xsw_perm *perms,
		unsigned nperms, struct snode **out);
/* May move the node: *n is updated. */
int tree_set_data(struct store *st, struct snode **n, const void *value,
		  uint32_t len, const struct xsw_perm *perms, unsigned nperms);
void tree_touch(struct store *st, struct snode *n);
/* Calls ev (if set) for every node, children before parents, then frees. */
typedef void (*tree_del_fn)(void *ctx, const struct snode *n,
			    const char *path);
void tree_delete(struct store *st, struct snode *n, const char *path,
		 tree_del_fn ev, void *ctx);
void tree_move_last(struct snode *n);
void tree_free_all(struct store *st);
void owner_add(struct store *st, uint32_t domid, int64_t delta, int64_t mem);
int64_t owner_get(const struct store *st, uint32_t domid);
int64_t owner_mem_get(const struct store *st, uint32_t domid);
const char *path_basename(const char *path);
size_t path_parent_len(const char *path, size_t len);
unsigned path_depth(const char *path);

/* commit.c: records of one commit. */
void cb_reset(struct commit_buf *cb);
void cb_free(struct commit_buf *cb);
void cb_op(struct commit_buf *cb, enum store_op_kind kind, const char *path);
void cb_effect(struct commit_buf *cb, const char *path, bool deleted,
	       const void *value, uint32_t len, const struct xsw_perm *perms,
	       unsigned nperms);
void cb_event(struct commit_buf *cb, const char *path, bool exact,
	      const struct xsw_perm *perms, unsigned nperms,
	      const struct xsw_perm *old, unsigned nold);
/* Turns arena offsets into pointers and calls the hook; seq increments. */
int cb_emit(struct store *st, const struct store_caller *who, uint32_t tx_id);

/* txn.c: the overlay seen by operations inside a transaction. */
struct tnode;
struct nview {
	bool exists;
	const char *path;
	const char *value;
	uint32_t len;
	const struct xsw_perm *perms;
	unsigned nperms;
	uint64_t generation;
	unsigned nchildren;
	uint32_t childlen;
	struct snode *main;  /* set when the view is the main node */
	struct tnode *tn;    /* set when the view is the transaction copy */
};

int txn_read(struct store *st, struct store_txn *t, const char *path,
	     struct nview *out);
int txn_write(struct store *st, struct store_txn *t, const char *path,
	      bool create, const void *value, uint32_t len,
	      const struct xsw_perm *perms, unsigned nperms);
int txn_child_names(struct store_txn *t, const struct nview *v, char **names,
		    size_t *len);
int txn_remove(struct store *st, struct store_txn *t, const char *path,
	       bool exact);
void txn_fire(struct store_txn *t, const char *path, bool exact);
void txn_op(struct store_txn *t, enum store_op_kind kind, const char *path);
void txn_owner_delta(struct store_txn *t, uint32_t domid, int delta,
		     int64_t mem);
int64_t txn_owner_get(const struct store *st, const struct store_txn *t,
		      uint32_t domid);
int64_t txn_owner_mem_get(const struct store *st, const struct store_txn *t,
			  uint32_t domid);
void txn_fail(struct store_txn *t, int err);

#endif
