#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "protocol/msg.h"

static struct xsw_request req;
static char buf[XSW_PAYLOAD_MAX + 1];

static int parse(uint32_t type, const char *body, uint32_t len)
{
	struct xsw_hdr h = { type, 7, 3, len };

	memcpy(buf, body, len);
	buf[len] = '\0'; /* as the reader leaves it */
	return xsw_request_parse(&h, buf, &req);
}

/* String literal with embedded NULs, length without the C terminator. */
#define P(type, lit) parse((type), (lit), sizeof(lit) - 1)

static const uint32_t path_types[] = { XSW_READ, XSW_DIRECTORY,
				       XSW_GET_PERMS, XSW_MKDIR, XSW_RM };

Test(request, one_path_types)
{
	for (size_t i = 0; i < 5; i++) {
		uint32_t t = path_types[i];

		cr_assert_eq(P(t, "/a/b\0"), 0);
		cr_assert_str_eq(req.u.path.path, "/a/b");
		cr_assert_eq(req.hdr.type, t);
		cr_assert_eq(req.hdr.req_id, 7);
		cr_assert_eq(req.hdr.tx_id, 3);
		cr_assert_eq(P(t, "rel\0"), 0, "relative is resolved later");
		cr_assert_eq(P(t, ""), -EINVAL, "empty payload");
		cr_assert_eq(P(t, "/a"), -EINVAL, "unterminated");
		cr_assert_eq(P(t, "/a\0b\0"), -EINVAL, "two args");
		cr_assert_eq(P(t, "/a\0b"), -EINVAL, "bytes after the NUL");
		cr_assert_eq(P(t, "/a\0\0"), -EINVAL);
	}
}

Test(request, write)
{
	cr_assert_eq(P(XSW_WRITE, "/a\0value"), 0);
	cr_assert_str_eq(req.u.write.path, "/a");
	cr_assert_eq(req.u.write.len, 5);
	cr_assert_eq(memcmp(req.u.write.value, "value", 5), 0);

	cr_assert_eq(P(XSW_WRITE, "/a\0"), 0);
	cr_assert_eq(req.u.write.len, 0);

	cr_assert_eq(P(XSW_WRITE, "/a\0v\0w\0"), 0, "binary value");
	cr_assert_eq(req.u.write.len, 4);
	cr_assert_eq(memcmp(req.u.write.value, "v\0w\0", 4), 0);

	cr_assert_eq(P(XSW_WRITE, "/a"), -EINVAL);
	cr_assert_eq(P(XSW_WRITE, ""), -EINVAL);
}

Test(request, watch)
{
	cr_assert_eq(P(XSW_WATCH, "/a\0tok\0"), 0);
	cr_assert_str_eq(req.u.watch.path, "/a");
	cr_assert_str_eq(req.u.watch.token, "tok");
	cr_assert_eq(req.u.watch.depth, -1);

	cr_assert_eq(P(XSW_WATCH, "@introduceDomain\0\0"), 0, "empty token");
	cr_assert_str_eq(req.u.watch.token, "");

	cr_assert_eq(P(XSW_WATCH, "/a\0tok\0" "0\0"), 0);
	cr_assert_eq(req.u.watch.depth, 0);
	cr_assert_eq(P(XSW_WATCH, "/a\0tok\0" "12\0"), 0);
	cr_assert_eq(req.u.watch.depth, 12);
	cr_assert_eq(P(XSW_WATCH, "/a\0tok\0junk"), 0,
		     "unterminated tail ignored as cxenstored");
	cr_assert_eq(req.u.watch.depth, -1);

	cr_assert_eq(P(XSW_WATCH, "/a\0tok\0-1\0"), -EINVAL);
	cr_assert_eq(P(XSW_WATCH, "/a\0tok\0x\0"), -EINVAL);
	cr_assert_eq(P(XSW_WATCH, "/a\0tok\0\0"), -EINVAL, "empty depth");
	cr_assert_eq(P(XSW_WATCH, "/a\0tok\0" "2147483648\0"), -EINVAL);
	cr_assert_eq(P(XSW_WATCH, "/a\0tok\0" "1\0x\0"), -EINVAL);
	cr_assert_eq(P(XSW_WATCH, "/a\0tok"), -EINVAL);
	cr_assert_eq(P(XSW_WATCH, "/a\0"), -EINVAL);
	cr_assert_eq(P(XSW_WATCH, ""), -EINVAL);
}

Test(request, unwatch)
{
	cr_assert_eq(P(XSW_UNWATCH, "/a\0tok\0"), 0);
	cr_assert_str_eq(req.u.watch.path, "/a");
	cr_assert_str_eq(req.u.watch.token, "tok");
	cr_assert_eq(P(XSW_UNWATCH, "/a\0tok\0" "1\0"), -EINVAL);
	cr_assert_eq(P(XSW_UNWATCH, "/a\0"), -EINVAL);
	cr_assert_eq(P(XSW_UNWATCH, "/a\0tok"), -EINVAL);
}

Test(request, payload_ignored)
{
	cr_assert_eq(P(XSW_TRANSACTION_START, ""), 0);
	cr_assert_eq(P(XSW_TRANSACTION_START, "\0"), 0);
	cr_assert_eq(P(XSW_RESET_WATCHES, ""), 0);
	cr_assert_eq(P(XSW_RESET_WATCHES, "\0"), 0);
}

Test(request, transaction_end)
{
	cr_assert_eq(P(XSW_TRANSACTION_END, "T\0"), 0);
	cr_assert(req.u.txn_end.commit);
	cr_assert_eq(P(XSW_TRANSACTION_END, "F\0"), 0);
	cr_assert_not(req.u.txn_end.commit);
	cr_assert_eq(P(XSW_TRANSACTION_END, "T"), -EINVAL);
	cr_assert_eq(P(XSW_TRANSACTION_END, "t\0"), -EINVAL);
	cr_assert_eq(P(XSW_TRANSACTION_END, "TRUE\0"), -EINVAL);
	cr_assert_eq(P(XSW_TRANSACTION_END, "T\0F\0"), -EINVAL);
	cr_assert_eq(P(XSW_TRANSACTION_END, "\0"), -EINVAL);
	cr_assert_eq(P(XSW_TRANSACTION_END, ""), -EINVAL);
}

Test(request, introduce)
{
	cr_assert_eq(P(XSW_INTRODUCE, "5\0" "1234567\0" "9\0"), 0);
	cr_assert_eq(req.u.introduce.domid, 5);
	cr_assert_eq(req.u.introduce.mfn, 1234567);
	cr_assert_eq(req.u.introduce.port, 9);
	cr_assert_eq(P(XSW_INTRODUCE, "5\0" "18446744073709551615\0" "9\0\0"),
		     0, "reserved fourth string");
	cr_assert_eq(req.u.introduce.mfn, UINT64_MAX);
	cr_assert_eq(P(XSW_INTRODUCE, "5\0" "18446744073709551616\0" "9\0"),
		     -EINVAL);
	cr_assert_eq(P(XSW_INTRODUCE, "5\0" "1\0"), -EINVAL);
	cr_assert_eq(P(XSW_INTRODUCE, "5\0" "1\0" "9"), -EINVAL);
	cr_assert_eq(P(XSW_INTRODUCE, "65536\0" "1\0" "9\0"), -EINVAL);
	cr_assert_eq(P(XSW_INTRODUCE, "x\0" "1\0" "9\0"), -EINVAL);
	cr_assert_eq(P(XSW_INTRODUCE, "5\0" "-1\0" "9\0"), -EINVAL);
	cr_assert_eq(P(XSW_INTRODUCE, "5\0" "1\0" "4294967296\0"), -EINVAL);
}

Test(request, one_domid_types)
{
	static const uint32_t types[] = { XSW_RELEASE, XSW_RESUME,
					  XSW_GET_DOMAIN_PATH,
					  XSW_IS_DOMAIN_INTRODUCED };

	for (size_t i = 0; i < 4; i++) {
		uint32_t t = types[i];

		cr_assert_eq(P(t, "7\0"), 0);
		cr_assert_eq(req.u.domain.domid, 7);
		cr_assert_eq(P(t, "65535\0"), 0);
		cr_assert_eq(req.u.domain.domid, 65535);
		cr_assert_eq(P(t, "65536\0"), -EINVAL);
		cr_assert_eq(P(t, "-1\0"), -EINVAL);
		cr_assert_eq(P(t, "7x\0"), -EINVAL);
		cr_assert_eq(P(t, "7"), -EINVAL);
		cr_assert_eq(P(t, "7\0" "8\0"), -EINVAL);
		cr_assert_eq(P(t, "\0"), -EINVAL);
		cr_assert_eq(P(t, ""), -EINVAL);
	}
}

Test(request, set_perms)
{
	cr_assert_eq(P(XSW_SET_PERMS, "/a\0" "b0\0" "r5\0"), 0);
	cr_assert_str_eq(req.u.set_perms.path, "/a");
	cr_assert_eq(req.u.set_perms.n, 2);
	cr_assert_str_eq(req.u.set_perms.perms[0], "b0");
	cr_assert_str_eq(req.u.set_perms.perms[1], "r5");
	cr_assert_eq(P(XSW_SET_PERMS, "/a\0" "n0\0" "r5"), 0,
		     "unterminated tail ignored");
	cr_assert_eq(req.u.set_perms.n, 1);

	cr_assert_eq(P(XSW_SET_PERMS, "/a\0"), -EINVAL, "no perms");
	cr_assert_eq(P(XSW_SET_PERMS, "/a\0" "r5"), -EINVAL);
	cr_assert_eq(P(XSW_SET_PERMS, "/a\0" "x5\0"), -EINVAL);
	cr_assert_eq(P(XSW_SET_PERMS, "/a\0" "r\0"), -EINVAL);
	cr_assert_eq(P(XSW_SET_PERMS, "/a\0" "b0\0" "r70000\0"), -EINVAL);
	cr_assert_eq(P(XSW_SET_PERMS, "/a\0" "b0\0" "\0"), -EINVAL);
}

Test(request, set_perms_many)
{
	char body[XSW_PAYLOAD_MAX];
	uint32_t len = 0;
	int n = 0;

	memcpy(body, "/a", 3);
	len = 3;
	while (len + 3 <= XSW_PAYLOAD_MAX) {
		memcpy(body + len, "r1", 3);
		len += 3;
		n++;
	}
	cr_assert_eq(parse(XSW_SET_PERMS, body, len), 0);
	cr_assert_eq(req.u.set_perms.n, n);
}

Test(request, set_target)
{
	cr_assert_eq(P(XSW_SET_TARGET, "3\0" "4\0"), 0);
	cr_assert_eq(req.u.set_target.domid, 3);
	cr_assert_eq(req.u.set_target.target, 4);
	cr_assert_eq(P(XSW_SET_TARGET, "3\0"), -EINVAL);
	cr_assert_eq(P(XSW_SET_TARGET, "3\0" "4"), -EINVAL);
	cr_assert_eq(P(XSW_SET_TARGET, "3\0" "x\0"), -EINVAL);
}

Test(request, directory_part)
{
	cr_assert_eq(P(XSW_DIRECTORY_PART, "/a\0" "100\0"), 0);
	cr_assert_str_eq(req.u.dir_part.path, "/a");
	cr_assert_eq(req.u.dir_part.offset, 100);
	cr_assert_eq(P(XSW_DIRECTORY_PART, "/a\0" "0\0"), 0);
	cr_assert_eq(req.u.dir_part.offset, 0);
	cr_assert_eq(P(XSW_DIRECTORY_PART, "/a\0"), -EINVAL);
	cr_assert_eq(P(XSW_DIRECTORY_PART, "/a\0" "1"), -EINVAL);
	cr_assert_eq(P(XSW_DIRECTORY_PART, "/a\0" "x\0"), -EINVAL);
	cr_assert_eq(P(XSW_DIRECTORY_PART, "/a\0" "1\0" "2\0"), -EINVAL);
}

Test(request, get_feature)
{
	cr_assert_eq(P(XSW_GET_FEATURE, ""), 0);
	cr_assert_not(req.u.get_feature.has_domid);
	cr_assert_eq(P(XSW_GET_FEATURE, "3\0"), 0);
	cr_assert(req.u.get_feature.has_domid);
	cr_assert_eq(req.u.get_feature.domid, 3);
	cr_assert_eq(P(XSW_GET_FEATURE, "3\0" "4\0"), -EINVAL);
	cr_assert_eq(P(XSW_GET_FEATURE, "x\0"), -EINVAL);
}

Test(request, set_feature)
{
	cr_assert_eq(P(XSW_SET_FEATURE, "3\0" "5\0"), 0);
	cr_assert(req.u.set_feature.has_domid);
	cr_assert_eq(req.u.set_feature.domid, 3);
	cr_assert_eq(req.u.set_feature.features, 5);
	cr_assert_eq(P(XSW_SET_FEATURE, "5\0"), -EINVAL);
	cr_assert_eq(P(XSW_SET_FEATURE, "3\0" "5\0" "6\0"), -EINVAL);
	cr_assert_eq(P(XSW_SET_FEATURE, "3\0" "x\0"), -EINVAL);
	cr_assert_eq(P(XSW_SET_FEATURE, ""), -EINVAL);
}

Test(request, get_quota)
{
	cr_assert_eq(P(XSW_GET_QUOTA, ""), 0);
	cr_assert_null(req.u.get_quota.name);
	cr_assert_not(req.u.get_quota.has_domid);
	cr_assert_eq(P(XSW_GET_QUOTA, "nodes\0"), 0);
	cr_assert_str_eq(req.u.get_quota.name, "nodes");
	cr_assert_not(req.u.get_quota.has_domid);
	cr_assert_eq(P(XSW_GET_QUOTA, "2\0" "soft-memory\0"), 0);
	cr_assert(req.u.get_quota.has_domid);
	cr_assert_eq(req.u.get_quota.domid, 2);
	cr_assert_str_eq(req.u.get_quota.name, "soft-memory");
	cr_assert_eq(P(XSW_GET_QUOTA, "x\0" "nodes\0"), -EINVAL);
	cr_assert_eq(P(XSW_GET_QUOTA, "1\0" "nodes\0" "x\0"), -EINVAL);
}

Test(request, set_quota)
{
	cr_assert_eq(P(XSW_SET_QUOTA, "nodes\0" "100\0"), 0);
	cr_assert_not(req.u.set_quota.has_domid);
	cr_assert_str_eq(req.u.set_quota.name, "nodes");
	cr_assert_eq(req.u.set_quota.value, 100);
	cr_assert_eq(P(XSW_SET_QUOTA, "4\0" "watches\0" "0\0"), 0);
	cr_assert(req.u.set_quota.has_domid);
	cr_assert_eq(req.u.set_quota.domid, 4);
	cr_assert_str_eq(req.u.set_quota.name, "watches");
	cr_assert_eq(req.u.set_quota.value, 0);
	cr_assert_eq(P(XSW_SET_QUOTA, "nodes\0"), -EINVAL);
	cr_assert_eq(P(XSW_SET_QUOTA, "nodes\0" "-1\0"), -EINVAL);
	cr_assert_eq(P(XSW_SET_QUOTA, "nodes\0" "1"), -EINVAL);
	cr_assert_eq(P(XSW_SET_QUOTA, "x\0" "nodes\0" "1\0"), -EINVAL);
	cr_assert_eq(P(XSW_SET_QUOTA, "1\0" "nodes\0" "1\0" "1\0"), -EINVAL);
}

Test(request, control)
{
	cr_assert_eq(P(XSW_CONTROL, "help\0"), 0);
	cr_assert_eq(req.u.control.argc, 1);
	cr_assert_str_eq(req.u.control.argv[0], "help");
	cr_assert_eq(P(XSW_CONTROL, "log\0" "on\0"), 0);
	cr_assert_eq(req.u.control.argc, 2);
	cr_assert_str_eq(req.u.control.argv[1], "on");
	cr_assert_eq(P(XSW_CONTROL, "help"), -EINVAL);
	cr_assert_eq(P(XSW_CONTROL, ""), -EINVAL);
}

Test(request, unknown_types_enosys)
{
	static const uint32_t types[] = { XSW_WATCH_EVENT, XSW_ERROR,
					  XSW_RESTRICT, XSW_TYPE_COUNT, 100,
					  XSW_INVALID, UINT32_MAX };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		cr_assert_eq(P(types[i], "/a\0tok\0"), -ENOSYS, "type %u",
			     types[i]);
}

/* One well-formed request per type, and its reply encodes. */
Test(request, every_type_parses_and_replies)
{
	static const struct {
		uint32_t type;
		const char *body;
		uint32_t len;
		const char *reply;
		uint32_t rlen;
	} cases[] = {
#define C(t, b, r) { t, b, sizeof(b) - 1, r, sizeof(r) - 1 }
		C(XSW_CONTROL, "print\0hi\0", "OK\0"),
		C(XSW_DIRECTORY, "/\0", "tool\0"),
		C(XSW_READ, "/a\0", "value"),
		C(XSW_GET_PERMS, "/a\0", "n0\0r1\0"),
		C(XSW_WATCH, "/a\0t\0", "OK\0"),
		C(XSW_UNWATCH, "/a\0t\0", "OK\0"),
		C(XSW_TRANSACTION_START, "\0", "12\0"),
		C(XSW_TRANSACTION_END, "T\0", "OK\0"),
		C(XSW_INTRODUCE, "1\0" "2\0" "3\0", "OK\0"),
		C(XSW_RELEASE, "1\0", "OK\0"),
		C(XSW_GET_DOMAIN_PATH, "1\0", "/local/domain/1\0"),
		C(XSW_WRITE, "/a\0v", "OK\0"),
		C(XSW_MKDIR, "/a\0", "OK\0"),
		C(XSW_RM, "/a\0", "OK\0"),
		C(XSW_SET_PERMS, "/a\0n0\0", "OK\0"),
		C(XSW_IS_DOMAIN_INTRODUCED, "1\0", "T\0"),
		C(XSW_RESUME, "1\0", "OK\0"),
		C(XSW_SET_TARGET, "1\0" "2\0", "OK\0"),
		C(XSW_RESET_WATCHES, "", "OK\0"),
		C(XSW_DIRECTORY_PART, "/\0" "0\0", "5\0tool\0\0"),
		C(XSW_GET_FEATURE, "", "7\0"),
		C(XSW_SET_FEATURE, "1\0" "3\0", "OK\0"),
		C(XSW_GET_QUOTA, "", "nodes watches\0"),
		C(XSW_SET_QUOTA, "nodes\0" "9\0", "OK\0"),
#undef C
	};
	static uint8_t out[XSW_HDR_SIZE + XSW_PAYLOAD_MAX];
	bool seen[XSW_TYPE_COUNT] = { false };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xsw_hdr h;

		cr_assert_eq(parse(cases[i].type, cases[i].body, cases[i].len),
			     0, "%s", xsw_type_name(cases[i].type));
		seen[cases[i].type] = true;
		size_t n = xsw_encode(cases[i].type, req.hdr.req_id,
				      req.hdr.tx_id, cases[i].reply,
				      cases[i].rlen, out);

		cr_assert_eq(n, XSW_HDR_SIZE + cases[i].rlen);
		memcpy(&h, out, sizeof(h));
		cr_assert_eq(h.type, cases[i].type);
		cr_assert_eq(h.req_id, 7);
		cr_assert_eq(h.tx_id, 3);
		cr_assert_eq(memcmp(out + 16, cases[i].reply, cases[i].rlen), 0);
	}
	for (uint32_t t = 0; t < XSW_TYPE_COUNT; t++) {
		if (t == XSW_WATCH_EVENT || t == XSW_ERROR || t == XSW_RESTRICT)
			continue;
		cr_assert(seen[t], "type %u has no case", t);
	}
}

/* Hostile payloads: parse never fails otherwise, never points outside. */
Test(request, random_payloads_stay_in_bounds)
{
	static const char alphabet[] = { '\0', '\0', '\0', '/', 'a', '1', '0',
					 '-', 'T', 'F', 'r', 'b', '@', 'x' };
	uint32_t seed = 12345;

	for (int iter = 0; iter < 20000; iter++) {
		uint32_t len, type;
		char body[64];

		seed = seed * 1103515245u + 12345u;
		type = (seed >> 8) % (XSW_TYPE_COUNT + 2);
		len = (seed >> 16) % sizeof(body);
		for (uint32_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			body[i] = alphabet[(seed >> 16) % sizeof(alphabet)];
		}
		int r = parse(type, body, len);

		cr_assert(r == 0 || r == -EINVAL || r == -ENOSYS,
			  "type %u ret %d", type, r);
		if (r)
			continue;
		const char *lo = buf, *hi = buf + len;
		const char *ptrs[3] = { NULL, NULL, NULL };

		switch (type) {
		case XSW_READ: case XSW_DIRECTORY: case XSW_GET_PERMS:
		case XSW_MKDIR: case XSW_RM:
			ptrs[0] = req.u.path.path;
			break;
		case XSW_WRITE:
			ptrs[0] = req.u.write.path;
			cr_assert_eq(req.u.write.value + req.u.write.len, hi);
			break;
		case XSW_WATCH: case XSW_UNWATCH:
			ptrs[0] = req.u.watch.path;
			ptrs[1] = req.u.watch.token;
			break;
		case XSW_SET_PERMS:
			ptrs[0] = req.u.set_perms.path;
			ptrs[1] = req.u.set_perms.perms[req.u.set_perms.n - 1];
			break;
		case XSW_GET_QUOTA:
			ptrs[0] = req.u.get_quota.name;
			break;
		case XSW_SET_QUOTA:
			ptrs[0] = req.u.set_quota.name;
			break;
		case XSW_CONTROL:
			ptrs[0] = req.u.control.argv[req.u.control.argc - 1];
			break;
		}
		for (int i = 0; i < 3; i++) {
			if (!ptrs[i])
				continue;
			cr_assert(ptrs[i] >= lo && ptrs[i] < hi, "type %u", type);
			cr_assert(ptrs[i] + strlen(ptrs[i]) < hi,
				  "argument must end inside the payload");
		}
	}
}
