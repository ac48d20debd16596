#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "protocol/perms.h"

Test(perms, parse_valid)
{
	struct xsw_perm p;

	cr_assert_eq(xsw_perm_parse("r5", &p), 0);
	cr_assert_eq(p.domid, 5);
	cr_assert_eq(p.perms, XSW_PERM_READ);
	cr_assert_eq(xsw_perm_parse("w0", &p), 0);
	cr_assert_eq(p.perms, XSW_PERM_WRITE);
	cr_assert_eq(xsw_perm_parse("b65535", &p), 0);
	cr_assert_eq(p.perms, XSW_PERM_BOTH);
	cr_assert_eq(p.domid, 65535);
	cr_assert_eq(xsw_perm_parse("n3", &p), 0);
	cr_assert_eq(p.perms, XSW_PERM_NONE);
	cr_assert_eq(p.domid, 3);
}

Test(perms, parse_invalid)
{
	static const char *bad[] = { "", "r", "x5", "R5", "r-1", "r65536",
				     "r5x", "r 5", "r0x10", " r5", "rw5",
				     "b+1" };
	struct xsw_perm p = { 42, XSW_PERM_BOTH };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(xsw_perm_parse(bad[i], &p), -EINVAL, "'%s'",
			     bad[i]);
	cr_assert_eq(p.domid, 42, "failed parse must not store");
}

Test(perms, format_one)
{
	char b[12];
	struct xsw_perm p = { 5, XSW_PERM_READ };

	cr_assert_eq(xsw_perm_format(&p, b), 2);
	cr_assert_str_eq(b, "r5");
	p = (struct xsw_perm){ 65535, XSW_PERM_BOTH };
	cr_assert_eq(xsw_perm_format(&p, b), 6);
	cr_assert_str_eq(b, "b65535");
	p = (struct xsw_perm){ 0, XSW_PERM_NONE };
	cr_assert_str_eq((xsw_perm_format(&p, b), b), "n0");
	p = (struct xsw_perm){ 12, XSW_PERM_WRITE };
	cr_assert_str_eq((xsw_perm_format(&p, b), b), "w12");
	p = (struct xsw_perm){ 3, XSW_PERM_READ | XSW_PERM_IGNORE };
	cr_assert_str_eq((xsw_perm_format(&p, b), b), "r3");
	p = (struct xsw_perm){ UINT32_MAX, XSW_PERM_BOTH };
	cr_assert_eq(xsw_perm_format(&p, b), 11);
	cr_assert_str_eq(b, "b4294967295");
}

Test(perms, round_trip)
{
	static const char *s[] = { "n0", "r1", "w2", "b3", "r65535" };
	struct xsw_perm p;
	char b[12];

	for (size_t i = 0; i < 5; i++) {
		cr_assert_eq(xsw_perm_parse(s[i], &p), 0);
		xsw_perm_format(&p, b);
		cr_assert_str_eq(b, s[i]);
	}
}

Test(perms, format_list)
{
	struct xsw_perm p[] = { { 0, XSW_PERM_NONE }, { 1, XSW_PERM_READ } };
	char b[16];

	cr_assert_eq(xsw_perms_format(p, 2, b, sizeof(b)), 6);
	cr_assert_eq(memcmp(b, "n0\0r1\0", 6), 0);
	cr_assert_eq(xsw_perms_format(p, 2, b, 6), 6, "exact fit");
	cr_assert_eq(xsw_perms_format(p, 2, b, 5), -E2BIG);
	cr_assert_eq(xsw_perms_format(p, 0, b, 0), 0);
}

#define NONE UINT32_MAX

Test(perms, owner_and_privileged)
{
	struct xsw_perm p[] = { { 3, XSW_PERM_NONE } };

	cr_assert_eq(xsw_perms_access(p, 1, 3, false, NONE), XSW_PERM_BOTH);
	cr_assert_eq(xsw_perms_access(p, 1, 9, false, NONE), XSW_PERM_NONE);
	cr_assert_eq(xsw_perms_access(p, 1, 9, true, NONE), XSW_PERM_BOTH);
}

Test(perms, default_is_owner_entry_bits)
{
	struct xsw_perm p[] = { { 0, XSW_PERM_READ }, { 5, XSW_PERM_WRITE } };

	cr_assert_eq(xsw_perms_access(p, 2, 9, false, NONE), XSW_PERM_READ);
	cr_assert_eq(xsw_perms_access(p, 2, 5, false, NONE), XSW_PERM_WRITE);
	p[0].perms = XSW_PERM_BOTH;
	cr_assert_eq(xsw_perms_access(p, 2, 9, false, NONE), XSW_PERM_BOTH);
	cr_assert_eq(xsw_perms_access(p, 2, 5, false, NONE), XSW_PERM_WRITE,
		     "an explicit entry can restrict");
}

Test(perms, first_match_wins)
{
	struct xsw_perm p[] = { { 0, XSW_PERM_NONE }, { 5, XSW_PERM_READ },
				{ 5, XSW_PERM_WRITE } };

	cr_assert_eq(xsw_perms_access(p, 3, 5, false, NONE), XSW_PERM_READ);
	cr_assert_eq(xsw_perms_access(p, 3, 6, false, NONE), XSW_PERM_NONE);
}

Test(perms, owner_entry_does_not_match_later)
{
	/* The owner gets BOTH even if a later entry names it with less. */
	struct xsw_perm p[] = { { 4, XSW_PERM_NONE }, { 4, XSW_PERM_READ } };

	cr_assert_eq(xsw_perms_access(p, 2, 4, false, NONE), XSW_PERM_BOTH);
}

Test(perms, ignored_entries_skipped)
{
	struct xsw_perm p[] = { { 0, XSW_PERM_NONE },
				{ 5, XSW_PERM_READ | XSW_PERM_IGNORE },
				{ 5, XSW_PERM_WRITE } };

	cr_assert_eq(xsw_perms_access(p, 3, 5, false, NONE), XSW_PERM_WRITE);
}

Test(perms, target)
{
	struct xsw_perm owned[] = { { 3, XSW_PERM_NONE }, { 7, XSW_PERM_READ } };
	struct xsw_perm granted[] = { { 0, XSW_PERM_NONE },
				      { 3, XSW_PERM_WRITE } };
	struct xsw_perm both[] = { { 0, XSW_PERM_NONE }, { 9, XSW_PERM_READ },
				   { 3, XSW_PERM_WRITE } };

	cr_assert_eq(xsw_perms_access(owned, 2, 9, false, 3), XSW_PERM_BOTH,
		     "target owns the node");
	cr_assert_eq(xsw_perms_access(owned, 2, 9, false, NONE),
		     XSW_PERM_NONE);
	cr_assert_eq(xsw_perms_access(granted, 2, 9, false, 3),
		     XSW_PERM_WRITE, "inherits the target's entry");
	cr_assert_eq(xsw_perms_access(both, 3, 9, false, 3), XSW_PERM_READ,
		     "first matching entry, own or target's");
	cr_assert_eq(xsw_perms_access(granted, 2, 9, false, 4),
		     XSW_PERM_NONE);
}

Test(perms, empty_list)
{
	cr_assert_eq(xsw_perms_access(NULL, 0, 1, false, NONE), XSW_PERM_NONE);
	cr_assert_eq(xsw_perms_access(NULL, 0, 1, true, NONE), XSW_PERM_BOTH);
}
