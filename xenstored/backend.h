/*
 * backend.h - what the daemon needs from the hypervisor to serve guests:
 * ring pages, event channels, domain state. One implementation talks to
 * Xen (backend_xen.c: libxengnttab, libxenevtchn, libxenctrl), one
 * simulates it with files and datagram sockets (backend_sim.c). Both feed
 * the same ring code (ring_conn.c).
 *
 * Every call returns 0 (or a count) or a negative errno. Calls are made
 * from the loop thread only; none blocks.
 *
 * Memory: a backend is owned by whoever opened it and freed by
 * xsd_backend_close(). Ring pages returned by map_ring belong to the
 * backend until passed back to unmap_ring.
 */
#ifndef XSD_BACKEND_H
#define XSD_BACKEND_H

#include <stdint.h>

#include "../protocol/wire.h"

struct xsd_backend;

/* libxenctrl's view of a domain, as xc_domain_getinfo reports it. */
enum xsd_dom_state {
	XSD_DOM_RUNNING = 0,  /* exists, neither shut down nor dying */
	XSD_DOM_SHUTDOWN = 1, /* XEN_DOMINF_shutdown: stopped, still exists */
	XSD_DOM_DYING = 2,    /* XEN_DOMINF_dying: being destroyed */
	XSD_DOM_GONE = 3,     /* no such domain any more */
};

struct xsd_backend_ops {
	const char *name; /* "xen", "sim" */

	/* arg: what follows "name:" on the command line, or NULL. */
	int (*open)(struct xsd_backend *be, const char *arg);
	void (*close)(struct xsd_backend *be);

	/*
	 * Maps a domain's 4 KiB ring page: the grant GNTTAB_RESERVED_XENSTORE
	 * of domid (falling back to the frame gfn), as INTRODUCE names it.
	 */
	int (*map_ring)(struct xsd_backend *be, uint32_t domid, uint64_t gfn,
			struct xsw_ring_page **page);
	void (*unmap_ring)(struct xsd_backend *be, uint32_t domid,
			   struct xsw_ring_page *page);

	/*
	 * dom0's own ring when this kernel offers one (/proc/xen/xsd_kva and
	 * the remote port in /proc/xen/xsd_port); -ENOENT when it does not.
	 * The port is then bound like any other, with domid 0.
	 */
	int (*map_dom0_ring)(struct xsd_backend *be,
			     struct xsw_ring_page **page,
			     uint32_t *remote_port);

	/* Interdomain event channel: (domid, remote port) -> local port. */
	int (*bind)(struct xsd_backend *be, uint32_t domid,
		    uint32_t remote_port, uint32_t *local_port);
	void (*unbind)(struct xsd_backend *be, uint32_t local_port);
	int (*notify)(struct xsd_backend *be, uint32_t local_port);

	/*
	 * VIRQ_DOM_EXC: binds it and returns its local port. It is reported
	 * by pending() like any port; the daemon then calls domain_state()
	 * for every domain it knows.
	 */
	int (*bind_virq_dom_exc)(struct xsd_backend *be, uint32_t *local_port);

	/* A file descriptor that polls readable while a port is pending. */
	int (*fd)(struct xsd_backend *be);

	/*
	 * Called when fd() is readable: stores up to max pending local ports
	 * in ports, unmasks them, returns how many (0: nothing after all).
	 * Never blocks. A port is reported once per notification batch;
	 * the caller reads the ring until it is empty either way.
	 */
	int (*pending)(struct xsd_backend *be, uint32_t *ports, unsigned max);

	/* State of one domain: an enum xsd_dom_state, or -errno. */
	int (*domain_state)(struct xsd_backend *be, uint32_t domid);
};

struct xsd_backend {
	const struct xsd_backend_ops *ops;
	void *priv; /* the implementation's */
};

/* The implementations; backend_xen.c is built only with libxen. */
extern const struct xsd_backend_ops xsd_backend_sim_ops;
extern const struct xsd_backend_ops xsd_backend_xen_ops;

/*
 * Opens the backend named by spec: "xen", "xen:foreign" (ring pages
 * always mapped by the frame INTRODUCE names, the fallback used when the
 * reserved grant cannot be mapped), "sim:DIR", "none", or NULL for
 * the default (xen when /dev/xen/evtchn exists and /proc/xen/capabilities
 * says control_d, else none). *out is NULL for "none" (sockets only).
 */
int xsd_backend_open(const char *spec, struct xsd_backend **out);
void xsd_backend_close(struct xsd_backend *be);

#endif
