/*
 * single.h - one libxenstore client, one request at a time: xs_write then
 * xs_read of 16-byte values over the keys (both calls count as ops).
 *
 * single_run() measures one daemon for secs. single_interleaved() keeps
 * one client open on each of n daemons, all running, and measures them
 * in turn, slice after slice, the order rotating each round: a busy
 * machine's load changes within seconds, so daemons measured one after
 * the other see different machines; slices side by side see the same.
 *
 * Errors: a negative errno (single_run: -1). Memory: nothing kept.
 */
#ifndef BENCH_SINGLE_H
#define BENCH_SINGLE_H

#include "daemon.h"

/* ops/s, or -1 on a failed request. */
double single_run(const char *sock, double secs, char **keys, int n);

struct single_slices {
	int rounds;
	double ops[BENCH_KINDS][64];   /* ops/s per daemon per round */
	double cpu_us[BENCH_KINDS];    /* daemon CPU (all threads) per op */
	double cswitch[BENCH_KINDS];   /* daemon context switches per op */
};

/*
 * d[i] for the n daemons (of distinct kinds), rounds (at most 64) of one
 * slice of slice_s seconds per daemon. Fills out, indexed by kind.
 */
int single_interleaved(struct bench_daemon *const *d, int n, int rounds,
		       double slice_s, char **keys, int nkeys,
		       struct single_slices *out);

/* The median of v[0..n) (v is reordered). */
double single_median(double *v, int n);

#endif
