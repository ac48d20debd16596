/*
 * config.h - daemon options (command line, environment) and quotas.
 *
 * Memory: strings in struct xsd_config are malloc'd and owned by it;
 * xsd_config_free() releases them.
 */
#ifndef XSD_CONFIG_H
#define XSD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

/* Quotas, in cxenstored's order and with its names and defaults. */
enum xsd_quota {
	XSD_Q_NODES,
	XSD_Q_WATCHES,
	XSD_Q_TRANSACTIONS,
	XSD_Q_OUTSTANDING,
	XSD_Q_TXN_NODES,
	XSD_Q_MEMORY,
	XSD_Q_NODE_SIZE,
	XSD_Q_PATH_MAX,
	XSD_Q_PERMS,
	XSD_Q_COUNT,
};

struct xsd_quota_info {
	const char *name;  /* as CONTROL quota and GET_QUOTA spell it */
	const char *descr; /* as CONTROL quota prints it */
};
extern const struct xsd_quota_info xsd_quota_info[XSD_Q_COUNT];

struct xsd_config {
	char *socket_path;
	char *pid_file;
	char *trace_file;
	char *store_dir;
	char *backend; /* --backend; NULL: decide at start */
	char *fsync;   /* --fsync never|always|<ms>; NULL: never */
	char *boot_id_file; /* --boot-id-file; NULL: the kernel's */
	char *checkpoint;   /* --checkpoint off|<MiB>; NULL: the default */
	bool no_fork;
	bool output_pid;
	bool verbose;
	bool no_domain_init; /* -D: do not introduce dom0 */
	bool no_persist;
	/* 0 means disabled (no limit) */
	uint32_t quota[XSD_Q_COUNT];
	uint32_t soft_memory;
	/* --write-rate: writes/s shared by the domains, bursts; rate 0: off */
	uint32_t wrl_rate, wrl_dburst, wrl_gburst;
};

/*
 * Fills cfg from argv and the environment. Returns 0 to run, 1 when the
 * process should exit successfully (--help, --version), or -EINVAL after
 * printing a message.
 */
int xsd_config_parse(struct xsd_config *cfg, int argc, char **argv);
void xsd_config_free(struct xsd_config *cfg);

/* Index of a quota by name, or -1. */
int xsd_quota_find(const char *name);

#endif
