/*
 * state.h - daemon state records: opaque bytes per key (a domain), kept
 * in the journal next to the commits of the same batch so that both are
 * durable with one write. The Git writer skips them (a commit's decode
 * refuses them); recovery hands the latest value per key back.
 *
 * Payload (little-endian): u64 0 (no commit has seq 0), "XSDS", u32 key,
 * u32 length, the bytes; length 0 means the key was deleted. Framed like
 * every record (record.h).
 *
 * The engine keeps the latest value of every key in memory and writes all
 * of them into each new journal segment, because old segments go once
 * Git holds their commits.
 */
#ifndef GS_STATE_H
#define GS_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct gs_state; /* one key's latest value */

/* Appends one framed state record to b. */
int gs_state_encode(struct gs_buf *b, uint32_t key, const void *data,
		    size_t len);
/* True if payload is a state record; then *key, *data, *len describe it. */
bool gs_state_decode(const char *payload, size_t len, uint32_t *key,
		     const char **data, size_t *dlen);

/* The latest values: len 0 deletes. 0 or -ENOMEM. */
int gs_state_set(struct gs_state **map, uint32_t key, const void *data,
		 size_t len);
size_t gs_state_count(struct gs_state *map);
/* Appends a record for every key (a new segment's snapshot). */
int gs_state_encode_all(struct gs_state *map, struct gs_buf *b);
typedef int (*gs_state_fn)(void *ctx, uint32_t key, const void *data,
			   size_t len);
int gs_state_foreach(struct gs_state *map, gs_state_fn fn, void *ctx);
void gs_state_free(struct gs_state **map);

#endif
