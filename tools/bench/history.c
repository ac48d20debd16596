/* history.c - the store's Git history through the git CLI (see history.h). */
#include "history.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Resolves rev to a commit id; 0 or -ENOENT. */
static int rev_parse(const char *store, const char *rev, char head[41])
{
	char cmd[600], line[128] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "git -C '%s' rev-parse --verify -q '%s^{commit}' 2>/dev/null",
		 store, rev);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	if (!fgets(line, sizeof(line), p))
		line[0] = '\0';
	if (pclose(p) != 0 || strlen(line) < 40)
		return -ENOENT;
	memcpy(head, line, 40);
	head[40] = '\0';
	return 0;
}

int history_head(const char *store, char head[41])
{
	/* HEAD of a bare repository may name an unborn default branch; the
	 * store's documented branch is main */
	if (rev_parse(store, "HEAD", head) == 0)
		return 0;
	return rev_parse(store, "refs/heads/main", head);
}

/* Parses "xcrash-<cid>-<seq>-<k>" at s. */
static int parse_marker(const char *s, struct hist_op *op)
{
	int cid, used = 0;
	uint64_t seq;
	char kind;

	if (sscanf(s, XCRASH_PREFIX "%d-%" SCNu64 "-%c%n", &cid, &seq, &kind,
		   &used) != 3 || (kind != 't' && kind != 'w'))
		return -EINVAL;
	s += used;
	if (*s && *s != '\n')
		return -EINVAL;
	op->cid = cid;
	op->seq = seq;
	op->kind = kind;
	return 0;
}

static int push(struct hist_op **ops, size_t *n, size_t *cap,
		const struct hist_op *op)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		struct hist_op *p = realloc(*ops, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		*ops = p;
		*cap = nc;
	}
	(*ops)[(*n)++] = *op;
	return 0;
}

/* A marker's net count in one commit: + for each added line, - removed. */
struct tally {
	struct hist_op op;
	int n;
};

static int tally_add(struct tally **t, size_t *n, size_t *cap,
		     const struct hist_op *op, int d)
{
	for (size_t i = 0; i < *n; i++)
		if ((*t)[i].op.cid == op->cid && (*t)[i].op.seq == op->seq &&
		    (*t)[i].op.kind == op->kind) {
			(*t)[i].n += d;
			return 0;
		}
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct tally *p = realloc(*t, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		*t = p;
		*cap = nc;
	}
	(*t)[(*n)++] = (struct tally){ *op, d };
	return 0;
}

/*
 * Ends a commit: the one marker added more often than removed is its
 * operation. A value that only moved (a directory fanned out, its
 * children's trees now in buckets) is removed and added: net zero.
 */
static int tally_end(const struct tally *t, size_t n, const char *commit,
		     struct hist_op **ops, size_t *nops, size_t *cap,
		     size_t *plain, char *err, size_t errlen)
{
	const struct tally *hit = NULL;
	struct hist_op op;

	for (size_t i = 0; i < n; i++) {
		if (t[i].n <= 0)
			continue;
		if (hit) {
			snprintf(err, errlen,
				 "commit %s mixes two operations: c%d s%" PRIu64
				 " and c%d s%" PRIu64, commit, hit->op.cid,
				 hit->op.seq, t[i].op.cid, t[i].op.seq);
			return -EPROTO;
		}
		hit = &t[i];
	}
	if (!hit) {
		(*plain)++;
		return 0;
	}
	op = hit->op;
	op.nlines = hit->n;
	return push(ops, nops, cap, &op);
}

int history_read(const char *store, const char *from, struct hist_op **ops,
		 size_t *nops, size_t *ncommits, size_t *plain, char head[41],
		 char *err, size_t errlen)
{
	char cmd[800], commit[41] = "", *line = NULL;
	struct tally *t = NULL;
	bool in_commit = false;
	size_t cap = 0, linecap = 0, nt = 0, tcap = 0;
	FILE *p;
	int rc = 0;

	*ops = NULL;
	*nops = *ncommits = *plain = 0;
	rc = history_head(store, head);
	if (rc < 0) {
		snprintf(err, errlen, "no HEAD in %s", store);
		return rc;
	}
	/* --unified=0: only the changed lines; -m is not wanted (linear) */
	snprintf(cmd, sizeof(cmd),
		 "git -C '%s' log --reverse --no-renames --no-color -p --unified=0 "
		 "--format='@@commit %%H' %s%s%s", store, from ? from : "",
		 from ? ".." : "", head);
	p = popen(cmd, "r");
	if (!p)
		return -errno;

	while (getline(&line, &linecap, p) > 0) {
		struct hist_op op = { 0 };

		if (!strncmp(line, "@@commit ", 9)) {
			if (in_commit && rc == 0)
				rc = tally_end(t, nt, commit, ops, nops, &cap,
					       plain, err, errlen);
			in_commit = true;
			nt = 0;
			(*ncommits)++;
			snprintf(commit, sizeof(commit), "%.40s", line + 9);
			continue;
		}
		if ((line[0] != '+' && line[0] != '-') ||
		    !strncmp(line, "+++ ", 4) || !strncmp(line, "--- ", 4) ||
		    strncmp(line + 1, XCRASH_PREFIX, strlen(XCRASH_PREFIX)))
			continue;
		if (parse_marker(line + 1, &op) < 0) {
			if (rc == 0)
				snprintf(err, errlen, "commit %s: bad marker %s",
					 commit, line + 1);
			rc = rc ? rc : -EPROTO;
			continue;
		}
		if (rc == 0)
			rc = tally_add(&t, &nt, &tcap, &op,
				       line[0] == '+' ? 1 : -1);
	}
	if (in_commit && rc == 0)
		rc = tally_end(t, nt, commit, ops, nops, &cap, plain, err,
			       errlen);
	free(t);
	free(line);
	if (pclose(p) != 0 && rc == 0) {
		snprintf(err, errlen, "git log failed in %s", store);
		rc = -EIO;
	}
	return rc;
}

int history_fsck(const char *store, char *err, size_t errlen)
{
	char cmd[600], line[512];
	FILE *p;
	int st, bad = 0;

	/* dangling objects are normal (an interrupted writer); errors are not */
	snprintf(cmd, sizeof(cmd), "git -C '%s' fsck --no-dangling --no-progress 2>&1",
		 store);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	while (fgets(line, sizeof(line), p)) {
		if (!bad)
			snprintf(err, errlen, "git fsck: %s", line);
		bad = 1;
	}
	st = pclose(p);
	if (st != 0 && !bad)
		snprintf(err, errlen, "git fsck exited with %d", WEXITSTATUS(st));
	return st != 0 || bad ? -EIO : 0;
}

int history_is_ancestor(const char *store, const char *a, const char *b)
{
	char cmd[600];
	int st;

	snprintf(cmd, sizeof(cmd), "git -C '%s' merge-base --is-ancestor %s %s",
		 store, a, b);
	st = system(cmd);
	if (st < 0 || !WIFEXITED(st))
		return -EIO;
	return WEXITSTATUS(st) == 0 ? 1 : WEXITSTATUS(st) == 1 ? 0 : -EIO;
}
