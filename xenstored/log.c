/* log.c - trace file and daemon messages. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static FILE *trace_fp;
static char *trace_name;
static bool log_verbose;

static void stamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d%02d%02d %02d:%02d:%02d.%03ld",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

int xsd_log_reopen(void)
{
	xsd_log_close();
	if (!trace_name)
		return 0;
	trace_fp = fopen(trace_name, "a");
	if (!trace_fp)
		return -errno;
	/* line buffered: the trace is read while the daemon runs */
	setvbuf(trace_fp, NULL, _IOLBF, 0);
	return 0;
}

int xsd_log_init(const char *trace_file, bool verbose)
{
	log_verbose = verbose;
	if (!trace_file)
		return 0;
	return xsd_log_set_file(trace_file);
}

void xsd_log_close(void)
{
	if (trace_fp)
		fclose(trace_fp);
	trace_fp = NULL;
}

int xsd_log_set_file(const char *path)
{
	char *copy = strdup(path);

	if (!copy)
		return -ENOMEM;
	free(trace_name);
	trace_name = copy;
	return xsd_log_reopen();
}

const char *xsd_log_file(void)
{
	return trace_name;
}

void xsd_log_shutdown(void)
{
	xsd_log_close();
	free(trace_name);
	trace_name = NULL;
}

bool xsd_log_tracing(void)
{
	return trace_fp != NULL;
}

void xsd_log(const char *fmt, ...)
{
	char ts[64];
	va_list ap;

	if (!trace_fp && !log_verbose)
		return;
	stamp(ts, sizeof(ts));
	if (trace_fp) {
		fprintf(trace_fp, "%s ", ts);
		va_start(ap, fmt);
		vfprintf(trace_fp, fmt, ap);
		va_end(ap);
		fputc('\n', trace_fp);
	}
	if (log_verbose) {
		fprintf(stderr, "xenstored: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

void xsd_trace_msg(uint32_t conn_id, bool out, const struct xsw_hdr *hdr,
		   const void *body)
{
	const char *name = xsw_type_name(hdr->type);
	const unsigned char *p = body;
	char ts[64];

	if (!trace_fp)
		return;
	stamp(ts, sizeof(ts));
	fprintf(trace_fp, "%s conn %u %s ", out ? "OUT" : "IN ", conn_id, ts);
	if (name)
		fprintf(trace_fp, "%s", name);
	else
		fprintf(trace_fp, "type %u", hdr->type);
	fprintf(trace_fp, " req %u tx %u (", hdr->req_id, hdr->tx_id);
	/* NULs as spaces, as cxenstored's trace; other bytes escaped */
	for (uint32_t i = 0; i < hdr->len; i++) {
		if (p[i] == 0)
			fputc(' ', trace_fp);
		else if (p[i] < 0x20 || p[i] >= 0x7f || p[i] == '\\')
			fprintf(trace_fp, "\\x%02x", p[i]);
		else
			fputc(p[i], trace_fp);
	}
	fputs(")\n", trace_fp);
}
