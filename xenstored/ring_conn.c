/*
 * ring_conn.c - the ring transport: one xsd_conn per introduced domain,
 * fed from its ring page, answering into it.
 *
 * A ring outlives its connection: after a protocol violation the error
 * indicator is set, the connection closed and the ring ignored, but the
 * domain stays known until it dies or the guest asks to reconnect (which
 * starts a fresh connection on the same ring).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include <uv.h>

#include "../protocol/ring.h"
#include "backend.h"
#include "conn.h"
#include "domain.h"
#include "log.h"
#include "ring_conn.h"
#include "ring_int.h"
#include "ring_state.h"
#include "xenstored.h"


static struct xsd_backend *be;
static uv_poll_t evt_poll;
static uv_idle_t kick_idle;
static uint32_t virq_port;
static struct xsd_ring *by_port;
static struct xsd_ring *dirty_list, *kick_list;
static struct xsd_conn **dead_conns; /* closed, freed after the flush */
static unsigned ndead, dead_cap;

void xsd_ring_mark_dirty(struct xsd_ring *rc)
{
	if (rc->dirty)
		return;
	rc->dirty = true;
	rc->dirty_next = dirty_list;
	dirty_list = rc;
}

static void on_kick(uv_idle_t *h);

/* Input to look at in the next iteration (data may already wait). */
static void kick(struct xsd_ring *rc)
{
	if (rc->kicked)
		return;
	rc->kicked = true;
	rc->kick_next = kick_list;
	kick_list = rc;
	uv_idle_start(&kick_idle, on_kick);
}

static void unlink_ring(struct xsd_ring **list, struct xsd_ring *rc,
			size_t next_off)
{
	for (struct xsd_ring **pp = list; *pp;
	     pp = (struct xsd_ring **)((char *)*pp + next_off)) {
		if (*pp == rc) {
			*pp = *(struct xsd_ring **)((char *)rc + next_off);
			return;
		}
	}
}

/* ---- the transport ---- */

static int ring_tp_write(struct xsd_conn *c, struct xsd_outbuf *chain,
			 size_t bytes)
{
	struct xsd_ring *rc = c->tp_data;

	(void)bytes;
	/* called from the flush stage: queue behind what the ring refused */
	if (rc->out_tail)
		rc->out_tail->next = chain;
	else
		rc->out = chain;
	while (chain->next)
		chain = chain->next;
	rc->out_tail = chain;
	xsd_ring_mark_dirty(rc);
	return 0;
}

static void ring_tp_read_stop(struct xsd_conn *c)
{
	((struct xsd_ring *)c->tp_data)->stopped = true;
}

static void ring_tp_read_start(struct xsd_conn *c)
{
	struct xsd_ring *rc = c->tp_data;

	rc->stopped = false;
	kick(rc);
}

struct xsd_conn *xsd_ring_conn(const struct xsd_domain *d)
{
	return d->ring ? d->ring->conn : NULL;
}

static void ring_tp_input_resume(struct xsd_conn *c)
{
	kick(c->tp_data);
}

static void drop_output(struct xsd_ring *rc)
{
	xsd_outbuf_free_chain(rc->out);
	rc->out = rc->out_tail = NULL;
	rc->out_off = 0;
}

static void ring_tp_close(struct xsd_conn *c)
{
	struct xsd_ring *rc = c->tp_data;

	if (rc && rc->conn == c) {
		rc->conn = NULL;
		rc->stopped = false;
		drop_output(rc);
		if (!rc->detaching && !xsd.stopping) {
			uint32_t e = rc->err ? rc->err
				   : c->doomed ? XSW_ERROR_COMM
					       : XSW_ERROR_PROTO;

			xsd_log("domain %u: ring cut off (error %u)",
				rc->d->domid, e);
			xsw_ring_set_error(rc->page, e);
			be->ops->notify(be, rc->port);
			xsd_state_touch(rc->d);
		}
	}
	/* the caller may still look at c: free it after the flush stage */
	if (ndead == dead_cap) {
		unsigned cap = dead_cap ? dead_cap * 2 : 8;
		struct xsd_conn **n = realloc(dead_conns, cap * sizeof(*n));

		if (!n)
			return; /* leak one connection rather than crash */
		dead_conns = n;
		dead_cap = cap;
	}
	dead_conns[ndead++] = c;
}

const struct xsd_transport xsd_ring_transport = {
	.name = "ring",
	.write = ring_tp_write,
	.read_stop = ring_tp_read_stop,
	.read_start = ring_tp_read_start,
	.close = ring_tp_close,
	.input_resume = ring_tp_input_resume,
};

static int open_conn(struct xsd_ring *rc)
{
	struct xsd_domain *d = rc->d;

	rc->conn = xsd_conn_new(&xsd_ring_transport, rc, d->domid, d->domid == 0);
	if (!rc->conn)
		return -ENOMEM;
	rc->conn->target = d->target;
	rc->err = XSW_ERROR_NONE;
	return 0;
}

/* ---- the two places that touch the queues ---- */

/* Parses what the guest produced; gives nothing back (see the header). */
static void ring_input(struct xsd_ring *rc)
{
	char buf[XSW_RING_SIZE];

	while (rc->conn && !rc->conn->closing && !rc->conn->doomed &&
	       !rc->stopped && !rc->conn->over_outstanding) {
		xsw_ring_idx cons = rc->seen;
		int n = xsw_ring_peek(rc->page, &cons, buf, sizeof(buf));
		size_t used;

		if (n < 0) {
			rc->err = XSW_ERROR_RINGIDX;
			xsd_conn_close(rc->conn, "bad request ring index");
			return;
		}
		if (!n)
			return;
		/* over the outstanding quota, the rest stays in the ring */
		used = xsd_conn_input(rc->conn, buf, (size_t)n);
		if (!used)
			return;
		rc->seen += (xsw_ring_idx)used;
		xsd_ring_mark_dirty(rc);
		xsd_state_touch(rc->d); /* its position moved: persist it */
	}
}

/* Publishes consumed requests, writes queued output, notifies. */
static void ring_output(struct xsd_ring *rc)
{
	bool notify = false;

	if (!rc->conn)
		return;
	if (rc->page->req_cons != rc->seen) {
		xsw_ring_consume(rc->page, rc->seen);
		notify = true;
		/*
		 * A guest notifies only when it finds its earlier requests
		 * consumed (Linux: prod <= req_cons), and we publish req_cons
		 * only now: anything it wrote since we last looked came with no
		 * event, so look again.
		 */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (*(volatile xsw_ring_idx *)&rc->page->req_prod != rc->seen)
			kick(rc);
	}
	while (rc->out) {
		struct xsd_outbuf *b = rc->out;
		int n = xsw_ring_write(rc->page, b->data + rc->out_off,
				       b->len - rc->out_off);

		if (n < 0) {
			rc->err = XSW_ERROR_RINGIDX;
			xsd_conn_close(rc->conn, "bad reply ring index");
			return;
		}
		if (!n)
			break; /* ring full: the guest notifies when it reads */
		notify = true;
		rc->out_off += (size_t)n;
		if (rc->out_off == b->len) {
			rc->out = b->next;
			if (!rc->out)
				rc->out_tail = NULL;
			rc->out_off = 0;
			free(b);
		}
		xsd_conn_written(rc->conn, (size_t)n);
	}
	if (notify)
		be->ops->notify(be, rc->port);
}

/* connection = 1: forget the session, empty the ring, start afresh. */
static void ring_reconnect(struct xsd_ring *rc)
{
	if (rc->conn) {
		rc->detaching = true; /* no error indicator for a reset */
		xsd_conn_close(rc->conn, "guest asked to reconnect");
		rc->detaching = false;
	}
	drop_output(rc);
	rc->seen = 0;
	xsw_ring_reset(rc->page);
	xsw_ring_advertise(rc->page, rc->d->features);
	xsd_log("domain %u: ring reconnected", rc->d->domid);
	xsd_state_touch(rc->d);
	if (open_conn(rc) == 0)
		kick(rc);
	be->ops->notify(be, rc->port);
}

static void ring_event(struct xsd_ring *rc)
{
	if (xsw_ring_reconnect_requested(rc->page)) {
		ring_reconnect(rc);
		return;
	}
	if (!rc->conn)
		return; /* cut off: ignored until it reconnects or dies */
	xsd_ring_mark_dirty(rc); /* the guest may have made room for output */
	ring_input(rc);
}

/*
 * Runs in the idle phase, before the loop polls. Replies to what it reads
 * leave in the check phase, after the poll: so the handle stays active
 * (poll does not block) until an iteration finds nothing to do.
 */
static void on_kick(uv_idle_t *h)
{
	if (!kick_list && !dirty_list) {
		uv_idle_stop(h);
		return;
	}
	while (kick_list) {
		struct xsd_ring *rc = kick_list;

		kick_list = rc->kick_next;
		rc->kicked = false;
		ring_event(rc);
	}
}

static void on_events(uv_poll_t *h, int status, int events)
{
	uint32_t ports[64];
	int n;

	(void)h;
	(void)events;
	if (status < 0)
		return;
	n = be->ops->pending(be, ports, 64);
	for (int i = 0; i < n; i++) {
		struct xsd_ring *rc;

		if (ports[i] == virq_port) {
			xsd_domain_check_exc();
			continue;
		}
		HASH_FIND(hh, by_port, &ports[i], sizeof(ports[i]), rc);
		if (rc)
			ring_event(rc);
	}
}

void xsd_ring_hold(void)
{
	/*
	 * on_kick keeps the loop from blocking while output waits for the
	 * barrier; when the barrier itself failed, nothing changes before the
	 * retry timer, so let the loop sleep until then (input still to
	 * parse, kick_list, keeps it awake).
	 */
	if (be && !kick_list)
		uv_idle_stop(&kick_idle);
}

void xsd_ring_flush_all(void)
{
	while (dirty_list) {
		struct xsd_ring *rc = dirty_list;

		dirty_list = rc->dirty_next;
		rc->dirty = false;
		ring_output(rc);
	}
	for (unsigned i = 0; i < ndead; i++)
		xsd_conn_free(dead_conns[i]);
	ndead = 0;
}

/* ---- for recovery (ring_state.c) ---- */

void xsd_ring_cut_quietly(struct xsd_ring *rc)
{
	if (!rc->conn)
		return;
	rc->detaching = true;
	xsd_conn_close(rc->conn, "was cut off before the restart");
	rc->detaching = false;
}

int xsd_ring_queue_output(struct xsd_ring *rc, const void *data, size_t len)
{
	struct xsd_outbuf *b;

	if (!rc->conn || !len)
		return 0;
	b = malloc(sizeof(*b) + len);
	if (!b)
		return -ENOMEM;
	b->next = NULL;
	b->len = b->cap = len;
	memcpy(b->data, data, len);
	rc->conn->out_inflight += len;
	rc->conn->out_total += len; /* stream offsets count it (conn.h) */
	return ring_tp_write(rc->conn, b, len);
}

void xsd_ring_state_touch_output(void)
{
	/* output queued this iteration changes what a restart must resend */
	for (struct xsd_conn *c = xsd.dirty; c; c = c->dirty_next)
		if (c->tp == &xsd_ring_transport && c->tp_data)
			xsd_state_touch(((struct xsd_ring *)c->tp_data)->d);
}

/* ---- life cycle ---- */

static int attach(struct xsd_domain *d, struct xsw_ring_page *page,
		  bool dom0_page, uint32_t remote_port)
{
	struct xsd_ring *rc = calloc(1, sizeof(*rc));
	int r;

	if (!rc)
		return -ENOMEM;
	rc->d = d;
	rc->page = page;
	rc->dom0_page = dom0_page;
	r = be->ops->bind(be, d->domid, remote_port, &rc->port);
	if (r) {
		free(rc);
		return r;
	}
	/* resume where the guest is: its unconsumed requests wait for us */
	rc->seen = page->req_cons;
	xsw_ring_advertise(page, d->features);
	if ((r = open_conn(rc))) {
		be->ops->unbind(be, rc->port);
		free(rc);
		return r;
	}
	HASH_ADD(hh, by_port, port, sizeof(rc->port), rc);
	d->ring = rc;
	kick(rc);
	be->ops->notify(be, rc->port);
	return 0;
}

int xsd_ring_attach(struct xsd_domain *d)
{
	struct xsw_ring_page *page;
	int r;

	if (!be)
		return -ENODEV;
	if ((r = be->ops->map_ring(be, d->domid, d->mfn, &page)))
		return r;
	/* dom0less guests name their own port in the page */
	r = attach(d, page, false, page->evtchn_port ? page->evtchn_port
						      : d->port);
	if (r)
		be->ops->unmap_ring(be, d->domid, page);
	return r;
}

int xsd_ring_attach_dom0(struct xsd_domain *d)
{
	struct xsw_ring_page *page;
	uint32_t port;
	int r;

	if (!be)
		return 0;
	r = be->ops->map_dom0_ring(be, &page, &port);
	if (r)
		return r == -ENOENT ? 0 : r;
	d->port = port;
	return attach(d, page, true, port);
}

void xsd_ring_detach(struct xsd_domain *d)
{
	struct xsd_ring *rc = d->ring;

	if (!rc)
		return;
	if (rc->conn) {
		rc->detaching = true;
		xsd_conn_close(rc->conn, "domain released");
	}
	if (rc->dirty)
		unlink_ring(&dirty_list, rc, offsetof(struct xsd_ring, dirty_next));
	if (rc->kicked)
		unlink_ring(&kick_list, rc, offsetof(struct xsd_ring, kick_next));
	drop_output(rc);
	HASH_DEL(by_port, rc);
	be->ops->unbind(be, rc->port);
	if (!rc->dom0_page)
		be->ops->unmap_ring(be, d->domid, rc->page);
	d->ring = NULL;
	free(rc);
}

int xsd_ring_domain_state(uint32_t domid)
{
	return be ? be->ops->domain_state(be, domid) : XSD_DOM_RUNNING;
}

bool xsd_ring_enabled(void)
{
	return be != NULL;
}

int xsd_ring_start(const char *spec)
{
	int r = xsd_backend_open(spec, &be);

	if (r || !be)
		return r;
	uv_idle_init(xsd.loop, &kick_idle);
	if ((r = be->ops->bind_virq_dom_exc(be, &virq_port)) ||
	    (r = uv_poll_init(xsd.loop, &evt_poll, be->ops->fd(be))) ||
	    (r = uv_poll_start(&evt_poll, UV_READABLE, on_events))) {
		xsd_backend_close(be);
		be = NULL;
		uv_close((uv_handle_t *)&kick_idle, NULL);
		return r;
	}
	xsd_log("guest rings: %s backend", be->ops->name);
	return 0;
}

void xsd_ring_stop(void)
{
	if (!be)
		return;
	uv_poll_stop(&evt_poll);
	uv_close((uv_handle_t *)&evt_poll, NULL);
	uv_close((uv_handle_t *)&kick_idle, NULL);
}

/* After the loop ended: domains are gone, the backend can go. */
void xsd_ring_free(void)
{
	xsd_ring_flush_all();
	xsd_backend_close(be);
	be = NULL;
	free(dead_conns);
	dead_conns = NULL;
	dead_cap = ndead = 0;
}
