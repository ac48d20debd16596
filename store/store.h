/*
 * store.h - the in-memory xenstore tree, permission checks and transactions.
 *
 * Pure: no sockets, no libuv, no disk. The tree is authoritative for reads.
 * Every operation takes the caller (domain, privilege, target) and applies
 * cxenstored's permission rules itself, so that the checks live in one place.
 *
 * Every state change that takes effect (a mutating request outside a
 * transaction, or a transaction commit) is reported, once, synchronously,
 * to the commit hook as a struct store_commit: the daemon fires watches from
 * it and hands it to persistence. No-op requests (MKDIR of an existing node)
 * and failed or aborted transactions report nothing.
 *
 * Errors: functions return 0 or a negative errno (-ENOENT, -EACCES, -EEXIST,
 * -EINVAL, -EAGAIN, -ENOSPC, -E2BIG, -ENOMEM, -EBUSY).
 * Memory: views and commit records point into store memory; they are valid
 * until the next mutating call. Buffers marked "caller frees" are malloc'd.
 */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../protocol/perms.h"

struct store;
struct store_txn;

/* Who is asking. target: the domain this one may act for, UINT32_MAX none. */
struct store_caller {
	uint32_t domid;
	bool privileged;
	uint32_t target;
	uint32_t conn_id; /* for commit metadata only */
};

/* Limits for unprivileged callers (cxenstored's quotas). 0 = unlimited. */
struct store_limits {
	uint32_t nodes_per_domain;  /* -E, entry-nb: nodes owned by a domain */
	uint32_t node_size;         /* -S, entry-size: value + perms + children names */
	uint32_t perms_per_node;    /* -A, perm-nb: entries, owner included (as cxenstored counts) */
	uint32_t txn_nodes;         /* -Q transaction-nodes: nodes touched in one transaction */
	uint32_t path_max;          /* -M, path-max: relative path length */
	uint32_t memory;            /* -Q memory: store_memory_owned() of the caller */
};

struct store_node_view {
	const char *path;
	const char *value; /* not NUL-terminated; len bytes */
	uint32_t len;
	const struct xsw_perm *perms;
	unsigned nperms;
	uint64_t generation;
	unsigned nchildren;
};

enum store_op_kind {
	STORE_OP_WRITE,
	STORE_OP_MKDIR,
	STORE_OP_RM,
	STORE_OP_SET_PERMS,
	STORE_OP_DOMAIN, /* domain introduced/released; path names it */
};

/* One request as the client made it (for history). */
struct store_op {
	enum store_op_kind kind;
	const char *path;
};

/*
 * One node's new state (for persistence): written (value + perms, created
 * if new) or deleted (with its whole subtree). Parents' child lists follow
 * from these. In application order.
 */
struct store_effect {
	const char *path;
	bool deleted;
	const char *value;
	uint32_t len;
	const struct xsw_perm *perms;
	unsigned nperms;
};

/*
 * One watch event to fire. exact: only watches set on exactly this path
 * fire (not those on its parents: they get the removed root's non-exact
 * event), which is how removal of a subtree reaches watches set on its
 * children (cxenstored's fire_watches semantics). perms: the
 * node's permissions (before deletion, for removed nodes), to decide which
 * watchers may see the event.
 */
struct store_event {
	const char *path;
	bool exact;
	const struct xsw_perm *perms;
	unsigned nperms;
	/*
	 * SET_PERMS outside a transaction: the permissions before the change
	 * (cxenstored lets watchers that could see either version have the
	 * event). NULL otherwise.
	 */
	const struct xsw_perm *old_perms;
	unsigned nold_perms;
};

struct store_commit {
	struct store_caller caller;
	uint32_t tx_id; /* 0 outside a transaction */
	uint64_t seq;   /* 1, 2, 3 ... in acknowledgement order */
	unsigned nops;
	const struct store_op *ops;
	unsigned neffects;
	const struct store_effect *effects;
	unsigned nevents;
	const struct store_event *events;
};

typedef void (*store_commit_fn)(void *ctx, const struct store_commit *c);

/*
 * Creates a store holding cxenstored's initial tree: "/" (n0), "/tool" (n0),
 * "/tool/xenstored" (n0, empty). Owned by the caller: store_free().
 */
int store_new(struct store **out);
void store_free(struct store *st);
void store_set_limits(struct store *st, const struct store_limits *lim);
/*
 * Per-domain limits: fn returns the limits of an unprivileged domain, or
 * NULL for those of store_set_limits. The pointer must stay valid until
 * the next call into the store.
 */
typedef const struct store_limits *(*store_limits_fn)(void *ctx,
							uint32_t domid);
void store_set_limits_hook(struct store *st, store_limits_fn fn, void *ctx);
/*
 * Memory a domain holds outside the tree (its watches, transactions and
 * queued output, which cxenstored 4.17 charges to the same memory quota):
 * added to store_memory_owned() when limits.memory is checked.
 */
typedef uint64_t (*store_memory_fn)(void *ctx, uint32_t domid);
void store_set_memory_hook(struct store *st, store_memory_fn fn, void *ctx);
void store_set_commit_hook(struct store *st, store_commit_fn fn, void *ctx);

/*
 * Reads (txn may be NULL). path is canonical and absolute; out->path may
 * be path itself.
 */
int store_read(struct store *st, struct store_txn *txn,
	       const struct store_caller *who, const char *path,
	       struct store_node_view *out);
/*
 * Child names "a\0b\0" in creation order into a malloc'd buffer (caller
 * frees) of *len bytes; *generation is the node's generation (for
 * DIRECTORY_PART).
 */
int store_directory(struct store *st, struct store_txn *txn,
		    const struct store_caller *who, const char *path,
		    char **names, size_t *len, uint64_t *generation);

/* Mutations. WRITE creates missing parents; MKDIR of an existing node is a no-op. */
int store_write(struct store *st, struct store_txn *txn,
		const struct store_caller *who, const char *path,
		const void *value, uint32_t len);
int store_mkdir(struct store *st, struct store_txn *txn,
		const struct store_caller *who, const char *path);
int store_rm(struct store *st, struct store_txn *txn,
	     const struct store_caller *who, const char *path);
int store_set_perms(struct store *st, struct store_txn *txn,
		    const struct store_caller *who, const char *path,
		    const struct xsw_perm *perms, unsigned n);

/*
 * Transactions: the transaction sees its own writes; nothing leaks before
 * commit. Commit returns -EAGAIN if any node the transaction read (or whose
 * absence it observed) changed since; blind writes win. Commit and abort
 * both free txn.
 */
int store_txn_begin(struct store *st, const struct store_caller *who,
		    uint32_t tx_id, struct store_txn **out);
int store_txn_commit(struct store *st, struct store_txn *txn);
void store_txn_abort(struct store *st, struct store_txn *txn);

/* A change made by the daemon itself (domain introduced, released...). */
int store_note_op(struct store *st, const struct store_caller *who,
		  enum store_op_kind kind, const char *path);

/*
 * A domain died or was released (XSA-322/419): removes every node it owns
 * (with their subtrees; never "/") and strips its entries from every
 * other node's permissions, as one commit made by dom0. 0 when there was
 * nothing to do. -EINVAL for dom0.
 */
int store_domain_gone(struct store *st, uint32_t domid);

/* Statistics for CONTROL memreport / quota. */
struct store_stats {
	uint64_t nodes;
	uint64_t bytes; /* values + names + perms */
	uint64_t generation;
	uint64_t open_txns;
};
void store_get_stats(const struct store *st, struct store_stats *out);
/* Nodes owned by domid (first perm entry), for quota reporting. */
uint32_t store_nodes_owned(const struct store *st, uint32_t domid);

/*
 * The memory a node is charged for, to its owner, as cxenstored 4.17
 * counts it: a 24-byte record, 8 bytes per permission, its path, its
 * value and its name in the parent's child list. (cxenstored charges the
 * name to the parent's owner; here the node's, so that a change touches
 * one owner: totals agree wherever parent and child share an owner.)
 * The root has no name.
 */
static inline uint64_t store_node_memory(size_t pathlen, size_t namelen,
					 unsigned nperms, uint32_t len)
{
	return 24 + 8 * (uint64_t)nperms + pathlen + len +
	       (namelen ? namelen + 1 : 0);
}
/*
 * Sum of store_node_memory() over the nodes domid owns. An unprivileged
 * caller whose own total would pass limits.memory gets -ENOMEM.
 */
uint64_t store_memory_owned(const struct store *st, uint32_t domid);
/*
 * The copies an open transaction keeps of the nodes it changes, as
 * store_node_memory() of each node before its first change (cxenstored
 * charges them to the transaction's owner until it ends).
 */
uint64_t store_txn_memory(const struct store_txn *t);

/*
 * Walks the tree depth first, parents before children, children in
 * creation order. Stops and returns fn's value when it is non-zero.
 */
typedef int (*store_walk_fn)(void *ctx, const struct store_node_view *n);
int store_walk(const struct store *st, const char *path, store_walk_fn fn,
	       void *ctx);

/* Consistency check for CONTROL check: 0, or -EIO with a message in err. */
int store_check(const struct store *st, char *err, size_t errlen);

/*
 * Loading (recovery): replaces the whole tree with nodes given parents
 * first; no permission checks, no commit hook.
 */
int store_load_begin(struct store *st);
int store_load_node(struct store *st, const char *path, const void *value,
		    uint32_t len, const struct xsw_perm *perms, unsigned n);
/*
 * Applies one effect of a commit made before a restart (after the nodes,
 * before store_load_end): a write creates missing parents empty with
 * their parent's permissions, a delete takes the subtree ("/" is emptied).
 */
int store_load_effect(struct store *st, const struct store_effect *e);
int store_load_end(struct store *st, uint64_t seq);

#endif
