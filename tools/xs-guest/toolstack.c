/*
 * toolstack.c - what dom0's toolstack does around a guest, for xs-guest:
 * create its home and introduce it over the dom0 socket with libxenstore,
 * release it, and (for the simulated hypervisor) change its state and
 * raise VIRQ_DOM_EXC.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xenstore.h>

#include "toolstack.h"

int toolstack_introduce(uint32_t domid, uint32_t port)
{
	struct xs_permissions perm = { .id = domid, .perms = XS_PERM_NONE };
	struct xs_handle *h = xs_open(0);
	char home[64];
	bool ok;

	if (!h)
		return -errno;
	snprintf(home, sizeof(home), "/local/domain/%u", domid);
	/* as libxl: the home belongs to the guest, others may not look */
	ok = xs_mkdir(h, XBT_NULL, home) &&
	     xs_set_permissions(h, XBT_NULL, home, &perm, 1) &&
	     xs_introduce_domain(h, domid, domid, port);
	xs_close(h);
	return ok ? 0 : -errno;
}

int toolstack_release(uint32_t domid)
{
	struct xs_handle *h = xs_open(0);
	bool ok;

	if (!h)
		return -errno;
	ok = xs_release_domain(h, domid);
	xs_close(h);
	return ok ? 0 : -errno;
}

int toolstack_set_state(const char *dir, uint32_t domid, const char *state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[512];
	int fd;

	if (strcmp(state, "running")) {
		snprintf(path, sizeof(path), "%s/dom%u/%s", dir, domid, state);
		fd = open(path, O_WRONLY | O_CREAT, 0644);
		if (fd < 0)
			return -errno;
		close(fd);
	} else {
		static const char *marks[] = { "shutdown", "dying", "dead" };

		for (unsigned i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "%s/dom%u/%s", dir, domid,
				 marks[i]);
			unlink(path);
		}
	}
	/* VIRQ_DOM_EXC: the daemon asks about every domain it knows */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/virq.d", dir);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, "!", 1, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	close(fd);
	return 0;
}
