/* bc.c - blocking xenbus client for the measurement tools (see bc.h). */
#include "bc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int bc_connect(struct bc_conn *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		close(c->fd);
		c->fd = -1;
		return e;
	}
	c->cap = 2 * (XSW_HDR_SIZE + XSW_PAYLOAD_MAX);
	c->buf = malloc(c->cap);
	if (!c->buf) {
		close(c->fd);
		c->fd = -1;
		return -ENOMEM;
	}
	c->next_req = 1;
	return 0;
}

void bc_close(struct bc_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
}

size_t bc_encode(void *out, uint32_t type, uint32_t req_id, uint32_t tx_id,
		 const void *payload, uint32_t len)
{
	struct xsw_hdr h = { type, req_id, tx_id, len };

	memcpy(out, &h, XSW_HDR_SIZE);
	if (len)
		memcpy((char *)out + XSW_HDR_SIZE, payload, len);
	return XSW_HDR_SIZE + len;
}

int bc_send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int bc_send(struct bc_conn *c, uint32_t type, uint32_t tx_id,
	    const void *payload, uint32_t len)
{
	char msg[XSW_HDR_SIZE + XSW_PAYLOAD_MAX];
	uint32_t id = c->next_req++;
	int rc;

	if (len > XSW_PAYLOAD_MAX)
		return -E2BIG;
	rc = bc_send_all(c->fd, msg, bc_encode(msg, type, id, tx_id, payload, len));
	return rc < 0 ? rc : (int)(id & 0x7fffffff);
}

/* Makes at least want bytes available in c->buf; 0 or -errno/-EPIPE. */
static int fill(struct bc_conn *c, size_t want)
{
	if (c->off && c->off + want > c->cap) {
		memmove(c->buf, c->buf + c->off, c->len);
		c->off = 0;
	}
	while (c->len < want) {
		ssize_t n = read(c->fd, c->buf + c->off + c->len,
				 c->cap - c->off - c->len);
		if (n == 0)
			return -EPIPE;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c->len += (size_t)n;
	}
	return 0;
}

int bc_recv(struct bc_conn *c, struct bc_reply *r)
{
	for (;;) {
		int rc = fill(c, XSW_HDR_SIZE);
		if (rc < 0)
			return rc;
		memcpy(&r->hdr, c->buf + c->off, XSW_HDR_SIZE);
		if (r->hdr.len > XSW_PAYLOAD_MAX)
			return -EPROTO;
		rc = fill(c, XSW_HDR_SIZE + r->hdr.len);
		if (rc < 0)
			return rc;
		memcpy(r->body, c->buf + c->off + XSW_HDR_SIZE, r->hdr.len);
		r->body[r->hdr.len] = '\0';
		c->off += XSW_HDR_SIZE + r->hdr.len;
		c->len -= XSW_HDR_SIZE + r->hdr.len;
		if (r->hdr.type != XSW_WATCH_EVENT)
			return 0;
	}
}

int bc_errno_from_name(const char *name)
{
	static const struct { const char *n; int e; } t[] = {
		{ "EINVAL", EINVAL }, { "EACCES", EACCES }, { "EEXIST", EEXIST },
		{ "EISDIR", EISDIR }, { "ENOENT", ENOENT }, { "ENOMEM", ENOMEM },
		{ "ENOSPC", ENOSPC }, { "EIO", EIO }, { "ENOTEMPTY", ENOTEMPTY },
		{ "ENOSYS", ENOSYS }, { "EROFS", EROFS }, { "EBUSY", EBUSY },
		{ "EAGAIN", EAGAIN }, { "EISCONN", EISCONN }, { "E2BIG", E2BIG },
		{ "EPERM", EPERM },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].n, name))
			return t[i].e;
	return EIO;
}

int bc_call(struct bc_conn *c, uint32_t type, uint32_t tx_id,
	    const void *payload, uint32_t len, struct bc_reply *r)
{
	int rc = bc_send(c, type, tx_id, payload, len);

	if (rc < 0)
		return rc;
	rc = bc_recv(c, r);
	if (rc < 0)
		return rc;
	if (r->hdr.type == XSW_ERROR)
		return -bc_errno_from_name(r->body);
	if (r->hdr.type != type)
		return -EPROTO;
	return 0;
}

int bc_write(struct bc_conn *c, uint32_t tx_id, const char *path,
	     const void *val, uint32_t len)
{
	char p[XSW_PAYLOAD_MAX];
	struct bc_reply r;
	size_t pl = strlen(path) + 1;

	if (pl + len > sizeof(p))
		return -E2BIG;
	memcpy(p, path, pl);
	memcpy(p + pl, val, len);
	return bc_call(c, XSW_WRITE, tx_id, p, (uint32_t)(pl + len), &r);
}

int bc_read(struct bc_conn *c, uint32_t tx_id, const char *path,
	    struct bc_reply *r)
{
	int rc = bc_call(c, XSW_READ, tx_id, path, (uint32_t)strlen(path) + 1, r);

	return rc < 0 ? rc : (int)r->hdr.len;
}

int bc_txn_start(struct bc_conn *c, uint32_t *tx_id)
{
	struct bc_reply r;
	char *end;
	int rc = bc_call(c, XSW_TRANSACTION_START, 0, "", 1, &r);

	if (rc < 0)
		return rc;
	*tx_id = (uint32_t)strtoul(r.body, &end, 10);
	return end == r.body ? -EPROTO : 0;
}

int bc_txn_end(struct bc_conn *c, uint32_t tx_id, int commit)
{
	struct bc_reply r;

	return bc_call(c, XSW_TRANSACTION_END, tx_id, commit ? "T" : "F", 2, &r);
}

double bc_now(void)
{
	return (double)bc_now_ns() / 1e9;
}

uint64_t bc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int bc_directory(struct bc_conn *c, uint32_t tx_id, const char *path,
		 char **names, size_t *len)
{
	struct bc_reply r;
	char payload[160], gen[32] = "";
	size_t pl = strlen(path) + 1, cap = XSW_PAYLOAD_MAX + 1;
	int rc = bc_call(c, XSW_DIRECTORY, tx_id, path, (uint32_t)pl, &r);

	*len = 0;
	*names = malloc(cap);
	if (!*names)
		return -ENOMEM;
	**names = '\0';
	if (rc == 0) {
		memcpy(*names, r.body, r.hdr.len + 1);
		*len = r.hdr.len;
	}
	if (rc != -E2BIG)
		return rc;
	for (;;) {
		size_t glen, dlen;
		bool done;
		char *data;

		pl = (size_t)snprintf(payload, sizeof(payload), "%s%c%zu", path,
				      0, *len) + 1;
		rc = bc_call(c, XSW_DIRECTORY_PART, tx_id, payload, (uint32_t)pl, &r);
		if (rc < 0)
			return rc;
		glen = strnlen(r.body, r.hdr.len) + 1;
		if (glen > r.hdr.len || glen > sizeof(gen))
			return -EPROTO;
		/* a node changed between parts: the list would be torn */
		if (gen[0] && strcmp(gen, r.body))
			return -ESTALE;
		memcpy(gen, r.body, glen);
		data = r.body + glen;
		dlen = r.hdr.len - glen;
		/* the last part ends with an extra NUL (an empty name) */
		done = dlen && !data[dlen - 1] && (dlen == 1 || !data[dlen - 2]);
		if (done)
			dlen--;
		else if (!dlen)
			return -EPROTO;
		if (*len + dlen + 1 > cap) {
			char *p = realloc(*names, cap * 2 + dlen);
			if (!p)
				return -ENOMEM;
			*names = p;
			cap = cap * 2 + dlen;
		}
		memcpy(*names + *len, data, dlen);
		*len += dlen;
		(*names)[*len] = '\0';
		if (done)
			return 0;
	}
}
