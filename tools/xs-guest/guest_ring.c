/* guest_ring.c - guest side of the simulated ring (see guest_ring.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "guest_ring.h"

#define PAGE 4096

static inline uint32_t ld(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void st(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline void mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static int addr_of(const struct guest_ring *g, const char *name,
		   struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s",
			     g->dir, name) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int guest_ring_open(struct guest_ring *g, const char *dir, uint32_t domid,
		    int keep)
{
	struct sockaddr_un sa;
	char path[300];
	int fd, r;

	memset(g, 0, sizeof(*g));
	g->evfd = -1;
	g->domid = domid;
	if ((size_t)snprintf(g->dir, sizeof(g->dir), "%s/dom%u", dir, domid) >=
	    sizeof(g->dir))
		return -ENAMETOOLONG;
	mkdir(dir, 0755);
	if (mkdir(g->dir, 0755) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/ring", g->dir);
	fd = open(path, O_RDWR | O_CREAT | (keep ? 0 : O_TRUNC), 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, PAGE)) {
		r = -errno;
		close(fd);
		return r;
	}
	g->page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (g->page == MAP_FAILED) {
		g->page = NULL;
		return -errno;
	}
	if ((r = addr_of(g, "evtchn.g", &sa)))
		return r;
	g->evfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (g->evfd < 0)
		return -errno;
	unlink(sa.sun_path);
	if (bind(g->evfd, (struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	return 0;
}

void guest_ring_close(struct guest_ring *g)
{
	if (g->evfd >= 0)
		close(g->evfd);
	if (g->page)
		munmap(g->page, PAGE);
	g->evfd = -1;
	g->page = NULL;
}

void guest_ring_notify(struct guest_ring *g)
{
	struct sockaddr_un sa;

	if (addr_of(g, "evtchn.d", &sa))
		return;
	/* not bound yet (before INTRODUCE): the daemon reads the ring then */
	(void)sendto(g->evfd, "!", 1, MSG_DONTWAIT, (struct sockaddr *)&sa,
		     sizeof(sa));
}

int guest_ring_wait(struct guest_ring *g, int ms)
{
	struct pollfd p = { .fd = g->evfd, .events = POLLIN };
	char drain[64];
	int n = poll(&p, 1, ms);

	if (n <= 0)
		return 0;
	while (recv(g->evfd, drain, sizeof(drain), MSG_DONTWAIT) > 0)
		;
	return 1;
}

int guest_ring_send(struct guest_ring *g, const void *buf, size_t len,
		    int timeout_ms)
{
	struct xsw_ring_page *p = g->page;
	const char *in = buf;

	while (len) {
		uint32_t cons = ld(&p->req_cons), prod = ld(&p->req_prod);
		uint32_t space, off, n;

		mb();
		if (prod - cons > XSW_RING_SIZE)
			return -EIO;
		space = XSW_RING_SIZE - (prod - cons);
		if (!space) {
			if (!guest_ring_wait(g, timeout_ms))
				return -ETIMEDOUT;
			continue;
		}
		off = XSW_RING_MASK(prod);
		n = XSW_RING_SIZE - off;
		if (n > space)
			n = space;
		if (n > len)
			n = (uint32_t)len;
		memcpy(p->req + off, in, n);
		mb(); /* data before the index that publishes it */
		st(&p->req_prod, prod + n);
		in += n;
		len -= n;
		guest_ring_notify(g);
	}
	return 0;
}

int guest_ring_recv(struct guest_ring *g, void *buf, size_t len)
{
	struct xsw_ring_page *p = g->page;
	uint32_t cons = ld(&p->rsp_cons), prod = ld(&p->rsp_prod);
	uint32_t avail, off, n;

	mb();
	if (prod - cons > XSW_RING_SIZE)
		return -EIO;
	avail = prod - cons;
	off = XSW_RING_MASK(cons);
	n = XSW_RING_SIZE - off;
	if (n > avail)
		n = avail;
	if (n > len)
		n = (uint32_t)len;
	if (!n)
		return 0;
	memcpy(buf, p->rsp + off, n);
	mb(); /* copied out before the space is handed back */
	st(&p->rsp_cons, cons + n);
	guest_ring_notify(g);
	return (int)n;
}
