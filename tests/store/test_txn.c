/* Transactions: visibility, isolation, cxenstored's conflict rule, records. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

TestSuite(txn, .init = fx_setup, .fini = fx_teardown);

Test(txn, sees_own_writes_nothing_leaks)
{
	struct store_txn *t = begin(&dom0, 1);

	cr_assert_eq(wr(t, &dom0, "/a/b/c", "1"), 0);
	cr_assert_str_eq(tval(t, "/a/b/c"), "1");
	cr_assert_str_eq(tval(t, "/a"), "");
	cr_assert_str_eq(dir(t, &dom0, "/"), "tool,a");
	cr_assert_str_eq(dir(t, &dom0, "/a"), "b");
	cr_assert_null(val("/a"));
	cr_assert_str_eq(dir(NULL, &dom0, "/"), "tool");
	cr_assert_eq(nrecs, 0);
	cr_assert_eq(store_txn_commit(st, t), 0);
	cr_assert_str_eq(val("/a/b/c"), "1");
	cr_assert_str_eq(dir(NULL, &dom0, "/"), "tool,a");
	cr_assert_eq(nrecs, 1);
}

Test(txn, own_removals_visible)
{
	struct store_txn *t;

	cr_assert_eq(wr(NULL, &dom0, "/r/x", "1"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/r/y", "2"), 0);
	t = begin(&dom0, 1);
	cr_assert_eq(store_rm(st, t, &dom0, "/r/x"), 0);
	cr_assert_null(tval(t, "/r/x"));
	cr_assert_str_eq(dir(t, &dom0, "/r"), "y");
	cr_assert_str_eq(val("/r/x"), "1");
	cr_assert_eq(wr(t, &dom0, "/r/x", "3"), 0);
	cr_assert_str_eq(dir(t, &dom0, "/r"), "y,x");
	cr_assert_eq(store_txn_commit(st, t), 0);
	cr_assert_str_eq(val("/r/x"), "3");
	cr_assert_str_eq(dir(NULL, &dom0, "/r"), "y,x");
}

Test(txn, abort_discards)
{
	struct store_txn *t = begin(&dom0, 1);
	struct store_stats s;

	cr_assert_eq(wr(t, &dom0, "/gone", "1"), 0);
	store_get_stats(st, &s);
	cr_assert_eq(s.open_txns, 1);
	store_txn_abort(st, t);
	store_get_stats(st, &s);
	cr_assert_eq(s.open_txns, 0);
	cr_assert_null(val("/gone"));
	cr_assert_eq(nrecs, 0);
}

Test(txn, read_then_changed_conflicts)
{
	struct store_txn *t;

	cr_assert_eq(wr(NULL, &dom0, "/k", "1"), 0);
	t = begin(&dom0, 1);
	cr_assert_str_eq(tval(t, "/k"), "1");
	cr_assert_eq(wr(t, &dom0, "/other", "x"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/k", "2"), 0);
	nrecs = 0;
	cr_assert_eq(store_txn_commit(st, t), -EAGAIN);
	cr_assert_null(val("/other"));
	cr_assert_eq(nrecs, 0);
}

Test(txn, absence_seen_then_created_conflicts)
{
	struct store_txn *t = begin(&dom0, 1);

	cr_assert_null(tval(t, "/late"));
	cr_assert_eq(wr(t, &dom0, "/tool/x", "1"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/late", "2"), 0);
	cr_assert_eq(store_txn_commit(st, t), -EAGAIN);
	cr_assert_null(val("/tool/x"));
}

Test(txn, write_of_concurrently_changed_node_conflicts)
{
	struct store_txn *t;

	/* As cxenstored: a write reads the node first, so this is EAGAIN. */
	cr_assert_eq(wr(NULL, &dom0, "/c", "1"), 0);
	t = begin(&dom0, 1);
	cr_assert_eq(wr(t, &dom0, "/c", "2"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/c", "3"), 0);
	cr_assert_eq(store_txn_commit(st, t), -EAGAIN);
	cr_assert_str_eq(val("/c"), "3");
}

Test(txn, blind_write_wins)
{
	struct store_txn *t;

	cr_assert_eq(wr(NULL, &dom0, "/d/a", "1"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/d/b", "1"), 0);
	t = begin(&dom0, 1);
	/* Changes the transaction never looked at do not matter... */
	cr_assert_eq(wr(t, &dom0, "/d/a", "t"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/d/b", "outside"), 0);
	/* ...nor one made before its first access of the node. */
	cr_assert_eq(wr(NULL, &dom0, "/d/c", "outside"), 0);
	cr_assert_eq(wr(t, &dom0, "/d/c", "t"), 0);
	cr_assert_eq(store_txn_commit(st, t), 0);
	cr_assert_str_eq(val("/d/a"), "t");
	cr_assert_str_eq(val("/d/b"), "outside");
	cr_assert_str_eq(val("/d/c"), "t");
}

Test(txn, sibling_creation_conflicts)
{
	struct store_txn *t1, *t2;

	cr_assert_eq(wr(NULL, &dom0, "/s", ""), 0);
	t1 = begin(&dom0, 1);
	t2 = begin(&dom0, 2);
	cr_assert_eq(wr(t1, &dom0, "/s/one", "1"), 0);
	cr_assert_eq(wr(t2, &dom0, "/s/two", "2"), 0);
	cr_assert_eq(store_txn_commit(st, t1), 0);
	cr_assert_eq(store_txn_commit(st, t2), -EAGAIN);
	cr_assert_str_eq(dir(NULL, &dom0, "/s"), "one");
}

Test(txn, removal_conflicts_with_parent_change)
{
	struct store_txn *t;

	cr_assert_eq(wr(NULL, &dom0, "/q/x", "1"), 0);
	t = begin(&dom0, 1);
	cr_assert_eq(store_rm(st, t, &dom0, "/q/x"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/q/y", "2"), 0);
	cr_assert_eq(store_txn_commit(st, t), -EAGAIN);
	cr_assert_str_eq(dir(NULL, &dom0, "/q"), "x,y");
}

Test(txn, read_only_still_conflicts)
{
	struct store_txn *t = begin(&dom0, 1);

	cr_assert_eq(store_mkdir(st, t, &dom0, "/tool"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/tool/z", "2"), 0);
	nrecs = 0;
	cr_assert_eq(store_txn_commit(st, t), -EAGAIN);
	cr_assert_eq(nrecs, 0);
}

Test(txn, isolation_between_transactions)
{
	struct store_txn *t1 = begin(&dom0, 1), *t2 = begin(&dom0, 2);

	cr_assert_eq(wr(t1, &dom0, "/iso", "1"), 0);
	cr_assert_null(tval(t2, "/iso"));
	store_txn_abort(st, t2);
	cr_assert_eq(store_txn_commit(st, t1), 0);
}

Test(txn, read_only_commits_silently)
{
	struct store_txn *t = begin(&dom0, 1);

	cr_assert_str_eq(tval(t, "/tool/xenstored"), "");
	cr_assert_eq(store_mkdir(st, t, &dom0, "/tool"), 0);
	cr_assert_eq(store_rm(st, t, &dom0, "/tool/none"), 0);
	cr_assert_eq(store_txn_commit(st, t), 0);
	cr_assert_eq(nrecs, 0);
	t = begin(&dom0, 2);
	cr_assert_eq(store_txn_commit(st, t), 0);
	cr_assert_eq(nrecs, 0);
}

Test(txn, commit_record)
{
	struct store_txn *t;

	cr_assert_eq(wr(NULL, &dom0, "/old/sub", "1"), 0);
	nrecs = 0;
	t = begin(&dom0, 9);
	cr_assert_eq(wr(t, &dom0, "/n/x", "v"), 0);
	cr_assert_eq(store_rm(st, t, &dom0, "/old"), 0);
	cr_assert_eq(setp(t, &dom0, "/n/x", "r0,b4"), 0);
	cr_assert_eq(nrecs, 0);
	cr_assert_eq(store_txn_commit(st, t), 0);
	cr_assert_eq(nrecs, 1);
	cr_assert_eq(recs[0].tx_id, 9);
	cr_assert_eq(recs[0].seq, 2);
	cr_assert_eq(recs[0].nops, 3);
	cr_assert_eq(recs[0].op_kind[0], STORE_OP_WRITE);
	cr_assert_eq(recs[0].op_kind[1], STORE_OP_RM);
	cr_assert_eq(recs[0].op_kind[2], STORE_OP_SET_PERMS);
	cr_assert_str_eq(recs[0].op_path[1], "/old");
	/* Parents before children: created /n, removed /old, then /n/x. */
	cr_assert_eq(recs[0].neffects, 3);
	cr_assert_str_eq(recs[0].eff_path[0], "/n");
	cr_assert_not(recs[0].eff_deleted[0]);
	cr_assert_str_eq(recs[0].eff_path[1], "/old");
	cr_assert(recs[0].eff_deleted[1]);
	cr_assert_str_eq(recs[0].eff_path[2], "/n/x");
	cr_assert_str_eq(recs[0].eff_value[2], "v");
	cr_assert_eq(recs[0].eff_nperms[2], 2);
	/* One event per changed node, in access order. */
	cr_assert_eq(recs[0].nevents, 3);
	cr_assert_str_eq(recs[0].ev_path[0], "/n/x");
	cr_assert_not(recs[0].ev_exact[0]);
	cr_assert_str_eq(recs[0].ev_path[1], "/old");
	cr_assert_not(recs[0].ev_exact[1]);
	cr_assert_str_eq(recs[0].ev_path[2], "/old/sub");
	cr_assert(recs[0].ev_exact[2]);
	cr_assert_str_eq(perms("/n/x"), "r0,b4");
	cr_assert_null(val("/old"));
	/* /, tool, xenstored, n, n/x; /old and /old/sub are gone. */
	cr_assert_eq(store_nodes_owned(st, 0), 5);
}

Test(txn, remove_and_recreate_subtree)
{
	struct store_txn *t;

	cr_assert_eq(wr(NULL, &dom0, "/z/a/deep", "1"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/z/b", "1"), 0);
	t = begin(&dom0, 1);
	cr_assert_eq(store_rm(st, t, &dom0, "/z"), 0);
	cr_assert_eq(wr(t, &dom0, "/z/b", "2"), 0);
	cr_assert_str_eq(dir(t, &dom0, "/z"), "b");
	cr_assert_eq(store_txn_commit(st, t), 0);
	cr_assert_str_eq(dir(NULL, &dom0, "/z"), "b");
	cr_assert_null(val("/z/a"));
	cr_assert_null(val("/z/a/deep"));
	cr_assert_str_eq(val("/z/b"), "2");
}

Test(txn, directory_generation_inside)
{
	struct store_txn *t = begin(&dom0, 1);
	uint64_t g1, g2;
	char *names;
	size_t len;

	cr_assert_eq(store_directory(st, t, &dom0, "/tool", &names, &len,
				     &g1), 0);
	free(names);
	cr_assert_eq(wr(t, &dom0, "/tool/n", "1"), 0);
	cr_assert_eq(store_directory(st, t, &dom0, "/tool", &names, &len,
				     &g2), 0);
	free(names);
	cr_assert_neq(g1, g2);
	store_txn_abort(st, t);
}

Test(txn, permissions_apply_inside)
{
	struct store_txn *t;

	cr_assert_eq(wr(NULL, &dom0, "/secret/v", "1"), 0);
	t = begin(&dom1, 1);
	cr_assert_eq(wr(t, &dom1, "/secret/v", "2"), -EACCES);
	cr_assert_eq(wr(t, &dom1, "/secret/new", "2"), -EACCES);
	cr_assert_eq(store_txn_commit(st, t), 0);
	cr_assert_str_eq(val("/secret/v"), "1");
}
