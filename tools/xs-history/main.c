/*
 * xs-history - audit a xenstored-git store: who changed what, and when.
 * Read-only on the store; safe while the daemon runs.
 */
#include "cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_STORE "/var/lib/xenstored"

static const struct {
	const char *name;
	int (*fn)(struct opts *, int, char **);
	const char *help;
} cmds[] = {
	{ "log", cmd_log,
	  "usage: xs-history [--store DIR] log [options] [PATH]\n"
	  "The changes that touched PATH (default /) or below, newest first:\n"
	  "time, domain, connection, transaction, operations.\n"
	  "  --domain N       changes made by domain N\n"
	  "  --since WHEN     changes at or after WHEN (time, age, id, ~N)\n"
	  "  --until WHEN     changes at or before WHEN\n"
	  "  --op OP          with an operation OP on PATH, below or above:\n"
	  "                   write, mkdir, rm, perms, domain, boot\n"
	  "  -n N             at most N changes\n"
	  "  -p, --patch      each change's differences below PATH\n"
	  "  --boot N|ID      that boot (0 current, -1 previous, 1 first)\n"
	  "  --all-boots      every boot (default: the current one)\n"
	  "  --json           one JSON object per change\n" },
	{ "show", cmd_show,
	  "usage: xs-history [--store DIR] show [--json] [WHEN] [PATH]\n"
	  "The tree at WHEN (default: the newest change) below PATH, PATH\n"
	  "itself included, as xenstore-ls -fp prints it.\n" },
	{ "diff", cmd_diff,
	  "usage: xs-history [--store DIR] diff [--json] WHEN1 [WHEN2] [PATH]\n"
	  "What changed below PATH between WHEN1 and WHEN2 (default: the\n"
	  "newest change): + added, - removed, ~ changed value or perms.\n" },
	{ "blame", cmd_blame,
	  "usage: xs-history [--store DIR] blame [--json] [WHEN] [PATH]\n"
	  "For each node below PATH (at WHEN, default the newest change), the\n"
	  "change that last set it: commit, time, seq, domain, then the node.\n" },
	{ "boots", cmd_boots,
	  "usage: xs-history [--store DIR] boots [--json]\n"
	  "The host boots the store has seen, oldest first: index (0 current,\n"
	  "-1 previous), boot id, first and last change, number of changes.\n" },
	{ "follow", cmd_follow,
	  "usage: xs-history [--store DIR] follow [options] [PATH]\n"
	  "Prints changes touching PATH as they happen, like tail -f.\n"
	  "  -n N             first print the last N such changes\n"
	  "  -p, --patch      with their differences\n"
	  "  --timeout SECS   stop after SECS seconds\n"
	  "  --interval SECS  polling interval (default 0.2)\n"
	  "  --json           one JSON object per change\n" },
	{ "git-path", cmd_git_path,
	  "usage: xs-history [--store DIR] git-path [--at WHEN] [--json] PATH\n"
	  "The path in Git of the node PATH at the commit WHEN (default: the\n"
	  "newest commit), following the buckets of fanned-out directories:\n"
	  "  git --git-dir=DIR show main:$(xs-history git-path PATH)/.value\n"
	  "Fails if PATH does not exist there.\n" },
};

static void usage(FILE *f)
{
	fputs("usage: xs-history [--store DIR] [--cache DIR|--no-cache] "
	      "[--json] COMMAND [ARGS]\n"
	      "commands: log, show, diff, blame, boots, follow, git-path\n"
	      "WHEN: a commit id (7+ hex digits), @SECONDS, an ISO 8601 time\n"
	      "(2024-05-01T12:00:00Z), an age (90s, 15m, 2h, 3d, 1w), ~N\n"
	      "(N changes before the newest) or now.\n"
	      "xs-history COMMAND --help describes each; see xs-history(1).\n"
	      "The store defaults to " DEFAULT_STORE ".\n", f);
}

bool cmd_help(const char *name, FILE *f)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, name)) {
			fputs(cmds[i].help, f);
			return true;
		}
	return false;
}

int cmd_fail(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs("xs-history: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

const char *cmd_path(const char *arg)
{
	/* canonical: absolute, no empty or trailing components */
	size_t n = strlen(arg);
	if (arg[0] != '/' || strstr(arg, "//") ||
	    (n > 1 && arg[n - 1] == '/') || n > 3072 ||
	    strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789-/_@") != n) {
		cmd_fail("%s: not a xenstore path (absolute, no trailing /)",
			 arg);
		return NULL;
	}
	return arg;
}

int cmd_open(struct opts *o, struct hist *h)
{
	int e = hist_open(h, o->store, o->cache);
	if (!e)
		return 0;
	cmd_fail("%s", h->err[0] ? h->err : strerror(-e));
	hist_close(h);
	return 1;
}

int main(int argc, char **argv)
{
	struct opts o = { .store = getenv("XS_HISTORY_STORE") };
	int i = 1;
	if (!o.store || !*o.store)
		o.store = DEFAULT_STORE;
	/* global options, before the command (and in it: see below) */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--store") && i + 1 < argc)
			o.store = argv[++i];
		else if (!strncmp(argv[i], "--store=", 8))
			o.store = argv[i] + 8;
		else if (!strcmp(argv[i], "--cache") && i + 1 < argc)
			o.cache = argv[++i];
		else if (!strcmp(argv[i], "--no-cache"))
			o.cache = "";
		else if (!strcmp(argv[i], "--json"))
			o.json = true;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
		if (strcmp(cmds[k].name, argv[i]))
			continue;
		/* --store and --cache may also follow the command */
		int n = 0;
		char **v = calloc((size_t)(argc - i + 1), sizeof(*v));
		if (!v)
			return 1;
		for (int j = i; j < argc; j++) {
			if (!strcmp(argv[j], "--store") && j + 1 < argc)
				o.store = argv[++j];
			else if (!strncmp(argv[j], "--store=", 8))
				o.store = argv[j] + 8;
			else if (!strcmp(argv[j], "--cache") && j + 1 < argc)
				o.cache = argv[++j];
			else if (!strcmp(argv[j], "--no-cache"))
				o.cache = "";
			else
				v[n++] = argv[j];
		}
		int rc = cmds[k].fn(&o, n, v);
		free(v);
		return rc;
	}
	cmd_fail("%s: no such command", argv[i]);
	usage(stderr);
	return 2;
}
