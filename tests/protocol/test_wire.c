#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "protocol/msg.h"

Test(wire, type_names_match_xs_wire)
{
	cr_assert_str_eq(xsw_type_name(XSW_CONTROL), "CONTROL");
	cr_assert_str_eq(xsw_type_name(XSW_WRITE), "WRITE");
	cr_assert_str_eq(xsw_type_name(XSW_WATCH_EVENT), "WATCH_EVENT");
	cr_assert_str_eq(xsw_type_name(XSW_RESET_WATCHES), "RESET_WATCHES");
	cr_assert_str_eq(xsw_type_name(XSW_DIRECTORY_PART), "DIRECTORY_PART");
	cr_assert_str_eq(xsw_type_name(XSW_SET_QUOTA), "SET_QUOTA");
	cr_assert_null(xsw_type_name(XSW_RESTRICT));
	cr_assert_null(xsw_type_name(XSW_TYPE_COUNT));
	cr_assert_null(xsw_type_name(XSW_INVALID));
	for (uint32_t t = 0; t < XSW_TYPE_COUNT; t++)
		if (t != XSW_RESTRICT)
			cr_assert_not_null(xsw_type_name(t), "type %u", t);
}

Test(wire, error_names_round_trip)
{
	static const int errs[] = { EINVAL, EACCES, EEXIST, EISDIR, ENOENT,
				    ENOMEM, ENOSPC, EIO, ENOTEMPTY, ENOSYS,
				    EROFS, EBUSY, EAGAIN, EISCONN, E2BIG,
				    EPERM };

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		const char *n = xsw_error_name(errs[i]);

		cr_assert_eq(n[0], 'E');
		cr_assert_eq(xsw_error_from_name(n), errs[i], "%s", n);
		cr_assert_str_eq(xsw_error_name(-errs[i]), n);
	}
	cr_assert_str_eq(xsw_error_name(ENOENT), "ENOENT");
	cr_assert_str_eq(xsw_error_name(EAGAIN), "EAGAIN");
}

Test(wire, unknown_errors)
{
	cr_assert_str_eq(xsw_error_name(ENOTDIR), "EINVAL");
	cr_assert_str_eq(xsw_error_name(0), "EINVAL");
	cr_assert_eq(xsw_error_from_name("ENOTDIR"), 0);
	cr_assert_eq(xsw_error_from_name("enoent"), 0);
	cr_assert_eq(xsw_error_from_name(""), 0);
	cr_assert_eq(xsw_error_from_name(NULL), 0);
}

Test(wire, header_layout)
{
	cr_assert_eq(sizeof(struct xsw_hdr), XSW_HDR_SIZE);
	cr_assert_eq(sizeof(struct xsw_ring_page), 2080);
}

Test(wire, parse_u32)
{
	uint32_t v = 99;

	cr_assert_eq(xsw_parse_u32("0", &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(xsw_parse_u32("4294967295", &v), 0);
	cr_assert_eq(v, UINT32_MAX);
	cr_assert_eq(xsw_parse_u32("007", &v), 0);
	cr_assert_eq(v, 7);
	v = 5;
	cr_assert_eq(xsw_parse_u32("4294967296", &v), -EINVAL);
	cr_assert_eq(xsw_parse_u32("99999999999999999999", &v), -EINVAL);
	cr_assert_eq(xsw_parse_u32("", &v), -EINVAL);
	cr_assert_eq(xsw_parse_u32("-1", &v), -EINVAL);
	cr_assert_eq(xsw_parse_u32("+1", &v), -EINVAL);
	cr_assert_eq(xsw_parse_u32(" 1", &v), -EINVAL);
	cr_assert_eq(xsw_parse_u32("1 ", &v), -EINVAL);
	cr_assert_eq(xsw_parse_u32("0x10", &v), -EINVAL);
	cr_assert_eq(v, 5, "failed parse must not store");
}

Test(wire, parse_domid)
{
	uint32_t v;

	cr_assert_eq(xsw_parse_domid("65535", &v), 0);
	cr_assert_eq(v, 65535);
	cr_assert_eq(xsw_parse_domid("32752", &v), 0); /* DOMID_SELF */
	cr_assert_eq(xsw_parse_domid("65536", &v), -EINVAL);
	cr_assert_eq(xsw_parse_domid("x", &v), -EINVAL);
}
