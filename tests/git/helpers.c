/* helpers.c - shared fixtures for the Git store tests. */
#include "helpers.h"
#include "store/git/checkpoint.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

void fixture_init(struct fixture *f, const char *boot)
{
	snprintf(f->root, sizeof(f->root), "/tmp/gitstore-test-XXXXXX");
	cr_assert_not_null(mkdtemp(f->root));
	snprintf(f->store, sizeof(f->store), "%s/store", f->root);
	snprintf(f->bootfile, sizeof(f->bootfile), "%s/boot_id", f->root);
	fixture_set_boot(f, boot);
}

void fixture_set_boot(struct fixture *f, const char *boot)
{
	FILE *fp = fopen(f->bootfile, "w");
	cr_assert_not_null(fp);
	fprintf(fp, "%s\n", boot);
	fclose(fp);
}

void fixture_fini(struct fixture *f)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->root);
}

int node_list_collect(void *ctx, const char *path, const void *value,
		      uint32_t len, const struct xsw_perm *perms, unsigned n)
{
	struct node_list *l = ctx;
	struct tnode *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -1;
	l->v = v;
	struct tnode *t = &v[l->n++];
	t->path = strdup(path);
	t->value = malloc(len + 1);
	memcpy(t->value, value, len);
	t->value[len] = '\0';
	t->len = len;
	t->perms[0] = '\0';
	size_t off = 0;
	for (unsigned i = 0; i < n && off < sizeof(t->perms) - 16; i++)
		off += (size_t)snprintf(t->perms + off, sizeof(t->perms) - off,
					"%s%c%u", i ? "," : "",
					"nrwb"[perms[i].perms & 3],
					perms[i].domid);
	return 0;
}

struct gitstore *open_store(struct fixture *f, unsigned pack_interval_ms,
			    enum gitstore_fsync fsync, struct node_list *nodes,
			    uint64_t *last_seq)
{
	struct gitstore_options o;
	gitstore_options_init(&o);
	o.pack_interval_ms = pack_interval_ms;
	o.fsync = fsync;
	return open_store_with(f, &o, nodes, last_seq);
}

struct gitstore *open_store_with(struct fixture *f,
				 const struct gitstore_options *opts,
				 struct node_list *nodes, uint64_t *last_seq)
{
	struct gitstore_options o = *opts;
	struct gitstore *gs;
	struct node_list tmp = { 0 };
	char err[256];
	uint64_t seq;
	o.boot_id_path = f->bootfile;
	o.lag_max = 1000000;
	int e = gitstore_open(&gs, f->store, &o, err, sizeof(err));
	cr_assert_eq(e, 0, "open: %d %s", e, err);
	e = gitstore_recover_nodes(gs, node_list_collect, nodes ? nodes : &tmp,
				   &seq);
	cr_assert_eq(e, 0, "recover: %d %s", e, gitstore_last_error(gs));
	nodes_free(&tmp);
	if (last_seq)
		*last_seq = seq;
	return gs;
}

void git_fsck_clean(struct fixture *f, const char *what)
{
	int st;
	char *o = git_out(f, &st, "fsck --strict --no-dangling");
	cr_assert_eq(st, 0, "git fsck%s%s: %s", what ? " " : "",
		     what ? what : "", o);
	free(o);
}

void nodes_free(struct node_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int nodes_index(const struct node_list *l, const char *path)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].path, path))
			return (int)i;
	return -1;
}

const struct tnode *nodes_find(const struct node_list *l, const char *path)
{
	int i = nodes_index(l, path);
	return i < 0 ? NULL : &l->v[i];
}

static const struct xsw_perm owner0 = { 0, XSW_PERM_NONE };

void commit_write(struct gitstore *gs, uint32_t domid, const char *path,
		  const char *value)
{
	struct xsw_perm perms[2] = { { domid, XSW_PERM_NONE },
				     { 0, XSW_PERM_READ } };
	struct store_op op = { STORE_OP_WRITE, path };
	struct store_effect ef = { path, false, value, (uint32_t)strlen(value),
				   domid ? perms : &owner0, domid ? 2 : 1 };
	struct store_commit c = {
		.caller = { domid, domid == 0, UINT32_MAX, 1 },
		.nops = 1, .ops = &op, .neffects = 1, .effects = &ef,
	};
	cr_assert_eq(gitstore_append(gs, &c, NULL), 0);
}

void commit_rm(struct gitstore *gs, uint32_t domid, const char *path)
{
	struct store_op op = { STORE_OP_RM, path };
	struct store_effect ef = { path, true, NULL, 0, NULL, 0 };
	struct store_commit c = {
		.caller = { domid, domid == 0, UINT32_MAX, 1 },
		.nops = 1, .ops = &op, .neffects = 1, .effects = &ef,
	};
	cr_assert_eq(gitstore_append(gs, &c, NULL), 0);
}

char *git_out(struct fixture *f, int *status, const char *fmt, ...)
{
	char args[1024], cmd[1400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "git --git-dir='%s' %s 2>&1", f->store,
		 args);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t cap = 4096, len = 0;
	char *out = malloc(cap);
	size_t n;
	while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 2)
			out = realloc(out, cap *= 2);
	}
	out[len] = '\0';
	int st = pclose(p);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out;
}

unsigned count_lines(const char *s)
{
	unsigned n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

void journal_segment(struct fixture *f, char *out, size_t len)
{
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/journal", f->store);
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".xsj")) {
			snprintf(out, len, "%s/%s", dir, de->d_name);
			n++;
		}
	closedir(d);
	cr_assert_eq(n, 1, "%d segments", n);
}

void crash_after(void (*fn)(void))
{
	pid_t pid = fork();
	int st;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		fn();
		kill(getpid(), SIGKILL);
		_exit(99);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		  "child failed before its crash (status %d)", st);
}

void main_commit(struct fixture *f, git_oid *id)
{
	int st;
	char *o = git_out(f, &st, "rev-parse main");
	cr_assert_eq(st, 0);
	cr_assert_eq(git_oid_fromstrn(id, o, GIT_OID_HEXSZ), 0);
	free(o);
}

void checkpoint_once(struct fixture *f)
{
	struct gs_checkpoint c;
	git_oid head;
	main_commit(f, &head);
	cr_assert_eq(gs_checkpoint_start(&c, f->store, false, 1, 1, &head), 0);
	uint64_t done = 0;
	int err = 0;
	for (int i = 0; i < 3000 && !done && !err; i++) {
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&c.lock);
		done = c.done;
		err = c.err;
		pthread_mutex_unlock(&c.lock);
	}
	gs_checkpoint_stop(&c);
	cr_assert_eq(err, 0, "checkpoint: %d", err);
	cr_assert_eq(done, 1);
}

int walk_dump_node(void *ctx, const char *path, const void *value,
		   uint32_t len, const struct xsw_perm *perms, unsigned nperms)
{
	struct walk_dump *d = ctx;
	char line[512];
	int n = snprintf(line, sizeof(line), "%s=%.*s", path, (int)len,
			 (const char *)value);
	for (unsigned i = 0; i < nperms && n < (int)sizeof(line) - 16; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %u:%u",
			      perms[i].domid, perms[i].perms);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (d->len + (size_t)n > d->cap) {
		d->cap = (d->len + (size_t)n) * 2;
		d->s = realloc(d->s, d->cap);
		cr_assert_not_null(d->s);
	}
	memcpy(d->s + d->len, line, (size_t)n);
	d->len += (size_t)n;
	return 0;
}

void mirror_effect(struct gs_mirror *m, const char *path, bool deleted,
		   const char *value)
{
	struct xsw_perm p[1] = { { 0, XSW_PERM_NONE } };
	struct store_effect e = { path, deleted, value,
				  value ? (uint32_t)strlen(value) : 0, p, 1 };
	cr_assert_eq(gs_mirror_apply(m, &e), 0, "%s", path);
}

git_oid mirror_write_one(struct gs_mirror *m)
{
	git_oid id;
	cr_assert_eq(gs_mirror_write(m, &id), 0);
	return id;
}

void expect_same_tree(const git_oid *a, const git_oid *b, const char *what)
{
	char ha[GIT_OID_HEXSZ + 1], hb[GIT_OID_HEXSZ + 1];
	cr_assert(git_oid_equal(a, b), "%s: incremental %s, whole %s", what,
		  git_oid_tostr(ha, sizeof(ha), a),
		  git_oid_tostr(hb, sizeof(hb), b));
}

char *history_seqs(struct fixture *f)
{
	int st;
	char *o = git_out(f, &st,
			  "log --reverse '--format=%%(trailers:key=Xenstore-Seq,valueonly,separator=)%%x2c' main");
	cr_assert_eq(st, 0, "%s", o);
	char *w = o;
	for (char *r = o; *r; r++)
		if (*r != '\n')
			*w++ = *r;
	*w = '\0';
	return o;
}
