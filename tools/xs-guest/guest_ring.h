/*
 * guest_ring.h - the guest half of a simulated xenstore ring: the files of
 * xenstored/backend_sim.c seen from the guest, and the ring protocol as a
 * guest kernel's xenbus driver speaks it (producer of requests, consumer
 * of replies, notify after each index move).
 *
 * Memory: a struct guest_ring is owned by the caller; guest_ring_close()
 * releases what guest_ring_open() took.
 */
#ifndef XSG_GUEST_RING_H
#define XSG_GUEST_RING_H

#include <stddef.h>
#include <stdint.h>

#include "../../protocol/wire.h"

struct guest_ring {
	char dir[256];          /* DIR/dom<N> */
	uint32_t domid;
	struct xsw_ring_page *page;
	int evfd;               /* bound to DIR/dom<N>/evtchn.g */
};

/* Creates DIR/dom<N> and its ring file (zeroed unless keep), binds evtchn.g. */
int guest_ring_open(struct guest_ring *g, const char *dir, uint32_t domid,
		    int keep);
void guest_ring_close(struct guest_ring *g);

/* Sends one notification to the daemon's end (ignored if not bound yet). */
void guest_ring_notify(struct guest_ring *g);
/* Waits up to ms for a notification; 1 if one came, 0 on timeout. */
int guest_ring_wait(struct guest_ring *g, int ms);

/* Copies all of buf into req, waiting for room; 0, or -ETIMEDOUT / -EIO. */
int guest_ring_send(struct guest_ring *g, const void *buf, size_t len,
		    int timeout_ms);
/* Takes up to len reply bytes; returns the count (0: none), -EIO. */
int guest_ring_recv(struct guest_ring *g, void *buf, size_t len);

#endif
