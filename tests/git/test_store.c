/* test_store.c - the engine behind a real struct store (store/), end to end. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define BOOT "cccccccc-0000-0000-0000-000000000003"

FIXTURE_SUITE(store, BOOT);

static void hook(void *ctx, const struct store_commit *c)
{
	if (gitstore_append(ctx, c, NULL))
		abort();
}

/* The whole tree as text: path, value, perms, in walk order. */
struct dump {
	char *s;
	size_t len, cap;
};

static int dump_node(void *ctx, const struct store_node_view *n)
{
	struct dump *d = ctx;
	size_t need = strlen(n->path) + n->len + 32 * (n->nperms + 2);
	if (d->len + need >= d->cap) {
		d->cap = (d->cap + need) * 2;
		d->s = realloc(d->s, d->cap);
	}
	d->len += (size_t)sprintf(d->s + d->len, "%s=", n->path);
	memcpy(d->s + d->len, n->value, n->len);
	d->len += n->len;
	for (unsigned i = 0; i < n->nperms; i++)
		d->len += (size_t)sprintf(d->s + d->len, " %u:%u",
					  n->perms[i].domid, n->perms[i].perms);
	d->s[d->len++] = '\n';
	d->s[d->len] = '\0';
	return 0;
}

static char *tree_text(struct store *st)
{
	struct dump d = { 0 };
	cr_assert_eq(store_walk(st, "/", dump_node, &d), 0);
	return d.s;
}

static struct gitstore *open_into(struct store **st, unsigned pack_ms)
{
	struct gitstore_options o;
	struct gitstore *gs;
	char err[256];
	gitstore_options_init(&o);
	o.boot_id_path = fx.bootfile;
	o.pack_interval_ms = pack_ms;
	cr_assert_eq(gitstore_open(&gs, fx.store, &o, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(store_new(st), 0);
	cr_assert_eq(gitstore_recover(gs, *st), 0, "%s",
		     gitstore_last_error(gs));
	store_set_commit_hook(*st, hook, gs);
	return gs;
}

/* Random requests from dom0 and a guest, some in transactions. */
static void random_ops(struct store *st, unsigned *seed, int n)
{
	static const char *names[] = { "a", "b", "c", "10", "9", "-x" };
	struct store_caller dom0 = { 0, true, UINT32_MAX, 1 };
	char path[128], val[32];
	for (int i = 0; i < n; i++) {
		int depth = 1 + rand_r(seed) % 3, off = 0;
		off += sprintf(path + off, "/t");
		for (int k = 0; k < depth; k++)
			off += sprintf(path + off, "/%s",
				       names[rand_r(seed) % 6]);
		sprintf(val, "v%d", rand_r(seed) % 1000);
		struct store_txn *t = NULL;
		if (rand_r(seed) % 5 == 0)
			cr_assert_eq(store_txn_begin(st, &dom0, 1 + (unsigned)i,
						     &t), 0);
		int r = rand_r(seed) % 10;
		if (r < 6) {
			store_write(st, t, &dom0, path, val, (uint32_t)strlen(val));
		} else if (r < 7) {
			store_mkdir(st, t, &dom0, path);
		} else if (r < 9) {
			store_rm(st, t, &dom0, path);
		} else {
			struct xsw_perm p[2] = { { 5, XSW_PERM_NONE },
						 { 0, XSW_PERM_READ } };
			store_set_perms(st, t, &dom0, path, p, 2);
		}
		if (t) {
			store_write(st, t, &dom0, "/t/txn", val,
				    (uint32_t)strlen(val));
			store_txn_commit(st, t);
		}
	}
}

/*
 * Closes gs, opens the store again into a new tree: the same text as st,
 * which passes store_check. Frees both trees.
 */
static void close_and_expect_recovered(struct gitstore *gs, struct store *st,
				       unsigned pack_ms)
{
	struct store *st2;
	char *before = tree_text(st), err[128];
	cr_assert_eq(gitstore_close(gs), 0);
	gs = open_into(&st2, pack_ms);
	char *after = tree_text(st2);
	cr_assert_str_eq(after, before);
	cr_assert_eq(store_check(st2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(gitstore_close(gs), 0);
	store_free(st);
	store_free(st2);
	free(before);
	free(after);
}

Test(store, recovered_store_equals_the_original)
{
	struct store *st;
	unsigned seed = 1234;
	struct gitstore *gs = open_into(&st, 30);
	for (int round = 0; round < 40; round++) {
		random_ops(st, &seed, 25);
		cr_assert_eq(gitstore_flush(gs), 0);
	}
	close_and_expect_recovered(gs, st, 30);
	git_fsck_clean(&fx, NULL);
}

/*
 * A wide directory is read on two threads: its children must still come
 * back in creation order (not Git's), each with its own subtree, value
 * and permissions, the records of the journal on top.
 */
/*
 * The loop does not wake a writer that is polling for records: whatever
 * the rhythm of the flushes (a stream, pauses longer than the poll, a
 * last lone record), every record still reaches Git without
 * gitstore_sync, within the pack interval (the bound here is generous:
 * it only catches a record left behind).
 */
Test(store, records_reach_git_without_sync)
{
	struct store *st;
	unsigned seed = 99;
	struct gitstore *gs = open_into(&st, 20);
	struct gitstore_stats s;
	for (int i = 0; i < 300; i++) {
		random_ops(st, &seed, 1);
		cr_assert_eq(gitstore_flush(gs), 0);
		int pause = rand_r(&seed) % 8;
		if (pause >= 5) /* sometimes past the writer's poll */
			usleep(pause == 7 ? 30000 : 1000 * (useconds_t)pause);
	}
	random_ops(st, &seed, 1);
	cr_assert_eq(gitstore_flush(gs), 0);
	gitstore_get_stats(gs, &s);
	uint64_t want = s.flushed_seq;
	cr_assert_gt(want, 0);
	for (int t = 0; t < 1000 && s.git_seq < want; t++) {
		usleep(10000);
		gitstore_get_stats(gs, &s);
	}
	cr_assert_eq(s.git_seq, want, "Git stopped at %llu of %llu",
		     (unsigned long long)s.git_seq, (unsigned long long)want);
	cr_assert_eq(gitstore_close(gs), 0);
	store_free(st);
}

static unsigned thread_count(void)
{
	unsigned n = 0;
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %u", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* Waits (up to 10 s) until every flushed record is in Git and the writer
 * handed over to a new thread at least want times. */
static void wait_rest(struct gitstore *gs, uint64_t want)
{
	struct gitstore_stats s;
	gitstore_get_stats(gs, &s);
	for (int t = 0; t < 1000 && (s.git_seq < s.flushed_seq ||
				     s.writer_handovers < want); t++) {
		usleep(10000);
		gitstore_get_stats(gs, &s);
	}
	cr_assert_eq(s.git_seq, s.flushed_seq);
	cr_assert_geq(s.writer_handovers, want, "%llu hand-overs",
		      (unsigned long long)s.writer_handovers);
}

/*
 * At rest the writer thread ends and a new one carries on (writer.c,
 * writer_hand_over): the old one is joined, no thread is left behind,
 * and the new one commits what comes next; closing joins the newest.
 */
Test(store, writer_thread_handed_over_at_rest_keeps_committing)
{
	struct store *st;
	unsigned seed = 77;
	struct gitstore *gs = open_into(&st, 20);
	random_ops(st, &seed, 50);
	cr_assert_eq(gitstore_flush(gs), 0);
	wait_rest(gs, 1);
	unsigned threads = thread_count();
	for (int round = 2; round <= 3; round++) {
		random_ops(st, &seed, 50);
		cr_assert_eq(gitstore_flush(gs), 0);
		wait_rest(gs, (uint64_t)round);
		/* the thread it replaced is joined right after starting */
		for (int t = 0; t < 100 && thread_count() != threads; t++)
			usleep(10000);
		cr_assert_eq(thread_count(), threads);
	}
	close_and_expect_recovered(gs, st, 20);
	git_fsck_clean(&fx, NULL);
}

Test(store, wide_directory_recovers_in_creation_order)
{
	struct store *st;
	struct store_caller dom0 = { 0, true, UINT32_MAX, 1 };
	struct gitstore *gs = open_into(&st, 30);
	char path[64], val[32];
	for (int i = 300; i > 0; i--) {
		snprintf(path, sizeof(path), "/w/n%d/leaf", i * 7 % 307);
		snprintf(val, sizeof(val), "v%d", i);
		cr_assert_eq(store_write(st, NULL, &dom0, path, val,
					 (uint32_t)strlen(val)), 0);
		if (i % 3 == 0) {
			struct xsw_perm p[2] = { { (uint32_t)i, XSW_PERM_NONE },
						 { 0, XSW_PERM_READ } };
			snprintf(path, sizeof(path), "/w/n%d", i * 7 % 307);
			cr_assert_eq(store_set_perms(st, NULL, &dom0, path, p,
						     2), 0);
		}
	}
	cr_assert_eq(gitstore_sync(gs), 0);
	/* and some only in the journal at the crash-free restart below */
	cr_assert_eq(store_rm(st, NULL, &dom0, "/w/n14"), 0);
	cr_assert_eq(store_write(st, NULL, &dom0, "/w/n0/new", "x", 1), 0);
	cr_assert_eq(gitstore_flush(gs), 0);
	close_and_expect_recovered(gs, st, 30);
}

/*
 * Crashes at random moments: before each flush the child records the tree
 * it is about to acknowledge, named by its last seq; after kill -9 the
 * recovered tree must equal the record of the recovered seq exactly.
 */
static void expect_path(char *out, size_t len, uint64_t seq)
{
	snprintf(out, len, "%s/expect.%llu", fx.root, (unsigned long long)seq);
}

/* Records st's tree as the expected one at gs's last seq. */
static void expect_record(struct store *st, struct gitstore *gs)
{
	struct gitstore_stats s;
	gitstore_get_stats(gs, &s);
	char path[400], tmp[420];
	expect_path(path, sizeof(path), s.appended_seq);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	char *t = tree_text(st);
	FILE *f = fopen(tmp, "w");
	fputs(t, f);
	fclose(f);
	free(t);
	rename(tmp, path);
}

static void crash_child(int round)
{
	struct store *st;
	unsigned seed = 77u + (unsigned)round;
	struct gitstore *gs = open_into(&st, 5);
	for (;;) {
		random_ops(st, &seed, 10);
		expect_record(st, gs);
		if (gitstore_flush(gs))
			_exit(1);
	}
}

Test(store, kill9_at_random_moments)
{
	/* a kill before the first round's first flush (a slow start under
	 * load) leaves the initial tree */
	struct store *st0;
	struct gitstore *gs0 = open_into(&st0, 5);
	expect_record(st0, gs0);
	cr_assert_eq(gitstore_close(gs0), 0);
	store_free(st0);
	srand(42);
	for (int round = 0; round < 8; round++) {
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0)
			crash_child(round);
		usleep(20000 + (useconds_t)(rand() % 100000));
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		cr_assert(WIFSIGNALED(status), "child exited %d", status);
		struct store *st;
		struct gitstore *gs = open_into(&st, 5);
		struct gitstore_stats s;
		gitstore_get_stats(gs, &s);
		char *got = tree_text(st);
		/* the recovered seq: acknowledged, maybe not yet in Git */
		cr_log_info("round %d recovered seq %llu", round,
			    (unsigned long long)s.appended_seq);
		char path[400];
		expect_path(path, sizeof(path), s.appended_seq);
		FILE *f = fopen(path, "r");
		if (f) {
			static char want[1 << 20];
			size_t n = fread(want, 1, sizeof(want) - 1, f);
			want[n] = '\0';
			fclose(f);
			cr_assert_str_eq(got, want, "round %d, seq %llu", round,
					 (unsigned long long)s.appended_seq);
		} else {
			/*
			 * kill -9 inside the batch's write(): its first records
			 * landed whole (each is atomic, CRC-checked), the rest
			 * not. Only a batch in flight may end that way: the next
			 * recorded seq is after it and nothing acknowledged later
			 * exists.
			 */
			char later[400];
			bool found = false;
			for (uint64_t q = s.appended_seq + 1; q < s.appended_seq + 400; q++) {
				expect_path(later, sizeof(later), q);
				if (!access(later, F_OK)) {
					found = true;
					break;
				}
			}
			cr_assert(found, "round %d: seq %llu is no batch prefix",
				  round, (unsigned long long)s.appended_seq);
			cr_log_info("round %d: killed mid-batch at seq %llu",
				    round, (unsigned long long)s.appended_seq);
		}
		char err[128];
		cr_assert_eq(store_check(st, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(gitstore_close(gs), 0);
		store_free(st);
		free(got);
		int stt;
		char what[32];
		snprintf(what, sizeof(what), "round %d", round);
		git_fsck_clean(&fx, what);
		/* history: one commit per seq, in order, boot commit first */
		char *o = git_out(&fx, &stt, "log --reverse '--format=%%(trailers:key=Xenstore-Seq,valueonly,separator=)' main");
		char *p = o;
		unsigned long long want_seq = 0;
		p = strchr(p, '\n') + 1; /* boot: 0 */
		while (*p) {
			if (*p == '\n') {
				p++;
				continue;
			}
			cr_assert_eq(strtoull(p, &p, 10), ++want_seq, "round %d",
				     round);
		}
		cr_assert_eq(want_seq, s.appended_seq); /* all in Git after close */
		free(o);
	}
}
