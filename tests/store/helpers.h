/* helpers.h - shared fixtures for the store tests: a store plus a commit log. */
#ifndef TEST_STORE_HELPERS_H
#define TEST_STORE_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

#define MAXREC 64

/* A deep copy of one commit record, as the hook saw it. */
struct rec {
	uint32_t tx_id;
	uint64_t seq;
	uint32_t domid;
	unsigned nops, neffects, nevents;
	int op_kind[MAXREC];
	char op_path[MAXREC][128];
	char eff_path[MAXREC][128];
	bool eff_deleted[MAXREC];
	char eff_value[MAXREC][64];
	unsigned eff_nperms[MAXREC];
	uint32_t eff_owner[MAXREC];
	char ev_path[MAXREC][128];
	bool ev_exact[MAXREC];
	uint32_t ev_owner[MAXREC];
	unsigned ev_nold[MAXREC];
};

extern struct store *st;
extern struct rec recs[MAXREC];
extern unsigned nrecs;
extern const struct store_caller dom0, dom1, dom2, dom3_for_1;

void fx_setup(void);
void fx_teardown(void);
/* Value of path as dom0 sees it outside transactions, or NULL. */
const char *val(const char *path);
/* Child names joined with ',' into a static buffer, or NULL on error. */
const char *dir(struct store_txn *t, const struct store_caller *who,
		const char *path);
int wr(struct store_txn *t, const struct store_caller *who, const char *path,
       const char *v);
int setp(struct store_txn *t, const struct store_caller *who,
	 const char *path, const char *perms);
/* Permissions of path as "n0,r1" into a static buffer. */
const char *perms(const char *path);
/* The same as a transaction sees it (t may be NULL). */
const char *perms_in(struct store_txn *t, const char *path);
/* A transaction that must start; the value of path as t sees it (static). */
struct store_txn *begin(const struct store_caller *who, uint32_t id);
const char *tval(struct store_txn *t, const char *path);

#endif
