/*
 * xenstored.h - the daemon's shared state: one store, one loop, the
 * connections, the configuration. One instance per process (like
 * cxenstored), reached through the global `xsd`.
 *
 * Memory: everything here is owned by the daemon and freed at shutdown.
 */
#ifndef XSD_XENSTORED_H
#define XSD_XENSTORED_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"

struct store;
struct xsd_conn;

struct xsd_server {
	uv_loop_t *loop;
	struct store *st;
	struct xsd_config cfg;
	struct xsd_conn *conns;   /* every live connection (DL list) */
	struct xsd_conn *dirty;   /* connections with output to flush */
	uint32_t next_conn_id;
	bool stopping;
};

extern struct xsd_server xsd;

/* Pushes the quota values of xsd.cfg into the store. */
void xsd_limits_apply(void);
/* The store limits for quota values q[XSD_Q_COUNT]. */
struct store_limits;
void xsd_limits_fill(const uint32_t *q, struct store_limits *lim);

#endif
