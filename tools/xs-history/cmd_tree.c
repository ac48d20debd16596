/* cmd_tree.c - show, diff and blame: trees at points in the history. */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const struct option tree_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

/* Options, then positional WHENs and at most one /PATH (any order). */
static int tree_args(struct opts *o, const char *name, int argc, char **argv,
		     const char **when, unsigned maxwhen, unsigned *nwhen,
		     const char **path)
{
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", tree_opts, NULL)) != -1) {
		if (c == 'j')
			o->json = true;
		else if (c == 'h') {
			cmd_help(name, stdout);
			return -1;
		} else {
			cmd_help(name, stderr);
			return 2;
		}
	}
	*nwhen = 0;
	for (int i = optind; i < argc; i++) {
		if (argv[i][0] == '/') {
			if (*path != NULL && strcmp(*path, "/"))
				return cmd_fail("%s: one PATH only", name);
			if (!(*path = cmd_path(argv[i])))
				return 2;
		} else if (*nwhen < maxwhen) {
			when[(*nwhen)++] = argv[i];
		} else {
			return cmd_fail("%s: unexpected argument %s", name,
					argv[i]);
		}
	}
	return 0;
}

static int at(struct hist *h, const char *when, size_t *idx)
{
	if (!when) {
		*idx = h->n - 1;
		return 0;
	}
	return hist_when(h, when, idx) ? cmd_fail("%s", h->err) : 0;
}

/* Why path is absent: never existed, or not at this point. */
static int absent(struct hist *h, const char *path, const char *when)
{
	bool ever = false;
	for (size_t i = h->n; i-- > 0 && !ever;)
		if (hist_touches(h, i, path, &ever))
			break;
	if (!ever)
		return cmd_fail("%s: no such node in the history of %s", path,
				h->store);
	return cmd_fail("%s: no such node at %s", path, when ? when : "the newest change");
}

struct show_ctx {
	bool json, skip_root;
};

static int show_cb(void *ctx, const char *path, const struct snode *n)
{
	struct show_ctx *s = ctx;
	if (s->skip_root && !strcmp(path, "/"))
		return 0;
	if (s->json) {
		fputs("{\"path\":", stdout);
		out_json_str(stdout, path, strlen(path));
		fputc(',', stdout);
		out_node_json(stdout, "", n);
		fputs("}\n", stdout);
	} else {
		out_node_line(stdout, path, n);
	}
	return 0;
}

int cmd_show(struct opts *o, int argc, char **argv)
{
	const char *when[1], *path = NULL;
	unsigned nw;
	int rc = tree_args(o, "show", argc, argv, when, 1, &nw, &path);
	if (rc)
		return rc < 0 ? 0 : rc;
	struct hist h;
	if ((rc = cmd_open(o, &h)))
		return rc;
	size_t idx;
	struct snap s = { 0 };
	struct snode *n = NULL;
	if ((rc = at(&h, nw ? when[0] : NULL, &idx)))
		goto out;
	int e = snap_at(&h, idx, &s);
	if (!e)
		e = snap_find(&s, path ? path : "/", &n);
	if (e) {
		rc = cmd_fail("%s", h.err[0] ? h.err : strerror(-e));
		goto out;
	}
	if (!n) {
		rc = absent(&h, path, nw ? when[0] : NULL);
		goto out;
	}
	/* The root line is left out, as xenstore-ls does. */
	struct show_ctx sc = { o->json, true };
	if ((e = snap_walk(&s, n, path ? path : "/", show_cb, &sc)))
		rc = cmd_fail("%s", h.err[0] ? h.err : strerror(-e));
out:
	snap_free(&s);
	fflush(stdout);
	hist_close(&h);
	return rc;
}

static int diff_cb(void *ctx, const struct hdiff *d)
{
	if (*(bool *)ctx) {
		out_diff_json(stdout, d);
		fputc('\n', stdout);
	} else {
		out_diff_line(stdout, "", d);
	}
	return 0;
}

int cmd_diff(struct opts *o, int argc, char **argv)
{
	const char *when[2], *path = NULL;
	unsigned nw;
	int rc = tree_args(o, "diff", argc, argv, when, 2, &nw, &path);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (!nw)
		return cmd_fail("diff: WHEN1 is needed (see --help)");
	struct hist h;
	if ((rc = cmd_open(o, &h)))
		return rc;
	size_t a, b;
	struct snap sa = { 0 }, sb = { 0 };
	if ((rc = at(&h, when[0], &a)) ||
	    (rc = at(&h, nw > 1 ? when[1] : NULL, &b)))
		goto out;
	int e = snap_at(&h, a, &sa);
	if (!e)
		e = snap_at(&h, b, &sb);
	if (!e)
		e = snap_diff(&sa, &sb, path ? path : "/", diff_cb, &o->json);
	if (e)
		rc = cmd_fail("%s", h.err[0] ? h.err : strerror(-e));
out:
	snap_free(&sa);
	snap_free(&sb);
	fflush(stdout);
	hist_close(&h);
	return rc;
}

/* --- blame ------------------------------------------------------------ */

struct bnode {
	char *path;
	const struct snode *n;
	long change; /* -1: not yet attributed */
};

struct blame {
	struct bnode *v;
	size_t n, cap, left;
	size_t cur;
};

static int collect(void *ctx, const char *path, const struct snode *n)
{
	struct blame *b = ctx;
	(void)n;
	if (!strcmp(path, "/"))
		return 0; /* left out, as show and xenstore-ls do */
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct bnode *v = realloc(b->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	if (!(b->v[b->n].path = strdup(path)))
		return -ENOMEM;
	b->v[b->n].n = n;
	b->v[b->n++].change = -1;
	b->left++;
	return 0;
}

static void attribute(struct blame *b, const char *path)
{
	/* nodes are few per change: a linear search is enough */
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].change < 0 && !strcmp(b->v[i].path, path)) {
			b->v[i].change = (long)b->cur;
			b->left--;
			return;
		}
}

static int blame_diff(void *ctx, const struct hdiff *d)
{
	if (d->kind != HDIFF_REMOVED)
		attribute(ctx, d->path);
	return 0;
}

static int blame_op(void *ctx, const char *kind, const char *path)
{
	/* a write of the same value still "set" the node */
	if (strcmp(kind, "rm") && strcmp(kind, "domain"))
		attribute(ctx, path);
	return 0;
}

int cmd_blame(struct opts *o, int argc, char **argv)
{
	const char *when[1], *path = NULL;
	unsigned nw;
	int rc = tree_args(o, "blame", argc, argv, when, 1, &nw, &path);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (!path)
		path = "/";
	struct hist h;
	if ((rc = cmd_open(o, &h)))
		return rc;
	size_t idx;
	struct snap s = { 0 };
	struct snode *n;
	struct blame b = { 0 };
	if ((rc = at(&h, nw ? when[0] : NULL, &idx)))
		goto out;
	int e = snap_at(&h, idx, &s);
	if (!e)
		e = snap_find(&s, path, &n);
	if (!e && !n) {
		rc = absent(&h, path, nw ? when[0] : NULL);
		goto out;
	}
	if (!e)
		e = snap_walk(&s, n, path, collect, &b);
	/* newest change first; only changes touching path can have set it */
	for (size_t i = idx + 1; i-- > 0 && b.left && !e;) {
		bool yes;
		if ((e = hist_touches(&h, i, path, &yes)) || !yes)
			continue;
		struct snap pa = { &h, NULL }, pb = { 0 };
		b.cur = i;
		if (h.v[i].boot_commit) {
			/* a fresh tree: what is still unattributed, it set */
			for (size_t k = 0; k < b.n; k++)
				if (b.v[k].change < 0)
					b.v[k].change = (long)i;
			b.left = 0;
			break;
		}
		hist_ops_each(&h.v[i], blame_op, &b);
		if (!(e = i ? snap_at(&h, i - 1, &pa) : 0) &&
		    !(e = snap_at(&h, i, &pb)))
			e = snap_diff(&pa, &pb, path, blame_diff, &b);
		snap_free(&pa);
		snap_free(&pb);
	}
	if (e) {
		rc = cmd_fail("%s", h.err[0] ? h.err : strerror(-e));
		goto out;
	}
	for (size_t i = 0; i < b.n; i++) {
		const struct bnode *bn = &b.v[i];
		if (o->json) {
			fputs("{\"path\":", stdout);
			out_json_str(stdout, bn->path, strlen(bn->path));
			fputc(',', stdout);
			out_node_json(stdout, "", bn->n);
			fputs(",\"change\":", stdout);
			if (bn->change < 0)
				fputs("null}\n", stdout);
			else {
				out_change_json_head(stdout, &h,
						     &h.v[bn->change]);
				fputs("}}\n", stdout);
			}
			continue;
		}
		char t[40] = "?", id[GIT_OID_HEXSZ + 1] = "?";
		const struct hist_change *c =
			bn->change < 0 ? NULL : &h.v[bn->change];
		if (c) {
			out_time(t, sizeof(t), c->time);
			if (c->pending)
				snprintf(id, sizeof(id), "pending");
			else
				git_oid_tostr(id, 13, &c->oid);
		}
		if (c && c->dom != HIST_DOM_NONE)
			printf("%-12s %s seq %-6" PRIu64 " dom%-5" PRIu32 " ",
			       id, t, c->seq, c->dom);
		else
			printf("%-12s %s seq %-6" PRIu64 " %-8s ", id, t,
			       c ? c->seq : 0, c ? "boot" : "?");
		out_node_line(stdout, bn->path, bn->n);
	}
out:
	for (size_t i = 0; i < b.n; i++)
		free(b.v[i].path);
	free(b.v);
	snap_free(&s);
	fflush(stdout);
	hist_close(&h);
	return rc;
}
