/*
 * wire.h - the xenbus wire protocol: message types, header, errors, limits.
 *
 * Mirrors the newest xen/include/public/io/xs_wire.h (types up to
 * SET_QUOTA), under an XSW_ prefix so that it can sit beside Xen's own
 * header (Debian's 4.17 copy stops at DIRECTORY_PART). Pure: libc only.
 *
 * Memory: nothing here allocates; returned strings are static.
 */
#ifndef XSW_WIRE_H
#define XSW_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum xsw_type {
	XSW_CONTROL = 0, /* was XS_DEBUG */
	XSW_DIRECTORY = 1,
	XSW_READ = 2,
	XSW_GET_PERMS = 3,
	XSW_WATCH = 4,
	XSW_UNWATCH = 5,
	XSW_TRANSACTION_START = 6,
	XSW_TRANSACTION_END = 7,
	XSW_INTRODUCE = 8,
	XSW_RELEASE = 9,
	XSW_GET_DOMAIN_PATH = 10,
	XSW_WRITE = 11,
	XSW_MKDIR = 12,
	XSW_RM = 13,
	XSW_SET_PERMS = 14,
	XSW_WATCH_EVENT = 15,
	XSW_ERROR = 16,
	XSW_IS_DOMAIN_INTRODUCED = 17,
	XSW_RESUME = 18,
	XSW_SET_TARGET = 19,
	XSW_RESTRICT = 20, /* removed from the protocol: always invalid */
	XSW_RESET_WATCHES = 21,
	XSW_DIRECTORY_PART = 22,
	XSW_GET_FEATURE = 23,
	XSW_SET_FEATURE = 24,
	XSW_GET_QUOTA = 25,
	XSW_SET_QUOTA = 26,
	XSW_TYPE_COUNT = 27,
	XSW_INVALID = 0xffff,
};

/* Header of every message, host byte order (both ends are on one host). */
struct xsw_hdr {
	uint32_t type;
	uint32_t req_id; /* echoed in the reply */
	uint32_t tx_id;  /* 0 outside a transaction */
	uint32_t len;    /* payload bytes that follow */
};

#define XSW_HDR_SIZE 16u
#define XSW_PAYLOAD_MAX 4096u
#define XSW_ABS_PATH_MAX 3072u
#define XSW_REL_PATH_MAX 2048u

/* Ring page (docs/misc/xenstore-ring.txt); layout identical to Xen's. */
#define XSW_RING_SIZE 1024u
typedef uint32_t xsw_ring_idx;
#define XSW_RING_MASK(idx) ((idx) & (XSW_RING_SIZE - 1))
struct xsw_ring_page {
	char req[XSW_RING_SIZE]; /* guest -> daemon */
	char rsp[XSW_RING_SIZE]; /* daemon -> guest: replies and watch events */
	xsw_ring_idx req_cons, req_prod;
	xsw_ring_idx rsp_cons, rsp_prod;
	uint32_t server_features;
	uint32_t connection;
	uint32_t error;
	/*
	 * Set by Xen for dom0less/Hyperlaunch guests: the event channel to
	 * use when non-zero, else the one given by INTRODUCE (xs_wire.h).
	 */
	uint32_t evtchn_port;
};

#define XSW_FEATURE_RECONNECTION 1u /* connection field usable */
#define XSW_FEATURE_ERROR 2u        /* error field present */
#define XSW_FEATURE_WATCHDEPTH 4u   /* WATCH takes a third <depth> arg */
#define XSW_FEATURE_DOMID_ANY 8u    /* DOMID_ANY in node permissions */

#define XSW_CONNECTED 0u
#define XSW_RECONNECT 1u

#define XSW_ERROR_NONE 0u
#define XSW_ERROR_COMM 1u
#define XSW_ERROR_RINGIDX 2u
#define XSW_ERROR_PROTO 3u

#define XSW_WRITE_NONE "NONE"
#define XSW_WRITE_CREATE "CREATE"
#define XSW_WRITE_CREATE_EXCL "CREATE|EXCL"

/* "READ", "WATCH_EVENT", ...; NULL for a type that does not exist. */
const char *xsw_type_name(uint32_t type);

/*
 * Error names as sent on the wire ("EINVAL", ...), for the errno values
 * xs_wire.h lists. An errno outside that list maps to "EINVAL", as
 * cxenstored does. xsw_error_from_name() returns 0 for an unknown name.
 */
const char *xsw_error_name(int err);
int xsw_error_from_name(const char *name);

#endif
