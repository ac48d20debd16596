/* test_state.c - daemon state records: journaled with the commits, the
 * latest per key back after kill -9, never in Git, not across boots. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

FIXTURE_SUITE(state, TEST_BOOT_A);

/* The recovered state as "key=value;" in key order (keys below 16). */
struct seen {
	char v[16][64];
	unsigned n;
};

static int collect(void *ctx, uint32_t key, const void *data, size_t len)
{
	struct seen *s = ctx;
	cr_assert_lt(key, 16u);
	cr_assert_lt(len, 64u);
	cr_assert_str_empty(s->v[key], "key %u handed back twice", key);
	memcpy(s->v[key], data, len);
	s->n++;
	return 0;
}

static struct gitstore *reopen(struct seen *s, uint64_t *seq)
{
	memset(s, 0, sizeof(*s));
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, NULL,
					 seq);
	cr_assert_eq(gitstore_state_foreach(gs, collect, s), 0);
	return gs;
}

static void put(struct gitstore *gs, uint32_t key, const char *v)
{
	cr_assert_eq(gitstore_put_state(gs, key, v, v ? strlen(v) : 0), 0);
}

static void states_then_crash(void)
{
	struct gitstore *gs = open_store(&fx, TEST_NEVER_MS, GITSTORE_FSYNC_NEVER,
					 NULL, NULL);
	commit_write(gs, 0, "/a", "1");
	put(gs, 1, "one");
	put(gs, 2, "two");
	put(gs, 3, "three");
	if (gitstore_flush(gs))
		_exit(1);
	put(gs, 1, "one again"); /* a flush of state records only */
	put(gs, 3, NULL);
	if (gitstore_flush(gs))
		_exit(1);
	commit_write(gs, 0, "/b", "2");
	put(gs, 2, "two again");
	put(gs, 4, "unflushed"); /* never durable: must not come back */
	commit_write(gs, 0, "/c", "3");
}

Test(state, latest_per_key_survives_kill9_and_never_reaches_git)
{
	crash_after(states_then_crash);
	struct seen s;
	uint64_t seq;
	struct gitstore *gs = reopen(&s, &seq);
	cr_assert_eq(seq, 1, "only the flushed commit is in Git");
	cr_assert_eq(s.n, 2);
	cr_assert_str_eq(s.v[1], "one again");
	cr_assert_str_eq(s.v[2], "two");
	cr_assert_str_empty(s.v[3], "a deleted key came back");
	cr_assert_str_empty(s.v[4], "an unflushed key came back");
	cr_assert_eq(gitstore_close(gs), 0);
	int st;
	char *o = git_out(&fx, &st, "rev-list --count main");
	cr_assert_str_eq(o, "2\n", "boot + one commit, no state commits");
	free(o);
}

static void one_state_then_crash(void)
{
	struct gitstore *gs = open_store(&fx, TEST_NEVER_MS, GITSTORE_FSYNC_NEVER,
					 NULL, NULL);
	put(gs, 7, "ring at 42");
	if (gitstore_flush(gs))
		_exit(1);
}

static void nothing_then_crash(void)
{
	struct gitstore *gs = open_store(&fx, TEST_NEVER_MS, GITSTORE_FSYNC_NEVER,
					 NULL, NULL);
	(void)gs; /* recovery alone rewrote the journal */
}

Test(state, restarts_without_new_records_keep_it)
{
	crash_after(one_state_then_crash);
	/* each start replaces the old segments by one carrying the state */
	crash_after(nothing_then_crash);
	crash_after(nothing_then_crash);
	struct seen s;
	struct gitstore *gs = reopen(&s, NULL);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.v[7], "ring at 42");
	/* a clean close keeps it too */
	cr_assert_eq(gitstore_close(gs), 0);
	gs = reopen(&s, NULL);
	cr_assert_str_eq(s.v[7], "ring at 42");
	cr_assert_eq(gitstore_close(gs), 0);
}

Test(state, another_boot_forgets_it)
{
	crash_after(one_state_then_crash);
	fixture_set_boot(&fx, TEST_BOOT_B);
	struct seen s;
	struct gitstore *gs = reopen(&s, NULL);
	cr_assert_eq(s.n, 0, "state of the guests of an earlier boot");
	cr_assert_eq(gitstore_close(gs), 0);
}

Test(state, needs_recovery_first)
{
	struct gitstore *gs;
	char err[256];
	cr_assert_eq(gitstore_open(&gs, fx.store, NULL, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(gitstore_put_state(gs, 1, "x", 1), -EINVAL);
	cr_assert_eq(gitstore_close(gs), 0);
}

/*
 * A batch the daemon's kill cut short: the kernel stops a write() at a
 * page boundary when SIGKILL arrives, so the commit of a request can be
 * on disk while the ring state written after it is not.
 */
static void batch_cut_then_crash(void)
{
	struct gitstore *gs = open_store(&fx, TEST_NEVER_MS, GITSTORE_FSYNC_NEVER,
					 NULL, NULL);
	commit_write(gs, 0, "/a", "1");
	put(gs, 1, "ring at 10");
	if (gitstore_flush(gs))
		_exit(1);
	commit_write(gs, 0, "/b", "2");
	put(gs, 1, "ring at 20");
	gitstore_inject_fault(gs, GITSTORE_FAULT_KILL_MID_BATCH, -EINTR, 1);
	gitstore_flush(gs); /* writes the commit of /b only, then dies */
	_exit(1);
}

Test(state, a_batch_cut_by_kill9_counts_not_at_all)
{
	crash_after(batch_cut_then_crash);
	struct seen s;
	uint64_t seq;
	struct gitstore *gs = reopen(&s, &seq);
	cr_assert_eq(seq, 1, "a commit without the state of its batch");
	cr_assert_str_eq(s.v[1], "ring at 10");
	cr_assert_eq(gitstore_close(gs), 0);
	int st;
	char *o = git_out(&fx, &st, "rev-list --count main");
	cr_assert_str_eq(o, "2\n", "boot + /a only");
	free(o);
}

static void two_batches_then_crash(void)
{
	struct gitstore *gs = open_store(&fx, TEST_NEVER_MS, GITSTORE_FSYNC_NEVER,
					 NULL, NULL);
	commit_write(gs, 0, "/a", "1");
	put(gs, 1, "ring at 10");
	if (gitstore_flush(gs))
		_exit(1);
	commit_write(gs, 0, "/b", "2");
	commit_write(gs, 0, "/c", "3");
	put(gs, 1, "ring at 30");
	if (gitstore_flush(gs))
		_exit(1);
}

/* The only segment's path, and its bytes (malloc'd). */
static char *read_segment(char *path, size_t plen, size_t *len)
{
	journal_segment(&fx, path, plen);
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f);
	char *buf = malloc(1 << 16);
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

/* For a child, which must not assert: the value of key 1. */
static int state_of_1(void *ctx, uint32_t key, const void *data, size_t len)
{
	if (key == 1 && len < 64)
		memcpy(ctx, data, len);
	return 0;
}

/*
 * The journal replaced by data[0, len) under name; recovers in a child
 * that dies before the writer publishes anything (Git keeps only the
 * boot commit): exits with 10 * last seq + (the seq the state of key 1
 * names) + 1.
 */
static int recover_cut(const char *name, const char *data, size_t len)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -f %s/journal/*.xsj", fx.store);
	cr_assert_eq(system(cmd), 0);
	FILE *f = fopen(name, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct gitstore *gs;
		char err[256];
		struct gitstore_options o;
		gitstore_options_init(&o);
		o.pack_interval_ms = TEST_NEVER_MS;
		o.boot_id_path = fx.bootfile;
		struct gitstore_stats stats;
		struct store *st;
		char v[64] = "";
		if (store_new(&st) ||
		    gitstore_open(&gs, fx.store, &o, err, sizeof(err)) ||
		    gitstore_recover(gs, st) ||
		    gitstore_state_foreach(gs, state_of_1, v))
			_exit(99);
		gitstore_get_stats(gs, &stats);
		uint64_t seq = stats.appended_seq;
		int named = !v[0] ? 0 : !strcmp(v, "ring at 10") ? 1
			  : !strcmp(v, "ring at 30") ? 3 : 9;
		_exit((int)seq * 10 + named + 1);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "recovery child died");
	return WEXITSTATUS(st);
}

Test(state, every_cut_of_the_journal_keeps_commits_and_state_together)
{
	crash_after(two_batches_then_crash);
	char path[700];
	size_t len;
	char *seg = read_segment(path, sizeof(path), &len);
	unsigned whole = 0;
	/* after the boot commit (seq 0): none, /a, or /b and /c together */
	for (size_t cut = 0; cut <= len; cut++) {
		int r = recover_cut(path, seg, cut);
		cr_assert(r == 1 || r == 10 + 1 + 1 || r == 30 + 3 + 1,
			  "cut at %zu of %zu: seq %d with state %d", cut, len,
			  (r - 1) / 10, (r - 1) % 10);
		whole += r == 34;
	}
	cr_assert_eq(whole, 1, "only the whole journal holds both batches");
	free(seg);
}

/*
 * Segments of an older daemon (header byte 5 is 0) have no batch ends:
 * every whole record counts there, as it did. The same bytes marked as
 * batched lose the batch whose end is missing.
 */
Test(state, an_older_segment_counts_its_whole_records)
{
	crash_after(two_batches_then_crash);
	char path[700];
	size_t len;
	char *seg = read_segment(path, sizeof(path), &len);
	cr_assert_eq(seg[5], 1, "a new segment says its writes end batches");
	size_t cut = len - 20; /* the last batch end */
	cr_assert_eq(recover_cut(path, seg, cut), 10 + 1 + 1);
	seg[5] = 0;
	cr_assert_eq(recover_cut(path, seg, cut), 30 + 3 + 1);
	free(seg);
}
