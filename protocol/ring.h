/*
 * ring.h - the xenstore ring algorithm on one struct xsw_ring_page
 * (docs/misc/xenstore-ring.txt), daemon side. Pure: the page may be a
 * grant-mapped guest page or a shared file; the caller notifies the peer.
 *
 * Indexes are free-running uint32_t; each index is read once, then a
 * barrier, then the data. A producer-consumer distance above
 * XSW_RING_SIZE is a protocol violation (-EIO): the caller sets
 * page->error = XSW_ERROR_RINGIDX and ignores the connection after.
 */
#ifndef XSW_RING_H
#define XSW_RING_H

#include <stddef.h>

#include "wire.h"

/* Copies up to len request bytes out of the ring; returns bytes read or -EIO. */
int xsw_ring_read(struct xsw_ring_page *page, void *buf, size_t len);
/* Copies up to len reply bytes into the ring; returns bytes written or -EIO. */
int xsw_ring_write(struct xsw_ring_page *page, const void *buf, size_t len);
/* Bytes waiting in req / free space in rsp (0 on a bad index). */
size_t xsw_ring_req_avail(const struct xsw_ring_page *page);
size_t xsw_ring_rsp_space(const struct xsw_ring_page *page);

#endif
