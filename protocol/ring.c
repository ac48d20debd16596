/*
 * ring.c - daemon side of the xenstore ring (docs/misc/xenstore-ring.txt).
 *
 * The guest may change the page at any time: every shared index is loaded
 * exactly once into a local, validated, and only the local is used after.
 * Fences order index loads before data access and data access before the
 * index store that hands the bytes over.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "ring.h"

/* Offsets fixed by docs/misc/xenstore-ring.txt. */
_Static_assert(offsetof(struct xsw_ring_page, req_cons) == 2048, "ring");
_Static_assert(offsetof(struct xsw_ring_page, server_features) == 2064, "ring");
_Static_assert(offsetof(struct xsw_ring_page, error) == 2072, "ring");
_Static_assert(offsetof(struct xsw_ring_page, evtchn_port) == 2076, "ring");

static inline uint32_t load_idx(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void store_idx(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline void full_barrier(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static inline bool idx_ok(uint32_t cons, uint32_t prod)
{
	return (uint32_t)(prod - cons) <= XSW_RING_SIZE;
}

int xsw_ring_read(struct xsw_ring_page *page, void *buf, size_t len)
{
	uint32_t cons = load_idx(&page->req_cons);
	uint32_t prod = load_idx(&page->req_prod);
	uint32_t avail, off, first;
	char *out = buf;

	full_barrier(); /* indexes before data */
	if (!idx_ok(cons, prod))
		return -EIO;
	avail = prod - cons;
	if (len > avail)
		len = avail;
	if (!len)
		return 0;
	off = XSW_RING_MASK(cons);
	first = XSW_RING_SIZE - off;
	if (first > len)
		first = (uint32_t)len;
	memcpy(out, page->req + off, first);
	memcpy(out + first, page->req, len - first);
	full_barrier(); /* data copied out before the space is given back */
	store_idx(&page->req_cons, cons + (uint32_t)len);
	return (int)len;
}

int xsw_ring_peek(const struct xsw_ring_page *page, xsw_ring_idx *cons,
		  void *buf, size_t len)
{
	uint32_t pub = load_idx(&page->req_cons);
	uint32_t prod = load_idx(&page->req_prod);
	uint32_t at = *cons, avail, off, first;
	char *out = buf;

	full_barrier(); /* indexes before data */
	/* the guest moved nothing we own: neither index may pass the other */
	if (!idx_ok(pub, prod) || (uint32_t)(at - pub) > (uint32_t)(prod - pub))
		return -EIO;
	avail = prod - at;
	if (len > avail)
		len = avail;
	if (!len)
		return 0;
	off = XSW_RING_MASK(at);
	first = XSW_RING_SIZE - off;
	if (first > len)
		first = (uint32_t)len;
	memcpy(out, page->req + off, first);
	memcpy(out + first, page->req, len - first);
	*cons = at + (uint32_t)len;
	return (int)len;
}

void xsw_ring_consume(struct xsw_ring_page *page, xsw_ring_idx cons)
{
	full_barrier(); /* data copied out before the space is given back */
	store_idx(&page->req_cons, cons);
}

int xsw_ring_write(struct xsw_ring_page *page, const void *buf, size_t len)
{
	uint32_t cons = load_idx(&page->rsp_cons);
	uint32_t prod = load_idx(&page->rsp_prod);
	uint32_t space, off, first;
	const char *in = buf;

	full_barrier(); /* indexes before data */
	if (!idx_ok(cons, prod))
		return -EIO;
	space = XSW_RING_SIZE - (prod - cons);
	if (len > space)
		len = space;
	if (!len)
		return 0;
	off = XSW_RING_MASK(prod);
	first = XSW_RING_SIZE - off;
	if (first > len)
		first = (uint32_t)len;
	memcpy(page->rsp + off, in, first);
	memcpy(page->rsp, in + first, len - first);
	full_barrier(); /* data visible before the producer index moves */
	store_idx(&page->rsp_prod, prod + (uint32_t)len);
	return (int)len;
}

size_t xsw_ring_req_avail(const struct xsw_ring_page *page)
{
	uint32_t cons = load_idx(&page->req_cons);
	uint32_t prod = load_idx(&page->req_prod);

	return idx_ok(cons, prod) ? prod - cons : 0;
}

size_t xsw_ring_rsp_space(const struct xsw_ring_page *page)
{
	uint32_t cons = load_idx(&page->rsp_cons);
	uint32_t prod = load_idx(&page->rsp_prod);

	return idx_ok(cons, prod) ? XSW_RING_SIZE - (prod - cons) : 0;
}

void xsw_ring_advertise(struct xsw_ring_page *page, uint32_t features)
{
	uint32_t old = load_idx(&page->server_features);

	/* Bits are only ever added: the guest may have seen them. */
	store_idx(&page->server_features, old | features);
	full_barrier();
}

bool xsw_ring_reconnect_requested(const struct xsw_ring_page *page)
{
	bool req = load_idx(&page->connection) == XSW_RECONNECT;

	full_barrier(); /* nothing of the page is trusted before this */
	return req;
}

void xsw_ring_set_error(struct xsw_ring_page *page, uint32_t error)
{
	store_idx(&page->error, error);
	full_barrier();
}

void xsw_ring_reset(struct xsw_ring_page *page)
{
	store_idx(&page->req_cons, 0);
	store_idx(&page->req_prod, 0);
	store_idx(&page->rsp_cons, 0);
	store_idx(&page->rsp_prod, 0);
	store_idx(&page->error, XSW_ERROR_NONE);
	/* Empty queues must be visible before the guest sees CONNECTED. */
	full_barrier();
	store_idx(&page->connection, XSW_CONNECTED);
	full_barrier();
}
