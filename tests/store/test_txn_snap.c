/*
 * Transactions see every node as of their first access of it (cxenstored
 * copies each accessed node into the transaction), until they change it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

TestSuite(txn_snap, .init = fx_setup, .fini = fx_teardown);

Test(txn_snap, value_fixed_at_first_read)
{
	struct store_txn *t;

	cr_assert_eq(wr(NULL, &dom0, "/k", "1"), 0);
	t = begin(&dom0, 1);
	cr_assert_str_eq(tval(t, "/k"), "1");
	cr_assert_eq(wr(NULL, &dom0, "/k", "2"), 0);
	cr_assert_str_eq(tval(t, "/k"), "1");
	cr_assert_str_eq(val("/k"), "2");
	cr_assert_eq(store_txn_commit(st, t), -EAGAIN);
	cr_assert_str_eq(val("/k"), "2");
}

Test(txn_snap, outside_removal_not_seen)
{
	struct store_txn *t;

	cr_assert_eq(wr(NULL, &dom0, "/k/sub", "1"), 0);
	t = begin(&dom0, 1);
	cr_assert_str_eq(tval(t, "/k/sub"), "1");
	cr_assert_str_eq(dir(t, &dom0, "/k"), "sub");
	cr_assert_eq(store_rm(st, NULL, &dom0, "/k"), 0);
	cr_assert_str_eq(tval(t, "/k/sub"), "1");
	cr_assert_str_eq(dir(t, &dom0, "/k"), "sub");
	cr_assert_eq(store_txn_commit(st, t), -EAGAIN);
	cr_assert_null(val("/k"));
}

Test(txn_snap, directory_fixed_at_first_listing)
{
	struct store_txn *t;
	uint64_t g1, g2;
	char *names;
	size_t len;

	cr_assert_eq(wr(NULL, &dom0, "/d/a", "1"), 0);
	t = begin(&dom0, 1);
	cr_assert_eq(store_directory(st, t, &dom0, "/d", &names, &len, &g1),
		     0);
	free(names);
	cr_assert_eq(wr(NULL, &dom0, "/d/b", "1"), 0);
	cr_assert_eq(store_rm(st, NULL, &dom0, "/d/a"), 0);
	cr_assert_eq(store_directory(st, t, &dom0, "/d", &names, &len, &g2),
		     0);
	cr_assert_eq(len, 2);
	cr_assert_str_eq(names, "a");
	free(names);
	/* DIRECTORY_PART clients compare generations: it must not move. */
	cr_assert_eq(g1, g2);
	cr_assert_eq(store_txn_commit(st, t), -EAGAIN);
	cr_assert_str_eq(dir(NULL, &dom0, "/d"), "b");
}

Test(txn_snap, child_count_fixed_at_first_read)
{
	struct store_txn *t;
	struct store_node_view v;

	cr_assert_eq(wr(NULL, &dom0, "/c/a", "1"), 0);
	t = begin(&dom0, 1);
	cr_assert_str_eq(tval(t, "/c"), "");
	cr_assert_eq(wr(NULL, &dom0, "/c/b", "1"), 0);
	cr_assert_eq(store_read(st, t, &dom0, "/c", &v), 0);
	cr_assert_eq(v.nchildren, 1);
	cr_assert_str_eq(dir(t, &dom0, "/c"), "a");
	store_txn_abort(st, t);
}

Test(txn_snap, own_change_builds_on_snapshot)
{
	struct store_txn *t;

	cr_assert_eq(wr(NULL, &dom0, "/d/a", "1"), 0);
	t = begin(&dom0, 1);
	cr_assert_str_eq(dir(t, &dom0, "/d"), "a");
	cr_assert_eq(wr(NULL, &dom0, "/d/b", "1"), 0);
	/* Adding a child changes the copy the transaction saw, not main's. */
	cr_assert_eq(wr(t, &dom0, "/d/c", "t"), 0);
	cr_assert_str_eq(dir(t, &dom0, "/d"), "a,c");
	cr_assert_eq(store_txn_commit(st, t), -EAGAIN);
	cr_assert_str_eq(dir(NULL, &dom0, "/d"), "a,b");
}

Test(txn_snap, own_write_after_outside_change_wins_inside)
{
	struct store_txn *t;

	cr_assert_eq(wr(NULL, &dom0, "/k", "1"), 0);
	t = begin(&dom0, 1);
	cr_assert_str_eq(tval(t, "/k"), "1");
	cr_assert_eq(wr(NULL, &dom0, "/k", "2"), 0);
	cr_assert_eq(wr(t, &dom0, "/k", "3"), 0);
	cr_assert_str_eq(tval(t, "/k"), "3");
	cr_assert_eq(store_txn_commit(st, t), -EAGAIN);
	cr_assert_str_eq(val("/k"), "2");
}

Test(txn_snap, perms_fixed_at_first_read)
{
	struct store_txn *t;

	cr_assert_eq(wr(NULL, &dom0, "/p", "1"), 0);
	t = begin(&dom0, 1);
	cr_assert_str_eq(perms_in(t, "/p"), "n0");
	cr_assert_eq(setp(NULL, &dom0, "/p", "r0,b1"), 0);
	cr_assert_str_eq(perms_in(t, "/p"), "n0");
	cr_assert_str_eq(perms("/p"), "r0,b1");
	cr_assert_eq(store_txn_commit(st, t), -EAGAIN);
}

Test(txn_snap, access_checks_use_snapshot_perms)
{
	struct store_node_view v;
	struct store_txn *t;

	cr_assert_eq(wr(NULL, &dom0, "/p", "1"), 0);
	t = begin(&dom1, 1);
	cr_assert_eq(store_read(st, t, &dom1, "/p", &v), -EACCES);
	cr_assert_eq(setp(NULL, &dom0, "/p", "n0,r1"), 0);
	cr_assert_eq(store_read(st, NULL, &dom1, "/p", &v), 0);
	cr_assert_eq(store_read(st, t, &dom1, "/p", &v), -EACCES);
	store_txn_abort(st, t);
}

Test(txn_snap, absent_node_stays_absent)
{
	struct store_txn *t = begin(&dom0, 1);

	cr_assert_null(tval(t, "/late"));
	cr_assert_eq(wr(NULL, &dom0, "/late", "2"), 0);
	cr_assert_null(tval(t, "/late"));
	cr_assert_null(dir(t, &dom0, "/late"));
	cr_assert_str_eq(val("/late"), "2");
	cr_assert_eq(store_txn_commit(st, t), -EAGAIN);
}

Test(txn_snap, absent_node_created_inside)
{
	struct store_txn *t = begin(&dom0, 1);

	cr_assert_null(tval(t, "/late"));
	cr_assert_eq(wr(NULL, &dom0, "/late/x", "2"), 0);
	/* The transaction creates what it saw missing: no child "x". */
	cr_assert_eq(wr(t, &dom0, "/late", "t"), 0);
	cr_assert_str_eq(tval(t, "/late"), "t");
	cr_assert_str_eq(dir(t, &dom0, "/late"), "");
	cr_assert_eq(store_txn_commit(st, t), -EAGAIN);
	cr_assert_str_eq(val("/late/x"), "2");
}

Test(txn_snap, unaccessed_nodes_follow_main)
{
	struct store_txn *t = begin(&dom0, 1);

	/* Nothing is copied at begin: only a node's first access fixes it. */
	cr_assert_eq(wr(NULL, &dom0, "/n", "1"), 0);
	cr_assert_str_eq(tval(t, "/n"), "1");
	cr_assert_eq(wr(NULL, &dom0, "/n", "2"), 0);
	cr_assert_str_eq(tval(t, "/n"), "1");
	store_txn_abort(st, t);
}

Test(txn_snap, read_only_unchanged_commits)
{
	struct store_txn *t;

	cr_assert_eq(wr(NULL, &dom0, "/k/a", "1"), 0);
	nrecs = 0;
	t = begin(&dom0, 1);
	cr_assert_str_eq(tval(t, "/k/a"), "1");
	cr_assert_str_eq(dir(t, &dom0, "/k"), "a");
	cr_assert_str_eq(perms_in(t, "/k"), "n0");
	cr_assert_eq(wr(NULL, &dom0, "/other", "1"), 0);
	nrecs = 0;
	cr_assert_eq(store_txn_commit(st, t), 0);
	cr_assert_eq(nrecs, 0);
	cr_assert_str_eq(val("/k/a"), "1");
}
