/*
 * xs-mkhist - builds a store's history the way the daemon does: a struct
 * store whose commit hook feeds the Git store engine, one flush per
 * command. Commands on stdin, one per line:
 *
 *   write DOM PATH VALUE | mkdir DOM PATH | rm DOM PATH
 *   chmod DOM PATH PERM... | begin DOM | commit | restart BOOTID
 *   sleep SECS | crash (exit at once: later records stay in the journal)
 *
 * Ops between begin and commit form one transaction. Prints, per change,
 * "seq <n>" on stdout, so that a test knows what to expect.
 */
#include "store/git/gitstore.h"
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct gitstore *gs;
static struct store *st;
static const char *dir, *bootfile;

static void die(const char *what, int e)
{
	fprintf(stderr, "xs-mkhist: %s: %s (%s)\n", what, strerror(-e),
		gs ? gitstore_last_error(gs) : "");
	exit(1);
}

static void hook(void *ctx, const struct store_commit *c)
{
	uint64_t seq;
	(void)ctx;
	int e = gitstore_append(gs, c, &seq);
	if (e)
		die("append", e);
	printf("seq %llu\n", (unsigned long long)seq);
}

static void start(const char *boot)
{
	FILE *f = fopen(bootfile, "w");
	if (!f || fprintf(f, "%s\n", boot) < 0 || fclose(f))
		die("boot id file", -EIO);
	struct gitstore_options o;
	char err[256];
	gitstore_options_init(&o);
	o.boot_id_path = bootfile;
	/* Git catches up at sync and close only: what crash leaves is known */
	o.pack_interval_ms = 600000;
	int e = gitstore_open(&gs, dir, &o, err, sizeof(err));
	if (e) {
		fprintf(stderr, "xs-mkhist: %s\n", err);
		exit(1);
	}
	if ((e = store_new(&st)) || (e = gitstore_recover(gs, st)))
		die("recover", e);
	store_set_commit_hook(st, hook, NULL);
}

static void stop(void)
{
	int e = gitstore_close(gs);
	gs = NULL;
	store_free(st);
	if (e)
		die("close", e);
}

int main(int argc, char **argv)
{
	char line[8192];
	struct store_txn *txn = NULL;
	uint32_t tx_id = 0;
	if (argc != 4) {
		fprintf(stderr, "usage: xs-mkhist STORE BOOTFILE BOOTID < cmds\n");
		return 2;
	}
	dir = argv[1];
	bootfile = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	start(argv[3]);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		char *save, *cmd = strtok_r(line, " ", &save);
		if (!cmd || cmd[0] == '#')
			continue;
		char *a1 = strtok_r(NULL, " ", &save);
		char *a2 = strtok_r(NULL, " ", &save);
		char *rest = save && *save ? save : NULL;
		struct store_caller who = { a1 ? (uint32_t)atoi(a1) : 0, false,
					    UINT32_MAX, 7 };
		who.privileged = who.domid == 0;
		int e = 0;
		if (!strcmp(cmd, "write"))
			e = store_write(st, txn, &who, a2, rest ? rest : "",
					rest ? (uint32_t)strlen(rest) : 0);
		else if (!strcmp(cmd, "mkdir"))
			e = store_mkdir(st, txn, &who, a2);
		else if (!strcmp(cmd, "rm"))
			e = store_rm(st, txn, &who, a2);
		else if (!strcmp(cmd, "chmod")) {
			struct xsw_perm p[16];
			unsigned n = 0;
			for (char *t = strtok_r(rest, " ", &save); t && n < 16;
			     t = strtok_r(NULL, " ", &save))
				if ((e = xsw_perm_parse(t, &p[n++])))
					break;
			if (!e)
				e = store_set_perms(st, txn, &who, a2, p, n);
		} else if (!strcmp(cmd, "begin"))
			e = store_txn_begin(st, &who, ++tx_id, &txn);
		else if (!strcmp(cmd, "commit")) {
			e = store_txn_commit(st, txn);
			txn = NULL;
		} else if (!strcmp(cmd, "restart")) {
			stop();
			start(a1);
		} else if (!strcmp(cmd, "sleep"))
			usleep((useconds_t)(atof(a1) * 1e6));
		else if (!strcmp(cmd, "sync"))
			e = gitstore_sync(gs);
		else if (!strcmp(cmd, "crash")) {
			if ((e = gitstore_flush(gs)))
				die("flush", e);
			fflush(stdout);
			_exit(0);
		} else
			e = -EINVAL;
		if (e)
			die(cmd, e);
		if ((e = gitstore_flush(gs)))
			die("flush", e);
	}
	stop();
	return 0;
}
