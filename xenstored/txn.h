/*
 * txn.h - a connection's open transactions (ids per connection, from 1,
 * as cxenstored), on top of store transactions.
 *
 * Memory: owned by the connection; ended by TRANSACTION_END, RESET_WATCHES
 * or the connection's close.
 */
#ifndef XSD_TXN_H
#define XSD_TXN_H

#include <stdint.h>
#include <uthash.h>

struct xsd_conn;
struct store_txn;

struct xsd_txn {
	uint32_t id;
	struct store_txn *st;
	/* opened before a daemon restart: its end answers EAGAIN */
	bool stale;
	UT_hash_handle hh;
};

struct xsd_txn *xsd_txn_find(struct xsd_conn *c, uint32_t id);
void xsd_txn_abort_all(struct xsd_conn *c);
/*
 * Recovery: transaction id of c was open when the daemon stopped. It is
 * known again (requests in it work on a fresh snapshot) and its end
 * answers EAGAIN, so that the client retries it. 0 or -errno.
 */
int xsd_txn_restore_stale(struct xsd_conn *c, uint32_t id);

/* The store transaction of txn, or NULL outside a transaction. */
static inline struct store_txn *xsd_txn_store(struct xsd_txn *txn)
{
	return txn ? txn->st : NULL;
}

#endif
