/*
 * ring_conn.h - guest connections over a ring page and an event channel
 * (docs/misc/xenstore-ring.txt), on top of the backend (backend.h).
 *
 * Durability: request bytes are parsed as they arrive but given back to
 * the guest (req_cons published) only in xsd_ring_flush_all(), which the
 * loop calls after xsd_persist_flush(), together with writing the replies
 * into the ring. ring_input() and ring_output() in ring_conn.c are the
 * only places where a ring's input is consumed and its output written.
 *
 * Memory: a struct xsd_ring belongs to its domain (d->ring) and goes with
 * xsd_ring_detach().
 */
#ifndef XSD_RING_CONN_H
#define XSD_RING_CONN_H

#include <stdbool.h>
#include <stdint.h>

struct xsd_domain;

/*
 * Opens the backend named by spec (see xsd_backend_open), polls its event
 * fd, binds VIRQ_DOM_EXC. No backend ("none"): every call below is a
 * no-op that succeeds, except attach, which answers -ENODEV.
 */
int xsd_ring_start(const char *spec);
void xsd_ring_stop(void);
/* After the loop and xsd_domain_shutdown(): closes the backend. */
void xsd_ring_free(void);
bool xsd_ring_enabled(void);

/* dom0's own ring when the kernel offers one; 0 when there is none. */
int xsd_ring_attach_dom0(struct xsd_domain *d);
/* Maps d->mfn, binds d->port, advertises d->features, starts serving. */
int xsd_ring_attach(struct xsd_domain *d);
/* Stops serving d (no error indicator), unbinds, unmaps. */
void xsd_ring_detach(struct xsd_domain *d);

/* The connection serving d's ring; NULL when none (cut off, no ring). */
struct xsd_conn *xsd_ring_conn(const struct xsd_domain *d);
/* The backend's view of a domain: enum xsd_dom_state or -errno. */
int xsd_ring_domain_state(uint32_t domid);

/*
 * The barrier failed: the output stays queued until the retry timer, so
 * the loop may block until then instead of polling without a timeout.
 */
void xsd_ring_hold(void);

/* The per-iteration output stage; see above. */
void xsd_ring_flush_all(void);

#endif
