/* Quotas: enforced for unprivileged callers only, with cxenstored's errnos. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "helpers.h"

static void quota_setup(void)
{
	fx_setup();
	cr_assert_eq(wr(NULL, &dom0, "/local/domain/1", ""), 0);
	cr_assert_eq(setp(NULL, &dom0, "/local/domain/1", "n1"), 0);
	cr_assert_eq(store_nodes_owned(st, 1), 1);
	nrecs = 0;
}

TestSuite(quota, .init = quota_setup, .fini = fx_teardown);

static void limits(uint32_t nodes, uint32_t size, uint32_t perms,
		   uint32_t txn, uint32_t path)
{
	struct store_limits l = { nodes, size, perms, txn, path, 0 };

	store_set_limits(st, &l);
}

static void limit_memory(uint32_t mem)
{
	struct store_limits l = { 0, 0, 0, 0, 0, mem };

	store_set_limits(st, &l);
}

/* store_node_memory() of a node with one perm entry */
static uint64_t mem1(const char *path, uint32_t len)
{
	return store_node_memory(strlen(path), strlen(strrchr(path, '/') + 1),
				 1, len);
}

Test(quota, memory_accounting)
{
	uint64_t home = mem1("/local/domain/1", 0);

	cr_assert_eq(store_memory_owned(st, 1), home);
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/a/b", "xyz"), 0);
	cr_assert_eq(store_memory_owned(st, 1), home +
		     mem1("/local/domain/1/a", 0) + mem1("/local/domain/1/a/b", 3));
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/a/b", "x"), 0);
	cr_assert_eq(store_memory_owned(st, 1), home +
		     mem1("/local/domain/1/a", 0) + mem1("/local/domain/1/a/b", 1));
	cr_assert_eq(setp(NULL, &dom1, "/local/domain/1/a/b", "n1,r0"), 0);
	cr_assert_eq(store_memory_owned(st, 1), home + mem1("/local/domain/1/a", 0) +
		     mem1("/local/domain/1/a/b", 1) + 8);
	/* given away by dom0: charged to the new owner */
	cr_assert_eq(setp(NULL, &dom0, "/local/domain/1/a/b", "n2"), 0);
	cr_assert_eq(store_memory_owned(st, 2), mem1("/local/domain/1/a/b", 1));
	cr_assert_eq(store_rm(st, NULL, &dom0, "/local/domain/1/a"), 0);
	cr_assert_eq(store_memory_owned(st, 1), home);
	cr_assert_eq(store_memory_owned(st, 2), 0);
}

Test(quota, memory_refused_with_enomem)
{
	uint64_t home = mem1("/local/domain/1", 0);
	uint64_t a = mem1("/local/domain/1/a", 10);

	limit_memory((uint32_t)(home + a));
	cr_assert_eq(store_write(st, NULL, &dom1, "/local/domain/1/a",
				 "0123456789", 10), 0);
	cr_assert_eq(store_write(st, NULL, &dom1, "/local/domain/1/a",
				 "0123456789x", 11), -ENOMEM);
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/b", ""), -ENOMEM);
	cr_assert_null(val("/local/domain/1/b"));
	/* shrinking and removing are allowed at the limit */
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/a", "1"), 0);
	cr_assert_eq(store_rm(st, NULL, &dom1, "/local/domain/1/a"), 0);
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/b", ""), 0);
	/* dom0 is not limited, even writing in the domain's home */
	cr_assert_eq(wr(NULL, &dom0, "/local/domain/1/big", "0123456789abcdef"), 0);
	cr_assert_gt(store_memory_owned(st, 1), home + a);
}

Test(quota, memory_in_transactions)
{
	uint64_t base = mem1("/local/domain/1", 0) + mem1("/local/domain/1/x", 0);
	struct store_txn *t1, *t2;

	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/x", ""), 0);
	limit_memory((uint32_t)(base + mem1("/local/domain/1/a", 1) +
				mem1("/local/domain/1/b", 1)));
	cr_assert_eq(store_txn_begin(st, &dom1, 1, &t1), 0);
	cr_assert_eq(wr(t1, &dom1, "/local/domain/1/a", "1"), 0);
	cr_assert_eq(wr(t1, &dom1, "/local/domain/1/b", "1"), 0);
	cr_assert_eq(wr(t1, &dom1, "/local/domain/1/c", "1"), -ENOMEM);
	cr_assert_eq(store_rm(st, t1, &dom1, "/local/domain/1/b"), 0);
	cr_assert_eq(wr(t1, &dom1, "/local/domain/1/c", "1"), 0);
	/* a second transaction (no conflict) fits alone, not after the first */
	cr_assert_eq(store_txn_begin(st, &dom1, 2, &t2), 0);
	cr_assert_eq(wr(t2, &dom1, "/local/domain/1/x/d", "1"), 0);
	cr_assert_eq(store_txn_commit(st, t1), 0);
	cr_assert_eq(store_memory_owned(st, 1), base +
		     mem1("/local/domain/1/a", 1) + mem1("/local/domain/1/c", 1));
	cr_assert_eq(store_txn_commit(st, t2), -ENOMEM);
	cr_assert_null(val("/local/domain/1/x/d"));
}

static uint64_t held_by_1;

static uint64_t held(void *ctx, uint32_t domid)
{
	(void)ctx;
	return domid == 1 ? held_by_1 : 0;
}

Test(quota, memory_held_outside_the_tree_counts)
{
	uint64_t home = mem1("/local/domain/1", 0);
	uint64_t a = mem1("/local/domain/1/a", 10);
	struct store_txn *t;

	limit_memory((uint32_t)(home + a + 100));
	store_set_memory_hook(st, held, NULL);
	held_by_1 = 101;
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/a", "0123456789"),
		     -ENOMEM);
	held_by_1 = 100;
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/a", "0123456789"), 0);
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/a", "1"), 0);
	/* checked again at commit, with what is held by then */
	cr_assert_eq(store_txn_begin(st, &dom1, 1, &t), 0);
	cr_assert_eq(wr(t, &dom1, "/local/domain/1/a", "0123456789"), 0);
	held_by_1 = 100 + store_txn_memory(t) + 1;
	cr_assert_eq(store_txn_commit(st, t), -ENOMEM);
	cr_assert_str_eq(val("/local/domain/1/a"), "1");
	/* another domain is not charged for what 1 holds */
	cr_assert_eq(wr(NULL, &dom2, "/local/domain/1/a", "x"), -EACCES);
	store_set_memory_hook(st, NULL, NULL);
}

Test(quota, txn_memory_is_the_copies_of_changed_nodes)
{
	uint64_t a = mem1("/local/domain/1/a", 10);
	struct store_txn *t;
	struct store_node_view v;

	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/a", "0123456789"), 0);
	cr_assert_eq(store_txn_begin(st, &dom1, 1, &t), 0);
	cr_assert_eq(store_txn_memory(t), 0);
	cr_assert_eq(store_read(st, t, &dom1, "/local/domain/1/a", &v), 0);
	cr_assert_eq(store_txn_memory(t), 0, "a read copies nothing");
	cr_assert_eq(wr(t, &dom1, "/local/domain/1/a", "x"), 0);
	cr_assert_eq(store_txn_memory(t), a, "the node as it was");
	cr_assert_eq(wr(t, &dom1, "/local/domain/1/a", "xy"), 0);
	cr_assert_eq(store_txn_memory(t), a, "one copy per node");
	/* a new node changes its parent's child list: the parent's copy */
	cr_assert_eq(wr(t, &dom1, "/local/domain/1/b", "1"), 0);
	cr_assert_eq(store_txn_memory(t), a + mem1("/local/domain/1", 0));
	store_txn_abort(st, t);
}

Test(quota, nodes_per_domain)
{
	limits(3, 0, 0, 0, 0);
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/a", "1"), 0);
	/* Two new nodes would make four. */
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/b/c", "1"), -ENOSPC);
	cr_assert_null(val("/local/domain/1/b"));
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/b", "1"), 0);
	cr_assert_eq(store_mkdir(st, NULL, &dom1, "/local/domain/1/c"),
		     -ENOSPC);
	/* Rewriting an existing node needs no new entry. */
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/b", "2"), 0);
	cr_assert_eq(store_nodes_owned(st, 1), 3);
	cr_assert_eq(store_rm(st, NULL, &dom1, "/local/domain/1/a"), 0);
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/a2", "1"), 0);
	/* Privileged callers are not limited; their new nodes inherit. */
	cr_assert_eq(wr(NULL, &dom0, "/local/domain/1/d/e/f", "1"), 0);
	cr_assert_eq(store_nodes_owned(st, 1), 6);
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/g", "1"), -ENOSPC);
}

Test(quota, nodes_per_domain_in_transaction)
{
	struct store_txn *t;

	limits(3, 0, 0, 0, 0);
	cr_assert_eq(store_txn_begin(st, &dom1, 1, &t), 0);
	cr_assert_eq(wr(t, &dom1, "/local/domain/1/a", "1"), 0);
	cr_assert_eq(wr(t, &dom1, "/local/domain/1/b", "1"), 0);
	cr_assert_eq(wr(t, &dom1, "/local/domain/1/c", "1"), -ENOSPC);
	cr_assert_eq(store_txn_commit(st, t), 0);
	cr_assert_eq(store_nodes_owned(st, 1), 3);
}

Test(quota, node_size)
{
	char big[200];

	/* cxenstored counts a 24-byte header and 8 bytes per perm entry. */
	limits(0, 100, 0, 0, 0);
	memset(big, 'x', sizeof(big));
	cr_assert_eq(store_write(st, NULL, &dom1, "/local/domain/1/s", big,
				 100 - 24 - 8 - 1), 0);
	cr_assert_eq(store_write(st, NULL, &dom1, "/local/domain/1/s", big,
				 100 - 24 - 8), -ENOSPC);
	cr_assert_eq(store_write(st, NULL, &dom1, "/local/domain/1/t", big,
				 100), -ENOSPC);
	cr_assert_null(val("/local/domain/1/t"));
	cr_assert_eq(store_write(st, NULL, &dom0, "/local/domain/1/t", big,
				 150), 0);
}

Test(quota, node_size_counts_children)
{
	limits(0, 24 + 8 + 10, 0, 0, 0);
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/p", ""), 0);
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/p/aaaa", ""), 0);
	/* "aaaa\0bbbb\0" is 10 bytes: the parent would be too big. */
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/p/bbbb", ""), -ENOSPC);
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/p/bbb", ""), 0);
}

Test(quota, perms_per_node)
{
	limits(0, 0, 2, 0, 0);
	cr_assert_eq(setp(NULL, &dom1, "/local/domain/1", "n1,r2"), 0);
	cr_assert_eq(setp(NULL, &dom1, "/local/domain/1", "n1,r2,r3"),
		     -ENOSPC);
	cr_assert_eq(setp(NULL, &dom0, "/local/domain/1", "n1,r2,r3"), 0);
}

Test(quota, transaction_nodes)
{
	struct store_txn *t;
	struct store_node_view v;

	limits(0, 0, 0, 3, 0);
	cr_assert_eq(store_txn_begin(st, &dom1, 1, &t), 0);
	cr_assert_eq(store_read(st, t, &dom1, "/local/domain/1", &v), 0);
	cr_assert_eq(wr(t, &dom1, "/local/domain/1/a", "1"), 0);
	cr_assert_eq(wr(t, &dom1, "/local/domain/1/b", "1"), 0);
	/* A fourth node touched in one transaction is one too many. */
	cr_assert_eq(wr(t, &dom1, "/local/domain/1/c", "1"), -ENOSPC);
	/* The transaction is spoilt: cxenstored then answers ENOMEM. */
	cr_assert_eq(store_txn_commit(st, t), -ENOMEM);
	cr_assert_null(val("/local/domain/1/a"));
	cr_assert_eq(store_txn_begin(st, &dom0, 2, &t), 0);
	cr_assert_eq(wr(t, &dom0, "/x/a", "1"), 0);
	cr_assert_eq(wr(t, &dom0, "/x/b", "1"), 0);
	cr_assert_eq(wr(t, &dom0, "/x/c", "1"), 0);
	cr_assert_eq(store_txn_commit(st, t), 0);
}

Test(quota, path_max_relative_to_home)
{
	limits(0, 0, 0, 0, 8);
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/12345678", "1"), 0);
	cr_assert_eq(wr(NULL, &dom1, "/local/domain/1/123456789", "1"),
		     -EINVAL);
	cr_assert_eq(wr(NULL, &dom0, "/local/domain/1/123456789", "1"), 0);
}
