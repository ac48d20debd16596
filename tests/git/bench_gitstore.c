/*
 * bench_gitstore.c - figures for the Git store engine (not a test).
 *
 *   bench-gitstore [DIR]   (default: a new directory under /tmp)
 *
 * Prints: append+flush records/s on the request path; Git commits/s of
 * the writer on a small and on a wide (1000 children) directory; recovery
 * time of a 100k-node store.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/git/gitstore.h"
#include "store/store.h"

static char root[256], bootfile[300];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct gitstore *open_at(const char *name)
{
	char dir[400], err[256];
	struct gitstore_options o;
	struct gitstore *gs;
	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	gitstore_options_init(&o);
	o.boot_id_path = bootfile;
	o.lag_max = 1u << 30; /* measure the writer, not the backpressure */
	if (gitstore_open(&gs, dir, &o, err, sizeof(err))) {
		fprintf(stderr, "open %s: %s\n", dir, err);
		exit(1);
	}
	return gs;
}

static int count(void *ctx, const char *path, const void *value,
		 uint32_t len, const struct xsw_perm *perms, unsigned n)
{
	(void)path, (void)value, (void)len, (void)perms, (void)n;
	++*(uint64_t *)ctx;
	return 0;
}

static void recover(struct gitstore *gs, uint64_t *nodes)
{
	uint64_t n = 0, seq;
	if (gitstore_recover_nodes(gs, count, &n, &seq)) {
		fprintf(stderr, "recover: %s\n", gitstore_last_error(gs));
		exit(1);
	}
	if (nodes)
		*nodes = n;
}

static const struct xsw_perm perms[2] = { { 5, XSW_PERM_NONE },
					  { 0, XSW_PERM_READ } };

static void append(struct gitstore *gs, const char *path, const char *val)
{
	struct store_op op = { STORE_OP_WRITE, path };
	struct store_effect ef = { path, false, val, (uint32_t)strlen(val),
				   perms, 2 };
	struct store_commit c = { .caller = { 5, false, UINT32_MAX, 1 },
				  .nops = 1, .ops = &op, .neffects = 1,
				  .effects = &ef };
	if (gitstore_append(gs, &c, NULL))
		exit(1);
}

/* n writes, a flush every batch; paths from fn. */
static void run(const char *name, unsigned n, unsigned batch,
		void (*path)(unsigned i, char *out))
{
	struct gitstore *gs = open_at(name);
	recover(gs, NULL);
	char p[128], v[32];
	double t0 = now();
	for (unsigned i = 0; i < n; i++) {
		path(i, p);
		snprintf(v, sizeof(v), "value-%u", i);
		append(gs, p, v);
		if ((i + 1) % batch == 0 && gitstore_flush(gs))
			exit(1);
	}
	gitstore_flush(gs);
	double t1 = now();
	if (gitstore_sync(gs)) {
		fprintf(stderr, "sync: %s\n", gitstore_last_error(gs));
		exit(1);
	}
	double t2 = now();
	struct gitstore_stats s;
	gitstore_get_stats(gs, &s);
	printf("%-28s %7u records, flush/%-3u  request path %9.0f rec/s  "
	       "Git %8.0f commits/s  (%" PRIu64 " packs)\n", name, n, batch,
	       n / (t1 - t0), n / (t2 - t0), s.packs);
	gitstore_close(gs);
}

static void small_path(unsigned i, char *out)
{
	sprintf(out, "/local/domain/%u/data/k%u", i % 10, i % 20);
}

static void wide_path(unsigned i, char *out)
{
	sprintf(out, "/wide/c%u", (i * 7919u) % 1000u);
}

static void big_tree(unsigned nodes)
{
	struct gitstore *gs = open_at("big");
	recover(gs, NULL);
	char p[128];
	/* 1000 domains x 100 nodes, 100 nodes per transaction */
	struct store_effect *ef = calloc(100, sizeof(*ef));
	char (*paths)[64] = calloc(100, 64);
	double t0 = now();
	for (unsigned d = 0; d < nodes / 100; d++) {
		for (unsigned k = 0; k < 100; k++) {
			snprintf(paths[k], 64, "/local/domain/%u/device/vif/%u",
				 d, k);
			ef[k] = (struct store_effect){ paths[k], false, "state-4",
						       7, perms, 2 };
		}
		struct store_op op = { STORE_OP_WRITE, paths[0] };
		struct store_commit c = { .caller = { 0, true, UINT32_MAX, 1 },
					  .tx_id = d + 1, .nops = 1, .ops = &op,
					  .neffects = 100, .effects = ef };
		gitstore_append(gs, &c, NULL);
		gitstore_flush(gs);
	}
	/* then single writes spread over the big tree */
	for (unsigned i = 0; i < 50000; i++) {
		snprintf(p, sizeof(p), "/local/domain/%u/device/vif/%u",
			 (i * 7919u) % (nodes / 100), i % 100);
		append(gs, p, "state-6");
		if (i % 16 == 15)
			gitstore_flush(gs);
	}
	gitstore_flush(gs);
	double t1 = now();
	gitstore_sync(gs);
	double t2 = now();
	struct gitstore_stats s;
	gitstore_get_stats(gs, &s);
	printf("%-28s %7" PRIu64 " records on %u nodes: request path %.2f s, "
	       "Git done at %.2f s (%.0f commits/s, %" PRIu64 " packs)\n",
	       "big tree", s.git_seq, nodes, t1 - t0, t2 - t0,
	       (double)s.git_seq / (t2 - t0), s.packs);
	gitstore_close(gs);
	free(ef);
	free(paths);

	uint64_t n;
	t0 = now();
	gs = open_at("big");
	recover(gs, &n);
	t1 = now();
	printf("%-28s %7" PRIu64 " nodes loaded in %.3f s\n", "recovery (clean)",
	       n, t1 - t0);
	/* a backlog in the journal: kill -9 equivalent is not possible in
	 * process, so measure replay of 20000 records via a fresh journal */
	for (unsigned i = 0; i < 20000; i++) {
		snprintf(p, sizeof(p), "/local/domain/%u/device/vif/%u",
			 i % (nodes / 100), i % 100);
		append(gs, p, "state-5");
		if (i % 16 == 15)
			gitstore_flush(gs);
	}
	gitstore_close(gs);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		snprintf(root, sizeof(root), "%s", argv[1]);
	} else {
		snprintf(root, sizeof(root), "/tmp/bench-gitstore-XXXXXX");
		if (!mkdtemp(root))
			return 1;
	}
	snprintf(bootfile, sizeof(bootfile), "%s/boot_id", root);
	FILE *f = fopen(bootfile, "w");
	fprintf(f, "0123abcd-0000-0000-0000-000000000000\n");
	fclose(f);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("store under %s\n", root);
	/* BENCH_SCALE=0.1 for a quick run */
	double k = getenv("BENCH_SCALE") ? atof(getenv("BENCH_SCALE")) : 1.0;
	run("small dir, flush each", (unsigned)(20000 * k), 1, small_path);
	run("small dir, batches of 16", (unsigned)(200000 * k), 16, small_path);
	run("wide dir (1000 children)", (unsigned)(50000 * k), 16, wide_path);
	big_tree((unsigned)(100000 * k) / 100 * 100);
	return 0;
}
