/* The tree outside transactions: operations, order, records, walk, load. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

TestSuite(tree, .init = fx_setup, .fini = fx_teardown);

Test(tree, initial_tree)
{
	cr_assert_str_eq(dir(NULL, &dom0, "/"), "tool");
	cr_assert_str_eq(dir(NULL, &dom0, "/tool"), "xenstored");
	cr_assert_str_eq(val("/tool/xenstored"), "");
	cr_assert_str_eq(perms("/"), "n0");
	cr_assert_str_eq(perms("/tool/xenstored"), "n0");
}

Test(tree, write_read_binary)
{
	struct store_node_view v;
	const char bin[] = { 'a', 0, 'b' };

	cr_assert_eq(store_write(st, NULL, &dom0, "/a", bin, 3), 0);
	cr_assert_eq(store_read(st, NULL, &dom0, "/a", &v), 0);
	cr_assert_eq(v.len, 3);
	cr_assert_eq(memcmp(v.value, bin, 3), 0);
	cr_assert_str_eq(v.path, "/a");
	cr_assert_eq(wr(NULL, &dom0, "/a", "x"), 0);
	cr_assert_str_eq(val("/a"), "x");
	cr_assert_eq(wr(NULL, &dom0, "/a", ""), 0);
	cr_assert_str_eq(val("/a"), "");
}

Test(tree, missing_node)
{
	struct store_node_view v;
	char *names;
	size_t len;

	cr_assert_eq(store_read(st, NULL, &dom0, "/nope", &v), -ENOENT);
	cr_assert_eq(store_directory(st, NULL, &dom0, "/nope/x", &names,
				     &len, NULL), -ENOENT);
}

Test(tree, children_in_creation_order)
{
	cr_assert_eq(wr(NULL, &dom0, "/d/zeta", "1"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/d/alpha", "2"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/d/mid", "3"), 0);
	cr_assert_str_eq(dir(NULL, &dom0, "/d"), "zeta,alpha,mid");
	cr_assert_eq(store_rm(st, NULL, &dom0, "/d/alpha"), 0);
	cr_assert_str_eq(dir(NULL, &dom0, "/d"), "zeta,mid");
	cr_assert_eq(wr(NULL, &dom0, "/d/alpha", "4"), 0);
	cr_assert_str_eq(dir(NULL, &dom0, "/d"), "zeta,mid,alpha");
	/* Rewriting a value keeps the position. */
	cr_assert_eq(wr(NULL, &dom0, "/d/zeta", "5"), 0);
	cr_assert_str_eq(dir(NULL, &dom0, "/d"), "zeta,mid,alpha");
}

Test(tree, write_creates_parents_with_records)
{
	cr_assert_eq(wr(NULL, &dom0, "/p/q/r", "v"), 0);
	cr_assert_str_eq(val("/p"), "");
	cr_assert_str_eq(val("/p/q"), "");
	cr_assert_str_eq(val("/p/q/r"), "v");
	cr_assert_eq(nrecs, 1);
	cr_assert_eq(recs[0].nops, 1);
	cr_assert_eq(recs[0].op_kind[0], STORE_OP_WRITE);
	cr_assert_str_eq(recs[0].op_path[0], "/p/q/r");
	cr_assert_eq(recs[0].neffects, 3);
	cr_assert_str_eq(recs[0].eff_path[0], "/p");
	cr_assert_str_eq(recs[0].eff_path[1], "/p/q");
	cr_assert_str_eq(recs[0].eff_path[2], "/p/q/r");
	cr_assert_str_eq(recs[0].eff_value[2], "v");
	/* cxenstored fires only the named node, not the new parents. */
	cr_assert_eq(recs[0].nevents, 1);
	cr_assert_str_eq(recs[0].ev_path[0], "/p/q/r");
	cr_assert_not(recs[0].ev_exact[0]);
	cr_assert_eq(recs[0].tx_id, 0);
	cr_assert_eq(recs[0].seq, 1);
}

Test(tree, seq_increments_per_commit)
{
	cr_assert_eq(wr(NULL, &dom0, "/a", "1"), 0);
	cr_assert_eq(store_mkdir(st, NULL, &dom0, "/b"), 0);
	cr_assert_eq(store_rm(st, NULL, &dom0, "/a"), 0);
	cr_assert_eq(nrecs, 3);
	cr_assert_eq(recs[0].seq, 1);
	cr_assert_eq(recs[1].seq, 2);
	cr_assert_eq(recs[2].seq, 3);
	cr_assert_eq(recs[1].op_kind[0], STORE_OP_MKDIR);
	cr_assert_eq(recs[2].op_kind[0], STORE_OP_RM);
}

Test(tree, mkdir_existing_is_silent)
{
	cr_assert_eq(wr(NULL, &dom0, "/m", "keep"), 0);
	nrecs = 0;
	cr_assert_eq(store_mkdir(st, NULL, &dom0, "/m"), 0);
	cr_assert_eq(nrecs, 0);
	cr_assert_str_eq(val("/m"), "keep");
	cr_assert_eq(store_mkdir(st, NULL, &dom0, "/m/n/o"), 0);
	cr_assert_eq(nrecs, 1);
	cr_assert_eq(recs[0].neffects, 2);
	cr_assert_eq(recs[0].nevents, 1);
	cr_assert_str_eq(recs[0].ev_path[0], "/m/n/o");
}

Test(tree, rm_subtree_events)
{
	cr_assert_eq(wr(NULL, &dom0, "/r/a/x", "1"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/r/b", "2"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/keep", "3"), 0);
	nrecs = 0;
	cr_assert_eq(store_rm(st, NULL, &dom0, "/r"), 0);
	cr_assert_null(val("/r"));
	cr_assert_null(val("/r/a/x"));
	cr_assert_str_eq(val("/keep"), "3");
	cr_assert_str_eq(dir(NULL, &dom0, "/"), "tool,keep");
	cr_assert_eq(nrecs, 1);
	cr_assert_eq(recs[0].neffects, 1);
	cr_assert(recs[0].eff_deleted[0]);
	cr_assert_str_eq(recs[0].eff_path[0], "/r");
	/* Children first, each exact; the removed root last, not exact. */
	cr_assert_eq(recs[0].nevents, 4);
	cr_assert_str_eq(recs[0].ev_path[0], "/r/a/x");
	cr_assert_str_eq(recs[0].ev_path[1], "/r/a");
	cr_assert_str_eq(recs[0].ev_path[2], "/r/b");
	cr_assert_str_eq(recs[0].ev_path[3], "/r");
	cr_assert(recs[0].ev_exact[0] && recs[0].ev_exact[1] &&
		  recs[0].ev_exact[2]);
	cr_assert_not(recs[0].ev_exact[3]);
	cr_assert_eq(store_nodes_owned(st, 0), 4); /* /, tool, xenstored, keep */
}

Test(tree, rm_missing)
{
	/* Parent exists: success, nothing reported. */
	cr_assert_eq(store_rm(st, NULL, &dom0, "/tool/none"), 0);
	cr_assert_eq(nrecs, 0);
	/* Parent missing too: ENOENT. */
	cr_assert_eq(store_rm(st, NULL, &dom0, "/none/none"), -ENOENT);
	cr_assert_eq(store_rm(st, NULL, &dom0, "/"), -EINVAL);
	cr_assert_eq(nrecs, 0);
}

Test(tree, generation_changes_with_children)
{
	uint64_t g1, g2, g3;
	char *names;
	size_t len;

	cr_assert_eq(store_directory(st, NULL, &dom0, "/tool", &names, &len,
				     &g1), 0);
	free(names);
	cr_assert_eq(wr(NULL, &dom0, "/tool/new", "1"), 0);
	cr_assert_eq(store_directory(st, NULL, &dom0, "/tool", &names, &len,
				     &g2), 0);
	free(names);
	cr_assert_eq(store_rm(st, NULL, &dom0, "/tool/new"), 0);
	cr_assert_eq(store_directory(st, NULL, &dom0, "/tool", &names, &len,
				     &g3), 0);
	free(names);
	cr_assert_neq(g1, g2);
	cr_assert_neq(g2, g3);
	cr_assert_neq(g1, g3);
}

static int collect(void *ctx, const struct store_node_view *n)
{
	char *out = ctx;

	strcat(out, n->path);
	strcat(out, " ");
	return strcmp(n->path, "/w/stop") ? 0 : 7;
}

Test(tree, walk_order_and_stop)
{
	char out[512] = "";

	cr_assert_eq(wr(NULL, &dom0, "/w/b/x", "1"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/w/a", "1"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/w/b/y", "1"), 0);
	cr_assert_eq(store_walk(st, "/w", collect, out), 0);
	cr_assert_str_eq(out, "/w /w/b /w/b/x /w/b/y /w/a ");
	cr_assert_eq(wr(NULL, &dom0, "/w/stop", "1"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/w/after", "1"), 0);
	out[0] = '\0';
	cr_assert_eq(store_walk(st, "/w", collect, out), 7);
	cr_assert_str_eq(out, "/w /w/b /w/b/x /w/b/y /w/a /w/stop ");
	cr_assert_eq(store_walk(st, "/nothing", collect, out), -ENOENT);
}

Test(tree, stats_and_owned)
{
	struct store_stats s;

	store_get_stats(st, &s);
	cr_assert_eq(s.nodes, 3);
	cr_assert_eq(wr(NULL, &dom0, "/s/t", "abc"), 0);
	store_get_stats(st, &s);
	cr_assert_eq(s.nodes, 5);
	cr_assert_eq(store_nodes_owned(st, 0), 5);
	cr_assert_eq(setp(NULL, &dom0, "/s/t", "b7"), 0);
	cr_assert_eq(store_nodes_owned(st, 0), 4);
	cr_assert_eq(store_nodes_owned(st, 7), 1);
	cr_assert_eq(store_rm(st, NULL, &dom0, "/s"), 0);
	cr_assert_eq(store_nodes_owned(st, 7), 0);
	store_get_stats(st, &s);
	cr_assert_eq(s.nodes, 3);
}

Test(tree, load_replaces_tree)
{
	struct xsw_perm p[2] = { { 5, XSW_PERM_READ }, { 6, XSW_PERM_BOTH } };
	struct xsw_perm r = { 0, XSW_PERM_NONE };
	uint64_t seq;

	cr_assert_eq(wr(NULL, &dom0, "/old", "1"), 0);
	nrecs = 0;
	cr_assert_eq(store_load_begin(st), 0);
	cr_assert_eq(store_load_node(st, "/", NULL, 0, &r, 1), 0);
	cr_assert_eq(store_load_node(st, "/x", "v", 1, p, 2), 0);
	cr_assert_eq(store_load_node(st, "/x/y/z", "v", 1, p, 2), -EINVAL);
	cr_assert_eq(store_load_node(st, "/x/b", "2", 1, p, 1), 0);
	cr_assert_eq(store_load_node(st, "/x/a", "3", 1, p, 1), 0);
	cr_assert_eq(store_load_end(st, 41), 0);
	cr_assert_eq(nrecs, 0);
	cr_assert_null(val("/old"));
	cr_assert_null(val("/tool"));
	cr_assert_str_eq(dir(NULL, &dom0, "/x"), "b,a");
	cr_assert_str_eq(perms("/x"), "r5,b6");
	cr_assert_eq(store_nodes_owned(st, 5), 3);
	cr_assert_eq(wr(NULL, &dom0, "/x/c", "4"), 0);
	seq = recs[0].seq;
	cr_assert_eq(seq, 42);
}

Test(tree, load_needs_root)
{
	cr_assert_eq(store_load_begin(st), 0);
	cr_assert_eq(store_load_end(st, 1), -EINVAL);
	cr_assert_eq(store_load_node(st, "/", NULL, 0,
				     &(struct xsw_perm){ 0, 0 }, 1), 0);
	cr_assert_eq(store_load_end(st, 1), 0);
}

Test(tree, note_op_reports)
{
	cr_assert_eq(store_note_op(st, &dom0, STORE_OP_DOMAIN,
				   "/local/domain/3"), 0);
	cr_assert_eq(nrecs, 1);
	cr_assert_eq(recs[0].op_kind[0], STORE_OP_DOMAIN);
	cr_assert_str_eq(recs[0].op_path[0], "/local/domain/3");
	cr_assert_eq(recs[0].neffects, 0);
}

Test(tree, rewrite_root_and_directories)
{
	cr_assert_eq(wr(NULL, &dom0, "/", "root value"), 0);
	cr_assert_str_eq(val("/"), "root value");
	cr_assert_eq(setp(NULL, &dom0, "/", "r0,b5"), 0);
	cr_assert_str_eq(dir(NULL, &dom0, "/"), "tool");
	cr_assert_eq(wr(NULL, &dom0, "/tool", "a longer value than before"), 0);
	cr_assert_str_eq(dir(NULL, &dom0, "/tool"), "xenstored");
	cr_assert_eq(wr(NULL, &dom0, "/tool/xenstored/k", "1"), 0);
	cr_assert_str_eq(perms("/tool/xenstored/k"), "n0");
	cr_assert_str_eq(perms("/"), "r0,b5");
}

/* Values past the node header's length field are refused, not cut. */
Test(tree, oversized_value_refused)
{
	size_t big = (1u << 20) + 1;
	char *v = calloc(1, big);
	struct store_node_view view;

	cr_assert_not_null(v);
	cr_assert_eq(store_write(st, NULL, &dom0, "/big", v, big), -E2BIG);
	cr_assert_eq(store_read(st, NULL, &dom0, "/big", &view), -ENOENT);
	cr_assert_eq(wr(NULL, &dom0, "/big", "x"), 0);
	cr_assert_eq(store_write(st, NULL, &dom0, "/big", v, big), -E2BIG);
	cr_assert_str_eq(val("/big"), "x");
	/* a large node (malloc'd, not in a size class) keeps its links */
	cr_assert_eq(store_write(st, NULL, &dom0, "/big", v, 4000), 0);
	cr_assert_eq(wr(NULL, &dom0, "/big/kid", "y"), 0);
	cr_assert_eq(store_write(st, NULL, &dom0, "/big", v, 3000), 0);
	cr_assert_str_eq(dir(NULL, &dom0, "/big"), "kid");
	cr_assert_str_eq(val("/big/kid"), "y");
	cr_assert_eq(store_read(st, NULL, &dom0, "/big", &view), 0);
	cr_assert_eq(view.len, 3000);
	cr_assert_eq(view.nchildren, 1);
	cr_assert_eq(store_check(st, NULL, 0), 0);
	free(v);
}
