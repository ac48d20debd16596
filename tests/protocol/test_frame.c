#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/msg.h"

static size_t put_msg(uint8_t *out, uint32_t type, uint32_t req_id,
		      uint32_t tx_id, const void *body, uint32_t len)
{
	struct xsw_hdr h = { type, req_id, tx_id, len };

	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), body, len);
	return sizeof(h) + len;
}

/* Feeds all of buf; checks the two messages of the stream come out. */
static void feed_in_two(const uint8_t *buf, size_t total, size_t split)
{
	struct xsw_reader r;
	size_t used, off = 0;
	int got = 0, ret;
	size_t chunks[2] = { split, total - split };

	xsw_reader_init(&r);
	for (int c = 0; c < 2; c++) {
		size_t left = chunks[c];

		while (left) {
			ret = xsw_reader_feed(&r, buf + off, left, &used);
			cr_assert_geq(ret, 0);
			cr_assert_leq(used, left);
			off += used;
			left -= used;
			if (ret == 1) {
				got++;
				if (got == 1) {
					cr_assert_eq(r.hdr.type, XSW_WRITE);
					cr_assert_eq(r.hdr.req_id, 11);
					cr_assert_eq(r.hdr.tx_id, 3);
					cr_assert_eq(r.hdr.len, 9);
					cr_assert_eq(memcmp(r.body, "/a\0value", 9), 0);
					cr_assert_eq(r.body[9], '\0');
				} else {
					cr_assert_eq(r.hdr.type, XSW_READ);
					cr_assert_eq(r.hdr.req_id, 12);
					cr_assert_str_eq(r.body, "/a");
				}
			} else {
				cr_assert_eq(left, 0, "0 means all bytes used");
			}
		}
	}
	cr_assert_eq(got, 2, "split %zu", split);
	cr_assert_eq(off, total);
	xsw_reader_reset(&r);
}

Test(frame, split_at_every_byte)
{
	uint8_t buf[64];
	size_t n = put_msg(buf, XSW_WRITE, 11, 3, "/a\0value", 9);

	n += put_msg(buf + n, XSW_READ, 12, 0, "/a", 3);
	for (size_t split = 0; split <= n; split++)
		feed_in_two(buf, n, split);
}

Test(frame, byte_by_byte)
{
	uint8_t buf[64];
	struct xsw_reader r;
	size_t used, n = put_msg(buf, XSW_RM, 1, 0, "/x/y", 5);

	xsw_reader_init(&r);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(xsw_reader_pending(&r), i);
		int ret = xsw_reader_feed(&r, buf + i, 1, &used);

		cr_assert_eq(used, 1);
		cr_assert_eq(ret, i == n - 1 ? 1 : 0, "byte %zu", i);
	}
	cr_assert_str_eq(r.body, "/x/y");
	xsw_reader_reset(&r);
	cr_assert_eq(xsw_reader_pending(&r), 0);
}

Test(frame, empty_payload)
{
	uint8_t buf[16];
	struct xsw_reader r;
	size_t used, n = put_msg(buf, XSW_TRANSACTION_START, 4, 0, "", 0);

	xsw_reader_init(&r);
	cr_assert_eq(xsw_reader_feed(&r, buf, n, &used), 1);
	cr_assert_eq(used, 16);
	cr_assert_eq(r.hdr.len, 0);
	cr_assert_not_null(r.body);
	cr_assert_eq(r.body[0], '\0');
	xsw_reader_reset(&r);
}

static uint8_t big[XSW_HDR_SIZE + XSW_PAYLOAD_MAX + 8];

Test(frame, payload_max_accepted)
{
	struct xsw_reader r;
	size_t used;
	char body[XSW_PAYLOAD_MAX];

	memset(body, 'v', sizeof(body));
	memcpy(body, "/p\0", 3);
	size_t n = put_msg(big, XSW_WRITE, 9, 0, body, XSW_PAYLOAD_MAX);

	xsw_reader_init(&r);
	cr_assert_eq(xsw_reader_feed(&r, big, n, &used), 1);
	cr_assert_eq(used, XSW_HDR_SIZE + XSW_PAYLOAD_MAX);
	cr_assert_eq(r.hdr.len, XSW_PAYLOAD_MAX);
	cr_assert_eq(r.body[XSW_PAYLOAD_MAX], '\0');
	xsw_reader_reset(&r);
}

Test(frame, payload_over_max_rejected_at_header)
{
	struct xsw_reader r;
	struct xsw_hdr h = { XSW_WRITE, 1, 0, XSW_PAYLOAD_MAX + 1 };
	size_t used;

	memset(big, 'x', sizeof(big));
	memcpy(big, &h, sizeof(h));
	xsw_reader_init(&r);
	/* Header arrives in two pieces: the error comes with its last byte. */
	cr_assert_eq(xsw_reader_feed(&r, big, 10, &used), 0);
	cr_assert_eq(xsw_reader_feed(&r, big + 10, sizeof(big) - 10, &used),
		     -E2BIG);
	cr_assert_eq(used, 6, "no payload byte consumed");
	/* Feeding more keeps failing: the connection must be dropped. */
	cr_assert_eq(xsw_reader_feed(&r, big, 4, &used), -E2BIG);
	xsw_reader_reset(&r);

	h.len = UINT32_MAX;
	memcpy(big, &h, sizeof(h));
	cr_assert_eq(xsw_reader_feed(&r, big, 16, &used), -E2BIG);
	xsw_reader_reset(&r);
}

Test(frame, take_hands_over_body)
{
	uint8_t buf[64];
	struct xsw_reader r;
	size_t used, n = put_msg(buf, XSW_READ, 1, 0, "/k", 3);

	n += put_msg(buf + n, XSW_READ, 2, 0, "/m", 3);
	xsw_reader_init(&r);
	cr_assert_eq(xsw_reader_feed(&r, buf, n, &used), 1);
	cr_assert_eq(used, 19);
	char *body = xsw_reader_take(&r);

	cr_assert_str_eq(body, "/k");
	cr_assert_eq(xsw_reader_pending(&r), 0);
	cr_assert_eq(xsw_reader_feed(&r, buf + used, n - used, &used), 1);
	cr_assert_str_eq(body, "/k", "taken body survives the next message");
	cr_assert_str_eq(r.body, "/m");
	cr_assert_eq(r.hdr.req_id, 2);
	free(body);
	xsw_reader_reset(&r);
}

Test(frame, args_split)
{
	const char *argv[4];

	cr_assert_eq(xsw_args_split("a\0bc\0", 5, argv, 4), 2);
	cr_assert_str_eq(argv[0], "a");
	cr_assert_str_eq(argv[1], "bc");
	cr_assert_eq(xsw_args_split("a\0bc", 4, argv, 4), 1,
		     "unterminated tail is not an argument");
	cr_assert_eq(xsw_args_split("abc", 3, argv, 4), 0);
	cr_assert_eq(xsw_args_split("", 0, argv, 4), 0);
	cr_assert_eq(xsw_args_split("\0", 1, argv, 4), 1);
	cr_assert_str_eq(argv[0], "");
	cr_assert_eq(xsw_args_split("\0\0\0\0", 4, argv, 4), 4);
	cr_assert_eq(xsw_args_split("\0\0\0\0\0", 5, argv, 4), -E2BIG);
	cr_assert_eq(xsw_args_split("a\0b\0c\0", 6, NULL, 4), 3);
}

static void check_hdr(const uint8_t *out, uint32_t type, uint32_t req_id,
		      uint32_t tx_id, uint32_t len)
{
	struct xsw_hdr h;

	memcpy(&h, out, sizeof(h));
	cr_assert_eq(h.type, type);
	cr_assert_eq(h.req_id, req_id);
	cr_assert_eq(h.tx_id, tx_id);
	cr_assert_eq(h.len, len);
}

Test(frame, encode_reply)
{
	static uint8_t out[XSW_HDR_SIZE + XSW_PAYLOAD_MAX];

	cr_assert_eq(xsw_encode(XSW_WRITE, 77, 5, "OK", 3, out), 19);
	check_hdr(out, XSW_WRITE, 77, 5, 3);
	cr_assert_str_eq((char *)out + 16, "OK");
	/* Binary READ reply: no terminator added. */
	cr_assert_eq(xsw_encode(XSW_READ, 1, 0, "a\0b", 3, out), 19);
	cr_assert_eq(memcmp(out + 16, "a\0b", 3), 0);
	cr_assert_eq(xsw_encode(XSW_DIRECTORY, 2, 0, NULL, 0, out), 16);
	check_hdr(out, XSW_DIRECTORY, 2, 0, 0);
}

Test(frame, encode_reply_size_limit)
{
	static uint8_t out[XSW_HDR_SIZE + XSW_PAYLOAD_MAX];
	static char payload[XSW_PAYLOAD_MAX + 1];

	memset(payload, 'z', sizeof(payload));
	cr_assert_eq(xsw_encode(XSW_READ, 3, 4, payload, XSW_PAYLOAD_MAX, out),
		     XSW_HDR_SIZE + XSW_PAYLOAD_MAX);
	check_hdr(out, XSW_READ, 3, 4, XSW_PAYLOAD_MAX);
	cr_assert_eq(xsw_encode(XSW_READ, 3, 4, payload, XSW_PAYLOAD_MAX + 1,
				out), XSW_HDR_SIZE + 6);
	check_hdr(out, XSW_ERROR, 3, 4, 6);
	cr_assert_str_eq((char *)out + 16, "E2BIG");
}

Test(frame, encode_error)
{
	uint8_t out[64];
	struct xsw_hdr req = { XSW_READ, 42, 9, 3 };

	cr_assert_eq(xsw_encode_error(&req, ENOENT, out), 16 + 7);
	check_hdr(out, XSW_ERROR, 42, 9, 7);
	cr_assert_eq(memcmp(out + 16, "ENOENT\0", 7), 0);
	cr_assert_eq(xsw_encode_error(&req, -EACCES, out), 16 + 7);
	cr_assert_str_eq((char *)out + 16, "EACCES");
	cr_assert_eq(xsw_encode_error(&req, ENOTDIR, out), 16 + 7);
	cr_assert_str_eq((char *)out + 16, "EINVAL");
}

Test(frame, encode_watch_event)
{
	static uint8_t out[XSW_HDR_SIZE + XSW_PAYLOAD_MAX];
	static char path[XSW_PAYLOAD_MAX];

	cr_assert_eq(xsw_encode_watch_event("/a/b", "tok", out, sizeof(out)),
		     16 + 9);
	check_hdr(out, XSW_WATCH_EVENT, 0, 0, 9);
	cr_assert_eq(memcmp(out + 16, "/a/b\0tok\0", 9), 0);
	cr_assert_eq(xsw_encode_watch_event("/a/b", "tok", out, 24), -E2BIG);
	cr_assert_eq(xsw_encode_watch_event("/a/b", "tok", out, 25), 25);

	/* path + token + 2 NULs: exactly 4096 fits, 4097 does not. */
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	path[XSW_PAYLOAD_MAX - 3] = '\0';
	cr_assert_eq(xsw_encode_watch_event(path, "t", out, sizeof(out)),
		     XSW_HDR_SIZE + XSW_PAYLOAD_MAX);
	cr_assert_eq(xsw_encode_watch_event(path, "tt", out, sizeof(out)),
		     -E2BIG);
}
