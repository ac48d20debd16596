/* cxenstored's permission rules, errno choices and SET_PERMS validation. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "helpers.h"

static void perms_setup(void)
{
	fx_setup();
	cr_assert_eq(wr(NULL, &dom0, "/home1/x", "1"), 0);
	cr_assert_eq(setp(NULL, &dom0, "/home1", "n1"), 0);
	cr_assert_eq(setp(NULL, &dom0, "/home1/x", "n1"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/pub/v", "p"), 0);
	cr_assert_eq(setp(NULL, &dom0, "/pub", "r0"), 0);
	cr_assert_eq(setp(NULL, &dom0, "/pub/v", "r0"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/priv/v", "s"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/wpub", ""), 0);
	cr_assert_eq(setp(NULL, &dom0, "/wpub", "w0"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/multi", "m"), 0);
	cr_assert_eq(setp(NULL, &dom0, "/multi", "n0,r1,b1,w2"), 0);
	nrecs = 0;
}

TestSuite(perms, .init = perms_setup, .fini = fx_teardown);

static int rd(const struct store_caller *who, const char *path)
{
	struct store_node_view v;

	return store_read(st, NULL, who, path, &v);
}

Test(perms, privileged_gets_everything)
{
	cr_assert_eq(rd(&dom0, "/home1/x"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/priv/v", "t"), 0);
}

Test(perms, owner_gets_everything)
{
	cr_assert_eq(rd(&dom1, "/home1/x"), 0);
	cr_assert_eq(wr(NULL, &dom1, "/home1/x", "2"), 0);
	cr_assert_eq(rd(&dom2, "/home1/x"), -EACCES);
	cr_assert_eq(wr(NULL, &dom2, "/home1/x", "3"), -EACCES);
}

Test(perms, owner_entry_bits_for_others)
{
	cr_assert_eq(rd(&dom1, "/pub/v"), 0);
	cr_assert_eq(wr(NULL, &dom1, "/pub/v", "x"), -EACCES);
	cr_assert_eq(rd(&dom1, "/priv/v"), -EACCES);
	cr_assert_str_eq(val("/pub/v"), "p");
}

Test(perms, first_entry_naming_the_domain)
{
	/* r1 comes before b1: read only. */
	cr_assert_eq(rd(&dom1, "/multi"), 0);
	cr_assert_eq(wr(NULL, &dom1, "/multi", "x"), -EACCES);
	/* w2: write but no read. */
	cr_assert_eq(rd(&dom2, "/multi"), -EACCES);
	cr_assert_eq(wr(NULL, &dom2, "/multi", "y"), 0);
	cr_assert_str_eq(val("/multi"), "y");
}

Test(perms, target_acts_as_its_target)
{
	cr_assert_eq(rd(&dom3_for_1, "/home1/x"), 0);
	cr_assert_eq(wr(NULL, &dom3_for_1, "/home1/x", "t"), 0);
	cr_assert_eq(rd(&dom3_for_1, "/multi"), 0);
	cr_assert_eq(wr(NULL, &dom3_for_1, "/multi", "t"), -EACCES);
}

Test(perms, enoent_or_eacces_from_nearest_ancestor)
{
	/* Readable ancestor: the caller may learn the node is missing. */
	cr_assert_eq(rd(&dom1, "/pub/none"), -ENOENT);
	cr_assert_eq(rd(&dom1, "/pub/none/deeper/still"), -ENOENT);
	/* Unreadable ancestor: nothing leaks. */
	cr_assert_eq(rd(&dom1, "/priv/none"), -EACCES);
	cr_assert_eq(rd(&dom1, "/wpub/none"), -EACCES);
	/* For writes the ancestor must be writable. */
	cr_assert_eq(wr(NULL, &dom1, "/pub/none", "x"), -EACCES);
	cr_assert_eq(store_rm(st, NULL, &dom1, "/pub/none"), -EACCES);
	cr_assert_eq(store_rm(st, NULL, &dom1, "/wpub/none"), 0);
	cr_assert_eq(store_rm(st, NULL, &dom1, "/wpub/none/x"), -ENOENT);
	/* A denied existing node is EACCES even under a readable parent. */
	cr_assert_eq(wr(NULL, &dom1, "/pub/v", "x"), -EACCES);
	cr_assert_eq(nrecs, 0);
}

Test(perms, unprivileged_creator_owns_new_nodes)
{
	cr_assert_eq(wr(NULL, &dom1, "/wpub/mine/leaf", "v"), 0);
	cr_assert_str_eq(perms("/wpub/mine"), "w1");
	cr_assert_str_eq(perms("/wpub/mine/leaf"), "w1");
	cr_assert_eq(store_nodes_owned(st, 1), 4); /* home1, x, mine, leaf */
	cr_assert_eq(recs[0].eff_owner[0], 1);
	cr_assert_eq(recs[0].domid, 1);
	/* Privileged creators inherit the parent's list as is. */
	cr_assert_eq(wr(NULL, &dom0, "/multi/c", "v"), 0);
	cr_assert_str_eq(perms("/multi/c"), "n0,r1,b1,w2");
}

Test(perms, set_perms_rules)
{
	cr_assert_eq(store_set_perms(st, NULL, &dom0, "/pub", NULL, 0),
		     -EINVAL);
	/* Write access is not enough: one must own the node. */
	cr_assert_eq(setp(NULL, &dom2, "/multi", "w2"), -EACCES);
	/* The owner may not give the node away. */
	cr_assert_eq(setp(NULL, &dom1, "/home1/x", "n2"), -EPERM);
	cr_assert_eq(setp(NULL, &dom1, "/home1/x", "n1,r2"), 0);
	cr_assert_str_eq(perms("/home1/x"), "n1,r2");
	cr_assert_eq(rd(&dom2, "/home1/x"), 0);
	/* Missing node, writable parent: ENOENT; unreadable: EACCES. */
	cr_assert_eq(setp(NULL, &dom1, "/home1/none", "n1"), -ENOENT);
	cr_assert_eq(setp(NULL, &dom2, "/priv/none", "n2"), -EACCES);
	/* Privileged callers may change the owner. */
	cr_assert_eq(setp(NULL, &dom0, "/home1/x", "b2"), 0);
	cr_assert_eq(store_nodes_owned(st, 2), 1);
}

Test(perms, set_perms_record)
{
	cr_assert_eq(setp(NULL, &dom1, "/home1/x", "n1,r2,w3"), 0);
	cr_assert_eq(nrecs, 1);
	cr_assert_eq(recs[0].op_kind[0], STORE_OP_SET_PERMS);
	cr_assert_eq(recs[0].neffects, 1);
	cr_assert_eq(recs[0].eff_nperms[0], 3);
	cr_assert_str_eq(recs[0].eff_value[0], "1");
	cr_assert_eq(recs[0].nevents, 1);
	cr_assert_eq(recs[0].ev_nold[0], 1);
}
