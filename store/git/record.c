/* record.c - journal record encoding, framing and decoding. */
#include "crc32.h"
#include "record.h"
#include "state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int gs_buf_reserve(struct gs_buf *b, size_t extra)
{
	if (b->len + extra <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + extra)
		cap *= 2;
	char *d = realloc(b->data, cap);
	if (!d)
		return -ENOMEM;
	b->data = d;
	b->cap = cap;
	return 0;
}

void gs_buf_free(struct gs_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Little-endian writers; space was reserved by the caller. */
static void put_u8(struct gs_buf *b, uint8_t v)
{
	b->data[b->len++] = (char)v;
}

static void put_u16(struct gs_buf *b, uint16_t v)
{
	put_u8(b, v & 0xff);
	put_u8(b, v >> 8);
}

static void put_u32(struct gs_buf *b, uint32_t v)
{
	put_u16(b, v & 0xffff);
	put_u16(b, v >> 16);
}

static void put_u64(struct gs_buf *b, uint64_t v)
{
	put_u32(b, (uint32_t)v);
	put_u32(b, (uint32_t)(v >> 32));
}

static void put_bytes(struct gs_buf *b, const void *p, size_t n)
{
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

static size_t path_size(const char *p)
{
	return 2 + strlen(p) + 1;
}

static int put_path(struct gs_buf *b, const char *p)
{
	size_t n = strlen(p);
	if (n > 0xfffe)
		return -E2BIG;
	put_u16(b, (uint16_t)(n + 1));
	put_bytes(b, p, n + 1);
	return 0;
}

static uint32_t get_u32(const unsigned char *p)
{
	return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24);
}

int gs_record_encode(struct gs_buf *b, const struct store_commit *c,
		     uint64_t seq, uint64_t time_ns)
{
	size_t need = 8 + 8 + 16 + 1 + 4 + 4;
	for (unsigned i = 0; i < c->nops; i++)
		need += 1 + path_size(c->ops[i].path);
	for (unsigned i = 0; i < c->neffects; i++) {
		const struct store_effect *e = &c->effects[i];
		need += 1 + path_size(e->path);
		if (!e->deleted)
			need += 4 + e->len + 2 + 5u * e->nperms;
	}
	if (need > GS_RECORD_MAX)
		return -E2BIG;
	int r = gs_buf_reserve(b, GS_FRAME_HDR + need);
	if (r)
		return r;
	size_t start = b->len;
	b->len += GS_FRAME_HDR;
	put_u64(b, seq);
	put_u64(b, time_ns);
	put_u32(b, c->caller.domid);
	put_u32(b, c->caller.target);
	put_u32(b, c->caller.conn_id);
	put_u32(b, c->tx_id);
	put_u8(b, c->caller.privileged);
	put_u32(b, c->nops);
	for (unsigned i = 0; i < c->nops; i++) {
		put_u8(b, (uint8_t)c->ops[i].kind);
		if ((r = put_path(b, c->ops[i].path)))
			goto fail;
	}
	put_u32(b, c->neffects);
	for (unsigned i = 0; i < c->neffects; i++) {
		const struct store_effect *e = &c->effects[i];
		put_u8(b, e->deleted);
		if ((r = put_path(b, e->path)))
			goto fail;
		if (e->deleted)
			continue;
		put_u32(b, e->len);
		put_bytes(b, e->value, e->len);
		if (e->nperms > 0xffff) {
			r = -E2BIG;
			goto fail;
		}
		put_u16(b, (uint16_t)e->nperms);
		for (unsigned j = 0; j < e->nperms; j++) {
			put_u32(b, e->perms[j].domid);
			put_u8(b, e->perms[j].perms);
		}
	}
	size_t plen = b->len - start - GS_FRAME_HDR;
	uint32_t crc = gs_crc32(0, b->data + start + GS_FRAME_HDR, plen);
	size_t end = b->len;
	b->len = start;
	put_u32(b, (uint32_t)plen);
	put_u32(b, crc);
	b->len = end;
	return 0;
fail:
	b->len = start;
	return r;
}

size_t gs_frame_check(const char *data, size_t avail)
{
	if (avail < GS_FRAME_HDR)
		return 0;
	const unsigned char *p = (const unsigned char *)data;
	uint32_t len = get_u32(p), crc = get_u32(p + 4);
	if (len == 0 || len > GS_RECORD_MAX || len > avail - GS_FRAME_HDR)
		return 0;
	if (gs_crc32(0, p + GS_FRAME_HDR, len) != crc)
		return 0;
	return GS_FRAME_HDR + len;
}

/* Bounds-checked reader over one payload. */
struct rd {
	const unsigned char *p;
	size_t len, off;
	int err;
};

static const unsigned char *take(struct rd *r, size_t n)
{
	if (r->err || n > r->len - r->off) {
		r->err = -EINVAL;
		return NULL;
	}
	const unsigned char *q = r->p + r->off;
	r->off += n;
	return q;
}

static uint64_t rd_uint(struct rd *r, unsigned n)
{
	const unsigned char *q = take(r, n);
	uint64_t v = 0;
	if (!q)
		return 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)q[i] << (8 * i);
	return v;
}

static const char *rd_path(struct rd *r)
{
	unsigned n = (unsigned)rd_uint(r, 2);
	const unsigned char *q = take(r, n);
	if (!q || n == 0 || q[n - 1] != '\0' || memchr(q, '\0', n) != q + n - 1) {
		r->err = -EINVAL;
		return NULL;
	}
	return (const char *)q;
}

/* Walks the payload; with out arrays NULL it only counts. */
static int parse(struct rd *r, struct gs_record *out, size_t *nperms_total)
{
	out->seq = rd_uint(r, 8);
	out->time_ns = rd_uint(r, 8);
	out->caller.domid = (uint32_t)rd_uint(r, 4);
	out->caller.target = (uint32_t)rd_uint(r, 4);
	out->caller.conn_id = (uint32_t)rd_uint(r, 4);
	out->tx_id = (uint32_t)rd_uint(r, 4);
	out->caller.privileged = rd_uint(r, 1) != 0;
	uint32_t nops = (uint32_t)rd_uint(r, 4);
	if (r->err || nops > r->len)
		return -EINVAL;
	out->nops = nops;
	for (unsigned i = 0; i < nops && !r->err; i++) {
		unsigned kind = (unsigned)rd_uint(r, 1);
		const char *path = rd_path(r);
		if (out->ops) {
			out->ops[i].kind = (enum store_op_kind)kind;
			out->ops[i].path = path;
		}
	}
	uint32_t neff = (uint32_t)rd_uint(r, 4);
	if (r->err || neff > r->len)
		return -EINVAL;
	out->neffects = neff;
	size_t pi = 0;
	struct xsw_perm *perms = out->effects
		? (struct xsw_perm *)(out->effects + neff) : NULL;
	for (unsigned i = 0; i < neff && !r->err; i++) {
		struct store_effect e = { 0 };
		e.deleted = rd_uint(r, 1) != 0;
		e.path = rd_path(r);
		if (!e.deleted) {
			e.len = (uint32_t)rd_uint(r, 4);
			e.value = (const char *)take(r, e.len);
			e.nperms = (unsigned)rd_uint(r, 2);
			if (perms)
				e.perms = perms + pi;
			for (unsigned j = 0; j < e.nperms && !r->err; j++) {
				uint32_t d = (uint32_t)rd_uint(r, 4);
				uint8_t p = (uint8_t)rd_uint(r, 1);
				if (perms) {
					perms[pi + j].domid = d;
					perms[pi + j].perms = p;
				}
			}
			pi += e.nperms;
		}
		if (out->effects)
			out->effects[i] = e;
	}
	if (!r->err && r->off != r->len)
		return -EINVAL;
	*nperms_total = pi;
	return r->err;
}

int gs_record_decode(const char *payload, size_t len, struct gs_record *out)
{
	struct rd r = { (const unsigned char *)payload, len, 0, 0 };
	size_t nperms;
	uint32_t key;
	const char *data;
	size_t dlen;
	memset(out, 0, sizeof(*out));
	/* not a commit: the writer skips it, recovery reads it (state.h) */
	if (gs_state_decode(payload, len, &key, &data, &dlen))
		return -EINVAL;
	int e = parse(&r, out, &nperms);
	if (e)
		return e;
	/* One allocation: ops, effects, then every effect's perms. */
	size_t sz = out->nops * sizeof(struct store_op) +
		    out->neffects * sizeof(struct store_effect) +
		    nperms * sizeof(struct xsw_perm);
	char *mem = malloc(sz ? sz : 1);
	if (!mem)
		return -ENOMEM;
	struct store_op *ops = (struct store_op *)mem;
	struct store_effect *eff =
		(struct store_effect *)(mem + out->nops * sizeof(*ops));
	memset(out, 0, sizeof(*out));
	out->ops = ops;
	out->effects = eff;
	r.off = 0;
	r.err = 0;
	e = parse(&r, out, &nperms);
	if (e) {
		free(mem);
		memset(out, 0, sizeof(*out));
		return e;
	}
	/* out->ops is the start of the block: gs_record_release frees it. */
	return 0;
}

void gs_record_release(struct gs_record *r)
{
	free(r->ops);
	memset(r, 0, sizeof(*r));
}
