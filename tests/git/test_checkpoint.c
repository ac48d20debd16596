/* test_checkpoint.c - the checkpoint pack: contents, replacement, use. */
#include <criterion/criterion.h>
#include <errno.h>
#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "store/git/checkpoint.h"
#include "store/git/ckpt_read.h"
#include "store/git/ckpt_stale.h"
#include "store/git/repo.h"

#define BOOT_A "aaaaaaaa-0000-0000-0000-000000000001"

static struct fixture fx;

static void setup(void)
{
	fixture_init(&fx, BOOT_A);
	git_libgit2_init();
}

static void teardown(void)
{
	git_libgit2_shutdown();
	fixture_fini(&fx);
}

TestSuite(checkpoint, .init = setup, .fini = teardown);

/* Writes n nodes under /d from /d/n<from>, then closes the store. */
static void fill(int from, int n, const char *value)
{
	struct gitstore *gs = open_store(&fx, 10, GITSTORE_FSYNC_NEVER, NULL,
					 NULL);
	char path[64];
	for (int i = from; i < from + n; i++) {
		snprintf(path, sizeof(path), "/d/n%d", i);
		commit_write(gs, 0, path, value);
		if (i % 16 == 0)
			cr_assert_eq(gitstore_flush(gs), 0);
	}
	cr_assert_eq(gitstore_flush(gs), 0);
	cr_assert_eq(gitstore_sync(gs), 0);
	cr_assert_eq(gitstore_close(gs), 0);
}

static void pack_path(char *out, size_t len, const char *name, const char *ext)
{
	snprintf(out, len, "%s/objects/pack/%s.%s", fx.store, name, ext);
}

/*
 * Objects of main's tree (the root and every entry of every path) that
 * pack name lacks, counted path by path with git and libgit2 alone;
 * *total: how many were looked up.
 */
static uint64_t outside_by_path(const char *name, uint64_t *total)
{
	char idx[512];
	git_odb *odb;
	git_odb_backend *b;
	int st;
	pack_path(idx, sizeof(idx), name, "idx");
	cr_assert_eq(git_odb_new(&odb), 0);
	cr_assert_eq(git_odb_backend_one_pack(&b, idx), 0);
	cr_assert_eq(git_odb_add_backend(odb, b, 1), 0);
	char *o = git_out(&fx, &st, "ls-tree -r -t '--format=%%(objectname)' main");
	cr_assert_eq(st, 0);
	char *root = git_out(&fx, &st, "rev-parse main^{tree}");
	cr_assert_eq(st, 0);
	uint64_t n = 0;
	git_oid id;
	cr_assert_eq(git_oid_fromstrn(&id, root, GIT_OID_HEXSZ), 0);
	n += !git_odb_exists(odb, &id);
	*total = 1;
	for (char *l = strtok(o, "\n"); l; l = strtok(NULL, "\n")) {
		cr_assert_eq(git_oid_fromstrn(&id, l, GIT_OID_HEXSZ), 0);
		n += !git_odb_exists(odb, &id);
		++*total;
	}
	free(o);
	free(root);
	git_odb_free(odb);
	return n;
}

/* Every tree and blob of main's tree is in pack name alone. */
static void assert_holds_head_tree(const char *name)
{
	uint64_t total, n = outside_by_path(name, &total);
	cr_assert_eq(n, 0, "%llu objects not in %s", (unsigned long long)n,
		     name);
	cr_assert_gt(total, 40);
}

Test(checkpoint, holds_the_whole_head_tree_and_git_reads_it)
{
	char names[2][64], path[512];
	fill(0, 40, "v1");
	cr_assert_eq(gs_checkpoint_names(fx.store, names), 0);
	checkpoint_once(&fx);
	cr_assert_eq(gs_checkpoint_names(fx.store, names), 1);
	pack_path(path, sizeof(path), names[0], "pack");
	cr_assert_eq(access(path, R_OK), 0);
	assert_holds_head_tree(names[0]);
	git_fsck_clean(&fx, NULL);
}

Test(checkpoint, a_new_one_replaces_the_old_and_merges_leave_it_alone)
{
	char first[2][64], second[2][64], path[512];
	fill(0, 40, "v1");
	checkpoint_once(&fx);
	cr_assert_eq(gs_checkpoint_names(fx.store, first), 1);
	fill(20, 40, "v2");
	checkpoint_once(&fx);
	cr_assert_eq(gs_checkpoint_names(fx.store, second), 1);
	cr_assert_str_neq(first[0], second[0]);
	pack_path(path, sizeof(path), first[0], "idx");
	cr_assert_neq(access(path, F_OK), 0, "old checkpoint kept");
	assert_holds_head_tree(second[0]);
	/* the pack list merges choose from does not offer it */
	struct gs_repo r;
	struct gs_packfile *v;
	size_t n;
	cr_assert_eq(gs_repo_open(&r, fx.store, false), 0);
	cr_assert_eq(gs_repo_list_packs(&r, &v, &n), 0);
	cr_assert_gt(n, 0);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_neq(v[i].name, second[0]);
	free(v);
	gs_repo_close(&r);
	git_fsck_clean(&fx, NULL);
}

static const char *value_of(const struct node_list *l, const char *path)
{
	const struct tnode *t = nodes_find(l, path);
	cr_assert_not_null(t, "%s missing (%zu nodes)", path, l->n);
	return t->value;
}

Test(checkpoint, recovery_reads_through_it_and_without_it)
{
	struct node_list l = { 0 };
	char names[2][64], path[512];
	fill(0, 40, "v1");
	checkpoint_once(&fx);
	fill(10, 5, "v2"); /* newer than the checkpoint */
	struct gitstore *gs = open_store(&fx, 10, GITSTORE_FSYNC_NEVER, &l,
					 NULL);
	cr_assert_str_eq(value_of(&l, "/d/n3"), "v1");
	cr_assert_str_eq(value_of(&l, "/d/n12"), "v2");
	cr_assert_str_eq(value_of(&l, "/d/n39"), "v1");
	nodes_free(&l);
	memset(&l, 0, sizeof(l));
	cr_assert_eq(gitstore_close(gs), 0);
	/* the pack gone (git gc): the ordinary packs serve */
	cr_assert_eq(gs_checkpoint_names(fx.store, names), 1);
	pack_path(path, sizeof(path), names[0], "idx");
	cr_assert_eq(unlink(path), 0);
	pack_path(path, sizeof(path), names[0], "pack");
	cr_assert_eq(unlink(path), 0);
	gs = open_store(&fx, 10, GITSTORE_FSYNC_NEVER, &l, NULL);
	cr_assert_str_eq(value_of(&l, "/d/n3"), "v1");
	cr_assert_str_eq(value_of(&l, "/d/n12"), "v2");
	nodes_free(&l);
	cr_assert_eq(gitstore_close(gs), 0);
	git_fsck_clean(&fx, NULL);
}

/* Recovers with the checkpoint pack read raw, or through libgit2. */
static void recover_into(struct node_list *l, bool raw)
{
	struct gitstore_options o;
	gitstore_options_init(&o);
	o.pack_interval_ms = 10;
	o.load_no_raw = !raw;
	struct gitstore *gs = open_store_with(&fx, &o, l, NULL);
	cr_assert_eq(gitstore_close(gs), 0);
}

Test(checkpoint, raw_read_gives_what_libgit2_gives)
{
	char names[2][64];
	fill(0, 40, "v1");
	checkpoint_once(&fx);
	fill(40, 3, "v2"); /* not in the checkpoint */
	struct gs_ckpt_read r;
	cr_assert_eq(gs_ckpt_read_open(&r, fx.store), 0);
	cr_assert_eq(gs_checkpoint_names(fx.store, names), 1);
	git_odb *odb;
	char path[512];
	snprintf(path, sizeof(path), "%s/objects", fx.store);
	cr_assert_eq(git_odb_open(&odb, path), 0);
	z_stream z = { 0 };
	cr_assert_eq(inflateInit(&z), Z_OK);
	struct gs_buf b = { 0 };
	int st, type;
	char *o = git_out(&fx, &st, "ls-tree -r -t '--format=%%(objectname)' main");
	cr_assert_eq(st, 0);
	unsigned hit = 0, miss = 0;
	for (char *l = strtok(o, "\n"); l; l = strtok(NULL, "\n")) {
		git_oid id;
		git_odb_object *go;
		cr_assert_eq(git_oid_fromstrn(&id, l, GIT_OID_HEXSZ), 0);
		cr_assert_eq(git_odb_read(&go, odb, &id), 0);
		int e = gs_ckpt_read_obj(&r, &z, &id, &b, &type);
		if (e == -ENOENT) {
			miss++;
		} else {
			cr_assert_eq(e, 0, "%s: %d", l, e);
			cr_assert_eq(type, (int)git_odb_object_type(go));
			cr_assert_eq(b.len, git_odb_object_size(go));
			cr_assert_eq(memcmp(b.data, git_odb_object_data(go),
					    b.len), 0, "%s differs", l);
			hit++;
		}
		git_odb_object_free(go);
	}
	/* n40..n42 (trees and values) and the trees above are newer */
	cr_assert_gt(hit, 80);
	cr_assert_geq(miss, 3);
	free(o);
	gs_buf_free(&b);
	inflateEnd(&z);
	git_odb_free(odb);
	gs_ckpt_read_close(&r);
}

static void assert_same(const struct node_list *a, const struct node_list *b)
{
	cr_assert_eq(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		cr_assert_str_eq(a->v[i].path, b->v[i].path);
		cr_assert_eq(a->v[i].len, b->v[i].len, "%s", a->v[i].path);
		cr_assert_eq(memcmp(a->v[i].value, b->v[i].value, a->v[i].len),
			     0, "%s", a->v[i].path);
		cr_assert_str_eq(a->v[i].perms, b->v[i].perms, "%s",
				 a->v[i].path);
	}
}

Test(checkpoint, recovery_raw_and_through_libgit2_agree)
{
	/* a wide directory (the second thread's share), owners, depth */
	struct gitstore *gs = open_store(&fx, 10, GITSTORE_FSYNC_NEVER, NULL,
					 NULL);
	char path[96], val[32];
	for (int i = 0; i < 150; i++) {
		snprintf(path, sizeof(path), "/local/domain/%d/device/vif/0/k",
			 i);
		snprintf(val, sizeof(val), "v%d", i);
		commit_write(gs, (uint32_t)(i % 3), path, val);
	}
	cr_assert_eq(gitstore_flush(gs), 0);
	cr_assert_eq(gitstore_sync(gs), 0);
	cr_assert_eq(gitstore_close(gs), 0);
	checkpoint_once(&fx);
	/* after it: changed, added, deleted (a leaf and whole subtrees) */
	gs = open_store(&fx, 10, GITSTORE_FSYNC_NEVER, NULL, NULL);
	commit_write(gs, 0, "/local/domain/7/device/vif/0/k", "changed");
	commit_write(gs, 5, "/local/domain/8/device/vif/0/k", "owner changed");
	commit_write(gs, 0, "/local/domain/200/new/deeper", "added");
	commit_write(gs, 1, "/local/domain/9/device/vbd", "added beside");
	commit_rm(gs, 0, "/local/domain/10/device/vif/0/k");
	commit_rm(gs, 0, "/local/domain/11");
	commit_rm(gs, 0, "/local/domain/120/device");
	cr_assert_eq(gitstore_flush(gs), 0);
	cr_assert_eq(gitstore_sync(gs), 0);
	cr_assert_eq(gitstore_close(gs), 0);
	struct node_list raw = { 0 }, lib = { 0 };
	recover_into(&raw, true);
	recover_into(&lib, false);
	assert_same(&raw, &lib);
	cr_assert_str_eq(value_of(&raw, "/local/domain/7/device/vif/0/k"),
			 "changed");
	cr_assert_str_eq(value_of(&raw, "/local/domain/200/new/deeper"),
			 "added");
	cr_assert_str_eq(value_of(&raw, "/local/domain/140/device/vif/0/k"),
			 "v140");
	cr_assert_str_neq(nodes_find(&raw, "/local/domain/8/device/vif/0/k")
				  ->perms,
			  nodes_find(&raw, "/local/domain/6/device/vif/0/k")
				  ->perms);
	cr_assert_eq(nodes_index(&raw, "/local/domain/10/device/vif/0/k"), -1);
	cr_assert_eq(nodes_index(&raw, "/local/domain/11"), -1);
	cr_assert_eq(nodes_index(&raw, "/local/domain/120/device"), -1);
	cr_assert_geq(nodes_index(&raw, "/local/domain/120"), 0);
	nodes_free(&raw);
	nodes_free(&lib);
	git_fsck_clean(&fx, NULL);
}

/* What a run of the checkpoint thread did. */
struct run {
	uint64_t done, skipped, stale;
	int err;
};

/* Runs the thread on main (min_bytes, min_stale) until it decided once. */
static struct run run_thread(uint64_t min_bytes, uint64_t min_stale)
{
	struct gs_checkpoint c;
	struct run r = { 0 };
	git_oid head;
	main_commit(&fx, &head);
	cr_assert_eq(gs_checkpoint_start(&c, fx.store, false, min_bytes,
					 min_stale, &head), 0);
	for (int i = 0; i < 3000 && !r.done && !r.skipped && !r.err; i++) {
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&c.lock);
		r = (struct run){ c.done, c.skipped, c.stale, c.err };
		pthread_mutex_unlock(&c.lock);
	}
	gs_checkpoint_stop(&c);
	cr_assert_eq(r.err, 0, "checkpoint: %d", r.err);
	cr_assert_eq(r.done + r.skipped, 1);
	return r;
}

/* The count the thread makes, on main's tree, with limit. */
static int count_stale(uint64_t limit, uint64_t *n)
{
	struct gs_ckpt_read r;
	char path[512];
	git_odb *odb;
	int st;
	cr_assert_eq(gs_ckpt_read_open_index(&r, fx.store), 0);
	snprintf(path, sizeof(path), "%s/objects", fx.store);
	cr_assert_eq(git_odb_open(&odb, path), 0);
	char *t = git_out(&fx, &st, "rev-parse main^{tree}");
	cr_assert_eq(st, 0);
	git_oid tree;
	cr_assert_eq(git_oid_fromstrn(&tree, t, GIT_OID_HEXSZ), 0);
	int e = gs_ckpt_stale_count(&r, odb, &tree, limit, NULL, NULL, n);
	free(t);
	git_odb_free(odb);
	gs_ckpt_read_close(&r);
	return e;
}

/* A 512-byte value that compresses badly, different for each i. */
static void noise(char *v, unsigned i)
{
	uint64_t x = 0x9e3779b97f4a7c15ull * (i + 1);
	for (int k = 0; k < 512; k++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		v[k] = "0123456789abcdef"[x & 15];
	}
	v[512] = '\0';
}

Test(checkpoint, a_few_hot_keys_write_bytes_but_no_new_checkpoint)
{
	char first[2][64], now[2][64], path[512], v[513];
	fill(0, 200, "v1");
	checkpoint_once(&fx);
	cr_assert_eq(gs_checkpoint_names(fx.store, first), 1);
	/* 600 commits on 4 keys: far more pack bytes than min_bytes below */
	struct gitstore *gs = open_store(&fx, 10, GITSTORE_FSYNC_NEVER, NULL,
					 NULL);
	for (unsigned i = 0; i < 600; i++) {
		snprintf(path, sizeof(path), "/d/n%u", i % 4);
		noise(v, i);
		commit_write(gs, 0, path, v);
		if (i % 32 == 0)
			cr_assert_eq(gitstore_flush(gs), 0);
	}
	cr_assert_eq(gitstore_flush(gs), 0);
	cr_assert_eq(gitstore_sync(gs), 0);
	cr_assert_eq(gitstore_close(gs), 0);
	struct run r = run_thread(64 << 10, 64);
	cr_assert_eq(r.done, 0, "rewritten for 4 keys");
	cr_assert_eq(r.skipped, 1);
	/* the root, /d, 4 nodes' trees and values */
	cr_assert_geq(r.stale, 10);
	cr_assert_leq(r.stale, 64);
	cr_assert_eq(gs_checkpoint_names(fx.store, now), 1);
	cr_assert_str_eq(now[0], first[0]);
	pack_path(path, sizeof(path), first[0], "pack");
	cr_assert_eq(access(path, R_OK), 0);
	/* recovery reads the 4 new values from the newer packs */
	struct node_list l = { 0 };
	recover_into(&l, true);
	noise(v, 599);
	cr_assert_str_eq(value_of(&l, "/d/n3"), v);
	cr_assert_str_eq(value_of(&l, "/d/n4"), "v1");
	nodes_free(&l);
}

Test(checkpoint, rewritten_once_the_head_moved_past_the_limit)
{
	char first[2][64], now[2][64], path[512];
	fill(0, 200, "v1");
	checkpoint_once(&fx);
	cr_assert_eq(gs_checkpoint_names(fx.store, first), 1);
	fill(150, 100, "v2"); /* 50 changed, 50 new */
	uint64_t total, want = outside_by_path(first[0], &total);
	cr_assert_gt(want, 100);
	/* as many as the limit: near enough */
	struct run r = run_thread(1, want);
	cr_assert_eq(r.skipped, 1);
	cr_assert_eq(r.stale, want);
	cr_assert_eq(gs_checkpoint_names(fx.store, now), 1);
	cr_assert_str_eq(now[0], first[0]);
	/* one more than the limit: a new one */
	r = run_thread(1, want - 1);
	cr_assert_eq(r.done, 1);
	cr_assert_eq(r.stale, want);
	cr_assert_eq(gs_checkpoint_names(fx.store, now), 1);
	cr_assert_str_neq(now[0], first[0]);
	pack_path(path, sizeof(path), first[0], "idx");
	cr_assert_neq(access(path, F_OK), 0, "old checkpoint kept");
	assert_holds_head_tree(now[0]);
	assert_holds_head_tree(now[0]);
	/* recovery reads through it, and agrees with libgit2 */
	fill(300, 2, "v3");
	struct node_list raw = { 0 }, lib = { 0 };
	recover_into(&raw, true);
	recover_into(&lib, false);
	assert_same(&raw, &lib);
	cr_assert_str_eq(value_of(&raw, "/d/n10"), "v1");
	cr_assert_str_eq(value_of(&raw, "/d/n160"), "v2");
	cr_assert_str_eq(value_of(&raw, "/d/n240"), "v2");
	cr_assert_str_eq(value_of(&raw, "/d/n301"), "v3");
	nodes_free(&raw);
	nodes_free(&lib);
	git_fsck_clean(&fx, NULL);
}

Test(checkpoint, shared_trees_hide_nothing_from_the_count)
{
	char names[2][64];
	struct gitstore *gs = open_store(&fx, 10, GITSTORE_FSYNC_NEVER, NULL,
					 NULL);
	char path[96];
	for (int i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "/a/x/k%d", i);
		commit_write(gs, 0, path, "same");
		snprintf(path, sizeof(path), "/a/y/k%d/deep", i);
		commit_write(gs, 0, path, i % 2 ? "odd" : "even");
	}
	cr_assert_eq(gitstore_flush(gs), 0);
	cr_assert_eq(gitstore_sync(gs), 0);
	cr_assert_eq(gitstore_close(gs), 0);
	checkpoint_once(&fx);
	cr_assert_eq(gs_checkpoint_names(fx.store, names), 1);
	uint64_t n;
	cr_assert_eq(count_stale(1000, &n), 0);
	cr_assert_eq(n, 0);
	/*
	 * Trees the pack holds, now also elsewhere (/b/x is /a/x's tree, each
	 * new /c/kI is the tree of every /a/x/kI), beside a new tree that
	 * holds old ones (/b), one new tree at 20 paths (/b/z/kI: recovery
	 * reads it at each), a changed one whose siblings stay shared
	 * (/a/y/k3), and a new value under a subtree id the pack holds
	 * elsewhere (/c/k5/deep's parent was a leaf's tree).
	 */
	gs = open_store(&fx, 10, GITSTORE_FSYNC_NEVER, NULL, NULL);
	for (int i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "/b/x/k%d", i);
		commit_write(gs, 0, path, "same");
		snprintf(path, sizeof(path), "/c/k%d", i);
		commit_write(gs, 0, path, "same");
		snprintf(path, sizeof(path), "/b/z/k%d", i);
		commit_write(gs, 0, path, "brand new");
	}
	commit_write(gs, 0, "/a/y/k3/deep", "changed");
	commit_write(gs, 0, "/c/k5/deep", "new");
	cr_assert_eq(gitstore_flush(gs), 0);
	cr_assert_eq(gitstore_sync(gs), 0);
	cr_assert_eq(gitstore_close(gs), 0);
	uint64_t total, want = outside_by_path(names[0], &total);
	cr_assert_gt(want, 5);
	cr_assert_eq(count_stale(1000, &n), 0);
	cr_assert_eq(n, want);
	/* it stops one past the limit */
	cr_assert_eq(count_stale(want - 2, &n), 0);
	cr_assert_eq(n, want - 1);
}
