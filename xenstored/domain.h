/*
 * domain.h - the domain table: dom0 at start, domains that INTRODUCE
 * names. An introduced domain has a ring (ring_conn.h) when a backend
 * runs; its connection is the ring's.
 *
 * Memory: entries are owned by the table; d->ring by the entry.
 */
#ifndef XSD_DOMAIN_H
#define XSD_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>

#include <uthash.h>

#include "../store/store.h"
#include "config.h"
#include "wrl.h"

struct xsd_ring;

#define XSD_DOMID_SELF 0x7ff0u /* DOMID_SELF */

struct xsd_domain {
	uint32_t domid;
	bool introduced;
	uint32_t features; /* XSW_FEATURE_* for its ring */
	uint32_t target;   /* UINT32_MAX: none */
	uint64_t mfn;
	uint32_t port;
	struct xsd_ring *ring; /* NULL: no backend, or not mapped */
	bool shutdown; /* @releaseDomain already fired for its shutdown */
	uint32_t quota[XSD_Q_COUNT]; /* SET_QUOTA for it; 0: the global one */
	struct store_limits lim;     /* what the store applies to it */
	bool state_dirty;            /* ring_state.c: save at the barrier */
	bool mem_warned;             /* over the soft memory quota, logged */
	struct xsd_wrl_dom wrl;      /* write rate limiting (wrl.c) */
	struct xsd_domain *state_next;
	UT_hash_handle hh;
};

/* The features this daemon offers (GET_FEATURE without domid). */
uint32_t xsd_features_supported(void);

int xsd_domain_init(bool introduce_dom0);
void xsd_domain_shutdown(void);
struct xsd_domain *xsd_domain_find(uint32_t domid);
unsigned xsd_domain_count(void);
/*
 * In the table, or alive for the hypervisor though not introduced yet
 * (cxenstored's find_or_alloc_existing_domain: a toolstack gives a new
 * domain its home before introducing it).
 */
bool xsd_domain_known(uint32_t domid);
/*
 * The entry of a domain in the table, or a new, not introduced one when
 * the hypervisor knows the domain (for settings made before INTRODUCE).
 * NULL when unknown or out of memory.
 */
struct xsd_domain *xsd_domain_lookup(uint32_t domid);
/* The quota q (XSD_Q_*) in force for domid: its own, else the global. */
uint32_t xsd_domain_quota(uint32_t domid, int q);

/*
 * The memory charged to domid, as cxenstored 4.17 counts it: its nodes
 * (store_memory_owned) and what its connection holds (xsd_conn_memory:
 * watches, transactions, queued output). Only unprivileged domains have
 * their connection's part counted.
 */
uint64_t xsd_domain_memory(uint32_t domid);
/*
 * True when growing domid's memory by add bytes would pass its memory
 * quota (-Q memory or its own). For unprivileged domains only.
 */
bool xsd_domain_memory_over(uint32_t domid, uint64_t add);

/*
 * After a change by domid: logs once when its memory passes the soft
 * quota (-q memory), again after it went back below.
 */
void xsd_domain_check_memory(uint32_t domid);

/* The entry of domid, a new one (not introduced) if there is none. */
struct xsd_domain *xsd_domain_create(uint32_t domid);
/* After a restart: the resumed domains share the write rate again. */
void xsd_domain_wrl_resume(void);

/* Removes d from the table (its ring, not its nodes): a failed restore. */
void xsd_domain_drop(struct xsd_domain *d);

/*
 * VIRQ_DOM_EXC arrived: asks the backend about every introduced domain,
 * fires @releaseDomain for new shutdowns, and forgets the dying and the
 * dead (their connection, their nodes, their permission entries).
 */
void xsd_domain_check_exc(void);

#endif
