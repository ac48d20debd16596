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
	UT_hash_handle hh;
};

struct xsd_txn *xsd_txn_find(struct xsd_conn *c, uint32_t id);
void xsd_txn_abort_all(struct xsd_conn *c);

/* The store transaction of txn, or NULL outside a transaction. */
static inline struct store_txn *xsd_txn_store(struct xsd_txn *txn)
{
	return txn ? txn->st : NULL;
}

#endif
