/*
 * bc.h - a small blocking xenbus client over a Unix socket, for the
 * measurement tools (xs-bench, xs-crash).
 *
 * Deliberately independent of the daemon's own framing code: the tools
 * judge the daemon, so they must not share its bugs. Only the wire
 * constants come from protocol/wire.h.
 *
 * Errors: functions return 0 (or a length) on success and a negative errno
 * on failure; an XS_ERROR reply becomes the negative errno it names.
 * Memory: a struct bc_conn owns its read buffer (bc_close frees it); reply
 * bodies live in the caller's struct bc_reply.
 */
#ifndef BC_H
#define BC_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/wire.h"

struct bc_conn {
	int fd;
	uint32_t next_req;
	char *buf;      /* bytes read but not consumed yet */
	size_t off, len, cap;
};

struct bc_reply {
	struct xsw_hdr hdr;
	char body[XSW_PAYLOAD_MAX + 1]; /* NUL-terminated one past hdr.len */
};

/* Connects to a Unix socket path. Returns 0 or -errno. */
int bc_connect(struct bc_conn *c, const char *path);
void bc_close(struct bc_conn *c);

/* Encodes one message into out (XSW_HDR_SIZE + len bytes); returns its size. */
size_t bc_encode(void *out, uint32_t type, uint32_t req_id, uint32_t tx_id,
		 const void *payload, uint32_t len);
/* Writes all of buf, retrying short writes. Returns 0 or -errno. */
int bc_send_all(int fd, const void *buf, size_t len);
/* Sends one request; returns its req_id (>= 0) or -errno. */
int bc_send(struct bc_conn *c, uint32_t type, uint32_t tx_id,
	    const void *payload, uint32_t len);
/*
 * Reads the next message that is not a watch event. Returns 0, -EPIPE on
 * end of stream, -EPROTO on a malformed header, -errno on a read error.
 */
int bc_recv(struct bc_conn *c, struct bc_reply *r);
/* Sends a request and waits for its reply; an XS_ERROR reply -> -errno. */
int bc_call(struct bc_conn *c, uint32_t type, uint32_t tx_id,
	    const void *payload, uint32_t len, struct bc_reply *r);

/* Convenience wrappers. Values are binary (len bytes). */
int bc_write(struct bc_conn *c, uint32_t tx_id, const char *path,
	     const void *val, uint32_t len);
/* Reads into r->body; returns the value length or -errno. */
int bc_read(struct bc_conn *c, uint32_t tx_id, const char *path,
	    struct bc_reply *r);
/*
 * All the children of path into *names (malloc'd, the caller frees it even
 * on error; NUL-terminated one past *len bytes of NUL-separated names):
 * DIRECTORY, or DIRECTORY_PART when the list does not fit in one reply.
 * -ESTALE when the node changed between two parts.
 */
int bc_directory(struct bc_conn *c, uint32_t tx_id, const char *path,
		 char **names, size_t *len);
int bc_txn_start(struct bc_conn *c, uint32_t *tx_id);
int bc_txn_end(struct bc_conn *c, uint32_t tx_id, int commit);

/* "EAGAIN" -> EAGAIN; unknown names -> EIO. */
int bc_errno_from_name(const char *name);

/* Monotonic time in seconds / nanoseconds. */
double bc_now(void);
uint64_t bc_now_ns(void);

#endif
