/* cmd.h - the subcommands of xs-history and what they share. */
#ifndef XS_HISTORY_CMD_H
#define XS_HISTORY_CMD_H

#include "hist.h"

struct opts {
	const char *store;
	const char *cache;   /* NULL default, "" none */
	bool json;
};

/* Each returns the exit status; argv[0] is the subcommand's name. */
int cmd_log(struct opts *o, int argc, char **argv);
int cmd_show(struct opts *o, int argc, char **argv);
int cmd_diff(struct opts *o, int argc, char **argv);
int cmd_blame(struct opts *o, int argc, char **argv);
int cmd_boots(struct opts *o, int argc, char **argv);
int cmd_follow(struct opts *o, int argc, char **argv);
int cmd_git_path(struct opts *o, int argc, char **argv);

/* Prints the subcommand's --help text; true if name is known. */
bool cmd_help(const char *name, FILE *f);

/* Opens the history or prints why not; 0 or an exit status. */
int cmd_open(struct opts *o, struct hist *h);
/* "error: ..." to stderr; returns the exit status 1. */
int cmd_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A canonical absolute path, or NULL after a message. */
const char *cmd_path(const char *arg);

/*
 * Did change i touch path or below: an op named it or something below,
 * or (an op on an ancestor, a boot commit, a daemon change) the subtree
 * differs from the change before.
 */
int hist_touches(struct hist *h, size_t i, const char *path, bool *yes);

/* Prints change i: a header line, its ops and, with diff, its changes. */
int print_change(struct hist *h, size_t i, const char *path, bool json,
		 bool diff);

/* Index of boot --boot N / id in h->boots (runs), or -1. */
long boot_resolve(struct hist *h, const char *arg);

#endif
