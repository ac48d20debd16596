/*
 * perms.c - permission entries and the access rule of cxenstored.
 */
#include <errno.h>
#include <string.h>

#include "msg.h"
#include "perms.h"

int xsw_perm_parse(const char *s, struct xsw_perm *out)
{
	uint8_t bits;
	uint32_t domid;

	switch (s[0]) {
	case 'r': bits = XSW_PERM_READ; break;
	case 'w': bits = XSW_PERM_WRITE; break;
	case 'b': bits = XSW_PERM_BOTH; break;
	case 'n': bits = XSW_PERM_NONE; break;
	default: return -EINVAL;
	}
	/*
	 * libxenstore's strtol(.., 0) would also take hex, octal and signs;
	 * every client formats "%u", so only decimal domids are accepted.
	 */
	if (xsw_parse_domid(s + 1, &domid))
		return -EINVAL;
	out->domid = domid;
	out->perms = bits;
	return 0;
}

size_t xsw_perm_format(const struct xsw_perm *p, char *out)
{
	static const char letter[] = { 'n', 'r', 'w', 'b' };
	char digits[11];
	size_t n = 0, len = 0;
	uint32_t v = p->domid;

	out[len++] = letter[p->perms & XSW_PERM_BOTH];
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		out[len++] = digits[--n];
	out[len] = '\0';
	return len;
}

int xsw_perms_format(const struct xsw_perm *p, unsigned n, char *out,
		     size_t outlen)
{
	char one[12];
	size_t len = 0, l;
	unsigned i;

	for (i = 0; i < n; i++) {
		l = xsw_perm_format(&p[i], one) + 1;
		if (len + l > outlen)
			return -E2BIG;
		memcpy(out + len, one, l);
		len += l;
	}
	return (int)len;
}

unsigned xsw_perms_access(const struct xsw_perm *p, unsigned n,
			  uint32_t domid, bool privileged, uint32_t target)
{
	bool has_target = target != UINT32_MAX;
	unsigned i;

	if (!n)
		return privileged ? XSW_PERM_BOTH : XSW_PERM_NONE;
	if (privileged || p[0].domid == domid ||
	    (has_target && p[0].domid == target))
		return XSW_PERM_BOTH;
	/* First entry naming the caller or its target wins. */
	for (i = 1; i < n; i++) {
		if (p[i].perms & XSW_PERM_IGNORE)
			continue;
		if (p[i].domid == domid || (has_target && p[i].domid == target))
			return p[i].perms & XSW_PERM_BOTH;
	}
	return p[0].perms & XSW_PERM_BOTH;
}
