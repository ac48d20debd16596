/*
 * wrl.h - write rate limiting of unprivileged domains, as cxenstored 4.17
 * does it (xenstored/README.md, "Write rate limiting").
 *
 * Each introduced domain has a credit, in thousandths of a write, that
 * grows with time at rate / (introduced domains) per second up to a burst;
 * past the burst the surplus fills a reserve shared by all, up to a global
 * burst, and a domain below zero borrows from it. A change by an
 * unprivileged domain costs credit while transactions are open (they are
 * what fast writers starve); a domain below zero is not read until its
 * credit is back, which a timer notices. dom0 and socket clients are
 * exempt. Nothing of it survives a restart: domains start afresh.
 *
 * Memory: the state of a domain lives in its struct xsd_domain (d->wrl);
 * the module owns only its timer.
 */
#ifndef XSD_WRL_H
#define XSD_WRL_H

#include <stdbool.h>
#include <stdint.h>

struct xsd_domain;
struct store_commit;

/* cxenstored 4.17's constants (writes; the burst of new domains: 5x). */
#define XSD_WRL_RATE 200
#define XSD_WRL_DBURST 10
#define XSD_WRL_GBURST 1000
#define XSD_WRL_NEWDOMS 5
#define XSD_WRL_LOGEVERY 120 /* seconds without limiting: say so */

struct xsd_wrl_dom {
	bool active;   /* counted among the domains sharing the rate */
	bool held;     /* input stops until the credit is back */
	bool logged;   /* "is affected" said once */
	int64_t credit;    /* thousandths of a write */
	uint64_t stamp;    /* loop time (ms) of the last refill */
	uint64_t delays;   /* times its input was held */
	struct xsd_wrl_dom *prev, *next;
};

/* rate 0 disables the limit. 0 or a negative errno. */
int xsd_wrl_init(uint32_t rate, uint32_t dburst, uint32_t gburst);
/* Stops the timer (shutdown). */
void xsd_wrl_close(void);

/* d was introduced (dom0 too: it shares the rate); idempotent. */
void xsd_wrl_domain_new(struct xsd_domain *d);
/* d goes: its credit over zero returns to the reserve. */
void xsd_wrl_domain_gone(struct xsd_domain *d);

/*
 * The commit hook: charges the committing domain, if unprivileged, one
 * write per node written or subtree removed outside a transaction while
 * some transaction is open, and one per transaction committed while
 * another is open. Holds its input when its credit goes below zero.
 */
void xsd_wrl_commit(const struct store_commit *c);

/* The credit of d now, in thousandths of a write (CONTROL quota). */
int64_t xsd_wrl_credit(struct xsd_domain *d);

#endif
