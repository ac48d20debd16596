/*
 * test_fanload.c - recovery reads fanned-out directories (fanout.h).
 *
 * The store is built by hand, without the writer: the engine makes an
 * empty store (its boot commit), then `git fast-import` commits a tree
 * holding flat, one-level and two-level directories on top of it, with
 * the head's Xenstore-Seq and Xenstore-Boot, as the writer would have.
 * Recovery must give back every node, value and perms, children in
 * creation order (.order), or in Git's name order without one.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "store/git/fanout.h"

FIXTURE_SUITE(fanload, TEST_BOOT_A);

#define WIDE 300u   /* one level of buckets */
#define DEEP 4096u  /* two levels */
#define PLAIN 256u  /* one level, no .order */

struct want {
	char path[48];
	char value[24];
	char perms[24]; /* as the node list prints them: "n0,r3" */
};

static struct want *wants;
static size_t nwants;

static void want(const char *path, const char *value, const char *perms)
{
	wants = realloc(wants, (nwants + 1) * sizeof(*wants));
	cr_assert(wants);
	struct want *w = &wants[nwants++];
	snprintf(w->path, sizeof(w->path), "%s", path);
	snprintf(w->value, sizeof(w->value), "%s", value);
	snprintf(w->perms, sizeof(w->perms), "%s", perms);
}

static void put_blob(FILE *f, const char *gitpath, const char *data)
{
	fprintf(f, "M 100644 inline %s\ndata %zu\n%s\n", gitpath, strlen(data),
		data);
}

/* A node: its .value and .perms ("n0,r3" stored as "n0\nr3\n"). */
static void put_node(FILE *f, const char *gitdir, const char *value,
		     const char *perms)
{
	char p[256], text[64];
	size_t k = 0;
	for (const char *c = perms; *c && k < sizeof(text) - 2; c++)
		text[k++] = *c == ',' ? '\n' : *c;
	text[k++] = '\n';
	text[k] = '\0';
	snprintf(p, sizeof(p), "%s%s.value", gitdir, *gitdir ? "/" : "");
	put_blob(f, p, value);
	snprintf(p, sizeof(p), "%s%s.perms", gitdir, *gitdir ? "/" : "");
	put_blob(f, p, text);
}

/* The Git directory of child name of dir fanned out depth levels. */
static void fan_path(char *out, size_t len, const char *dir,
		     const char *name, unsigned depth)
{
	uint32_t key = gs_fan_key(name, strlen(name), depth);
	if (depth == 1)
		snprintf(out, len, "%s/.%x/%s", dir, key, name);
	else
		snprintf(out, len, "%s/.%x/.%x/%s", dir, key >> 4, key & 15,
			 name);
}

/* Git's order of two tree names: a tree compares as "name/". */
static int git_order(const void *a, const void *b)
{
	char x[64], y[64];
	snprintf(x, sizeof(x), "%s/", *(char *const *)a);
	snprintf(y, sizeof(y), "%s/", *(char *const *)b);
	return strcmp(x, y);
}

/* Builds the fast-import stream and the expected walk, in one pass. */
/*
 * A fast-import stream of a commit on main that replaces its tree, with
 * the head's Xenstore-Seq and Xenstore-Boot; its path into streampath.
 */
static FILE *stream_open(char *streampath, size_t len)
{
	int st;
	char *head = git_out(&fx, &st, "log -1 --format=%%B main");
	cr_assert_eq(st, 0, "%s", head);
	const char *seq = strstr(head, "Xenstore-Seq: ");
	const char *boot = strstr(head, "Xenstore-Boot: ");
	cr_assert(seq && boot, "%s", head);
	char msg[256];
	snprintf(msg, sizeof(msg), "fanned tree by hand\n\n%.*s%.*s",
		 (int)(strcspn(seq, "\n") + 1), seq,
		 (int)(strcspn(boot, "\n") + 1), boot);
	free(head);

	snprintf(streampath, len, "%s/stream", fx.root);
	FILE *f = fopen(streampath, "w");
	cr_assert(f);
	fprintf(f, "commit refs/heads/main\n"
		   "committer xenstored <xenstored@xenstore> 1763990000 +0000\n"
		   "data %zu\n%s\nfrom refs/heads/main^0\ndeleteall\n",
		strlen(msg), msg);
	return f;
}

static void build_store(void)
{
	char streampath[400], gp[256], xp[64], v[24], pm[24];
	int st;
	FILE *f = stream_open(streampath, sizeof(streampath));
	put_node(f, "", "", "n0");
	put_blob(f, ".order", "flat\nwide\ndeep\nplain\n");
	want("/", "", "n0");

	/* a flat directory whose Git order differs from byte order */
	put_node(f, "flat", "f", "n0,r1");
	put_blob(f, "flat/.order", "x\nx-1\n");
	want("/flat", "f", "n0,r1");
	put_node(f, "flat/x", "1", "n2");
	want("/flat/x", "1", "n2");
	put_node(f, "flat/x-1", "2", "n2");
	want("/flat/x-1", "2", "n2");

	/* one level; created in the order 7i mod 300; w7 has a child */
	put_node(f, "wide", "wide", "n0,r3");
	want("/wide", "wide", "n0,r3");
	char *order = malloc(DEEP * 8);
	cr_assert(order);
	size_t ol = 0;
	for (unsigned i = 0; i < WIDE; i++) {
		unsigned c = i * 7 % WIDE;
		snprintf(xp, sizeof(xp), "w%u", c);
		ol += (size_t)sprintf(order + ol, "%s\n", xp);
		fan_path(gp, sizeof(gp), "wide", xp, 1);
		snprintf(v, sizeof(v), "v%u", c);
		snprintf(pm, sizeof(pm), "b%u,r%u", c % 5 + 1, c);
		put_node(f, gp, v, pm);
		snprintf(xp, sizeof(xp), "/wide/w%u", c);
		want(xp, v, pm);
		if (c == 7) {
			strcat(gp, "/sub");
			put_node(f, gp, "deep", "n7");
			want("/wide/w7/sub", "deep", "n7");
		}
	}
	put_blob(f, "wide/.order", order);

	/* two levels, created last name first */
	put_node(f, "deep", "", "n0");
	want("/deep", "", "n0");
	ol = 0;
	for (unsigned i = DEEP; i-- > 0;) {
		snprintf(xp, sizeof(xp), "d%u", i);
		ol += (size_t)sprintf(order + ol, "%s\n", xp);
		fan_path(gp, sizeof(gp), "deep", xp, 2);
		snprintf(v, sizeof(v), "d%u", i);
		put_node(f, gp, v, "n1");
		snprintf(xp, sizeof(xp), "/deep/d%u", i);
		want(xp, v, "n1");
	}
	put_blob(f, "deep/.order", order);
	free(order);

	/* one level, no .order: Git's order of the names, as if flat */
	char *names[PLAIN];
	for (unsigned i = 0; i < PLAIN; i++)
		cr_assert(asprintf(&names[i], i == 0 ? "x" : i == 1 ? "x-1" :
					      "p%u", i) > 0);
	qsort(names, PLAIN, sizeof(names[0]), git_order);
	put_node(f, "plain", "", "n0");
	want("/plain", "", "n0");
	for (unsigned i = 0; i < PLAIN; i++) {
		fan_path(gp, sizeof(gp), "plain", names[i], 1);
		put_node(f, gp, names[i], "n4");
		snprintf(xp, sizeof(xp), "/plain/%s", names[i]);
		want(xp, names[i], "n4");
		free(names[i]);
	}
	cr_assert_eq(fclose(f), 0);

	char *o = git_out(&fx, &st, "fast-import --quiet < '%s'", streampath);
	cr_assert_eq(st, 0, "fast-import: %s", o);
	free(o);
	o = git_out(&fx, &st, "ls-tree --name-only main:deep/.9");
	cr_assert_eq(st, 0, "%s", o);
	cr_assert_eq(count_lines(o), 16u, "deep is two levels: %s", o);
	free(o);
	git_fsck_clean(&fx, "of the hand-built store");
}

static void assert_recovered(const struct node_list *l)
{
	cr_assert_eq(l->n, nwants, "nodes: %zu, want %zu", l->n, nwants);
	for (size_t i = 0; i < nwants; i++) {
		const struct tnode *t = &l->v[i];
		cr_assert_str_eq(t->path, wants[i].path, "node %zu", i);
		cr_assert_str_eq(t->value, wants[i].value, "%s", t->path);
		cr_assert_str_eq(t->perms, wants[i].perms, "%s", t->path);
	}
}

static void recover_into(struct node_list *l, bool raw)
{
	struct gitstore_options o;
	gitstore_options_init(&o);
	o.pack_interval_ms = TEST_NEVER_MS;
	o.load_no_raw = !raw;
	struct gitstore *gs = open_store_with(&fx, &o, l, NULL);
	cr_assert_eq(gitstore_close(gs), 0);
}

Test(fanload, buckets_read_back_as_children_in_creation_order)
{
	struct gitstore *gs = open_store(&fx, TEST_NEVER_MS,
					 GITSTORE_FSYNC_NEVER, NULL, NULL);
	cr_assert_eq(gitstore_close(gs), 0);
	build_store();
	struct node_list l = { 0 };
	recover_into(&l, false);
	assert_recovered(&l);
	nodes_free(&l);
}

Test(fanload, checkpoint_pack_read_raw_gives_the_same_tree)
{
	git_libgit2_init();
	struct gitstore *gs = open_store(&fx, TEST_NEVER_MS,
					 GITSTORE_FSYNC_NEVER, NULL, NULL);
	cr_assert_eq(gitstore_close(gs), 0);
	build_store();
	checkpoint_once(&fx);
	struct node_list l = { 0 };
	recover_into(&l, true);
	assert_recovered(&l);
	nodes_free(&l);
	git_libgit2_shutdown();
}

/*
 * A child both in the directory's own tree and in one of its buckets: a
 * tree the writer never makes. Recovery refuses it, rather than reading
 * the name twice (the .order listing it once left a child unset).
 */
Test(fanload, a_name_both_flat_and_in_a_bucket_is_refused)
{
	struct gitstore *gs = open_store(&fx, TEST_NEVER_MS,
					 GITSTORE_FSYNC_NEVER, NULL, NULL);
	cr_assert_eq(gitstore_close(gs), 0);
	char streampath[400], gp[256];
	int st;
	FILE *f = stream_open(streampath, sizeof(streampath));
	put_node(f, "", "", "n0");
	put_node(f, "dup", "", "n0");
	put_blob(f, "dup/.order", "x\ny\n");
	put_node(f, "dup/x", "flat", "n0");
	fan_path(gp, sizeof(gp), "dup", "x", 1);
	put_node(f, gp, "bucket", "n0");
	fan_path(gp, sizeof(gp), "dup", "y", 1);
	put_node(f, gp, "y", "n0");
	cr_assert_eq(fclose(f), 0);
	char *o = git_out(&fx, &st, "fast-import --quiet < '%s'", streampath);
	cr_assert_eq(st, 0, "fast-import: %s", o);
	free(o);
	struct gitstore_options opt;
	gitstore_options_init(&opt);
	opt.pack_interval_ms = TEST_NEVER_MS;
	opt.boot_id_path = fx.bootfile;
	char err[256];
	cr_assert_eq(gitstore_open(&gs, fx.store, &opt, err, sizeof(err)), 0,
		     "%s", err);
	struct node_list l = { 0 };
	uint64_t seq;
	int e = gitstore_recover_nodes(gs, node_list_collect, &l, &seq);
	/* a corrupt tree, not whatever an unset child gave */
	cr_assert_eq(e, -EIO, "%d, %zu nodes: %s", e, l.n,
		     gitstore_last_error(gs));
	nodes_free(&l);
	gitstore_close(gs);
}
