/* cmd_boots.c - boots (the host boots seen) and follow (tail -f). */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct option boots_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

int cmd_boots(struct opts *o, int argc, char **argv)
{
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", boots_opts, NULL)) != -1) {
		if (c == 'j')
			o->json = true;
		else if (c == 'h') {
			cmd_help("boots", stdout);
			return 0;
		} else {
			cmd_help("boots", stderr);
			return 2;
		}
	}
	if (optind < argc)
		return cmd_fail("boots: unexpected argument %s", argv[optind]);
	struct hist h;
	int rc = cmd_open(o, &h);
	if (rc)
		return rc;
	/* runs of changes of one boot, oldest first */
	size_t i = 0;
	long cur = (long)h.nboots - 1;
	while (i < h.n) {
		size_t j = i;
		while (j + 1 < h.n && h.v[j + 1].boot == h.v[i].boot)
			j++;
		const struct hist_change *a = &h.v[i], *z = &h.v[j];
		long idx = (long)a->boot - cur;
		char ta[40], tz[40], ia[GIT_OID_HEXSZ + 1] = "",
					 iz[GIT_OID_HEXSZ + 1] = "";
		out_time(ta, sizeof(ta), a->time);
		out_time(tz, sizeof(tz), z->time);
		if (!a->pending)
			git_oid_tostr(ia, sizeof(ia), &a->oid);
		if (!z->pending)
			git_oid_tostr(iz, sizeof(iz), &z->oid);
		if (o->json) {
			printf("{\"index\":%ld,\"boot\":\"%s\",\"start\":%" PRId64
			       ",\"end\":%" PRId64 ",\"start_date\":\"%s\","
			       "\"end_date\":\"%s\",\"first_seq\":%" PRIu64
			       ",\"last_seq\":%" PRIu64 ",\"changes\":%zu,"
			       "\"first_commit\":%s%s%s,\"last_commit\":%s%s%s,"
			       "\"current\":%s}\n",
			       idx, h.boots[a->boot], a->time, z->time, ta, tz,
			       a->seq, z->seq, j - i + 1, ia[0] ? "\"" : "",
			       ia[0] ? ia : "null", ia[0] ? "\"" : "",
			       iz[0] ? "\"" : "", iz[0] ? iz : "null",
			       iz[0] ? "\"" : "", idx == 0 ? "true" : "false");
		} else {
			printf("%3ld %s %s .. %s %zu changes%s\n", idx,
			       h.boots[a->boot], ta, tz, j - i + 1,
			       idx == 0 ? " (current)" : "");
		}
		i = j + 1;
	}
	fflush(stdout);
	hist_close(&h);
	return 0;
}

static const struct option follow_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "patch", no_argument, NULL, 'p' },
	{ "timeout", required_argument, NULL, 't' },
	{ "interval", required_argument, NULL, 'i' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

/* Orders changes across refreshes: a boot commit follows its seq. */
static uint64_t key(const struct hist_change *c)
{
	return c->seq * 2 + (c->boot_commit ? 1 : 0);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int cmd_follow(struct opts *o, int argc, char **argv)
{
	const char *path = "/";
	double timeout = -1, interval = 0.2;
	long back = 0;
	bool patch = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jpn:t:i:h", follow_opts,
				NULL)) != -1) {
		char *end;
		switch (c) {
		case 'j': o->json = true; break;
		case 'p': patch = true; break;
		case 'n':
			back = strtol(optarg, &end, 10);
			if (*end || back < 0)
				return cmd_fail("-n %s: not a count", optarg);
			break;
		case 't':
			timeout = strtod(optarg, &end);
			if (*end || timeout < 0)
				return cmd_fail("--timeout %s: seconds", optarg);
			break;
		case 'i':
			interval = strtod(optarg, &end);
			if (*end || interval <= 0)
				return cmd_fail("--interval %s: seconds", optarg);
			break;
		case 'h': cmd_help("follow", stdout); return 0;
		default: cmd_help("follow", stderr); return 2;
		}
	}
	if (optind < argc && !(path = cmd_path(argv[optind++])))
		return 2;
	if (optind < argc)
		return cmd_fail("follow: unexpected argument %s", argv[optind]);
	struct hist h;
	int rc = cmd_open(o, &h);
	if (rc)
		return rc;
	/* start: the last -n changes touching path, then what comes */
	uint64_t last = key(&h.v[h.n - 1]);
	size_t start = h.n;
	for (long k = 0; k < back && start > 0;) {
		bool yes;
		if (hist_touches(&h, --start, path, &yes))
			break;
		k += yes;
	}
	if (start < h.n)
		last = start ? key(&h.v[start - 1]) : 0;
	double t0 = now_s();
	int e = 0;
	for (;;) {
		for (size_t i = 0; i < h.n && !e; i++) {
			if (key(&h.v[i]) <= last)
				continue;
			bool yes;
			if ((e = hist_touches(&h, i, path, &yes)))
				break;
			if (yes)
				e = print_change(&h, i, path, o->json, patch);
			last = key(&h.v[i]);
		}
		fflush(stdout);
		if (e || (timeout >= 0 && now_s() - t0 >= timeout))
			break;
		usleep((useconds_t)(interval * 1e6));
		if ((e = hist_refresh(&h)))
			break;
	}
	if (e)
		rc = cmd_fail("%s", h.err[0] ? h.err : strerror(-e));
	hist_close(&h);
	return rc;
}
