/*
 * test_packfault.c - the writer's pack failing in the middle of a wide
 * directory's write: a write of the pack's bytes to its file
 * (GITSTORE_FAULT_PACK_FILE) or an object added to the pack
 * (GITSTORE_FAULT_PACK_ENTRY), at many positions of a stream of writes
 * under a fanned directory (300 children: one level of buckets; 5000:
 * two) that sits in a flat wide one. After the writer's retries, or a
 * kill -9, Git must hold every acknowledged write, each commit once, in
 * a repository git fsck finds clean: the same tree as a run without the
 * failure.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

FIXTURE_SUITE(packfault, TEST_BOOT_A);

/* The flat wide parent's other children (>= 32: patched in place). */
#define SIBLINGS 40u
/* Values of the stream's writes: a 128 KiB step of the pack every ~60. */
#define BIG 2000u

static const struct xsw_perm owner0 = { 0, XSW_PERM_NONE };

/* One commit of n writes (paths[i] = values[i]), as the store reports it. */
static void commit_many(struct gitstore *gs, unsigned n, char **paths,
			char **values)
{
	struct store_op *ops = calloc(n, sizeof(*ops));
	struct store_effect *ef = calloc(n, sizeof(*ef));
	cr_assert(ops && ef);
	for (unsigned i = 0; i < n; i++) {
		ops[i] = (struct store_op){ STORE_OP_WRITE, paths[i] };
		ef[i] = (struct store_effect){ paths[i], false, values[i],
					       (uint32_t)strlen(values[i]),
					       &owner0, 1 };
	}
	struct store_commit c = {
		.caller = { 0, true, UINT32_MAX, 1 },
		.nops = n, .ops = ops, .neffects = n, .effects = ef,
	};
	cr_assert_eq(gitstore_append(gs, &c, NULL), 0);
	free(ops);
	free(ef);
}

/* /p with SIBLINGS children s<i> and fan, which has width children. */
static void fill(struct gitstore *gs, unsigned width)
{
	unsigned n = 2 + SIBLINGS + width, k = 0;
	char **paths = calloc(n, sizeof(*paths));
	char **values = calloc(n, sizeof(*values));
	cr_assert(paths && values);
	paths[k] = strdup("/p");
	values[k++] = strdup("");
	for (unsigned i = 0; i < SIBLINGS; i++) {
		cr_assert_geq(asprintf(&paths[k], "/p/s%u", i), 0);
		values[k++] = strdup("s");
	}
	paths[k] = strdup("/p/fan");
	values[k++] = strdup("");
	for (unsigned i = 0; i < width; i++) {
		cr_assert_geq(asprintf(&paths[k], "/p/fan/c%u", i), 0);
		cr_assert_geq(asprintf(&values[k++], "v%u", i), 0);
	}
	commit_many(gs, n, paths, values);
	for (unsigned i = 0; i < n; i++) {
		free(paths[i]);
		free(values[i]);
	}
	free(paths);
	free(values);
	cr_assert_eq(gitstore_flush(gs), 0);
}

/*
 * Write i of the stream: a big value under the fanned directory, and in
 * two of three a sibling too, before or after it (the parent then has
 * two dirty children, written one after the other).
 */
static void stream_one(struct gitstore *gs, unsigned width, unsigned i)
{
	char fpath[64], spath[64], sval[32], *big = malloc(BIG + 1);
	cr_assert_not_null(big);
	memset(big, 'a' + (char)(i % 26), BIG);
	int l = snprintf(big, BIG, "w%u:", i);
	big[l] = '-';
	big[BIG] = '\0';
	snprintf(fpath, sizeof(fpath), "/p/fan/c%u", (i * 7919u) % width);
	snprintf(spath, sizeof(spath), "/p/s%u", (i * 7u) % SIBLINGS);
	snprintf(sval, sizeof(sval), "x%u", i);
	char *p2[2] = { fpath, spath }, *v2[2] = { big, sval };
	if (i % 3 == 0) {
		commit_many(gs, 1, p2, v2);
	} else if (i % 3 == 1) {
		commit_many(gs, 2, p2, v2);
	} else {
		char *p3[2] = { spath, fpath }, *v3[2] = { sval, big };
		commit_many(gs, 2, p3, v3);
	}
	free(big);
}

/* Flushed after each: every write is acknowledged before the next. */
static void stream(struct gitstore *gs, unsigned width, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		stream_one(gs, width, i);
		cr_assert_eq(gitstore_flush(gs), 0);
	}
}

/* "0,1,2,...,last," : each seq once, in order (the boot commit is 0). */
static void expect_history(uint64_t last)
{
	char *o = history_seqs(&fx);
	size_t cap = 24 * (last + 2), len = 0;
	char *want = malloc(cap);
	cr_assert_not_null(want);
	for (uint64_t s = 0; s <= last; s++)
		len += (size_t)snprintf(want + len, cap - len, "%llu,",
					(unsigned long long)s);
	cr_assert_str_eq(o, want, "history");
	free(want);
	free(o);
}

static char *head_tree(void)
{
	int st;
	char *o = git_out(&fx, &st, "rev-parse main^{tree}");
	cr_assert_eq(st, 0, "%s", o);
	return o;
}

/* What a run leaves in Git: its head tree, and the tree recovery reads. */
struct outcome {
	char *tree;
	struct node_list nodes;
	uint64_t seq;
};

static void outcome_free(struct outcome *o)
{
	free(o->tree);
	nodes_free(&o->nodes);
}

/* Reopens the store (recovery commits what the journal holds), closes it. */
static void outcome_read(struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER,
					 &o->nodes, &o->seq);
	cr_assert_eq(gitstore_close(gs), 0);
	o->tree = head_tree();
}

static void expect_same(const struct outcome *got, const struct outcome *ref,
			const char *what)
{
	cr_assert_eq(got->seq, ref->seq, "%s: last seq", what);
	cr_assert_eq(got->nodes.n, ref->nodes.n, "%s: node count", what);
	for (size_t i = 0; i < ref->nodes.n; i++) {
		const struct tnode *a = &got->nodes.v[i], *b = &ref->nodes.v[i];
		cr_assert_str_eq(a->path, b->path, "%s: node %zu", what, i);
		cr_assert_str_eq(a->value, b->value, "%s: %s", what, b->path);
		cr_assert_str_eq(a->perms, b->perms, "%s: %s", what, b->path);
	}
	cr_assert_str_eq(got->tree, ref->tree, "%s: head tree", what);
	expect_history(ref->seq);
	git_fsck_clean(&fx, what);
}

/*
 * The writer publishes every 20 ms while records come, or (NEVER) only
 * when synced: then the pack of the whole stream goes to its file in
 * steps whose count does not depend on timing, and its delta chains
 * fill up.
 */
#define NEVER TEST_NEVER_MS

/* The run without a failure, in a fresh fixture. */
static void reference(unsigned width, unsigned count, struct outcome *ref)
{
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, NULL,
					 NULL);
	fill(gs, width);
	stream(gs, width, count);
	cr_assert_eq(gitstore_close(gs), 0);
	outcome_read(ref);
}

static void fresh_fixture(void)
{
	fixture_fini(&fx);
	fixture_init(&fx, TEST_BOOT_A);
}

/*
 * Waits for the writer to get every record into Git, through its
 * retries: gitstore_sync() returns the injected error while it fails.
 */
static void sync_through(struct gitstore *gs, int err)
{
	int e, tries = 0;
	while ((e = gitstore_sync(gs)) && tries++ < 100)
		cr_assert_eq(e, err, "sync: %d", e);
	cr_assert_eq(e, 0, "the writer never got through");
}

/*
 * The fault at point, armed after the fill (before it when early), lets
 * skip operations pass and fails the next `fails`; the writer retries.
 * The writer publishes every pack_ms. Returns how many failures
 * happened: fails, or 0 when the run had no more than skip operations.
 */
static uint64_t run_retry(unsigned width, unsigned count,
			  enum gitstore_fault point, int err, unsigned skip,
			  unsigned fails, bool early, unsigned pack_ms,
			  const struct outcome *ref)
{
	char what[96];
	snprintf(what, sizeof(what), "width %u point %d skip %u%s%s", width,
		 (int)point, skip, early ? " (fill)" : "",
		 pack_ms == NEVER ? " (one pack)" : "");
	fresh_fixture();
	struct gitstore *gs = open_store(&fx, pack_ms, GITSTORE_FSYNC_NEVER,
					 NULL, NULL);
	if (early)
		gitstore_inject_fault_after(gs, point, err, skip, fails);
	fill(gs, width);
	if (!early) {
		sync_through(gs, err);
		gitstore_inject_fault_after(gs, point, err, skip, fails);
	}
	stream(gs, width, count);
	sync_through(gs, err);
	struct gitstore_stats s;
	gitstore_get_stats(gs, &s);
	cr_assert_eq(s.writer_error, 0, "%s", what);
	cr_assert(s.faults_taken == fails || !s.faults_taken,
		  "%s: %llu failures", what, (unsigned long long)s.faults_taken);
	cr_assert_eq(s.git_seq, ref->seq, "%s", what);
	cr_assert_eq(gitstore_close(gs), 0);
	struct outcome got;
	outcome_read(&got);
	expect_same(&got, ref, what);
	outcome_free(&got);
	return s.faults_taken;
}

/* The same where the failure must happen. */
static void run_hit(unsigned width, unsigned count, enum gitstore_fault point,
		    int err, unsigned skip, unsigned fails, bool early,
		    unsigned pack_ms, const struct outcome *ref)
{
	cr_assert_eq(run_retry(width, count, point, err, skip, fails, early,
			       pack_ms, ref),
		     fails, "width %u skip %u: the failure happened", width,
		     skip);
}

/* Positions: every object of the first commits of the stream. */
static void entry_faults(unsigned width)
{
	struct outcome ref;
	fresh_fixture();
	reference(width, 12, &ref);
	for (unsigned skip = 0; skip < 40; skip++)
		run_hit(width, 12, GITSTORE_FAULT_PACK_ENTRY,
			skip % 2 ? -EIO : -ENOSPC, skip, skip % 8 == 7 ? 3 : 1,
			false, skip % 4 ? 20 : NEVER, &ref);
	/* in the middle of the fanned directory's first write */
	for (unsigned skip = 0; skip < 2 * width; skip += width / 4 + 7)
		run_hit(width, 12, GITSTORE_FAULT_PACK_ENTRY, -ENOSPC, skip,
			1, true, 20, &ref);
	outcome_free(&ref);
}

Test(packfault, entry_fails_mid_write_one_level, .timeout = 240)
{
	entry_faults(300);
}

Test(packfault, entry_fails_mid_write_two_levels, .timeout = 240)
{
	entry_faults(5000);
}

/*
 * Positions: each write of the pack's bytes to its file, from the fill's
 * (5000 children: about 1 MiB of objects, several steps in the middle of
 * its write; 300: one small pack, written whole) through the stream's
 * (a step every ~60 writes, all in one pack), the header and checksum
 * of each publish included. min: the writes of the pack of the fill and
 * the stream (its steps of 128 KiB, the last step, header and checksum),
 * so that a position that is never reached does not pass unseen.
 */
static void file_faults(unsigned width, unsigned min)
{
	struct outcome ref;
	unsigned skip;
	fresh_fixture();
	reference(width, 150, &ref);
	/* every position, until one past the last */
	for (skip = 0; run_retry(width, 150, GITSTORE_FAULT_PACK_FILE,
				 skip % 2 ? -EIO : -ENOSPC, skip,
				 1 + skip % 3, true, NEVER, &ref); skip++)
		;
	cr_assert_geq(skip, min, "width %u: %u writes", width, skip);
	for (skip = 0; run_retry(width, 150, GITSTORE_FAULT_PACK_FILE,
				 -ENOSPC, skip, 2, false, NEVER, &ref); skip++)
		;
	cr_assert_geq(skip, 5, "width %u: %u writes", width, skip);
	outcome_free(&ref);
}

Test(packfault, file_write_fails_mid_write_one_level, .timeout = 240)
{
	file_faults(300, 6); /* 450 KiB */
}

Test(packfault, file_write_fails_mid_write_two_levels, .timeout = 240)
{
	file_faults(5000, 12); /* 1.2 MiB */
}

/* kill -9 while the writer fails: recovery commits what it could not. */
static unsigned crash_width, crash_skip, crash_count;
static enum gitstore_fault crash_point;

static void fail_then_crash(void)
{
	struct gitstore *gs = open_store(&fx, NEVER, GITSTORE_FSYNC_NEVER,
					 NULL, NULL);
	fill(gs, crash_width);
	if (gitstore_sync(gs))
		_exit(1);
	gitstore_inject_fault_after(gs, crash_point, -EIO, crash_skip,
				    UINT32_MAX);
	stream(gs, crash_width, crash_count);
	/* the writer meets the failure and backs off */
	usleep(150 * 1000);
	if (gitstore_sync(gs) != -EIO)
		_exit(2);
}

static void crash_faults(unsigned width)
{
	struct outcome ref;
	fresh_fixture();
	reference(width, 90, &ref);
	crash_width = width;
	crash_count = 90;
	for (unsigned k = 0; k < 12; k++) {
		crash_point = k % 2 ? GITSTORE_FAULT_PACK_FILE
				    : GITSTORE_FAULT_PACK_ENTRY;
		/* the stream's pack: a step, then flush, header, checksum */
		crash_skip = crash_point == GITSTORE_FAULT_PACK_FILE
				     ? k / 2 % 4 : 5 * k + 1;
		char what[64];
		snprintf(what, sizeof(what), "kill -9, width %u, point %d, skip %u",
			 width, (int)crash_point, crash_skip);
		fresh_fixture();
		crash_after(fail_then_crash);
		struct outcome got;
		outcome_read(&got);
		expect_same(&got, &ref, what);
		outcome_free(&got);
	}
	outcome_free(&ref);
}

Test(packfault, failure_then_kill9_one_level, .timeout = 240)
{
	crash_faults(300);
}

Test(packfault, failure_then_kill9_two_levels, .timeout = 240)
{
	crash_faults(5000);
}
