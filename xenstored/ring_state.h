/*
 * ring_state.h - what a restart after kill -9 needs to resume the guests:
 * per domain, its table entry and, for its ring, the request index
 * consumed up to, the partial request, the unsent output with the
 * response index it starts at, watches and transaction ids. Saved as the
 * store's daemon state (gitstore_put_state), in the same journal write as
 * the commits of the iteration, so that a request's effects and its
 * consumption become durable together. Format: xenstored/README.md.
 *
 * Cost: only domains touched in the iteration are written.
 * Memory: nothing is kept besides the dirty list (links in the domains).
 */
#ifndef XSD_RING_STATE_H
#define XSD_RING_STATE_H

struct xsd_domain;

/* d changed (table entry, ring position, output, watches, txns). */
void xsd_state_touch(struct xsd_domain *d);
/* d leaves the table: its state goes (durable with the next flush). */
void xsd_state_forget(struct xsd_domain *d);
/* Before xsd_persist_flush(): writes the state of every touched domain. */
void xsd_state_save(void);
/*
 * After xsd_domain_init(): recreates the domains of the persisted state,
 * maps and binds their rings again and resumes their connections.
 */
int xsd_state_restore(void);

/* ring_conn.c: touches the domains whose connection queued output. */
void xsd_ring_state_touch_output(void);

#endif
