/*
 * daemon.h - starting, probing and stopping the daemons under test.
 *
 * Ours is forked and exec'd here (own session, log in <dir>/daemon.log).
 * The reference daemons are started through the peer scripts
 * (start-peer.sh <dir> c|o), which print their pid. Every stop is by pid.
 *
 * Errors: 0 or a negative errno. Memory: struct bench_daemon is the
 * caller's; it holds no heap memory.
 */
#ifndef BENCH_DAEMON_H
#define BENCH_DAEMON_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

enum bench_kind { BENCH_OURS, BENCH_CXS, BENCH_OXS, BENCH_KINDS };

struct bench_daemon {
	enum bench_kind kind;
	char dir[256];    /* scratch: socket, pid file, log */
	char sock[300];
	char store[300];  /* ours: --store directory */
	pid_t pid;
	bool child;       /* ours: a child of this process (waitpid) */
};

struct bench_daemon_opts {
	const char *ours;      /* path of our xenstored */
	const char *peer_dir;  /* folder with start-peer.sh */
	const char *store;     /* ours: store dir; NULL -> <dir>/store */
	const char *const *extra; /* ours: more arguments, NULL-terminated */
	bool quiet;
};

const char *bench_kind_name(enum bench_kind k);

/* Starts the daemon with its socket in dir (created). Does not wait. */
int bench_daemon_start(struct bench_daemon *d, enum bench_kind kind,
		       const char *dir, const struct bench_daemon_opts *o);
/*
 * Waits until the socket answers a READ (any reply), up to timeout_s.
 * Returns 0, -ETIMEDOUT, or -ECHILD when the daemon died (log printed).
 */
int bench_daemon_wait_ready(struct bench_daemon *d, double timeout_s);
/* SIGTERM, wait up to timeout_s, then SIGKILL. Returns 0 when it exited
 * by itself with status 0, 1 when it exited otherwise or had to be killed. */
int bench_daemon_stop(struct bench_daemon *d, double timeout_s);
/* SIGKILL and reap. */
void bench_daemon_kill9(struct bench_daemon *d);
/* VmRSS of the daemon in KiB, or -errno. */
long bench_daemon_rss_kib(const struct bench_daemon *d);
/*
 * Prints where the daemon's RSS is, from /proc/PID/smaps: KiB per mapped
 * file (summed over its mappings), heap, stacks and other anonymous memory.
 */
int bench_daemon_rss_map(const struct bench_daemon *d, FILE *out);
/*
 * CPU seconds (user + system) used so far by the daemon's threads named
 * name (/proc/PID/task/TID/comm), by all of them when name is NULL;
 * negative errno when the daemon cannot be read.
 */
double bench_daemon_thread_cpu(const struct bench_daemon *d, const char *name);
/* The same for the whole process, its ended threads included. */
double bench_daemon_cpu(const struct bench_daemon *d);
/*
 * CPU seconds of the threads named name, ended ones included: the
 * process's total less its other live threads. Our writer thread hands
 * over to a new one at rest (store/git/writer.c), so the live thread
 * alone would lose the time of those before it. Ended threads of other
 * names (recovery's, at start) count too: compare two readings.
 */
double bench_daemon_writer_cpu(const struct bench_daemon *d, const char *name);
/* Prints the last lines of the daemon's log to stderr. */
void bench_daemon_log_tail(const struct bench_daemon *d);

#endif
