/*
 * ring_int.h - a guest ring's serving state, shared by ring_conn.c (the
 * transport) and ring_state.c (its persistence for restarts). Not for
 * other files.
 */
#ifndef XSD_RING_INT_H
#define XSD_RING_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "../protocol/wire.h"
#include "conn.h"

struct xsd_ring {
	struct xsd_domain *d;
	struct xsw_ring_page *page;
	bool dom0_page;    /* from map_dom0_ring: never unmapped by us */
	uint32_t port;     /* local event channel port */
	struct xsd_conn *conn; /* NULL while cut off */
	xsw_ring_idx seen; /* parsed up to here; published at flush */
	uint32_t err;      /* XSW_ERROR_* to publish when the conn closes */
	bool stopped;      /* output backpressure: parse no more */
	bool detaching;    /* closed by us: no error indicator */
	/* a reconnection: the page is reset once the fresh session's state
	 * is durable (the next flush), not before */
	bool reset_pending;

	struct xsd_outbuf *out; /* unsent output, oldest first */
	struct xsd_outbuf *out_tail;
	size_t out_off;         /* bytes of out already in the ring */

	bool dirty, kicked;
	struct xsd_ring *dirty_next, *kick_next;
	UT_hash_handle hh; /* by port */
};

extern const struct xsd_transport xsd_ring_transport;

/* Output and published indexes to write at the next flush. */
void xsd_ring_mark_dirty(struct xsd_ring *rc);
/* Ends the connection without an error indicator (already published). */
void xsd_ring_cut_quietly(struct xsd_ring *rc);
/* Queues len bytes (copied) behind the ring's unsent output. */
int xsd_ring_queue_output(struct xsd_ring *rc, const void *data, size_t len);

#endif
