/*
 * perms.h - permission entries "[rwbn]<domid>" and their lists.
 *
 * The first entry names the owner and the default access of every other
 * domain; later entries grant access to one domain each
 * (docs/misc/xenstore.txt). Pure: no allocation except where stated.
 */
#ifndef XSW_PERMS_H
#define XSW_PERMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XSW_PERM_NONE 0u
#define XSW_PERM_READ 1u
#define XSW_PERM_WRITE 2u
#define XSW_PERM_BOTH (XSW_PERM_READ | XSW_PERM_WRITE)
/* internal marker cxenstored uses for entries of dead domains */
#define XSW_PERM_IGNORE 4u

struct xsw_perm {
	uint32_t domid;
	uint8_t perms; /* XSW_PERM_* */
};

/* Parses one entry ("r5"); 0 or -EINVAL. */
int xsw_perm_parse(const char *s, struct xsw_perm *out);
/* Formats one entry into out (>= 12 bytes); returns its length. */
size_t xsw_perm_format(const struct xsw_perm *p, char *out);

/*
 * Formats a list as the GET_PERMS reply payload: "n0\0r1\0" (each entry
 * NUL-terminated). Returns the length, or -E2BIG if it does not fit.
 */
int xsw_perms_format(const struct xsw_perm *p, unsigned n, char *out,
		     size_t outlen);

/*
 * Effective access of domid to a node with perms p[0..n-1], as cxenstored
 * computes it: privileged callers and the owner get BOTH; otherwise the
 * first entry naming domid; otherwise the owner entry's bits. target is
 * the domain domid may act for (SET_TARGET), or UINT32_MAX for none: if
 * target owns the node, domid gets BOTH too.
 */
unsigned xsw_perms_access(const struct xsw_perm *p, unsigned n,
			  uint32_t domid, bool privileged, uint32_t target);

#endif
