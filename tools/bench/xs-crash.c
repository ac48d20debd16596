/*
 * xs-crash - kill -9 crash test of our daemon with a Git store.
 *
 * Each round: N clients write at full speed (plain WRITEs, and
 * transactions that set several keys to one marker value); at a random
 * moment the daemon gets SIGKILL; it is restarted on the same store, and:
 *  - every acknowledged write is present with its last acknowledged value
 *    (a client owns its keys, so "last" is well defined); the one request
 *    in flight at the kill may or may not be there, but a transaction is
 *    all there or not at all;
 *  - after a clean stop (SIGTERM), the history since the last round lists
 *    each acknowledged operation exactly once, in acknowledgement order
 *    (A acknowledged before B was sent => A's commit comes first), nothing
 *    that was never applied, and `git fsck` is clean.
 * With --wide N, the plain WRITEs go round-robin over N keys per client in
 * one directory shared by all, /crash/w/c<client>-<i>, so that it holds
 * clients x N children and is stored fanned out (docs/STORE-FORMAT.md,
 * "Wide directories"); the checks then also read every key and compare
 * the directory's listing with the keys written so far.
 * Exit status 0 when every round passes, 1 on the first failure (the store
 * is kept for inspection), 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "bc.h"
#include "daemon.h"
#include "history.h"

#ifndef XS_BENCH_OURS
#define XS_BENCH_OURS ""
#endif

#define MAX_CLIENTS 64
#define MAX_KEYS 32
#define MAX_WIDE 100000

struct op {
	uint64_t seq;
	uint64_t send_ns, ack_ns; /* ack_ns UINT64_MAX: applied, never acked */
};

struct client {
	int id;
	pthread_t thr;
	const char *sock;
	int nkeys;
	uint64_t seq;            /* last sequence number used */
	uint64_t round_base;     /* first seq of this round */
	uint64_t t_val, w_val;   /* model: seq of the stored value, 0 absent */
	uint64_t *wide_val;      /* --wide: the same per key of /crash/w */
	struct op *acked;        /* this round, in order */
	size_t nacked, cap;
	bool has_pending;        /* sent, unanswered at the kill */
	struct op pending;
	char pending_kind;
	char fail[256];          /* an unexpected reply */
};

static struct {
	int rounds, clients, nkeys, min_ms, max_ms, wide;
	unsigned seed;
	const char *ours, *tmp;
	const char *extra[33];
	int nextra;
	bool verbose, keep;
} cfg = { 20, 4, 4, 300, 1500, 0, 0, XS_BENCH_OURS, "/tmp", { 0 }, 0, false, false };

static void marker(char *buf, size_t len, int cid, uint64_t seq, char kind)
{
	snprintf(buf, len, XCRASH_PREFIX "%d-%" PRIu64 "-%c", cid, seq, kind);
}

static void key_path(char *buf, size_t len, int cid, int k)
{
	if (k < 0)
		snprintf(buf, len, "/crash/c%d/w", cid);
	else
		snprintf(buf, len, "/crash/c%d/t/k%d", cid, k);
}

/* --wide: the key of /crash/w a plain write of seq goes to. Writes take
 * the odd seqs, so seq / 2 counts them: every key gets its turn. */
static int wide_key(uint64_t seq)
{
	return (int)(seq / 2 % (uint64_t)cfg.wide);
}

static void wide_path(char *buf, size_t len, int cid, int k)
{
	snprintf(buf, len, "/crash/w/c%d-%d", cid, k);
}

/* The key a plain write of seq sets. */
static void write_path(char *buf, size_t len, int cid, uint64_t seq)
{
	if (cfg.wide)
		wide_path(buf, len, cid, wide_key(seq));
	else
		key_path(buf, len, cid, -1);
}

static int record_ack(struct client *cl, uint64_t send_ns)
{
	if (cl->nacked == cl->cap) {
		size_t nc = cl->cap ? cl->cap * 2 : 4096;
		struct op *p = realloc(cl->acked, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		cl->acked = p;
		cl->cap = nc;
	}
	cl->acked[cl->nacked++] = (struct op){ cl->seq, send_ns, bc_now_ns() };
	cl->has_pending = false;
	return 0;
}

/* A transaction: start, then all writes and the commit in one send. */
static int do_txn(struct client *cl, struct bc_conn *c)
{
	char val[64], payload[256], batch[MAX_KEYS + 1][XSW_HDR_SIZE + 256];
	size_t bl = 0;
	struct bc_reply r;
	uint64_t t0;
	uint32_t tx;
	int rc = bc_txn_start(c, &tx);
	char *out = (char *)batch;

	if (rc < 0)
		return rc;
	marker(val, sizeof(val), cl->id, cl->seq, 't');
	for (int k = 0; k < cl->nkeys; k++) {
		size_t pl;
		key_path(payload, 128, cl->id, k);
		pl = strlen(payload) + 1;
		memcpy(payload + pl, val, strlen(val));
		pl += strlen(val);
		bl += bc_encode(out + bl, XSW_WRITE, c->next_req++, tx, payload,
				(uint32_t)pl);
	}
	bl += bc_encode(out + bl, XSW_TRANSACTION_END, c->next_req++, tx, "T", 2);
	t0 = bc_now_ns();
	cl->pending = (struct op){ cl->seq, t0, UINT64_MAX };
	cl->pending_kind = 't';
	cl->has_pending = true;
	rc = bc_send_all(c->fd, out, bl);
	for (int k = 0; rc == 0 && k <= cl->nkeys; k++) {
		rc = bc_recv(c, &r);
		if (rc < 0)
			return rc;
		if (r.hdr.type == XSW_ERROR) {
			/* a commit refused with EAGAIN was not applied */
			if (k == cl->nkeys && !strcmp(r.body, "EAGAIN")) {
				cl->has_pending = false;
				return 0;
			}
			snprintf(cl->fail, sizeof(cl->fail), "%.64s in transaction",
				 r.body);
			return -EPROTO;
		}
	}
	if (rc < 0)
		return rc;
	rc = record_ack(cl, t0);
	cl->t_val = cl->seq;
	return rc;
}

static int do_write(struct client *cl, struct bc_conn *c)
{
	char val[64], path[128];
	uint64_t t0;
	int rc;

	marker(val, sizeof(val), cl->id, cl->seq, 'w');
	write_path(path, sizeof(path), cl->id, cl->seq);
	t0 = bc_now_ns();
	cl->pending = (struct op){ cl->seq, t0, UINT64_MAX };
	cl->pending_kind = 'w';
	cl->has_pending = true;
	rc = bc_write(c, 0, path, val, (uint32_t)strlen(val));
	if (rc < 0)
		return rc;
	rc = record_ack(cl, t0);
	if (cfg.wide)
		cl->wide_val[wide_key(cl->seq)] = cl->seq;
	else
		cl->w_val = cl->seq;
	return rc;
}

static void *client_main(void *arg)
{
	struct client *cl = arg;
	struct timeval tv = { 10, 0 };
	struct bc_conn c;
	int rc = bc_connect(&c, cl->sock);

	if (rc < 0) {
		snprintf(cl->fail, sizeof(cl->fail), "connect: %s", strerror(-rc));
		return NULL;
	}
	/* a daemon that hangs must fail the test, not block it */
	setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		cl->seq++;
		rc = cl->seq % 2 ? do_write(cl, &c) : do_txn(cl, &c);
		if (rc == -EPIPE || rc == -ECONNRESET)
			break; /* the kill */
		if (rc < 0) {
			if (!cl->fail[0])
				snprintf(cl->fail, sizeof(cl->fail),
					 "s%" PRIu64 ": %s", cl->seq,
					 rc == -EAGAIN ? "no reply within 10 s"
						       : strerror(-rc));
			break;
		}
	}
	bc_close(&c);
	return NULL;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xs-crash: FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* Reads a key: its marker seq into *seq (0 when absent). */
static int read_seq(struct bc_conn *c, const char *path, int cid, char kind,
		    uint64_t *seq)
{
	struct bc_reply r;
	struct hist_op op;
	int rc;

	rc = bc_read(c, 0, path, &r);
	if (rc == -ENOENT) {
		*seq = 0;
		return 0;
	}
	if (rc < 0)
		return fail("READ %s: %s", path, strerror(-rc));
	if (sscanf(r.body, XCRASH_PREFIX "%d-%" SCNu64 "-%c", &op.cid,
		   &op.seq, &op.kind) != 3 || op.cid != cid || op.kind != kind)
		return fail("%s holds '%s'", path, r.body);
	*seq = op.seq;
	return 0;
}

/*
 * --wide: reads the client's keys of /crash/w against the model, taking
 * the pending write as check_tree() does; present[k]: key k exists.
 */
static int check_wide_keys(struct bc_conn *c, struct client *cl, bool pend,
			   bool *applied, bool *present)
{
	int pk = pend && cl->pending_kind == 'w' ? wide_key(cl->pending.seq) : -1;
	char path[128];

	for (int k = 0; k < cfg.wide; k++) {
		uint64_t v;
		int rc;

		wide_path(path, sizeof(path), cl->id, k);
		rc = read_seq(c, path, cl->id, 'w', &v);
		if (rc < 0)
			return rc;
		if (k == pk && v == cl->pending.seq) {
			*applied = true;
			cl->wide_val[k] = v;
		}
		if (v != cl->wide_val[k])
			return fail("client %d: %s holds s%" PRIu64 ", last "
				    "acknowledged s%" PRIu64, cl->id, path, v,
				    cl->wide_val[k]);
		present[k] = v != 0;
	}
	return 0;
}

/* --wide: the listing of /crash/w holds exactly the keys that exist. */
static int check_wide_dir(struct bc_conn *c, const bool *present)
{
	size_t n = (size_t)cfg.clients * (size_t)cfg.wide, want = 0, got = 0;
	size_t len = 0, off;
	bool *seen = calloc(n, sizeof(*seen));
	char *names = NULL;
	int rc = seen ? bc_directory(c, 0, "/crash/w", &names, &len) : -ENOMEM;

	for (size_t i = 0; i < n; i++)
		want += present[i];
	if (rc == -ENOENT && want == 0) {
		rc = 0; /* nothing written yet: no directory */
		len = 0;
	} else if (rc < 0)
		rc = fail("DIRECTORY /crash/w: %s", strerror(-rc));
	for (off = 0; rc == 0 && off < len; off += strlen(names + off) + 1) {
		const char *s = names + off;
		int cid, k, used = 0;
		size_t at;

		if (sscanf(s, "c%d-%d%n", &cid, &k, &used) != 2 || s[used] ||
		    cid < 0 || cid >= cfg.clients || k < 0 || k >= cfg.wide) {
			rc = fail("DIRECTORY /crash/w lists '%s'", s);
			break;
		}
		at = (size_t)cid * (size_t)cfg.wide + (size_t)k;
		if (!present[at])
			rc = fail("DIRECTORY /crash/w lists %s, never acknowledged "
				  "nor applied", s);
		else if (seen[at])
			rc = fail("DIRECTORY /crash/w lists %s twice", s);
		seen[at] = true;
		got++;
	}
	if (rc == 0 && got != want)
		rc = fail("DIRECTORY /crash/w lists %zu keys, %zu exist", got,
			  want);
	free(names);
	free(seen);
	return rc;
}

/*
 * Checks the tree against the model. With crashed set, the pending
 * operation may be there: then the model takes it (and it must show in the
 * history); otherwise it must not be.
 */
static int check_tree(const char *sock, struct client *cls, bool crashed,
		      bool *applied)
{
	struct bc_conn c;
	bool *present = NULL;
	int rc = bc_connect(&c, sock);

	if (rc < 0)
		return fail("connect after restart: %s", strerror(-rc));
	if (cfg.wide && !(present = calloc((size_t)cfg.clients * (size_t)cfg.wide,
					   sizeof(*present))))
		rc = fail("out of memory");
	for (int i = 0; i < cfg.clients && rc == 0; i++) {
		struct client *cl = &cls[i];
		bool pend = crashed && cl->has_pending;
		uint64_t t[MAX_KEYS], w;
		char path[128];

		applied[i] = false;
		for (int k = 0; k < cl->nkeys && rc == 0; k++) {
			key_path(path, sizeof(path), cl->id, k);
			rc = read_seq(&c, path, cl->id, 't', &t[k]);
		}
		key_path(path, sizeof(path), cl->id, -1);
		if (rc == 0)
			rc = read_seq(&c, path, cl->id, 'w', &w);
		if (rc == 0 && cfg.wide)
			rc = check_wide_keys(&c, cl, pend, &applied[i],
					     present + (size_t)i * cfg.wide);
		if (rc < 0)
			break;
		for (int k = 1; k < cl->nkeys; k++)
			if (t[k] != t[0]) {
				rc = fail("client %d: transaction half-done: k0 = s%"
					  PRIu64 ", k%d = s%" PRIu64, cl->id,
					  t[0], k, t[k]);
				break;
			}
		if (rc < 0)
			break;
		if (pend && cl->pending_kind == 't' && t[0] == cl->pending.seq) {
			applied[i] = true;
			cl->t_val = t[0];
		} else if (pend && cl->pending_kind == 'w' && w == cl->pending.seq) {
			applied[i] = true;
			cl->w_val = w;
		}
		if (t[0] != cl->t_val)
			rc = fail("client %d: transaction keys hold s%" PRIu64
				  ", last acknowledged s%" PRIu64, cl->id, t[0],
				  cl->t_val);
		else if (w != cl->w_val)
			rc = fail("client %d: write key holds s%" PRIu64
				  ", last acknowledged s%" PRIu64, cl->id, w,
				  cl->w_val);
	}
	if (rc == 0 && cfg.wide)
		rc = check_wide_dir(&c, present);
	free(present);
	bc_close(&c);
	return rc;
}

/* The op of (cid, seq) from this round, or NULL. */
static const struct op *find_op(struct client *cl, uint64_t seq, bool applied,
				char *kind)
{
	size_t lo = 0, hi = cl->nacked;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (cl->acked[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < cl->nacked && cl->acked[lo].seq == seq) {
		*kind = seq % 2 ? 'w' : 't';
		return &cl->acked[lo];
	}
	if (applied && cl->pending.seq == seq) {
		*kind = cl->pending_kind;
		return &cl->pending;
	}
	return NULL;
}

static int check_history(const char *store, char prev[41], struct client *cls,
			 const bool *applied, size_t *ncommits)
{
	struct hist_op *ops;
	size_t n, plain, want = 0;
	const struct op **at;
	char head[41], err[512] = "";
	uint64_t min_ack = UINT64_MAX;
	size_t *seen;
	int rc;

	if (history_head(store, head) < 0)
		return fail("no commit in %s", store);
	if (prev[0] && history_is_ancestor(store, prev, head) != 1)
		return fail("history rewritten: %s is no longer in %s", prev,
			    head);
	rc = history_read(store, prev[0] ? prev : NULL, &ops, &n, ncommits,
			  &plain, head, err, sizeof(err));
	if (rc < 0) {
		free(ops);
		return fail("%s", err);
	}
	at = calloc(n + 1, sizeof(*at));
	seen = calloc((size_t)cfg.clients, sizeof(*seen));
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct hist_op *h = &ops[i];
		struct client *cl;
		char kind;

		if (h->cid < 0 || h->cid >= cfg.clients) {
			rc = fail("history names unknown client %d", h->cid);
			break;
		}
		cl = &cls[h->cid];
		at[i] = find_op(cl, h->seq, applied[h->cid], &kind);
		if (!at[i] || h->seq < cl->round_base)
			rc = fail("history holds c%d s%" PRIu64
				  " which was never acknowledged or applied "
				  "in this round (a replay?)", h->cid, h->seq);
		else if (kind != h->kind ||
			 h->nlines != (kind == 't' ? cl->nkeys : 1))
			rc = fail("commit of c%d s%" PRIu64 " sets %d nodes, "
				  "expected %d", h->cid, h->seq, h->nlines,
				  kind == 't' ? cl->nkeys : 1);
		else
			seen[h->cid]++;
	}
	for (int i = 0; i < cfg.clients && rc == 0; i++) {
		size_t w = cls[i].nacked + (applied[i] ? 1 : 0);
		want += w;
		if (seen[i] != w)
			rc = fail("client %d: %zu acknowledged/applied operations, "
				  "%zu in the history (lost or duplicated)", i, w,
				  seen[i]);
	}
	/* order: walking back, nothing later may have been acked before an
	 * earlier one was sent */
	for (size_t i = n; i-- > 0 && rc == 0;) {
		if (min_ack < at[i]->send_ns)
			rc = fail("history order: c%d s%" PRIu64 " is committed "
				  "after an operation acknowledged before it was "
				  "sent", ops[i].cid, ops[i].seq);
		if (at[i]->ack_ns < min_ack)
			min_ack = at[i]->ack_ns;
	}
	if (rc == 0 && history_fsck(store, err, sizeof(err)) < 0)
		rc = fail("%s", err);
	if (rc == 0) {
		memcpy(prev, head, 41);
		if (cfg.verbose)
			printf("  history: %zu commits (%zu without a marker), "
			       "%zu operations checked\n", *ncommits, plain, want);
	}
	free(seen);
	free(at);
	free(ops);
	return rc;
}

static int start_ours(struct bench_daemon *d, const char *dir,
		      const char *store, double *secs)
{
	struct bench_daemon_opts o = { .ours = cfg.ours, .store = store,
				       .extra = cfg.extra };
	double t0 = bc_now();
	int rc = bench_daemon_start(d, BENCH_OURS, dir, &o);

	if (rc == 0)
		rc = bench_daemon_wait_ready(d, 60);
	if (rc < 0) {
		bench_daemon_kill9(d);
		return fail("daemon did not come up: %s", strerror(-rc));
	}
	if (secs)
		*secs = bc_now() - t0;
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int run_round(int round, struct bench_daemon *d, const char *dir,
		     const char *store, struct client *cls, char prev[41])
{
	bool applied[MAX_CLIENTS] = { false };
	long load_ms = cfg.min_ms + (cfg.max_ms > cfg.min_ms ?
				     rand() % (cfg.max_ms - cfg.min_ms + 1) : 0);
	size_t acked = 0, pend = 0, napplied = 0, commits = 0;
	double restart;
	int rc;

	for (int i = 0; i < cfg.clients; i++) {
		struct client *cl = &cls[i];
		cl->sock = d->sock;
		cl->round_base = cl->seq + 1;
		cl->nacked = 0;
		cl->has_pending = false;
		if (pthread_create(&cl->thr, NULL, client_main, cl) != 0)
			return fail("pthread_create");
	}
	sleep_ms(load_ms);
	bench_daemon_kill9(d);
	for (int i = 0; i < cfg.clients; i++)
		pthread_join(cls[i].thr, NULL);
	for (int i = 0; i < cfg.clients; i++) {
		if (cls[i].fail[0])
			return fail("client %d: %s", i, cls[i].fail);
		acked += cls[i].nacked;
		pend += cls[i].has_pending;
	}
	if (acked == 0)
		return fail("round %d: no operation acknowledged in %ld ms",
			    round, load_ms);

	if (start_ours(d, dir, store, &restart) < 0)
		return -1;
	rc = check_tree(d->sock, cls, true, applied);
	if (rc < 0)
		return rc;
	for (int i = 0; i < cfg.clients; i++)
		napplied += applied[i];
	if (bench_daemon_stop(d, 60) != 0)
		return fail("daemon did not exit cleanly on SIGTERM");
	rc = check_history(store, prev, cls, applied, &commits);
	if (rc < 0)
		return rc;
	/* the clean restart must give back exactly the same tree */
	if (start_ours(d, dir, store, NULL) < 0)
		return -1;
	rc = check_tree(d->sock, cls, false, applied);
	if (rc < 0)
		return rc;
	printf("round %d: %ld ms of load, %zu acknowledged, %zu in flight "
	       "(%zu applied), restart %.3f s, %zu new commits: ok\n", round,
	       load_ms, acked, pend, napplied, restart, commits);
	fflush(stdout);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: xs-crash [options]\n"
"  -r, --rounds N      kill -9 rounds (20)\n"
"  -c, --clients N     writing clients (4)\n"
"  -k, --keys N        keys per transaction (4)\n"
"      --min-ms MS     load before the kill, at least (300)\n"
"      --max-ms MS     and at most (1500)\n"
"      --seed N        random seed (time)\n"
"      --daemon PATH   our xenstored (%s)\n"
"      --daemon-arg A  one more daemon argument (repeatable), e.g. --fsync\n"
"      --tmp DIR       scratch folder parent (/tmp)\n"
"      --keep          keep the store even when every round passes\n"
"      --wide N        plain writes over N keys per client of one shared\n"
"                      directory /crash/w (0: one key per client)\n"
"  -v, --verbose\n", XS_BENCH_OURS);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "rounds", 1, 0, 'r' }, { "clients", 1, 0, 'c' },
		{ "keys", 1, 0, 'k' }, { "min-ms", 1, 0, 1 },
		{ "max-ms", 1, 0, 2 }, { "seed", 1, 0, 3 },
		{ "daemon", 1, 0, 4 }, { "daemon-arg", 1, 0, 5 },
		{ "tmp", 1, 0, 6 }, { "keep", 0, 0, 7 }, { "wide", 1, 0, 8 },
		{ "verbose", 0, 0, 'v' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 },
	};
	static struct client cls[MAX_CLIENTS];
	struct bench_daemon d;
	char work[256], dir[300], store[300], prev[41] = "", cmd[400];
	int opt, rc = 0;

	cfg.seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	while ((opt = getopt_long(argc, argv, "r:c:k:vh", lo, NULL)) != -1) {
		switch (opt) {
		case 'r': cfg.rounds = atoi(optarg); break;
		case 'c': cfg.clients = atoi(optarg); break;
		case 'k': cfg.nkeys = atoi(optarg); break;
		case 1: cfg.min_ms = atoi(optarg); break;
		case 2: cfg.max_ms = atoi(optarg); break;
		case 3: cfg.seed = (unsigned)strtoul(optarg, NULL, 0); break;
		case 4: cfg.ours = optarg; break;
		case 5:
			if (cfg.nextra < 32)
				cfg.extra[cfg.nextra++] = optarg;
			break;
		case 6: cfg.tmp = optarg; break;
		case 7: cfg.keep = true; break;
		case 8: cfg.wide = atoi(optarg); break;
		case 'v': cfg.verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (cfg.rounds < 1 || cfg.clients < 1 || cfg.clients > MAX_CLIENTS ||
	    cfg.nkeys < 1 || cfg.nkeys > MAX_KEYS || cfg.min_ms < 1 ||
	    cfg.max_ms < cfg.min_ms || cfg.wide < 0 || cfg.wide > MAX_WIDE ||
	    !cfg.ours[0]) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	srand(cfg.seed);
	snprintf(work, sizeof(work), "%s/xs-crash-XXXXXX", cfg.tmp);
	if (!mkdtemp(work)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/run", work);
	snprintf(store, sizeof(store), "%s/store", work);
	printf("xs-crash: %d rounds, %d clients, %d keys per transaction, "
	       "seed %u, store %s\n", cfg.rounds, cfg.clients, cfg.nkeys,
	       cfg.seed, store);
	if (cfg.wide)
		printf("xs-crash: plain writes over %d keys per client, %d in "
		       "/crash/w\n", cfg.wide, cfg.wide * cfg.clients);
	for (int i = 0; i < cfg.clients; i++) {
		cls[i].id = i;
		cls[i].nkeys = cfg.nkeys;
		if (cfg.wide && !(cls[i].wide_val = calloc((size_t)cfg.wide,
						sizeof(uint64_t)))) {
			perror("calloc");
			return 1;
		}
	}
	if (start_ours(&d, dir, store, NULL) < 0)
		return 1;
	for (int r = 1; r <= cfg.rounds && rc == 0; r++)
		rc = run_round(r, &d, dir, store, cls, prev);
	if (rc < 0) {
		bench_daemon_log_tail(&d);
		bench_daemon_kill9(&d);
		fprintf(stderr, "xs-crash: store kept in %s (seed %u)\n", store,
			cfg.seed);
		return 1;
	}
	if (bench_daemon_stop(&d, 60) != 0)
		fprintf(stderr, "xs-crash: daemon did not exit cleanly at the end\n");
	printf("xs-crash: all %d rounds passed\n", cfg.rounds);
	for (int i = 0; i < cfg.clients; i++) {
		free(cls[i].acked);
		free(cls[i].wide_val);
	}
	if (!cfg.keep) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", work);
	}
	return 0;
}
