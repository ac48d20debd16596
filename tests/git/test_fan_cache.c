/*
 * test_fan_cache.c - the writer's cache of fanned-out directories
 * (mirror_fan.c) under memory pressure: caches dropped by the eviction
 * limit or by a trim, then written again and read back, give the trees
 * a whole rewrite gives; the bytes counted for the caches (wbytes) go
 * back to nothing once no wide directory is left.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "store/git/mirror.h"
#include "store/git/repo.h"

FIXTURE_SUITE(fan_cache, TEST_BOOT_A);

/* More fanned directories than the cache limit holds at once. */
#define DIRS 200u
#define KIDS 300u

static unsigned short val[DIRS][KIDS]; /* the model: value of /a/dI/cJ */

static void kid_put(struct gs_mirror *m, unsigned d, unsigned k)
{
	char path[64], v[16];
	snprintf(path, sizeof(path), "/a/d%u/c%u", d, k);
	snprintf(v, sizeof(v), "v%u", val[d][k]);
	mirror_effect(m, path, false, v);
}

static void dir_put(struct gs_mirror *m, unsigned d)
{
	char path[64];
	snprintf(path, sizeof(path), "/a/d%u", d);
	mirror_effect(m, path, false, "");
	for (unsigned k = 0; k < KIDS; k++)
		kid_put(m, d, k);
}

/* The model written by a new mirror, whole. */
static git_oid fresh_tree(struct gs_repo *repo)
{
	struct gs_mirror f;
	cr_assert_eq(gs_mirror_init(&f, repo, NULL), 0);
	mirror_effect(&f, "/a", false, "");
	for (unsigned d = 0; d < DIRS; d++)
		dir_put(&f, d);
	git_oid id = mirror_write_one(&f);
	gs_mirror_fini(&f);
	return id;
}

/* A few children of every directory written again: evicted ones too. */
static void touch_all(struct gs_mirror *m, unsigned round)
{
	for (unsigned d = 0; d < DIRS; d++)
		for (unsigned j = 0; j < 3; j++) {
			unsigned k = (d * 31 + j * 101 + round * 7) % KIDS;
			val[d][k] = (unsigned short)(round * 10 + j + 1);
			kid_put(m, d, k);
		}
}

Test(fan_cache, evicted_and_trimmed_caches_write_and_read_back_whole)
{
	struct gs_repo repo;
	struct gs_mirror m;
	cr_assert_eq(gs_repo_open(&repo, fx.store, false), 0);
	cr_assert_eq(gs_mirror_init(&m, &repo, NULL), 0);
	memset(val, 0, sizeof(val));
	mirror_effect(&m, "/a", false, "");
	dir_put(&m, 0);
	mirror_write_one(&m);
	size_t one = m.wbytes; /* one fanned directory's cache */
	cr_assert_gt(one, 0);
	for (unsigned d = 1; d < DIRS; d++) {
		dir_put(&m, d);
		mirror_write_one(&m);
	}
	/* /a's own (flat) cache is in wbytes too: less than DIRS caches */
	cr_assert_lt(m.wbytes, (DIRS - 1) * one,
		     "no eviction: %zu bytes for %u directories of %zu",
		     m.wbytes, DIRS, one);
	for (unsigned r = 1; r <= 3; r++) {
		touch_all(&m, r);
		git_oid a = mirror_write_one(&m), b = fresh_tree(&repo);
		expect_same_tree(&a, &b, "after eviction");
	}
	/* every cache goes with the trim; the directories load from Git */
	cr_assert_eq(gs_repo_dump(&repo), 0);
	cr_assert_gt(gs_mirror_trim(&m, 0, 0), 0);
	cr_assert_eq(m.wbytes, 0, "%zu bytes left after the trim", m.wbytes);
	touch_all(&m, 4);
	git_oid a = mirror_write_one(&m), b = fresh_tree(&repo);
	expect_same_tree(&a, &b, "after a trim");
	struct gs_mirror w;
	cr_assert_eq(gs_mirror_init(&w, &repo, &a), 0);
	struct walk_dump x = { 0 }, y = { 0 };
	cr_assert_eq(gs_repo_dump(&repo), 0);
	cr_assert_gt(gs_mirror_trim(&m, 0, 0), 0);
	cr_assert_eq(gs_mirror_walk(&m, walk_dump_node, &x), 0);
	cr_assert_eq(gs_mirror_walk(&w, walk_dump_node, &y), 0);
	cr_assert_eq(x.len, y.len);
	cr_assert(!memcmp(x.s, y.s, x.len), "walks differ");
	cr_assert_gt(x.len, DIRS * KIDS * 10);
	free(x.s);
	free(y.s);
	gs_mirror_fini(&w);
	/* written again, then removed whole: no cache is left counted */
	touch_all(&m, 5);
	mirror_write_one(&m);
	cr_assert_gt(m.wbytes, 0);
	mirror_effect(&m, "/a", true, NULL);
	mirror_write_one(&m);
	cr_assert_eq(m.wbytes, 0, "%zu bytes left counted", m.wbytes);
	gs_mirror_fini(&m);
	gs_repo_close(&repo);
	git_fsck_clean(&fx, NULL);
}

/*
 * A fanned directory through every shape, one write each, then gone:
 * what each cache counted when it came is what it gives back.
 */
Test(fan_cache, shape_changes_give_back_what_they_counted)
{
	struct gs_repo repo;
	struct gs_mirror m;
	static const unsigned width[] = { 300, 4096, 4095, 256, 255, 31,
					  4200, 300, 0 };
	char path[64];
	cr_assert_eq(gs_repo_open(&repo, fx.store, false), 0);
	cr_assert_eq(gs_mirror_init(&m, &repo, NULL), 0);
	mirror_effect(&m, "/d", false, "");
	unsigned n = 0;
	for (unsigned s = 0; s < sizeof(width) / sizeof(*width); s++) {
		for (; n < width[s]; n++) {
			snprintf(path, sizeof(path), "/d/k%u", n);
			mirror_effect(&m, path, false, "v");
		}
		for (; n > width[s]; n--) {
			snprintf(path, sizeof(path), "/d/k%u", n - 1);
			mirror_effect(&m, path, true, NULL);
		}
		mirror_write_one(&m);
		cr_assert_eq(m.wbytes > 0, n >= 32, "%u children: %zu bytes",
			     n, m.wbytes);
	}
	/* and once more, removed whole while fanned */
	for (; n < 4100; n++) {
		snprintf(path, sizeof(path), "/d/k%u", n);
		mirror_effect(&m, path, false, "v");
	}
	mirror_write_one(&m);
	cr_assert_gt(m.wbytes, 0);
	mirror_effect(&m, "/d", true, NULL);
	mirror_write_one(&m);
	cr_assert_eq(m.wbytes, 0, "%zu bytes left counted", m.wbytes);
	gs_mirror_fini(&m);
	gs_repo_close(&repo);
}
