/*
 * domain.c - INTRODUCE RELEASE RESUME SET_TARGET GET_DOMAIN_PATH
 * IS_DOMAIN_INTRODUCED and the domain table.
 *
 * With a backend, INTRODUCE maps the domain's ring and serves it
 * (ring_conn.c); without one ("--backend none") it only records the
 * domain, as the reference daemon does when run without a hypervisor.
 * A domain that goes (RELEASE, death) takes its nodes with it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../protocol/path.h"
#include "backend.h"
#include "dispatch.h"
#include "domain.h"
#include "log.h"
#include "ring_conn.h"
#include "ring_state.h"
#include "watch.h"
#include "xenstored.h"

static struct xsd_domain *domains;
static unsigned ndomains;

uint32_t xsd_features_supported(void)
{
	return XSW_FEATURE_RECONNECTION | XSW_FEATURE_ERROR |
	       XSW_FEATURE_WATCHDEPTH;
}

struct xsd_domain *xsd_domain_find(uint32_t domid)
{
	struct xsd_domain *d;

	HASH_FIND(hh, domains, &domid, sizeof(domid), d);
	return d;
}

bool xsd_domain_known(uint32_t domid)
{
	int st;

	if (xsd_domain_find(domid))
		return true;
	if (!xsd_ring_enabled() || domid >= XSD_DOMID_SELF)
		return false;
	st = xsd_ring_domain_state(domid);
	return st >= 0 && st != XSD_DOM_GONE && st != XSD_DOM_DYING;
}

uint32_t xsd_domain_quota(uint32_t domid, int q)
{
	const struct xsd_domain *d = xsd_domain_find(domid);

	return d && d->quota[q] ? d->quota[q] : xsd.cfg.quota[q];
}

/* The store's memory hook: what domid's connection holds. */
static uint64_t domain_held(void *ctx, uint32_t domid)
{
	struct xsd_domain *d = xsd_domain_find(domid);
	struct xsd_conn *c = d ? xsd_ring_conn(d) : NULL;

	(void)ctx;
	return c && !c->privileged ? xsd_conn_memory(c) : 0;
}

uint64_t xsd_domain_memory(uint32_t domid)
{
	return store_memory_owned(xsd.st, domid) + domain_held(NULL, domid);
}

bool xsd_domain_memory_over(uint32_t domid, uint64_t add)
{
	uint32_t q = xsd_domain_quota(domid, XSD_Q_MEMORY);

	return q && xsd_domain_memory(domid) + add > q;
}

void xsd_domain_check_memory(uint32_t domid)
{
	struct xsd_domain *d = xsd_domain_find(domid);
	uint64_t mem;
	bool over;

	if (!d || !xsd.cfg.soft_memory)
		return;
	mem = xsd_domain_memory(domid);
	over = mem > xsd.cfg.soft_memory;
	if (over && !d->mem_warned) {
		/* cxenstored: syslog; an admin hears of it without -V */
		xsd_log("domain %u exceeds the soft memory quota: %llu of %u bytes",
			domid, (unsigned long long)mem, xsd.cfg.soft_memory);
		fprintf(stderr, "xenstored: domain %u exceeds the soft memory "
			"quota: %llu of %u bytes\n", domid,
			(unsigned long long)mem, xsd.cfg.soft_memory);
	}
	d->mem_warned = over;
}

/* The store's per-domain limits hook: NULL unless domid has its own. */
static const struct store_limits *domain_limits(void *ctx, uint32_t domid)
{
	struct xsd_domain *d = xsd_domain_find(domid);
	uint32_t q[XSD_Q_COUNT];
	bool own = false;

	(void)ctx;
	if (!d)
		return NULL;
	for (int i = 0; i < XSD_Q_COUNT; i++) {
		own |= d->quota[i] != 0;
		q[i] = d->quota[i] ? d->quota[i] : xsd.cfg.quota[i];
	}
	if (!own)
		return NULL;
	xsd_limits_fill(q, &d->lim);
	return &d->lim;
}

unsigned xsd_domain_count(void)
{
	return ndomains;
}

static struct xsd_domain *domain_add(uint32_t domid)
{
	struct xsd_domain *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->domid = domid;
	d->target = UINT32_MAX;
	d->features = xsd_features_supported();
	HASH_ADD(hh, domains, domid, sizeof(d->domid), d);
	ndomains++;
	return d;
}

struct xsd_domain *xsd_domain_lookup(uint32_t domid)
{
	struct xsd_domain *d = xsd_domain_find(domid);

	if (d || !xsd_domain_known(domid))
		return d;
	return domain_add(domid);
}

struct xsd_domain *xsd_domain_create(uint32_t domid)
{
	struct xsd_domain *d = xsd_domain_find(domid);

	return d ? d : domain_add(domid);
}

static void domain_del(struct xsd_domain *d)
{
	xsd_state_forget(d);
	xsd_ring_detach(d);
	xsd_wrl_domain_gone(d);
	HASH_DEL(domains, d);
	ndomains--;
	free(d);
}

void xsd_domain_drop(struct xsd_domain *d)
{
	domain_del(d);
}

int xsd_domain_init(bool introduce_dom0)
{
	struct xsd_domain *d;

	store_set_limits_hook(xsd.st, domain_limits, NULL);
	store_set_memory_hook(xsd.st, domain_held, NULL);
	if (!introduce_dom0)
		return 0;
	d = domain_add(0);
	if (!d)
		return -ENOMEM;
	d->introduced = true;
	xsd_wrl_domain_new(d);
	return xsd_ring_attach_dom0(d);
}

void xsd_domain_wrl_resume(void)
{
	struct xsd_domain *d, *tmp;

	HASH_ITER(hh, domains, d, tmp)
		if (d->introduced)
			xsd_wrl_domain_new(d);
}

/*
 * Forgets a domain: its connection, its nodes and perm entries (one
 * commit), then @releaseDomain. The caller fires the plain event once.
 */
static void domain_gone(struct xsd_domain *d, const struct store_caller *who,
			const char *why)
{
	uint32_t domid = d->domid;
	char path[XSW_PATH_BUF];
	int r;

	xsw_domain_path(domid, path, sizeof(path));
	store_note_op(xsd.st, who, STORE_OP_DOMAIN, path);
	xsd_log("domain %u %s", domid, why);
	domain_del(d);
	if ((r = store_domain_gone(xsd.st, domid)))
		xsd_log("domain %u: removing its nodes: %s", domid,
			strerror(-r));
	xsd_watch_fire_domain("@releaseDomain", domid);
}

void xsd_domain_check_exc(void)
{
	const struct store_caller self = {
		.domid = 0, .privileged = true, .target = UINT32_MAX,
	};
	struct xsd_domain *d, *tmp;

	HASH_ITER(hh, domains, d, tmp) {
		int st;

		if (d->domid == 0)
			continue;
		st = xsd_ring_domain_state(d->domid);
		if (!d->introduced) {
			/* settings made before an INTRODUCE that never came */
			if (st == XSD_DOM_DYING || st == XSD_DOM_GONE)
				domain_del(d);
			continue;
		}
		if (st < 0) {
			xsd_log("domain %u: state unknown: %s", d->domid,
				strerror(-st));
			continue;
		}
		if (st == XSD_DOM_RUNNING)
			continue;
		if (st == XSD_DOM_SHUTDOWN) {
			/* cxenstored: one event per shutdown until RESUME */
			if (!d->shutdown) {
				d->shutdown = true;
				xsd_state_touch(d);
				xsd_watch_fire_domain("@releaseDomain", d->domid);
			}
			continue;
		}
		domain_gone(d, &self, st == XSD_DOM_DYING ? "is dying" : "is gone");
	}
}

void xsd_domain_shutdown(void)
{
	while (domains)
		domain_del(domains);
}

/* A domid argument: decimal, below DOMID_FIRST_RESERVED. */
static int parse_domid(uint32_t in, uint32_t *out)
{
	if (in >= XSD_DOMID_SELF)
		return -EINVAL;
	*out = in;
	return 0;
}

int xsd_cmd_introduce(struct xsd_conn *c, const struct xsw_request *req,
		      struct xsd_txn *txn)
{
	struct store_caller who = xsd_conn_caller(c);
	struct xsd_domain *d;
	char path[XSW_PATH_BUF];
	uint32_t domid;
	int r;

	(void)txn;
	if ((r = parse_domid(req->u.introduce.domid, &domid)))
		return r;
	if (!req->u.introduce.port)
		return -EINVAL;
	d = xsd_domain_find(domid);
	if (d && d->introduced)
		return xsd_conn_ack(c, &req->hdr); /* cxenstored: idempotent */
	if (!d && !(d = domain_add(domid)))
		return -ENOMEM;
	d->mfn = req->u.introduce.mfn;
	d->port = req->u.introduce.port;
	if (xsd_ring_enabled() && (r = xsd_ring_attach(d))) {
		xsd_log("domain %u: ring: %s", domid, strerror(-r));
		domain_del(d);
		return r == -ENOMEM ? r : -EINVAL;
	}
	d->introduced = true;
	xsd_wrl_domain_new(d);
	xsd_state_touch(d);
	xsw_domain_path(domid, path, sizeof(path));
	store_note_op(xsd.st, &who, STORE_OP_DOMAIN, path);
	xsd_log("domain %u introduced", domid);
	xsd_watch_fire_special("@introduceDomain");
	return xsd_conn_ack(c, &req->hdr);
}

/* cxenstored's onearg_domain: EINVAL for dom0, ENOENT when unknown. */
static int lookup_guest(uint32_t in, struct xsd_domain **out)
{
	uint32_t domid;
	int r;

	if ((r = parse_domid(in, &domid)))
		return r;
	if (domid == 0)
		return -EINVAL;
	*out = xsd_domain_find(domid);
	return *out && (*out)->introduced ? 0 : -ENOENT;
}

int xsd_cmd_release(struct xsd_conn *c, const struct xsw_request *req,
		    struct xsd_txn *txn)
{
	struct store_caller who = xsd_conn_caller(c);
		struct xsd_domain *d;
	int r;

	(void)txn;
	if ((r = lookup_guest(req->u.domain.domid, &d)))
		return r;
	/* answer first: the releasing connection may be the domain's own */
	r = xsd_conn_ack(c, &req->hdr);
	domain_gone(d, &who, "released");
	return r == -EPIPE ? 0 : r;
}

int xsd_cmd_resume(struct xsd_conn *c, const struct xsw_request *req,
		   struct xsd_txn *txn)
{
	struct xsd_domain *d;
	int r;

	(void)txn;
	if ((r = lookup_guest(req->u.domain.domid, &d)))
		return r;
	d->shutdown = false; /* the next shutdown fires @releaseDomain again */
	xsd_state_touch(d);
	return xsd_conn_ack(c, &req->hdr);
}

int xsd_cmd_set_target(struct xsd_conn *c, const struct xsw_request *req,
		       struct xsd_txn *txn)
{
	uint32_t domid, target;
	struct xsd_domain *d;
	int r;

	(void)txn;
	if ((r = parse_domid(req->u.set_target.domid, &domid)) ||
	    (r = parse_domid(req->u.set_target.target, &target)))
		return r;
	d = xsd_domain_find(domid);
	if (!d || !xsd_domain_find(target))
		return -ENOENT;
	d->target = target;
	xsd_state_touch(d);
	/* connections of that domain act for target from now on */
	for (struct xsd_conn *k = xsd.conns; k; k = k->next)
		if (k->domid == domid)
			k->target = target;
	return xsd_conn_ack(c, &req->hdr);
}

int xsd_cmd_get_domain_path(struct xsd_conn *c, const struct xsw_request *req,
			    struct xsd_txn *txn)
{
	char path[XSW_PATH_BUF];
	size_t n;

	(void)txn;
	n = xsw_domain_path(req->u.domain.domid, path, sizeof(path));
	return xsd_conn_reply(c, &req->hdr, path, n + 1);
}

int xsd_cmd_is_domain_introduced(struct xsd_conn *c,
				 const struct xsw_request *req,
				 struct xsd_txn *txn)
{
	uint32_t domid = req->u.domain.domid;
	struct xsd_domain *d;
	bool yes;

	(void)txn;
	if (domid == XSD_DOMID_SELF)
		yes = true;
	else
		yes = (d = xsd_domain_find(domid)) && d->introduced;
	return xsd_conn_reply(c, &req->hdr, yes ? "T" : "F", 2);
}
