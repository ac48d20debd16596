/* load.c - pipelined load and pre-fill (see load.h). */
#include "load.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bc.h"

#define RBUF (64 * 1024)
#define MAX_CONNS 64

struct lconn {
	struct bc_conn c;
	char *rbuf;
	size_t rlen;
	uint64_t rng;
	uint64_t counter;
	int outstanding;
};

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64*: cheap, and good enough to pick keys */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* Appends one random request for lc to out; returns its size. */
static size_t make_req(const struct load_spec *s, struct lconn *lc, char *out)
{
	const char *key = s->keys[rnd(&lc->rng) % (uint64_t)s->nkeys];
	char payload[512];
	size_t kl = strlen(key) + 1;
	bool wr = (int)(rnd(&lc->rng) % 100) < s->write_pct;

	memcpy(payload, key, kl);
	if (wr) {
		char v[17];
		snprintf(v, sizeof(v), "%016llx", (unsigned long long)lc->counter++);
		memcpy(payload + kl, v, 16);
		return bc_encode(out, XSW_WRITE, lc->c.next_req++, 0, payload,
				 (uint32_t)kl + 16);
	}
	return bc_encode(out, XSW_READ, lc->c.next_req++, 0, payload,
			 (uint32_t)kl);
}

int load_run(const struct load_spec *s, struct load_result *res)
{
	struct lconn lc[MAX_CONNS];
	struct pollfd pfd[MAX_CONNS];
	char *wbuf;
	double t0, end, stop_at = 0;
	bool stopping = false;
	int n = s->conns, rc = 0, live;

	if (n < 1 || n > MAX_CONNS || s->depth < 1 || s->nkeys < 1)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	memset(lc, 0, sizeof(lc));
	wbuf = malloc((size_t)(s->depth + 1) * 600 * 4);
	if (!wbuf)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		lc[i].c.fd = -1;
		rc = bc_connect(&lc[i].c, s->sock);
		if (rc < 0)
			goto out;
		lc[i].rbuf = malloc(RBUF);
		if (!lc[i].rbuf) {
			rc = -ENOMEM;
			goto out;
		}
		lc[i].rng = (s->seed + 1) * 0x9e3779b97f4a7c15ull + (uint64_t)i;
		lc[i].counter = (uint64_t)i << 40;
		pfd[i].fd = lc[i].c.fd;
		pfd[i].events = POLLIN;
	}

	t0 = bc_now();
	end = s->seconds > 0 ? t0 + s->seconds : 1e300;
	for (int i = 0; i < n; i++) {
		size_t wl = 0;
		for (int k = 0; k < s->depth; k++)
			wl += make_req(s, &lc[i], wbuf + wl);
		lc[i].outstanding = s->depth;
		rc = bc_send_all(lc[i].c.fd, wbuf, wl);
		if (rc < 0)
			goto out;
	}

	live = n;
	while (live > 0) {
		int pr = poll(pfd, (nfds_t)n, 200);
		double now = bc_now();

		if (pr < 0 && errno != EINTR) {
			rc = -errno;
			goto out;
		}
		if (!stopping && (now >= end ||
				  (s->max_ops && res->ops >= s->max_ops))) {
			stopping = true;
			stop_at = now;
			res->secs = now - t0;
		}
		/* bounded drain: a daemon that stops answering ends the run */
		if (stopping && now - stop_at > 5.0) {
			rc = -ETIMEDOUT;
			break;
		}
		for (int i = 0; i < n && pr > 0; i++) {
			struct lconn *l = &lc[i];
			size_t off = 0, wl = 0;
			ssize_t got;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(l->c.fd, l->rbuf + l->rlen, RBUF - l->rlen);
			if (got <= 0) {
				rc = got == 0 ? -EPIPE : -errno;
				goto out;
			}
			l->rlen += (size_t)got;
			while (l->rlen - off >= XSW_HDR_SIZE) {
				struct xsw_hdr h;
				memcpy(&h, l->rbuf + off, XSW_HDR_SIZE);
				if (h.len > XSW_PAYLOAD_MAX) {
					rc = -EPROTO;
					goto out;
				}
				if (l->rlen - off < XSW_HDR_SIZE + h.len)
					break;
				off += XSW_HDR_SIZE + h.len;
				if (h.type == XSW_WATCH_EVENT)
					continue;
				l->outstanding--;
				if (h.type == XSW_ERROR)
					res->errors++;
				else if (!stopping)
					res->ops++;
				if (!stopping) {
					wl += make_req(s, l, wbuf + wl);
					l->outstanding++;
				}
			}
			memmove(l->rbuf, l->rbuf + off, l->rlen - off);
			l->rlen -= off;
			if (wl) {
				rc = bc_send_all(l->c.fd, wbuf, wl);
				if (rc < 0)
					goto out;
			}
			if (stopping && l->outstanding == 0) {
				pfd[i].fd = -1;
				live--;
			}
		}
		if (stopping && live > 0) {
			/* a connection with nothing pending has already drained */
			live = 0;
			for (int i = 0; i < n; i++) {
				if (lc[i].outstanding == 0)
					pfd[i].fd = -1;
				if (pfd[i].fd >= 0)
					live++;
			}
		}
	}
	if (!res->secs)
		res->secs = bc_now() - t0;
out:
	for (int i = 0; i < n; i++) {
		res->writes += lc[i].counter - ((uint64_t)i << 40);
		bc_close(&lc[i].c);
		free(lc[i].rbuf);
	}
	free(wbuf);
	return rc;
}

void load_domain_path(char *buf, size_t len, int dom, int j)
{
	snprintf(buf, len, "/local/domain/%d/device/vif/%d/k%d", dom, j / 5,
		 j % 5);
}

/* One transaction: start, all writes and the commit pipelined. */
static int prefill_domain(struct bc_conn *c, int dom, int per_domain)
{
	char msg[XSW_HDR_SIZE + 256], payload[256], *batch;
	size_t bl = 0;
	uint32_t tx;
	int rc;

	batch = malloc((size_t)(per_domain + 1) * sizeof(msg));
	if (!batch)
		return -ENOMEM;
	for (int attempt = 0; attempt < 10; attempt++) {
		struct bc_reply r;
		int bad = 0;

		rc = bc_txn_start(c, &tx);
		if (rc < 0)
			break;
		bl = 0;
		for (int j = 0; j < per_domain; j++) {
			size_t pl;
			load_domain_path(payload, 200, dom, j);
			pl = strlen(payload) + 1;
			pl += (size_t)snprintf(payload + pl, 32, "%016x", dom * 1000 + j);
			bl += bc_encode(batch + bl, XSW_WRITE, c->next_req++, tx,
					payload, (uint32_t)pl);
		}
		bl += bc_encode(batch + bl, XSW_TRANSACTION_END, c->next_req++, tx,
				"T", 2);
		rc = bc_send_all(c->fd, batch, bl);
		for (int j = 0; rc == 0 && j <= per_domain; j++) {
			rc = bc_recv(c, &r);
			if (rc == 0 && r.hdr.type == XSW_ERROR) {
				bad = -bc_errno_from_name(r.body);
				if (j < per_domain) {
					fprintf(stderr, "prefill: write: %s\n", r.body);
				}
			}
		}
		if (rc < 0)
			break;
		rc = bad;
		if (rc != -EAGAIN)
			break;
	}
	free(batch);
	(void)msg;
	return rc;
}

int load_prefill(const char *sock, int first, int domains, int per_domain)
{
	struct bc_conn c;
	int rc = bc_connect(&c, sock);

	if (rc < 0)
		return rc;
	for (int d = first; rc == 0 && d < first + domains; d++)
		rc = prefill_domain(&c, d, per_domain);
	bc_close(&c);
	return rc;
}

int load_create_keys(const char *sock, char **keys, int nkeys)
{
	struct bc_conn c;
	int rc = bc_connect(&c, sock);

	for (int i = 0; rc == 0 && i < nkeys; i++)
		rc = bc_write(&c, 0, keys[i], "0000000000000000", 16);
	bc_close(&c);
	return rc;
}

char **load_keys_small(int n)
{
	char **k = calloc((size_t)n, sizeof(*k));

	for (int i = 0; k && i < n; i++)
		if (asprintf(&k[i], "/bench/k%d", i) < 0)
			k[i] = NULL;
	return k;
}

char **load_keys_domains(int n, int first, int domains, int per_domain)
{
	char **k = calloc((size_t)n, sizeof(*k));

	for (int i = 0; k && i < n; i++) {
		char buf[200];
		/* a prime stride spreads consecutive keys over distant domains */
		load_domain_path(buf, sizeof(buf),
				 first + (int)(((long)i * 7919) % domains),
				 i % per_domain);
		k[i] = strdup(buf);
	}
	return k;
}

void load_keys_free(char **keys, int n)
{
	for (int i = 0; keys && i < n; i++)
		free(keys[i]);
	free(keys);
}
