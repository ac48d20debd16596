/* state.c - daemon state records and their latest values (state.h). */
#include "state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include <zlib.h>

#define STATE_MAGIC "XSDS"
#define STATE_HDR (8u + 4u + 4u + 4u)

struct gs_state {
	uint32_t key;
	size_t len;
	char *data;
	UT_hash_handle hh;
};

static void put_le(char *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (char)(v >> (8 * i));
}

static uint32_t get_le32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 |
	       (uint32_t)u[3] << 24;
}

int gs_state_encode(struct gs_buf *b, uint32_t key, const void *data,
		    size_t len)
{
	size_t plen = STATE_HDR + len;
	if (plen > GS_RECORD_MAX)
		return -E2BIG;
	int r = gs_buf_reserve(b, GS_FRAME_HDR + plen);
	if (r)
		return r;
	char *f = b->data + b->len, *p = f + GS_FRAME_HDR;
	put_le(p, 0, 8);
	memcpy(p + 8, STATE_MAGIC, 4);
	put_le(p + 12, key, 4);
	put_le(p + 16, len, 4);
	if (len)
		memcpy(p + STATE_HDR, data, len);
	put_le(f, plen, 4);
	put_le(f + 4, crc32(0, (const Bytef *)p, (uInt)plen), 4);
	b->len += GS_FRAME_HDR + plen;
	return 0;
}

bool gs_state_decode(const char *payload, size_t len, uint32_t *key,
		     const char **data, size_t *dlen)
{
	static const char zero[8];
	if (len < STATE_HDR || memcmp(payload, zero, 8) ||
	    memcmp(payload + 8, STATE_MAGIC, 4))
		return false;
	uint32_t l = get_le32(payload + 16);
	if (l != len - STATE_HDR)
		return false;
	*key = get_le32(payload + 12);
	*data = payload + STATE_HDR;
	*dlen = l;
	return true;
}

int gs_state_set(struct gs_state **map, uint32_t key, const void *data,
		 size_t len)
{
	struct gs_state *s;
	HASH_FIND(hh, *map, &key, sizeof(key), s);
	if (!len) {
		if (s) {
			HASH_DEL(*map, s);
			free(s->data);
			free(s);
		}
		return 0;
	}
	char *copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	if (!s) {
		if (!(s = calloc(1, sizeof(*s)))) {
			free(copy);
			return -ENOMEM;
		}
		s->key = key;
		HASH_ADD(hh, *map, key, sizeof(s->key), s);
	}
	free(s->data);
	s->data = copy;
	s->len = len;
	return 0;
}

size_t gs_state_count(struct gs_state *map)
{
	return HASH_COUNT(map);
}

int gs_state_encode_all(struct gs_state *map, struct gs_buf *b)
{
	for (struct gs_state *s = map; s; s = s->hh.next) {
		int r = gs_state_encode(b, s->key, s->data, s->len);
		if (r)
			return r;
	}
	return 0;
}

int gs_state_foreach(struct gs_state *map, gs_state_fn fn, void *ctx)
{
	for (struct gs_state *s = map; s; s = s->hh.next) {
		int r = fn(ctx, s->key, s->data, s->len);
		if (r)
			return r;
	}
	return 0;
}

void gs_state_free(struct gs_state **map)
{
	struct gs_state *s, *tmp;
	HASH_ITER(hh, *map, s, tmp) {
		HASH_DEL(*map, s);
		free(s->data);
		free(s);
	}
}
