/*
 * record.h - one journal record: a store commit serialised for the journal.
 *
 * Payload (little-endian): u64 seq, u64 time_ns, u32 domid, u32 target,
 * u32 conn_id, u32 tx_id, u8 privileged; u32 nops, each: u8 kind, u16 len,
 * path + NUL; u32 neffects, each: u8 deleted, u16 len, path + NUL, and if
 * not deleted: u32 len, value, u16 nperms, nperms x (u32 domid, u8 perms).
 * Paths carry their NUL so that a decoded record points into the payload.
 *
 * Framing in the journal: u32 payload length, u32 CRC32 (zlib) of the
 * payload, payload.
 */
#ifndef GS_RECORD_H
#define GS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "../store.h"

#define GS_FRAME_HDR 8u
#define GS_RECORD_MAX (64u << 20)

struct gs_buf {
	char *data;
	size_t len, cap;
};

int gs_buf_reserve(struct gs_buf *b, size_t extra);
void gs_buf_free(struct gs_buf *b);

/* A decoded record. Paths and values point into the payload it came from. */
struct gs_record {
	uint64_t seq;
	uint64_t time_ns;
	struct store_caller caller;
	uint32_t tx_id;
	unsigned nops;
	struct store_op *ops;         /* owned: gs_record_release() */
	unsigned neffects;
	struct store_effect *effects; /* owned, perms arrays included */
};

/* Appends one framed record for c (numbered seq, at time_ns) to b. */
int gs_record_encode(struct gs_buf *b, const struct store_commit *c,
		     uint64_t seq, uint64_t time_ns);

/*
 * Checks the frame at data[0..avail): returns its total size (header +
 * payload) if complete with a good CRC, 0 if incomplete or corrupt (a torn
 * tail).
 */
size_t gs_frame_check(const char *data, size_t avail);

/* Decodes a payload (of a checked frame); -EINVAL if malformed. */
int gs_record_decode(const char *payload, size_t len, struct gs_record *out);
void gs_record_release(struct gs_record *r);

#endif
