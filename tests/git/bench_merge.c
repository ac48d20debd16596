/*
 * bench_merge.c - what a pack merge costs (figures, not a test).
 *
 *   bench-merge DIR [MAX]   (DIR: a scratch copy of a store: it is merged)
 *
 * Runs gs_repo_consolidate(MAX, default 32) to the end in 10 ms steps, as
 * the idle writer does, and prints the packs before and after, what the
 * merged packs held, and the CPU time it took.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/git/packfile.h"
#include "store/git/repo.h"

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct gs_repo r;
	struct gs_packfile *v0, *v1;
	size_t n0, n1;
	if (argc < 2) {
		fprintf(stderr, "usage: bench-merge DIR [MAX]\n");
		return 2;
	}
	unsigned max = argc > 2 ? (unsigned)atoi(argv[2]) : 32;
	if (gs_repo_open(&r, argv[1], false) ||
	    gs_repo_list_packs(&r, &v0, &n0))
		return 1;
	uint32_t *cnt = calloc(n0 ? n0 : 1, sizeof(*cnt));
	for (size_t k = 0; k < n0; k++)
		cnt[k] = gs_packfile_idx_count(r.pack_dir, v0[k].name);
	double t0 = cpu_s();
	unsigned steps = 0;
	int e;
	while ((e = gs_repo_consolidate(&r, max, 10000000u)) == 1)
		steps++;
	double t = cpu_s() - t0;
	if (e < 0 || gs_repo_list_packs(&r, &v1, &n1)) {
		fprintf(stderr, "merge: %d\n", e);
		return 1;
	}
	uint64_t objs = 0, bytes = 0;
	size_t gone = 0;
	for (size_t k = 0; k < n0; k++) {
		size_t j = 0;
		while (j < n1 && strcmp(v0[k].name, v1[j].name))
			j++;
		if (j < n1)
			continue;
		gone++;
		objs += cnt[k];
		bytes += (uint64_t)v0[k].size;
	}
	printf("packs %zu -> %zu: %zu merged (%" PRIu64 " objects, %.1f MiB)"
	       " in %u steps, %.3f s of CPU, %.2f us per object\n", n0, n1,
	       gone, objs, (double)bytes / (1 << 20), steps, t,
	       objs ? t * 1e6 / (double)objs : 0.0);
	free(cnt);
	free(v0);
	free(v1);
	gs_repo_close(&r);
	return 0;
}
