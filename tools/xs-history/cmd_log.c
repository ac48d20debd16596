/* cmd_log.c - xs-history log: the changes that touched a path. */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct touch {
	const char *path;
	bool hit, ancestor;
};

static int touch_op(void *ctx, const char *kind, const char *p)
{
	struct touch *t = ctx;
	if (!strcmp(kind, "domain"))
		t->ancestor = true; /* the daemon's own change: check the tree */
	else if (hist_path_under(p, t->path))
		t->hit = true;
	else if (hist_path_under(t->path, p))
		t->ancestor = true;
	return 0;
}

static int differs(void *ctx, const struct hdiff *d)
{
	(void)d;
	*(bool *)ctx = true;
	return 1; /* one difference is enough */
}

int hist_touches(struct hist *h, size_t i, const char *path, bool *yes)
{
	const struct hist_change *c = &h->v[i];
	struct touch t = { path, false, false };
	hist_ops_each(c, touch_op, &t);
	*yes = t.hit;
	if (t.hit)
		return 0;
	if (!t.ancestor && !c->boot_commit && c->opslen)
		return 0;
	struct snap a = { h, NULL }, b = { 0 };
	int e = i ? snap_at(h, i - 1, &a) : 0;
	if (!e)
		e = snap_at(h, i, &b);
	if (!e && c->boot_commit) {
		/* a fresh tree: it sets whatever it holds */
		struct snode *n;
		if (!(e = snap_find(&b, path, &n)) && n)
			*yes = true;
	}
	if (!e && !*yes) {
		e = snap_diff(&a, &b, path, differs, yes);
		if (e == 1)
			e = 0;
	}
	snap_free(&a);
	snap_free(&b);
	return e;
}

struct pctx {
	bool json, first;
};

static int diff_cb(void *ctx, const struct hdiff *d)
{
	struct pctx *p = ctx;
	if (p->json) {
		if (!p->first)
			fputc(',', stdout);
		out_diff_json(stdout, d);
	} else {
		out_diff_line(stdout, "    ", d);
	}
	p->first = false;
	return 0;
}

static int print_diff(struct hist *h, size_t i, const char *path, bool json)
{
	/* before the first change: no tree at all */
	struct snap a = { h, NULL }, b = { 0 };
	struct pctx p = { json, true };
	int e = i ? snap_at(h, i - 1, &a) : 0;
	if (!e)
		e = snap_at(h, i, &b);
	if (json)
		fputs(",\"changes\":[", stdout);
	if (!e)
		e = snap_diff(&a, &b, path, diff_cb, &p);
	if (json)
		fputc(']', stdout);
	snap_free(&a);
	snap_free(&b);
	return e;
}

int print_change(struct hist *h, size_t i, const char *path, bool json,
		 bool diff)
{
	const struct hist_change *c = &h->v[i];
	int e = 0;
	if (json) {
		out_change_json_head(stdout, h, c);
		if (diff)
			e = print_diff(h, i, path, true);
		fputs("}\n", stdout);
		return e;
	}
	char t[40], id[GIT_OID_HEXSZ + 1];
	out_time(t, sizeof(t), c->time);
	if (c->pending)
		snprintf(id, sizeof(id), "pending");
	else
		git_oid_tostr(id, 13, &c->oid);
	printf("%-12s %s seq %" PRIu64, id, t, c->seq);
	if (c->boot_commit)
		printf(" boot %s (initial tree)\n", h->boots[c->boot]);
	else
		printf(" dom%" PRIu32 " conn %" PRIu32 " tx %" PRIu32 "\n",
		       c->dom, c->conn, c->tx);
	const char *p = c->ops, *end = c->ops + c->opslen;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		printf("    %.*s\n", (int)l, p);
		p += l + 1;
	}
	if (diff)
		e = print_diff(h, i, path, false);
	return e;
}

long boot_resolve(struct hist *h, const char *arg)
{
	char *end;
	long n = strtol(arg, &end, 10);
	if (*arg && !*end) {
		long cur = (long)h->nboots - 1;
		long b = n <= 0 ? cur + n : n - 1;
		return b >= 0 && b <= cur ? b : -1;
	}
	for (size_t i = h->nboots; i-- > 0;)
		if (!strncmp(h->boots[i], arg, strlen(arg)))
			return (long)i;
	return -1;
}

struct opfilter {
	const char *want, *path;
	bool hit;
};

static int op_cb(void *ctx, const char *kind, const char *p)
{
	struct opfilter *f = ctx;
	if (strcmp(kind, f->want))
		return 0;
	if (hist_path_under(p, f->path) || hist_path_under(f->path, p))
		f->hit = true;
	return 0;
}

static const struct option log_opts[] = {
	{ "domain", required_argument, NULL, 'd' },
	{ "since", required_argument, NULL, 's' },
	{ "until", required_argument, NULL, 'u' },
	{ "op", required_argument, NULL, 'o' },
	{ "boot", required_argument, NULL, 'b' },
	{ "all-boots", no_argument, NULL, 'a' },
	{ "patch", no_argument, NULL, 'p' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

static bool op_known(const char *op)
{
	static const char *ops[] = { "write", "mkdir", "rm", "set_perms",
				     "domain", "boot" };
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(op, ops[i]))
			return true;
	return false;
}

int cmd_log(struct opts *o, int argc, char **argv)
{
	const char *since = NULL, *until = NULL, *op = NULL, *boot = NULL;
	const char *path = "/";
	long dom = -1, max = -1;
	bool all = false, patch = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:s:u:o:b:apjn:h", log_opts,
				NULL)) != -1) {
		char *end;
		switch (c) {
		case 'd':
			dom = strtol(optarg, &end, 10);
			if (*end || dom < 0)
				return cmd_fail("--domain %s: not a domain id",
						optarg);
			break;
		case 'n':
			max = strtol(optarg, &end, 10);
			if (*end || max < 0)
				return cmd_fail("-n %s: not a count", optarg);
			break;
		case 's': since = optarg; break;
		case 'u': until = optarg; break;
		case 'o':
			op = !strcmp(optarg, "perms") ? "set_perms" : optarg;
			if (!op_known(op))
				return cmd_fail("--op %s: one of write, mkdir, "
						"rm, perms, domain, boot",
						optarg);
			break;
		case 'b': boot = optarg; break;
		case 'a': all = true; break;
		case 'p': patch = true; break;
		case 'j': o->json = true; break;
		case 'h': cmd_help("log", stdout); return 0;
		default: cmd_help("log", stderr); return 2;
		}
	}
	if (optind < argc && !(path = cmd_path(argv[optind++])))
		return 2;
	if (optind < argc)
		return cmd_fail("log: unexpected argument %s", argv[optind]);
	struct hist h;
	int rc = cmd_open(o, &h);
	if (rc)
		return rc;
	int64_t t_since = INT64_MIN, t_until = INT64_MAX;
	size_t p_since = 0, p_until = h.n - 1;
	bool is_pos;
	size_t pos;
	int64_t t;
	if (since && !hist_when_bound(&h, since, &t, &pos, &is_pos))
		is_pos ? (void)(p_since = pos) : (void)(t_since = t);
	else if (since)
		goto bad;
	if (until && !hist_when_bound(&h, until, &t, &pos, &is_pos))
		is_pos ? (void)(p_until = pos) : (void)(t_until = t);
	else if (until)
		goto bad;
	long want_boot = (long)h.v[h.n - 1].boot;
	if (boot && (want_boot = boot_resolve(&h, boot)) < 0) {
		rc = cmd_fail("--boot %s: no such boot (see xs-history boots)",
			      boot);
		goto out;
	}
	size_t shown = 0;
	int e = 0;
	for (size_t i = h.n; i-- > 0 && (max < 0 || shown < (size_t)max);) {
		const struct hist_change *ch = &h.v[i];
		if (i < p_since || i > p_until || ch->time < t_since ||
		    ch->time > t_until)
			continue;
		if (!all && (long)ch->boot != want_boot)
			continue;
		if (dom >= 0 && ch->dom != (uint32_t)dom)
			continue;
		if (op && !strcmp(op, "boot") && !ch->boot_commit)
			continue;
		if (op && strcmp(op, "boot")) {
			struct opfilter f = { op, path, false };
			hist_ops_each(ch, op_cb, &f);
			if (!f.hit)
				continue;
		}
		bool yes;
		if ((e = hist_touches(&h, i, path, &yes)))
			break;
		if (!yes)
			continue;
		if ((e = print_change(&h, i, path, o->json, patch)))
			break;
		shown++;
	}
	if (e) {
		rc = cmd_fail("%s", h.err[0] ? h.err : strerror(-e));
		goto out;
	}
	if (!shown) {
		/* nothing matched: say so if the path never existed at all */
		bool ever = false;
		for (size_t i = h.n; i-- > 0 && !ever;)
			if ((e = hist_touches(&h, i, path, &ever)))
				break;
		if (!ever)
			rc = cmd_fail("%s: no such node in the history of %s",
				      path, h.store);
	}
	goto out;
bad:
	rc = cmd_fail("%s", h.err);
out:
	fflush(stdout);
	hist_close(&h);
	return rc;
}
