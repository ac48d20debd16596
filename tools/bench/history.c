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

int history_read(const char *store, const char *from, struct hist_op **ops,
		 size_t *nops, size_t *ncommits, size_t *plain, char head[41],
		 char *err, size_t errlen)
{
	char cmd[800], commit[41] = "", *line = NULL;
	struct hist_op cur = { 0 };
	bool in_commit = false, have_marker = false;
	size_t cap = 0, linecap = 0;
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

#define END_COMMIT()                                                       \
	do {                                                                \
		if (in_commit) {                                            \
			if (have_marker) {                                  \
				if (rc == 0)                                \
					rc = push(ops, nops, &cap, &cur);   \
			} else {                                            \
				(*plain)++;                                 \
			}                                                   \
		}                                                           \
	} while (0)

	while (getline(&line, &linecap, p) > 0) {
		struct hist_op op = { 0 };

		if (!strncmp(line, "@@commit ", 9)) {
			END_COMMIT();
			in_commit = true;
			have_marker = false;
			(*ncommits)++;
			snprintf(commit, sizeof(commit), "%.40s", line + 9);
			continue;
		}
		if (line[0] != '+' || !strncmp(line, "+++ ", 4) ||
		    strncmp(line + 1, XCRASH_PREFIX, strlen(XCRASH_PREFIX)))
			continue;
		if (parse_marker(line + 1, &op) < 0) {
			if (rc == 0)
				snprintf(err, errlen, "commit %s: bad marker %s",
					 commit, line + 1);
			rc = rc ? rc : -EPROTO;
			continue;
		}
		if (!have_marker) {
			cur = op;
			cur.nlines = 1;
			have_marker = true;
		} else if (op.cid == cur.cid && op.seq == cur.seq &&
			   op.kind == cur.kind) {
			cur.nlines++;
		} else if (rc == 0) {
			snprintf(err, errlen,
				 "commit %s mixes two operations: c%d s%" PRIu64
				 " and c%d s%" PRIu64, commit, cur.cid, cur.seq,
				 op.cid, op.seq);
			rc = -EPROTO;
		}
	}
	END_COMMIT();
#undef END_COMMIT
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
