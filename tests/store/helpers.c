#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

struct store *st;
struct rec recs[MAXREC];
unsigned nrecs;
const struct store_caller dom0 = { 0, true, UINT32_MAX, 1 };
const struct store_caller dom1 = { 1, false, UINT32_MAX, 2 };
const struct store_caller dom2 = { 2, false, UINT32_MAX, 3 };
const struct store_caller dom3_for_1 = { 3, false, 1, 4 };

static void copy(char *dst, const char *src, size_t n)
{
	snprintf(dst, n, "%s", src ? src : "(null)");
}

static void hook(void *ctx, const struct store_commit *c)
{
	struct rec *r;
	unsigned i;

	(void)ctx;
	/* Long runs only count; tests that inspect records stay short. */
	if (nrecs >= MAXREC) {
		nrecs++;
		return;
	}
	r = &recs[nrecs++];
	memset(r, 0, sizeof(*r));
	r->tx_id = c->tx_id;
	r->seq = c->seq;
	r->domid = c->caller.domid;
	r->nops = c->nops;
	r->neffects = c->neffects;
	r->nevents = c->nevents;
	for (i = 0; i < c->nops && i < MAXREC; i++) {
		r->op_kind[i] = c->ops[i].kind;
		copy(r->op_path[i], c->ops[i].path, 128);
	}
	for (i = 0; i < c->neffects && i < MAXREC; i++) {
		const struct store_effect *e = &c->effects[i];

		copy(r->eff_path[i], e->path, 128);
		r->eff_deleted[i] = e->deleted;
		if (!e->deleted) {
			memcpy(r->eff_value[i], e->value,
			       e->len < 63 ? e->len : 63);
			r->eff_nperms[i] = e->nperms;
			cr_assert(e->nperms > 0);
			r->eff_owner[i] = e->perms[0].domid;
		}
	}
	for (i = 0; i < c->nevents && i < MAXREC; i++) {
		const struct store_event *e = &c->events[i];

		copy(r->ev_path[i], e->path, 128);
		r->ev_exact[i] = e->exact;
		cr_assert(e->nperms > 0);
		r->ev_owner[i] = e->perms[0].domid;
		r->ev_nold[i] = e->old_perms ? e->nold_perms : 0;
	}
}

void fx_setup(void)
{
	cr_assert_eq(store_new(&st), 0);
	store_set_commit_hook(st, hook, NULL);
	nrecs = 0;
}

void fx_teardown(void)
{
	char err[256];

	cr_expect_eq(store_check(st, err, sizeof(err)), 0, "%s", err);
	store_free(st);
	st = NULL;
}

const char *val(const char *path)
{
	static char buf[256];
	struct store_node_view v;

	if (store_read(st, NULL, &dom0, path, &v))
		return NULL;
	cr_assert(v.len < sizeof(buf));
	memcpy(buf, v.value, v.len);
	buf[v.len] = '\0';
	return buf;
}

const char *dir(struct store_txn *t, const struct store_caller *who,
		const char *path)
{
	static char buf[1024];
	char *names;
	size_t len, off, o = 0;

	if (store_directory(st, t, who, path, &names, &len, NULL))
		return NULL;
	buf[0] = '\0';
	for (off = 0; off < len; off += strlen(names + off) + 1)
		o += snprintf(buf + o, sizeof(buf) - o, "%s%s", o ? "," : "",
			      names + off);
	free(names);
	return buf;
}

int wr(struct store_txn *t, const struct store_caller *who, const char *path,
       const char *v)
{
	return store_write(st, t, who, path, v, strlen(v));
}

int setp(struct store_txn *t, const struct store_caller *who,
	 const char *path, const char *s)
{
	struct xsw_perm p[16];
	char tmp[256], *tok, *save = NULL;
	unsigned n = 0;

	snprintf(tmp, sizeof(tmp), "%s", s);
	for (tok = strtok_r(tmp, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		cr_assert_eq(xsw_perm_parse(tok, &p[n++]), 0, "%s", tok);
	return store_set_perms(st, t, who, path, p, n);
}

const char *perms(const char *path)
{
	return perms_in(NULL, path);
}

const char *perms_in(struct store_txn *t, const char *path)
{
	static char buf[256];
	struct store_node_view v;
	size_t o = 0;
	unsigned i;
	char one[16];

	if (store_read(st, t, &dom0, path, &v))
		return NULL;
	buf[0] = '\0';
	for (i = 0; i < v.nperms; i++) {
		one[xsw_perm_format(&v.perms[i], one)] = '\0';
		o += snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? "," : "",
			      one);
	}
	return buf;
}

struct store_txn *begin(const struct store_caller *who, uint32_t id)
{
	struct store_txn *t;

	cr_assert_eq(store_txn_begin(st, who, id, &t), 0);
	return t;
}

const char *tval(struct store_txn *t, const char *path)
{
	static char buf[128];
	struct store_node_view v;

	if (store_read(st, t, &dom0, path, &v))
		return NULL;
	memcpy(buf, v.value, v.len);
	buf[v.len] = '\0';
	return buf;
}
