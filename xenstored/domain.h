/*
 * domain.h - the domain table: dom0 at start, domains that INTRODUCE
 * names. Guest rings attach here later (one connection per domain).
 *
 * Memory: entries are owned by the table.
 */
#ifndef XSD_DOMAIN_H
#define XSD_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>

#include <uthash.h>

#define XSD_DOMID_SELF 0x7ff0u /* DOMID_SELF */

struct xsd_domain {
	uint32_t domid;
	bool introduced;
	uint32_t features; /* XSW_FEATURE_* for its ring */
	uint32_t target;   /* UINT32_MAX: none */
	uint64_t mfn;
	uint32_t port;
	UT_hash_handle hh;
};

/* The features this daemon offers (GET_FEATURE without domid). */
uint32_t xsd_features_supported(void);

int xsd_domain_init(bool introduce_dom0);
void xsd_domain_shutdown(void);
struct xsd_domain *xsd_domain_find(uint32_t domid);
unsigned xsd_domain_count(void);

#endif
