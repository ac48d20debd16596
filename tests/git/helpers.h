/* helpers.h - shared fixtures for the Git store tests. */
#ifndef TEST_GIT_HELPERS_H
#define TEST_GIT_HELPERS_H

#include <git2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/git/gitstore.h"
#include "store/git/mirror.h"
#include "store/store.h"

/* A fresh directory under /tmp with a store dir and a boot id file. */
struct fixture {
	char root[256];
	char store[300];
	char bootfile[300];
};
void fixture_init(struct fixture *f, const char *boot);
void fixture_set_boot(struct fixture *f, const char *boot);
void fixture_fini(struct fixture *f);

/* Boot ids a test switches between, and a publish interval never reached
 * (the writer then publishes only when told). */
#define TEST_BOOT_A "aaaaaaaa-0000-0000-0000-000000000001"
#define TEST_BOOT_B "bbbbbbbb-0000-0000-0000-000000000002"
#define TEST_NEVER_MS 3600000u

/* A Criterion suite whose tests each get a fresh fixture `fx` on boot id
 * `boot` (for a test file that includes criterion.h). */
#define FIXTURE_SUITE(name, boot)                                      \
	static struct fixture fx;                                      \
	static void name##_setup(void) { fixture_init(&fx, (boot)); }  \
	static void name##_teardown(void) { fixture_fini(&fx); }       \
	TestSuite(name, .init = name##_setup, .fini = name##_teardown)

/* The path of f's only journal segment (asserts there is one). */
void journal_segment(struct fixture *f, char *out, size_t len);

/* Runs fn in a child that ends with SIGKILL, as a crashed daemon. */
void crash_after(void (*fn)(void));

/* Opens and recovers (into a node list, freed by the caller). */
struct node_list {
	size_t n;
	struct tnode {
		char *path;
		char *value;
		uint32_t len;
		char perms[128]; /* "n0,r5" */
	} *v;
};
struct gitstore *open_store(struct fixture *f, unsigned pack_interval_ms,
			    enum gitstore_fsync fsync, struct node_list *nodes,
			    uint64_t *last_seq);
/* The same with options (its boot id file and lag_max are the fixture's). */
struct gitstore *open_store_with(struct fixture *f,
				 const struct gitstore_options *opts,
				 struct node_list *nodes, uint64_t *last_seq);
/* A gitstore_recover_nodes() callback: appends each node to ctx, a
 * struct node_list. */
int node_list_collect(void *ctx, const char *path, const void *value,
		      uint32_t len, const struct xsw_perm *perms, unsigned n);
void nodes_free(struct node_list *l);
const struct tnode *nodes_find(const struct node_list *l, const char *path);
/* Index of path in walk order, or -1. */
int nodes_index(const struct node_list *l, const char *path);

/* One-effect commits, as the store would report them. */
void commit_write(struct gitstore *gs, uint32_t domid, const char *path,
		  const char *value);
void commit_rm(struct gitstore *gs, uint32_t domid, const char *path);

/* Runs "git --git-dir=<store> <args>": its stdout (malloc'd) and status. */
char *git_out(struct fixture *f, int *status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Xenstore-Seq of main's commits, oldest first, as "0,1,2," (malloc'd). */
char *history_seqs(struct fixture *f);
/* Asserts that `git fsck --strict --no-dangling` of the store is clean;
 * what (or NULL) names the moment in the failure message. */
void git_fsck_clean(struct fixture *f, const char *what);
/* Lines of s, counted. */
unsigned count_lines(const char *s);
/*
 * A tree as text, one "path=value d:p d:p..." line per node, through a
 * walk callback (gs_mirror_walk(m, walk_dump_node, &d)); d.s is the
 * caller's to free.
 */
struct walk_dump {
	char *s;
	size_t len, cap;
};
int walk_dump_node(void *ctx, const char *path, const void *value,
		   uint32_t len, const struct xsw_perm *perms, unsigned nperms);
/* An effect on mirror m, owner dom0 (value NULL: none); asserts it applied. */
void mirror_effect(struct gs_mirror *m, const char *path, bool deleted,
		   const char *value);
/* Writes m: its root tree id (asserts the write succeeded). */
git_oid mirror_write_one(struct gs_mirror *m);
/* Asserts the incremental tree a is the whole rewrite's b. */
void expect_same_tree(const git_oid *a, const git_oid *b, const char *what);
/* The commit refs/heads/main names, into *id (asserts it exists). */
void main_commit(struct fixture *f, git_oid *id);
/* Runs the checkpoint thread on main until it wrote one checkpoint
 * (asserts it did, within 30 s, without an error). */
void checkpoint_once(struct fixture *f);

#endif
