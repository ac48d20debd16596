/* dispatch.c - the command table and the checks common to every request. */
#include <errno.h>
#include <stdlib.h>

#include "dispatch.h"

#define F_PRIV XSD_F_PRIV
#define F_WRITE XSD_F_WRITE
#define F_TXN XSD_F_TXN

/*
 * Flags follow cxenstored's wire_funcs: types without F_TXN ignore tx_id
 * (its XS_FLAG_NOTID), so an unknown id is no error for them.
 */
static const struct xsd_cmd cmds[XSW_TYPE_COUNT] = {
	[XSW_CONTROL] = { "CONTROL", xsd_cmd_control, -1, F_PRIV | F_TXN },
	[XSW_DIRECTORY] = { "DIRECTORY", xsd_cmd_directory, 1, F_TXN },
	[XSW_READ] = { "READ", xsd_cmd_read, 1, F_TXN },
	[XSW_GET_PERMS] = { "GET_PERMS", xsd_cmd_get_perms, 1, F_TXN },
	[XSW_WATCH] = { "WATCH", xsd_cmd_watch, -2, 0 },
	[XSW_UNWATCH] = { "UNWATCH", xsd_cmd_unwatch, -2, 0 },
	[XSW_TRANSACTION_START] = { "TRANSACTION_START", xsd_cmd_txn_start, 0, F_TXN },
	[XSW_TRANSACTION_END] = { "TRANSACTION_END", xsd_cmd_txn_end, 1, F_WRITE | F_TXN },
	[XSW_INTRODUCE] = { "INTRODUCE", xsd_cmd_introduce, -3, F_PRIV | F_WRITE },
	[XSW_RELEASE] = { "RELEASE", xsd_cmd_release, 1, F_PRIV | F_WRITE },
	[XSW_GET_DOMAIN_PATH] = { "GET_DOMAIN_PATH", xsd_cmd_get_domain_path, 1, 0 },
	[XSW_WRITE] = { "WRITE", xsd_cmd_write, -1, F_WRITE | F_TXN },
	[XSW_MKDIR] = { "MKDIR", xsd_cmd_mkdir, 1, F_WRITE | F_TXN },
	[XSW_RM] = { "RM", xsd_cmd_rm, 1, F_WRITE | F_TXN },
	[XSW_SET_PERMS] = { "SET_PERMS", xsd_cmd_set_perms, -2, F_WRITE | F_TXN },
	[XSW_IS_DOMAIN_INTRODUCED] = { "IS_DOMAIN_INTRODUCED", xsd_cmd_is_domain_introduced, 1, F_PRIV },
	[XSW_RESUME] = { "RESUME", xsd_cmd_resume, 1, F_PRIV },
	[XSW_SET_TARGET] = { "SET_TARGET", xsd_cmd_set_target, 2, F_PRIV },
	[XSW_RESET_WATCHES] = { "RESET_WATCHES", xsd_cmd_reset_watches, 0, 0 },
	[XSW_DIRECTORY_PART] = { "DIRECTORY_PART", xsd_cmd_directory_part, 2, F_TXN },
	[XSW_GET_FEATURE] = { "GET_FEATURE", xsd_cmd_get_feature, 0, 0 },
	[XSW_SET_FEATURE] = { "SET_FEATURE", xsd_cmd_set_feature, 2, F_PRIV },
	[XSW_GET_QUOTA] = { "GET_QUOTA", xsd_cmd_get_quota, 0, F_PRIV },
	[XSW_SET_QUOTA] = { "SET_QUOTA", xsd_cmd_set_quota, -2, F_PRIV },
};

static bool arity_ok(int arity, const struct xsw_hdr *hdr, const char *body)
{
	/* enough room for any valid request of a table type */
	const char *argv[4];
	int n, want = arity < 0 ? -arity : arity;

	if (!arity)
		return true;
	n = xsw_args_split(body, hdr->len, argv, want + 1);
	if (n < 0) /* more than want + 1 strings */
		return arity < 0;
	return arity > 0 ? n == want : n >= want;
}

void xsd_dispatch(struct xsd_conn *c, const struct xsw_hdr *hdr,
		  const char *body)
{
	const struct xsd_cmd *cmd;
	struct xsd_txn *txn = NULL;
	struct xsw_request *req;
	int r;

	if (hdr->type >= XSW_TYPE_COUNT || !cmds[hdr->type].fn) {
		xsd_conn_error(c, hdr, ENOSYS);
		return;
	}
	cmd = &cmds[hdr->type];
	if ((cmd->flags & XSD_F_TXN) && hdr->tx_id) {
		txn = xsd_txn_find(c, hdr->tx_id);
		if (!txn) {
			xsd_conn_error(c, hdr, ENOENT);
			return;
		}
	}
	if ((cmd->flags & XSD_F_PRIV) && !c->privileged) {
		xsd_conn_error(c, hdr, EACCES);
		return;
	}
	if (!arity_ok(cmd->arity, hdr, body)) {
		xsd_conn_error(c, hdr, EINVAL);
		return;
	}
	/* big (set_perms holds 2048 pointers): keep it off the stack */
	req = malloc(sizeof(*req));
	if (!req) {
		xsd_conn_error(c, hdr, ENOMEM);
		return;
	}
	r = xsw_request_parse(hdr, body, req);
	if (!r)
		r = cmd->fn(c, req, txn);
	if (r)
		xsd_conn_error(c, hdr, r);
	free(req);
}
