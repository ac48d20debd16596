/*
 * test_mirror.c - the writer's mirror dropping cold subtrees and loading
 * them back from Git: the trees it writes must be those of a mirror that
 * never dropped anything.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "store/git/mirror.h"
#include "store/git/repo.h"

#define BOOT_A "aaaaaaaa-0000-0000-0000-000000000001"

static struct fixture fx;
static struct gs_repo repo;
static struct gs_mirror trimmed, whole;

static void setup(void)
{
	fixture_init(&fx, BOOT_A);
	cr_assert_eq(gs_repo_open(&repo, fx.store, false), 0);
	cr_assert_eq(gs_mirror_init(&trimmed, &repo, NULL), 0);
	cr_assert_eq(gs_mirror_init(&whole, &repo, NULL), 0);
}

static void teardown(void)
{
	gs_mirror_fini(&trimmed);
	gs_mirror_fini(&whole);
	gs_repo_close(&repo);
	fixture_fini(&fx);
}

TestSuite(mirror, .init = setup, .fini = teardown);

/* One effect on both mirrors. */
static void apply(const char *path, bool deleted, const char *value,
		  uint32_t owner)
{
	struct xsw_perm p[2] = { { owner, XSW_PERM_NONE },
				 { 7, XSW_PERM_READ } };
	struct store_effect e = { path, deleted, value,
				  value ? (uint32_t)strlen(value) : 0, p,
				  owner % 2 + 1 };
	cr_assert_eq(gs_mirror_apply(&trimmed, &e), 0, "%s", path);
	cr_assert_eq(gs_mirror_apply(&whole, &e), 0, "%s", path);
}

/* Both mirrors write; their root trees must be the same object. */
static void write_both(void)
{
	git_oid a, b;
	cr_assert_eq(gs_mirror_write(&trimmed, &a), 0);
	cr_assert_eq(gs_mirror_write(&whole, &b), 0);
	char ha[GIT_OID_HEXSZ + 1], hb[GIT_OID_HEXSZ + 1];
	cr_assert(git_oid_equal(&a, &b), "trimmed %s, whole %s",
		  git_oid_tostr(ha, sizeof(ha), &a),
		  git_oid_tostr(hb, sizeof(hb), &b));
}

/* Names in an order Git does not sort them in, so that .order matters. */
static void node_path(char *buf, size_t len, unsigned dom, unsigned k)
{
	static const char *names[] = { "zeta", "alpha", "mid", "b", "a-b" };
	snprintf(buf, len, "/local/domain/%u/dev/%s/%u", dom, names[k % 5],
		 k / 5);
}

/* Walks read values from the repository: objects must be on disk. */
static void walks_equal(void)
{
	struct walk_dump a = { 0 }, b = { 0 };
	cr_assert_eq(gs_repo_dump(&repo), 0);
	cr_assert_eq(gs_mirror_walk(&trimmed, walk_dump_node, &a), 0);
	cr_assert_eq(gs_mirror_walk(&whole, walk_dump_node, &b), 0);
	cr_assert_eq(a.len, b.len);
	cr_assert(!memcmp(a.s, b.s, a.len), "walks differ");
	free(a.s);
	free(b.s);
}

Test(mirror, dropped_subtrees_reload_to_the_same_trees)
{
	char path[256], value[32];
	size_t dropped = 0;
	unsigned seed = 12345;
	/* a fill: 40 domains of 15 nodes, one commit per domain */
	for (unsigned d = 0; d < 40; d++) {
		for (unsigned k = 0; k < 15; k++) {
			node_path(path, sizeof(path), d, k);
			snprintf(value, sizeof(value), "v%u.%u", d, k);
			apply(path, false, value, d);
		}
		write_both();
	}
	/*
	 * Changes reaching dropped subtrees: values, new children after the
	 * reloaded ones, removals, perms; objects on disk before each trim.
	 */
	for (unsigned round = 0; round < 30; round++) {
		cr_assert_eq(gs_repo_dump(&repo), 0);
		dropped += gs_mirror_trim(&trimmed, 0, 8);
		cr_assert_leq(trimmed.tabn, whole.tabn);
		for (unsigned i = 0; i < 5; i++) {
			seed = seed * 1103515245u + 12345u;
			unsigned d = (seed >> 8) % 40, k = (seed >> 16) % 20;
			node_path(path, sizeof(path), d, k);
			switch ((seed >> 4) % 4) {
			case 0:
				apply(path, true, NULL, d);
				break;
			case 1:
				snprintf(path, sizeof(path),
					 "/local/domain/%u/dev", d);
				apply(path, true, NULL, d);
				break;
			default:
				snprintf(value, sizeof(value), "r%u", round);
				apply(path, false, value, d + round);
			}
			write_both();
		}
	}
	cr_assert_gt(dropped, 0, "the trim never dropped a node");
	cr_assert_eq(gs_repo_dump(&repo), 0);
	cr_assert_gt(gs_mirror_trim(&trimmed, 0, 0), 0);
	walks_equal();
	apply("/local/domain/3/dev/new", false, "x", 3);
	write_both();
}

Test(mirror, trim_keeps_recent_paths_and_respects_budget)
{
	char path[256];
	for (unsigned d = 0; d < 20; d++) {
		for (unsigned k = 0; k < 10; k++) {
			node_path(path, sizeof(path), d, k);
			apply(path, false, "v", d);
		}
		write_both();
	}
	cr_assert_eq(gs_repo_dump(&repo), 0);
	size_t before = trimmed.tabn;
	/* under budget: nothing goes */
	cr_assert_eq(gs_mirror_trim(&trimmed, before, 0), 0);
	cr_assert_eq(trimmed.tabn, before);
	/* the last domain was written by the last 10 effects: it stays */
	size_t dropped = gs_mirror_trim(&trimmed, 0, 20);
	cr_assert_gt(dropped, 0);
	cr_assert_eq(trimmed.tabn, before - dropped);
	size_t after = trimmed.tabn;
	node_path(path, sizeof(path), 19, 3);
	apply(path, false, "w", 19);
	cr_assert_eq(trimmed.tabn, after, "a kept path was loaded again");
	write_both();
	walks_equal();
}
