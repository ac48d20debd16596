/*
 * msg.h - framing of xenbus messages and parsing of requests.
 *
 * Pure: no I/O. The transport feeds bytes in, gets whole messages out;
 * handlers get a typed request; replies are encoded into caller buffers.
 *
 * Errors: functions return 0 (or a count) on success and a negative errno
 * on failure (-EINVAL malformed, -E2BIG oversize, -ENOMEM).
 */
#ifndef XSW_MSG_H
#define XSW_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/*
 * Incremental reader: accumulates one message at a time from a byte stream
 * that may split anywhere (socket reads, ring wraparound).
 * The payload buffer is owned by the reader; after xsw_reader_feed()
 * returns 1 the message stays valid until the next feed or
 * xsw_reader_reset(). xsw_reader_take() hands its payload to the caller
 * (free() it) and resets the reader.
 */
struct xsw_reader {
	uint8_t hdr_buf[XSW_HDR_SIZE];
	uint32_t hdr_have;
	struct xsw_hdr hdr;
	char *body;      /* len + 1 bytes, NUL-terminated for convenience */
	uint32_t body_have;
	bool complete;
};

void xsw_reader_init(struct xsw_reader *r);
void xsw_reader_reset(struct xsw_reader *r);
/*
 * Consumes up to len bytes; *used says how many. Returns 1 when a whole
 * message is ready (r->hdr, r->body), 0 when more bytes are needed,
 * -E2BIG when the header announces a payload > XSW_PAYLOAD_MAX (the
 * connection must be dropped; later feeds fail the same), -ENOMEM (the
 * header is kept: a later feed retries the allocation).
 */
int xsw_reader_feed(struct xsw_reader *r, const void *buf, size_t len,
		    size_t *used);
/* Bytes of the current message read so far (header + payload). */
size_t xsw_reader_pending(const struct xsw_reader *r);
char *xsw_reader_take(struct xsw_reader *r);

/*
 * Splits a payload into its NUL-terminated strings. Returns the number of
 * strings, or -E2BIG when there are more than max. Bytes after the last
 * NUL are not a string: cxenstored's get_strings() ignores them too, so
 * "a\0b" is one string and an unterminated single argument is none.
 */
int xsw_args_split(const char *body, uint32_t len, const char **argv,
		   int max);

/* Typed request, one per message type; pointers point into the payload. */
struct xsw_request {
	struct xsw_hdr hdr;
	union {
		struct { const char *path; } path;          /* READ DIRECTORY GET_PERMS MKDIR RM */
		struct { const char *path; const char *value; uint32_t len; } write;
		/* depth -1: none; else the daemon must offer XSW_FEATURE_WATCHDEPTH */
		struct { const char *path; const char *token; int depth; } watch;
		struct { const char *path; uint32_t offset; } dir_part;
		struct { const char *path; int n; const char *perms[XSW_PAYLOAD_MAX / 2]; } set_perms;
		struct { bool commit; } txn_end;
		struct { uint32_t domid; uint64_t mfn; uint32_t port; } introduce;
		struct { uint32_t domid; } domain;          /* RELEASE RESUME GET_DOMAIN_PATH IS_DOMAIN_INTRODUCED */
		struct { uint32_t domid; uint32_t target; } set_target;
		struct { bool has_domid; uint32_t domid; } get_feature;
		struct { bool has_domid; uint32_t domid; uint32_t features; } set_feature;
		struct { bool has_domid; uint32_t domid; const char *name; } get_quota; /* name NULL: list names */
		struct { bool has_domid; uint32_t domid; const char *name; uint32_t value; } set_quota;
		struct { int argc; const char *argv[64]; } control; /* argv[0] is the command */
	} u;
};

/*
 * Parses body (len bytes, NUL-terminated one past len as the reader
 * leaves it) for hdr->type. Returns 0, -EINVAL for a malformed payload,
 * -ENOSYS for an unknown type.
 */
int xsw_request_parse(const struct xsw_hdr *hdr, const char *body,
		      struct xsw_request *req);

/*
 * Reply encoding into out (at least XSW_HDR_SIZE + XSW_PAYLOAD_MAX bytes).
 * Returns the total message size. A payload above XSW_PAYLOAD_MAX is
 * replaced by an "E2BIG" error reply, as cxenstored's send_reply() does.
 * xsw_encode_error() writes an XS_ERROR reply "<ENAME>\0" echoing
 * req_id/tx_id of the request (err may be positive or negative).
 */
size_t xsw_encode(uint32_t type, uint32_t req_id, uint32_t tx_id,
		  const void *payload, uint32_t len, void *out);
size_t xsw_encode_error(const struct xsw_hdr *req, int err, void *out);
/* WATCH_EVENT "<path>\0<token>\0", req_id 0 and tx_id 0 as cxenstored. */
int xsw_encode_watch_event(const char *path, const char *token, void *out,
			   size_t outlen);

/* Decimal parse with full validation (no sign, no junk, no overflow). */
int xsw_parse_u32(const char *s, uint32_t *out);
/* Same, limited to 0..65535 as cxenstored's parse_domid(); 0 or -EINVAL. */
int xsw_parse_domid(const char *s, uint32_t *out);

#endif
