/* daemon.c - start/probe/stop the daemons under test (see daemon.h). */
#include "daemon.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bc.h"

const char *bench_kind_name(enum bench_kind k)
{
	switch (k) {
	case BENCH_OURS: return "ours";
	case BENCH_CXS: return "cxenstored";
	case BENCH_OXS: return "oxenstored";
	default: return "?";
	}
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int start_ours(struct bench_daemon *d, const struct bench_daemon_opts *o)
{
	char pidf[320], logf[320];
	const char *argv[64];
	int n = 0;
	pid_t pid;

	if (!o->ours || access(o->ours, X_OK) < 0) {
		fprintf(stderr, "xs-bench: our daemon '%s' is not executable\n",
			o->ours ? o->ours : "(none)");
		return -ENOENT;
	}
	snprintf(d->store, sizeof(d->store), "%s", o->store ? o->store : "");
	if (!o->store)
		snprintf(d->store, sizeof(d->store), "%s/store", d->dir);
	snprintf(pidf, sizeof(pidf), "%s/pid", d->dir);
	snprintf(logf, sizeof(logf), "%s/daemon.log", d->dir);
	argv[n++] = o->ours;
	argv[n++] = "-N";
	argv[n++] = "--socket";
	argv[n++] = d->sock;
	argv[n++] = "--pid-file";
	argv[n++] = pidf;
	argv[n++] = "--store";
	argv[n++] = d->store;
	for (int i = 0; o->extra && o->extra[i] && n < 63; i++)
		argv[n++] = o->extra[i];
	argv[n] = NULL;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open(logf, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int nul = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (nul >= 0)
			dup2(nul, 0);
		setsid();
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	d->pid = pid;
	d->child = true;
	return 0;
}

static int start_peer(struct bench_daemon *d, const struct bench_daemon_opts *o)
{
	char cmd[1024], line[128] = "";
	FILE *p;
	long pid = 0;

	snprintf(cmd, sizeof(cmd), "sh '%s/start-peer.sh' '%s' %s",
		 o->peer_dir, d->dir, d->kind == BENCH_CXS ? "c" : "o");
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	while (fgets(line, sizeof(line), p))
		pid = strtol(line, NULL, 10);
	if (pclose(p) != 0 || pid <= 0) {
		fprintf(stderr, "xs-bench: %s did not start\n",
			bench_kind_name(d->kind));
		return -ECHILD;
	}
	d->pid = (pid_t)pid;
	d->child = false;
	return 0;
}

int bench_daemon_start(struct bench_daemon *d, enum bench_kind kind,
		       const char *dir, const struct bench_daemon_opts *o)
{
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	snprintf(d->dir, sizeof(d->dir), "%s", dir);
	snprintf(d->sock, sizeof(d->sock), "%s/socket", dir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	unlink(d->sock);
	return kind == BENCH_OURS ? start_ours(d, o) : start_peer(d, o);
}

/* True while the process exists and is not a zombie. */
static bool alive(struct bench_daemon *d)
{
	char path[64], buf[256];
	FILE *f;
	char *p;
	bool up;

	if (d->pid <= 0)
		return false;
	if (d->child) {
		int st;
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			return false;
		}
		return true;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)d->pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	up = fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
	     p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	fclose(f);
	return up;
}

void bench_daemon_log_tail(const struct bench_daemon *d)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "tail -n 20 '%s/daemon.log' >&2", d->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "(no log in %s)\n", d->dir);
}

int bench_daemon_wait_ready(struct bench_daemon *d, double timeout_s)
{
	double end = bc_now() + timeout_s;

	while (bc_now() < end) {
		struct bc_conn c;
		struct bc_reply r;

		if (!alive(d)) {
			fprintf(stderr, "%s died at start:\n",
				bench_kind_name(d->kind));
			bench_daemon_log_tail(d);
			return -ECHILD;
		}
		if (bc_connect(&c, d->sock) == 0) {
			int rc = bc_send(&c, XSW_READ, 0, "/", 2);
			if (rc >= 0)
				rc = bc_recv(&c, &r);
			bc_close(&c);
			if (rc == 0)
				return 0;
		}
		sleep_s(0.0005);
	}
	return -ETIMEDOUT;
}

int bench_daemon_stop(struct bench_daemon *d, double timeout_s)
{
	double end = bc_now() + timeout_s;
	int ret = 1;

	if (d->pid <= 0)
		return 1;
	kill(d->pid, SIGTERM);
	while (bc_now() < end) {
		if (d->child) {
			int st;
			if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
				ret = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
				d->pid = 0;
				return ret;
			}
		} else if (!alive(d)) {
			d->pid = 0;
			return 0;
		}
		sleep_s(0.002);
	}
	bench_daemon_kill9(d);
	return 1;
}

void bench_daemon_kill9(struct bench_daemon *d)
{
	if (d->pid <= 0)
		return;
	kill(d->pid, SIGKILL);
	if (d->child) {
		int st;
		waitpid(d->pid, &st, 0);
	} else {
		for (int i = 0; i < 1000 && alive(d); i++)
			sleep_s(0.002);
	}
	d->pid = 0;
}

long bench_daemon_rss_kib(const struct bench_daemon *d)
{
	char path[64], line[256];
	long kib = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)d->pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

struct rss_part {
	char name[96];
	long kib, anon_kib;
};

static void rss_part_add(struct rss_part *p, int *n, int max,
			 const char *name, long kib, long anon)
{
	int i;

	for (i = 0; i < *n; i++)
		if (!strcmp(p[i].name, name))
			break;
	if (i == *n) {
		if (*n == max)
			i = max - 1; /* the last slot collects the rest */
		else
			snprintf(p[(*n)++].name, sizeof(p[i].name), "%s", name);
	}
	p[i].kib += kib;
	p[i].anon_kib += anon;
}

static int rss_part_cmp(const void *a, const void *b)
{
	const struct rss_part *x = a, *y = b;

	return (y->kib > x->kib) - (y->kib < x->kib);
}

int bench_daemon_rss_map(const struct bench_daemon *d, FILE *out)
{
	struct rss_part parts[48] = { 0 };
	char path[64], line[512], name[96] = "";
	long kib, total = 0, anon_total = 0;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)d->pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *sp;

		/* A mapping's header: "start-end perms offset dev inode path". */
		if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' ')) {
			int fields = 0;

			line[strcspn(line, "\n")] = '\0';
			sp = line;
			while (fields < 5 && (sp = strchr(sp, ' '))) {
				sp += strspn(sp, " ");
				fields++;
			}
			const char *src = sp && *sp ? sp : "[anon]";
			/* a file's mapping goes by its base name */
			if (src[0] == '/')
				src = strrchr(src, '/') + 1;
			snprintf(name, sizeof(name), "%.*s",
				 (int)sizeof(name) - 1, src);
			continue;
		}
		if (!strncmp(line, "Rss:", 4)) {
			kib = strtol(line + 4, NULL, 10);
			rss_part_add(parts, &n, 48, name, kib, 0);
			total += kib;
		} else if (!strncmp(line, "Anonymous:", 10)) {
			kib = strtol(line + 10, NULL, 10);
			rss_part_add(parts, &n, 48, name, 0, kib);
			anon_total += kib;
		}
	}
	fclose(f);
	qsort(parts, n, sizeof(parts[0]), rss_part_cmp);
	fprintf(out, "%s: RSS %ld KiB, anonymous %ld KiB, file %ld KiB\n",
		bench_kind_name(d->kind), total, anon_total,
		total - anon_total);
	for (int i = 0; i < n && parts[i].kib >= 64; i++)
		fprintf(out, "  %8ld KiB (anon %8ld)  %s\n", parts[i].kib,
			parts[i].anon_kib, parts[i].name);
	return 0;
}

/* utime + stime of one task, from the fields after its "(comm)". */
static double task_cpu(const char *dir)
{
	char path[340], line[1024];
	unsigned long long ut, st;
	FILE *f;
	char *p;

	snprintf(path, sizeof(path), "%s/stat", dir);
	f = fopen(path, "r");
	if (!f)
		return 0; /* the thread ended meanwhile */
	p = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
	fclose(f);
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%llu %llu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

double bench_daemon_cpu(const struct bench_daemon *d)
{
	char dir[64];

	snprintf(dir, sizeof(dir), "/proc/%d", (int)d->pid);
	if (access(dir, F_OK))
		return -errno;
	return task_cpu(dir); /* the process: its ended threads included */
}

double bench_daemon_writer_cpu(const struct bench_daemon *d, const char *name)
{
	double all = bench_daemon_cpu(d), others = 0, named;
	char path[64], dir[320];
	struct dirent *e;
	DIR *td;

	if (all < 0)
		return all;
	named = bench_daemon_thread_cpu(d, name);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)d->pid);
	if (!(td = opendir(path)))
		return -errno;
	while ((e = readdir(td)))
		if (e->d_name[0] != '.') {
			snprintf(dir, sizeof(dir), "%s/%s", path, e->d_name);
			others += task_cpu(dir);
		}
	closedir(td);
	others -= named;
	return all - others;
}

double bench_daemon_thread_cpu(const struct bench_daemon *d, const char *name)
{
	char path[64], dir[320], comm[64];
	struct dirent *e;
	double sum = 0;
	DIR *td;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)d->pid);
	if (!(td = opendir(path)))
		return -errno;
	while ((e = readdir(td))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", path, e->d_name);
		if (name) {
			char cp[340];
			FILE *f;
			snprintf(cp, sizeof(cp), "%s/comm", dir);
			if (!(f = fopen(cp, "r")))
				continue;
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = '\0';
			fclose(f);
			comm[strcspn(comm, "\n")] = '\0';
			if (strcmp(comm, name))
				continue;
		}
		sum += task_cpu(dir);
	}
	closedir(td);
	return sum;
}
