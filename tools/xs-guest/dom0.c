/* dom0.c - raw requests over dom0's socket (see dom0.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../protocol/wire.h"
#include "dom0.h"

static int dom0_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = getenv("XENSTORED_PATH");
	int fd;

	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static int send_msg(int fd, uint32_t type, char **args, int n)
{
	char buf[XSW_HDR_SIZE + XSW_PAYLOAD_MAX];
	struct xsw_hdr h = { type, 1, 0, 0 };

	for (int i = 0; i < n; i++) {
		size_t l = strlen(args[i]) + 1;

		if (h.len + l > XSW_PAYLOAD_MAX)
			return -E2BIG;
		memcpy(buf + XSW_HDR_SIZE + h.len, args[i], l);
		h.len += (uint32_t)l;
	}
	memcpy(buf, &h, XSW_HDR_SIZE);
	return write(fd, buf, XSW_HDR_SIZE + h.len) ==
	       (ssize_t)(XSW_HDR_SIZE + h.len) ? 0 : -EIO;
}

/* One whole message within ms; 1, 0 on timeout, -errno. */
static int recv_msg(int fd, struct xsw_hdr *h, char *body, int ms)
{
	size_t have = 0, want = XSW_HDR_SIZE;
	char *dst = (char *)h;

	while (have < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (poll(&p, 1, ms) <= 0)
			return 0;
		k = read(fd, dst + have, want - have);
		if (k <= 0)
			return -EIO;
		have += (size_t)k;
		if (dst == (char *)h && have == XSW_HDR_SIZE) {
			if (h->len > XSW_PAYLOAD_MAX)
				return -EIO;
			dst = body;
			have = 0;
			want = h->len;
		}
	}
	body[h->len] = 0;
	return 1;
}

static uint32_t type_of(const char *name)
{
	for (uint32_t t = 0; t < XSW_TYPE_COUNT; t++)
		if (xsw_type_name(t) && !strcmp(xsw_type_name(t), name))
			return t;
	return XSW_INVALID;
}

static void print_reply(const struct xsw_hdr *h, const char *body)
{
	if (h->type == XSW_ERROR)
		printf("ERR %s\n", body);
	else
		printf("%.*s\n", (int)(h->len && !body[h->len - 1] ? h->len - 1
						       : h->len), body);
}

int dom0_request(const char *type, char **args, int n)
{
	char body[XSW_PAYLOAD_MAX + 1];
	uint32_t t = type_of(type);
	struct xsw_hdr h;
	int fd, r;

	if (t == XSW_INVALID) {
		printf("ERR usage\n");
		return 0;
	}
	fd = dom0_connect();
	if (fd < 0) {
		printf("ERR %s\n", strerror(-fd));
		return 0;
	}
	r = send_msg(fd, t, args, n);
	if (!r)
		r = recv_msg(fd, &h, body, 5000);
	close(fd);
	if (r == 1)
		print_reply(&h, body);
	else
		printf("ERR %s\n", r ? strerror(-r) : "TIMEOUT");
	return 0;
}

int dom0_watch(char **args, int n, int count, int ms)
{
	char body[XSW_PAYLOAD_MAX + 1];
	struct xsw_hdr h;
	int fd, r, seen = 0;

	fd = dom0_connect();
	if (fd < 0) {
		printf("ERR %s\n", strerror(-fd));
		return 0;
	}
	r = send_msg(fd, XSW_WATCH, args, n);
	while (!r && seen < count && (r = recv_msg(fd, &h, body, ms)) == 1) {
		r = 0;
		if (h.type == XSW_WATCH_EVENT) {
			printf("%s\n", body); /* the path; the token follows */
			seen++;
		} else {
			print_reply(&h, body);
		}
		fflush(stdout);
	}
	close(fd);
	return 0;
}
