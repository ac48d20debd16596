/*
 * bench_fan.c - the writer's cost on a fanned directory (not a test).
 *
 *   bench-fan [DOMAINS [WRITES [PER_PACK]]]   (2000 200000 4000)
 *
 * Writes /local/domain/<n>/name for DOMAINS domains, then WRITES values
 * under random domains, a tree write each (no commits, no journal), a
 * new pack every PER_PACK writes. Prints the CPU time of this thread per
 * write and the pack bytes per write: the mirror and the pack alone,
 * without the threads and the client that make xs-bench's figures noisy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/git/mirror.h"
#include "store/git/repo.h"

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void apply(struct gs_mirror *m, const char *path, const char *value)
{
	struct xsw_perm p[1] = { { 0, XSW_PERM_NONE } };
	struct store_effect e = { path, false, value, (uint32_t)strlen(value),
				  p, 1 };
	if (gs_mirror_apply(m, &e)) {
		fprintf(stderr, "apply %s failed\n", path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	unsigned nd = argc > 1 ? (unsigned)atoi(argv[1]) : 2000;
	unsigned nw = argc > 2 ? (unsigned)atoi(argv[2]) : 200000;
	unsigned per = argc > 3 ? (unsigned)atoi(argv[3]) : 4000;
	char dir[] = "/tmp/bench-fan-XXXXXX", path[128], val[32], cmd[64];
	struct gs_repo r;
	struct gs_mirror m;
	git_oid t;
	if (!nd || !per || !mkdtemp(dir))
		return 1;
	git_libgit2_init();
	if (gs_repo_open(&r, dir, false) || gs_mirror_init(&m, &r, NULL))
		return 1;
	for (unsigned i = 0; i < nd; i++) {
		snprintf(path, sizeof(path), "/local/domain/%u/name", i);
		apply(&m, path, "guest");
	}
	if (gs_mirror_write(&m, &t) || gs_repo_dump(&r))
		return 1;
	unsigned seed = 1;
	double bytes = 0, c0 = cpu_now();
	for (unsigned w = 0; w < nw; w++) {
		seed = seed * 1103515245u + 12345u;
		snprintf(path, sizeof(path), "/local/domain/%u/data/k%u",
			 (seed >> 8) % nd, (seed >> 20) % 8);
		snprintf(val, sizeof(val), "value-%u", w);
		apply(&m, path, val);
		if (gs_mirror_write(&m, &t))
			return 1;
		if ((w + 1) % per == 0 || w + 1 == nw) {
			bytes += (double)gs_repo_pack_bytes(&r);
			if (gs_repo_dump(&r))
				return 1;
		}
	}
	double c = cpu_now() - c0;
	printf("%u domains, %u writes, a pack per %u: %.2f us of CPU and "
	       "%.0f pack bytes per write\n", nd, nw, per, c * 1e6 / nw,
	       bytes / nw);
	gs_mirror_fini(&m);
	gs_repo_close(&r);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? 1 : 0;
}
