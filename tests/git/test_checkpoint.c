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

/* Every tree and blob of main's tree is in pack name alone. */
static void assert_holds_head_tree(const char *name)
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
	unsigned n = 0;
	for (char *l = strtok(o, "\n"); l; l = strtok(NULL, "\n"), n++) {
		git_oid id;
		cr_assert_eq(git_oid_fromstrn(&id, l, GIT_OID_HEXSZ), 0);
		cr_assert(git_odb_exists(odb, &id), "%s not in %s", l, name);
	}
	git_oid rid;
	cr_assert_eq(git_oid_fromstrn(&rid, root, GIT_OID_HEXSZ), 0);
	cr_assert(git_odb_exists(odb, &rid));
	cr_assert_gt(n, 40);
	free(o);
	free(root);
	git_odb_free(odb);
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
