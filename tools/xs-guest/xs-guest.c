/*
 * xs-guest - a simulated guest for the sim backend of xenstored
 * (--backend sim:DIR). It speaks the ring protocol as a guest kernel's
 * xenbus driver does: requests with req ids, watch events queued as they
 * come between replies, transactions retried on EAGAIN.
 *
 *   xs-guest --dir DIR --domid N [--fresh] [--timeout MS] [commands...]
 *
 * The ring file is kept when it exists (a later run continues the same
 * session); --fresh zeroes it, as a newly built domain has it.
 *
 * Commands come from the arguments (one per argument) or, without any,
 * from stdin, one per line; each prints one line: the answer, "OK", or
 * "ERR <NAME>". `help` lists them. Exit status: 0, 1 after a failed
 * setup, 2 when the daemon stopped answering.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "guest_ring.h"
#include "dom0.h"
#include "toolstack.h"

/* How long a reply may take; --timeout raises it (a daemon restart). */
static int reply_ms = 5000;
#define REPLY_MS reply_ms
#define MAX_EVENTS 1024

struct event {
	char *path, *token;
};

static struct guest_ring g;
static const char *sim_dir;
static int keep_ring = 1;
static uint32_t next_req = 1, cur_tx;
static struct event events[MAX_EVENTS];
static unsigned nevents;

/* Reply assembly: one message at a time. */
static struct xsw_hdr rx_hdr;
static char rx_body[XSW_PAYLOAD_MAX + 1];
static size_t rx_have; /* bytes of header + body so far */

static void rx_reset(void)
{
	rx_have = 0;
}

static void queue_event(const char *body, uint32_t len)
{
	const char *tok;

	if (nevents == MAX_EVENTS || !len)
		return;
	tok = memchr(body, 0, len);
	tok = tok ? tok + 1 : body + len;
	events[nevents].path = strndup(body, len);
	events[nevents].token = strndup(tok, body + len - tok);
	nevents++;
}

/*
 * Takes what the ring holds; stores a complete non-event message in
 * *hdr/body and returns 1, queues events, returns 0 when incomplete.
 */
static int rx_pump(struct xsw_hdr *hdr, char **body)
{
	for (;;) {
		size_t want = rx_have < XSW_HDR_SIZE ? XSW_HDR_SIZE - rx_have
			: XSW_HDR_SIZE + rx_hdr.len - rx_have;
		char *dst = rx_have < XSW_HDR_SIZE
			? (char *)&rx_hdr + rx_have
			: rx_body + (rx_have - XSW_HDR_SIZE);
		int n;

		if (want) {
			n = guest_ring_recv(&g, dst, want);
			if (n < 0)
				return n;
			if (!n)
				return 0;
			rx_have += (size_t)n;
			if (rx_have == XSW_HDR_SIZE && rx_hdr.len > XSW_PAYLOAD_MAX)
				return -EIO;
			continue;
		}
		rx_body[rx_hdr.len] = 0;
		rx_have = 0;
		if (rx_hdr.type == XSW_WATCH_EVENT) {
			queue_event(rx_body, rx_hdr.len);
			continue;
		}
		*hdr = rx_hdr;
		*body = rx_body;
		return 1;
	}
}

/* One request, one reply (events arriving meanwhile are queued). */
static int request(uint32_t type, const char *payload, uint32_t len,
		   struct xsw_hdr *rh, char **rbody)
{
	struct xsw_hdr h = { type, next_req++, cur_tx, len };
	char msg[XSW_HDR_SIZE + XSW_PAYLOAD_MAX * 2];
	struct timespec t0, t1;
	int r;

	if (len > sizeof(msg) - XSW_HDR_SIZE)
		return -E2BIG;
	memcpy(msg, &h, XSW_HDR_SIZE);
	memcpy(msg + XSW_HDR_SIZE, payload, len);
	if ((r = guest_ring_send(&g, msg, XSW_HDR_SIZE + len, REPLY_MS)))
		return r;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		r = rx_pump(rh, rbody);
		if (r < 0)
			return r;
		if (r == 1 && rh->req_id == h.req_id)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000 > REPLY_MS)
			return -ETIMEDOUT;
		guest_ring_wait(&g, 50);
	}
}

/* Joins args with NULs ("a\0b\0"); with_last_nul 0 for WRITE's value. */
static uint32_t join(char *out, size_t cap, char **args, int n, int last_nul)
{
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		size_t l = strlen(args[i]);

		if (len + l + 1 > cap)
			break;
		memcpy(out + len, args[i], l);
		len += l;
		if (i < n - 1 || last_nul)
			out[len++] = 0;
	}
	return (uint32_t)len;
}

/* Prints the reply the way a shell test wants to compare it. */
static int show(int r, const struct xsw_hdr *h, const char *body)
{
	if (r == -ETIMEDOUT || r == -EIO) {
		printf("ERR %s\n", r == -EIO ? "RING" : "TIMEOUT");
		return r;
	}
	if (r) {
		printf("ERR %s\n", strerror(-r));
		return 0;
	}
	if (h->type == XSW_ERROR) {
		printf("ERR %s\n", body);
		return 0;
	}
	if (h->type == XSW_DIRECTORY || h->type == XSW_GET_PERMS) {
		/* NUL-separated list: print space-separated */
		for (uint32_t i = 0; i + 1 < h->len; i++)
			putchar(body[i] ? body[i] : ' ');
		putchar('\n');
		return 0;
	}
	fwrite(body, 1, h->len && !body[h->len - 1] ? h->len - 1 : h->len,
	       stdout);
	putchar('\n');
	return 0;
}

static int simple(uint32_t type, char **args, int n, int last_nul)
{
	char buf[XSW_PAYLOAD_MAX * 2];
	struct xsw_hdr rh;
	char *body = NULL;
	uint32_t len = join(buf, sizeof(buf), args, n, last_nul);
	int r = request(type, buf, len, &rh, &body);

	return show(r, &rh, body);
}

/* Like Linux's xenbus users: read, add one, write, commit; EAGAIN: again. */
static int atomic_inc(const char *path)
{
	char buf[64], *body;
	struct xsw_hdr rh;
	int tries = 0, r;

	for (;;) {
		long v = 0;

		tries++;
		cur_tx = 0;
		r = request(XSW_TRANSACTION_START, "", 1, &rh, &body);
		if (r || rh.type == XSW_ERROR)
			return show(r, &rh, body);
		cur_tx = (uint32_t)strtoul(body, NULL, 10);
		r = request(XSW_READ, path, strlen(path) + 1, &rh, &body);
		if (r)
			break;
		if (rh.type != XSW_ERROR)
			v = strtol(body, NULL, 10);
		else if (strcmp(body, "ENOENT"))
			break;
		int n = snprintf(buf, sizeof(buf), "%s%c%ld", path, 0, v + 1);
		r = request(XSW_WRITE, buf, (uint32_t)n, &rh, &body);
		if (r || rh.type == XSW_ERROR)
			break;
		r = request(XSW_TRANSACTION_END, "T", 2, &rh, &body);
		cur_tx = 0;
		if (!r && rh.type == XSW_ERROR && !strcmp(body, "EAGAIN"))
			continue;
		if (r || rh.type == XSW_ERROR)
			return show(r, &rh, body);
		printf("%ld %d\n", v + 1, tries);
		return 0;
	}
	if (cur_tx) {
		struct xsw_hdr eh;
		char *eb;
		int keep = r;

		if (!keep) { /* report the failing reply, not the abort's */
			show(0, &rh, body);
			request(XSW_TRANSACTION_END, "F", 2, &eh, &eb);
			cur_tx = 0;
			return 0;
		}
		cur_tx = 0;
	}
	return show(r, &rh, body);
}

static int wait_event(const char *token, int ms)
{
	struct timespec t0, t1;
	struct xsw_hdr rh;
	char *body;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int r = rx_pump(&rh, &body);

		if (r < 0)
			return show(r, NULL, NULL);
		for (unsigned i = 0; i < nevents; i++) {
			if (token && strcmp(events[i].token, token))
				continue;
			printf("%s %s\n", events[i].path, events[i].token);
			free(events[i].path);
			free(events[i].token);
			memmove(&events[i], &events[i + 1],
				(nevents - i - 1) * sizeof(events[0]));
			nevents--;
			return 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000 >= ms) {
			printf("NONE\n");
			return 0;
		}
		guest_ring_wait(&g, 20);
	}
}

static void hostile(const char *how, int n)
{
	struct xsw_ring_page *p = g.page;

	if (!strcmp(how, "idx")) {
		/* a producer index further ahead than the ring is long */
		__atomic_store_n(&p->req_prod, p->req_cons + 3 * XSW_RING_SIZE,
				 __ATOMIC_SEQ_CST);
	} else if (!strcmp(how, "rsp")) {
		/* a consumer index the daemon's replies can never respect */
		__atomic_store_n(&p->rsp_cons, p->rsp_prod + 5 * XSW_RING_SIZE,
				 __ATOMIC_SEQ_CST);
		struct xsw_hdr h = { XSW_READ, next_req++, 0, 2 };
		char m[XSW_HDR_SIZE + 2];

		memcpy(m, &h, XSW_HDR_SIZE);
		memcpy(m + XSW_HDR_SIZE, "/", 2);
		guest_ring_send(&g, m, sizeof(m), 100);
	} else if (!strcmp(how, "len")) {
		struct xsw_hdr h = { XSW_WRITE, next_req++, 0,
				     XSW_PAYLOAD_MAX + 1 + (uint32_t)n };

		guest_ring_send(&g, &h, sizeof(h), 100);
	} else { /* garbage: n random bytes */
		char buf[4096];

		if (n <= 0 || n > (int)sizeof(buf))
			n = 64;
		for (int i = 0; i < n; i++)
			buf[i] = (char)(rand() | 0x80);
		guest_ring_send(&g, buf, (size_t)n, 100);
	}
	guest_ring_notify(&g);
	printf("OK\n");
}

static int wait_until(uint32_t *field, int nonzero, int ms)
{
	for (int t = 0; t <= ms; t += 10) {
		uint32_t v = __atomic_load_n(field, __ATOMIC_SEQ_CST);

		if (nonzero ? v != 0 : v == 0)
			return 0;
		guest_ring_wait(&g, 10);
	}
	return -ETIMEDOUT;
}

/* connection = 1, wait for the daemon to reset the ring (XSW_CONNECTED). */
static int reconnect(void)
{
	struct xsw_ring_page *p = g.page;

	if (!(p->server_features & XSW_FEATURE_RECONNECTION)) {
		printf("ERR ENOTSUP\n");
		return 0;
	}
	__atomic_store_n(&p->connection, XSW_RECONNECT, __ATOMIC_SEQ_CST);
	guest_ring_notify(&g);
	if (wait_until(&p->connection, 0, REPLY_MS)) {
		printf("ERR TIMEOUT\n");
		return -ETIMEDOUT;
	}
	rx_reset();
	while (nevents) {
		nevents--;
		free(events[nevents].path);
		free(events[nevents].token);
	}
	cur_tx = 0;
	printf("OK\n");
	return 0;
}

/*
 * A guest that does not read its replies: n READs of path sent back to
 * back; after ms, prints how many were sent and how many the daemon took
 * from the ring (its outstanding quota stops it). The replies stay for
 * `drain`.
 */
static void flood(int n, const char *path, int ms)
{
	uint32_t len = (uint32_t)strlen(path) + 1;
	struct xsw_hdr h = { XSW_READ, 0, cur_tx, len };
	char m[XSW_HDR_SIZE + XSW_PAYLOAD_MAX];
	xsw_ring_idx start = __atomic_load_n(&g.page->req_cons, __ATOMIC_SEQ_CST);
	int sent = 0;

	if (len > XSW_PAYLOAD_MAX) {
		printf("ERR E2BIG\n");
		return;
	}
	memcpy(m + XSW_HDR_SIZE, path, len);
	for (; sent < n; sent++) {
		h.req_id = next_req++;
		memcpy(m, &h, XSW_HDR_SIZE);
		if (guest_ring_send(&g, m, XSW_HDR_SIZE + len, 500))
			break;
	}
	usleep((useconds_t)ms * 1000);
	printf("%d %u\n", sent,
	       (__atomic_load_n(&g.page->req_cons, __ATOMIC_SEQ_CST) - start) /
		       (XSW_HDR_SIZE + len));
}

/* Reads n replies (events are queued); prints how many came. */
static int drain(int n)
{
	struct timespec t0, t1;
	struct xsw_hdr rh;
	char *body;
	int got = 0, r = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (got < n) {
		r = rx_pump(&rh, &body);
		if (r < 0)
			break;
		if (r == 1) {
			got++;
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000 > REPLY_MS)
			break;
		guest_ring_wait(&g, 20);
	}
	printf("%d\n", got);
	return r < 0 ? r : 0;
}

static const char help_text[] =
"read P | write P VALUE... | mkdir P | rm P | ls P | getperms P\n"
"setperms P PERM... | watch P TOKEN [DEPTH] | unwatch P TOKEN\n"
"wait-event [TOKEN|-] [MS] | events | reset-watches\n"
"txn-start | txn-commit | txn-abort | atomic-inc P (retries on EAGAIN)\n"
"domain-path N | introduced N | get-feature [N] | get-quota [N] NAME\n"
"introduce [PORT] | release [N] | state running|shutdown|dying|dead [N]\n"
"   (dom0's part: over $XENSTORED_PATH / the sim directory)\n"
"reconnect | error | wait-error [MS] | features\n"
"hostile idx|rsp|len|garbage [N] | sleep MS | quit\n"
"flood N P MS (N READs, replies left unread: prints sent, taken)\n"
"drain N (reads N replies: prints how many came)\n"
"dom0 TYPE ARG... (raw request over $XENSTORED_PATH, e.g. SET_QUOTA)\n"
"dom0-watch PATH TOKEN [DEPTH] COUNT MS (prints COUNT events' paths)\n";

static uint32_t arg_domid(char **a, int n, int i)
{
	return n > i ? (uint32_t)strtoul(a[i], NULL, 10) : g.domid;
}

/* Runs one command line; returns < 0 when the daemon stopped answering. */
static int run(char *line)
{
	char *a[64], *save = NULL;
	int n = 0, r = 0;

	for (char *t = strtok_r(line, " \t\n", &save); t && n < 64;
	     t = strtok_r(NULL, " \t\n", &save))
		a[n++] = t;
	if (!n || a[0][0] == '#')
		return 0;
	/* dom0's commands need no ring: do not make this domain exist */
	if (strncmp(a[0], "dom0", 4) && !g.page &&
	    (r = guest_ring_open(&g, sim_dir, g.domid, keep_ring))) {
		fprintf(stderr, "xs-guest: %s/dom%u: %s\n", sim_dir, g.domid,
			strerror(-r));
		return -1;
	}
#define IS(s) (!strcmp(a[0], s))
	if (IS("read") && n == 2)
		r = simple(XSW_READ, a + 1, 1, 1);
	else if (IS("write") && n >= 2) {
		/* the value is the rest of the line, spaces kept as one */
		char val[XSW_PAYLOAD_MAX] = "", *args[2] = { a[1], val };

		for (int i = 2; i < n; i++) {
			if (i > 2)
				strncat(val, " ", sizeof(val) - strlen(val) - 1);
			strncat(val, a[i], sizeof(val) - strlen(val) - 1);
		}
		r = simple(XSW_WRITE, args, 2, 0);
	} else if (IS("mkdir") && n == 2)
		r = simple(XSW_MKDIR, a + 1, 1, 1);
	else if (IS("rm") && n == 2)
		r = simple(XSW_RM, a + 1, 1, 1);
	else if (IS("ls") && n == 2)
		r = simple(XSW_DIRECTORY, a + 1, 1, 1);
	else if (IS("getperms") && n == 2)
		r = simple(XSW_GET_PERMS, a + 1, 1, 1);
	else if (IS("setperms") && n >= 3)
		r = simple(XSW_SET_PERMS, a + 1, n - 1, 1);
	else if (IS("watch") && (n == 3 || n == 4))
		r = simple(XSW_WATCH, a + 1, n - 1, 1);
	else if (IS("unwatch") && n == 3)
		r = simple(XSW_UNWATCH, a + 1, 2, 1);
	else if (IS("reset-watches"))
		r = simple(XSW_RESET_WATCHES, a, 0, 1);
	else if (IS("wait-event"))
		r = wait_event(n > 1 && strcmp(a[1], "-") ? a[1] : NULL,
			       n > 2 ? atoi(a[2]) : REPLY_MS);
	else if (IS("events"))
		printf("%u\n", nevents);
	else if (IS("txn-start")) {
		struct xsw_hdr rh;
		char *body;

		cur_tx = 0;
		r = request(XSW_TRANSACTION_START, "", 1, &rh, &body);
		if (!r && rh.type != XSW_ERROR)
			cur_tx = (uint32_t)strtoul(body, NULL, 10);
		r = show(r, &rh, body);
	} else if (IS("txn-commit") || IS("txn-abort")) {
		char *arg = IS("txn-commit") ? "T" : "F";

		r = simple(XSW_TRANSACTION_END, &arg, 1, 1);
		cur_tx = 0;
	} else if (IS("atomic-inc") && n == 2)
		r = atomic_inc(a[1]);
	else if (IS("domain-path") && n == 2)
		r = simple(XSW_GET_DOMAIN_PATH, a + 1, 1, 1);
	else if (IS("introduced") && n == 2)
		r = simple(XSW_IS_DOMAIN_INTRODUCED, a + 1, 1, 1);
	else if (IS("get-feature"))
		r = simple(XSW_GET_FEATURE, a + 1, n - 1, 1);
	else if (IS("get-quota") && n >= 2)
		r = simple(XSW_GET_QUOTA, a + 1, n - 1, 1);
	else if (IS("introduce")) {
		int e = toolstack_introduce(g.domid,
					    n > 1 ? (uint32_t)atoi(a[1]) : 1);

		printf(e ? "ERR %s\n" : "OK\n", strerror(-e));
	} else if (IS("release")) {
		int e = toolstack_release(arg_domid(a, n, 1));

		printf(e ? "ERR %s\n" : "OK\n", strerror(-e));
	} else if (IS("state") && n >= 2) {
		int e = toolstack_set_state(sim_dir, arg_domid(a, n, 2), a[1]);

		printf(e ? "ERR %s\n" : "OK\n", strerror(-e));
	} else if (IS("reconnect"))
		r = reconnect();
	else if (IS("error"))
		printf("%u\n", g.page->error);
	else if (IS("wait-error")) {
		wait_until(&g.page->error, 1, n > 1 ? atoi(a[1]) : REPLY_MS);
		printf("%u\n", g.page->error);
	} else if (IS("features"))
		printf("%u\n", g.page->server_features);
	else if (IS("hostile") && n >= 2)
		hostile(a[1], n > 2 ? atoi(a[2]) : 0);
	else if (IS("flood") && n == 4)
		flood(atoi(a[1]), a[2], atoi(a[3]));
	else if (IS("drain") && n == 2)
		r = drain(atoi(a[1]));
	else if (IS("sleep") && n == 2)
		usleep((useconds_t)atoi(a[1]) * 1000);
	else if (IS("dom0") && n >= 2)
		r = dom0_request(a[1], a + 2, n - 2);
	else if (IS("dom0-watch") && (n == 5 || n == 6))
		r = dom0_watch(a + 1, n - 3, atoi(a[n - 2]), atoi(a[n - 1]));
	else if (IS("help"))
		fputs(help_text, stdout);
	else if (IS("quit"))
		return 1;
	else
		printf("ERR usage\n");
#undef IS
	fflush(stdout);
	return r < 0 ? r : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "domid", required_argument, NULL, 'n' },
		{ "fresh", no_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t domid = 1;
	int opt, r;
	char line[8192];

	while ((opt = getopt_long(argc, argv, "d:n:ft:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': sim_dir = optarg; break;
		case 'n': domid = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'f': keep_ring = 0; break;
		case 't': reply_ms = atoi(optarg) > 0 ? atoi(optarg) : 5000; break;
		case 'h':
			printf("usage: xs-guest --dir DIR --domid N [--fresh] "
			       "[--timeout MS] [COMMAND...]\n%s", help_text);
			return 0;
		default:
			return 1;
		}
	}
	if (!sim_dir) {
		fprintf(stderr, "xs-guest: --dir DIR (xenstored --backend sim:DIR) is needed\n");
		return 1;
	}
	srand((unsigned)getpid());
	g.domid = domid; /* the ring opens with the first command needing it */
	g.evfd = -1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	r = 0;
	if (optind < argc) {
		for (int i = optind; i < argc && !r; i++) {
			snprintf(line, sizeof(line), "%s", argv[i]);
			r = run(line);
		}
	} else {
		while (!r && fgets(line, sizeof(line), stdin))
			r = run(line);
	}
	guest_ring_close(&g);
	return r < 0 ? 2 : 0;
}
