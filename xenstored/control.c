/*
 * control.c - CONTROL subcommands, with cxenstored 4.17's replies
 * ("OK\0" or a text ending in "\n\0"; EINVAL for unknown commands and
 * wrong arguments).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utlist.h>

#include "../protocol/path.h"
#include "config.h"
#include "dispatch.h"
#include "domain.h"
#include "log.h"
#include "watch.h"
#include "persist.h"
#include "xenstored.h"

typedef int (*control_fn)(struct xsd_conn *c, const struct xsw_request *req,
			  int argc, const char *const *argv);

struct control_cmd {
	const char *name;
	control_fn fn;
	const char *pars;
};

/* Appends to a reply being built; stops quietly when full. */
struct text {
	char buf[XSW_PAYLOAD_MAX];
	size_t len;
};

static void __attribute__((format(printf, 2, 3)))
text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len >= sizeof(t->buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n < sizeof(t->buf) - t->len
				  ? (size_t)n : sizeof(t->buf) - t->len - 1;
}

static int text_send(struct xsd_conn *c, const struct xsw_request *req,
		     const struct text *t)
{
	return xsd_conn_reply(c, &req->hdr, t->buf, t->len + 1);
}

static int ctl_check(struct xsd_conn *c, const struct xsw_request *req,
		     int argc, const char *const *argv)
{
	char err[256];
	int r;

	(void)argv;
	if (argc)
		return -EINVAL;
	r = store_check(xsd.st, err, sizeof(err));
	if (!r)
		r = xsd_watch_check(err, sizeof(err));
	if (!r)
		r = xsd_persist_status(err, sizeof(err)); /* Git writer health */
	if (r) {
		xsd_log("check: %s", err);
		return r;
	}
	return xsd_conn_ack(c, &req->hdr);
}

static int ctl_log(struct xsd_conn *c, const struct xsw_request *req,
		   int argc, const char *const *argv)
{
	int r;

	if (argc != 1)
		return -EINVAL;
	if (!strcmp(argv[0], "on")) {
		if ((r = xsd_log_reopen()))
			return r;
	} else if (!strcmp(argv[0], "off")) {
		xsd_log_close();
	} else {
		return -EINVAL;
	}
	return xsd_conn_ack(c, &req->hdr);
}

static int ctl_logfile(struct xsd_conn *c, const struct xsw_request *req,
		       int argc, const char *const *argv)
{
	int r;

	if (argc != 1 || !argv[0][0])
		return -EINVAL;
	if ((r = xsd_log_set_file(argv[0])))
		return r;
	return xsd_conn_ack(c, &req->hdr);
}

static int ctl_memreport(struct xsd_conn *c, const struct xsw_request *req,
			 int argc, const char *const *argv)
{
	const char *file = argc == 1 ? argv[0] : xsd_log_file();
	struct store_stats s;
	struct xsd_conn *k;
	size_t out = 0;
	unsigned nconns = 0, nwatches = 0, ntxns = 0;
	FILE *f;

	if (argc > 1 || !file)
		return -EINVAL; /* no file and no trace file: as cxenstored */
	f = fopen(file, "a");
	if (!f)
		return -EBADF;
	store_get_stats(xsd.st, &s);
	DL_FOREACH(xsd.conns, k) {
		nconns++;
		nwatches += k->nwatches;
		ntxns += k->ntxns;
		out += k->out_queued + k->out_inflight;
	}
	fprintf(f, "xenstored memory report\n"
		"store: %llu nodes, %llu bytes, generation %llu, %llu open transactions\n"
		"connections: %u, watches %u, transactions %u, output queued %zu bytes\n"
		"domains: %u\n",
		(unsigned long long)s.nodes, (unsigned long long)s.bytes,
		(unsigned long long)s.generation,
		(unsigned long long)s.open_txns, nconns, nwatches, ntxns, out,
		xsd_domain_count());
	fclose(f);
	return xsd_conn_ack(c, &req->hdr);
}

static int ctl_print(struct xsd_conn *c, const struct xsw_request *req,
		     int argc, const char *const *argv)
{
	if (argc != 1)
		return -EINVAL;
	xsd_log("control: %s", argv[0]);
	return xsd_conn_ack(c, &req->hdr);
}

/* Not in cxenstored's reply: the write rate limit (wrl.h), when active. */
static void quota_wrl(struct text *t, struct xsd_domain *d)
{
	int64_t cr;

	if (!d->wrl.active || d->domid == 0) /* dom0 is exempt */
		return;
	cr = xsd_wrl_credit(d);
	text_add(t, "%-16s: %s%lld.%03lld\n", "write-credit", cr < 0 ? "-" : "",
		 (long long)(cr < 0 ? -cr : cr) / 1000,
		 (long long)(cr < 0 ? -cr : cr) % 1000);
	text_add(t, "%-16s: %8llu\n", "write-delays",
		 (unsigned long long)d->wrl.delays);
}

static int quota_domain(struct xsd_conn *c, const struct xsw_request *req,
			const char *arg)
{
	struct xsd_conn *k;
	struct text t = { .len = 0 };
	unsigned ntxns = 0, outst = 0;
	uint32_t domid;

	if (xsw_parse_u32(arg, &domid) || !xsd_domain_find(domid))
		return -ENOENT;
	DL_FOREACH(xsd.conns, k)
		if (k->domid == domid) {
			ntxns += k->ntxns;
			outst += xsd_conn_outstanding(k);
		}
	text_add(&t, "Domain %u:\n", domid);
	text_add(&t, "%-16s: %8u\n", "nodes", store_nodes_owned(xsd.st, domid));
	text_add(&t, "%-16s: %8u\n", "watches", xsd_watch_count_domain(domid));
	text_add(&t, "%-16s: %8u\n", "transactions", ntxns);
	text_add(&t, "%-16s: %8u\n", "outstanding", outst);
	/* what the memory quota is enforced on: nodes, watches,
	 * transactions and queued output (xsd_domain_memory) */
	text_add(&t, "%-16s: %8llu\n", "memory",
		 (unsigned long long)xsd_domain_memory(domid));
	quota_wrl(&t, xsd_domain_find(domid));
	return text_send(c, req, &t);
}

static int ctl_quota(struct xsd_conn *c, const struct xsw_request *req,
		     int argc, const char *const *argv)
{
	struct text t = { .len = 0 };
	int q, v;

	if (argc == 0) {
		text_add(&t, "Quota settings:\n");
		for (q = 0; q < XSD_Q_COUNT; q++)
			text_add(&t, "%-17s: %8u %s\n", xsd_quota_info[q].name,
				 xsd.cfg.quota[q], xsd_quota_info[q].descr);
		return text_send(c, req, &t);
	}
	if (!strcmp(argv[0], "set")) {
		if (argc != 3)
			return -EINVAL;
		v = atoi(argv[2]);
		q = xsd_quota_find(argv[1]);
		if (v < 1 || q < 0)
			return -EINVAL;
		xsd.cfg.quota[q] = v;
		xsd_limits_apply();
		return xsd_conn_ack(c, &req->hdr);
	}
	if (argc != 1)
		return -EINVAL;
	return quota_domain(c, req, argv[0]);
}

static int ctl_quota_soft(struct xsd_conn *c, const struct xsw_request *req,
			  int argc, const char *const *argv)
{
	struct text t = { .len = 0 };
	int v;

	if (argc == 0) {
		text_add(&t, "Quota settings:\n");
		text_add(&t, "%-17s: %8u %s\n", "memory", xsd.cfg.soft_memory,
			 "Total Xenstore memory per domain (warning level)");
		return text_send(c, req, &t);
	}
	if (strcmp(argv[0], "set") || argc != 3 || strcmp(argv[1], "memory"))
		return -EINVAL;
	v = atoi(argv[2]);
	if (v < 1)
		return -EINVAL;
	xsd.cfg.soft_memory = v;
	return xsd_conn_ack(c, &req->hdr);
}

/* store-fault <journal|fsync|pack> <ENAME> <count>: the error policy, tested live */
static int ctl_store_fault(struct xsd_conn *c, const struct xsw_request *req,
			   int argc, const char *const *argv)
{
	uint32_t count;
	int err, r;

	if (argc != 3 || xsw_parse_u32(argv[2], &count))
		return -EINVAL;
	err = xsw_error_from_name(argv[1]);
	if (!err)
		return -EINVAL;
	r = xsd_persist_fault(argv[0], -err, count);
	return r ? r : xsd_conn_ack(c, &req->hdr);
}

static int ctl_help(struct xsd_conn *, const struct xsw_request *, int,
		    const char *const *);

static const struct control_cmd control_cmds[] = {
	{ "check", ctl_check, "" },
	{ "log", ctl_log, "on|off" },
	{ "logfile", ctl_logfile, "<file>" },
	{ "memreport", ctl_memreport, "[<file>]" },
	{ "print", ctl_print, "<string>" },
	{ "quota", ctl_quota, "[set <name> <val>|<domid>]" },
	{ "quota-soft", ctl_quota_soft, "[set <name> <val>]" },
	{ "store-fault", ctl_store_fault, "journal|fsync|pack|pack-file|pack-entry <ENAME> <count>" },
	{ "help", ctl_help, "" },
};

#define NCMDS (sizeof(control_cmds) / sizeof(control_cmds[0]))

static int ctl_help(struct xsd_conn *c, const struct xsw_request *req,
		    int argc, const char *const *argv)
{
	struct text t = { .len = 0 };

	(void)argv;
	if (argc)
		return -EINVAL;
	for (size_t i = 0; i < NCMDS; i++)
		text_add(&t, "%s\t%s\n", control_cmds[i].name,
			 control_cmds[i].pars);
	return text_send(c, req, &t);
}

int xsd_cmd_control(struct xsd_conn *c, const struct xsw_request *req,
		    struct xsd_txn *txn)
{
	int argc = req->u.control.argc;
	const char *const *argv = req->u.control.argv;

	(void)txn;
	if (argc < 1)
		return -EINVAL;
	for (size_t i = 0; i < NCMDS; i++)
		if (!strcmp(argv[0], control_cmds[i].name))
			return control_cmds[i].fn(c, req, argc - 1, argv + 1);
	return -EINVAL;
}
