/* store_domain_gone: a domain's nodes and permission entries go (XSA-322/419). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "helpers.h"

static void gone_setup(void)
{
	fx_setup();
	/* 1's home, a node of 1 under 2's home, grants to 1 elsewhere */
	cr_assert_eq(wr(NULL, &dom0, "/local/domain/1/a/b", "x"), 0);
	cr_assert_eq(setp(NULL, &dom0, "/local/domain/1", "n1"), 0);
	cr_assert_eq(setp(NULL, &dom0, "/local/domain/1/a", "n1"), 0);
	cr_assert_eq(setp(NULL, &dom0, "/local/domain/1/a/b", "n1,r2"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/local/domain/2/mine", "m"), 0);
	cr_assert_eq(setp(NULL, &dom0, "/local/domain/2", "n2"), 0);
	cr_assert_eq(setp(NULL, &dom0, "/local/domain/2/mine", "n2,b1,r3"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/local/domain/2/from1", "f"), 0);
	cr_assert_eq(setp(NULL, &dom0, "/local/domain/2/from1", "n1,r2"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/local/domain/2/from1/kid", "k"), 0);
	cr_assert_eq(setp(NULL, &dom0, "/local/domain/2/from1/kid", "n2"), 0);
	cr_assert_eq(wr(NULL, &dom0, "/vm/x", "v"), 0);
	cr_assert_eq(setp(NULL, &dom0, "/vm/x", "r0,w1,r1"), 0);
	nrecs = 0;
}

TestSuite(gone, .init = gone_setup, .fini = fx_teardown);

Test(gone, owned_nodes_and_subtrees_removed)
{
	cr_assert_eq(store_domain_gone(st, 1), 0);
	cr_assert_null(val("/local/domain/1"));
	cr_assert_null(val("/local/domain/1/a/b"));
	/* owned by 1 inside 2's home: goes, with a child 2 owned */
	cr_assert_null(val("/local/domain/2/from1"));
	cr_assert_null(val("/local/domain/2/from1/kid"));
	cr_assert_str_eq(val("/local/domain/2/mine"), "m");
	cr_assert_str_eq(dir(NULL, &dom0, "/local/domain"), "2");
}

Test(gone, entries_stripped_everywhere_else)
{
	cr_assert_eq(store_domain_gone(st, 1), 0);
	cr_assert_str_eq(perms("/local/domain/2/mine"), "n2,r3");
	cr_assert_str_eq(perms("/vm/x"), "r0");
	/* a later domain 1 inherits nothing */
	cr_assert_eq(wr(NULL, &dom1, "/vm/x", "y"), -EACCES);
}

Test(gone, one_commit_by_dom0)
{
	cr_assert_eq(store_domain_gone(st, 1), 0);
	cr_assert_eq(nrecs, 1);
	cr_assert_eq(recs[0].domid, 0);
	cr_assert_gt(recs[0].nevents, 0);
}

Test(gone, nothing_to_do_commits_nothing)
{
	cr_assert_eq(store_domain_gone(st, 9), 0);
	cr_assert_eq(nrecs, 0);
	cr_assert_str_eq(perms("/local/domain/2/mine"), "n2,b1,r3");
}

Test(gone, dom0_refused)
{
	cr_assert_eq(store_domain_gone(st, 0), -EINVAL);
	cr_assert_str_eq(val("/vm/x"), "v");
}

Test(gone, other_domains_untouched)
{
	cr_assert_eq(store_domain_gone(st, 2), 0);
	cr_assert_str_eq(val("/local/domain/1/a/b"), "x");
	cr_assert_str_eq(perms("/local/domain/1/a/b"), "n1");
	cr_assert_str_eq(perms("/vm/x"), "r0,w1,r1");
	cr_assert_null(val("/local/domain/2"));
}
