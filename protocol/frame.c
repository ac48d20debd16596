/*
 * frame.c - incremental message framing and reply encoding.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

void xsw_reader_init(struct xsw_reader *r)
{
	memset(r, 0, sizeof(*r));
}

void xsw_reader_reset(struct xsw_reader *r)
{
	free(r->body);
	xsw_reader_init(r);
}

size_t xsw_reader_pending(const struct xsw_reader *r)
{
	return (size_t)r->hdr_have + r->body_have;
}

char *xsw_reader_take(struct xsw_reader *r)
{
	char *body = r->body;

	r->body = NULL;
	xsw_reader_reset(r);
	return body;
}

/* Header complete: check the announced size, then allocate the body. */
static int reader_start_body(struct xsw_reader *r)
{
	memcpy(&r->hdr, r->hdr_buf, XSW_HDR_SIZE);
	if (r->hdr.len > XSW_PAYLOAD_MAX)
		return -E2BIG;
	/* One spare byte so that string payloads are always terminated. */
	r->body = malloc((size_t)r->hdr.len + 1);
	if (!r->body)
		return -ENOMEM;
	r->body[r->hdr.len] = '\0';
	r->body_have = 0;
	return 0;
}

int xsw_reader_feed(struct xsw_reader *r, const void *buf, size_t len,
		    size_t *used)
{
	const uint8_t *p = buf;
	size_t n, done = 0;
	int ret;

	*used = 0;
	/* The previous message was handed out: this feed starts the next. */
	if (r->complete)
		xsw_reader_reset(r);

	if (r->hdr_have < XSW_HDR_SIZE) {
		n = XSW_HDR_SIZE - r->hdr_have;
		if (n > len)
			n = len;
		memcpy(r->hdr_buf + r->hdr_have, p, n);
		r->hdr_have += n;
		done += n;
		*used = done;
		if (r->hdr_have < XSW_HDR_SIZE)
			return 0;
	}

	/* Also retried on each feed after -ENOMEM; -E2BIG stays final. */
	if (!r->body) {
		ret = reader_start_body(r);
		if (ret)
			return ret;
	}

	n = r->hdr.len - r->body_have;
	if (n > len - done)
		n = len - done;
	memcpy(r->body + r->body_have, p + done, n);
	r->body_have += n;
	done += n;
	*used = done;
	if (r->body_have < r->hdr.len)
		return 0;
	r->complete = true;
	return 1;
}

int xsw_args_split(const char *body, uint32_t len, const char **argv,
		   int max)
{
	const char *p = body, *end = body + len, *nul;
	int n = 0;

	while (p < end && (nul = memchr(p, '\0', end - p)) != NULL) {
		if (n >= max)
			return -E2BIG;
		if (argv)
			argv[n] = p;
		n++;
		p = nul + 1;
	}
	return n;
}

static void hdr_write(void *out, uint32_t type, uint32_t req_id,
		      uint32_t tx_id, uint32_t len)
{
	struct xsw_hdr h = {
		.type = type, .req_id = req_id, .tx_id = tx_id, .len = len,
	};

	memcpy(out, &h, XSW_HDR_SIZE);
}

static size_t encode_error_ids(uint32_t req_id, uint32_t tx_id, int err,
			       void *out)
{
	const char *name = xsw_error_name(err);
	uint32_t len = (uint32_t)strlen(name) + 1;

	hdr_write(out, XSW_ERROR, req_id, tx_id, len);
	memcpy((char *)out + XSW_HDR_SIZE, name, len);
	return XSW_HDR_SIZE + len;
}

size_t xsw_encode(uint32_t type, uint32_t req_id, uint32_t tx_id,
		  const void *payload, uint32_t len, void *out)
{
	if (len > XSW_PAYLOAD_MAX)
		return encode_error_ids(req_id, tx_id, E2BIG, out);
	hdr_write(out, type, req_id, tx_id, len);
	if (len)
		memcpy((char *)out + XSW_HDR_SIZE, payload, len);
	return XSW_HDR_SIZE + len;
}

size_t xsw_encode_error(const struct xsw_hdr *req, int err, void *out)
{
	return encode_error_ids(req->req_id, req->tx_id, err, out);
}

int xsw_encode_watch_event(const char *path, const char *token, void *out,
			   size_t outlen)
{
	size_t plen = strlen(path) + 1, tlen = strlen(token) + 1;
	char *body = (char *)out + XSW_HDR_SIZE;

	/* cxenstored silently drops events that would not fit. */
	if (plen + tlen > XSW_PAYLOAD_MAX)
		return -E2BIG;
	if (outlen < XSW_HDR_SIZE + plen + tlen)
		return -E2BIG;
	hdr_write(out, XSW_WATCH_EVENT, 0, 0, (uint32_t)(plen + tlen));
	memcpy(body, path, plen);
	memcpy(body + plen, token, tlen);
	return (int)(XSW_HDR_SIZE + plen + tlen);
}

int xsw_parse_u32(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

int xsw_parse_domid(const char *s, uint32_t *out)
{
	uint32_t v;

	if (xsw_parse_u32(s, &v) || v > 65535)
		return -EINVAL;
	*out = v;
	return 0;
}
