/*
 * xs-bench - the same workloads against our daemon and the reference
 * daemons in one run; prints ops/s per daemon and the ratios.
 *
 * Every daemon is started and stopped here (by pid), ours with a fresh
 * temporary --store, persisting every write. See docs/PERFORMANCE.md.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <xenstore.h>

#include "bc.h"
#include "daemon.h"
#include "evict.h"
#include "load.h"
#include "single.h"

/* the name our daemon gives its Git writer thread (store/git/writer.c) */
#define WRITER_THREAD "xsd-writer"

#ifndef XS_BENCH_OURS
#define XS_BENCH_OURS ""
#endif

enum row {
	R_SINGLE, R_SALT, R_SALT_CPU, R_SALT_CS, R_P50, R_P100, R_L50, R_L100, R_LS50, R_LS100,
	R_LB50, R_LB100, R_LBS50, R_LBS100,
	R_WC100, R_WCL100, R_RSS0, R_RSS, R_RSS_IDLE, R_REC_CLEAN, R_REC_KILL, R_COUNT
};

static const char *const row_name[R_COUNT] = {
	"single client, libxenstore (ops/s)",
	"single, interleaved (median ops/s)",
	"  daemon CPU per op (us)",
	"  daemon context switches per op",
	"4x16 pipelined, 50% writes (ops/s)",
	"4x16 pipelined, 100% writes (ops/s)",
	"large tree, 50% writes (ops/s)",
	"large tree, 100% writes (ops/s)",
	"large/small, 50% writes",
	"large/small, 100% writes",
	"large tree, /bench keys, 50% (ops/s)",
	"large tree, /bench keys, 100% (ops/s)",
	"  /bench keys large/small, 50%",
	"  /bench keys large/small, 100%",
	"writer CPU per write, 100% (us)",
	"writer CPU per write, large 100% (us)",
	"RSS at start (MiB)",
	"RSS holding the big tree (MiB)",
	"RSS, the same after --rss-idle (MiB)",
	"recovery after SIGTERM (s)",
	"recovery after kill -9 (s)",
};

struct cfg {
	double duration;
	bool daemon_on[BENCH_KINDS];
	bool single, single_alt, pipe50, pipe100, large, rss, recovery;
	int conns, depth, nkeys, domains, per_domain, rss_nodes;
	long commits;
	const char *ours, *peer_dir, *tmp;
	const char *rec_store; /* kept recovery store, reused when it exists */
	bool cold;             /* evict the store from the page cache first */
	const char *extra[32];
	int nextra;
	bool keep;
	bool rss_map; /* print where the RSS is after the fill */
	double rss_idle; /* s: RSS read again after that long idle */
};

static double result[BENCH_KINDS][R_COUNT];
static bool have[BENCH_KINDS][R_COUNT];
static char workdir[256];

static void set(enum bench_kind k, enum row r, double v)
{
	result[k][r] = v;
	have[k][r] = true;
}

static double run_pipe(const struct cfg *c, const char *sock, int wpct,
		       char **keys, int n, uint64_t *writes)
{
	struct load_spec s = {
		.sock = sock, .conns = c->conns, .depth = c->depth,
		.write_pct = wpct, .keys = keys, .nkeys = n,
		.seconds = c->duration, .seed = 42,
	};
	struct load_result r;
	struct rusage u0, u1;
	double cpu;
	int rc;

	getrusage(RUSAGE_SELF, &u0);
	rc = load_run(&s, &r);
	getrusage(RUSAGE_SELF, &u1);
	if (rc < 0) {
		fprintf(stderr, "load: %s\n", strerror(-rc));
		return -1;
	}
	/* the client shares the 2 cores: show what it took from the daemon */
	cpu = (double)(u1.ru_utime.tv_sec - u0.ru_utime.tv_sec +
		       u1.ru_stime.tv_sec - u0.ru_stime.tv_sec) +
	      (double)(u1.ru_utime.tv_usec - u0.ru_utime.tv_usec +
		       u1.ru_stime.tv_usec - u0.ru_stime.tv_usec) / 1e6;
	fprintf(stderr, "           %.0f ops/s, client used %.0f%% of a core\n",
		(double)r.ops / r.secs, 100 * cpu / r.secs);
	if (r.errors)
		fprintf(stderr, "load: %llu error replies\n",
			(unsigned long long)r.errors);
	*writes = r.writes;
	return (double)r.ops / r.secs;
}

static const struct bench_daemon_opts *dopts(const struct cfg *c, const char *store)
{
	static struct bench_daemon_opts o;
	static const char *extra[33];

	memcpy(extra, c->extra, sizeof(c->extra));
	extra[c->nextra] = NULL;
	o = (struct bench_daemon_opts){ .ours = c->ours, .peer_dir = c->peer_dir,
					.store = store, .extra = extra };
	return &o;
}

static int start(const struct cfg *c, struct bench_daemon *d,
		 enum bench_kind k, const char *tag, const char *store)
{
	char dir[300];
	int rc;

	snprintf(dir, sizeof(dir), "%s/%s-%s", workdir, bench_kind_name(k), tag);
	rc = bench_daemon_start(d, k, dir, dopts(c, store));
	if (rc == 0)
		rc = bench_daemon_wait_ready(d, 60);
	if (rc < 0) {
		fprintf(stderr, "xs-bench: %s did not come up: %s\n",
			bench_kind_name(k), strerror(-rc));
		bench_daemon_kill9(d);
	}
	return rc;
}

/*
 * Our writer thread's CPU seconds once it has caught up: the Git commits
 * of a burst are built after the replies, so the workload's cost is only
 * all there when the thread has stopped using CPU (unchanged for 1.5 s:
 * a publish waits for the pack interval, 1 s). Negative when unknown.
 */
static double writer_cpu_settled(const struct bench_daemon *d)
{
	double last = bench_daemon_writer_cpu(d, WRITER_THREAD), now;
	int still = 0;

	for (int i = 0; i < 240 && still < 6 && last >= 0; i++) {
		usleep(250000);
		now = bench_daemon_writer_cpu(d, WRITER_THREAD);
		still = now == last ? still + 1 : 0;
		last = now;
	}
	return last;
}

/*
 * One pipelined workload; for ours, also what the writer thread spent
 * per write (CPU time divided by commits: far less sensitive to other
 * load on the machine than ops/s), into row wrow when wrow >= 0.
 */
static double run_pipe_row(const struct cfg *c, const struct bench_daemon *d,
			   int wpct, char **keys, int n, int wrow)
{
	bool ours = d->kind == BENCH_OURS;
	double w0 = ours ? writer_cpu_settled(d) : -1, w1;
	double m0 = ours ? bench_daemon_cpu(d) : -1, m1;
	uint64_t writes = 0;
	double v = run_pipe(c, d->sock, wpct, keys, n, &writes);

	if (!ours || v <= 0 || w0 < 0 || !writes)
		return v;
	w1 = writer_cpu_settled(d);
	m1 = bench_daemon_cpu(d);
	if (w1 < 0 || m1 < 0)
		return v;
	fprintf(stderr, "           writer %.2f s, whole daemon %.2f s of CPU "
		"for %llu writes: writer %.1f us per write\n", w1 - w0,
		m1 - m0, (unsigned long long)writes, 1e6 * (w1 - w0) /
		(double)writes);
	if (wrow >= 0)
		set(BENCH_OURS, (enum row)wrow, 1e6 * (w1 - w0) / (double)writes);
	return v;
}

static void note(const char *what, enum bench_kind k)
{
	fprintf(stderr, "[%6.1f] %-10s %s\n", bc_now(), bench_kind_name(k), what);
}

static void bench_throughput(const struct cfg *c, enum bench_kind k)
{
	struct bench_daemon d;
	char **keys = load_keys_small(c->nkeys);
	double v;

	if (start(c, &d, k, "load", NULL) < 0)
		goto out;
	if (load_create_keys(d.sock, keys, c->nkeys) < 0) {
		fprintf(stderr, "xs-bench: %s: cannot create keys\n",
			bench_kind_name(k));
		goto stop;
	}
	if (c->single) {
		note("single client", k);
		if ((v = single_run(d.sock, c->duration, keys, c->nkeys)) > 0)
			set(k, R_SINGLE, v);
	}
	if (c->pipe50) {
		note("pipelined 50%", k);
		if ((v = run_pipe_row(c, &d, 50, keys, c->nkeys, -1)) > 0)
			set(k, R_P50, v);
	}
	if (c->pipe100) {
		note("pipelined 100%", k);
		if ((v = run_pipe_row(c, &d, 100, keys, c->nkeys,
				       R_WC100)) > 0)
			set(k, R_P100, v);
	}
	if (c->large) {
		char **lk = load_keys_domains(c->nkeys, 1, c->domains,
					       c->per_domain);
		note("pre-fill large tree", k);
		if (load_prefill(d.sock, 1, c->domains, c->per_domain) < 0) {
			fprintf(stderr, "xs-bench: %s: pre-fill failed\n",
				bench_kind_name(k));
		} else {
			note("large tree 50%", k);
			if ((v = run_pipe_row(c, &d, 50, lk, c->nkeys,
					       -1)) > 0)
				set(k, R_L50, v);
			note("large tree 100%", k);
			if ((v = run_pipe_row(c, &d, 100, lk, c->nkeys,
					       R_WCL100)) > 0)
				set(k, R_L100, v);
		}
		load_keys_free(lk, c->nkeys);
		/*
		 * The small workload's own keys (/bench) again, now beside the
		 * 50 000 nodes: what the tree's size costs, apart from what
		 * the deeper paths above cost.
		 */
		note("large tree, /bench keys 50%", k);
		if ((v = run_pipe_row(c, &d, 50, keys, c->nkeys, -1)) > 0)
			set(k, R_LB50, v);
		note("large tree, /bench keys 100%", k);
		if ((v = run_pipe_row(c, &d, 100, keys, c->nkeys, -1)) > 0)
			set(k, R_LB100, v);
		if (have[k][R_LB50] && have[k][R_P50])
			set(k, R_LBS50, result[k][R_LB50] / result[k][R_P50]);
		if (have[k][R_LB100] && have[k][R_P100])
			set(k, R_LBS100, result[k][R_LB100] / result[k][R_P100]);
		if (have[k][R_L50] && have[k][R_P50])
			set(k, R_LS50, result[k][R_L50] / result[k][R_P50]);
		if (have[k][R_L100] && have[k][R_P100])
			set(k, R_LS100, result[k][R_L100] / result[k][R_P100]);
	}
stop:
	bench_daemon_stop(&d, 30);
out:
	load_keys_free(keys, c->nkeys);
}

/*
 * Every daemon up at once, one client each, measured slice by slice in
 * turn (single.h): the ratio of each round is taken on the same machine.
 */
static void bench_single_alt(const struct cfg *c)
{
	struct bench_daemon d[BENCH_KINDS], *dp[BENCH_KINDS];
	struct single_slices sl;
	char **keys = load_keys_small(c->nkeys);
	int n = 0, rounds = (int)(c->duration * 4);
	double v[64];

	rounds = rounds < 4 ? 4 : rounds > 64 ? 64 : rounds;
	for (int k = 0; k < BENCH_KINDS; k++) {
		if (!c->daemon_on[k])
			continue;
		if (start(c, &d[n], k, "alt", NULL) < 0)
			goto stop;
		dp[n] = &d[n];
		n++;
		if (load_create_keys(d[n - 1].sock, keys, c->nkeys) < 0) {
			fprintf(stderr, "xs-bench: %s: cannot create keys\n",
				bench_kind_name(k));
			goto stop;
		}
	}
	note("single client, interleaved", dp[0]->kind);
	if (single_interleaved(dp, n, rounds, 0.25, keys, c->nkeys, &sl) < 0) {
		fprintf(stderr, "xs-bench: interleaved single client failed\n");
		goto stop;
	}
	for (int i = 0; i < n; i++) {
		enum bench_kind k = dp[i]->kind;

		memcpy(v, sl.ops[k], sizeof(double) * (size_t)rounds);
		set(k, R_SALT, single_median(v, rounds));
		set(k, R_SALT_CPU, sl.cpu_us[k]);
		set(k, R_SALT_CS, sl.cswitch[k]);
		if (k == BENCH_OURS)
			continue;
		for (int r = 0; r < rounds; r++)
			v[r] = sl.ops[BENCH_OURS][r] / sl.ops[k][r];
		if (!c->daemon_on[BENCH_OURS])
			continue;
		double med = single_median(v, rounds);
		fprintf(stderr, "           ours/%s per round: median %.2f, "
			"%.2f to %.2f over %d rounds\n", bench_kind_name(k),
			med, v[0], v[rounds - 1], rounds);
	}
stop:
	for (int i = 0; i < n; i++)
		bench_daemon_stop(&d[i], 30);
	load_keys_free(keys, c->nkeys);
}

static void bench_rss(const struct cfg *c, enum bench_kind k)
{
	struct bench_daemon d;
	int doms = (c->rss_nodes + c->per_domain - 1) / c->per_domain;
	long kib;

	if (start(c, &d, k, "rss", NULL) < 0)
		return;
	if ((kib = bench_daemon_rss_kib(&d)) > 0)
		set(k, R_RSS0, (double)kib / 1024);
	note("pre-fill for RSS", k);
	if (load_prefill(d.sock, 1, doms, c->per_domain) == 0 &&
	    (kib = bench_daemon_rss_kib(&d)) > 0)
		set(k, R_RSS, (double)kib / 1024);
	else
		fprintf(stderr, "xs-bench: %s: RSS pre-fill failed\n",
			bench_kind_name(k));
	if (c->rss_map)
		bench_daemon_rss_map(&d, stderr);
	if (c->rss_idle > 0) {
		usleep((useconds_t)(c->rss_idle * 1e6));
		if ((kib = bench_daemon_rss_kib(&d)) > 0)
			set(k, R_RSS_IDLE, (double)kib / 1024);
		if (c->rss_map)
			bench_daemon_rss_map(&d, stderr);
	}
	bench_daemon_stop(&d, 30);
}

/* Time from exec to the socket answering, on an existing store. */
static double timed_restart(const struct cfg *c, struct bench_daemon *d,
			    const char *store)
{
	double t0;

	if (c->cold) {
		uint64_t left = 0;
		int e = evict_tree(store, &left);
		if (e < 0)
			fprintf(stderr, "xs-bench: evicting %s: %d\n", store, e);
		else
			fprintf(stderr, "[%6.1f] ours       store evicted from the "
				"page cache (%llu KiB still resident)\n", bc_now(),
				(unsigned long long)(left >> 10));
	}
	t0 = bc_now();
	if (start(c, d, BENCH_OURS, "rec", store) < 0)
		return -1;
	return bc_now() - t0;
}

static void bench_recovery(const struct cfg *c)
{
	struct bench_daemon d;
	int doms = (c->rss_nodes + c->per_domain - 1) / c->per_domain;
	char store[300], **keys;
	struct load_result r;
	struct load_spec s = { .conns = c->conns, .depth = c->depth,
			       .write_pct = 100, .seed = 7 };
	double t;

	snprintf(store, sizeof(store), "%s/recovery-store", workdir);
	if (c->rec_store) {
		char ref[400];
		snprintf(store, sizeof(store), "%s", c->rec_store);
		snprintf(ref, sizeof(ref), "%s/refs/heads/main", store);
		/* a history of 1M commits takes minutes: build it once */
		if (access(ref, F_OK) == 0) {
			keys = load_keys_domains(c->nkeys, 1, doms,
						 c->per_domain);
			note("reusing the store for recovery", BENCH_OURS);
			goto restart;
		}
	}
	if (start(c, &d, BENCH_OURS, "rec", store) < 0)
		return;
	note("pre-fill for recovery", BENCH_OURS);
	if (load_prefill(d.sock, 1, doms, c->per_domain) < 0) {
		fprintf(stderr, "xs-bench: recovery pre-fill failed\n");
		bench_daemon_stop(&d, 30);
		return;
	}
	keys = load_keys_domains(c->nkeys, 1, doms, c->per_domain);
	s.sock = d.sock;
	s.keys = keys;
	s.nkeys = c->nkeys;
	s.max_ops = c->commits > doms ? (uint64_t)(c->commits - doms) : 0;
	if (s.max_ops) {
		fprintf(stderr, "[%6.1f] ours       %llu more commits\n", bc_now(),
			(unsigned long long)s.max_ops);
		if (load_run(&s, &r) < 0)
			fprintf(stderr, "xs-bench: recovery history load failed\n");
	}
	if (bench_daemon_stop(&d, 120) != 0)
		fprintf(stderr, "xs-bench: ours did not stop cleanly\n");
restart:
	note("restart after SIGTERM", BENCH_OURS);
	if ((t = timed_restart(c, &d, store)) >= 0)
		set(BENCH_OURS, R_REC_CLEAN, t);
	else
		goto out;
	/* writes still in the journal when killed must be replayed */
	s.sock = d.sock;
	s.keys = keys;
	s.nkeys = c->nkeys;
	s.max_ops = 20000;
	if (load_run(&s, &r) < 0)
		fprintf(stderr, "xs-bench: load before kill -9 failed\n");
	bench_daemon_kill9(&d);
	note("restart after kill -9", BENCH_OURS);
	if ((t = timed_restart(c, &d, store)) >= 0)
		set(BENCH_OURS, R_REC_KILL, t);
	else
		goto out;
	bench_daemon_stop(&d, 120);
out:
	load_keys_free(keys, c->nkeys);
}

static void print_results(const struct cfg *c)
{
	printf("\nxs-bench: %.1f s per workload, %d connections x %d in flight, "
	       "%d keys, large tree %d x %d, RSS/recovery tree %d nodes, "
	       "%ld commits of history\n", c->duration, c->conns, c->depth,
	       c->nkeys, c->domains, c->per_domain, c->rss_nodes, c->commits);
	printf("%-38s %12s %12s %12s %8s %8s\n", "workload", "ours",
	       "cxenstored", "oxenstored", "ours/c", "ours/o");
	for (int r = 0; r < R_COUNT; r++) {
		bool any = false;
		for (int k = 0; k < BENCH_KINDS; k++)
			any |= have[k][r];
		if (!any)
			continue;
		printf("%-38s", row_name[r]);
		for (int k = 0; k < BENCH_KINDS; k++) {
			if (!have[k][r])
				printf(" %12s", "-");
			else if (result[k][r] >= 100)
				printf(" %12.0f", result[k][r]);
			else
				printf(" %12.3f", result[k][r]);
		}
		for (int k = BENCH_CXS; k <= BENCH_OXS; k++) {
			if (have[BENCH_OURS][r] && have[k][r] && result[k][r] > 0)
				printf(" %8.2f", result[BENCH_OURS][r] / result[k][r]);
			else
				printf(" %8s", "-");
		}
		printf("\n");
	}
}

static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = list; (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: xs-bench [options]\n"
"  -d, --duration S       seconds per throughput workload (3)\n"
"  -D, --daemons LIST     ours,c,o (all three)\n"
"  -w, --workloads LIST   single,pipe50,pipe100,large,rss,recovery (all),\n"
"                         single-alt (not in all: the daemons side by side,\n"
"                         0.25 s slices in turn, 4 per second of -d)\n"
"      --ours PATH        our xenstored (%s)\n"
"      --ours-arg ARG     one more argument for ours (repeatable), e.g. --fsync\n"
"      --peer-dir DIR     folder with start-peer.sh (/work/shared/peer)\n"
"      --conns N          pipelined connections (4)\n"
"      --depth N          requests in flight per connection (16)\n"
"      --keys N           keys the load spreads over (300)\n"
"      --domains N        large tree: domains (1000)\n"
"      --nodes N          large tree: nodes per domain (50)\n"
"      --rss-nodes N      nodes for RSS and recovery (100000)\n"
"      --commits N        commits of history for recovery (20000; goal: 1000000)\n"
"      --tmp DIR          where scratch folders go (/tmp)\n"
"      --keep             keep the scratch folder\n"
"      --rec-store DIR    recovery store: built once in DIR, then reused\n"
"      --cold             recovery: evict the store's files from the page\n"
"                         cache before each timed start (posix_fadvise)\n"
"      --rss-map          rss: print where each daemon's RSS is after the fill\n"
"      --rss-idle S       rss: read the RSS again after S seconds idle\n",
	XS_BENCH_OURS);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "duration", 1, 0, 'd' }, { "daemons", 1, 0, 'D' },
		{ "workloads", 1, 0, 'w' }, { "ours", 1, 0, 1 },
		{ "ours-arg", 1, 0, 2 }, { "peer-dir", 1, 0, 3 },
		{ "conns", 1, 0, 4 }, { "depth", 1, 0, 5 }, { "keys", 1, 0, 6 },
		{ "domains", 1, 0, 7 }, { "nodes", 1, 0, 8 },
		{ "rss-nodes", 1, 0, 9 }, { "commits", 1, 0, 10 },
		{ "tmp", 1, 0, 11 }, { "keep", 0, 0, 12 }, { "help", 0, 0, 'h' },
		{ "rec-store", 1, 0, 13 }, { "cold", 0, 0, 14 },
		{ "rss-map", 0, 0, 15 }, { "rss-idle", 1, 0, 16 },
		{ 0, 0, 0, 0 },
	};
	struct cfg c = {
		.duration = 3, .conns = 4, .depth = 16, .nkeys = 300,
		.domains = 1000, .per_domain = 50, .rss_nodes = 100000,
		.commits = 20000, .ours = XS_BENCH_OURS,
		.peer_dir = "/work/shared/peer", .tmp = "/tmp",
	};
	const char *daemons = "ours,c,o";
	const char *wl = "single,pipe50,pipe100,large,rss,recovery";
	int opt;

	while ((opt = getopt_long(argc, argv, "d:D:w:h", lo, NULL)) != -1) {
		switch (opt) {
		case 'd': c.duration = atof(optarg); break;
		case 'D': daemons = optarg; break;
		case 'w': wl = optarg; break;
		case 1: c.ours = optarg; break;
		case 2:
			if (c.nextra < 31)
				c.extra[c.nextra++] = optarg;
			break;
		case 3: c.peer_dir = optarg; break;
		case 4: c.conns = atoi(optarg); break;
		case 5: c.depth = atoi(optarg); break;
		case 6: c.nkeys = atoi(optarg); break;
		case 7: c.domains = atoi(optarg); break;
		case 8: c.per_domain = atoi(optarg); break;
		case 9: c.rss_nodes = atoi(optarg); break;
		case 10: c.commits = atol(optarg); break;
		case 11: c.tmp = optarg; break;
		case 12: c.keep = true; break;
		case 13: c.rec_store = optarg; break;
		case 14: c.cold = true; break;
		case 15: c.rss_map = true; break;
		case 16: c.rss_idle = atof(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (c.duration <= 0 || c.conns < 1 || c.conns > 64 || c.depth < 1 ||
	    c.nkeys < 1 || c.domains < 1 || c.per_domain < 1 ||
	    c.per_domain > 500 || c.rss_nodes < 1 || c.nkeys > c.domains * 50) {
		usage(stderr);
		return 2;
	}
	c.daemon_on[BENCH_OURS] = has_word(daemons, "ours");
	c.daemon_on[BENCH_CXS] = has_word(daemons, "c");
	c.daemon_on[BENCH_OXS] = has_word(daemons, "o");
	c.single = has_word(wl, "single");
	c.single_alt = has_word(wl, "single-alt");
	c.pipe50 = has_word(wl, "pipe50");
	c.pipe100 = has_word(wl, "pipe100");
	c.large = has_word(wl, "large");
	c.rss = has_word(wl, "rss");
	c.recovery = has_word(wl, "recovery");
	if (c.large && !c.pipe50 && !c.pipe100)
		fprintf(stderr, "xs-bench: large without pipe50/pipe100: no ratio\n");

	snprintf(workdir, sizeof(workdir), "%s/xs-bench-XXXXXX", c.tmp);
	if (!mkdtemp(workdir)) {
		perror("mkdtemp");
		return 1;
	}
	for (int k = 0; k < BENCH_KINDS; k++) {
		if (!c.daemon_on[k])
			continue;
		if (c.single || c.pipe50 || c.pipe100 || c.large)
			bench_throughput(&c, k);
		if (c.rss)
			bench_rss(&c, k);
	}
	if (c.single_alt)
		bench_single_alt(&c);
	if (c.recovery && c.daemon_on[BENCH_OURS])
		bench_recovery(&c);
	print_results(&c);
	if (!c.keep) {
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", workdir);
	} else {
		printf("scratch kept in %s\n", workdir);
	}
	return 0;
}
