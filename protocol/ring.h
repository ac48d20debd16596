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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/*
 * What the daemon advertises in server_features. DOMID_ANY is left out
 * until node permissions understand it.
 */
#define XSW_SERVER_FEATURES \
	(XSW_FEATURE_RECONNECTION | XSW_FEATURE_ERROR | XSW_FEATURE_WATCHDEPTH)

/* Copies up to len request bytes out of the ring; returns bytes read or -EIO. */
int xsw_ring_read(struct xsw_ring_page *page, void *buf, size_t len);
/* Copies up to len reply bytes into the ring; returns bytes written or -EIO. */
int xsw_ring_write(struct xsw_ring_page *page, const void *buf, size_t len);
/*
 * Two-step read, for a daemon that gives request space back only once
 * the requests' effects are durable: peek copies up to len bytes from the
 * private consumer index *cons (at or after the published req_cons) and
 * advances *cons; consume publishes cons as req_cons. -EIO on a bad index.
 */
int xsw_ring_peek(const struct xsw_ring_page *page, xsw_ring_idx *cons,
		  void *buf, size_t len);
void xsw_ring_consume(struct xsw_ring_page *page, xsw_ring_idx cons);

/* Bytes waiting in req / free space in rsp (0 on a bad index). */
size_t xsw_ring_req_avail(const struct xsw_ring_page *page);
size_t xsw_ring_rsp_space(const struct xsw_ring_page *page);

/*
 * Adds feature bits to server_features (never clears one: the guest may
 * already rely on them). Call before the first read or write.
 */
void xsw_ring_advertise(struct xsw_ring_page *page, uint32_t features);

/* True if the guest set connection = XSW_RECONNECT. */
bool xsw_ring_reconnect_requested(const struct xsw_ring_page *page);

/* Publishes a connection error (XSW_ERROR_*) before the daemon stops. */
void xsw_ring_set_error(struct xsw_ring_page *page, uint32_t error);

/*
 * Server half of a reconnect: empties both queues (all indexes 0), clears
 * error, then sets connection = XSW_CONNECTED. The caller first drops the
 * connection's partial message (xsw_reader_reset), queued replies,
 * watches and transactions, and afterwards notifies the event channel.
 */
void xsw_ring_reset(struct xsw_ring_page *page);

#endif
