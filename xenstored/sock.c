/* sock.c - Unix socket transport on libuv pipes. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "sock.h"
#include "xenstored.h"

#define READ_BUF 65536u
#define MAX_BUFS 64u

struct sock_client {
	uv_pipe_t pipe;
	struct xsd_conn *conn;
	char rbuf[READ_BUF];
	bool reading;
};

struct sock_write {
	uv_write_t req;
	struct xsd_conn *conn;
	struct xsd_outbuf *chain;
	size_t bytes;
};

static uv_pipe_t listener;
static bool listening;
static char *sock_path;

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct sock_client *sc = h->data;

	(void)hint;
	*buf = uv_buf_init(sc->rbuf, sizeof(sc->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct sock_client *sc = s->data;

	if (n > 0)
		xsd_conn_input(sc->conn, buf->base, n);
	else if (n < 0)
		xsd_conn_close(sc->conn, n == UV_EOF ? "end of input"
						     : uv_strerror(n));
}

static void on_written(uv_write_t *req, int status)
{
	struct sock_write *w = req->data;

	xsd_outbuf_free_chain(w->chain);
	if (!w->conn->closing) {
		xsd_conn_written(w->conn, w->bytes);
		if (status < 0)
			xsd_conn_close(w->conn, uv_strerror(status));
	}
	free(w);
}

/* Buffers for the chain past its first skip bytes; returns their count. */
static unsigned chain_bufs(struct xsd_outbuf *b, size_t skip, uv_buf_t *bufs)
{
	unsigned n = 0;

	for (; b; b = b->next) {
		if (skip >= b->len) {
			skip -= b->len;
			continue;
		}
		bufs[n++] = uv_buf_init(b->data + skip, b->len - skip);
		skip = 0;
	}
	return n;
}

/* Tries a direct writev first; libuv queues only what the kernel refused. */
static int sock_write(struct xsd_conn *c, struct xsd_outbuf *chain,
		      size_t bytes)
{
	struct sock_client *sc = c->tp_data;
	uv_buf_t stack_bufs[MAX_BUFS], *bufs = stack_bufs;
	struct sock_write *w;
	unsigned n = 0;
	size_t done;
	int r;

	for (struct xsd_outbuf *b = chain; b; b = b->next)
		n++;
	if (n > MAX_BUFS && !(bufs = malloc(n * sizeof(*bufs))))
		return -ENOMEM;
	n = chain_bufs(chain, 0, bufs);
	r = uv_try_write((uv_stream_t *)&sc->pipe, bufs, n);
	if (r < 0 && r != UV_EAGAIN)
		goto out;
	done = r > 0 ? (size_t)r : 0;
	if (done == bytes) {
		xsd_outbuf_free_chain(chain);
		xsd_conn_written(c, bytes);
		r = 0;
		goto out;
	}
	n = chain_bufs(chain, done, bufs);
	w = malloc(sizeof(*w));
	r = -ENOMEM;
	if (!w)
		goto out;
	w->conn = c;
	w->chain = chain;
	w->bytes = bytes;
	w->req.data = w;
	/* uv_write copies the buffer array, not the data: chain lives on */
	r = uv_write(&w->req, (uv_stream_t *)&sc->pipe, bufs, n, on_written);
	if (r)
		free(w);
out:
	if (r < 0) /* the chain is ours to free unless libuv holds it */
		xsd_outbuf_free_chain(chain);
	if (bufs != stack_bufs)
		free(bufs);
	return r;
}

static void sock_read_stop(struct xsd_conn *c)
{
	struct sock_client *sc = c->tp_data;

	uv_read_stop((uv_stream_t *)&sc->pipe);
}

static void sock_read_start(struct xsd_conn *c)
{
	struct sock_client *sc = c->tp_data;

	uv_read_start((uv_stream_t *)&sc->pipe, on_alloc, on_read);
}

static void on_client_closed(uv_handle_t *h)
{
	struct sock_client *sc = h->data;

	xsd_conn_free(sc->conn);
	free(sc);
}

static void sock_close(struct xsd_conn *c)
{
	struct sock_client *sc = c->tp_data;

	uv_close((uv_handle_t *)&sc->pipe, on_client_closed);
}

static const struct xsd_transport sock_transport = {
	.name = "socket",
	.write = sock_write,
	.read_stop = sock_read_stop,
	.read_start = sock_read_start,
	.close = sock_close,
};

static void on_client_free(uv_handle_t *h)
{
	free(h->data);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct sock_client *sc;

	if (status < 0)
		return;
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return;
	uv_pipe_init(xsd.loop, &sc->pipe, 0);
	sc->pipe.data = sc;
	if (uv_accept(server, (uv_stream_t *)&sc->pipe)) {
		uv_close((uv_handle_t *)&sc->pipe, on_client_free);
		return;
	}
	sc->conn = xsd_conn_new(&sock_transport, sc, 0, true);
	if (!sc->conn) {
		uv_close((uv_handle_t *)&sc->pipe, on_client_free);
		return;
	}
	uv_read_start((uv_stream_t *)&sc->pipe, on_alloc, on_read);
}

static int make_parent(const char *path)
{
	char *dir = strdup(path), *p;
	int r = 0;

	if (!dir)
		return -ENOMEM;
	/* mkdir -p of everything before the last '/' */
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(dir, 0755) && errno != EEXIST) {
			r = -errno;
			break;
		}
		*p = '/';
	}
	free(dir);
	return r;
}

/* A socket file nobody listens on any more is replaced; a live one not. */
static int clear_stale(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (!r)
		return -EADDRINUSE;
	return unlink(path) ? -errno : 0;
}

int xsd_sock_listen(const char *path)
{
	int r;

	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	if ((r = make_parent(path)) || (r = clear_stale(path)))
		return r;
	/*
	 * Bound under a temporary name and renamed once listening: a client
	 * that sees the path never meets ECONNREFUSED (the window between
	 * bind and listen), which tools and tests waiting for the file
	 * would otherwise hit.
	 */
	char tmp[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool renamed = (size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) <
		       sizeof(tmp);
	const char *bound = renamed ? tmp : path;

	if (renamed)
		unlink(tmp); /* left by a daemon killed at start */
	uv_pipe_init(xsd.loop, &listener, 0);
	r = uv_pipe_bind(&listener, bound);
	if (!r) {
		chmod(bound, 0600); /* dom0 root only, as cxenstored */
		r = uv_listen((uv_stream_t *)&listener, 128, on_connection);
	}
	if (!r && renamed && rename(tmp, path))
		r = -errno;
	if (r) {
		uv_close((uv_handle_t *)&listener, NULL);
		if (renamed)
			unlink(tmp);
		return r;
	}
	listening = true;
	sock_path = strdup(path);
	return 0;
}

void xsd_sock_close(void)
{
	if (!listening)
		return;
	listening = false;
	uv_close((uv_handle_t *)&listener, NULL);
	if (sock_path)
		unlink(sock_path);
	free(sock_path);
	sock_path = NULL;
}
