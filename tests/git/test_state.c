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

#define BOOT_A "aaaaaaaa-0000-0000-0000-000000000001"
#define BOOT_B "bbbbbbbb-0000-0000-0000-000000000002"
#define NEVER_MS 3600000u

static struct fixture fx;

static void setup(void)
{
	fixture_init(&fx, BOOT_A);
}

static void teardown(void)
{
	fixture_fini(&fx);
}

TestSuite(state, .init = setup, .fini = teardown);

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
	struct gitstore *gs = open_store(&fx, NEVER_MS, GITSTORE_FSYNC_NEVER,
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
	struct gitstore *gs = open_store(&fx, NEVER_MS, GITSTORE_FSYNC_NEVER,
					 NULL, NULL);
	put(gs, 7, "ring at 42");
	if (gitstore_flush(gs))
		_exit(1);
}

static void nothing_then_crash(void)
{
	struct gitstore *gs = open_store(&fx, NEVER_MS, GITSTORE_FSYNC_NEVER,
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
	fixture_set_boot(&fx, BOOT_B);
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
