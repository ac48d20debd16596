/*
 * repo_delta.c - objects stored as OFS_DELTA entries of an earlier one in
 * the pack being built: a wide tree against its previous version (known
 * changed range, or a byte diff against its chain's first version), a
 * commit against the previous commit (line by line).
 */
#include "repo_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DELTA_DEPTH_MAX GS_DELTA_DEPTH_MAX

/*
 * The end of the run from i where x and y agree (at most len), 8 bytes
 * a step: a full chain's diff compares a whole wide tree, and a narrow
 * tree is compared with its chain's root at each write.
 */
static size_t same_end(const unsigned char *x, const unsigned char *y,
		       size_t i, size_t len)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	for (; i + 8 <= len; i += 8) {
		uint64_t a, b;
		memcpy(&a, x + i, 8);
		memcpy(&b, y + i, 8);
		if (a != b) /* the lowest differing byte comes first */
			return i + (size_t)__builtin_ctzll(a ^ b) / 8;
	}
#endif
	while (i < len && x[i] == y[i])
		i++;
	return i;
}

static size_t put_varint(unsigned char *p, size_t v)
{
	size_t n = 0;
	do {
		p[n] = v & 0x7f;
		v >>= 7;
		if (v)
			p[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

static size_t put_copy(unsigned char *p, size_t off, size_t len)
{
	size_t n = 1;
	p[0] = 0x80;
	for (int i = 0; i < 4; i++)
		if ((off >> (8 * i)) & 0xff) {
			p[0] |= (unsigned char)(1 << i);
			p[n++] = (off >> (8 * i)) & 0xff;
		}
	for (int i = 0; i < 3; i++)
		if ((len >> (8 * i)) & 0xff) {
			p[0] |= (unsigned char)(0x10 << i);
			p[n++] = (len >> (8 * i)) & 0xff;
		}
	return n;
}

/* One insert run of data, in opcodes of at most 127 bytes. */
static size_t put_insert(unsigned char *d, const unsigned char *p, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i += 127) {
		size_t k = len - i < 127 ? len - i : 127;
		d[n++] = (unsigned char)k;
		memcpy(d + n, p + i, k);
		n += k;
	}
	return n;
}

/* The delta of data against the entry at index b: copy, insert, copy. */
static int add_delta(struct gs_repo *r, unsigned type, const git_oid *id,
		     const void *data, size_t len, long b, size_t blen,
		     size_t pre, size_t suf)
{
	const unsigned char *y = data;
	size_t mid = len - pre - suf;
	if (mid > len / 2) /* little in common: not worth it */
		return gs_repo_add_entry(r, id, type, data, len, -1);
	size_t need = 32 + mid + mid / 127 + 1;
	unsigned char stackbuf[512];
	unsigned char *d = need <= sizeof(stackbuf) ? stackbuf : malloc(need);
	if (!d)
		return -ENOMEM;
	size_t n = put_varint(d, blen);
	n += put_varint(d + n, len);
	if (pre)
		n += put_copy(d + n, 0, pre);
	for (size_t i = 0; i < mid; i += 127) {
		size_t k = mid - i < 127 ? mid - i : 127;
		d[n++] = (unsigned char)k;
		memcpy(d + n, y + pre + i, k);
		n += k;
	}
	if (suf)
		n += put_copy(d + n, blen - suf, suf);
	int e = gs_repo_add_entry(r, id, 6, d, n, b);
	if (d != stackbuf)
		free(d);
	return e;
}

/* Whether base can be the base of a delta of len bytes; its index. */
static long delta_base(struct gs_repo *r, const git_oid *base, size_t blen,
		       size_t len)
{
	long b = gs_repo_obj_find(r, base);
	/* copies are at most 16 MiB - 1 here; bigger objects go whole */
	if (b < 0 || r->ents[b].depth >= DELTA_DEPTH_MAX || blen >= (1u << 24) ||
	    len >= (1u << 24))
		return -1;
	return b;
}

/*
 * What every delta writer does first: the object's id, the whole object
 * when base cannot serve. Returns 1 and *b, the base's index, when the
 * caller is to build the delta; else 0 or a negative errno, the object
 * handled. Whether the pack has it already is checked when it is added.
 */
static int delta_start(struct gs_repo *r, git_object_t type, const void *data,
		       size_t len, const git_oid *base, size_t blen,
		       struct gs_repo_marks *mk, git_oid *out, long *b)
{
	if (type < GIT_OBJECT_COMMIT || type > GIT_OBJECT_BLOB)
		return -EINVAL;
	gs_repo_object_id(type, data, len, mk, out);
	gs_repo_obj_prefetch(r, out); /* checked when added */
	*b = base ? delta_base(r, base, blen, len) : -1;
	if (*b < 0)
		return gs_repo_add_entry(r, out, (unsigned)type, data, len, -1);
	return 1;
}

int gs_repo_write_delta(struct gs_repo *r, git_object_t type,
			const void *data, size_t len, const git_oid *base,
			const void *bdata, size_t blen,
			struct gs_repo_marks *mk, git_oid *out)
{
	long b;
	int e = delta_start(r, type, data, len, base, blen, mk, out, &b);
	if (e != 1)
		return e;
	const unsigned char *x = bdata, *y = data;
	size_t suf = 0, min = len < blen ? len : blen;
	size_t pre = same_end(x, y, 0, min);
	while (suf < min - pre && x[blen - 1 - suf] == y[len - 1 - suf])
		suf++;
	return add_delta(r, (unsigned)type, out, data, len, b, blen, pre, suf);
}

long gs_repo_obj_depth(const struct gs_repo *r, const git_oid *id)
{
	long b = gs_repo_obj_find(r, id);
	return b < 0 ? -1 : (long)r->ents[b].depth;
}

/* Equal runs shorter than this are inserted: a copy costs up to 8 bytes. */
#define COPY_MIN 16u

/*
 * The delta of data against the entry at index b, bdata of the same
 * length, as copies and inserts; whole when that is not less than half.
 * bdata may point into the pack: it is read before the entry is added.
 */
static int diff_add(struct gs_repo *r, git_object_t type, const git_oid *out,
		    const void *data, size_t len, long b, const void *bdata)
{
	int e;
	const unsigned char *x = bdata, *y = data;
	/* worth it only below half the object: stop building past that */
	size_t cap = 32 + len / 2, n, i = 0, ins = 0;
	unsigned char stackbuf[1024];
	unsigned char *d = 2 * len + 64 <= sizeof(stackbuf)
		? stackbuf : malloc(2 * len + 64); /* inserts, copies >= 16 */
	if (!d)
		return -ENOMEM;
	n = put_varint(d, len);
	n += put_varint(d + n, len);
	while (i < len && n < cap) {
		size_t j = same_end(x, y, i, len);
		if (j - i >= COPY_MIN || (j == len && j > i)) {
			n += put_insert(d + n, y + i - ins, ins);
			ins = 0;
			n += put_copy(d + n, i, j - i);
		} else {
			ins += j - i;
		}
		/* the differing run; a run of equal bytes ends it */
		size_t k = j;
		while (k < len && x[k] != y[k])
			k++;
		ins += k - j;
		i = k;
	}
	if (i < len || n + ins + ins / 127 + 1 >= cap) { /* no gain */
		e = gs_repo_add_entry(r, out, (unsigned)type, data, len, -1);
	} else {
		n += put_insert(d + n, y + len - ins, ins);
		e = gs_repo_add_entry(r, out, 6, d, n, b);
	}
	if (d != stackbuf)
		free(d);
	return e;
}

int gs_repo_write_delta_diff(struct gs_repo *r, git_object_t type,
			     const void *data, size_t len, const git_oid *base,
			     const void *bdata, struct gs_repo_marks *mk,
			     git_oid *out)
{
	long b;
	int e = delta_start(r, type, data, len, base, len, mk, out, &b);
	if (e != 1)
		return e;
	return diff_add(r, type, out, data, len, b, bdata);
}

int gs_repo_write_delta_root(struct gs_repo *r, git_object_t type,
			     const void *data, size_t len, const git_oid *prev,
			     git_oid *out)
{
	if (type < GIT_OBJECT_COMMIT || type > GIT_OBJECT_BLOB)
		return -EINVAL;
	long b = gs_repo_obj_find(r, prev);
	/* the root of prev's chain: whole objects are bases of deltas here */
	while (b >= 0 && r->ents[b].base)
		b = (long)r->ents[b].base - 1;
	/* its bytes are read after the hash below: start loading them */
	if (b >= 0 && r->ents[b].off >= r->pack_flushed)
		__builtin_prefetch(r->pack.data + (r->ents[b].off -
						   r->pack_flushed));
	gs_repo_object_id(type, data, len, NULL, out);
	gs_repo_obj_prefetch(r, out); /* checked when added */
	size_t blen = 0;
	const unsigned char *x = b >= 0 ? gs_repo_entry_raw(r, (size_t)b, type,
							    &blen)
					: NULL;
	if (!x || blen != len)
		return gs_repo_add_entry(r, out, (unsigned)type, data, len, -1);
	return diff_add(r, type, out, data, len, b, x);
}

int gs_repo_write_delta_range(struct gs_repo *r, git_object_t type,
			      const void *data, size_t len,
			      const git_oid *base, size_t pre, size_t suf,
			      struct gs_repo_marks *mk, git_oid *out)
{
	if (pre + suf > len)
		return -EINVAL;
	long b;
	int e = delta_start(r, type, data, len, base, len, mk, out, &b);
	if (e != 1)
		return e;
	return add_delta(r, (unsigned)type, out, data, len, b, len, pre, suf);
}

static size_t line_len(const unsigned char *p, size_t left)
{
	const unsigned char *nl = memchr(p, '\n', left);
	return nl ? (size_t)(nl - p) + 1 : left;
}

/* The opcodes of a delta as they are decided: one copy or insert pending. */
struct emit {
	unsigned char *d;
	size_t n;
	const unsigned char *y;
	size_t yp, ins, coff, clen;
};

static void emit_copy(struct emit *e, size_t off, size_t len)
{
	e->n += put_insert(e->d + e->n, e->y + e->yp - e->ins, e->ins);
	e->ins = 0;
	if (e->clen && e->coff + e->clen == off) {
		e->clen += len;
	} else {
		if (e->clen)
			e->n += put_copy(e->d + e->n, e->coff, e->clen);
		e->coff = off, e->clen = len;
	}
	e->yp += len;
}

static void emit_insert(struct emit *e, size_t len)
{
	if (e->clen)
		e->n += put_copy(e->d + e->n, e->coff, e->clen);
	e->clen = 0;
	e->ins += len;
	e->yp += len;
}

/* A copy costs up to 8 bytes: shorter common runs are inserted. */
#define LINE_COPY_MIN 8u

/*
 * The delta of y against x, line by line in step: a line equal to the
 * base's line at the same position is copied, any other inserted but for
 * what it shares with that line at its start and end (a sequence number,
 * a path under the same directory). Fits a commit against the previous
 * one (same fields, same order). d has room for DELTA_LINES_MAX(ylen).
 * Returns the delta's size.
 */
#define DELTA_LINES_MAX(len) (32 + 2 * (len) + 16 * ((len) + 1))
static size_t delta_lines(unsigned char *d, const unsigned char *x,
			  size_t xlen, const unsigned char *y, size_t ylen)
{
	struct emit e = { d, 0, y, 0, 0, 0, 0 };
	e.n = put_varint(d, xlen);
	e.n += put_varint(d + e.n, ylen);
	size_t xp = 0;
	while (e.yp < ylen) {
		const unsigned char *yl0 = y + e.yp, *xl0 = x + xp;
		size_t yl = line_len(yl0, ylen - e.yp);
		size_t xl = xp < xlen ? line_len(xl0, xlen - xp) : 0;
		size_t min = xl < yl ? xl : yl, pre = 0, suf = 0;
		while (pre < min && xl0[pre] == yl0[pre])
			pre++;
		if (pre == yl && xl == yl) {
			emit_copy(&e, xp, yl);
			xp += xl;
			continue;
		}
		while (suf < min - pre && xl0[xl - 1 - suf] == yl0[yl - 1 - suf])
			suf++;
		/* a prefix that extends the pending copy costs nothing */
		if (pre >= LINE_COPY_MIN || (pre && e.clen && !e.ins &&
					     e.coff + e.clen == xp))
			emit_copy(&e, xp, pre);
		else
			pre = 0;
		if (suf < LINE_COPY_MIN)
			suf = 0;
		emit_insert(&e, yl - pre - suf);
		if (suf)
			emit_copy(&e, xp + xl - suf, suf);
		xp += xl;
	}
	e.n += put_insert(d + e.n, y + e.yp - e.ins, e.ins);
	if (e.clen)
		e.n += put_copy(d + e.n, e.coff, e.clen);
	return e.n;
}

int gs_repo_write_commit(struct gs_repo *r, const void *data, size_t len,
			 git_oid *out)
{
	gs_repo_object_id(GIT_OBJECT_COMMIT, data, len, NULL, out);
	gs_repo_obj_prefetch(r, out); /* checked when added */
	int e;
	long b = r->prev.len ? delta_base(r, &r->prev_id, r->prev.len, len) : -1;
	unsigned char stackbuf[16384], *d = NULL;
	size_t n = 0;
	if (b >= 0) {
		d = DELTA_LINES_MAX(len) <= sizeof(stackbuf)
			    ? stackbuf
			    : malloc(DELTA_LINES_MAX(len));
		if (d)
			n = delta_lines(d, (const unsigned char *)r->prev.data,
					r->prev.len, data, len);
	}
	if (d && n + 16 < len)
		e = gs_repo_add_entry(r, out, 6, d, n, b);
	else
		e = gs_repo_add_entry(r, out, GIT_OBJECT_COMMIT, data, len, -1);
	if (d != stackbuf)
		free(d);
	if (e)
		return e;
	/* the base of the next one; without room, the next is stored whole */
	r->prev.len = 0;
	if (r->prev.cap > 65536 && len <= 4096)
		gs_buf_free(&r->prev); /* a big transaction's text is gone */
	if (!gs_buf_reserve(&r->prev, len)) {
		memcpy(r->prev.data, data, len);
		r->prev.len = len;
		git_oid_cpy(&r->prev_id, out);
	}
	return 0;
}
