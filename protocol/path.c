/*
 * path.c - path validation, canonical form and relative resolution.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "path.h"

#define LOCAL_DOMAIN "/local/domain/"
#define LOCAL_DOMAIN_LEN (sizeof(LOCAL_DOMAIN) - 1)

size_t xsw_domain_path(uint32_t domid, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, LOCAL_DOMAIN "%u", domid);

	return n < 0 ? 0 : (size_t)n;
}

bool xsw_path_is_special(const char *path)
{
	return path && path[0] == '@';
}

/* The character set of docs/misc/xenstore.txt and cxenstored. */
static bool path_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '/' || c == '_' ||
	       c == '@';
}

/* Returns the length of in if its characters are valid, else -1. */
static long path_chars_len(const char *in, size_t limit)
{
	size_t i;

	for (i = 0; in[i]; i++) {
		if (i >= limit || !path_char_ok(in[i]))
			return -1;
	}
	return (long)i;
}

static size_t local_prefix_len(const char *abs, uint32_t *domid);

int xsw_path_resolve(uint32_t domid, const char *in, bool allow_special,
		     char *out)
{
	return xsw_path_resolve_max(domid, in, allow_special, XSW_REL_PATH_MAX,
				    out);
}

int xsw_path_resolve_max(uint32_t domid, const char *in, bool allow_special,
			 size_t max_local, char *out)
{
	size_t base = 0, total;
	long len;

	if (!in || !in[0])
		return -EINVAL;
	/* Scan no further than any acceptable path could reach. */
	len = path_chars_len(in, XSW_ABS_PATH_MAX);
	if (len < 0)
		return -EINVAL;
	if (in[0] == '@' && !allow_special)
		return -EINVAL;
	if (in[0] != '/' && in[0] != '@') {
		if ((size_t)len > max_local)
			return -EINVAL;
		base = xsw_domain_path(domid, out, XSW_PATH_BUF);
		out[base++] = '/';
	}
	total = base + (size_t)len;
	if (total > XSW_ABS_PATH_MAX)
		return -EINVAL;
	memcpy(out + base, in, (size_t)len + 1);

	if (total > 1 && out[total - 1] == '/')
		return -EINVAL;
	if (strstr(out, "//"))
		return -EINVAL;
	/* cxenstored's path-length quota binds every caller, dom0 too. */
	if (total - local_prefix_len(out, NULL) > max_local)
		return -EINVAL;
	return 0;
}

/* Length of the "/local/domain/<domid>/" prefix of abs, or 0. */
static size_t local_prefix_len(const char *abs, uint32_t *domid)
{
	const char *p = abs + LOCAL_DOMAIN_LEN;
	uint32_t v = 0;
	int digits = 0;

	if (strncmp(abs, LOCAL_DOMAIN, LOCAL_DOMAIN_LEN))
		return 0;
	/* At most 5 digits, as cxenstored's "%5u". */
	while (digits < 5 && p[digits] >= '0' && p[digits] <= '9') {
		v = v * 10 + (uint32_t)(p[digits] - '0');
		digits++;
	}
	if (!digits || p[digits] != '/')
		return 0;
	if (domid)
		*domid = v;
	return LOCAL_DOMAIN_LEN + (size_t)digits + 1;
}

size_t xsw_path_local_len(const char *abs)
{
	return strlen(abs) - local_prefix_len(abs, NULL);
}

const char *xsw_path_relative_to(uint32_t domid, const char *abs)
{
	char base[32];
	size_t n = xsw_domain_path(domid, base, sizeof(base));

	if (strncmp(abs, base, n) || abs[n] != '/' || !abs[n + 1])
		return NULL;
	return abs + n + 1;
}

bool xsw_path_is_under(const char *child, const char *parent)
{
	size_t n = strlen(parent);

	if (!strcmp(parent, "/"))
		return child[0] == '/';
	return !strncmp(child, parent, n) &&
	       (child[n] == '\0' || child[n] == '/');
}

unsigned xsw_path_depth(const char *path)
{
	unsigned depth = 0;

	if (path[0] != '/' || !path[1])
		return 0;
	for (; *path; path++)
		if (*path == '/')
			depth++;
	return depth;
}
