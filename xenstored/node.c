/* node.c - requests on nodes: READ WRITE MKDIR RM DIRECTORY(_PART) *_PERMS. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../protocol/path.h"
#include "../protocol/perms.h"
#include "dispatch.h"
#include "domain.h"
#include "xenstored.h"

/* Resolves the request's path for c; EINVAL for anything invalid. */
static int resolve(const struct xsd_conn *c, const char *in, char *out)
{
	return xsw_path_resolve(c->domid, in, false, out);
}

int xsd_cmd_read(struct xsd_conn *c, const struct xsw_request *req,
		 struct xsd_txn *txn)
{
	struct store_caller who = xsd_conn_caller(c);
	struct store_node_view v;
	char path[XSW_PATH_BUF];
	int r;

	if ((r = resolve(c, req->u.path.path, path)))
		return r;
	r = store_read(xsd.st, xsd_txn_store(txn), &who, path, &v);
	if (r)
		return r;
	return xsd_conn_reply(c, &req->hdr, v.value, v.len);
}

int xsd_cmd_write(struct xsd_conn *c, const struct xsw_request *req,
		  struct xsd_txn *txn)
{
	struct store_caller who = xsd_conn_caller(c);
	char path[XSW_PATH_BUF];
	int r;

	if ((r = resolve(c, req->u.write.path, path)))
		return r;
	r = store_write(xsd.st, xsd_txn_store(txn), &who, path,
			req->u.write.value, req->u.write.len);
	return r ? r : xsd_conn_ack(c, &req->hdr);
}

int xsd_cmd_mkdir(struct xsd_conn *c, const struct xsw_request *req,
		  struct xsd_txn *txn)
{
	struct store_caller who = xsd_conn_caller(c);
	char path[XSW_PATH_BUF];
	int r;

	if ((r = resolve(c, req->u.path.path, path)))
		return r;
	r = store_mkdir(xsd.st, xsd_txn_store(txn), &who, path);
	return r ? r : xsd_conn_ack(c, &req->hdr);
}

int xsd_cmd_rm(struct xsd_conn *c, const struct xsw_request *req,
	       struct xsd_txn *txn)
{
	struct store_caller who = xsd_conn_caller(c);
	char path[XSW_PATH_BUF];
	int r;

	if ((r = resolve(c, req->u.path.path, path)))
		return r;
	if (!strcmp(path, "/"))
		return -EINVAL; /* the root cannot go, as in cxenstored */
	r = store_rm(xsd.st, xsd_txn_store(txn), &who, path);
	return r ? r : xsd_conn_ack(c, &req->hdr);
}

int xsd_cmd_directory(struct xsd_conn *c, const struct xsw_request *req,
		      struct xsd_txn *txn)
{
	struct store_caller who = xsd_conn_caller(c);
	char path[XSW_PATH_BUF];
	uint64_t gen;
	char *names;
	size_t len;
	int r;

	if ((r = resolve(c, req->u.path.path, path)))
		return r;
	r = store_directory(xsd.st, xsd_txn_store(txn), &who, path, &names,
			    &len, &gen);
	if (r)
		return r;
	r = len > XSW_PAYLOAD_MAX ? -E2BIG
				  : xsd_conn_reply(c, &req->hdr, names, len);
	free(names);
	return r;
}

/*
 * "<generation>\0" then as many whole names from offset as fit, then an
 * extra "\0" once the list is complete (cxenstored's send_directory_part).
 */
int xsd_cmd_directory_part(struct xsd_conn *c, const struct xsw_request *req,
			   struct xsd_txn *txn)
{
	struct store_caller who = xsd_conn_caller(c);
	char path[XSW_PATH_BUF];
	char out[XSW_PAYLOAD_MAX];
	size_t len, off, end, n;
	uint64_t gen;
	char *names;
	int r, glen;

	if ((r = resolve(c, req->u.dir_part.path, path)))
		return r;
	r = store_directory(xsd.st, xsd_txn_store(txn), &who, path, &names,
			    &len, &gen);
	if (r)
		return r;
	glen = snprintf(out, sizeof(out), "%" PRIu64, gen) + 1;
	off = req->u.dir_part.offset;
	if (off > len)
		off = len;
	/* whole names only; leave room for the final extra NUL */
	for (end = off; end < len; end += n) {
		n = strnlen(names + end, len - end) + 1;
		if (glen + (end + n - off) + 1 > XSW_PAYLOAD_MAX)
			break;
	}
	if (end > len)
		end = len;
	memcpy(out + glen, names + off, end - off);
	n = glen + (end - off);
	if (end == len)
		out[n++] = 0;
	free(names);
	return xsd_conn_reply(c, &req->hdr, out, n);
}

int xsd_cmd_get_perms(struct xsd_conn *c, const struct xsw_request *req,
		      struct xsd_txn *txn)
{
	struct store_caller who = xsd_conn_caller(c);
	char path[XSW_PATH_BUF];
	char out[XSW_PAYLOAD_MAX];
	struct store_node_view v;
	int r;

	if ((r = resolve(c, req->u.path.path, path)))
		return r;
	r = store_read(xsd.st, xsd_txn_store(txn), &who, path, &v);
	if (r)
		return r;
	r = xsw_perms_format(v.perms, v.nperms, out, sizeof(out));
	if (r < 0)
		return r;
	return xsd_conn_reply(c, &req->hdr, out, r);
}

int xsd_cmd_set_perms(struct xsd_conn *c, const struct xsw_request *req,
		      struct xsd_txn *txn)
{
	struct store_caller who = xsd_conn_caller(c);
	int n = req->u.set_perms.n;
	char path[XSW_PATH_BUF];
	struct xsw_perm *p;
	int r, i;

	if ((r = resolve(c, req->u.set_perms.path, path)))
		return r;
	if (n < 1)
		return -EINVAL;
	p = calloc(n, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (i = 0; i < n && !r; i++)
		r = xsw_perm_parse(req->u.set_perms.perms[i], &p[i]);
	/* cxenstored charges the node to its owner: an unknown one is ENOENT */
	if (!r && !xsd_domain_known(p[0].domid))
		r = -ENOENT;
	if (!r)
		r = store_set_perms(xsd.st, xsd_txn_store(txn), &who, path, p, n);
	free(p);
	return r ? r : xsd_conn_ack(c, &req->hdr);
}
