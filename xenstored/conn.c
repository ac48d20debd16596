/* conn.c - connections: input framing, output queue, lifetime. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utlist.h>

#include "conn.h"
#include "dispatch.h"
#include "domain.h"
#include "log.h"
#include "txn.h"
#include "watch.h"
#include "xenstored.h"

#define OUTBUF_CHUNK 16384u

struct xsd_conn *xsd_conn_new(const struct xsd_transport *tp, void *tp_data,
			      uint32_t domid, bool privileged)
{
	struct xsd_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->id = ++xsd.next_conn_id;
	c->domid = domid;
	c->privileged = privileged;
	c->target = UINT32_MAX;
	c->tp = tp;
	c->tp_data = tp_data;
	c->next_tx_id = 1; /* cxenstored: per connection, from 1 */
	xsw_reader_init(&c->rd);
	DL_APPEND(xsd.conns, c);
	xsd_log("conn %u: new %s connection, domain %u", c->id, tp->name, domid);
	return c;
}

void xsd_outbuf_free_chain(struct xsd_outbuf *b)
{
	while (b) {
		struct xsd_outbuf *n = b->next;
		free(b);
		b = n;
	}
}

static void mark_dirty(struct xsd_conn *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	c->dirty_next = xsd.dirty;
	xsd.dirty = c;
}

static void update_backpressure(struct xsd_conn *c)
{
	size_t pending = c->out_queued + c->out_inflight;

	if (c->closing || !c->tp->read_stop)
		return;
	if (!c->reading_stopped && pending > XSD_OUT_SOFT_CAP) {
		c->reading_stopped = true;
		c->tp->read_stop(c);
	} else if (c->reading_stopped && pending <= XSD_OUT_SOFT_CAP / 2) {
		c->reading_stopped = false;
		c->tp->read_start(c);
	}
}

/* Room for need bytes at the queue's tail; NULL on ENOMEM. */
static char *out_reserve(struct xsd_conn *c, size_t need)
{
	struct xsd_outbuf *b = c->out_tail;

	if (!b || b->cap - b->len < need) {
		size_t cap = need > OUTBUF_CHUNK ? need : OUTBUF_CHUNK;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = NULL;
		b->len = 0;
		b->cap = cap;
		if (c->out_tail)
			c->out_tail->next = b;
		else
			c->out_head = b;
		c->out_tail = b;
	}
	return b->data + b->len;
}

/* The outstanding quota in force for c; 0: none (privileged: exempt). */
static uint32_t outstanding_quota(const struct xsd_conn *c)
{
	return c->privileged ? 0 : xsd_domain_quota(c->domid, XSD_Q_OUTSTANDING);
}

/*
 * Input stops once the outstanding requests reach the quota, and goes on
 * (input_resume) once they are below it again.
 */
static void outstanding_update(struct xsd_conn *c)
{
	uint32_t q = outstanding_quota(c);
	bool over = q && c->nreplies + c->nheld >= q;

	if (over) {
		c->over_outstanding = true;
	} else if (c->over_outstanding && !c->closing) {
		c->over_outstanding = false;
		if (c->tp->input_resume)
			c->tp->input_resume(c);
	}
}

/* A reply ends at offset end of the stream; 0 or -ENOMEM. */
static int reply_push(struct xsd_conn *c, uint64_t end)
{
	if (c->privileged)
		return 0; /* exempt: nothing to count */
	if (c->nreplies == c->reply_cap) {
		unsigned cap = c->reply_cap ? c->reply_cap * 2 : 32;
		uint64_t *n = malloc(cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (unsigned i = 0; i < c->nreplies; i++)
			n[i] = c->reply_end[(c->reply_head + i) % c->reply_cap];
		free(c->reply_end);
		c->reply_end = n;
		c->reply_cap = cap;
		c->reply_head = 0;
	}
	c->reply_end[(c->reply_head + c->nreplies) % c->reply_cap] = end;
	c->nreplies++;
	outstanding_update(c);
	return 0;
}

/*
 * A request of an unprivileged domain that fired watch events: it stays
 * outstanding, once answered, until every event is written out.
 * Memory: freed by the put of its last event.
 */
struct xsd_evref {
	struct xsd_conn *origin; /* NULL once that connection is gone */
	struct xsd_evref *prev, *next; /* origin->evrefs */
	uint64_t reply_end; /* origin's stream offset; UINT64_MAX: not yet */
	unsigned events;    /* queued and not written out */
	bool replied;       /* counted in origin->nheld */
};

/* The request being dispatched, if a watch event may hold it. */
static struct xsd_conn *firing;
static struct xsd_evref *firing_ref; /* made at its first event */

static void evref_detach(struct xsd_evref *r)
{
	struct xsd_conn *o = r->origin;

	if (!o)
		return;
	DL_DELETE(o->evrefs, r);
	r->origin = NULL;
	if (r->replied) {
		o->nheld--;
		outstanding_update(o);
	}
}

/* One of r's events was written out, or dropped with its queue. */
static void evref_put(struct xsd_evref *r)
{
	if (--r->events)
		return;
	evref_detach(r);
	if (r == firing_ref)
		firing_ref = NULL;
	free(r);
}

/* c's event that ends at end holds the request being dispatched. */
static void evpend_push(struct xsd_conn *c, uint64_t end)
{
	struct xsd_evref *r = firing_ref;

	if (!firing || firing->closing)
		return;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return; /* not held: the request counts less, no harm */
		r->origin = firing;
		r->reply_end = UINT64_MAX;
		DL_APPEND(firing->evrefs, r);
		firing_ref = r;
	}
	if (c->nev == c->ev_cap) {
		unsigned cap = c->ev_cap ? c->ev_cap * 2 : 32;
		struct xsd_evpend *n = malloc(cap * sizeof(*n));

		if (!n)
			goto unheld;
		for (unsigned i = 0; i < c->nev; i++)
			n[i] = c->evpend[(c->ev_head + i) % c->ev_cap];
		free(c->evpend);
		c->evpend = n;
		c->ev_cap = cap;
		c->ev_head = 0;
	}
	c->evpend[(c->ev_head + c->nev) % c->ev_cap] =
		(struct xsd_evpend){ end, r };
	c->nev++;
	r->events++;
	return;
unheld:
	if (!r->events) {
		evref_detach(r);
		firing_ref = NULL;
		free(r);
	}
}

/* Puts the events written out (all of them: the queue is gone). */
static void evpend_pop(struct xsd_conn *c, bool all)
{
	while (c->nev && (all || c->evpend[c->ev_head].end <= c->out_done)) {
		struct xsd_evref *r = c->evpend[c->ev_head].ref;

		c->ev_head = (c->ev_head + 1) % c->ev_cap;
		c->nev--;
		evref_put(r);
	}
}

/* c goes: its requests no longer count, its queue holds none. */
static void evrefs_release(struct xsd_conn *c)
{
	evpend_pop(c, true);
	while (c->evrefs)
		evref_detach(c->evrefs);
}

/* Forgets replies written out; input may go on below the quota. */
static void reply_pop(struct xsd_conn *c)
{
	struct xsd_evref *r;

	while (c->nreplies && c->reply_end[c->reply_head] <= c->out_done) {
		c->reply_head = (c->reply_head + 1) % c->reply_cap;
		c->nreplies--;
	}
	/* answered requests whose events are still queued stay held */
	DL_FOREACH(c->evrefs, r) {
		if (r->reply_end > c->out_done)
			break;
		if (!r->replied) {
			r->replied = true;
			c->nheld++;
		}
	}
	outstanding_update(c);
}

uint64_t xsd_conn_memory(const struct xsd_conn *c)
{
	uint64_t m = c->mem_watches + c->out_queued + c->out_inflight;
	const struct xsd_txn *t, *tmp;

	HASH_ITER(hh, c->txns, t, tmp)
		m += store_txn_memory(t->st);
	return m;
}

/* Would bytes more of c's memory pass its domain's memory quota? */
static bool over_memory(const struct xsd_conn *c, size_t bytes)
{
	return !c->privileged && xsd_domain_memory_over(c->domid, bytes);
}

unsigned xsd_conn_outstanding(const struct xsd_conn *c)
{
	return c->nreplies + c->nheld;
}

static int out_commit(struct xsd_conn *c, size_t len)
{
	c->out_tail->len += len;
	c->out_queued += len;
	c->out_total += len;
	mark_dirty(c);
	if (c->out_queued + c->out_inflight > XSD_OUT_HARD_CAP) {
		/* a client that does not read loses its queue, not us memory */
		xsd_outbuf_free_chain(c->out_head);
		c->out_head = c->out_tail = NULL;
		c->out_queued = 0;
		c->doomed = true;
		evpend_pop(c, true);
		return -ENOSPC;
	}
	update_backpressure(c);
	return 0;
}

static int queue_msg(struct xsd_conn *c, uint32_t type, uint32_t req_id,
		     uint32_t tx_id, const void *payload, uint32_t len)
{
	struct xsw_hdr h = { type, req_id, tx_id, len };
	char *p;
	int r;

	if (c->closing || c->doomed)
		return -EPIPE;
	p = out_reserve(c, XSW_HDR_SIZE + len);
	if (!p)
		return -ENOMEM;
	memcpy(p, &h, XSW_HDR_SIZE);
	if (len)
		memcpy(p + XSW_HDR_SIZE, payload, len);
	if (xsd_log_tracing())
		xsd_trace_msg(c->id, true, &h, p + XSW_HDR_SIZE);
	r = out_commit(c, XSW_HDR_SIZE + len);
	if (!r)
		r = reply_push(c, c->out_total);
	return r;
}

int xsd_conn_reply(struct xsd_conn *c, const struct xsw_hdr *req,
		   const void *payload, uint32_t len)
{
	/* cxenstored answers E2BIG for a reply that would not fit */
	if (len > XSW_PAYLOAD_MAX)
		return xsd_conn_error(c, req, E2BIG);
	/* short replies pass: an error must still get through */
	if (len > 16 && over_memory(c, XSW_HDR_SIZE + len))
		return xsd_conn_error(c, req, ENOMEM);
	return queue_msg(c, req->type, req->req_id, req->tx_id, payload, len);
}

int xsd_conn_ack(struct xsd_conn *c, const struct xsw_hdr *req)
{
	return xsd_conn_reply(c, req, "OK", 3);
}

int xsd_conn_error(struct xsd_conn *c, const struct xsw_hdr *req, int err)
{
	const char *name = xsw_error_name(err < 0 ? -err : err);

	return queue_msg(c, XSW_ERROR, req->req_id, req->tx_id, name,
			 strlen(name) + 1);
}

static int queue_event(struct xsd_conn *c, const char *path,
		       const char *token, bool linked)
{
	size_t pl = strlen(path) + 1, tl = strlen(token) + 1;
	struct xsw_hdr h = { XSW_WATCH_EVENT, 0, 0, 0 };
	char *p;

	if (c->closing || c->doomed)
		return -EPIPE;
	/* A watch event is never refused for size: paths and tokens fit. */
	h.len = pl + tl;
	if (over_memory(c, XSW_HDR_SIZE + h.len)) {
		/* a guest cannot be driven past its quota by others' writes */
		if (!c->events_dropped++) {
			/* cxenstored: syslog; an admin hears of it without -V */
			xsd_log("domain %u over its memory quota, watch events "
				"dropped", c->domid);
			fprintf(stderr, "xenstored: domain %u over its memory "
				"quota, watch events dropped\n", c->domid);
		}
		return 0;
	}
	p = out_reserve(c, XSW_HDR_SIZE + h.len);
	if (!p)
		return -ENOMEM;
	memcpy(p, &h, XSW_HDR_SIZE);
	memcpy(p + XSW_HDR_SIZE, path, pl);
	memcpy(p + XSW_HDR_SIZE + pl, token, tl);
	if (xsd_log_tracing())
		xsd_trace_msg(c->id, true, &h, p + XSW_HDR_SIZE);
	if (out_commit(c, XSW_HDR_SIZE + h.len))
		return -ENOSPC;
	if (linked)
		evpend_push(c, c->out_total);
	return 0;
}

int xsd_conn_event(struct xsd_conn *c, const char *path, const char *token)
{
	return queue_event(c, path, token, true);
}

int xsd_conn_event_unlinked(struct xsd_conn *c, const char *path,
			    const char *token)
{
	return queue_event(c, path, token, false);
}

size_t xsd_conn_input(struct xsd_conn *c, const char *buf, size_t len)
{
	size_t total = len;

	while (len && !c->closing && !c->doomed) {
		size_t used = 0;
		int r;

		/* over the quota or out of write credit: the next request
		 * waits (cxenstored) */
		if ((c->over_outstanding || c->wrl_held) &&
		    !xsw_reader_pending(&c->rd))
			return total - len;
		r = xsw_reader_feed(&c->rd, buf, len, &used);

		buf += used;
		len -= used;
		if (r < 0) {
			xsd_conn_close(c, r == -E2BIG ? "payload too large"
						     : "malformed input");
			return total;
		}
		if (r == 1) {
			if (xsd_log_tracing())
				xsd_trace_msg(c->id, false, &c->rd.hdr, c->rd.body);
			firing = c->privileged ? NULL : c;
			firing_ref = NULL;
			xsd_dispatch(c, &c->rd.hdr, c->rd.body);
			/* its reply was queued last: held until it is out */
			if (firing_ref && firing_ref->origin == c)
				firing_ref->reply_end = c->out_total;
			firing = NULL;
			firing_ref = NULL;
			xsw_reader_reset(&c->rd);
		} else if (!used) {
			break; /* cannot happen with a sane reader; do not spin */
		}
	}
	return total;
}

void xsd_conn_written(struct xsd_conn *c, size_t bytes)
{
	c->out_inflight -= bytes < c->out_inflight ? bytes : c->out_inflight;
	c->out_done += bytes;
	evpend_pop(c, false);
	reply_pop(c);
	update_backpressure(c);
}

static void flush_one(struct xsd_conn *c)
{
	struct xsd_outbuf *chain = c->out_head;
	size_t bytes = c->out_queued;
	int r;

	c->out_head = c->out_tail = NULL;
	c->out_queued = 0;
	if (!chain || c->closing) {
		xsd_outbuf_free_chain(chain);
		return;
	}
	c->out_inflight += bytes;
	r = c->tp->write(c, chain, bytes);
	if (r < 0)
		xsd_conn_close(c, "write failed");
}

void xsd_conn_flush_all(void)
{
	while (xsd.dirty) {
		struct xsd_conn *c = xsd.dirty;

		xsd.dirty = c->dirty_next;
		c->dirty = false;
		c->dirty_next = NULL;
		if (c->doomed)
			xsd_conn_close(c, "output queue over its cap");
		else
			flush_one(c);
	}
}

static void unlink_dirty(struct xsd_conn *c)
{
	struct xsd_conn **pp;

	if (!c->dirty)
		return;
	for (pp = &xsd.dirty; *pp; pp = &(*pp)->dirty_next) {
		if (*pp == c) {
			*pp = c->dirty_next;
			break;
		}
	}
	c->dirty = false;
}

void xsd_conn_close(struct xsd_conn *c, const char *why)
{
	struct xsd_outbuf *chain;
	size_t bytes;

	if (c->closing)
		return;
	xsd_log("conn %u: closing (%s)", c->id, why);
	unlink_dirty(c);
	chain = c->out_head;
	bytes = c->out_queued;
	c->out_head = c->out_tail = NULL;
	c->out_queued = 0;
	/* closing first: a failing write must not close us a second time */
	c->closing = true;
	/* an orderly close still sends what was answered (best effort) */
	if (chain) {
		c->out_inflight += bytes;
		c->tp->write(c, chain, bytes);
	}
	evrefs_release(c);
	xsd_txn_abort_all(c);
	xsd_watch_remove_all(c);
	c->tp->close(c);
}

void xsd_conn_free(struct xsd_conn *c)
{
	unlink_dirty(c);
	DL_DELETE(xsd.conns, c);
	xsd_outbuf_free_chain(c->out_head);
	xsw_reader_reset(&c->rd);
	evrefs_release(c);
	free(c->evpend);
	free(c->reply_end);
	free(c);
}

void xsd_conn_close_all(void)
{
	struct xsd_conn *c, *tmp;

	DL_FOREACH_SAFE(xsd.conns, c, tmp)
		xsd_conn_close(c, "shutdown");
}
