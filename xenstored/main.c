/*
 * main.c - start, the loop's per-iteration barrier, signals, shutdown.
 *
 * Order within one loop iteration: I/O callbacks read and dispatch
 * requests (replies and events are queued); then the check handle makes
 * every commit of the iteration durable (xsd_persist_flush) and only then
 * flushes each connection's queue with one write.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <execinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conn.h"
#include "domain.h"
#include "log.h"
#include "persist.h"
#include "ring_conn.h"
#include "ring_state.h"
#include "sock.h"
#include "watch.h"
#include "wrl.h"
#include "xenstored.h"

struct xsd_server xsd;

static uv_check_t barrier;
static uv_timer_t retry; /* wakes the loop to retry a failed flush */
static uv_signal_t sig_term, sig_int, sig_hup;

void xsd_limits_fill(const uint32_t *q, struct store_limits *lim)
{
	lim->nodes_per_domain = q[XSD_Q_NODES];
	lim->node_size = q[XSD_Q_NODE_SIZE];
	lim->perms_per_node = q[XSD_Q_PERMS];
	lim->txn_nodes = q[XSD_Q_TXN_NODES];
	lim->path_max = q[XSD_Q_PATH_MAX];
	lim->memory = q[XSD_Q_MEMORY];
}

void xsd_limits_apply(void)
{
	struct store_limits lim;

	xsd_limits_fill(xsd.cfg.quota, &lim);
	store_set_limits(xsd.st, &lim);
}

static void on_commit(void *ctx, const struct store_commit *c)
{
	(void)ctx;
	for (unsigned i = 0; i < c->nevents; i++)
		xsd_watch_fire(&c->events[i]);
	xsd_persist_submit(c);
	if (!c->caller.privileged) {
		xsd_domain_check_memory(c->caller.domid);
		xsd_wrl_commit(c);
	}
}

static void on_retry(uv_timer_t *h)
{
	(void)h; /* nothing to do: the check handle runs after this */
}

static void on_barrier(uv_check_t *h)
{
	int r;

	(void)h;
	xsd_state_save(); /* in the same journal write as the commits */
	r = xsd_persist_flush();
	if (r) {
		/* nothing may be acknowledged that is not durable: keep the
		 * replies queued and try again next iteration */
		xsd_log("persistence flush failed: %s", strerror(-r));
		uv_timer_start(&retry, on_retry, 100, 0);
		xsd_ring_hold(); /* sleep until the timer, do not spin */
		return;
	}
	xsd_conn_flush_all();
	xsd_ring_flush_all(); /* publishes consumed requests, writes replies */
}

static void shutdown_daemon(void)
{
	if (xsd.stopping)
		return;
	xsd.stopping = true;
	xsd_log("shutting down");
	xsd_state_save();
	if (!xsd_persist_flush()) {
		xsd_conn_flush_all();
		xsd_ring_flush_all();
	}
	xsd_sock_close();
	xsd_ring_stop();
	xsd_wrl_close();
	xsd_conn_close_all();
	uv_check_stop(&barrier);
	uv_close((uv_handle_t *)&retry, NULL);
	uv_close((uv_handle_t *)&barrier, NULL);
	uv_close((uv_handle_t *)&sig_term, NULL);
	uv_close((uv_handle_t *)&sig_int, NULL);
	uv_close((uv_handle_t *)&sig_hup, NULL);
	if (xsd.cfg.pid_file)
		unlink(xsd.cfg.pid_file);
}

#ifndef __SANITIZE_ADDRESS__ /* the sanitizer reports these itself */
/*
 * A fatal signal leaves a backtrace in the log (addresses an admin can
 * give to addr2line), then takes its default action: the store is safe
 * (the journal is the state), and a restart recovers.
 */
static void on_fatal(int signum)
{
	void *frames[48];
	static const char msg[] = "xenstored: fatal signal, backtrace:\n";
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing to do: we are dying */
	}
	backtrace_symbols_fd(frames, backtrace(frames, 48), STDERR_FILENO);
	signal(signum, SIG_DFL);
	raise(signum);
}

static void fatal_handlers_install(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	void *warm[1];
	backtrace(warm, 1); /* loads libgcc now, not inside the handler */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_fatal);
}
#endif

static void on_signal(uv_signal_t *h, int signum)
{
	(void)h;
	if (signum == SIGHUP) {
		int r = xsd_log_reopen();

		if (r)
			fprintf(stderr, "xenstored: reopening the trace file: %s\n",
				strerror(-r));
		return;
	}
	shutdown_daemon();
}

static int write_pid_file(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) ? -errno : 0;
}

/*
 * Forks into the background; the parent exits once the child listens (it
 * writes one byte on ready_fd), so that clients started right after see
 * the socket. Returns the write end for the child, -1 in the foreground.
 */
static int daemonize(void)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid < 0) {
		perror("xenstored: fork");
		exit(1);
	}
	if (pid > 0) {
		close(fds[1]);
		exit(read(fds[0], &c, 1) == 1 ? 0 : 1);
	}
	close(fds[0]);
	setsid();
	pid = fork(); /* never reacquire a controlling terminal */
	if (pid < 0)
		exit(1);
	if (pid > 0)
		_exit(0);
	if (chdir("/")) {
		/* harmless: paths are taken as given */
	}
	umask(022);
	return fds[1];
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	if (!xsd.cfg.verbose)
		dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

/*
 * Fixed malloc thresholds: glibc raises its mmap threshold to the size of
 * any large block freed (the writer's pack, up to 32 MiB) and its trim
 * threshold to twice that, after which such buffers come from the heap
 * and their memory stays in the process once freed. Fixed, large blocks
 * are mapped and unmapped, and free heap tops go back above 256 KiB.
 */
static void malloc_tune(void)
{
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mallopt(M_TRIM_THRESHOLD, 256 * 1024);
}

int main(int argc, char **argv)
{
	int ready_fd = -1, r;

	malloc_tune();

	r = xsd_config_parse(&xsd.cfg, argc, argv);
	if (r)
		return r > 0 ? 0 : 2;
	signal(SIGPIPE, SIG_IGN);
#ifndef __SANITIZE_ADDRESS__
	fatal_handlers_install();
#endif

	if (!xsd.cfg.no_fork) {
		/* print before detaching: stdout goes away after */
		printf("export XENSTORED_PATH=%s\n", xsd.cfg.socket_path);
		fflush(stdout);
		ready_fd = daemonize();
	}
	if ((r = xsd_log_init(xsd.cfg.trace_file, xsd.cfg.verbose)))
		fprintf(stderr, "xenstored: trace file %s: %s\n",
			xsd.cfg.trace_file, strerror(-r));

	xsd.loop = uv_default_loop();
	if ((r = store_new(&xsd.st))) {
		fprintf(stderr, "xenstored: store: %s\n", strerror(-r));
		return 1;
	}
	xsd_limits_apply();
	store_set_commit_hook(xsd.st, on_commit, NULL);
	if ((r = xsd_persist_init(&xsd.cfg, xsd.st))) {
		fprintf(stderr, "xenstored: store %s: %s\n", xsd.cfg.store_dir,
			strerror(-r));
		return 1;
	}
	if ((r = xsd_ring_start(xsd.cfg.backend))) {
		fprintf(stderr, "xenstored: backend %s: %s\n",
			xsd.cfg.backend ? xsd.cfg.backend : "xen",
			strerror(-r));
		return 1;
	}
	if ((r = xsd_wrl_init(xsd.cfg.wrl_rate, xsd.cfg.wrl_dburst,
			      xsd.cfg.wrl_gburst))) {
		fprintf(stderr, "xenstored: write rate limit: %s\n",
			strerror(-r));
		return 1;
	}
	if ((r = xsd_domain_init(!xsd.cfg.no_domain_init))) {
		fprintf(stderr, "xenstored: domains: %s\n", strerror(-r));
		return 1;
	}
	if ((r = xsd_state_restore())) {
		fprintf(stderr, "xenstored: resuming domains: %s\n",
			strerror(-r));
		return 1;
	}
	xsd_domain_wrl_resume();
	if ((r = xsd_sock_listen(xsd.cfg.socket_path))) {
		fprintf(stderr, "xenstored: socket %s: %s\n",
			xsd.cfg.socket_path, r < 0 && r > -4096
			? strerror(-r) : "error");
		return 1;
	}
	if (xsd.cfg.pid_file && (r = write_pid_file(xsd.cfg.pid_file)))
		fprintf(stderr, "xenstored: pid file %s: %s\n",
			xsd.cfg.pid_file, strerror(-r));

	uv_timer_init(xsd.loop, &retry);
	uv_check_init(xsd.loop, &barrier);
	uv_check_start(&barrier, on_barrier);
	uv_signal_init(xsd.loop, &sig_term);
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_signal_init(xsd.loop, &sig_int);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	uv_signal_init(xsd.loop, &sig_hup);
	uv_signal_start(&sig_hup, on_signal, SIGHUP);

	if (xsd.cfg.output_pid) {
		printf("%ld\n", (long)getpid());
		fflush(stdout);
	}
	if (xsd.cfg.no_fork) {
		printf("export XENSTORED_PATH=%s\n", xsd.cfg.socket_path);
		fflush(stdout);
	} else {
		detach_stdio();
		if (write(ready_fd, "1", 1) != 1) {
			/* the parent is gone; nothing to tell */
		}
		close(ready_fd);
	}
	xsd_log("listening on %s", xsd.cfg.socket_path);

	uv_run(xsd.loop, UV_RUN_DEFAULT);

	xsd_watch_shutdown();
	xsd_persist_close();
	xsd_domain_shutdown();
	xsd_ring_free();
	store_free(xsd.st);
	uv_loop_close(xsd.loop);
	xsd_log_shutdown();
	xsd_config_free(&xsd.cfg);
	return 0;
}
