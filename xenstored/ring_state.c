/*
 * ring_state.c - saving and restoring what guests need across a restart
 * (ring_state.h). One record per domain, little-endian:
 *
 *   u32 version (1), u32 domid, u8 introduced, u8 shutdown,
 *   u32 features, u32 target, u64 mfn, u32 port,
 *   u32 nquota, nquota x u32,
 *   u8 ring: 0 none, 1 cut off, 2 serving; when serving:
 *     u32 consumed       request index parsed (and applied) up to
 *     u32 n, n bytes     the partial request after it
 *     u32 rsp_start      response index the unsent output starts at
 *     u32 n, n bytes     the unsent output (replies, watch events)
 *     u32 next_tx_id, u32 n, n x u32 open transaction ids
 *     u32 n, n x (u32 len, path, u32 len, token, i32 depth, u8 relative)
 *
 * The record is written at the barrier of every iteration that touched
 * the domain, in the journal batch of that iteration's commits: when the
 * batch is durable, so are the requests' effects and their consumption.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../protocol/ring.h"
#include "conn.h"
#include "domain.h"
#include "log.h"
#include "persist.h"
#include "ring_conn.h"
#include "ring_int.h"
#include "ring_state.h"
#include "txn.h"
#include "watch.h"
#include "xenstored.h"

#define STATE_VERSION 1u

enum { RING_NONE, RING_CUT, RING_SERVING };

static struct xsd_domain *dirty;

/* ---- encoding ---- */

struct sbuf {
	char *data;
	size_t len, cap;
	int err;
};

static void put(struct sbuf *b, const void *p, size_t n)
{
	if (b->err)
		return;
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 256;
		char *nd;

		while (cap - b->len < n)
			cap *= 2;
		if (!(nd = realloc(b->data, cap))) {
			b->err = -ENOMEM;
			return;
		}
		b->data = nd;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void put_le(struct sbuf *b, uint64_t v, unsigned n)
{
	unsigned char t[8];

	for (unsigned i = 0; i < n; i++)
		t[i] = (unsigned char)(v >> (8 * i));
	put(b, t, n);
}

static void put_str(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);

	put_le(b, n, 4);
	put(b, s, n);
}

/* The bytes the daemon still owes the guest, oldest first. */
static void put_output(struct sbuf *b, struct xsd_ring *rc)
{
	struct xsd_conn *c = rc->conn;
	size_t n = 0;

	for (struct xsd_outbuf *o = rc->out; o; o = o->next)
		n += o->len - (o == rc->out ? rc->out_off : 0);
	if (!c->closing && !c->doomed)
		for (struct xsd_outbuf *o = c->out_head; o; o = o->next)
			n += o->len;
	/* a pending reset: the page as the guest will see it */
	put_le(b, rc->reset_pending ? 0 : rc->page->rsp_prod, 4);
	put_le(b, n, 4);
	for (struct xsd_outbuf *o = rc->out; o; o = o->next) {
		size_t off = o == rc->out ? rc->out_off : 0;

		put(b, o->data + off, o->len - off);
	}
	if (!c->closing && !c->doomed)
		for (struct xsd_outbuf *o = c->out_head; o; o = o->next)
			put(b, o->data, o->len);
}

/* The partial request: bytes parsed past the last whole message. */
static void put_partial(struct sbuf *b, const struct xsd_conn *c)
{
	const struct xsw_reader *rd = &c->rd;
	uint32_t hdr = rd->hdr_have < XSW_HDR_SIZE ? rd->hdr_have
						   : XSW_HDR_SIZE;
	uint32_t body = rd->body ? rd->body_have : 0;

	put_le(b, hdr + body, 4);
	put(b, rd->hdr_buf, hdr);
	if (body)
		put(b, rd->body, body);
}

static void put_session(struct sbuf *b, struct xsd_conn *c)
{
	struct xsd_txn *t, *tmp;

	put_le(b, c->next_tx_id, 4);
	put_le(b, c->ntxns, 4);
	HASH_ITER(hh, c->txns, t, tmp)
		put_le(b, t->id, 4);
	put_le(b, c->nwatches, 4);
	for (struct xsd_watch *w = c->watches; w; w = w->next) {
		put_str(b, w->path);
		put_str(b, w->token);
		put_le(b, (uint32_t)w->depth, 4);
		put_le(b, w->relative, 1);
	}
}

static int encode(struct xsd_domain *d, struct sbuf *b)
{
	struct xsd_ring *rc = d->ring;

	put_le(b, STATE_VERSION, 4);
	put_le(b, d->domid, 4);
	put_le(b, d->introduced, 1);
	put_le(b, d->shutdown, 1);
	put_le(b, d->features, 4);
	put_le(b, d->target, 4);
	put_le(b, d->mfn, 8);
	put_le(b, d->port, 4);
	put_le(b, XSD_Q_COUNT, 4);
	for (int q = 0; q < XSD_Q_COUNT; q++)
		put_le(b, d->quota[q], 4);
	if (!rc) {
		put_le(b, RING_NONE, 1);
	} else if (!rc->conn || rc->conn->closing) {
		put_le(b, RING_CUT, 1);
	} else {
		put_le(b, RING_SERVING, 1);
		put_le(b, rc->seen, 4);
		put_partial(b, rc->conn);
		put_output(b, rc);
		put_session(b, rc->conn);
	}
	return b->err;
}

void xsd_state_touch(struct xsd_domain *d)
{
	if (d->state_dirty)
		return;
	d->state_dirty = true;
	d->state_next = dirty;
	dirty = d;
}

void xsd_state_forget(struct xsd_domain *d)
{
	if (d->state_dirty) {
		for (struct xsd_domain **pp = &dirty; *pp;
		     pp = &(*pp)->state_next) {
			if (*pp == d) {
				*pp = d->state_next;
				break;
			}
		}
		d->state_dirty = false;
	}
	xsd_persist_put_state(d->domid, NULL, 0);
}

void xsd_state_save(void)
{
	struct sbuf b = { 0 };

	xsd_ring_state_touch_output();
	while (dirty) {
		struct xsd_domain *d = dirty;
		int r;

		dirty = d->state_next;
		d->state_dirty = false;
		b.len = 0;
		b.err = 0;
		r = encode(d, &b);
		if (r) {
			xsd_log("domain %u: cannot save its state: %s",
				d->domid, strerror(-r));
			continue;
		}
		xsd_persist_put_state(d->domid, b.data, b.len);
	}
	free(b.data);
}

/* ---- decoding ---- */

struct srd {
	const unsigned char *p;
	size_t len, off;
	int err;
};

static const void *take(struct srd *r, size_t n)
{
	const void *q;

	if (r->err || n > r->len - r->off) {
		r->err = -EINVAL;
		return NULL;
	}
	q = r->p + r->off;
	r->off += n;
	return q;
}

static uint64_t get_le(struct srd *r, unsigned n)
{
	const unsigned char *p = take(r, n);
	uint64_t v = 0;

	for (unsigned i = 0; p && i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* A NUL-terminated copy of a length-prefixed string; NULL on error. */
static char *get_str(struct srd *r)
{
	uint32_t n = (uint32_t)get_le(r, 4);
	const char *p = take(r, n);
	char *s;

	if (!p || n > XSW_PAYLOAD_MAX || memchr(p, 0, n))
		return r->err = -EINVAL, NULL;
	if (!(s = malloc(n + 1)))
		return r->err = -ENOMEM, NULL;
	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

static int restore_conn(struct xsd_ring *rc, struct srd *r)
{
	struct xsd_conn *c = rc->conn;
	xsw_ring_idx consumed = (xsw_ring_idx)get_le(r, 4);
	uint32_t plen = (uint32_t)get_le(r, 4);
	const char *partial = take(r, plen);
	xsw_ring_idx rsp_start = (xsw_ring_idx)get_le(r, 4);
	uint32_t olen = (uint32_t)get_le(r, 4);
	const char *out = take(r, olen);
	uint32_t written, n;
	int e = 0;

	if (r->err)
		return r->err;
	if (xsw_ring_reconnect_requested(rc->page)) {
		/* the guest left that session: it starts afresh (ring_event) */
		xsd_log("domain %u: asked to reconnect: session not resumed",
			rc->d->domid);
		return 0;
	}
	/*
	 * Requests up to consumed were applied: never again. Past it they
	 * are still in the ring (req_cons was published only up to what
	 * was durable) and are read again.
	 */
	if ((xsw_ring_idx)(consumed - rc->page->req_cons) <= XSW_RING_SIZE &&
	    (xsw_ring_idx)(rc->page->req_prod - consumed) <= XSW_RING_SIZE) {
		rc->seen = consumed;
		xsd_ring_mark_dirty(rc); /* publishes req_cons */
	} else {
		xsd_log("domain %u: ring indexes moved under us: not resumed "
			"at %u", rc->d->domid, consumed);
	}
	if (plen)
		xsd_conn_input(c, partial, plen);
	/* what the ring shows written already is not written twice */
	written = rc->page->rsp_prod - rsp_start;
	if (written > olen) {
		xsd_log("domain %u: response index %u outside the saved "
			"output (%u from %u)", rc->d->domid,
			rc->page->rsp_prod, olen, rsp_start);
		written = olen;
	}
	if ((e = xsd_ring_queue_output(rc, out + written, olen - written)))
		return e;

	c->next_tx_id = (uint32_t)get_le(r, 4);
	n = (uint32_t)get_le(r, 4);
	for (uint32_t i = 0; i < n && !r->err; i++) {
		uint32_t id = (uint32_t)get_le(r, 4);

		if (!r->err && (e = xsd_txn_restore_stale(c, id)))
			xsd_log("domain %u: transaction %u: %s",
				rc->d->domid, id, strerror(-e));
	}
	n = (uint32_t)get_le(r, 4);
	for (uint32_t i = 0; i < n && !r->err; i++) {
		char *path = get_str(r), *token = get_str(r);
		int depth = (int)(uint32_t)get_le(r, 4);
		bool relative = get_le(r, 1) != 0;

		if (!r->err &&
		    (e = xsd_watch_restore(c, path, token, depth, relative)))
			xsd_log("domain %u: watch %s: %s", rc->d->domid,
				path, strerror(-e));
		free(path);
		free(token);
	}
	return r->err;
}

static int restore_one(void *ctx, uint32_t key, const void *data, size_t len)
{
	struct srd r = { data, len, 0, 0 };
	struct xsd_domain *d;
	uint32_t ver = (uint32_t)get_le(&r, 4), domid = (uint32_t)get_le(&r, 4);
	uint32_t nq;
	int ring, e;

	(void)ctx;
	if (r.err || ver != STATE_VERSION || domid != key) {
		xsd_log("state of domain %u: unknown format, ignored", key);
		return 0;
	}
	if (!(d = xsd_domain_create(domid)))
		return -ENOMEM;
	d->introduced = get_le(&r, 1) != 0 || d->introduced;
	d->shutdown = get_le(&r, 1) != 0;
	d->features = (uint32_t)get_le(&r, 4);
	d->target = (uint32_t)get_le(&r, 4);
	d->mfn = get_le(&r, 8);
	d->port = (uint32_t)get_le(&r, 4);
	nq = (uint32_t)get_le(&r, 4);
	for (uint32_t q = 0; q < nq && !r.err; q++) {
		uint32_t v = (uint32_t)get_le(&r, 4);

		if (q < XSD_Q_COUNT)
			d->quota[q] = v;
	}
	ring = (int)get_le(&r, 1);
	if (r.err)
		goto bad;
	if (ring == RING_NONE || !xsd_ring_enabled())
		return 0;
	if (!d->ring && domid != 0 && (e = xsd_ring_attach(d))) {
		/* gone while we were down, most likely */
		xsd_log("domain %u: ring not resumed: %s", domid,
			strerror(-e));
		xsd_domain_drop(d);
		return 0;
	}
	if (!d->ring)
		return 0; /* dom0 without its ring this time */
	if (ring == RING_CUT) {
		xsd_ring_cut_quietly(d->ring);
		return 0;
	}
	if ((e = restore_conn(d->ring, &r)) == -ENOMEM)
		return e;
	if (e)
		goto bad;
	xsd_log("domain %u: resumed", domid);
	return 0;
bad:
	xsd_log("state of domain %u: malformed, ignored", key);
	return 0;
}

int xsd_state_restore(void)
{
	int r = xsd_persist_state_foreach(restore_one, NULL);

	if (r)
		return r;
	/* domains that died while the daemon was down go now */
	if (xsd_ring_enabled())
		xsd_domain_check_exc();
	return 0;
}
