/*
 * xs-lib-test - behaviour seen through Debian's libxenstore: watches and
 * their tokens, transactions (own writes, isolation, EAGAIN then retry),
 * permissions, many connections, and a client killed mid-request.
 * Connects to $XENSTORED_PATH (set by tests/lib/daemon.sh).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenstore.h>

static int failures;

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "FAIL %s:%d: %s: ", __func__,       \
				__LINE__, #cond);                           \
			fprintf(stderr, __VA_ARGS__);                       \
			fputc('\n', stderr);                                \
			failures++;                                         \
		}                                                           \
	} while (0)

static struct xs_handle *open_handle(void)
{
	struct xs_handle *h = xs_open(0);

	if (!h) {
		perror("xs_open");
		exit(1);
	}
	return h;
}

static char *read_str(struct xs_handle *h, xs_transaction_t t, const char *p)
{
	unsigned int len;

	return xs_read(h, t, p, &len);
}

static bool str_is(char *got, const char *want)
{
	bool ok = got && !strcmp(got, want);

	free(got);
	return ok;
}

/* Next watch event within ms, or false; path and token copied out. */
static bool next_event(struct xs_handle *h, int ms, char *path, char *token)
{
	struct pollfd p = { .fd = xs_fileno(h), .events = POLLIN };
	unsigned int n;
	char **v;

	if (poll(&p, 1, ms) <= 0)
		return false;
	v = xs_read_watch(h, &n);
	if (!v)
		return false;
	snprintf(path, 256, "%s", v[XS_WATCH_PATH]);
	snprintf(token, 256, "%s", v[XS_WATCH_TOKEN]);
	free(v);
	return true;
}

static void test_watches(void)
{
	struct xs_handle *w = open_handle(), *o = open_handle();
	char path[256], token[256];

	CHECK(xs_write(o, XBT_NULL, "/w/pre", "x", 1), "write");
	CHECK(xs_watch(w, "/w", "tokA"), "watch");
	CHECK(xs_watch(w, "/w/pre", "tokB"), "second watch");
	CHECK(!xs_watch(w, "/w", "tokA") && errno == EEXIST,
	      "duplicate watch: errno %d", errno);
	/* initial events, one per watch, in registration order */
	CHECK(next_event(w, 2000, path, token), "no initial event");
	CHECK(!strcmp(path, "/w") && !strcmp(token, "tokA"), "%s %s", path, token);
	CHECK(next_event(w, 2000, path, token), "no second initial event");
	CHECK(!strcmp(path, "/w/pre") && !strcmp(token, "tokB"), "%s %s", path, token);
	/* a change below the watched path, made by another connection */
	CHECK(xs_write(o, XBT_NULL, "/w/new", "v", 1), "write");
	CHECK(next_event(w, 2000, path, token), "no event for /w/new");
	CHECK(!strcmp(path, "/w/new") && !strcmp(token, "tokA"), "%s %s", path, token);
	CHECK(!next_event(w, 200, path, token), "extra event %s %s", path, token);
	/* both watches fire for a change to /w/pre */
	CHECK(xs_write(o, XBT_NULL, "/w/pre", "y", 1), "write");
	int seen = 0;
	while (next_event(w, 500, path, token))
		if (!strcmp(path, "/w/pre"))
			seen |= !strcmp(token, "tokA") ? 1 : !strcmp(token, "tokB") ? 2 : 4;
	CHECK(seen == 3, "tokens seen mask %d", seen);
	/* after unwatch, silence */
	CHECK(xs_unwatch(w, "/w", "tokA"), "unwatch");
	CHECK(xs_unwatch(w, "/w/pre", "tokB"), "unwatch");
	CHECK(xs_write(o, XBT_NULL, "/w/new", "z", 1), "write");
	CHECK(!next_event(w, 300, path, token), "event after unwatch %s", path);
	xs_close(w);
	xs_close(o);
}

static void test_transactions(void)
{
	struct xs_handle *a = open_handle(), *b = open_handle();
	xs_transaction_t t;

	CHECK(xs_write(a, XBT_NULL, "/tx/x", "base", 4), "write");
	/* own writes visible inside, invisible outside until commit */
	t = xs_transaction_start(a);
	CHECK(t != XBT_NULL, "start");
	CHECK(xs_write(a, t, "/tx/x", "mine", 4), "write in tx");
	CHECK(str_is(read_str(a, t, "/tx/x"), "mine"), "own write not seen");
	CHECK(str_is(read_str(b, XBT_NULL, "/tx/x"), "base"), "leaked before commit");
	CHECK(xs_transaction_end(a, t, false), "commit: errno %d", errno);
	CHECK(str_is(read_str(b, XBT_NULL, "/tx/x"), "mine"), "not committed");
	/* abort discards */
	t = xs_transaction_start(a);
	CHECK(xs_write(a, t, "/tx/x", "gone", 4), "write in tx");
	CHECK(xs_transaction_end(a, t, true), "abort");
	CHECK(str_is(read_str(b, XBT_NULL, "/tx/x"), "mine"), "abort applied");
	/* conflict: b changes what a's transaction read -> EAGAIN */
	t = xs_transaction_start(a);
	CHECK(str_is(read_str(a, t, "/tx/x"), "mine"), "read in tx");
	CHECK(xs_write(b, XBT_NULL, "/tx/x", "b-won", 5), "write by b");
	CHECK(xs_write(a, t, "/tx/y", "from-a", 6), "write in tx");
	CHECK(!xs_transaction_end(a, t, false) && errno == EAGAIN,
	      "commit after conflict: errno %d", errno);
	CHECK(read_str(b, XBT_NULL, "/tx/y") == NULL && errno == ENOENT,
	      "a failed transaction applied");
	/* the retry, as clients do, succeeds */
	for (int tries = 0; tries < 5; tries++) {
		t = xs_transaction_start(a);
		char *v = read_str(a, t, "/tx/x");
		CHECK(v && !strcmp(v, "b-won"), "retry read");
		free(v);
		xs_write(a, t, "/tx/y", "from-a", 6);
		if (xs_transaction_end(a, t, false))
			break;
		CHECK(errno == EAGAIN, "retry errno %d", errno);
	}
	CHECK(str_is(read_str(b, XBT_NULL, "/tx/y"), "from-a"), "retry lost");
	xs_close(a);
	xs_close(b);
}

static void test_permissions(void)
{
	struct xs_handle *h = open_handle();
	struct xs_permissions set[2] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = 5, .perms = XS_PERM_READ },
	};
	unsigned int n = 0;

	CHECK(xs_write(h, XBT_NULL, "/perm", "x", 1), "write");
	struct xs_permissions *p = xs_get_permissions(h, XBT_NULL, "/perm", &n);
	CHECK(p && n == 1 && p[0].id == 0 && p[0].perms == XS_PERM_NONE,
	      "default perms n=%u", n);
	free(p);
	CHECK(xs_set_permissions(h, XBT_NULL, "/perm", set, 2), "set");
	p = xs_get_permissions(h, XBT_NULL, "/perm", &n);
	CHECK(p && n == 2 && p[0].id == 0 && p[0].perms == XS_PERM_NONE &&
	      p[1].id == 5 && p[1].perms == XS_PERM_READ, "perms n=%u", n);
	free(p);
	/* children inherit the parent's permissions when created */
	CHECK(xs_write(h, XBT_NULL, "/perm/kid", "k", 1), "write kid");
	p = xs_get_permissions(h, XBT_NULL, "/perm/kid", &n);
	CHECK(p && n == 2 && p[1].id == 5 && p[1].perms == XS_PERM_READ,
	      "inherited n=%u", n);
	free(p);
	CHECK(!xs_get_permissions(h, XBT_NULL, "/perm/none", &n) &&
	      errno == ENOENT, "missing node errno %d", errno);
	xs_close(h);
}

#define NCONN 100

static void test_many_connections(void)
{
	struct xs_handle *hs[NCONN];
	char path[64], val[16];
	unsigned int n;

	for (int i = 0; i < NCONN; i++)
		hs[i] = open_handle();
	for (int i = 0; i < NCONN; i++) {
		snprintf(path, sizeof(path), "/many/%d", i);
		snprintf(val, sizeof(val), "v%d", i);
		CHECK(xs_write(hs[i], XBT_NULL, path, val, strlen(val)), "%s", path);
	}
	char **d = xs_directory(hs[0], XBT_NULL, "/many", &n);
	CHECK(d && n == NCONN, "listed %u", n);
	free(d);
	for (int i = 0; i < NCONN; i++) {
		snprintf(path, sizeof(path), "/many/%d", (i + 1) % NCONN);
		snprintf(val, sizeof(val), "v%d", (i + 1) % NCONN);
		CHECK(str_is(read_str(hs[i], XBT_NULL, path), val), "%s", path);
	}
	for (int i = 0; i < NCONN; i++)
		xs_close(hs[i]);
}

/* A raw client that sends part of a WRITE and is then killed. */
static pid_t spawn_half_writer(void)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", getenv("XENSTORED_PATH"));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		_exit(1);
	uint32_t hdr[4] = { XS_WRITE, 1, 0, 64 };
	if (write(fd, hdr, sizeof(hdr)) < 0 || write(fd, "/killed\0par", 11) < 0)
		_exit(1);
	pause();
	_exit(0);
}

/* A libxenstore client writing in a loop until killed. */
static pid_t spawn_busy_writer(void)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	struct xs_handle *h = xs_open(0);
	char v[32];
	for (unsigned i = 0; h; i++) {
		snprintf(v, sizeof(v), "%u", i);
		if (!xs_write(h, XBT_NULL, "/busy/counter", v, strlen(v)))
			_exit(1); /* daemon gone: do not spin */
		xs_transaction_t t = xs_transaction_start(h);
		xs_write(h, t, "/busy/tx", v, strlen(v));
		/* killed here, mid-transaction, now and then */
		xs_transaction_end(h, t, false);
	}
	_exit(1);
}

static void test_killed_client(void)
{
	struct xs_handle *h = open_handle();
	char path[256], token[256];

	CHECK(xs_watch(h, "/busy", "busy"), "watch");
	CHECK(next_event(h, 2000, path, token), "initial event");
	pid_t half = spawn_half_writer();
	pid_t busy = spawn_busy_writer();
	usleep(300 * 1000);
	kill(half, SIGKILL);
	kill(busy, SIGKILL);
	waitpid(half, NULL, 0);
	waitpid(busy, NULL, 0);
	/* drain the busy writer's events; the daemon must still answer */
	while (next_event(h, 100, path, token))
		;
	CHECK(xs_write(h, XBT_NULL, "/after-kill", "ok", 2), "write after kill");
	CHECK(str_is(read_str(h, XBT_NULL, "/after-kill"), "ok"), "read after kill");
	CHECK(read_str(h, XBT_NULL, "/killed") == NULL && errno == ENOENT,
	      "half-sent write applied");
	char *c = read_str(h, XBT_NULL, "/busy/counter");
	CHECK(c != NULL, "busy writer never wrote");
	free(c);
	/* the survivor's watch still works */
	CHECK(xs_write(h, XBT_NULL, "/busy/again", "1", 1), "write");
	CHECK(next_event(h, 2000, path, token) && !strcmp(path, "/busy/again"),
	      "event after kill: %s", path);
	xs_close(h);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_watches();
	test_transactions();
	test_permissions();
	test_many_connections();
	test_killed_client();
	if (failures) {
		fprintf(stderr, "%d checks failed\n", failures);
		return 1;
	}
	puts("ok: libxenstore watches, transactions, permissions, connections, killed client");
	return 0;
}
