/*
 * xs-history-bench - `xs-history log PATH` against `git log -- PATH` on a
 * large generated history (a figure, not a test).
 *
 *   xs-history-bench XS_HISTORY [DIR] [COMMITS] [NODES]
 *
 * Builds, with the Git store engine, a tree of NODES nodes (default 100k)
 * then COMMITS single-write commits (default 1M) to random nodes, and a
 * node written only 5 times along the way; then times both commands on
 * that node and prints the ratio. DIR is kept (default: under /tmp).
 */
#include "store/git/gitstore.h"
#include "store/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* 100 domains x 10 device kinds x 10 devices x 10 keys: widths as on a host */
#define PER_DOMAIN 1000u
#define RARE "/local/domain/5/rare"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int ignore(void *ctx, const char *path, const void *value,
		  uint32_t len, const struct xsw_perm *perms, unsigned n)
{
	(void)ctx, (void)path, (void)value, (void)len, (void)perms, (void)n;
	return 0;
}

static void append(struct gitstore *gs, uint32_t dom, const char *path,
		   const char *value)
{
	static const struct xsw_perm n0 = { 0, XSW_PERM_NONE };
	struct store_op op = { STORE_OP_WRITE, path };
	struct store_effect ef = { path, false, value,
				   (uint32_t)strlen(value), &n0, 1 };
	struct store_commit c = { .caller = { dom, dom == 0, UINT32_MAX, 1 },
				  .nops = 1, .ops = &op, .neffects = 1,
				  .effects = &ef };
	if (gitstore_append(gs, &c, NULL)) {
		fprintf(stderr, "append: %s\n", gitstore_last_error(gs));
		exit(1);
	}
}

static void flush(struct gitstore *gs)
{
	if (gitstore_flush(gs)) {
		fprintf(stderr, "flush: %s\n", gitstore_last_error(gs));
		exit(1);
	}
}

static char *node_path(char *buf, size_t len, unsigned i)
{
	unsigned k = i % PER_DOMAIN;
	snprintf(buf, len, "/local/domain/%u/device/kind%u/%u/key%u",
		 i / PER_DOMAIN, k / 100, k / 10 % 10, k % 10);
	return buf;
}

/* Runs argv with stdout to /dev/null; returns the wall time. */
static double run(char *const argv[])
{
	double t0 = now();
	pid_t pid = fork();
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "%s failed\n", argv[0]);
		exit(1);
	}
	return now() - t0;
}

static unsigned long count_lines(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	unsigned long n = 0;
	int c;
	while (p && (c = fgetc(p)) != EOF)
		n += c == '\n';
	if (p)
		pclose(p);
	return n;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s XS_HISTORY [DIR] [COMMITS] [NODES]\n",
			argv[0]);
		return 2;
	}
	char dir[512], store[600], boot[600], cache[600], cmd[2048];
	if (argc > 2)
		snprintf(dir, sizeof(dir), "%s", argv[2]);
	else
		snprintf(dir, sizeof(dir), "/tmp/xs-history-bench.%d",
			 (int)getpid());
	unsigned long commits = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000000;
	unsigned nodes = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 100000;
	snprintf(store, sizeof(store), "%s/store", dir);
	snprintf(boot, sizeof(boot), "%s/boot_id", dir);
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	mkdir(dir, 0700);
	struct stat st;
	if (stat(store, &st)) {
		FILE *f = fopen(boot, "w");
		if (!f || fputs("0badc0de-0000-4000-8000-000000000001\n", f) < 0 ||
		    fclose(f))
			return 1;
		struct gitstore_options o;
		struct gitstore *gs;
		char err[256];
		gitstore_options_init(&o);
		o.boot_id_path = boot;
		if (gitstore_open(&gs, store, &o, err, sizeof(err)) ||
		    gitstore_recover_nodes(gs, ignore, NULL, NULL)) {
			fprintf(stderr, "store: %s\n", err);
			return 1;
		}
		double t0 = now();
		char p[128], v[32];
		for (unsigned i = 0; i < nodes; i++) {
			append(gs, 0, node_path(p, sizeof(p), i), "init");
			if (i % 256 == 255)
				flush(gs);
		}
		unsigned long rare_every = commits / 5 ? commits / 5 : 1;
		srandom(42);
		for (unsigned long k = 0; k < commits; k++) {
			if (k % rare_every == rare_every / 2) {
				snprintf(v, sizeof(v), "%lu", k);
				append(gs, 5, RARE, v);
			} else {
				unsigned i = (unsigned)random() % nodes;
				snprintf(v, sizeof(v), "%lu", k);
				append(gs, i / PER_DOMAIN,
				       node_path(p, sizeof(p), i), v);
			}
			if (k % 256 == 255)
				flush(gs);
			if (k % 100000 == 99999)
				fprintf(stderr, "%lu commits, %.0f/s\n", k + 1,
					(double)(k + 1 + nodes) / (now() - t0));
		}
		if (gitstore_close(gs)) {
			fprintf(stderr, "close failed\n");
			return 1;
		}
		printf("generated %lu commits over %u nodes in %.1f s\n",
		       commits + nodes, nodes, now() - t0);
	}
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache);
	if (system(cmd))
		return 1;
	char *xh_cold[] = { argv[1], "--store", store, "--cache", cache,
			    "log", "--all-boots", RARE, NULL };
	char gitdir[700];
	snprintf(gitdir, sizeof(gitdir), "--git-dir=%s", store);
	char *git[] = { "git", gitdir, "log", "--oneline", "--",
			RARE + 1, NULL };
	double cold = run(xh_cold);
	double warm = run(xh_cold);
	double g = run(git);
	snprintf(cmd, sizeof(cmd), "'%s' --store '%s' --cache '%s' log "
		 "--all-boots %s | grep '^[0-9a-f]'", argv[1], store, cache,
		 RARE);
	unsigned long ours = count_lines(cmd);
	snprintf(cmd, sizeof(cmd), "git --git-dir='%s' log --oneline -- %s",
		 store, RARE + 1);
	unsigned long theirs = count_lines(cmd);
	printf("log %s over %lu commits: xs-history %.3f s (first run, "
	       "building its index: %.3f s), git log %.3f s\n"
	       "ratio git/xs-history: %.1fx (first run: %.1fx); changes "
	       "found: xs-history %lu, git %lu\n",
	       RARE, commits + nodes, warm, cold, g, g / warm, g / cold, ours,
	       theirs);
	return 0;
}
