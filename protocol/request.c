/*
 * request.c - typed parsing of request payloads, one rule per type.
 *
 * Argument counts follow cxenstored (tools/xenstored): "one argument"
 * means the payload holds exactly one NUL and it is the last byte
 * (onearg()); other counts are of NUL-terminated strings only, so bytes
 * after the last NUL are ignored (get_strings()). Numbers are stricter
 * than cxenstored's atoi(): junk, signs and overflow give EINVAL, domids
 * must be 0..65535 as in its newer parse_domid(). Path syntax is not
 * checked here: the daemon calls xsw_path_resolve() on the paths.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "msg.h"
#include "perms.h"

#define ARGS_MAX (XSW_PAYLOAD_MAX / 2 + 1)

_Static_assert(sizeof(((struct xsw_request *)0)->u.control) >=
		       sizeof(((struct xsw_request *)0)->u.set_quota) &&
	       sizeof(((struct xsw_request *)0)->u.control) >=
		       sizeof(((struct xsw_request *)0)->u.introduce),
	       "control is the largest scalar member");

/* The single NUL-terminated argument filling the whole payload. */
static const char *one_arg(const struct xsw_hdr *hdr, const char *body)
{
	if (!hdr->len || memchr(body, '\0', hdr->len) != body + hdr->len - 1)
		return NULL;
	return body;
}

static int count_args(const struct xsw_hdr *hdr, const char *body,
		      const char **argv, int max)
{
	return xsw_args_split(body, hdr->len, argv, max);
}

static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		uint64_t d = (uint64_t)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int parse_path(const struct xsw_hdr *hdr, const char *body,
		      struct xsw_request *req)
{
	req->u.path.path = one_arg(hdr, body);
	return req->u.path.path ? 0 : -EINVAL;
}

static int parse_write(const struct xsw_hdr *hdr, const char *body,
		       struct xsw_request *req)
{
	const char *nul = memchr(body, '\0', hdr->len);
	uint32_t off;

	/* The value is binary and may hold NULs: only the path must end. */
	if (!nul)
		return -EINVAL;
	off = (uint32_t)(nul - body) + 1;
	req->u.write.path = body;
	req->u.write.value = body + off;
	req->u.write.len = hdr->len - off;
	return 0;
}

static int parse_watch(const struct xsw_hdr *hdr, const char *body,
		       struct xsw_request *req, bool with_depth)
{
	const char *argv[3];
	uint32_t depth;
	int n = count_args(hdr, body, argv, 3);

	req->u.watch.depth = -1;
	if (n == 3 && with_depth) {
		/* <depth> needs XSW_FEATURE_WATCHDEPTH: the daemon checks. */
		if (xsw_parse_u32(argv[2], &depth) || depth > INT_MAX)
			return -EINVAL;
		req->u.watch.depth = (int)depth;
	} else if (n != 2) {
		return -EINVAL;
	}
	req->u.watch.path = argv[0];
	req->u.watch.token = argv[1];
	return 0;
}

static int parse_txn_end(const struct xsw_hdr *hdr, const char *body,
			 struct xsw_request *req)
{
	const char *arg = one_arg(hdr, body);

	if (!arg || (strcmp(arg, "T") && strcmp(arg, "F")))
		return -EINVAL;
	req->u.txn_end.commit = arg[0] == 'T';
	return 0;
}

static int parse_introduce(const struct xsw_hdr *hdr, const char *body,
			   struct xsw_request *req)
{
	const char *argv[ARGS_MAX];
	int n = count_args(hdr, body, argv, ARGS_MAX);

	/* <domid>|<mfn>|<evtchn>|? : a fourth, reserved string is allowed. */
	if (n < 3)
		return -EINVAL;
	if (xsw_parse_domid(argv[0], &req->u.introduce.domid) ||
	    parse_u64(argv[1], &req->u.introduce.mfn) ||
	    xsw_parse_u32(argv[2], &req->u.introduce.port))
		return -EINVAL;
	return 0;
}

static int parse_domain(const struct xsw_hdr *hdr, const char *body,
			struct xsw_request *req)
{
	const char *arg = one_arg(hdr, body);

	if (!arg || xsw_parse_domid(arg, &req->u.domain.domid))
		return -EINVAL;
	return 0;
}

static int parse_set_perms(const struct xsw_hdr *hdr, const char *body,
			   struct xsw_request *req)
{
	const char *argv[ARGS_MAX];
	struct xsw_perm p;
	int i, n = count_args(hdr, body, argv, ARGS_MAX);

	if (n < 2)
		return -EINVAL;
	req->u.set_perms.path = argv[0];
	req->u.set_perms.n = n - 1;
	for (i = 1; i < n; i++) {
		if (xsw_perm_parse(argv[i], &p))
			return -EINVAL;
		req->u.set_perms.perms[i - 1] = argv[i];
	}
	return 0;
}

static int parse_set_target(const struct xsw_hdr *hdr, const char *body,
			    struct xsw_request *req)
{
	const char *argv[ARGS_MAX];
	int n = count_args(hdr, body, argv, ARGS_MAX);

	if (n < 2)
		return -EINVAL;
	if (xsw_parse_domid(argv[0], &req->u.set_target.domid) ||
	    xsw_parse_domid(argv[1], &req->u.set_target.target))
		return -EINVAL;
	return 0;
}

static int parse_dir_part(const struct xsw_hdr *hdr, const char *body,
			  struct xsw_request *req)
{
	const char *argv[2];

	if (count_args(hdr, body, argv, 2) != 2)
		return -EINVAL;
	req->u.dir_part.path = argv[0];
	return xsw_parse_u32(argv[1], &req->u.dir_part.offset);
}

static int parse_get_feature(const struct xsw_hdr *hdr, const char *body,
			     struct xsw_request *req)
{
	const char *argv[1];
	int n = count_args(hdr, body, argv, 1);

	if (n < 0)
		return -EINVAL;
	req->u.get_feature.has_domid = n == 1;
	if (n == 1)
		return xsw_parse_domid(argv[0], &req->u.get_feature.domid);
	return 0;
}

static int parse_set_feature(const struct xsw_hdr *hdr, const char *body,
			     struct xsw_request *req)
{
	const char *argv[2];

	if (count_args(hdr, body, argv, 2) != 2)
		return -EINVAL;
	req->u.set_feature.has_domid = true;
	if (xsw_parse_domid(argv[0], &req->u.set_feature.domid) ||
	    xsw_parse_u32(argv[1], &req->u.set_feature.features))
		return -EINVAL;
	return 0;
}

static int parse_get_quota(const struct xsw_hdr *hdr, const char *body,
			   struct xsw_request *req)
{
	const char *argv[2];
	int n = count_args(hdr, body, argv, 2);

	/* [[<domid>|]<quota>|]: none lists the names. */
	if (n < 0)
		return -EINVAL;
	req->u.get_quota.has_domid = n == 2;
	req->u.get_quota.name = n ? argv[n - 1] : NULL;
	if (n == 2)
		return xsw_parse_domid(argv[0], &req->u.get_quota.domid);
	return 0;
}

static int parse_set_quota(const struct xsw_hdr *hdr, const char *body,
			   struct xsw_request *req)
{
	const char *argv[3];
	int n = count_args(hdr, body, argv, 3);

	/* [<domid>|]<quota>|<value>| */
	if (n != 2 && n != 3)
		return -EINVAL;
	req->u.set_quota.has_domid = n == 3;
	if (n == 3 && xsw_parse_domid(argv[0], &req->u.set_quota.domid))
		return -EINVAL;
	req->u.set_quota.name = argv[n - 2];
	return xsw_parse_u32(argv[n - 1], &req->u.set_quota.value);
}

static int parse_control(const struct xsw_hdr *hdr, const char *body,
			 struct xsw_request *req)
{
	int max = (int)(sizeof(req->u.control.argv) /
			sizeof(req->u.control.argv[0]));
	int n = count_args(hdr, body, req->u.control.argv, max);

	/* cxenstored needs the command itself to be NUL-terminated. */
	if (n < 1)
		return -EINVAL;
	req->u.control.argc = n;
	return 0;
}

int xsw_request_parse(const struct xsw_hdr *hdr, const char *body,
		      struct xsw_request *req)
{
	/*
	 * Zero every scalar field without touching set_perms' 16 KiB array:
	 * all other members fit within control's size, and so do the fields
	 * of set_perms ahead of its array.
	 */
	memset(&req->u, 0, sizeof(req->u.control));
	req->hdr = *hdr;
	if (hdr->len > XSW_PAYLOAD_MAX)
		return -EINVAL;

	switch (hdr->type) {
	case XSW_READ:
	case XSW_DIRECTORY:
	case XSW_GET_PERMS:
	case XSW_MKDIR:
	case XSW_RM:
		return parse_path(hdr, body, req);
	case XSW_WRITE:
		return parse_write(hdr, body, req);
	case XSW_WATCH:
		return parse_watch(hdr, body, req, true);
	case XSW_UNWATCH:
		return parse_watch(hdr, body, req, false);
	case XSW_TRANSACTION_START:
	case XSW_RESET_WATCHES:
		/* cxenstored ignores these payloads (clients send "" or "\0"). */
		return 0;
	case XSW_TRANSACTION_END:
		return parse_txn_end(hdr, body, req);
	case XSW_INTRODUCE:
		return parse_introduce(hdr, body, req);
	case XSW_RELEASE:
	case XSW_RESUME:
	case XSW_GET_DOMAIN_PATH:
	case XSW_IS_DOMAIN_INTRODUCED:
		return parse_domain(hdr, body, req);
	case XSW_SET_PERMS:
		return parse_set_perms(hdr, body, req);
	case XSW_SET_TARGET:
		return parse_set_target(hdr, body, req);
	case XSW_DIRECTORY_PART:
		return parse_dir_part(hdr, body, req);
	case XSW_GET_FEATURE:
		return parse_get_feature(hdr, body, req);
	case XSW_SET_FEATURE:
		return parse_set_feature(hdr, body, req);
	case XSW_GET_QUOTA:
		return parse_get_quota(hdr, body, req);
	case XSW_SET_QUOTA:
		return parse_set_quota(hdr, body, req);
	case XSW_CONTROL:
		return parse_control(hdr, body, req);
	default:
		/*
		 * WATCH_EVENT and ERROR are replies, RESTRICT was removed,
		 * anything past SET_QUOTA is unknown: cxenstored's
		 * process_message() answers ENOSYS for all of these since
		 * their wire_funcs[] entries have no handler.
		 */
		return -ENOSYS;
	}
}
