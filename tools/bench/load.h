/*
 * load.h - pipelined load over the raw socket protocol, and tree pre-fill.
 *
 * One thread drives every connection with poll(): the client must cost the
 * machine (2 cores, shared with the daemon) as little as possible, so that
 * the figure measures the daemon.
 *
 * Errors: 0 or a negative errno. Memory: key arrays from load_keys_*() are
 * the caller's (load_keys_free()).
 */
#ifndef BENCH_LOAD_H
#define BENCH_LOAD_H

#include <stddef.h>
#include <stdint.h>

struct load_spec {
	const char *sock;
	int conns;           /* connections */
	int depth;           /* requests in flight per connection */
	int write_pct;       /* 0..100: share of WRITE, the rest READ */
	char **keys;         /* existing nodes the requests spread over */
	int nkeys;
	double seconds;      /* stop after this long (0: no limit) */
	uint64_t max_ops;    /* stop after this many replies (0: no limit) */
	uint64_t seed;
};

struct load_result {
	uint64_t ops;     /* successful replies */
	uint64_t errors;  /* XS_ERROR replies */
	uint64_t writes;  /* WRITEs sent, drained ones included */
	double secs;
};

int load_run(const struct load_spec *s, struct load_result *res);

/* Node j (0..per_domain-1) of domain dom in the pre-filled tree. */
void load_domain_path(char *buf, size_t len, int dom, int j);
/*
 * Writes domains x per_domain nodes (values of 16 bytes), one transaction
 * per domain, starting at domain first. Returns 0 or -errno.
 */
int load_prefill(const char *sock, int first, int domains, int per_domain);
/* Writes every key once (so that reads find them). */
int load_create_keys(const char *sock, char **keys, int nkeys);

/* n keys /bench/k<i>, or n keys spread over pre-filled domains first.. */
char **load_keys_small(int n);
char **load_keys_domains(int n, int first, int domains, int per_domain);
void load_keys_free(char **keys, int n);

#endif
