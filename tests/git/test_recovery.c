/* test_recovery.c - kill -9, torn journal tails, boots, injected faults. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

FIXTURE_SUITE(recovery, TEST_BOOT_A);


static void three_then_crash(void)
{
	struct gitstore *gs = open_store(&fx, TEST_NEVER_MS, GITSTORE_FSYNC_NEVER,
					 NULL, NULL);
	commit_write(gs, 0, "/a", "1");
	commit_write(gs, 0, "/b", "2");
	if (gitstore_flush(gs))
		_exit(1);
	commit_write(gs, 0, "/c", "3");
	if (gitstore_flush(gs))
		_exit(1);
}

Test(recovery, acknowledged_records_survive_kill9)
{
	crash_after(three_then_crash);
	struct node_list l = { 0 };
	uint64_t seq;
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, &l,
					 &seq);
	cr_assert_eq(seq, 3);
	cr_assert_str_eq(nodes_find(&l, "/c")->value, "3");
	cr_assert_eq(gitstore_close(gs), 0);
	char *h = history_seqs(&fx);
	cr_assert_str_eq(h, "0,1,2,3,");
	free(h);
	git_fsck_clean(&fx, NULL);
	nodes_free(&l);
}

Test(recovery, torn_tail_is_discarded)
{
	crash_after(three_then_crash);
	char seg[700];
	journal_segment(&fx, seg, sizeof(seg));
	struct stat st;
	cr_assert_eq(stat(seg, &st), 0);
	/* tear the batch of record 3 (its batch end) */
	cr_assert_eq(truncate(seg, st.st_size - 3), 0);
	struct node_list l = { 0 };
	uint64_t seq;
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, &l,
					 &seq);
	cr_assert_eq(seq, 2);
	cr_assert_not_null(nodes_find(&l, "/b"));
	cr_assert_null(nodes_find(&l, "/c"));
	/* numbering continues after the last good record */
	commit_write(gs, 0, "/d", "4");
	cr_assert_eq(gitstore_close(gs), 0);
	char *h = history_seqs(&fx);
	cr_assert_str_eq(h, "0,1,2,3,");
	free(h);
	int s;
	char *o = git_out(&fx, &s, "show main:d/.value");
	cr_assert_str_eq(o, "4");
	free(o);
	git_fsck_clean(&fx, NULL);
	nodes_free(&l);
}

static void sync_some_then_crash(void)
{
	struct gitstore *gs = open_store(&fx, TEST_NEVER_MS, GITSTORE_FSYNC_NEVER,
					 NULL, NULL);
	char p[32];
	for (int i = 1; i <= 10; i++) {
		snprintf(p, sizeof(p), "/k%d", i);
		commit_write(gs, 0, p, "git");
	}
	if (gitstore_sync(gs)) /* 1..10 in Git, still in the journal */
		_exit(1);
	for (int i = 11; i <= 15; i++) {
		snprintf(p, sizeof(p), "/k%d", i);
		commit_write(gs, 0, p, "journal");
	}
	commit_write(gs, 0, "/k1", "overwritten");
	if (gitstore_flush(gs))
		_exit(1);
}

Test(recovery, journal_replayed_exactly_once)
{
	crash_after(sync_some_then_crash);
	char *h = history_seqs(&fx);
	cr_assert_str_eq(h, "0,1,2,3,4,5,6,7,8,9,10,");
	free(h);
	struct node_list l = { 0 };
	uint64_t seq;
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, &l,
					 &seq);
	cr_assert_eq(seq, 16);
	cr_assert_str_eq(nodes_find(&l, "/k1")->value, "overwritten");
	cr_assert_str_eq(nodes_find(&l, "/k15")->value, "journal");
	cr_assert_eq(l.n, 3 + 15);
	nodes_free(&l);
	cr_assert_eq(gitstore_close(gs), 0);
	h = history_seqs(&fx);
	cr_assert_str_eq(h, "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,");
	free(h);
	/* and once more: nothing is replayed twice */
	crash_after(three_then_crash);
	gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, &l, &seq);
	cr_assert_eq(seq, 19);
	cr_assert_eq(gitstore_close(gs), 0);
	h = history_seqs(&fx);
	cr_assert_str_eq(h, "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,");
	free(h);
	git_fsck_clean(&fx, NULL);
	nodes_free(&l);
}

/*
 * Recovery serves the journal's records from memory and commits them in
 * the background: a crash before they reach Git must lose none and
 * commit none twice, and a deletion must apply too.
 */
static void recover_then_crash(void)
{
	struct node_list l = { 0 };
	uint64_t seq;
	struct gitstore *gs = open_store(&fx, TEST_NEVER_MS, GITSTORE_FSYNC_NEVER,
					 &l, &seq);
	if (seq != 3 || !nodes_find(&l, "/c"))
		_exit(2);
	nodes_free(&l);
	commit_rm(gs, 0, "/a");
	if (gitstore_flush(gs))
		_exit(1);
}

Test(recovery, records_not_yet_in_git_survive_a_second_crash)
{
	crash_after(three_then_crash);
	crash_after(recover_then_crash); /* Git still holds only seq 0 */
	char *h = history_seqs(&fx);
	cr_assert_str_eq(h, "0,");
	free(h);
	struct node_list l = { 0 };
	uint64_t seq;
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, &l,
					 &seq);
	cr_assert_eq(seq, 4);
	cr_assert_null(nodes_find(&l, "/a"));
	cr_assert_str_eq(nodes_find(&l, "/b")->value, "2");
	cr_assert_str_eq(nodes_find(&l, "/c")->value, "3");
	cr_assert_eq(gitstore_close(gs), 0);
	h = history_seqs(&fx);
	cr_assert_str_eq(h, "0,1,2,3,4,");
	free(h);
	int st;
	char *o = git_out(&fx, &st, "show main:c/.value");
	cr_assert_eq(st, 0);
	cr_assert_str_eq(o, "3");
	free(o);
	o = git_out(&fx, &st, "cat-file -e main:a");
	cr_assert_neq(st, 0, "/a is still in Git");
	free(o);
	git_fsck_clean(&fx, NULL);
	nodes_free(&l);
	/* the journal is gone once Git holds its records */
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/journal", fx.store);
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)))
		n += strstr(de->d_name, ".xsj") != NULL;
	closedir(d);
	cr_assert_leq(n, 1, "%d segments", n);
}

static void write_then_crash(void)
{
	struct gitstore *gs = open_store(&fx, TEST_NEVER_MS, GITSTORE_FSYNC_NEVER,
					 NULL, NULL);
	commit_write(gs, 0, "/pending", "old boot");
	if (gitstore_flush(gs))
		_exit(1);
}

Test(recovery, new_boot_starts_fresh_tree_and_keeps_history)
{
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, NULL,
					 NULL);
	commit_write(gs, 0, "/vm", "running");
	cr_assert_eq(gitstore_close(gs), 0);
	crash_after(write_then_crash); /* seq 2 only in the journal */
	fixture_set_boot(&fx, TEST_BOOT_B);
	struct node_list l = { 0 };
	uint64_t seq;
	gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, &l, &seq);
	cr_assert_eq(l.n, 3, "fresh tree expected, got %zu nodes", l.n);
	cr_assert_null(nodes_find(&l, "/vm"));
	cr_assert_eq(seq, 2);
	commit_write(gs, 0, "/new", "boot b");
	cr_assert_eq(gitstore_close(gs), 0);
	nodes_free(&l);
	char *h = history_seqs(&fx);
	/* boot A, 1, 2 (old boot's journal), boot B (seq 2), 3 */
	cr_assert_str_eq(h, "0,1,2,2,3,");
	free(h);
	int st;
	char *o = git_out(&fx, &st, "tag -l 'boot/*'");
	cr_assert_str_eq(o, "boot/" TEST_BOOT_A "\nboot/" TEST_BOOT_B "\n");
	free(o);
	o = git_out(&fx, &st, "show boot/" TEST_BOOT_B "~1:pending/.value");
	cr_assert_str_eq(o, "old boot");
	free(o);
	o = git_out(&fx, &st, "log -1 --skip=1 '--format=%%(trailers:key=Xenstore-Boot,valueonly)' main");
	cr_assert_str_eq(o, TEST_BOOT_B "\n\n");
	free(o);
	o = git_out(&fx, &st, "log -1 --skip=2 '--format=%%(trailers:key=Xenstore-Boot,valueonly)' main");
	cr_assert_str_eq(o, TEST_BOOT_A "\n\n");
	free(o);
	git_fsck_clean(&fx, NULL);
}

static void failed_write_then_crash(void)
{
	struct gitstore *gs = open_store(&fx, TEST_NEVER_MS, GITSTORE_FSYNC_NEVER,
					 NULL, NULL);
	commit_write(gs, 0, "/a", "1");
	if (gitstore_flush(gs))
		_exit(1);
	gitstore_inject_fault(gs, GITSTORE_FAULT_JOURNAL_WRITE, -ENOSPC, 2);
	commit_write(gs, 0, "/b", "2");
	if (gitstore_flush(gs) != -ENOSPC)
		_exit(2);
	struct gitstore_stats s;
	gitstore_get_stats(gs, &s);
	if (s.journal_error != -ENOSPC || s.flushed_seq != 1)
		_exit(3);
	commit_write(gs, 0, "/c", "3");
	if (gitstore_flush(gs) != -ENOSPC)
		_exit(4);
	if (gitstore_flush(gs)) /* the disk is back: b and c, in order */
		_exit(5);
	gitstore_get_stats(gs, &s);
	if (s.journal_error || s.flushed_seq != 3)
		_exit(6);
	commit_write(gs, 0, "/d", "4");
	if (gitstore_flush(gs))
		_exit(7);
}

Test(recovery, failed_journal_write_is_retried_not_lost)
{
	crash_after(failed_write_then_crash);
	struct node_list l = { 0 };
	uint64_t seq;
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, &l,
					 &seq);
	cr_assert_eq(seq, 4);
	cr_assert_str_eq(nodes_find(&l, "/c")->value, "3");
	cr_assert_str_eq(nodes_find(&l, "/d")->value, "4");
	cr_assert_eq(gitstore_close(gs), 0);
	nodes_free(&l);
	char *h = history_seqs(&fx);
	cr_assert_str_eq(h, "0,1,2,3,4,");
	free(h);
	git_fsck_clean(&fx, NULL);
}

Test(recovery, failed_fsync_is_reported_and_retried)
{
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_ALWAYS, NULL,
					 NULL);
	gitstore_inject_fault(gs, GITSTORE_FAULT_FSYNC, -EIO, 1);
	commit_write(gs, 0, "/a", "1");
	cr_assert_eq(gitstore_flush(gs), -EIO);
	cr_assert_eq(gitstore_lag(gs), 0); /* not handed to Git yet */
	cr_assert_eq(gitstore_flush(gs), 0);
	cr_assert_eq(gitstore_sync(gs), 0);
	cr_assert_eq(gitstore_close(gs), 0);
	/* written twice to the journal, committed once */
	gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, NULL, NULL);
	cr_assert_eq(gitstore_close(gs), 0);
	char *h = history_seqs(&fx);
	cr_assert_str_eq(h, "0,1,");
	free(h);
}

Test(recovery, failed_pack_write_keeps_journal_and_retries)
{
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, NULL,
					 NULL);
	gitstore_inject_fault(gs, GITSTORE_FAULT_PACK_WRITE, -ENOSPC, 1);
	commit_write(gs, 0, "/a", "1");
	cr_assert_eq(gitstore_flush(gs), 0);
	cr_assert_eq(gitstore_sync(gs), -ENOSPC);
	struct gitstore_stats s;
	gitstore_get_stats(gs, &s);
	cr_assert_eq(s.writer_error, -ENOSPC);
	cr_assert_eq(s.git_seq, 0);
	cr_assert_eq(gitstore_lag(gs), 1);
	/* the writer retries on its own */
	cr_assert_eq(gitstore_sync(gs), 0);
	gitstore_get_stats(gs, &s);
	cr_assert_eq(s.writer_error, 0);
	cr_assert_eq(s.git_seq, 1);
	cr_assert_eq(gitstore_close(gs), 0);
	char *h = history_seqs(&fx);
	cr_assert_str_eq(h, "0,1,");
	free(h);
	git_fsck_clean(&fx, NULL);
}

static void pack_fails_then_crash(void)
{
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, NULL,
					 NULL);
	gitstore_inject_fault(gs, GITSTORE_FAULT_PACK_WRITE, -EIO, 1000000);
	commit_write(gs, 0, "/a", "1");
	commit_write(gs, 0, "/b", "2");
	if (gitstore_flush(gs))
		_exit(1);
	if (gitstore_sync(gs) != -EIO)
		_exit(2);
}

Test(recovery, git_failure_then_crash_loses_nothing)
{
	crash_after(pack_fails_then_crash);
	struct node_list l = { 0 };
	uint64_t seq;
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, &l,
					 &seq);
	cr_assert_eq(seq, 2);
	cr_assert_not_null(nodes_find(&l, "/b"));
	cr_assert_eq(gitstore_close(gs), 0);
	nodes_free(&l);
	char *h = history_seqs(&fx);
	cr_assert_str_eq(h, "0,1,2,");
	free(h);
	git_fsck_clean(&fx, NULL);
}

Test(recovery, one_daemon_per_store_and_stale_locks_cleared)
{
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, NULL,
					 NULL);
	struct gitstore_options o;
	struct gitstore *second;
	char err[256];
	gitstore_options_init(&o);
	o.boot_id_path = fx.bootfile;
	cr_assert_eq(gitstore_open(&second, fx.store, &o, err, sizeof(err)),
		     -EBUSY);
	cr_assert_null(second);
	commit_write(gs, 0, "/a", "1");
	cr_assert_eq(gitstore_close(gs), 0);
	/* a daemon killed while updating the ref leaves its lock file */
	char lock[400];
	snprintf(lock, sizeof(lock), "%s/refs/heads/main.lock", fx.store);
	FILE *f = fopen(lock, "w");
	cr_assert_not_null(f);
	fclose(f);
	gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, NULL, NULL);
	commit_write(gs, 0, "/b", "2");
	cr_assert_eq(gitstore_sync(gs), 0);
	cr_assert_eq(gitstore_close(gs), 0);
	char *h = history_seqs(&fx);
	cr_assert_str_eq(h, "0,1,2,");
	free(h);
}

Test(recovery, corrupt_repository_refuses_to_start)
{
	struct gitstore *gs = open_store(&fx, 20, GITSTORE_FSYNC_NEVER, NULL,
					 NULL);
	commit_write(gs, 0, "/a", "precious");
	cr_assert_eq(gitstore_close(gs), 0);
	/* flip every byte of every pack's objects */
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/objects/pack", fx.store);
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	struct dirent *de;
	int packs = 0;
	while ((de = readdir(d))) {
		if (!strstr(de->d_name, ".pack"))
			continue;
		char path[700];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		FILE *f = fopen(path, "r+b");
		cr_assert_not_null(f);
		static unsigned char buf[1 << 20];
		size_t n = fread(buf, 1, sizeof(buf), f);
		cr_assert_gt(n, 32);
		for (size_t i = 12; i < n - 20; i++)
			buf[i] ^= 0xff;
		rewind(f);
		cr_assert_eq(fwrite(buf, 1, n, f), n);
		fclose(f);
		packs++;
	}
	closedir(d);
	cr_assert_gt(packs, 0);
	struct gitstore_options o;
	char err[256];
	gitstore_options_init(&o);
	o.boot_id_path = fx.bootfile;
	cr_assert_eq(gitstore_open(&gs, fx.store, &o, err, sizeof(err)), 0);
	uint64_t seq;
	struct node_list l = { 0 };
	int e = gitstore_recover_nodes(gs, NULL, &l, &seq);
	cr_assert_lt(e, 0, "recovered from a corrupt repository");
	cr_assert_neq(gitstore_last_error(gs)[0], '\0');
	gitstore_close(gs);
}
