#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/msg.h"
#include "protocol/ring.h"

static struct xsw_ring_page page;

/* The guest's side, written independently of ring.c. */
static void guest_put(const void *data, uint32_t len)
{
	const char *d = data;

	for (uint32_t i = 0; i < len; i++)
		page.req[(page.req_prod + i) % XSW_RING_SIZE] = d[i];
	page.req_prod += len;
}

static uint32_t guest_get(void *data, uint32_t max)
{
	char *d = data;
	uint32_t n = page.rsp_prod - page.rsp_cons;

	if (n > max)
		n = max;
	for (uint32_t i = 0; i < n; i++)
		d[i] = page.rsp[(page.rsp_cons + i) % XSW_RING_SIZE];
	page.rsp_cons += n;
	return n;
}

static void set_req(uint32_t idx)
{
	page.req_cons = page.req_prod = idx;
}

static void set_rsp(uint32_t idx)
{
	page.rsp_cons = page.rsp_prod = idx;
}

static void pattern(char *b, size_t n, int seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (char)((i * 7 + (size_t)seed) & 0xff);
}

Test(ring, read_simple_and_partial)
{
	char in[100], out[100];

	memset(&page, 0, sizeof(page));
	pattern(in, sizeof(in), 1);
	guest_put(in, 100);
	cr_assert_eq(xsw_ring_req_avail(&page), 100);
	cr_assert_eq(xsw_ring_read(&page, out, 30), 30);
	cr_assert_eq(page.req_cons, 30);
	cr_assert_eq(xsw_ring_req_avail(&page), 70);
	cr_assert_eq(xsw_ring_read(&page, out + 30, 200), 70);
	cr_assert_eq(memcmp(in, out, 100), 0);
	cr_assert_eq(xsw_ring_read(&page, out, 10), 0, "empty");
	cr_assert_eq(page.req_cons, 100);
}

Test(ring, read_wraps_index_at_2_32)
{
	char in[64], out[64];

	memset(&page, 0, sizeof(page));
	set_req(UINT32_MAX - 15);
	pattern(in, sizeof(in), 2);
	guest_put(in, 64);
	cr_assert_eq(page.req_prod, 48);
	cr_assert_eq(xsw_ring_req_avail(&page), 64);
	cr_assert_eq(xsw_ring_read(&page, out, 64), 64);
	cr_assert_eq(memcmp(in, out, 64), 0);
	cr_assert_eq(page.req_cons, 48);
}

/* A 40-byte packet with k bytes before the ring's end, k = 0..40. */
Test(ring, read_every_split_across_the_edge)
{
	static const uint32_t bases[] = { XSW_RING_SIZE * 5, 0,
					  XSW_RING_SIZE * 3 };
	char in[40], out[40];

	for (size_t b = 0; b < 3; b++) {
		for (uint32_t k = 0; k <= 40; k++) {
			memset(&page, 0, sizeof(page));
			/* base 0: the free-running index also wraps 2^32 */
			set_req(bases[b] - k);
			pattern(in, sizeof(in), (int)k);
			guest_put(in, 40);
			memset(out, 0, sizeof(out));
			cr_assert_eq(xsw_ring_read(&page, out, 40), 40);
			cr_assert_eq(memcmp(in, out, 40), 0, "k=%u", k);
			cr_assert_eq(page.req_cons, page.req_prod);
		}
	}
}

Test(ring, write_every_split_across_the_edge)
{
	char in[40], out[40];

	for (uint32_t k = 0; k <= 40; k++) {
		memset(&page, 0, sizeof(page));
		set_rsp(0u - k);
		pattern(in, sizeof(in), (int)k + 3);
		cr_assert_eq(xsw_ring_write(&page, in, 40), 40);
		cr_assert_eq(page.rsp_prod, 40 - k);
		cr_assert_eq(guest_get(out, 40), 40);
		cr_assert_eq(memcmp(in, out, 40), 0, "k=%u", k);
	}
}

Test(ring, request_ring_full)
{
	static char in[XSW_RING_SIZE], out[XSW_RING_SIZE + 10];

	memset(&page, 0, sizeof(page));
	set_req(123456);
	pattern(in, sizeof(in), 4);
	guest_put(in, XSW_RING_SIZE);
	cr_assert_eq(xsw_ring_req_avail(&page), XSW_RING_SIZE);
	cr_assert_eq(xsw_ring_read(&page, out, sizeof(out)), XSW_RING_SIZE);
	cr_assert_eq(memcmp(in, out, XSW_RING_SIZE), 0);
}

Test(ring, response_ring_full_and_partial_write)
{
	static char in[XSW_RING_SIZE + 200], out[XSW_RING_SIZE + 200];

	memset(&page, 0, sizeof(page));
	set_rsp(1000);
	pattern(in, sizeof(in), 5);
	cr_assert_eq(xsw_ring_rsp_space(&page), XSW_RING_SIZE);
	cr_assert_eq(xsw_ring_write(&page, in, sizeof(in)), XSW_RING_SIZE);
	cr_assert_eq(xsw_ring_rsp_space(&page), 0);
	cr_assert_eq(xsw_ring_write(&page, in + XSW_RING_SIZE, 200), 0);
	cr_assert_eq(guest_get(out, 100), 100);
	cr_assert_eq(xsw_ring_rsp_space(&page), 100);
	cr_assert_eq(xsw_ring_write(&page, in + XSW_RING_SIZE, 200), 100);
	cr_assert_eq(guest_get(out + 100, sizeof(out)), XSW_RING_SIZE);
	cr_assert_eq(memcmp(in, out, XSW_RING_SIZE + 100), 0);
}

Test(ring, bad_indexes)
{
	char b[16];

	memset(&page, 0, sizeof(page));
	page.req_cons = 10;
	page.req_prod = 10 + XSW_RING_SIZE + 1;
	cr_assert_eq(xsw_ring_read(&page, b, sizeof(b)), -EIO);
	cr_assert_eq(page.req_cons, 10, "no index moved");
	cr_assert_eq(xsw_ring_req_avail(&page), 0);

	page.req_cons = 11;
	page.req_prod = 10; /* consumer ahead of producer */
	cr_assert_eq(xsw_ring_read(&page, b, sizeof(b)), -EIO);

	page.rsp_cons = 0;
	page.rsp_prod = XSW_RING_SIZE + 1;
	cr_assert_eq(xsw_ring_write(&page, "x", 1), -EIO);
	cr_assert_eq(page.rsp_prod, XSW_RING_SIZE + 1);
	cr_assert_eq(xsw_ring_rsp_space(&page), 0);

	page.rsp_cons = 5;
	page.rsp_prod = 4;
	cr_assert_eq(xsw_ring_write(&page, "x", 1), -EIO);

	/* exactly a full ring is still valid */
	page.rsp_cons = UINT32_MAX - 3;
	page.rsp_prod = XSW_RING_SIZE - 4;
	cr_assert_eq(xsw_ring_write(&page, "x", 1), 0);
	cr_assert_eq(xsw_ring_rsp_space(&page), 0);
}

Test(ring, message_through_ring_and_reader)
{
	uint8_t msg[64];
	struct xsw_hdr h = { XSW_WRITE, 5, 0, 9 };
	struct xsw_reader r;
	char chunk[7];
	int n, ret = 0;
	size_t used;

	memcpy(msg, &h, 16);
	memcpy(msg + 16, "/a\0value", 9);
	memset(&page, 0, sizeof(page));
	set_req(XSW_RING_SIZE - 11); /* header straddles the edge */
	guest_put(msg, 25);
	xsw_reader_init(&r);
	while ((n = xsw_ring_read(&page, chunk, sizeof(chunk))) > 0) {
		ret = xsw_reader_feed(&r, chunk, (size_t)n, &used);
		cr_assert_eq(used, (size_t)n);
	}
	cr_assert_eq(ret, 1);
	cr_assert_eq(r.hdr.type, XSW_WRITE);
	cr_assert_eq(memcmp(r.body, "/a\0value", 9), 0);
	xsw_reader_reset(&r);
}

Test(ring, reconnection)
{
	memset(&page, 0, sizeof(page));
	page.req_cons = 100;
	page.req_prod = 140;
	page.rsp_cons = 7;
	page.rsp_prod = 9;
	page.error = XSW_ERROR_RINGIDX;
	cr_assert_not(xsw_ring_reconnect_requested(&page));
	page.connection = XSW_RECONNECT;
	cr_assert(xsw_ring_reconnect_requested(&page));
	xsw_ring_reset(&page);
	cr_assert_eq(page.req_cons, 0);
	cr_assert_eq(page.req_prod, 0);
	cr_assert_eq(page.rsp_cons, 0);
	cr_assert_eq(page.rsp_prod, 0);
	cr_assert_eq(page.error, XSW_ERROR_NONE);
	cr_assert_eq(page.connection, XSW_CONNECTED);
	cr_assert_not(xsw_ring_reconnect_requested(&page));
	cr_assert_eq(xsw_ring_req_avail(&page), 0);
	cr_assert_eq(xsw_ring_rsp_space(&page), XSW_RING_SIZE);
}

Test(ring, features_and_error)
{
	memset(&page, 0, sizeof(page));
	xsw_ring_advertise(&page, XSW_FEATURE_RECONNECTION);
	xsw_ring_advertise(&page, XSW_FEATURE_ERROR);
	cr_assert_eq(page.server_features,
		     XSW_FEATURE_RECONNECTION | XSW_FEATURE_ERROR,
		     "bits are never cleared");
	xsw_ring_advertise(&page, XSW_SERVER_FEATURES);
	cr_assert(page.server_features & XSW_FEATURE_WATCHDEPTH);
	xsw_ring_set_error(&page, XSW_ERROR_PROTO);
	cr_assert_eq(page.error, XSW_ERROR_PROTO);
	/* wire values from xs_wire.h */
	cr_assert_eq(XSW_FEATURE_RECONNECTION, 1);
	cr_assert_eq(XSW_FEATURE_ERROR, 2);
	cr_assert_eq(XSW_FEATURE_WATCHDEPTH, 4);
	cr_assert_eq(XSW_FEATURE_DOMID_ANY, 8);
	cr_assert_eq(XSW_ERROR_RINGIDX, 2);
	cr_assert_eq(XSW_RECONNECT, 1);
}

Test(ring, peek_keeps_space_until_consumed)
{
	char buf[XSW_RING_SIZE];
	xsw_ring_idx at;

	set_req(0xfffffff0u); /* across the 2^32 wrap, too */
	at = page.req_cons;
	guest_put("0123456789abcdefXYZ", 19);
	cr_assert_eq(xsw_ring_peek(&page, &at, buf, 10), 10);
	cr_assert_eq(memcmp(buf, "0123456789", 10), 0);
	cr_assert_eq(page.req_cons, 0xfffffff0u); /* nothing given back */
	cr_assert_eq(xsw_ring_peek(&page, &at, buf, sizeof(buf)), 9);
	cr_assert_eq(memcmp(buf, "abcdefXYZ", 9), 0);
	cr_assert_eq(xsw_ring_peek(&page, &at, buf, sizeof(buf)), 0);
	/* the guest sees no room until consume publishes the index */
	cr_assert_eq(xsw_ring_req_avail(&page), 19);
	xsw_ring_consume(&page, at);
	cr_assert_eq(page.req_cons, 0xfffffff0u + 19);
	cr_assert_eq(xsw_ring_req_avail(&page), 0);
}

Test(ring, peek_rejects_bad_indexes)
{
	char buf[16];
	xsw_ring_idx at;

	set_req(100);
	page.req_prod = 100 + XSW_RING_SIZE + 1; /* producer too far ahead */
	at = 100;
	cr_assert_eq(xsw_ring_peek(&page, &at, buf, sizeof(buf)), -EIO);
	set_req(100);
	guest_put("abcd", 4);
	at = 100 + 5; /* the guest moved req_prod back below what we read */
	cr_assert_eq(xsw_ring_peek(&page, &at, buf, sizeof(buf)), -EIO);
	at = 100 - 1; /* or req_cons forward past us */
	cr_assert_eq(xsw_ring_peek(&page, &at, buf, sizeof(buf)), -EIO);
}
