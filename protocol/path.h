/*
 * path.h - xenstore path validation and relative-path resolution.
 *
 * Rules (docs/misc/xenstore.txt, cxenstored): characters [A-Za-z0-9-/_@]
 * only; absolute paths start with '/', have no "//" and no trailing '/'
 * (except "/" itself); relative paths are resolved against
 * /local/domain/<domid>; canonical length <= XSW_ABS_PATH_MAX. Besides,
 * cxenstored limits every path, for every caller including dom0, to
 * XSW_REL_PATH_MAX characters below its "/local/domain/<n>/" prefix (the
 * whole path when it has none): its path-length quota (-M). Special watch
 * paths start with '@' (@introduceDomain, @releaseDomain, and their
 * "/<domid>" forms) and are valid only where the caller allows them; the
 * same character, slash and length rules apply to them (newest
 * cxenstored; Xen 4.17 checked only their length).
 */
#ifndef XSW_PATH_H
#define XSW_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* Canonical absolute path buffer: big enough for any valid path + NUL. */
#define XSW_PATH_BUF (XSW_ABS_PATH_MAX + 1)

/* "/local/domain/<domid>" into out; returns its length. */
size_t xsw_domain_path(uint32_t domid, char *out, size_t outlen);

/*
 * Validates in and writes its canonical absolute form to out
 * (XSW_PATH_BUF bytes). allow_special admits '@' paths (watches), which
 * are copied unchanged. Returns 0 or -EINVAL (bad characters, "//",
 * trailing '/', empty, more than XSW_REL_PATH_MAX below the domain
 * prefix, result above XSW_ABS_PATH_MAX: cxenstored answers EINVAL for
 * all of these).
 * On error out may hold a partial result.
 */
int xsw_path_resolve(uint32_t domid, const char *in, bool allow_special,
		     char *out);
/* Same, with the path-length quota max_local instead of XSW_REL_PATH_MAX. */
int xsw_path_resolve_max(uint32_t domid, const char *in, bool allow_special,
			 size_t max_local, char *out);

/* True if in names a special watch path (starts with '@'). */
bool xsw_path_is_special(const char *path);

/*
 * If abs (canonical) lies under /local/domain/<domid>/, returns a pointer
 * to its relative remainder within abs; else NULL. Used to give relative
 * watches relative event paths.
 */
const char *xsw_path_relative_to(uint32_t domid, const char *abs);

/*
 * Length of a canonical path below its "/local/domain/<domid>/" prefix
 * (the whole length if it has none): what cxenstored's per-domain
 * path-length quota (-M, default XSW_REL_PATH_MAX) is checked against.
 */
size_t xsw_path_local_len(const char *abs);

/* True if child equals parent or lies below it ("/a" covers "/a/b"). */
bool xsw_path_is_under(const char *child, const char *parent);

/* Depth of a canonical path: "/" is 0, "/a" 1, "/a/b" 2; '@' paths 0. */
unsigned xsw_path_depth(const char *path);

#endif
