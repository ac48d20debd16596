/*
 * feature.c - GET_FEATURE SET_FEATURE GET_QUOTA SET_QUOTA (newest
 * docs/misc/xenstore.txt). A quota without domid is the global value;
 * with one, the domain's own (which stays until the domain goes; reading
 * a domain without its own answers the global value it is held to).
 * soft-memory is global only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "dispatch.h"
#include "domain.h"
#include "ring_state.h"
#include "xenstored.h"

#define SOFT_PREFIX "soft-"

static int reply_u32(struct xsd_conn *c, const struct xsw_request *req,
		     uint32_t v)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%u", v);

	return xsd_conn_reply(c, &req->hdr, buf, n + 1);
}

int xsd_cmd_get_feature(struct xsd_conn *c, const struct xsw_request *req,
			struct xsd_txn *txn)
{
	const struct xsd_domain *d;

	(void)txn;
	if (!req->u.get_feature.has_domid) {
		d = xsd_domain_find(c->domid);
		return reply_u32(c, req, d && !c->privileged
				 ? d->features : xsd_features_supported());
	}
	if (!c->privileged)
		return -EACCES;
	d = xsd_domain_find(req->u.get_feature.domid);
	if (!d)
		return -ENOENT;
	return reply_u32(c, req, d->features);
}

int xsd_cmd_set_feature(struct xsd_conn *c, const struct xsw_request *req,
			struct xsd_txn *txn)
{
	uint32_t f = req->u.set_feature.features;
	struct xsd_domain *d;

	(void)txn;
	/* before INTRODUCE too: the toolstack chooses, the ring then says */
	d = xsd_domain_lookup(req->u.set_feature.domid);
	if (!d)
		return -ENOENT;
	/* fixed once the guest runs: the ring page already says what it has */
	if (d->introduced)
		return -EBUSY;
	if (f & ~xsd_features_supported())
		return -EINVAL;
	d->features = f;
	xsd_state_touch(d);
	return xsd_conn_ack(c, &req->hdr);
}

/* Quota value slot by name ("nodes", "soft-memory"...), or NULL. */
static uint32_t *quota_slot(const char *name)
{
	int q;

	if (!strcmp(name, SOFT_PREFIX "memory"))
		return &xsd.cfg.soft_memory;
	q = xsd_quota_find(name);
	return q < 0 ? NULL : &xsd.cfg.quota[q];
}

int xsd_cmd_get_quota(struct xsd_conn *c, const struct xsw_request *req,
		      struct xsd_txn *txn)
{
	const char *name = req->u.get_quota.name;
	char out[XSW_PAYLOAD_MAX];
	uint32_t *slot;
	size_t n = 0;

	(void)txn;
	if (!name) {
		/* the names of every quota in force, space separated */
		for (int q = 0; q < XSD_Q_COUNT; q++) {
			if (!xsd.cfg.quota[q])
				continue;
			n += snprintf(out + n, sizeof(out) - n, "%s%s",
				      n ? " " : "", xsd_quota_info[q].name);
			if (q == XSD_Q_MEMORY && xsd.cfg.soft_memory)
				n += snprintf(out + n, sizeof(out) - n,
					      " " SOFT_PREFIX "memory");
		}
		return xsd_conn_reply(c, &req->hdr, out, n + 1);
	}
	slot = quota_slot(name);
	if (!slot)
		return -EINVAL;
	if (req->u.get_quota.has_domid) {
		const struct xsd_domain *d =
			xsd_domain_find(req->u.get_quota.domid);
		int q = xsd_quota_find(name);

		if (!d)
			return -ENOENT;
		if (q >= 0 && d->quota[q])
			return reply_u32(c, req, d->quota[q]);
	}
	return reply_u32(c, req, *slot);
}

int xsd_cmd_set_quota(struct xsd_conn *c, const struct xsw_request *req,
		      struct xsd_txn *txn)
{
	uint32_t *slot;

	(void)txn;
	slot = quota_slot(req->u.set_quota.name);
	/* 0 means "disabled" and cannot be set over the wire */
	if (!slot || !req->u.set_quota.value)
		return -EINVAL;
	if (req->u.set_quota.has_domid) {
		struct xsd_domain *d = xsd_domain_lookup(req->u.set_quota.domid);
		int q = xsd_quota_find(req->u.set_quota.name);

		if (!d)
			return -ENOENT;
		if (q < 0)
			return -EINVAL; /* soft-memory: global only */
		d->quota[q] = req->u.set_quota.value;
		xsd_state_touch(d);
		return xsd_conn_ack(c, &req->hdr);
	}
	*slot = req->u.set_quota.value;
	xsd_limits_apply();
	return xsd_conn_ack(c, &req->hdr);
}
