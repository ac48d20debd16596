/*
 * backend_xen.c - the backend on a real hypervisor: grant-mapped (or
 * foreign-mapped) ring pages through libxengnttab / libxenforeignmemory,
 * event channels through libxenevtchn, domain state through libxenctrl,
 * and dom0's own ring from /proc/xen/xsd_kva + /proc/xen/xsd_port.
 *
 * Memory: the private state and every mapping belong to the backend; a
 * page returned by map_ring or map_dom0_ring stays valid until it is
 * passed to unmap_ring or the backend is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>
#include <xen/grant_table.h>

#include "backend.h"
#include "log.h"

#define XSD_KVA_PATH "/proc/xen/xsd_kva"
#define XSD_PORT_PATH "/proc/xen/xsd_port"

/* How a ring page was obtained, so that it is released the same way. */
enum map_kind { MAP_GRANT, MAP_FOREIGN, MAP_KVA };

struct mapping {
	struct mapping *next;
	struct xsw_ring_page *page;
	uint32_t domid;
	enum map_kind kind;
};

struct xen_priv {
	xenevtchn_handle *xce;
	xengnttab_handle *xgt;
	xenforeignmemory_handle *fmem; /* opened on first fallback */
	xc_interface *xch;
	int fd;
	long pagesize;
	bool foreign_only; /* "xen:foreign": skip the grant map (tests) */
	struct mapping *maps;
};

static struct xen_priv *priv_of(struct xsd_backend *be)
{
	return be->priv;
}

static int neg_errno(int fallback)
{
	return errno ? -errno : -fallback;
}

static int remember(struct xen_priv *p, struct xsw_ring_page *page,
		    uint32_t domid, enum map_kind kind)
{
	struct mapping *m = malloc(sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->page = page;
	m->domid = domid;
	m->kind = kind;
	m->next = p->maps;
	p->maps = m;
	return 0;
}

static void release(struct xen_priv *p, struct mapping *m)
{
	switch (m->kind) {
	case MAP_GRANT:
		xengnttab_unmap(p->xgt, m->page, 1);
		break;
	case MAP_FOREIGN:
		xenforeignmemory_unmap(p->fmem, m->page, 1);
		break;
	case MAP_KVA:
		munmap(m->page, p->pagesize);
		break;
	}
	free(m);
}

static void xen_close(struct xsd_backend *be)
{
	struct xen_priv *p = priv_of(be);

	if (!p)
		return;
	while (p->maps) {
		struct mapping *m = p->maps;

		p->maps = m->next;
		release(p, m);
	}
	if (p->fmem)
		xenforeignmemory_close(p->fmem);
	if (p->xgt)
		xengnttab_close(p->xgt);
	if (p->xce)
		xenevtchn_close(p->xce);
	if (p->xch)
		xc_interface_close(p->xch);
	free(p);
	be->priv = NULL;
}

static int xen_open(struct xsd_backend *be, const char *arg)
{
	struct xen_priv *p;
	int fl, r;

	if (arg && strcmp(arg, "foreign"))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	be->priv = p;
	p->foreign_only = arg != NULL;
	p->pagesize = sysconf(_SC_PAGESIZE);

	errno = 0;
	if (!(p->xce = xenevtchn_open(NULL, 0))) {
		r = neg_errno(ENODEV);
		xsd_log("xen backend: event channel device: %s", strerror(-r));
		goto fail;
	}
	if (!(p->xgt = xengnttab_open(NULL, 0))) {
		r = neg_errno(ENODEV);
		xsd_log("xen backend: grant table device: %s", strerror(-r));
		goto fail;
	}
	/* one grant per domain at most: never run out before domids do */
	xengnttab_set_max_grants(p->xgt, DOMID_FIRST_RESERVED);
	if (!(p->xch = xc_interface_open(NULL, NULL, 0))) {
		r = neg_errno(ENODEV);
		xsd_log("xen backend: hypervisor interface: %s", strerror(-r));
		goto fail;
	}

	/*
	 * pending() must never block the loop: the fd is made non-blocking
	 * and is also polled before each read, because some kernels ignored
	 * O_NONBLOCK on this device.
	 */
	p->fd = xenevtchn_fd(p->xce);
	fl = fcntl(p->fd, F_GETFL);
	if (fl >= 0)
		fcntl(p->fd, F_SETFL, fl | O_NONBLOCK);
	return 0;

fail:
	xen_close(be);
	return r;
}

static int map_kva(struct xen_priv *p, struct xsw_ring_page **page)
{
	void *addr;
	int fd, r;

	fd = open(XSD_KVA_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	addr = mmap(NULL, p->pagesize, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, 0);
	r = addr == MAP_FAILED ? -errno : 0;
	close(fd);
	if (r)
		return r;
	if ((r = remember(p, addr, 0, MAP_KVA))) {
		munmap(addr, p->pagesize);
		return r;
	}
	*page = addr;
	return 0;
}

static int map_foreign(struct xen_priv *p, uint32_t domid, uint64_t gfn,
		       struct xsw_ring_page **page)
{
	xen_pfn_t pfn = (xen_pfn_t)gfn;
	int err = 0;
	void *addr;

	if (!p->fmem) {
		errno = 0;
		if (!(p->fmem = xenforeignmemory_open(NULL, 0)))
			return neg_errno(ENODEV);
	}
	errno = 0;
	addr = xenforeignmemory_map(p->fmem, domid, PROT_READ | PROT_WRITE,
				    1, &pfn, &err);
	if (!addr)
		return neg_errno(EIO);
	if (err) {
		xenforeignmemory_unmap(p->fmem, addr, 1);
		return err < 0 ? err : -err;
	}
	*page = addr;
	return 0;
}

static int xen_map_ring(struct xsd_backend *be, uint32_t domid, uint64_t gfn,
			struct xsw_ring_page **page)
{
	struct xen_priv *p = priv_of(be);
	enum map_kind kind = MAP_GRANT;
	struct xsw_ring_page *addr;
	int r;

	/* dom0's ring is not granted: the kernel exports it instead */
	if (domid == 0 && access(XSD_KVA_PATH, F_OK) == 0)
		return map_kva(p, page);

	errno = 0;
	addr = p->foreign_only ? NULL
		: xengnttab_map_grant_ref(p->xgt, domid,
					  GNTTAB_RESERVED_XENSTORE,
					  PROT_READ | PROT_WRITE);
	if (!addr) {
		/*
		 * Old toolstacks or guests may not have set up the reserved
		 * grant; map the frame INTRODUCE named, as cxenstored did.
		 */
		int gr = p->foreign_only ? -ENOTSUP : neg_errno(EIO);

		kind = MAP_FOREIGN;
		if ((r = map_foreign(p, domid, gfn, &addr))) {
			xsd_log("xen backend: domain %u ring: grant map %s, "
				"foreign map of gfn %#llx %s", domid,
				strerror(-gr), (unsigned long long)gfn,
				strerror(-r));
			return gr;
		}
		xsd_log("xen backend: domain %u ring: foreign map of gfn %#llx",
			domid, (unsigned long long)gfn);
	}
	if ((r = remember(p, addr, domid, kind))) {
		if (kind == MAP_GRANT)
			xengnttab_unmap(p->xgt, addr, 1);
		else
			xenforeignmemory_unmap(p->fmem, addr, 1);
		return r;
	}
	*page = addr;
	return 0;
}

static void xen_unmap_ring(struct xsd_backend *be, uint32_t domid,
			   struct xsw_ring_page *page)
{
	struct xen_priv *p = priv_of(be);

	(void)domid;
	for (struct mapping **mp = &p->maps; *mp; mp = &(*mp)->next) {
		if ((*mp)->page == page) {
			struct mapping *m = *mp;

			*mp = m->next;
			release(p, m);
			return;
		}
	}
}

static int read_port_file(uint32_t *port)
{
	char buf[32];
	unsigned long v;
	char *end;
	ssize_t n;
	int fd;

	fd = open(XSD_PORT_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EINVAL;
	buf[n] = 0;
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno || end == buf || v == 0 || v > UINT32_MAX)
		return -EINVAL;
	*port = (uint32_t)v;
	return 0;
}

static int xen_map_dom0_ring(struct xsd_backend *be,
			     struct xsw_ring_page **page,
			     uint32_t *remote_port)
{
	struct xen_priv *p = priv_of(be);
	int r;

	if (access(XSD_KVA_PATH, F_OK) || access(XSD_PORT_PATH, F_OK))
		return -ENOENT;
	if ((r = read_port_file(remote_port)))
		return r;
	return map_kva(p, page);
}

static int xen_bind(struct xsd_backend *be, uint32_t domid,
		    uint32_t remote_port, uint32_t *local_port)
{
	xenevtchn_port_or_error_t port;

	errno = 0;
	port = xenevtchn_bind_interdomain(priv_of(be)->xce, domid, remote_port);
	if (port < 0)
		return neg_errno(EIO);
	*local_port = (uint32_t)port;
	return 0;
}

static void xen_unbind(struct xsd_backend *be, uint32_t local_port)
{
	xenevtchn_unbind(priv_of(be)->xce, local_port);
}

static int xen_notify(struct xsd_backend *be, uint32_t local_port)
{
	errno = 0;
	if (xenevtchn_notify(priv_of(be)->xce, local_port) < 0)
		return neg_errno(EIO);
	return 0;
}

static int xen_bind_virq_dom_exc(struct xsd_backend *be, uint32_t *local_port)
{
	xenevtchn_port_or_error_t port;

	errno = 0;
	port = xenevtchn_bind_virq(priv_of(be)->xce, VIRQ_DOM_EXC);
	if (port < 0)
		return neg_errno(EIO);
	*local_port = (uint32_t)port;
	return 0;
}

static int xen_fd(struct xsd_backend *be)
{
	return priv_of(be)->fd;
}

static int xen_pending(struct xsd_backend *be, uint32_t *ports, unsigned max)
{
	struct xen_priv *p = priv_of(be);
	unsigned n = 0;

	while (n < max) {
		struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
		xenevtchn_port_or_error_t port;

		if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & POLLIN))
			break;
		errno = 0;
		port = xenevtchn_pending(p->xce);
		if (port < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return n ? (int)n : neg_errno(EIO);
		}
		/* unmask first: a notification after this point is not lost,
		 * since the caller drains the ring after we return */
		xenevtchn_unmask(p->xce, port);
		ports[n++] = (uint32_t)port;
	}
	return (int)n;
}

static int xen_domain_state(struct xsd_backend *be, uint32_t domid)
{
	xc_domaininfo_t info;
	int n;

	errno = 0;
	n = xc_domain_getinfolist(priv_of(be)->xch, domid, 1, &info);
	if (n < 0)
		return neg_errno(EIO);
	/* the call reports the first domain at or after domid */
	if (n == 0 || info.domain != domid)
		return XSD_DOM_GONE;
	if (info.flags & XEN_DOMINF_dying)
		return XSD_DOM_DYING;
	if (info.flags & XEN_DOMINF_shutdown)
		return XSD_DOM_SHUTDOWN;
	return XSD_DOM_RUNNING;
}

const struct xsd_backend_ops xsd_backend_xen_ops = {
	.name = "xen",
	.open = xen_open,
	.close = xen_close,
	.map_ring = xen_map_ring,
	.unmap_ring = xen_unmap_ring,
	.map_dom0_ring = xen_map_dom0_ring,
	.bind = xen_bind,
	.unbind = xen_unbind,
	.notify = xen_notify,
	.bind_virq_dom_exc = xen_bind_virq_dom_exc,
	.fd = xen_fd,
	.pending = xen_pending,
	.domain_state = xen_domain_state,
};
