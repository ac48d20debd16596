/*
 * dispatch.h - THE command table: message type -> handler, arity, flags.
 *
 * The dispatcher answers, in one place and in cxenstored's order: ENOSYS
 * for a type without handler, ENOENT for an unknown transaction id, EACCES
 * for a privileged-only type from an unprivileged connection, EINVAL for
 * a wrong number of arguments or a malformed payload. Handlers then
 * return 0 after queueing their reply, or a negative errno that the
 * dispatcher turns into the error reply.
 */
#ifndef XSD_DISPATCH_H
#define XSD_DISPATCH_H

#include "../protocol/msg.h"
#include "conn.h"
#include "txn.h"

#define XSD_F_PRIV 0x1u  /* privileged connections only */
#define XSD_F_WRITE 0x2u /* changes state (persisted) */
#define XSD_F_TXN 0x4u   /* runs in the transaction named by tx_id */

typedef int (*xsd_cmd_fn)(struct xsd_conn *c, const struct xsw_request *req,
			  struct xsd_txn *txn);

struct xsd_cmd {
	const char *name;
	xsd_cmd_fn fn;
	/* N > 0: exactly N strings; -N: at least N; 0: the parser decides */
	int arity;
	unsigned flags;
};

/* Handles one whole message (body NUL-terminated one past hdr->len). */
void xsd_dispatch(struct xsd_conn *c, const struct xsw_hdr *hdr,
		  const char *body);

/* Handlers, by file. */
int xsd_cmd_read(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_write(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_mkdir(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_rm(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_directory(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_directory_part(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_get_perms(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_set_perms(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_txn_start(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_txn_end(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_watch(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_unwatch(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_reset_watches(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_introduce(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_release(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_resume(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_set_target(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_get_domain_path(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_is_domain_introduced(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_get_feature(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_set_feature(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_get_quota(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_set_quota(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);
int xsd_cmd_control(struct xsd_conn *, const struct xsw_request *, struct xsd_txn *);

#endif
