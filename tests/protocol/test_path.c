#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "protocol/path.h"

static char out[XSW_PATH_BUF];

static int res(uint32_t domid, const char *in, bool special)
{
	memset(out, 0, sizeof(out));
	return xsw_path_resolve(domid, in, special, out);
}

Test(path, valid_absolute)
{
	static const char *ok[] = { "/", "/a", "/a/b", "/tool/xenstored",
				    "/AZaz09-_@", "/a@b/c-d/e_f" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(res(3, ok[i], false), 0, "%s", ok[i]);
		cr_assert_str_eq(out, ok[i]);
	}
}

Test(path, invalid_characters)
{
	static const char *bad[] = { "/a b", "/a.b", "/a:b", "/a*", "/a\\b",
				     "/a\tb", "/\xc3\xa9", "/a+b", "/a,b",
				     "/a~", "/a\n" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(res(0, bad[i], true), -EINVAL, "%s", bad[i]);
}

Test(path, slashes_and_empty)
{
	cr_assert_eq(res(0, "", true), -EINVAL);
	cr_assert_eq(res(0, NULL, true), -EINVAL);
	cr_assert_eq(res(0, "//", false), -EINVAL);
	cr_assert_eq(res(0, "/a//b", false), -EINVAL);
	cr_assert_eq(res(0, "//a", false), -EINVAL);
	cr_assert_eq(res(0, "/a/", false), -EINVAL);
	cr_assert_eq(res(0, "a/", false), -EINVAL);
	cr_assert_eq(res(0, "a//b", false), -EINVAL);
}

Test(path, relative)
{
	cr_assert_eq(res(7, "device/vif/0", false), 0);
	cr_assert_str_eq(out, "/local/domain/7/device/vif/0");
	cr_assert_eq(res(0, "x", false), 0);
	cr_assert_str_eq(out, "/local/domain/0/x");
	cr_assert_eq(res(65535, "x", false), 0);
	cr_assert_str_eq(out, "/local/domain/65535/x");
}

static char long_in[XSW_ABS_PATH_MAX + 8];

static const char *make_path(size_t len, bool absolute)
{
	memset(long_in, 'x', len);
	long_in[len] = '\0';
	if (absolute)
		long_in[0] = '/';
	/* a slash now and then, never doubled nor trailing */
	for (size_t i = 2; i + 2 < len; i += 100)
		long_in[i] = '/';
	return long_in;
}

/* Boundaries as Xen 4.17's cxenstored answers them to dom0. */
Test(path, length_limit_outside_domain_dirs)
{
	cr_assert_eq(res(0, make_path(XSW_REL_PATH_MAX, true), false), 0);
	cr_assert_eq(strlen(out), XSW_REL_PATH_MAX);
	cr_assert_eq(res(0, make_path(XSW_REL_PATH_MAX + 1, true), false),
		     -EINVAL);
	cr_assert_eq(res(0, make_path(XSW_ABS_PATH_MAX, true), false),
		     -EINVAL);
}

static const char *local_path(const char *prefix, size_t below)
{
	static char b[XSW_ABS_PATH_MAX + 64];
	size_t n = strlen(prefix);

	memcpy(b, prefix, n);
	memcpy(b + n, make_path(below, false), below + 1);
	return b;
}

Test(path, length_limit_below_domain_prefix)
{
	const char *p = local_path("/local/domain/5/", XSW_REL_PATH_MAX);

	cr_assert_eq(res(0, p, false), 0);
	cr_assert_str_eq(out, p);
	cr_assert_eq(res(0, local_path("/local/domain/5/",
				       XSW_REL_PATH_MAX + 1), false), -EINVAL);
	cr_assert_eq(res(0, local_path("/local/domain/65535/",
				       XSW_REL_PATH_MAX), false), 0);
	/* Six digits are no domain prefix: the whole path counts. */
	cr_assert_eq(res(0, local_path("/local/domain/123456/",
				       XSW_REL_PATH_MAX - 21), false), 0);
	cr_assert_eq(res(0, local_path("/local/domain/123456/",
				       XSW_REL_PATH_MAX - 20), false), -EINVAL);
}

Test(path, relative_length_limit)
{
	cr_assert_eq(res(65535, make_path(XSW_REL_PATH_MAX, false), false), 0);
	cr_assert_eq(strlen(out), strlen("/local/domain/65535/") +
				  XSW_REL_PATH_MAX);
	cr_assert_eq(res(0, make_path(XSW_REL_PATH_MAX + 1, false), false),
		     -EINVAL);
}

Test(path, quota_and_absolute_limit)
{
	/* A raised quota still stops at XSW_ABS_PATH_MAX. */
	cr_assert_eq(xsw_path_resolve_max(0, make_path(XSW_ABS_PATH_MAX, true),
					  false, 10000, out), 0);
	cr_assert_eq(xsw_path_resolve_max(0,
					  make_path(XSW_ABS_PATH_MAX + 1, true),
					  false, 10000, out), -EINVAL);
	cr_assert_eq(xsw_path_resolve_max(3, "abcd", false, 4, out), 0);
	cr_assert_str_eq(out, "/local/domain/3/abcd");
	cr_assert_eq(xsw_path_resolve_max(3, "abcde", false, 4, out), -EINVAL);
	cr_assert_eq(xsw_path_resolve_max(3, "/abc", false, 4, out), 0);
	cr_assert_eq(xsw_path_resolve_max(3, "/abcd", false, 4, out), -EINVAL);
	cr_assert_eq(xsw_path_resolve_max(3, "@abc", true, 4, out), 0);
	cr_assert_eq(xsw_path_resolve_max(3, "@abcd", true, 4, out), -EINVAL);
}

Test(path, special)
{
	cr_assert_eq(res(5, "@introduceDomain", true), 0);
	cr_assert_str_eq(out, "@introduceDomain", "not made relative");
	cr_assert_eq(res(5, "@releaseDomain/7", true), 0);
	cr_assert_str_eq(out, "@releaseDomain/7");
	cr_assert_eq(res(5, "@introduceDomain", false), -EINVAL);
	cr_assert_eq(res(5, "@releaseDomain/", true), -EINVAL);
	cr_assert_eq(res(5, "@a//b", true), -EINVAL);
	cr_assert(xsw_path_is_special("@x"));
	cr_assert_not(xsw_path_is_special("/@x"));
	cr_assert_not(xsw_path_is_special("x"));
}

Test(path, domain_path)
{
	char b[32];

	cr_assert_eq(xsw_domain_path(0, b, sizeof(b)), 15);
	cr_assert_str_eq(b, "/local/domain/0");
	cr_assert_eq(xsw_domain_path(32752, b, sizeof(b)), 19);
	cr_assert_str_eq(b, "/local/domain/32752");
}

Test(path, relative_to)
{
	cr_assert_str_eq(xsw_path_relative_to(7, "/local/domain/7/a/b"), "a/b");
	cr_assert_null(xsw_path_relative_to(7, "/local/domain/70/a"));
	cr_assert_null(xsw_path_relative_to(7, "/local/domain/7"));
	cr_assert_null(xsw_path_relative_to(7, "/local/domain/7/"));
	cr_assert_null(xsw_path_relative_to(7, "/tool/x"));
	cr_assert_null(xsw_path_relative_to(7, "@releaseDomain"));
}

Test(path, is_under)
{
	cr_assert(xsw_path_is_under("/a/b", "/a"));
	cr_assert(xsw_path_is_under("/a", "/a"));
	cr_assert(xsw_path_is_under("/a/b/c", "/a/b"));
	cr_assert(xsw_path_is_under("/x", "/"));
	cr_assert(xsw_path_is_under("/", "/"));
	cr_assert_not(xsw_path_is_under("/ab", "/a"));
	cr_assert_not(xsw_path_is_under("/a", "/a/b"));
	cr_assert_not(xsw_path_is_under("@releaseDomain", "/"));
	cr_assert(xsw_path_is_under("@releaseDomain/3", "@releaseDomain"));
	cr_assert_not(xsw_path_is_under("@releaseDomainX", "@releaseDomain"));
}

Test(path, depth)
{
	cr_assert_eq(xsw_path_depth("/"), 0);
	cr_assert_eq(xsw_path_depth("/a"), 1);
	cr_assert_eq(xsw_path_depth("/a/b"), 2);
	cr_assert_eq(xsw_path_depth("/local/domain/1/x"), 4);
	cr_assert_eq(xsw_path_depth("@releaseDomain"), 0);
	cr_assert_eq(xsw_path_depth("@releaseDomain/1"), 0);
}

Test(path, local_len)
{
	cr_assert_eq(xsw_path_local_len("/local/domain/7/abc"), 3);
	cr_assert_eq(xsw_path_local_len("/local/domain/65535/a/b"), 3);
	cr_assert_eq(xsw_path_local_len("/tool/x"), 7);
	cr_assert_eq(xsw_path_local_len("/local/domain/7"), 15);
	cr_assert_eq(xsw_path_local_len("/local/domain/123456/x"), 22,
		     "more than 5 digits is no domain prefix");
	cr_assert_eq(xsw_path_local_len("/local/domain/x/y"), 17);
}
