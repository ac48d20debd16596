/*
 * persist.c - the persistence barrier over the Git store (store/git/).
 *
 * Every store commit is appended to the engine's batch as it happens; the
 * loop's barrier calls xsd_persist_flush() once per iteration, which writes
 * the whole batch to the journal with one write(). Replies and watch
 * events of the iteration leave only when that returned 0.
 *
 * Policy on a journal write failure (disk full, EIO): nothing is
 * acknowledged that is not durable, so the replies stay queued and the
 * barrier retries (main.c); the engine keeps the batch and writes it again,
 * whole and in order. The state is reported by xsd_persist_status() for
 * CONTROL check and logged at each failure.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../store/git/gitstore.h"
#include "log.h"
#include "persist.h"

static struct gitstore *gs;
static int append_error; /* a record that could not even be serialised */

static int parse_fsync(const char *s, struct gitstore_options *o)
{
	char *end;
	unsigned long ms;

	if (!s || !strcmp(s, "never")) {
		o->fsync = GITSTORE_FSYNC_NEVER;
		return 0;
	}
	if (!strcmp(s, "always")) {
		o->fsync = GITSTORE_FSYNC_ALWAYS;
		return 0;
	}
	errno = 0;
	ms = strtoul(s, &end, 10);
	if (errno || end == s || *end || ms == 0 || ms > 60000)
		return -EINVAL;
	o->fsync = GITSTORE_FSYNC_INTERVAL;
	o->fsync_interval_ms = (unsigned)ms;
	return 0;
}

static int parse_checkpoint(const char *s, struct gitstore_options *o)
{
	char *end;
	unsigned long mib;

	if (!s)
		return 0;
	if (!strcmp(s, "off")) {
		o->checkpoint_bytes = GITSTORE_CHECKPOINT_OFF;
		return 0;
	}
	errno = 0;
	mib = strtoul(s, &end, 10);
	if (errno || end == s || *end || mib == 0 || mib > (1ul << 20))
		return -EINVAL;
	o->checkpoint_bytes = (uint64_t)mib << 20;
	return 0;
}

/*
 * Test only (tests/guests/torn.sh): XSD_TEST_JOURNAL_KILL=mid|after makes
 * the daemon kill itself at the first journal write holding a commit,
 * after its first record (a write() cut by kill -9) or after all of it.
 */
static void arm_test_kill(void)
{
	const char *v = getenv("XSD_TEST_JOURNAL_KILL");

	if (!v)
		return;
	if (!strcmp(v, "mid"))
		gitstore_inject_fault(gs, GITSTORE_FAULT_KILL_MID_BATCH,
				      -EINTR, 1);
	else if (!strcmp(v, "after"))
		gitstore_inject_fault(gs, GITSTORE_FAULT_KILL_AFTER_BATCH,
				      -EINTR, 1);
	xsd_log("store: test hook: killed at a journal write (%s)", v);
}

int xsd_persist_init(const struct xsd_config *cfg, struct store *st)
{
	struct gitstore_options o;
	char err[256] = "";
	int r;

	if (cfg->no_persist)
		return 0;
	gitstore_options_init(&o);
	if (parse_fsync(cfg->fsync, &o)) {
		fprintf(stderr, "xenstored: --fsync %s: never, always or "
			"milliseconds\n", cfg->fsync);
		return -EINVAL;
	}
	if (parse_checkpoint(cfg->checkpoint, &o)) {
		fprintf(stderr, "xenstored: --checkpoint %s: off or MiB "
			"(1 to 1048576)\n", cfg->checkpoint);
		return -EINVAL;
	}
	o.boot_id_path = cfg->boot_id_file;
	r = gitstore_open(&gs, cfg->store_dir, &o, err, sizeof(err));
	if (r) {
		fprintf(stderr, "xenstored: store %s: %s\n", cfg->store_dir,
			err[0] ? err : strerror(-r));
		return r;
	}
	r = gitstore_recover(gs, st);
	if (r) {
		/* never start on an empty tree over a store we cannot read */
		fprintf(stderr, "xenstored: recovering %s: %s\n",
			cfg->store_dir, gitstore_last_error(gs));
		gitstore_close(gs);
		gs = NULL;
		return r;
	}
	xsd_log("store %s recovered", cfg->store_dir);
	arm_test_kill();
	return 0;
}

void xsd_persist_submit(const struct store_commit *c)
{
	int r;

	if (!gs)
		return;
	r = gitstore_append(gs, c, NULL);
	if (r && !append_error) {
		append_error = r;
		xsd_log("store: cannot journal a commit: %s",
			gitstore_last_error(gs));
	}
}

void xsd_persist_put_state(uint32_t key, const void *data, size_t len)
{
	int r;

	if (!gs)
		return;
	r = gitstore_put_state(gs, key, data, len);
	/* a restart could not resume this domain: hold replies like a commit */
	if (r && !append_error) {
		append_error = r;
		xsd_log("store: cannot journal the state of domain %u: %s",
			key, gitstore_last_error(gs));
	}
}

int xsd_persist_state_foreach(int (*fn)(void *ctx, uint32_t key,
					const void *data, size_t len),
			      void *ctx)
{
	return gs ? gitstore_state_foreach(gs, fn, ctx) : 0;
}

/*
 * Git writer failures never hold a reply (the journal has every change),
 * so nothing else tells an admin: once a second at most, say when the
 * writer starts failing and when it is healthy again.
 */
static void writer_health_log(void)
{
	static time_t checked;
	static uint64_t failures;
	static bool failing;
	struct gitstore_stats s;
	time_t now = time(NULL);

	if (now == checked)
		return;
	checked = now;
	gitstore_get_stats(gs, &s);
	if (s.writer_failures != failures && !failing) {
		xsd_log("store: Git writer failing, retried (the journal holds every change): %s",
			s.writer_msg);
		fprintf(stderr, "xenstored: store: Git writer failing, "
			"retried; the journal holds every change: %s\n",
			s.writer_msg);
		failing = true;
	}
	if (failing && !s.writer_error) { /* failed and retried since */
		xsd_log("store: Git writer healthy again after %llu failures",
			(unsigned long long)s.writer_failures);
		fprintf(stderr, "xenstored: store: Git writer healthy again\n");
		failing = false;
	}
	failures = s.writer_failures;
}

int xsd_persist_flush(void)
{
	int r;

	if (!gs)
		return 0;
	writer_health_log();
	/* a commit the engine could not take can never become durable */
	if (append_error)
		return append_error;
	r = gitstore_flush(gs);
	if (r) {
		/* an admin must hear of it even without -V, but not 10x/s */
		static time_t last;
		time_t now = time(NULL);

		xsd_log("store: journal write failed, replies held: %s",
			gitstore_last_error(gs));
		if (now - last >= 10) {
			fprintf(stderr, "xenstored: store: journal write failed, "
				"replies held until it succeeds: %s\n",
				gitstore_last_error(gs));
			last = now;
		}
	}
	return r;
}

int xsd_persist_status(char *buf, size_t len)
{
	struct gitstore_stats s;

	if (!gs) {
		snprintf(buf, len, "store: in memory only");
		return 0;
	}
	gitstore_get_stats(gs, &s);
	snprintf(buf, len, "store: seq %llu journaled %llu in git %llu%s%s%s%s",
		 (unsigned long long)s.appended_seq,
		 (unsigned long long)s.flushed_seq,
		 (unsigned long long)s.git_seq,
		 s.journal_error ? "; journal error: " : "",
		 s.journal_error ? strerror(-s.journal_error) : "",
		 s.writer_error ? "; git writer error: " : "",
		 s.writer_error ? strerror(-s.writer_error) : "");
	return append_error ? append_error
	       : s.journal_error ? s.journal_error : s.writer_error;
}

int xsd_persist_fault(const char *point, int err, unsigned count)
{
	static const struct {
		const char *name;
		enum gitstore_fault point;
	} points[] = {
		{ "journal", GITSTORE_FAULT_JOURNAL_WRITE },
		{ "fsync", GITSTORE_FAULT_FSYNC },
		{ "pack", GITSTORE_FAULT_PACK_WRITE },
		{ "pack-file", GITSTORE_FAULT_PACK_FILE },
		{ "pack-entry", GITSTORE_FAULT_PACK_ENTRY },
	};

	if (!gs)
		return -ENOENT;
	if (err >= 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		if (!strcmp(point, points[i].name)) {
			gitstore_inject_fault(gs, points[i].point, err, count);
			xsd_log("store: injecting %s failures (%s) x%u", point,
				strerror(-err), count);
			return 0;
		}
	}
	return -EINVAL;
}

void xsd_persist_close(void)
{
	int r;

	if (!gs)
		return;
	r = gitstore_close(gs);
	if (r)
		fprintf(stderr, "xenstored: closing the store: %s\n",
			strerror(-r));
	gs = NULL;
}
