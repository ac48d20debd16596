/* config.c - command line and environment, cxenstored-compatible flags. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "wrl.h"

#define XSD_DEFAULT_RUNDIR "/run/xenstored"
#define XSD_DEFAULT_STORE "/var/lib/xenstored"

const struct xsd_quota_info xsd_quota_info[XSD_Q_COUNT] = {
	[XSD_Q_NODES] = { "nodes", "Nodes per domain" },
	[XSD_Q_WATCHES] = { "watches", "Watches per domain" },
	[XSD_Q_TRANSACTIONS] = { "transactions", "Transactions per domain" },
	[XSD_Q_OUTSTANDING] = { "outstanding", "Outstanding requests per domain" },
	[XSD_Q_TXN_NODES] = { "transaction-nodes",
			      "Max. number of accessed nodes per transaction" },
	[XSD_Q_MEMORY] = { "memory",
			   "Total Xenstore memory per domain (error level)" },
	[XSD_Q_NODE_SIZE] = { "node-size", "Max. size of a node" },
	[XSD_Q_PATH_MAX] = { "path-max", "Max. length of a node path" },
	[XSD_Q_PERMS] = { "permissions", "Max. number of permissions per node" },
};

/* cxenstored 4.17 defaults */
static const uint32_t quota_default[XSD_Q_COUNT] = {
	1000, 128, 10, 20, 1024, 2621440, 2048, 2048, 5,
};

int xsd_quota_find(const char *name)
{
	for (int i = 0; i < XSD_Q_COUNT; i++)
		if (!strcmp(name, xsd_quota_info[i].name))
			return i;
	return -1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: xenstored [options]\n"
"\n"
"  -N, --no-fork            stay in the foreground\n"
"  -F, --pid-file FILE      write the daemon's pid to FILE\n"
"  -P, --output-pid         print the daemon's pid on stdout\n"
"  -T, --trace-file FILE    trace every request and reply to FILE\n"
"  -V, --verbose            log to stderr\n"
"  -D, --no-domain-init     do not introduce dom0 at start (as cxenstored)\n"
"  -E, --entry-nb NB        nodes per domain (default 1000)\n"
"  -S, --entry-size SIZE    max. size of a node (default 2048)\n"
"  -W, --watch-nb NB        watches per domain (default 128)\n"
"  -t, --transaction NB     transactions per domain (default 10)\n"
"  -A, --perm-nb NB         permissions per node (default 5)\n"
"  -M, --path-max CHARS     max. relative path length (default 2048)\n"
"  -Q, --quota WHAT=NB      transaction-nodes, memory, outstanding, or any\n"
"                           name CONTROL quota lists\n"
"  -q, --quota-soft WHAT=NB memory\n"
"  -w, --timeout WHAT=SECS  accepted for compatibility, ignored\n"
"      --write-rate RATE[,DBURST[,GBURST]]\n"
"                           write rate limit of unprivileged domains while\n"
"                           transactions are open: RATE writes/s shared by\n"
"                           all domains, DBURST per domain, GBURST shared\n"
"                           (default 200,10,1000 as cxenstored; 0: off)\n"
"  -R, -I, -K               accepted for compatibility, ignored\n"
"      --socket PATH        listen on PATH (wins over $XENSTORED_PATH and\n"
"                           $XENSTORED_RUNDIR/socket; default\n"
"                           " XSD_DEFAULT_RUNDIR "/socket)\n"
"      --store DIR          Git store directory (default " XSD_DEFAULT_STORE ")\n"
"      --no-persist         keep the store in memory only\n"
"      --fsync WHEN         never (default: survives kill -9), always\n"
"                           (fdatasync before each reply) or MS (at most\n"
"                           one fdatasync per MS milliseconds)\n"
"      --boot-id-file FILE  host boot id (default\n"
"                           /proc/sys/kernel/random/boot_id; tests)\n"
"      --checkpoint MIB|off a checkpoint pack (the head tree, read first\n"
"                           at start) checked once MIB of packs were\n"
"                           written since the last (default 64), written\n"
"                           when the head tree moved away from it; or never\n"
"      --backend KIND       guest rings: xen, xen:foreign (map every ring by\n"
"                           its frame, the fallback of a failed grant map),\n"
"                           sim:DIR (simulated, for tests) or none\n"
"                           (default: xen in a control domain)\n"
"  -H, --help               this text\n"
"      --version            print the version\n");
}

static int parse_num(const char *opt, const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > UINT32_MAX || *s == '-') {
		fprintf(stderr, "xenstored: bad number for %s: %s\n", opt, s);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_what(struct xsd_config *cfg, const char *arg, bool soft)
{
	const char *eq = strchr(arg, '=');
	char name[64];
	uint32_t v;
	int q;

	if (!eq || (size_t)(eq - arg) >= sizeof(name)) {
		fprintf(stderr, "xenstored: expected WHAT=NB: %s\n", arg);
		return -EINVAL;
	}
	memcpy(name, arg, eq - arg);
	name[eq - arg] = 0;
	if (parse_num(name, eq + 1, &v))
		return -EINVAL;
	if (soft) {
		if (strcmp(name, "memory")) {
			fprintf(stderr, "xenstored: unknown soft quota %s\n", name);
			return -EINVAL;
		}
		cfg->soft_memory = v;
		return 0;
	}
	q = xsd_quota_find(name);
	if (q < 0) {
		fprintf(stderr, "xenstored: unknown quota %s\n", name);
		return -EINVAL;
	}
	cfg->quota[q] = v;
	return 0;
}

/* RATE[,DBURST[,GBURST]]: the bursts not given keep their value */
static int parse_write_rate(struct xsd_config *cfg, const char *arg)
{
	uint32_t *dst[3] = { &cfg->wrl_rate, &cfg->wrl_dburst, &cfg->wrl_gburst };
	char buf[64], *tok, *save = NULL;
	int i = 0;

	if (strlen(arg) >= sizeof(buf)) {
		fprintf(stderr, "xenstored: bad --write-rate: %s\n", arg);
		return -EINVAL;
	}
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (i == 3 || parse_num("--write-rate", tok, dst[i]))
			return -EINVAL;
		i++;
	}
	if (!i) {
		fprintf(stderr, "xenstored: bad --write-rate: %s\n", arg);
		return -EINVAL;
	}
	return 0;
}

static int set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

enum { OPT_SOCKET = 256, OPT_STORE, OPT_NO_PERSIST, OPT_VERSION, OPT_BACKEND,
       OPT_FSYNC, OPT_BOOT_ID, OPT_WRITE_RATE, OPT_CHECKPOINT };

int xsd_config_parse(struct xsd_config *cfg, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "no-domain-init", no_argument, NULL, 'D' },
		{ "entry-nb", required_argument, NULL, 'E' },
		{ "pid-file", required_argument, NULL, 'F' },
		{ "event", required_argument, NULL, 'e' },
		{ "master-domid", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'H' },
		{ "no-fork", no_argument, NULL, 'N' },
		{ "priv-domid", required_argument, NULL, 'p' },
		{ "output-pid", no_argument, NULL, 'P' },
		{ "entry-size", required_argument, NULL, 'S' },
		{ "trace-file", required_argument, NULL, 'T' },
		{ "transaction", required_argument, NULL, 't' },
		{ "perm-nb", required_argument, NULL, 'A' },
		{ "path-max", required_argument, NULL, 'M' },
		{ "quota", required_argument, NULL, 'Q' },
		{ "quota-soft", required_argument, NULL, 'q' },
		{ "timeout", required_argument, NULL, 'w' },
		{ "no-recovery", no_argument, NULL, 'R' },
		{ "internal-db", optional_argument, NULL, 'I' },
		{ "keep-orphans", no_argument, NULL, 'K' },
		{ "verbose", no_argument, NULL, 'V' },
		{ "watch-nb", required_argument, NULL, 'W' },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "store", required_argument, NULL, OPT_STORE },
		{ "no-persist", no_argument, NULL, OPT_NO_PERSIST },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "fsync", required_argument, NULL, OPT_FSYNC },
		{ "boot-id-file", required_argument, NULL, OPT_BOOT_ID },
		{ "write-rate", required_argument, NULL, OPT_WRITE_RATE },
		{ "checkpoint", required_argument, NULL, OPT_CHECKPOINT },
		{ NULL, 0, NULL, 0 },
	};
	const char *env;
	int opt, r = 0;

	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->quota, quota_default, sizeof(cfg->quota));
	cfg->soft_memory = 2097152;
	cfg->wrl_rate = XSD_WRL_RATE;
	cfg->wrl_dburst = XSD_WRL_DBURST;
	cfg->wrl_gburst = XSD_WRL_GBURST;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "DE:F:HNPS:t:A:M:Q:q:w:T:RVW:KI::e:m:p:",
				  longopts, NULL)) != -1) {
		switch (opt) {
		case 'D': cfg->no_domain_init = true; break;
		case 'E': r = parse_num("-E", optarg, &cfg->quota[XSD_Q_NODES]); break;
		case 'S': r = parse_num("-S", optarg, &cfg->quota[XSD_Q_NODE_SIZE]); break;
		case 'W': r = parse_num("-W", optarg, &cfg->quota[XSD_Q_WATCHES]); break;
		case 't': r = parse_num("-t", optarg, &cfg->quota[XSD_Q_TRANSACTIONS]); break;
		case 'A': r = parse_num("-A", optarg, &cfg->quota[XSD_Q_PERMS]); break;
		case 'M': r = parse_num("-M", optarg, &cfg->quota[XSD_Q_PATH_MAX]); break;
		case 'Q': r = parse_what(cfg, optarg, false); break;
		case 'q': r = parse_what(cfg, optarg, true); break;
		case 'F': r = set_str(&cfg->pid_file, optarg); break;
		case 'T': r = set_str(&cfg->trace_file, optarg); break;
		case 'N': cfg->no_fork = true; break;
		case 'P': cfg->output_pid = true; break;
		case 'V': cfg->verbose = true; break;
		case 'w': case 'R': case 'I': case 'K': case 'e': case 'm': case 'p':
			break; /* cxenstored flags without meaning here */
		case OPT_SOCKET: r = set_str(&cfg->socket_path, optarg); break;
		case OPT_STORE: r = set_str(&cfg->store_dir, optarg); break;
		case OPT_NO_PERSIST: cfg->no_persist = true; break;
		case OPT_BACKEND: r = set_str(&cfg->backend, optarg); break;
		case OPT_FSYNC: r = set_str(&cfg->fsync, optarg); break;
		case OPT_BOOT_ID: r = set_str(&cfg->boot_id_file, optarg); break;
		case OPT_WRITE_RATE: r = parse_write_rate(cfg, optarg); break;
		case OPT_CHECKPOINT: r = set_str(&cfg->checkpoint, optarg); break;
		case OPT_VERSION:
			printf("xenstored (xenstored-git) %s\n", XSD_VERSION);
			return 1;
		case 'H':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
		if (r)
			return -EINVAL;
	}
	if (optind < argc) {
		fprintf(stderr, "xenstored: unexpected argument %s\n", argv[optind]);
		return -EINVAL;
	}

	/* Same precedence as libxenstore's clients, the command line first. */
	if (!cfg->socket_path) {
		if ((env = getenv("XENSTORED_PATH")) && *env)
			r = set_str(&cfg->socket_path, env);
		else if ((env = getenv("XENSTORED_RUNDIR")) && *env)
			r = asprintf(&cfg->socket_path, "%s/socket", env) < 0 ? -ENOMEM : 0;
		else
			r = set_str(&cfg->socket_path, XSD_DEFAULT_RUNDIR "/socket");
	}
	if (!r && !cfg->store_dir)
		r = set_str(&cfg->store_dir, XSD_DEFAULT_STORE);
	return r ? -ENOMEM : 0;
}

void xsd_config_free(struct xsd_config *cfg)
{
	free(cfg->socket_path);
	free(cfg->pid_file);
	free(cfg->trace_file);
	free(cfg->store_dir);
	free(cfg->backend);
	free(cfg->fsync);
	free(cfg->boot_id_file);
	free(cfg->checkpoint);
	cfg->checkpoint = NULL;
	cfg->socket_path = cfg->pid_file = cfg->trace_file = cfg->store_dir = NULL;
	cfg->backend = cfg->fsync = cfg->boot_id_file = NULL;
}
