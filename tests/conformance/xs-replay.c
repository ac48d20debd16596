/*
 * xs-replay - send a corpus of raw xenbus requests over Unix sockets and
 * print every reply, so that two daemons can be compared line by line.
 *
 * It is a raw socket client on purpose: the corpus holds malformed
 * headers, oversize lengths and unknown types that libxenstore refuses
 * to send. Self-contained (libc only) so that it builds before the
 * daemon does. The corpus format is documented in README.md next to it.
 *
 * Usage: xs-replay [-s SOCKET] [-t TIMEOUT_MS] CORPUS
 *   SOCKET defaults to $XENSTORED_PATH, then $XENSTORED_RUNDIR/socket.
 * Output goes to stdout; the exit status is 0 unless the corpus itself is
 * broken (a reply that differs is not an error here: the caller diffs).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define HDR_SIZE 16u
#define BODY_MAX 65536u  /* what we accept back; far above the protocol */
#define LINE_MAX_LEN 8192
#define MAX_CONNS 16
#define MAX_VARS 64
#define MAX_EVENTS 256
#define EVENT_TYPE 15u
#define QUIET_MS 100     /* how long "events" waits for stragglers */

struct hdr {
	uint32_t type, req_id, tx_id, len;
};

struct msg {
	struct hdr h;
	char *body;
};

struct conn {
	char name[32];
	int fd;          /* -1: not connected (connects on first use) */
	uint8_t buf[HDR_SIZE + BODY_MAX];
	size_t have;
	struct msg events[MAX_EVENTS];
	int nevents;
	bool eof;
};

struct var {
	char name[32];
	char value[64];
};

static const char *const type_names[] = {
	"CONTROL", "DIRECTORY", "READ", "GET_PERMS", "WATCH", "UNWATCH",
	"TRANSACTION_START", "TRANSACTION_END", "INTRODUCE", "RELEASE",
	"GET_DOMAIN_PATH", "WRITE", "MKDIR", "RM", "SET_PERMS", "WATCH_EVENT",
	"ERROR", "IS_DOMAIN_INTRODUCED", "RESUME", "SET_TARGET", "RESTRICT",
	"RESET_WATCHES", "DIRECTORY_PART", "GET_FEATURE", "SET_FEATURE",
	"GET_QUOTA", "SET_QUOTA",
};
#define NTYPES (sizeof(type_names) / sizeof(type_names[0]))

static struct conn conns[MAX_CONNS];
static int nconns;
static struct var vars[MAX_VARS];
static int nvars;
static const char *sock_path;
static int timeout_ms = 3000;
static uint32_t next_req_id = 1;
static const char *corpus_name;
static int lineno;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s:%d: ", corpus_name, lineno);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void print_escaped(const char *s, size_t len)
{
	putchar('"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0')
			fputs("\\0", stdout);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_type(uint32_t type)
{
	if (type < NTYPES)
		fputs(type_names[type], stdout);
	else
		printf("TYPE_%u", type);
}

static const char *var_get(const char *name)
{
	for (int i = 0; i < nvars; i++)
		if (!strcmp(vars[i].name, name))
			return vars[i].value;
	die("unknown variable $%s", name);
	return NULL;
}

static void var_set(const char *name, const char *value, size_t len)
{
	int i;

	for (i = 0; i < nvars; i++)
		if (!strcmp(vars[i].name, name))
			break;
	if (i == nvars) {
		if (nvars == MAX_VARS)
			die("too many variables");
		nvars++;
	}
	snprintf(vars[i].name, sizeof(vars[i].name), "%s", name);
	if (len >= sizeof(vars[i].value))
		len = sizeof(vars[i].value) - 1;
	memcpy(vars[i].value, value, len);
	vars[i].value[len] = '\0';
}

/* Name of the variable holding this number, so that ids never print. */
static const char *var_by_value(uint32_t v)
{
	char s[16];

	snprintf(s, sizeof(s), "%u", v);
	for (int i = 0; i < nvars; i++)
		if (!strcmp(vars[i].value, s))
			return vars[i].name;
	return NULL;
}

static struct conn *conn_get(const char *name)
{
	for (int i = 0; i < nconns; i++)
		if (!strcmp(conns[i].name, name))
			return &conns[i];
	if (nconns == MAX_CONNS)
		die("too many connections");
	struct conn *c = &conns[nconns++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->fd = -1;
	return c;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->have = 0;
	c->eof = false;
}

/*
 * A closed connection name reconnects on its next use, as a client would.
 * Returns false when the daemon refuses (it died): that is a result to
 * print, not a broken corpus.
 */
static bool conn_open(struct conn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (c->fd >= 0 && !c->eof)
		return true;
	conn_close(c);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket: %s", strerror(errno));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		conn_close(c);
		return false;
	}
	return true;
}

static void conn_send(struct conn *c, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return; /* the daemon dropped us: the read side reports it */
		p += n;
		len -= (size_t)n;
	}
}

/*
 * Reads one whole message from c, waiting until deadline (ms, monotonic).
 * Returns 1 with *m filled (body malloc'd), 0 on timeout, -1 on EOF/reset.
 */
static int conn_read_msg(struct conn *c, struct msg *m, long deadline)
{
	for (;;) {
		if (c->have >= HDR_SIZE) {
			struct hdr h;

			memcpy(&h, c->buf, HDR_SIZE);
			if (h.len > BODY_MAX)
				die("reply of %u bytes on %s", h.len, c->name);
			if (c->have >= HDR_SIZE + h.len) {
				m->h = h;
				m->body = malloc(h.len + 1);
				if (!m->body)
					die("out of memory");
				memcpy(m->body, c->buf + HDR_SIZE, h.len);
				m->body[h.len] = '\0';
				c->have -= HDR_SIZE + h.len;
				memmove(c->buf, c->buf + HDR_SIZE + h.len,
					c->have);
				return 1;
			}
		}
		if (c->eof)
			return -1;
		long left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		ssize_t n = read(c->fd, c->buf + c->have,
				 sizeof(c->buf) - c->have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			c->eof = true;
			continue;
		}
		c->have += (size_t)n;
	}
}

static void queue_event(struct conn *c, struct msg *m)
{
	if (c->nevents == MAX_EVENTS)
		die("more than %d unread events on %s", MAX_EVENTS, c->name);
	c->events[c->nevents++] = *m;
}

static void print_events(struct conn *c, const char *label)
{
	for (int i = 0; i < c->nevents; i++) {
		printf("%s => WATCH_EVENT ", label);
		print_escaped(c->events[i].body, c->events[i].h.len);
		putchar('\n');
		free(c->events[i].body);
	}
	c->nevents = 0;
}

/* Per-request options parsed from the end of a corpus line. */
struct opts {
	long len;            /* header len override, -1: actual length */
	char capture[32];    /* "-> $name" */
	bool norm_gen;       /* DIRECTORY_PART: hide the generation */
	bool norm_text;      /* hide a free-form text reply */
	bool nowait;         /* send only; no reply expected */
	long req_id;         /* header req_id override, -1: next */
};

static void print_reply(const struct msg *m, const struct opts *o,
			uint32_t req_id, uint32_t tx)
{
	print_type(m->h.type);
	putchar(' ');
	if (o->capture[0] && m->h.type != 16u) {
		printf("$%s", o->capture);
	} else if (o->norm_text && m->h.type != 16u) {
		fputs(m->h.len ? "<text>" : "\"\"", stdout);
	} else if (o->norm_gen && m->h.type != 16u) {
		size_t g = strnlen(m->body, m->h.len);

		fputs("<gen>", stdout);
		if (g < m->h.len)
			print_escaped(m->body + g, m->h.len - g);
	} else {
		print_escaped(m->body, m->h.len);
	}
	if (m->h.req_id != req_id)
		printf(" [req_id %u, sent %u]", m->h.req_id, req_id);
	if (m->h.tx_id != tx) {
		const char *v = var_by_value(m->h.tx_id);

		if (v)
			printf(" [tx $%s]", v);
		else
			printf(" [tx %u]", m->h.tx_id);
	}
}

/* Waits for the reply to one request; events met on the way are queued. */
static void await_reply(struct conn *c, const struct opts *o, uint32_t req_id,
			uint32_t tx)
{
	long deadline = now_ms() + timeout_ms;
	struct msg m;

	for (;;) {
		int r = conn_read_msg(c, &m, deadline);

		if (r == 0) {
			fputs("TIMEOUT", stdout);
			return;
		}
		if (r < 0) {
			fputs("CLOSED", stdout);
			conn_close(c);
			return;
		}
		if (m.h.type == EVENT_TYPE) {
			queue_event(c, &m);
			continue;
		}
		print_reply(&m, o, req_id, tx);
		if (o->capture[0] && m.h.type != 16u)
			var_set(o->capture, m.body, strnlen(m.body, m.h.len));
		free(m.body);
		return;
	}
}

/* ---- corpus parsing ---------------------------------------------------- */

static char *skip_ws(char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static char *next_word(char **pp)
{
	char *p = skip_ws(*pp), *w = p;

	while (*p && *p != ' ' && *p != '\t')
		p++;
	if (*p)
		*p++ = '\0';
	*pp = p;
	return *w ? w : NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Parses one quoted piece ("..." with C escapes and ${var}) into out,
 * then an optional *N repeat. Returns the new parse position.
 */
static char *parse_piece(char *p, char *out, size_t *len, size_t cap)
{
	size_t start = *len;

	if (*p != '"')
		die("expected a quoted payload at \"%s\"", p);
	p++;
	while (*p && *p != '"') {
		char ch = *p++;

		if (ch == '$' && *p == '{') {
			char *end = strchr(p, '}');
			if (!end)
				die("unterminated ${");
			*end = '\0';
			const char *v = var_get(p + 1);
			size_t vl = strlen(v);
			if (*len + vl > cap)
				die("payload too long");
			memcpy(out + *len, v, vl);
			*len += vl;
			p = end + 1;
			continue;
		}
		if (ch == '\\') {
			ch = *p++;
			switch (ch) {
			case '0': ch = '\0'; break;
			case 'n': ch = '\n'; break;
			case 't': ch = '\t'; break;
			case 'x': {
				int h1 = hexval(p[0]), h2 = hexval(p[1]);
				if (h1 < 0 || h2 < 0)
					die("bad \\x escape");
				ch = (char)(h1 * 16 + h2);
				p += 2;
				break;
			}
			case '\\': case '"': case '$': break;
			default: die("unknown escape \\%c", ch);
			}
		}
		if (*len >= cap)
			die("payload too long");
		out[(*len)++] = ch;
	}
	if (*p != '"')
		die("unterminated string");
	p++;
	if (*p == '*') {
		long n = strtol(p + 1, &p, 10);
		size_t one = *len - start;
		if (n < 1 || one * (size_t)n + start > cap)
			die("bad repeat");
		for (long i = 1; i < n; i++) {
			memcpy(out + *len, out + start, one);
			*len += one;
		}
	}
	return p;
}

static uint32_t parse_type(const char *w)
{
	for (size_t i = 0; i < NTYPES; i++)
		if (!strcmp(w, type_names[i]))
			return (uint32_t)i;
	char *end;
	unsigned long v = strtoul(w, &end, 0);
	if (*end || end == w)
		die("unknown message type %s", w);
	return (uint32_t)v;
}

static uint32_t parse_u32(const char *w)
{
	if (w[0] == '$')
		return (uint32_t)strtoul(var_get(w + 1), NULL, 10);
	char *end;
	unsigned long v = strtoul(w, &end, 0);
	if (*end || end == w)
		die("bad number %s", w);
	return (uint32_t)v;
}

static char *parse_opts(char *p, struct opts *o)
{
	char *w;

	o->len = -1;
	o->req_id = -1;
	while ((w = next_word(&p))) {
		if (!strncmp(w, "len=", 4))
			o->len = strtol(w + 4, NULL, 0);
		else if (!strncmp(w, "req=", 4))
			o->req_id = strtol(w + 4, NULL, 0);
		else if (!strcmp(w, "norm=gen"))
			o->norm_gen = true;
		else if (!strcmp(w, "norm=text"))
			o->norm_text = true;
		else if (!strcmp(w, "nowait"))
			o->nowait = true;
		else if (!strcmp(w, "->")) {
			w = next_word(&p);
			if (!w || w[0] != '$')
				die("-> needs a $variable");
			snprintf(o->capture, sizeof(o->capture), "%s", w + 1);
		} else
			die("unknown option %s", w);
	}
	return p;
}

static void do_events(struct conn *c, const char *line, char *arg)
{
	int want = arg ? atoi(arg) : 0;
	long deadline = now_ms() + timeout_ms;
	struct msg m;

	if (!conn_open(c)) {
		printf("%s => REFUSED\n", line);
		return;
	}
	/* Wait for the expected count, then a quiet spell to catch extras. */
	while (c->nevents < want) {
		int r = conn_read_msg(c, &m, deadline);
		if (r <= 0)
			break;
		if (m.h.type == EVENT_TYPE)
			queue_event(c, &m);
		else {
			printf("%s => unexpected ", line);
			print_type(m.h.type);
			putchar('\n');
			free(m.body);
		}
	}
	for (;;) {
		int r = conn_read_msg(c, &m, now_ms() + QUIET_MS);
		if (r <= 0)
			break;
		if (m.h.type == EVENT_TYPE)
			queue_event(c, &m);
		else
			free(m.body);
	}
	if (!c->nevents)
		printf("%s => (none)\n", line);
	print_events(c, line);
}

static void do_line(char *line)
{
	char text[LINE_MAX_LEN];
	char *p = line, *w;
	static char payload[HDR_SIZE + 70000];
	size_t plen = 0;
	struct opts o = { 0 };

	snprintf(text, sizeof(text), "%s", line);
	w = next_word(&p);
	struct conn *c = conn_get(w);
	w = next_word(&p);
	if (!w)
		die("missing command");
	if (!strcmp(w, "events")) {
		do_events(c, text, next_word(&p));
		return;
	}
	if (!strcmp(w, "close")) {
		conn_close(c);
		printf("%s\n", text);
		return;
	}
	if (!strcmp(w, "reply")) {
		/* the reply to an earlier nowait/raw request */
		parse_opts(p, &o);
		if (!conn_open(c)) {
			printf("%s => REFUSED\n", text);
			return;
		}
		printf("%s => ", text);
		await_reply(c, &o, (uint32_t)(o.req_id < 0 ? next_req_id - 1 : o.req_id), 0);
		putchar('\n');
		return;
	}
	if (!strcmp(w, "raw")) {
		p = skip_ws(p);
		while (*p == '"') {
			p = parse_piece(p, payload, &plen, sizeof(payload));
			p = skip_ws(p);
		}
		parse_opts(p, &o);
		if (!conn_open(c)) {
			printf("%s => REFUSED\n", text);
			return;
		}
		conn_send(c, payload, plen);
		printf("%s\n", text);
		return;
	}

	uint32_t type = parse_type(w);
	w = next_word(&p);
	if (!w)
		die("missing transaction id");
	uint32_t tx = parse_u32(w);
	p = skip_ws(p);
	while (*p == '"') {
		p = parse_piece(p, payload + HDR_SIZE, &plen,
				sizeof(payload) - HDR_SIZE);
		p = skip_ws(p);
	}
	parse_opts(p, &o);

	struct hdr h = {
		.type = type,
		.req_id = o.req_id >= 0 ? (uint32_t)o.req_id : next_req_id++,
		.tx_id = tx,
		.len = o.len >= 0 ? (uint32_t)o.len : (uint32_t)plen,
	};
	memcpy(payload, &h, HDR_SIZE);
	if (!conn_open(c)) {
		printf("%s => REFUSED\n", text);
		return;
	}
	conn_send(c, payload, HDR_SIZE + plen);
	if (o.nowait) {
		printf("%s\n", text);
		return;
	}
	printf("%s => ", text);
	await_reply(c, &o, h.req_id, tx);
	putchar('\n');
}

int main(int argc, char **argv)
{
	int opt;
	char buf[LINE_MAX_LEN], def[256];

	while ((opt = getopt(argc, argv, "s:t:")) != -1) {
		switch (opt) {
		case 's': sock_path = optarg; break;
		case 't': timeout_ms = atoi(optarg); break;
		default:
			fprintf(stderr,
				"usage: xs-replay [-s socket] [-t ms] corpus\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: xs-replay [-s socket] [-t ms] corpus\n");
		return 2;
	}
	if (!sock_path)
		sock_path = getenv("XENSTORED_PATH");
	if (!sock_path && getenv("XENSTORED_RUNDIR")) {
		snprintf(def, sizeof(def), "%s/socket",
			 getenv("XENSTORED_RUNDIR"));
		sock_path = def;
	}
	if (!sock_path)
		sock_path = "/run/xenstored/socket";
	corpus_name = argv[optind];
	FILE *f = fopen(corpus_name, "r");
	if (!f) {
		perror(corpus_name);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	while (fgets(buf, sizeof(buf), f)) {
		lineno++;
		buf[strcspn(buf, "\n")] = '\0';
		char *p = skip_ws(buf);
		if (*p == '\0')
			continue;
		if (*p == '#') {
			puts(p); /* section comments make the golden readable */
			continue;
		}
		do_line(p);
		fflush(stdout);
	}
	fclose(f);
	/* Events nobody asked for are differences too: never drop them. */
	for (int i = 0; i < nconns; i++) {
		char label[64];

		if (conns[i].fd < 0)
			continue;
		snprintf(label, sizeof(label), "%.31s leftover", conns[i].name);
		struct msg m;
		while (conn_read_msg(&conns[i], &m, now_ms() + QUIET_MS) > 0) {
			if (m.h.type == EVENT_TYPE)
				queue_event(&conns[i], &m);
			else
				free(m.body);
		}
		print_events(&conns[i], label);
		conn_close(&conns[i]);
	}
	return 0;
}
