/* txn.c - TRANSACTION_START and TRANSACTION_END. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "dispatch.h"
#include "domain.h"
#include "xenstored.h"

struct xsd_txn *xsd_txn_find(struct xsd_conn *c, uint32_t id)
{
	struct xsd_txn *t;

	HASH_FIND(hh, c->txns, &id, sizeof(id), t);
	return t;
}

static void txn_drop(struct xsd_conn *c, struct xsd_txn *t)
{
	HASH_DELETE(hh, c->txns, t);
	c->ntxns--;
	free(t);
}

void xsd_txn_abort_all(struct xsd_conn *c)
{
	struct xsd_txn *t, *tmp;

	HASH_ITER(hh, c->txns, t, tmp) {
		store_txn_abort(xsd.st, t->st);
		txn_drop(c, t);
	}
}

/* Begins store transaction id for c and adds it to c's table. */
static int txn_open(struct xsd_conn *c, uint32_t id, bool stale,
		    struct xsd_txn **out)
{
	struct store_caller who = xsd_conn_caller(c);
	struct xsd_txn *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	t->id = id;
	t->stale = stale;
	r = store_txn_begin(xsd.st, &who, t->id, &t->st);
	if (r) {
		free(t);
		return r;
	}
	HASH_ADD(hh, c->txns, id, sizeof(t->id), t);
	c->ntxns++;
	*out = t;
	return 0;
}

int xsd_txn_restore_stale(struct xsd_conn *c, uint32_t id)
{
	struct xsd_txn *t;

	if (!id || xsd_txn_find(c, id))
		return -EINVAL;
	return txn_open(c, id, true, &t);
}

int xsd_cmd_txn_start(struct xsd_conn *c, const struct xsw_request *req,
		      struct xsd_txn *cur)
{
	uint32_t q = xsd_domain_quota(c->domid, XSD_Q_TRANSACTIONS);
	struct xsd_txn *t;
	uint32_t id;
	char buf[16];
	int r, n;

	(void)req;
	if (cur)
		return -EBUSY;
	if (!c->privileged && q && c->ntxns >= q)
		return -ENOSPC;
	/* next free id; 0 means "no transaction" and is skipped on wrap */
	do {
		id = c->next_tx_id++;
	} while (!id || xsd_txn_find(c, id));
	if ((r = txn_open(c, id, false, &t)))
		return r;
	n = snprintf(buf, sizeof(buf), "%u", t->id);
	return xsd_conn_reply(c, &req->hdr, buf, n + 1);
}

int xsd_cmd_txn_end(struct xsd_conn *c, const struct xsw_request *req,
		    struct xsd_txn *t)
{
	struct store_txn *st;
	int r = 0;

	if (!t)
		return -ENOENT;
	st = t->st;
	if (t->stale) {
		/* its reads may predate the restart: the client starts over */
		txn_drop(c, t);
		store_txn_abort(xsd.st, st);
		return -EAGAIN;
	}
	txn_drop(c, t);
	if (req->u.txn_end.commit)
		r = store_txn_commit(xsd.st, st);
	else
		store_txn_abort(xsd.st, st);
	if (r)
		return r;
	return xsd_conn_ack(c, &req->hdr);
}
