/*
 * test_mirror_fan.c - wide directories written fanned out (fanout.h):
 * the layout stock git sees, and the writer's incremental path giving the
 * trees a whole rewrite of the same state gives.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "store/git/fanout.h"
#include "store/git/mirror.h"
#include "store/git/repo.h"

FIXTURE_SUITE(fan_git, TEST_BOOT_A);

/* The bucket path of child name at depth ("" at 0), e.g. ".9/" or ".e/.3/". */
static void bucket_path(const char *name, unsigned depth, char *out)
{
	uint32_t k = gs_fan_key(name, strlen(name), depth);
	out[0] = '\0';
	for (unsigned i = 0; i < depth; i++) {
		char nm[3];
		gs_fan_bucket_name((k >> (4 * (depth - 1 - i))) & 15, nm);
		strcat(out, nm);
		strcat(out, "/");
	}
}

Test(fan_git, wide_directory_is_stored_in_buckets)
{
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, NULL,
					 NULL);
	char path[64], val[64];
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "/w/c%d", (i * 37) % 300);
		snprintf(val, sizeof(val), "v%d", (i * 37) % 300);
		commit_write(gs, 0, path, val);
	}
	commit_write(gs, 0, "/w/c7", "again");
	cr_assert_eq(gitstore_close(gs), 0);
	git_fsck_clean(&fx, NULL);
	int st;
	char *o = git_out(&fx, &st, "ls-tree --name-only main:w");
	cr_assert_eq(st, 0, "%s", o);
	/* only buckets and the dot entries at the top: no child */
	unsigned buckets = 0;
	for (char *l = strtok(o, "\n"); l; l = strtok(NULL, "\n")) {
		if (gs_fan_is_bucket(l))
			buckets++;
		else
			cr_assert(!strcmp(l, ".order") || !strcmp(l, ".perms") ||
					  !strcmp(l, ".value"),
				  "%s at the top", l);
	}
	free(o);
	cr_assert_eq(buckets, GS_FAN_WAYS); /* 300 names fill all 16 */
	char b[16];
	bucket_path("c7", 1, b);
	o = git_out(&fx, &st, "show main:w/%sc7/.value", b);
	cr_assert_str_eq(o, "again");
	free(o);
	bucket_path("c123", 1, b);
	o = git_out(&fx, &st, "show main:w/%sc123/.value", b);
	cr_assert_str_eq(o, "v123");
	free(o);
	/* .order is creation order: 0, 37, 74, ... */
	o = git_out(&fx, &st, "show main:w/.order");
	cr_assert_eq(count_lines(o), 300);
	cr_assert(!strncmp(o, "c0\nc37\nc74\n", 11), "%.20s", o);
	free(o);
	/* every child in exactly one bucket */
	o = git_out(&fx, &st, "ls-tree -r -d --name-only main:w");
	unsigned children = 0;
	for (char *l = strtok(o, "\n"); l; l = strtok(NULL, "\n"))
		if (!gs_fan_is_bucket(l))
			children++;
	free(o);
	cr_assert_eq(children, 300);
}

/*
 * Mirror-level tests: inc applies a history of effects with a write after
 * each step; a fresh mirror writing the final state from scratch must give
 * the same root tree (same bytes all the way down, .order included).
 */
static struct gs_repo repo;
static struct gs_mirror inc, whole;

/* The state as the tests track it: children of /d in creation order. */
#define MAXC 5000
static struct kid {
	char name[16];
	char value[24];
	char sub[24]; /* value of /d/<name>/s, or "" */
	bool alive;
} kids[MAXC];
static unsigned nkids;
static unsigned created[MAXC * 8], ncreated; /* indices, creation order */
static char dval[24]; /* /d's own value */

static void mirrors_setup(void)
{
	fixture_init(&fx, TEST_BOOT_A);
	cr_assert_eq(gs_repo_open(&repo, fx.store, false), 0);
	cr_assert_eq(gs_mirror_init(&inc, &repo, NULL), 0);
	cr_assert_eq(gs_mirror_init(&whole, &repo, NULL), 0);
	nkids = ncreated = 0;
	dval[0] = '\0';
}

static void mirrors_teardown(void)
{
	gs_mirror_fini(&inc);
	gs_mirror_fini(&whole);
	gs_repo_close(&repo);
	fixture_fini(&fx);
}

TestSuite(fan_mirror, .init = mirrors_setup, .fini = mirrors_teardown);

/* On inc (and whole, when both) and in the model. */
static void kid_write(unsigned i, const char *value, bool both)
{
	char path[64];
	if (!kids[i].alive) {
		kids[i].alive = true;
		kids[i].sub[0] = '\0';
		cr_assert_lt(ncreated, MAXC * 8);
		created[ncreated++] = i;
	}
	snprintf(kids[i].value, sizeof(kids[i].value), "%s", value);
	snprintf(path, sizeof(path), "/d/%s", kids[i].name);
	mirror_effect(&inc, path, false, value);
	if (both)
		mirror_effect(&whole, path, false, value);
}

static void kid_sub(unsigned i, const char *value, bool both)
{
	char path[64];
	snprintf(kids[i].sub, sizeof(kids[i].sub), "%s", value);
	snprintf(path, sizeof(path), "/d/%s/s", kids[i].name);
	mirror_effect(&inc, path, false, value);
	if (both)
		mirror_effect(&whole, path, false, value);
}

static void kid_rm(unsigned i, bool both)
{
	char path[64];
	kids[i].alive = false;
	snprintf(path, sizeof(path), "/d/%s", kids[i].name);
	mirror_effect(&inc, path, true, NULL);
	if (both)
		mirror_effect(&whole, path, true, NULL);
}

static unsigned kids_add(unsigned n, bool both)
{
	for (unsigned k = 0; k < n; k++) {
		unsigned i = nkids++;
		cr_assert_lt(i, MAXC);
		snprintf(kids[i].name, sizeof(kids[i].name), "k%u", i * 7919u);
		kid_write(i, "v", both);
	}
	return nkids;
}

/* The model written from scratch by a new mirror: its root tree id. */
static git_oid fresh_tree(void)
{
	struct gs_mirror f;
	char path[64];
	cr_assert_eq(gs_mirror_init(&f, &repo, NULL), 0);
	static unsigned lastpos[MAXC]; /* each kid's latest creation */
	mirror_effect(&f, "/d", false, dval);
	for (unsigned j = 0; j < ncreated; j++)
		lastpos[created[j]] = j;
	for (unsigned j = 0; j < ncreated; j++) {
		struct kid *k = &kids[created[j]];
		if (!k->alive || lastpos[created[j]] != j)
			continue;
		snprintf(path, sizeof(path), "/d/%s", k->name);
		mirror_effect(&f, path, false, k->value);
		if (k->sub[0]) {
			snprintf(path, sizeof(path), "/d/%s/s", k->name);
			mirror_effect(&f, path, false, k->sub);
		}
	}
	git_oid id = mirror_write_one(&f);
	gs_mirror_fini(&f);
	return id;
}

/* Lines of `git ls-tree` of <tree>:<path> (objects must be on disk). */
static char *ls_tree(const git_oid *tree, const char *path)
{
	char h[GIT_OID_HEXSZ + 1];
	int st;
	cr_assert_eq(gs_repo_dump(&repo), 0);
	char *o = git_out(&fx, &st, "ls-tree --name-only %s:%s",
			  git_oid_tostr(h, sizeof(h), tree), path);
	cr_assert_eq(st, 0, "%s", o);
	return o;
}

/* How many of the lines of s are buckets. */
static unsigned buckets_in(const char *s)
{
	unsigned n = 0;
	for (const char *l = s; *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		if (len == 2 && l[0] == '.') {
			char nm[3] = { l[0], l[1], 0 };
			n += gs_fan_is_bucket(nm);
		}
		l += len + (nl != NULL);
	}
	return n;
}

Test(fan_mirror, incremental_writes_give_the_trees_of_a_whole_rewrite)
{
	mirror_effect(&inc, "/d", false, "");
	kids_add(300, false);
	git_oid a = mirror_write_one(&inc), b = fresh_tree();
	expect_same_tree(&a, &b, "fill");
	unsigned seed = 99;
	char val[24];
	for (unsigned round = 0; round < 60; round++) {
		for (unsigned s = 0; s < 4; s++) {
			seed = seed * 1103515245u + 12345u;
			unsigned i = (seed >> 8) % nkids;
			snprintf(val, sizeof(val), "r%u.%u", round, s);
			switch ((seed >> 4) % 6) {
			case 0: /* a delete, or the child comes back */
				if (kids[i].alive)
					kid_rm(i, false);
				else
					kid_write(i, val, false);
				break;
			case 1:
				kids_add(1, false);
				break;
			case 2:
				if (kids[i].alive)
					kid_sub(i, val, false);
				break;
			default:
				if (kids[i].alive)
					kid_write(i, val, false);
			}
		}
		if (round % 7 == 3) { /* the top's own value */
			snprintf(dval, sizeof(dval), "%s", val);
			mirror_effect(&inc, "/d", false, val);
		}
		a = mirror_write_one(&inc);
		if (round % 10 == 9) {
			b = fresh_tree();
			expect_same_tree(&a, &b, "round");
		}
	}
	b = fresh_tree();
	expect_same_tree(&a, &b, "end");
	char *o = ls_tree(&a, "d");
	cr_assert_eq(buckets_in(o), GS_FAN_WAYS, "%s", o);
	free(o);
	cr_assert_eq(gs_repo_dump(&repo), 0);
	git_fsck_clean(&fx, NULL);
}

Test(fan_mirror, crossing_the_threshold_changes_shape_both_ways)
{
	mirror_effect(&inc, "/d", false, "top");
	kids_add(GS_FAN_MIN - 1, false);
	git_oid a = mirror_write_one(&inc), b;
	char *o = ls_tree(&a, "d");
	cr_assert_eq(buckets_in(o), 0);
	cr_assert_eq(count_lines(o), GS_FAN_MIN - 1 + 3); /* + dot entries */
	free(o);
	kids_add(1, false);
	a = mirror_write_one(&inc);
	o = ls_tree(&a, "d");
	cr_assert_eq(buckets_in(o), GS_FAN_WAYS);
	cr_assert_eq(count_lines(o), GS_FAN_WAYS + 3);
	free(o);
	/* a child's value written in the fanned shape */
	kid_write(5, "five", false);
	a = mirror_write_one(&inc);
	char path[64], bp[16];
	bucket_path(kids[5].name, 1, bp);
	snprintf(path, sizeof(path), "d/%s%s", bp, kids[5].name);
	o = ls_tree(&a, path);
	cr_assert_str_eq(o, ".perms\n.value\n");
	free(o);
	kid_rm(0, false);
	a = mirror_write_one(&inc);
	o = ls_tree(&a, "d");
	cr_assert_eq(buckets_in(o), 0);
	cr_assert_eq(count_lines(o), GS_FAN_MIN - 1 + 3);
	free(o);
	b = fresh_tree(); /* with /d = "" */
	cr_assert(!git_oid_equal(&a, &b), "the top's value must count");
	kid_write(1, "one", false);
	mirror_effect(&inc, "/d", false, "");
	a = mirror_write_one(&inc);
	b = fresh_tree();
	expect_same_tree(&a, &b, "flat again");
	git_fsck_clean(&fx, NULL);
}

Test(fan_mirror, very_wide_directory_has_two_levels)
{
	mirror_effect(&inc, "/d", false, "");
	kids_add(GS_FAN_DEEP, false);
	git_oid a = mirror_write_one(&inc), b;
	char *o = ls_tree(&a, "d");
	cr_assert_eq(buckets_in(o), GS_FAN_WAYS);
	cr_assert_eq(count_lines(o), GS_FAN_WAYS + 3);
	free(o);
	char path[64], bp[16];
	bucket_path(kids[17].name, 2, bp);
	cr_assert_eq(strlen(bp), 6); /* ".x/.y/" */
	snprintf(path, sizeof(path), "d/%.2s", bp);
	o = ls_tree(&a, path); /* a first-level bucket: buckets only */
	cr_assert_eq(buckets_in(o), count_lines(o));
	cr_assert_gt(count_lines(o), 0);
	free(o);
	/* many writes: mids and leaves as deltas of their last versions */
	char val[24];
	for (unsigned w = 0; w < 300; w++) {
		snprintf(val, sizeof(val), "x%u", w);
		kid_write((w * 2654435761u) % GS_FAN_DEEP, val, false);
		mirror_write_one(&inc);
	}
	a = mirror_write_one(&inc);
	b = fresh_tree();
	expect_same_tree(&a, &b, "after many writes");
	kid_sub(17, "deep", false);
	kid_write(4000, "w", false);
	a = mirror_write_one(&inc);
	snprintf(path, sizeof(path), "d/%s%s/s", bp, kids[17].name);
	o = ls_tree(&a, path);
	cr_assert_str_eq(o, ".perms\n.value\n");
	free(o);
	b = fresh_tree();
	expect_same_tree(&a, &b, "two levels");
	/* one child fewer: one level again */
	kid_rm(3, false);
	a = mirror_write_one(&inc);
	snprintf(path, sizeof(path), "d/%.2s", bp);
	o = ls_tree(&a, path);
	cr_assert_eq(buckets_in(o), 0);
	free(o);
	b = fresh_tree();
	expect_same_tree(&a, &b, "one level");
	git_fsck_clean(&fx, NULL);
}

Test(fan_mirror, dropped_wide_directory_reloads_from_buckets)
{
	mirror_effect(&inc, "/d", false, "");
	mirror_effect(&whole, "/d", false, "");
	kids_add(600, true);
	git_oid a = mirror_write_one(&inc), b = mirror_write_one(&whole);
	expect_same_tree(&a, &b, "fill");
	unsigned seed = 7;
	char val[24];
	for (unsigned round = 0; round < 12; round++) {
		cr_assert_eq(gs_repo_dump(&repo), 0);
		size_t before = inc.tabn;
		cr_assert_gt(gs_mirror_trim(&inc, 0, 0), 0);
		cr_assert_lt(inc.tabn, before);
		for (unsigned s = 0; s < 3; s++) {
			seed = seed * 1103515245u + 12345u;
			unsigned i = (seed >> 8) % nkids;
			snprintf(val, sizeof(val), "t%u.%u", round, s);
			if (s == 0)
				kids_add(1, true);
			else if (s == 1 && kids[i].alive)
				kid_rm(i, true);
			else if (kids[i].alive)
				kid_sub(i, val, true);
		}
		a = mirror_write_one(&inc);
		b = mirror_write_one(&whole);
		expect_same_tree(&a, &b, "after a trim");
	}
	/* creation order survives the reloads: the walks agree */
	cr_assert_eq(gs_repo_dump(&repo), 0);
	cr_assert_gt(gs_mirror_trim(&inc, 0, 0), 0);
	struct walk_dump x = { 0 }, y = { 0 };
	cr_assert_eq(gs_mirror_walk(&inc, walk_dump_node, &x), 0);
	cr_assert_eq(gs_mirror_walk(&whole, walk_dump_node, &y), 0);
	cr_assert_eq(x.len, y.len);
	cr_assert(!memcmp(x.s, y.s, x.len), "walks differ");
	/* children walk in creation order (names are not in Git's) */
	const char *prev = x.s;
	for (unsigned j = 0; j < ncreated; j++) {
		struct kid *k = &kids[created[j]];
		bool last = true;
		for (unsigned l = j + 1; l < ncreated; l++)
			last &= created[l] != created[j];
		if (!k->alive || !last)
			continue;
		char line[64];
		snprintf(line, sizeof(line), "\n/d/%s=", k->name);
		const char *at = strstr(x.s, line);
		cr_assert(at && at > prev, "%s out of order", k->name);
		prev = at;
	}
	free(x.s);
	free(y.s);
	b = fresh_tree();
	expect_same_tree(&a, &b, "whole rewrite");
	char *o = ls_tree(&a, "d");
	cr_assert_eq(buckets_in(o), GS_FAN_WAYS, "%s", o);
	free(o);
}

/* Whole and delta entries of the one pack, for the trees that pass is(). */
struct pack_count {
	unsigned whole, delta;
};

static struct pack_count pack_trees(git_repository *r,
				    bool (*is)(const git_tree *t))
{
	int st;
	char *o = git_out(&fx, &st, "verify-pack -v %s/objects/pack/*.idx",
			  fx.store);
	cr_assert_eq(st, 0, "%s", o);
	struct pack_count c = { 0, 0 };
	for (char *l = strtok(o, "\n"); l; l = strtok(NULL, "\n")) {
		char hex[GIT_OID_HEXSZ + 1], type[16];
		unsigned long size, psize, off, depth;
		/* whole: id type size size-in-pack offset; delta: + depth base */
		int f = sscanf(l, "%40s %15s %lu %lu %lu %lu", hex, type, &size,
			       &psize, &off, &depth);
		if (f < 5 || strcmp(type, "tree"))
			continue;
		git_oid id;
		git_tree *t;
		cr_assert_eq(git_oid_fromstr(&id, hex), 0);
		cr_assert_eq(git_tree_lookup(&t, r, &id), 0, "%s", hex);
		if (is(t)) {
			if (f == 6)
				c.delta++;
			else
				c.whole++;
		}
		git_tree_free(t);
	}
	free(o);
	return c;
}

/* A leaf bucket of /d: children only, all trees named as children are. */
static bool is_leaf_bucket(const git_tree *t)
{
	size_t n = git_tree_entrycount(t);
	for (size_t i = 0; i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		if (git_tree_entry_type(e) != GIT_OBJECT_TREE ||
		    git_tree_entry_name(e)[0] != 'k')
			return false;
	}
	return n >= 4;
}

/* /d itself: buckets and .order. */
static bool is_top(const git_tree *t)
{
	return git_tree_entry_byname(t, ".order") &&
	       git_tree_entry_byname(t, ".0");
}

/*
 * The pack being built goes to its file GS_PACK_STAGE bytes at a time;
 * buckets written thousands of times in between must still be deltas of
 * their first (whole) version, not stored whole again after each step.
 */
Test(fan_mirror, buckets_stay_deltas_across_pack_flushes)
{
	mirror_effect(&inc, "/d", false, "");
	kids_add(300, false);
	mirror_write_one(&inc);
	static const unsigned hot[] = { 1, 50, 100, 200 };
	char val[801];
	unsigned seed = 5;
	for (unsigned w = 0; w < 3000; w++) {
		/* values that do not compress much: many pack steps */
		for (size_t j = 0; j + 1 < sizeof(val); j++) {
			seed = seed * 1103515245u + 12345u;
			val[j] = (char)('!' + (seed >> 16) % 90);
		}
		val[sizeof(val) - 1] = '\0';
		char path[64]; /* not in the model: its values are short */
		snprintf(path, sizeof(path), "/d/%s", kids[hot[w % 4]].name);
		mirror_effect(&inc, path, false, val);
		mirror_write_one(&inc);
	}
	cr_assert_gt(gs_repo_pack_bytes(&repo), 16 * GS_PACK_STAGE);
	cr_assert_eq(gs_repo_dump(&repo), 0);
	git_repository *r;
	cr_assert_eq(git_repository_open(&r, fx.store), 0);
	struct pack_count leaf = pack_trees(r, is_leaf_bucket);
	struct pack_count top = pack_trees(r, is_top);
	git_repository_free(r);
	/* the first write stores each of the 16 whole */
	cr_assert_geq(leaf.whole, GS_FAN_WAYS);
	cr_assert_leq(leaf.whole, GS_FAN_WAYS + 4, "%u whole, %u deltas",
		      leaf.whole, leaf.delta);
	cr_assert_geq(leaf.delta, 2900, "%u deltas", leaf.delta);
	cr_assert_leq(top.whole, 4, "%u whole tops, %u deltas", top.whole,
		      top.delta);
	git_fsck_clean(&fx, NULL);
}

/* Writes a loose object of a tree built from builder tb into *out. */
static void tb_write(git_treebuilder *tb, git_oid *out)
{
	cr_assert_eq(git_treebuilder_write(out, tb), 0);
	git_treebuilder_free(tb);
}

static git_treebuilder *tb_new(git_repository *r)
{
	git_treebuilder *tb;
	cr_assert_eq(git_treebuilder_new(&tb, r, NULL), 0);
	return tb;
}

static void tb_put(git_treebuilder *tb, const char *name, const git_oid *id,
		   bool tree)
{
	cr_assert_eq(git_treebuilder_insert(NULL, tb, name, id,
					    tree ? GIT_FILEMODE_TREE
						 : GIT_FILEMODE_BLOB),
		     0, "%s", name);
}

/* The loose object file of id in the store. */
static void loose_path(const git_oid *id, char *out, size_t len)
{
	char h[GIT_OID_HEXSZ + 1];
	git_oid_tostr(h, sizeof(h), id);
	snprintf(out, len, "%s/objects/%.2s/%s", fx.store, h, h + 2);
}

/*
 * A fanned directory whose last bucket cannot be read yet: the load fails
 * after the other buckets' children were added. The effect is applied
 * again once the bucket is there (the writer retries a record); the
 * directory must then hold each child once.
 */
Test(fan_mirror, failed_bucket_read_leaves_no_half_loaded_directory)
{
	git_repository *r;
	cr_assert_eq(git_repository_open(&r, fx.store), 0);
	git_oid v, p, empty, order, kid, bucket[GS_FAN_WAYS], d, root;
	cr_assert_eq(git_blob_create_from_buffer(&v, r, "v", 1), 0);
	cr_assert_eq(git_blob_create_from_buffer(&p, r, "n0\n", 3), 0);
	cr_assert_eq(git_blob_create_from_buffer(&empty, r, "", 0), 0);
	git_treebuilder *tb = tb_new(r);
	tb_put(tb, ".perms", &p, false);
	tb_put(tb, ".value", &v, false);
	tb_write(tb, &kid); /* every child has the same tree */
	git_treebuilder *b[GS_FAN_WAYS];
	for (unsigned h = 0; h < GS_FAN_WAYS; h++)
		b[h] = tb_new(r);
	char olist[300 * 12];
	size_t ol = 0;
	for (unsigned i = 0; i < 300; i++) {
		struct kid *k = &kids[nkids++];
		snprintf(k->name, sizeof(k->name), "k%u", i * 7919u);
		snprintf(k->value, sizeof(k->value), "v");
		k->alive = true;
		created[ncreated++] = i;
		ol += (size_t)sprintf(olist + ol, "%s\n", k->name);
		tb_put(b[gs_fan_key(k->name, strlen(k->name), 1)], k->name,
		       &kid, true);
	}
	cr_assert_eq(git_blob_create_from_buffer(&order, r, olist, ol), 0);
	tb = tb_new(r);
	for (unsigned h = 0; h < GS_FAN_WAYS; h++) {
		char nm[3];
		cr_assert_gt(git_treebuilder_entrycount(b[h]), 0);
		tb_write(b[h], &bucket[h]);
		gs_fan_bucket_name(h, nm);
		tb_put(tb, nm, &bucket[h], true);
	}
	tb_put(tb, ".order", &order, false);
	tb_put(tb, ".perms", &p, false);
	tb_put(tb, ".value", &empty, false);
	tb_write(tb, &d);
	tb = tb_new(r);
	tb_put(tb, "d", &d, true);
	tb_put(tb, ".perms", &p, false);
	tb_put(tb, ".value", &empty, false);
	tb_write(tb, &root);
	git_repository_free(r);

	/* bucket .f, read last, is away */
	char here[512], away[520];
	loose_path(&bucket[GS_FAN_WAYS - 1], here, sizeof(here));
	snprintf(away, sizeof(away), "%s.away", here);
	cr_assert_eq(rename(here, away), 0, "%s", here);
	struct gs_mirror m;
	cr_assert_eq(gs_mirror_init(&m, &repo, &root), 0);
	struct xsw_perm n0[1] = { { 0, XSW_PERM_NONE } };
	struct store_effect e = { "/d/new", false, "v", 1, n0, 1 };
	cr_assert_neq(gs_mirror_apply(&m, &e), 0, "bucket .f is missing");
	cr_assert_eq(rename(away, here), 0);
	cr_assert_eq(gs_mirror_apply(&m, &e), 0);
	struct kid *k = &kids[nkids];
	snprintf(k->name, sizeof(k->name), "new");
	snprintf(k->value, sizeof(k->value), "v");
	k->alive = true;
	created[ncreated++] = nkids++;
	git_oid a = mirror_write_one(&m), want = fresh_tree();
	gs_mirror_fini(&m);
	expect_same_tree(&a, &want, "after the retried load");
}

/*
 * Names whose Git order is not their byte order (Git compares tree names
 * as if they ended in '/'): prefixes of each other, and '-', '_', '@'
 * around the '/'.
 */
static void odd_name(unsigned i, char *out, size_t len)
{
	static const char *const tails[] = { "", "-", "-a", "_", "@",
					     "-1-2", "0x" };
	snprintf(out, len, "n%u%s", i / 7, tails[i % 7]);
}

static unsigned pick(unsigned *seed, bool alive)
{
	for (;;) {
		*seed = *seed * 1103515245u + 12345u;
		unsigned i = (*seed >> 8) % nkids;
		if (kids[i].alive == alive)
			return i;
	}
}

/*
 * One write that adds and removes many children, crossing 256 and 4096
 * either way (or several times over between two writes), the directory
 * removed whole and made again, trims between writes: each written tree
 * is the one a whole rewrite of the same state gives, and sorted as Git
 * wants (fsck --strict).
 */
Test(fan_mirror, shape_changes_within_one_write_match_a_whole_rewrite)
{
	static const unsigned target[] = { 255, 256, 300, 255, 4096, 4095,
					   4200, 200, 4096, 256, 0, 257, 255,
					   4100, 300 };
	nkids = 4300;
	for (unsigned i = 0; i < nkids; i++)
		odd_name(i, kids[i].name, sizeof(kids[i].name));
	mirror_effect(&inc, "/d", false, "");
	unsigned seed = 11, alive = 0;
	char val[24];
	for (unsigned r = 0; r < sizeof(target) / sizeof(*target); r++) {
		if (r == 9) { /* the directory goes, and comes back */
			mirror_effect(&inc, "/d", true, NULL);
			for (unsigned i = 0; i < nkids; i++)
				kids[i].alive = false;
			alive = 0;
			snprintf(dval, sizeof(dval), "again");
			mirror_effect(&inc, "/d", false, dval);
		}
		/* churn first: the set changes even where the count does not */
		for (unsigned j = 0; j < 40 && alive > 40; j++) {
			kid_rm(pick(&seed, true), false);
			snprintf(val, sizeof(val), "c%u.%u", r, j);
			kid_write(pick(&seed, false), val, false);
		}
		for (; alive > target[r]; alive--)
			kid_rm(pick(&seed, true), false);
		for (; alive < target[r]; alive++) {
			snprintf(val, sizeof(val), "a%u", r);
			kid_write(pick(&seed, false), val, false);
		}
		for (unsigned j = 0; j < 20 && alive; j++) {
			unsigned i = pick(&seed, true);
			snprintf(val, sizeof(val), "w%u.%u", r, j);
			if (j % 2)
				kid_sub(i, val, false);
			else
				kid_write(i, val, false);
		}
		git_oid a = mirror_write_one(&inc), b = fresh_tree();
		char what[32];
		snprintf(what, sizeof(what), "round %u (%u children)", r,
			 alive);
		expect_same_tree(&a, &b, what);
		if (r % 3 == 2) {
			cr_assert_eq(gs_repo_dump(&repo), 0);
			gs_mirror_trim(&inc, 0, 0);
		}
	}
	cr_assert_eq(gs_repo_dump(&repo), 0);
	git_fsck_clean(&fx, NULL);
}
