/* gitstore.c - the engine's API on the loop thread: journal side. */
#include "gitstore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

uint64_t gs_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t gs_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int gs_fault_take(struct gitstore *gs, enum gitstore_fault point)
{
	if (!gs->fault_count[point])
		return 0;
	if (gs->fault_skip[point]) {
		gs->fault_skip[point]--;
		return 0;
	}
	gs->fault_count[point]--;
	gs->faults_taken++;
	return gs->fault_err[point];
}

void gitstore_options_init(struct gitstore_options *o)
{
	memset(o, 0, sizeof(*o));
	o->fsync = GITSTORE_FSYNC_NEVER;
	o->fsync_interval_ms = 1000;
	o->lag_max = GITSTORE_LAG_MAX_DEFAULT;
	o->pack_interval_ms = 1000;
}

static int read_boot_id(const char *path, char *out, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, out, len - 1);
	int e = n < 0 ? -errno : 0;
	close(fd);
	if (e)
		return e;
	out[n] = '\0';
	out[strcspn(out, "\r\n \t")] = '\0';
	/* it names segments' owners and tags: keep it to safe characters */
	if (!out[0] || strspn(out, "0123456789abcdefABCDEF-") != strlen(out))
		return -EINVAL;
	return 0;
}

/*
 * Holding the store lock, no other writer exists: lock and temporary
 * files left by a killed daemon are stale and would block Git updates.
 */
static void remove_stale(struct gitstore *gs)
{
	static const char *const locks[] = { "refs/heads/main.lock",
					     "packed-refs.lock", "HEAD.lock" };
	char path[4096];
	for (size_t i = 0; i < sizeof(locks) / sizeof(locks[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", gs->dir, locks[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/refs/tags/boot/%s.lock", gs->dir,
		 gs->boot);
	unlink(path);
	snprintf(path, sizeof(path), "%s/objects/pack", gs->dir);
	DIR *d = opendir(path);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "tmp_", 4))
			continue;
		char p2[4400];
		snprintf(p2, sizeof(p2), "%s/%s", path, de->d_name);
		unlink(p2);
	}
	if (d)
		closedir(d);
}

static int take_lock(struct gitstore *gs)
{
	char path[4096];
	if (mkdir(gs->dir, 0755) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/xenstored.lock", gs->dir);
	gs->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (gs->lock_fd < 0)
		return -errno;
	if (flock(gs->lock_fd, LOCK_EX | LOCK_NB))
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	return 0;
}

int gitstore_open(struct gitstore **out, const char *dir,
		  const struct gitstore_options *opts, char *errbuf,
		  size_t errlen)
{
	struct gitstore *gs = calloc(1, sizeof(*gs));
	int e;
	*out = NULL;
	if (!gs)
		return -ENOMEM;
	if (opts)
		gs->opts = *opts;
	else
		gitstore_options_init(&gs->opts);
	if (!gs->opts.lag_max)
		gs->opts.lag_max = GITSTORE_LAG_MAX_DEFAULT;
	if (!gs->opts.pack_interval_ms)
		gs->opts.pack_interval_ms = 1000;
	gs->lock_fd = -1;
	pthread_mutex_init(&gs->lock, NULL);
	pthread_cond_init(&gs->wake_writer, NULL);
	pthread_cond_init(&gs->wake_loop, NULL);
	if (!(gs->dir = strdup(dir))) {
		e = -ENOMEM;
		goto fail;
	}
	const char *bp = gs->opts.boot_id_path ? gs->opts.boot_id_path
					       : BOOT_ID_PATH;
	if ((e = read_boot_id(bp, gs->boot, sizeof(gs->boot)))) {
		snprintf(gs->err, sizeof(gs->err), "boot id %s: %s", bp,
			 strerror(-e));
		goto fail;
	}
	gs->opts.boot_id_path = NULL; /* not kept: the caller owns it */
	if ((e = take_lock(gs))) {
		snprintf(gs->err, sizeof(gs->err), "%s: %s", dir,
			 e == -EBUSY ? "in use by another daemon"
				     : strerror(-e));
		goto fail;
	}
	remove_stale(gs);
	bool fs = gs->opts.fsync != GITSTORE_FSYNC_NEVER;
	if ((e = gs_repo_open(&gs->repo, dir, fs))) {
		gs_git_error(e, gs->err, sizeof(gs->err));
		goto fail;
	}
	if ((e = gs_journal_init(&gs->journal, dir, gs->boot, fs))) {
		snprintf(gs->err, sizeof(gs->err), "journal in %s: %s", dir,
			 strerror(-e));
		goto fail;
	}
	*out = gs;
	return 0;
fail:
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s", gs->err[0] ? gs->err
							  : strerror(-e));
	gitstore_close(gs);
	return e;
}

int gitstore_append(struct gitstore *gs, const struct store_commit *c,
		    uint64_t *seq)
{
	if (!gs->recovered)
		return -EINVAL;
	uint64_t s = gs->appended_seq + 1;
	int e = gs_record_encode(&gs->batch, c, s, gs_now_ns());
	if (e) {
		snprintf(gs->err, sizeof(gs->err), "record %llu: %s",
			 (unsigned long long)s, strerror(-e));
		return e;
	}
	gs->appended_seq = s;
	gs->batch_last_seq = s;
	if (seq)
		*seq = s;
	return 0;
}

int gitstore_put_state(struct gitstore *gs, uint32_t key, const void *data,
		       size_t len)
{
	if (!gs->recovered)
		return -EINVAL;
	size_t mark = gs->batch.len;
	int e = gs_state_encode(&gs->batch, key, data, len);
	if (!e && (e = gs_state_set(&gs->state, key, data, len)))
		gs->batch.len = mark;
	if (e)
		snprintf(gs->err, sizeof(gs->err), "state of %u: %s", key,
			 strerror(-e));
	return e;
}

int gitstore_state_foreach(struct gitstore *gs, gitstore_state_fn fn,
			   void *ctx)
{
	return gs_state_foreach(gs->state, fn, ctx);
}

static int do_fsync(struct gitstore *gs, int fault)
{
	int e = fault ? fault : gs_journal_sync(&gs->journal);
	if (!e)
		gs->last_fsync_ns = gs_mono_ns();
	return e;
}

int gitstore_flush(struct gitstore *gs)
{
	int e = 0;
	if (!gs->batch.len)
		return 0;
	/*
	 * This write opens a new segment: it carries every key's latest
	 * state, since the old segments go once Git holds their commits.
	 */
	if (gs->state && gs_journal_will_start(&gs->journal, gs->batch.len) &&
	    (e = gs_state_encode_all(gs->state, &gs->batch)))
		return e;
	pthread_mutex_lock(&gs->lock);
	int wfault = gs_fault_take(gs, GITSTORE_FAULT_JOURNAL_WRITE);
	int sfault = gs_fault_take(gs, GITSTORE_FAULT_FSYNC);
	bool commits = gs->batch_last_seq > gs->flushed_seq;
	bool kill_mid = commits &&
			gs_fault_take(gs, GITSTORE_FAULT_KILL_MID_BATCH);
	bool kill_after = commits &&
			  gs_fault_take(gs, GITSTORE_FAULT_KILL_AFTER_BATCH);
	pthread_mutex_unlock(&gs->lock);
	if (kill_mid) {
		/* the first record only: what a kill -9 mid-write() leaves */
		gs_journal_write_cut(&gs->journal, gs->batch.data,
				     gs_frame_check(gs->batch.data,
						    gs->batch.len));
		raise(SIGKILL);
	}
	e = gs_journal_write(&gs->journal, gs->batch.data, gs->batch.len,
			     gs->batch_last_seq, wfault);
	if (!e && kill_after)
		raise(SIGKILL);
	if (!e && gs->opts.fsync == GITSTORE_FSYNC_ALWAYS)
		e = do_fsync(gs, sfault);
	else if (!e && gs->opts.fsync == GITSTORE_FSYNC_INTERVAL &&
		 gs_mono_ns() - gs->last_fsync_ns >=
			 (uint64_t)gs->opts.fsync_interval_ms * 1000000u)
		e = do_fsync(gs, sfault);
	if (e) {
		/*
		 * The batch stays and is written again, whole, by the next
		 * flush. After a failed fdatasync the records may be in the
		 * kernel twice; replay skips seqs already seen.
		 */
		snprintf(gs->err, sizeof(gs->err), "journal write: %s",
			 strerror(-e));
		pthread_mutex_lock(&gs->lock);
		gs->journal_error = e;
		pthread_mutex_unlock(&gs->lock);
		return e;
	}
	struct gs_chunk *c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM; /* durable already; Git catches up on restart */
	c->next = NULL;
	c->buf = gs->batch;
	memcpy(c->boot, gs->boot, sizeof(c->boot));
	memset(&gs->batch, 0, sizeof(gs->batch));
	pthread_mutex_lock(&gs->lock);
	gs->journal_error = 0;
	gs->flushes++;
	gs->journal_bytes += c->buf.len;
	gs->flushed_seq = gs->batch_last_seq;
	if (gs->qtail)
		gs->qtail->next = c;
	else
		gs->qhead = c;
	gs->qtail = c;
	gs->qchunks++;
	uint64_t lag = gs->flushed_seq - gs->git_seq;
	/* a polling writer finds the batch itself, unless work piles up */
	bool wake = !gs->writer_polling ||
		    gs->qchunks >= GS_WRITER_WAKE_CHUNKS ||
		    lag > gs->opts.lag_max / 2;
	bool press = lag > gs->opts.lag_max;
	pthread_mutex_unlock(&gs->lock);
	/* after the unlock: the writer must not wake into a held mutex */
	if (wake)
		pthread_cond_signal(&gs->wake_writer);
	if (!press)
		return 0;
	/* Backpressure: wait for Git while it is too far behind (and alive). */
	pthread_mutex_lock(&gs->lock);
	while (gs->flushed_seq - gs->git_seq > gs->opts.lag_max &&
	       !gs->writer_error && gs->started)
		pthread_cond_wait(&gs->wake_loop, &gs->lock);
	pthread_mutex_unlock(&gs->lock);
	return 0;
}

uint64_t gitstore_lag(struct gitstore *gs)
{
	pthread_mutex_lock(&gs->lock);
	uint64_t lag = gs->flushed_seq - gs->git_seq;
	pthread_mutex_unlock(&gs->lock);
	return lag;
}

int gitstore_sync(struct gitstore *gs)
{
	int e = gitstore_flush(gs);
	if (e)
		return e;
	pthread_mutex_lock(&gs->lock);
	uint64_t failures = gs->writer_failures;
	gs->sync_req = true;
	pthread_cond_signal(&gs->wake_writer);
	while (gs->git_seq < gs->flushed_seq && gs->started &&
	       gs->writer_failures == failures)
		pthread_cond_wait(&gs->wake_loop, &gs->lock);
	gs->sync_req = false;
	if (gs->git_seq < gs->flushed_seq) {
		e = gs->writer_error ? gs->writer_error : -EIO;
		snprintf(gs->err, sizeof(gs->err), "git writer: %s",
			 gs->writer_msg);
	}
	pthread_mutex_unlock(&gs->lock);
	return e;
}

int gitstore_close(struct gitstore *gs)
{
	int e = 0;
	if (!gs)
		return 0;
	if (gs->started) {
		e = gitstore_sync(gs);
		gs_writer_stop(gs);
	}
	while (gs->qhead) {
		struct gs_chunk *c = gs->qhead;
		gs->qhead = c->next;
		gs->qchunks--;
		gs_buf_free(&c->buf);
		free(c);
	}
	if (gs->mirror_ok)
		gs_mirror_fini(&gs->mirror);
	if (gs->journal.dir)
		gs_journal_fini(&gs->journal);
	if (gs->repo.repo)
		gs_repo_close(&gs->repo);
	gs_buf_free(&gs->batch);
	gs_state_free(&gs->state);
	if (gs->lock_fd >= 0)
		close(gs->lock_fd);
	pthread_cond_destroy(&gs->wake_writer);
	pthread_cond_destroy(&gs->wake_loop);
	pthread_mutex_destroy(&gs->lock);
	free(gs->dir);
	free(gs);
	return e;
}

const char *gitstore_last_error(struct gitstore *gs)
{
	return gs->err;
}

void gitstore_get_stats(struct gitstore *gs, struct gitstore_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&gs->lock);
	out->appended_seq = gs->appended_seq;
	out->flushed_seq = gs->flushed_seq;
	out->git_seq = gs->git_seq;
	out->commits = gs->commits;
	out->packs = gs->packs;
	out->journal_bytes = gs->journal_bytes;
	out->flushes = gs->flushes;
	out->writer_handovers = gs->handovers;
	out->journal_error = gs->journal_error;
	out->writer_error = gs->writer_error;
	out->writer_failures = gs->writer_failures;
	out->faults_taken = gs->faults_taken;
	snprintf(out->writer_msg, sizeof(out->writer_msg), "%s", gs->writer_msg);
	pthread_mutex_unlock(&gs->lock);
	snprintf(out->boot_id, sizeof(out->boot_id), "%s", gs->boot);
}

/* The repo's test hook: the writer's pack asks the points inside it. */
static int repo_fault(void *ctx, enum gs_repo_fault where)
{
	struct gitstore *gs = ctx;
	pthread_mutex_lock(&gs->lock);
	int e = gs_fault_take(gs, where == GS_REPO_FAULT_FILE
				      ? GITSTORE_FAULT_PACK_FILE
				      : GITSTORE_FAULT_PACK_ENTRY);
	pthread_mutex_unlock(&gs->lock);
	return e;
}

void gitstore_inject_fault_after(struct gitstore *gs,
				 enum gitstore_fault point, int err,
				 unsigned skip, unsigned count)
{
	if ((unsigned)point >= GITSTORE_FAULT_COUNT)
		return;
	/* installed on first use only: no lock per object otherwise */
	if (point == GITSTORE_FAULT_PACK_FILE ||
	    point == GITSTORE_FAULT_PACK_ENTRY)
		gs_repo_set_fault(&gs->repo, repo_fault, gs);
	pthread_mutex_lock(&gs->lock);
	gs->fault_err[point] = err;
	gs->fault_count[point] = count;
	gs->fault_skip[point] = skip;
	pthread_mutex_unlock(&gs->lock);
}

void gitstore_inject_fault(struct gitstore *gs, enum gitstore_fault point,
			   int err, unsigned count)
{
	gitstore_inject_fault_after(gs, point, err, 0, count);
}
