/*
 * log.h - the trace file (-T, CONTROL log/logfile) and daemon messages.
 *
 * The trace file holds one line per request and reply, like cxenstored's
 * -T, plus every daemon message. Messages also go to stderr with -V.
 * Memory: the module owns its file name copy.
 */
#ifndef XSD_LOG_H
#define XSD_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "../protocol/wire.h"

int xsd_log_init(const char *trace_file, bool verbose);
/* Closes and opens the trace file again (SIGHUP, CONTROL log on). */
int xsd_log_reopen(void);
void xsd_log_close(void);
/* Switches to another trace file; opens it. 0 or -errno. */
int xsd_log_set_file(const char *path);
/* The trace file name, or NULL. */
const char *xsd_log_file(void);
void xsd_log_shutdown(void);

void xsd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True when there is a trace file open (cheap check before tracing). */
bool xsd_log_tracing(void);
void xsd_trace_msg(uint32_t conn_id, bool out, const struct xsw_hdr *hdr,
		   const void *body);

#endif
