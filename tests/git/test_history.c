/* test_history.c - what stock git sees: layout, commits, metadata, fsck. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "store/git/gitstore_int.h"

#define BOOT_A "11111111-2222-3333-4444-555555555555"

FIXTURE_SUITE(history, BOOT_A);

Test(history, fresh_store_has_initial_tree_and_boot_tag)
{
	struct node_list l = { 0 };
	uint64_t seq;
	struct gitstore *gs = open_store(&fx, 50, GITSTORE_FSYNC_NEVER, &l,
					 &seq);
	cr_assert_eq(seq, 0);
	cr_assert_eq(l.n, 3);
	cr_assert_str_eq(l.v[0].path, "/");
	cr_assert_str_eq(l.v[1].path, "/tool");
	cr_assert_str_eq(l.v[2].path, "/tool/xenstored");
	cr_assert_str_eq(l.v[2].perms, "n0");
	cr_assert_eq(gitstore_close(gs), 0);
	int st;
	char *o = git_out(&fx, &st, "tag -l 'boot/*'");
	cr_assert_eq(st, 0);
	cr_assert_str_eq(o, "boot/" BOOT_A "\n");
	free(o);
	o = git_out(&fx, &st, "symbolic-ref HEAD");
	cr_assert_str_eq(o, "refs/heads/main\n");
	free(o);
	nodes_free(&l);
}

Test(history, round_trip_tree_values_perms_and_order)
{
	struct gitstore *gs = open_store(&fx, 50, GITSTORE_FSYNC_NEVER, NULL,
					 NULL);
	/* children created out of name order: "z" before "a", "10" before "9" */
	commit_write(gs, 0, "/local", "");
	commit_write(gs, 0, "/local/z", "last");
	commit_write(gs, 0, "/local/a", "first");
	commit_write(gs, 3, "/local/a/10", "ten");
	commit_write(gs, 3, "/local/a/9", "nine");
	commit_write(gs, 3, "/local/a/-x", "dash sorts before dot");
	commit_write(gs, 0, "/bin", "\x01\x02\xff");
	commit_write(gs, 0, "/gone", "soon");
	commit_write(gs, 0, "/gone/child", "too");
	commit_rm(gs, 0, "/gone");
	commit_write(gs, 0, "/local/z", "rewritten");
	cr_assert_eq(gitstore_flush(gs), 0);
	cr_assert_eq(gitstore_close(gs), 0);

	struct node_list l = { 0 };
	uint64_t seq;
	gs = open_store(&fx, 50, GITSTORE_FSYNC_NEVER, &l, &seq);
	cr_assert_eq(seq, 11);
	cr_assert_eq(l.n, 3 + 7, "got %zu nodes", l.n);
	const struct tnode *t = nodes_find(&l, "/local/z");
	cr_assert_not_null(t);
	cr_assert_str_eq(t->value, "rewritten");
	t = nodes_find(&l, "/local/a/10");
	cr_assert_not_null(t);
	cr_assert_str_eq(t->value, "ten");
	cr_assert_str_eq(t->perms, "n3,r0");
	t = nodes_find(&l, "/bin");
	cr_assert_eq(t->len, 3);
	cr_assert_eq(memcmp(t->value, "\x01\x02\xff", 3), 0);
	cr_assert_null(nodes_find(&l, "/gone"));
	cr_assert_null(nodes_find(&l, "/gone/child"));
	/* creation order survives, parents before children */
	cr_assert_lt(nodes_index(&l, "/local/z"), nodes_index(&l, "/local/a"));
	cr_assert_lt(nodes_index(&l, "/local/a/10"),
		     nodes_index(&l, "/local/a/9"));
	cr_assert_lt(nodes_index(&l, "/local/a/9"),
		     nodes_index(&l, "/local/a/-x"));
	cr_assert_lt(nodes_index(&l, "/local"), nodes_index(&l, "/local/z"));
	cr_assert_eq(gitstore_close(gs), 0);
	nodes_free(&l);

	int st;
	git_fsck_clean(&fx, NULL);
	char *o = git_out(&fx, &st, "show main:local/a/9/.value");
	cr_assert_str_eq(o, "nine");
	free(o);
	o = git_out(&fx, &st, "show main:local/a/9/.perms");
	cr_assert_str_eq(o, "n3\nr0\n");
	free(o);
}

Test(history, one_commit_per_record_in_order)
{
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, NULL,
					 NULL);
	char path[64], val[64];
	for (int i = 1; i <= 60; i++) {
		snprintf(path, sizeof(path), "/n%d", i % 7);
		snprintf(val, sizeof(val), "v%d", i);
		commit_write(gs, 0, path, val);
		if (i % 4 == 0)
			cr_assert_eq(gitstore_flush(gs), 0);
	}
	/* a record with no effect (a domain note) is still one commit */
	struct store_op op = { STORE_OP_DOMAIN, "@introduceDomain 5" };
	struct store_commit c = { .caller = { 0, true, UINT32_MAX, 0 },
				  .nops = 1, .ops = &op };
	uint64_t seq;
	cr_assert_eq(gitstore_append(gs, &c, &seq), 0);
	cr_assert_eq(seq, 61);
	cr_assert_eq(gitstore_sync(gs), 0);
	cr_assert_eq(gitstore_lag(gs), 0);
	struct gitstore_stats s;
	gitstore_get_stats(gs, &s);
	cr_assert_eq(s.git_seq, 61);
	cr_assert_eq(gitstore_close(gs), 0);

	int st;
	char *o = git_out(&fx, &st,
			  "log --reverse '--format=%%(trailers:key=Xenstore-Seq,valueonly)%%x2e' main");
	cr_assert_eq(st, 0, "%s", o);
	/* boot commit (seq 0) then 1..61 */
	char *p = o;
	for (int want = 0; want <= 61; want++) {
		char *dot = strchr(p, '.');
		cr_assert_not_null(dot, "missing seq %d in %s", want, o);
		cr_assert_eq(atoi(p), want, "at %d: %.20s", want, p);
		p = dot + 1;
		while (*p == '\n')
			p++;
	}
	cr_assert_eq(*p, '\0', "extra commits: %s", p);
	free(o);
	/* the last value of /n3 is at the commit of seq 59 */
	o = git_out(&fx, &st, "show main:n3/.value");
	cr_assert_str_eq(o, "v59");
	free(o);
	o = git_out(&fx, &st, "log --format=%%s -- n3");
	cr_assert_eq(count_lines(o), 60 / 7 + 1, "%s", o); /* 3,10,..,59 */
	free(o);
}

Test(history, metadata_trailers_and_author)
{
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, NULL,
					 NULL);
	struct xsw_perm perms[1] = { { 7, XSW_PERM_NONE } };
	struct store_op ops[2] = { { STORE_OP_WRITE, "/local/domain/7/x" },
				   { STORE_OP_MKDIR, "/local/domain/7/d" } };
	struct store_effect eff[3] = {
		{ "/local/domain/7", false, "", 0, perms, 1 },
		{ "/local/domain/7/x", false, "hello", 5, perms, 1 },
		{ "/local/domain/7/d", false, "", 0, perms, 1 },
	};
	struct store_commit c = { .caller = { 7, false, UINT32_MAX, 3 },
				  .tx_id = 5, .nops = 2, .ops = ops,
				  .neffects = 3, .effects = eff };
	cr_assert_eq(gitstore_append(gs, &c, NULL), 0);
	commit_write(gs, 0, "/other", "x");
	cr_assert_eq(gitstore_sync(gs), 0);
	cr_assert_eq(gitstore_close(gs), 0);

	int st;
	char *o = git_out(&fx, &st, "log -1 --skip=1 --format=%%an%%n%%ae%%n%%s%%n%%b main");
	cr_assert_eq(st, 0);
	cr_assert_str_eq(o,
		"dom7\ndom7@xenstore\n"
		"transaction 5: write /local/domain/7/x and 1 more\n"
		"Xenstore-Domain: 7\nXenstore-Connection: 3\n"
		"Xenstore-Transaction: 5\nXenstore-Seq: 1\n"
		"Xenstore-Boot: " BOOT_A "\n"
		"Xenstore-Op: write /local/domain/7/x\n"
		"Xenstore-Op: mkdir /local/domain/7/d\n\n");
	free(o);
	o = git_out(&fx, &st, "log --author=dom7 --format=%%H main");
	cr_assert_eq(count_lines(o), 1);
	free(o);
	o = git_out(&fx, &st, "log --format=%%cn main");
	cr_assert_eq(strncmp(o, "xenstored\n", 10), 0);
	free(o);
	o = git_out(&fx, &st, "show main:local/domain/7/x/.value");
	cr_assert_str_eq(o, "hello");
	free(o);
	o = git_out(&fx, &st, "log --format=%%s -- local/domain/7/x");
	cr_assert_str_eq(o, "transaction 5: write /local/domain/7/x and 1 more\n");
	free(o);
	git_fsck_clean(&fx, NULL);
}

Test(history, wide_directory_stays_valid)
{
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, NULL,
					 NULL);
	char path[64];
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "/w/%d", (i * 37) % 300);
		commit_write(gs, 0, path, "x");
	}
	for (int i = 0; i < 300; i += 3) {
		snprintf(path, sizeof(path), "/w/%d", i);
		commit_rm(gs, 0, path);
	}
	cr_assert_eq(gitstore_close(gs), 0);
	int st;
	git_fsck_clean(&fx, NULL);
	char *o = git_out(&fx, &st, "ls-tree --name-only main:w");
	cr_assert_eq(count_lines(o), 200 + 3, "%s", o); /* + .order .perms .value */
	free(o);
	struct node_list l = { 0 };
	gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, &l, NULL);
	/* creation order: 0, 37, 74, ... minus every third */
	int prev = -1;
	for (int i = 0; i < 300; i++) {
		int k = (i * 37) % 300;
		if (k % 3 == 0)
			continue;
		snprintf(path, sizeof(path), "/w/%d", k);
		int idx = nodes_index(&l, path);
		cr_assert_gt(idx, prev, "%s out of order", path);
		prev = idx;
	}
	nodes_free(&l);
	gitstore_close(gs);
}

Test(history, small_packs_are_merged)
{
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, NULL,
					 NULL);
	char path[64], val[64];
	for (int i = 0; i < 100; i++) {
		snprintf(path, sizeof(path), "/p/%d", i % 10);
		snprintf(val, sizeof(val), "v%d", i);
		commit_write(gs, 0, path, val);
		cr_assert_eq(gitstore_sync(gs), 0); /* one pack each */
	}
	struct gitstore_stats s;
	gitstore_get_stats(gs, &s);
	cr_assert_geq(s.packs, 100);
	cr_assert_eq(gitstore_close(gs), 0);
	int st;
	char *o = git_out(&fx, &st, "count-objects -v");
	char *p = strstr(o, "packs: ");
	cr_assert_not_null(p, "%s", o);
	int packs = atoi(p + 7);
	cr_assert_leq(packs, 33, "%d packs", packs);
	cr_assert_geq(packs, 2);
	free(o);
	git_fsck_clean(&fx, NULL);
	o = git_out(&fx, &st, "rev-list --count main");
	cr_assert_str_eq(o, "101\n");
	free(o);
	struct node_list l = { 0 };
	gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, &l, NULL);
	cr_assert_str_eq(nodes_find(&l, "/p/9")->value, "v99");
	nodes_free(&l);
	gitstore_close(gs);
}

/*
 * Merged packs copy entries raw and rewrite only OFS_DELTA distances: a
 * wide directory (stored as deltas) and objects repeated across packs must
 * come out readable, with Git's checks passing, and the same after reopen.
 */
Test(history, merged_deltas_and_duplicates_stay_valid)
{
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, NULL,
					 NULL);
	char path[64], val[64];
	for (int i = 0; i < 40; i++) { /* wide enough for tree deltas */
		snprintf(path, sizeof(path), "/w/c%d", i);
		commit_write(gs, 0, path, "x");
	}
	for (int i = 0; i < 150; i++) {
		snprintf(path, sizeof(path), "/w/c%d", i % 40);
		/* values repeat: the same blob in many packs */
		snprintf(val, sizeof(val), "v%d", i % 7);
		commit_write(gs, 0, path, val);
		if (i % 3 == 2)
			cr_assert_eq(gitstore_sync(gs), 0);
	}
	cr_assert_eq(gitstore_close(gs), 0);
	int st;
	char *o = git_out(&fx, &st, "count-objects -v");
	char *p = strstr(o, "packs: ");
	cr_assert_not_null(p, "%s", o);
	cr_assert_leq(atoi(p + 7), 33, "%s", o);
	free(o);
	git_fsck_clean(&fx, NULL);
	o = git_out(&fx, &st, "show main~10:w/c29/.value");
	cr_assert_eq(st, 0, "%s", o);
	cr_assert_str_eq(o, "v4"); /* i = 109 */
	free(o);
	struct node_list l = { 0 };
	gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, &l, NULL);
	cr_assert_str_eq(nodes_find(&l, "/w/c29")->value, "v2");
	cr_assert_str_eq(nodes_find(&l, "/w/c0")->value, "v1");
	nodes_free(&l);
	gitstore_close(gs);
}

static int count_packs(const struct fixture *f)
{
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/objects/pack", f->store);
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	cr_assert_not_null(d, "%s", dir);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		n += l > 4 && !strcmp(de->d_name + l - 4, ".idx");
	}
	closedir(d);
	return n;
}

/*
 * A burst leaves its packs unmerged (merges wait for the writer to be
 * idle): the writer must then merge them by itself, with no further
 * write or publish to start it. The packs here come from stock git.
 */
Test(history, idle_writer_merges_packs_left_by_a_burst)
{
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, NULL,
					 NULL);
	commit_write(gs, 0, "/kept", "yes");
	cr_assert_eq(gitstore_close(gs), 0);
	char cmd[1400];
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && for i in $(seq 45); do echo blob$i | "
		 "git --git-dir=. hash-object -w --stdin | git --git-dir=. "
		 "pack-objects -q objects/pack/pack >/dev/null || exit 1; "
		 "done", fx.store);
	cr_assert_eq(system(cmd), 0);
	int before = count_packs(&fx);
	cr_assert_gt(before, (int)GS_PACKS_MAX, "%d packs", before);

	struct node_list l = { 0 };
	gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, &l, NULL);
	int n = before;
	/* generous: the merge runs in 10 ms steps on a shared machine */
	for (int i = 0; i < 1000 && n > (int)GS_PACKS_MAX; i++) {
		usleep(10000);
		n = count_packs(&fx);
	}
	cr_assert_leq(n, (int)GS_PACKS_MAX, "%d packs of %d", n, before);
	cr_assert_str_eq(nodes_find(&l, "/kept")->value, "yes");
	nodes_free(&l);
	cr_assert_eq(gitstore_close(gs), 0);
	int st;
	char *o = git_out(&fx, &st, "cat-file -p $(echo blob45 | git "
			  "hash-object --stdin)");
	cr_assert_eq(st, 0, "%s", o);
	cr_assert_str_eq(o, "blob45\n");
	free(o);
	git_fsck_clean(&fx, NULL);
}

/* When the writer merges: idle past GS_PACKS_MAX, busy only past the cap. */
Test(history, merges_wait_for_idle_below_the_burst_cap)
{
	/* idle */
	cr_assert_not(gs_merge_due(GS_PACKS_MAX, 0, false, false));
	cr_assert(gs_merge_due(GS_PACKS_MAX + 1, 0, false, false));
	cr_assert(gs_merge_due(10, 0, true, false)); /* one under way goes on */
	/* records waiting */
	cr_assert_not(gs_merge_due(GS_PACKS_MAX + 1, 0, false, true));
	cr_assert_not(gs_merge_due(GS_PACKS_BURST_MAX, 0, true, true));
	cr_assert(gs_merge_due(GS_PACKS_BURST_MAX + 1, 0, false, true));
	cr_assert(gs_merge_due(GS_PACKS_BURST_MAX + 1, 0, true, true));
	/* nothing was worth merging at 40 packs: not again before 41 */
	cr_assert_not(gs_merge_due(40, 40, false, false));
	cr_assert(gs_merge_due(41, 40, false, false));
}

/*
 * A wide directory's tree is patched in place while its children stay the
 * same: rewrites of existing children (deep ones too), of the directory's
 * own value, across pack boundaries and between additions and removals,
 * must all show in Git and come back on recovery.
 */
Test(history, wide_directory_rewrites_keep_every_value)
{
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, NULL,
					 NULL);
	char path[64], val[64];
	static char want[64][64];
	for (int i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "/w/%d/deep", i);
		snprintf(want[i], sizeof(want[i]), "init%d", i);
		commit_write(gs, 0, path, want[i]);
	}
	for (int i = 0; i < 2000; i++) {
		int k = (i * 13) % 64;
		snprintf(path, sizeof(path), "/w/%d/deep", k);
		snprintf(want[k], sizeof(want[k]), "v%d", i);
		commit_write(gs, 0, path, want[k]);
		if (i % 97 == 0) {
			snprintf(val, sizeof(val), "dir%d", i);
			commit_write(gs, 0, "/w", val);
		}
		if (i % 500 == 250) { /* the set of children changes */
			commit_write(gs, 0, "/w/extra", "e");
			commit_rm(gs, 0, "/w/extra");
		}
		if (i % 700 == 0) /* the next writes start a new pack */
			cr_assert_eq(gitstore_sync(gs), 0);
	}
	commit_write(gs, 0, "/w", "last");
	cr_assert_eq(gitstore_close(gs), 0);
	int st;
	git_fsck_clean(&fx, NULL);
	/* one commit back: the value of /w before its last write */
	char *o = git_out(&fx, &st, "show main~1:w/.value");
	cr_assert_str_eq(o, "dir1940");
	free(o);
	o = git_out(&fx, &st, "show main:w/.value");
	cr_assert_str_eq(o, "last");
	free(o);
	struct node_list l = { 0 };
	gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, &l, NULL);
	cr_assert_null(nodes_find(&l, "/w/extra"));
	for (int i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "/w/%d/deep", i);
		const struct tnode *t = nodes_find(&l, path);
		cr_assert_not_null(t, "%s", path);
		cr_assert_str_eq(t->value, want[i], "%s", path);
	}
	nodes_free(&l);
	gitstore_close(gs);
}
