/*
 * persist.h - the persistence barrier between the store and the replies.
 *
 * The commit hook hands every store commit to xsd_persist_submit(); once
 * per loop iteration, before any reply leaves, xsd_persist_flush() makes
 * all of them durable with one write. Replies of an iteration are sent
 * only after the flush returned 0.
 *
 * Memory: submit copies what it keeps; nothing points into the commit.
 */
#ifndef XSD_PERSIST_H
#define XSD_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"
#include "config.h"

/* Opens the store directory (unless --no-persist) and loads the tree. */
int xsd_persist_init(const struct xsd_config *cfg, struct store *st);
void xsd_persist_submit(const struct store_commit *c);
/* 0 when every submitted commit is durable, else a negative errno. */
int xsd_persist_flush(void);
/*
 * Daemon state for restarts (ring_state.h): durable with the next flush,
 * len 0 deletes. Without a store (--no-persist) nothing is kept.
 */
void xsd_persist_put_state(uint32_t key, const void *data, size_t len);
/* The state recovered with the store: fn per key (0 to go on). */
int xsd_persist_state_foreach(int (*fn)(void *ctx, uint32_t key,
					const void *data, size_t len),
			      void *ctx);
/*
 * One line on the store's health into buf (for CONTROL check); returns 0
 * when healthy, else the pending error (negative errno).
 */
int xsd_persist_status(char *buf, size_t len);
/*
 * Makes the next count store operations at point ("journal", "fsync",
 * "pack") fail with err (a negative errno): CONTROL store-fault, so that
 * the error policy can be tested on the running daemon.
 */
int xsd_persist_fault(const char *point, int err, unsigned count);
void xsd_persist_close(void);

#endif
