/* single.c - the single-client workloads (see single.h). */
#include "single.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>

#include "bc.h"

/* One write and one read; false when either failed. */
static bool one_pair(struct xs_handle *h, const char *key, uint64_t i)
{
	char val[17];
	unsigned len;
	void *v;

	snprintf(val, sizeof(val), "%016llx", (unsigned long long)i);
	if (!xs_write(h, XBT_NULL, key, val, 16)) {
		perror("xs_write");
		return false;
	}
	v = xs_read(h, XBT_NULL, key, &len);
	if (!v) {
		perror("xs_read");
		return false;
	}
	free(v);
	return true;
}

static struct xs_handle *open_at(const char *sock)
{
	struct xs_handle *h;

	setenv("XENSTORED_PATH", sock, 1);
	h = xs_open(0);
	if (!h)
		perror("xs_open");
	return h;
}

double single_run(const char *sock, double secs, char **keys, int n)
{
	struct xs_handle *h = open_at(sock);
	uint64_t ops = 0;
	double t0, end;

	if (!h)
		return -1;
	t0 = bc_now();
	end = t0 + secs;
	for (uint64_t i = 0; bc_now() < end; i++) {
		if (!one_pair(h, keys[i % (uint64_t)n], i))
			break;
		ops += 2;
	}
	t0 = bc_now() - t0;
	xs_close(h);
	return (double)ops / t0;
}

/*
 * CPU ticks and context switches of every thread of pid so far (the
 * writer's work counts: it shares the cores with the client).
 */
static void proc_usage(pid_t pid, unsigned long long *ticks,
		       unsigned long long *cs)
{
	char path[300], line[1024];
	struct dirent *de;
	DIR *dir;

	*ticks = *cs = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (!(dir = opendir(path)))
		return;
	while ((de = readdir(dir))) {
		unsigned long long ut, st, v;
		const char *p;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid,
			 de->d_name);
		if ((f = fopen(path, "r"))) {
			/* fields 14, 15 after the name's closing parenthesis */
			if (fgets(line, sizeof(line), f) &&
			    (p = strrchr(line, ')')) &&
			    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
				   "%*u %*u %llu %llu", &ut, &st) == 2)
				*ticks += ut + st;
			fclose(f);
		}
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status",
			 (int)pid, de->d_name);
		if ((f = fopen(path, "r"))) {
			while (fgets(line, sizeof(line), f))
				if ((p = strstr(line, "ctxt_switches:")) &&
				    sscanf(p + 14, "%llu", &v) == 1)
					*cs += v;
			fclose(f);
		}
	}
	closedir(dir);
}

int single_interleaved(struct bench_daemon *const *d, int n, int rounds,
		       double slice_s, char **keys, int nkeys,
		       struct single_slices *out)
{
	struct xs_handle *h[BENCH_KINDS] = { 0 };
	unsigned long long t0[BENCH_KINDS], c0[BENCH_KINDS];
	unsigned long long t1, c1, total[BENCH_KINDS] = { 0 };
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t i = 0;
	int rc = 0;

	if (n < 1 || n > BENCH_KINDS || rounds < 1 || rounds > 64)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->rounds = rounds;
	for (int k = 0; k < n; k++) {
		if (!(h[k] = open_at(d[k]->sock))) {
			rc = -EIO;
			goto out;
		}
		/* warm: the keys exist, the client's first requests are done */
		for (int w = 0; w < 100; w++)
			one_pair(h[k], keys[w % nkeys], i++);
		proc_usage(d[k]->pid, &t0[k], &c0[k]);
	}
	for (int r = 0; r < rounds; r++) {
		for (int s = 0; s < n; s++) {
			int k = (s + r) % n; /* rotate: nobody always first */
			double start = bc_now(), end = start + slice_s;
			uint64_t ops = 0;

			while (bc_now() < end) {
				if (!one_pair(h[k], keys[i % (uint64_t)nkeys],
					      i)) {
					rc = -EIO;
					goto out;
				}
				i++;
				ops += 2;
			}
			total[k] += ops;
			out->ops[d[k]->kind][r] = (double)ops /
						  (bc_now() - start);
		}
	}
	for (int k = 0; k < n; k++) {
		proc_usage(d[k]->pid, &t1, &c1);
		if (!total[k])
			continue;
		out->cpu_us[d[k]->kind] = (double)(t1 - t0[k]) * 1e6 /
					  (double)hz / (double)total[k];
		out->cswitch[d[k]->kind] = (double)(c1 - c0[k]) /
					   (double)total[k];
	}
out:
	for (int k = 0; k < n; k++)
		if (h[k])
			xs_close(h[k]);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double single_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
