/*
 * backend_sim.c - a hypervisor made of files, for tests (--backend
 * sim:DIR). Layout, shared with tools/xs-guest:
 *
 *   DIR/dom<N>/ring        the 4096-byte ring page, mapped MAP_SHARED
 *   DIR/dom<N>/evtchn.d    datagram socket the daemon binds (its port end)
 *   DIR/dom<N>/evtchn.g    datagram socket the guest binds
 *   DIR/dom<N>/shutdown|dying|dead   marker files: the domain's state
 *   DIR/virq.d             datagram socket for VIRQ_DOM_EXC
 *
 * A notification is one datagram to the other end. A missing dom<N>
 * directory is a domain that is gone. One epoll set gathers every socket
 * so that the loop polls a single descriptor, as with /dev/xen/evtchn.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend.h"

#define SIM_PAGE 4096u
#define SIM_MAX_PORTS 4096u

struct sim_chan {
	int fd;         /* -1: free */
	uint32_t domid;
};

struct sim {
	char *dir;
	int epfd;
	int virq_fd;
	uint32_t virq_port;
	struct sim_chan ch[SIM_MAX_PORTS]; /* by local port; 0 unused */
};

static int sim_path(const struct sim *s, char *buf, size_t len,
		    uint32_t domid, const char *name)
{
	int n = domid == UINT32_MAX
		? snprintf(buf, len, "%s/%s", s->dir, name)
		: snprintf(buf, len, "%s/dom%u/%s", s->dir, domid, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int sock_bind(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path); /* left over by an earlier daemon */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static int alloc_port(struct sim *s, int fd, uint32_t domid, uint32_t *port)
{
	struct epoll_event ev = { .events = EPOLLIN };

	for (uint32_t p = 1; p < SIM_MAX_PORTS; p++) {
		if (s->ch[p].fd >= 0)
			continue;
		ev.data.u32 = p;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev))
			return -errno;
		s->ch[p].fd = fd;
		s->ch[p].domid = domid;
		*port = p;
		return 0;
	}
	return -ENOSPC;
}

static int sim_open(struct xsd_backend *be, const char *arg)
{
	struct sim *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (unsigned i = 0; i < SIM_MAX_PORTS; i++)
		s->ch[i].fd = -1;
	s->virq_fd = -1;
	s->dir = strdup(arg);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!s->dir || s->epfd < 0) {
		int e = s->dir ? -errno : -ENOMEM;

		free(s->dir);
		free(s);
		return e;
	}
	if (mkdir(s->dir, 0755) && errno != EEXIST) {
		int e = -errno;

		close(s->epfd);
		free(s->dir);
		free(s);
		return e;
	}
	be->priv = s;
	return 0;
}

static void sim_close(struct xsd_backend *be)
{
	struct sim *s = be->priv;

	for (unsigned i = 0; i < SIM_MAX_PORTS; i++)
		if (s->ch[i].fd >= 0)
			close(s->ch[i].fd);
	close(s->epfd);
	free(s->dir);
	free(s);
}

static int sim_map_ring(struct xsd_backend *be, uint32_t domid, uint64_t gfn,
			struct xsw_ring_page **page)
{
	struct sim *s = be->priv;
	char path[PATH_MAX];
	struct stat st;
	void *p;
	int fd, r;

	(void)gfn; /* one page per domain: the file is the grant */
	if ((r = sim_path(s, path, sizeof(path), domid, "ring")))
		return r;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size < (off_t)SIM_PAGE) {
		close(fd);
		return -EINVAL;
	}
	p = mmap(NULL, SIM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	r = p == MAP_FAILED ? -errno : 0;
	close(fd);
	if (!r)
		*page = p;
	return r;
}

static void sim_unmap_ring(struct xsd_backend *be, uint32_t domid,
			   struct xsw_ring_page *page)
{
	(void)be;
	(void)domid;
	munmap(page, SIM_PAGE);
}

static int sim_map_dom0_ring(struct xsd_backend *be,
			     struct xsw_ring_page **page, uint32_t *port)
{
	(void)be;
	(void)page;
	(void)port;
	return -ENOENT; /* dom0 speaks over the socket here */
}

static int sim_bind(struct xsd_backend *be, uint32_t domid,
		    uint32_t remote_port, uint32_t *local_port)
{
	struct sim *s = be->priv;
	char path[PATH_MAX];
	int fd, r;

	(void)remote_port;
	if ((r = sim_path(s, path, sizeof(path), domid, "evtchn.d")))
		return r;
	fd = sock_bind(path);
	if (fd < 0)
		return fd;
	r = alloc_port(s, fd, domid, local_port);
	if (r)
		close(fd);
	return r;
}

static void sim_unbind(struct xsd_backend *be, uint32_t port)
{
	struct sim *s = be->priv;

	if (port == 0 || port >= SIM_MAX_PORTS || s->ch[port].fd < 0)
		return;
	close(s->ch[port].fd); /* leaves the epoll set with it */
	s->ch[port].fd = -1;
	if (port == s->virq_port)
		s->virq_fd = -1;
}

static int sim_notify(struct xsd_backend *be, uint32_t port)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sim *s = be->priv;
	int r;

	if (port == 0 || port >= SIM_MAX_PORTS || s->ch[port].fd < 0)
		return -EINVAL;
	if ((r = sim_path(s, sa.sun_path, sizeof(sa.sun_path),
			  s->ch[port].domid, "evtchn.g")))
		return r;
	if (sendto(s->ch[port].fd, "!", 1, MSG_DONTWAIT,
		   (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		/* a full queue already holds a pending notification */
		return errno == EAGAIN ? 0 : -errno;
	}
	return 0;
}

static int sim_bind_virq(struct xsd_backend *be, uint32_t *local_port)
{
	struct sim *s = be->priv;
	char path[PATH_MAX];
	int fd, r;

	if ((r = sim_path(s, path, sizeof(path), UINT32_MAX, "virq.d")))
		return r;
	fd = sock_bind(path);
	if (fd < 0)
		return fd;
	r = alloc_port(s, fd, UINT32_MAX, local_port);
	if (r) {
		close(fd);
		return r;
	}
	s->virq_fd = fd;
	s->virq_port = *local_port;
	return 0;
}

static int sim_fd(struct xsd_backend *be)
{
	return ((struct sim *)be->priv)->epfd;
}

static int sim_pending(struct xsd_backend *be, uint32_t *ports, unsigned max)
{
	struct sim *s = be->priv;
	struct epoll_event ev[64];
	char drain[64];
	int n, k = 0;

	if (max > 64)
		max = 64;
	n = epoll_wait(s->epfd, ev, (int)max, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		uint32_t p = ev[i].data.u32;

		if (p >= SIM_MAX_PORTS || s->ch[p].fd < 0)
			continue;
		/* many notifications are one pending bit, as with Xen */
		while (recv(s->ch[p].fd, drain, sizeof(drain), MSG_DONTWAIT) > 0)
			;
		ports[k++] = p;
	}
	return k;
}

static int sim_domain_state(struct xsd_backend *be, uint32_t domid)
{
	static const struct {
		const char *name;
		int state;
	} marks[] = {
		{ "dead", XSD_DOM_GONE },
		{ "dying", XSD_DOM_DYING },
		{ "shutdown", XSD_DOM_SHUTDOWN },
	};
	struct sim *s = be->priv;
	char path[PATH_MAX];
	int r;

	if ((r = sim_path(s, path, sizeof(path), domid, "")))
		return r;
	if (access(path, F_OK))
		return errno == ENOENT ? XSD_DOM_GONE : -errno;
	for (unsigned i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		if ((r = sim_path(s, path, sizeof(path), domid, marks[i].name)))
			return r;
		if (!access(path, F_OK))
			return marks[i].state;
	}
	return XSD_DOM_RUNNING;
}

const struct xsd_backend_ops xsd_backend_sim_ops = {
	.name = "sim",
	.open = sim_open,
	.close = sim_close,
	.map_ring = sim_map_ring,
	.unmap_ring = sim_unmap_ring,
	.map_dom0_ring = sim_map_dom0_ring,
	.bind = sim_bind,
	.unbind = sim_unbind,
	.notify = sim_notify,
	.bind_virq_dom_exc = sim_bind_virq,
	.fd = sim_fd,
	.pending = sim_pending,
	.domain_state = sim_domain_state,
};
