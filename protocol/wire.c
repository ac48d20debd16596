/*
 * wire.c - message type and error names of the xenbus wire protocol.
 */
#include <errno.h>
#include <string.h>

#include "wire.h"

static const char *const type_names[XSW_TYPE_COUNT] = {
	[XSW_CONTROL] = "CONTROL",
	[XSW_DIRECTORY] = "DIRECTORY",
	[XSW_READ] = "READ",
	[XSW_GET_PERMS] = "GET_PERMS",
	[XSW_WATCH] = "WATCH",
	[XSW_UNWATCH] = "UNWATCH",
	[XSW_TRANSACTION_START] = "TRANSACTION_START",
	[XSW_TRANSACTION_END] = "TRANSACTION_END",
	[XSW_INTRODUCE] = "INTRODUCE",
	[XSW_RELEASE] = "RELEASE",
	[XSW_GET_DOMAIN_PATH] = "GET_DOMAIN_PATH",
	[XSW_WRITE] = "WRITE",
	[XSW_MKDIR] = "MKDIR",
	[XSW_RM] = "RM",
	[XSW_SET_PERMS] = "SET_PERMS",
	[XSW_WATCH_EVENT] = "WATCH_EVENT",
	[XSW_ERROR] = "ERROR",
	[XSW_IS_DOMAIN_INTRODUCED] = "IS_DOMAIN_INTRODUCED",
	[XSW_RESUME] = "RESUME",
	[XSW_SET_TARGET] = "SET_TARGET",
	/* XSW_RESTRICT has no name: removed from the protocol */
	[XSW_RESET_WATCHES] = "RESET_WATCHES",
	[XSW_DIRECTORY_PART] = "DIRECTORY_PART",
	[XSW_GET_FEATURE] = "GET_FEATURE",
	[XSW_SET_FEATURE] = "SET_FEATURE",
	[XSW_GET_QUOTA] = "GET_QUOTA",
	[XSW_SET_QUOTA] = "SET_QUOTA",
};

const char *xsw_type_name(uint32_t type)
{
	if (type >= XSW_TYPE_COUNT)
		return NULL;
	return type_names[type];
}

/* Order of xs_wire.h's xsd_errors[]: EINVAL first, the fallback. */
static const struct {
	int err;
	const char *name;
} errors[] = {
	{ EINVAL, "EINVAL" },       { EACCES, "EACCES" },
	{ EEXIST, "EEXIST" },       { EISDIR, "EISDIR" },
	{ ENOENT, "ENOENT" },       { ENOMEM, "ENOMEM" },
	{ ENOSPC, "ENOSPC" },       { EIO, "EIO" },
	{ ENOTEMPTY, "ENOTEMPTY" }, { ENOSYS, "ENOSYS" },
	{ EROFS, "EROFS" },         { EBUSY, "EBUSY" },
	{ EAGAIN, "EAGAIN" },       { EISCONN, "EISCONN" },
	{ E2BIG, "E2BIG" },         { EPERM, "EPERM" },
};

const char *xsw_error_name(int err)
{
	size_t i;

	/* Accept both errno and the project's negative-errno style. */
	if (err < 0)
		err = -err;
	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].err == err)
			return errors[i].name;
	return "EINVAL";
}

int xsw_error_from_name(const char *name)
{
	size_t i;

	if (!name)
		return 0;
	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (!strcmp(errors[i].name, name))
			return errors[i].err;
	return 0;
}
