/* watch.c - WATCH, UNWATCH, RESET_WATCHES and event delivery. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include <utlist.h>

#include "../protocol/path.h"
#include "config.h"
#include "dispatch.h"
#include "domain.h"
#include "log.h"
#include "watch.h"
#include "xenstored.h"

/* All watches on one path, from every connection. */
struct xsd_watch_bucket {
	char *path;
	struct xsd_watch *head;
	unsigned n;
	UT_hash_handle hh;
};

static struct xsd_watch_bucket *buckets;
static uint64_t nwatches_total;

static struct xsd_watch_bucket *bucket_get(const char *path, bool create)
{
	struct xsd_watch_bucket *b;

	HASH_FIND_STR(buckets, path, b);
	if (b || !create)
		return b;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->path = strdup(path);
	if (!b->path) {
		free(b);
		return NULL;
	}
	HASH_ADD_KEYPTR(hh, buckets, b->path, strlen(b->path), b);
	return b;
}

static struct xsd_watch *bucket_find(struct xsd_watch_bucket *b,
				     const struct xsd_conn *c,
				     const char *token)
{
	struct xsd_watch *w;

	if (!b)
		return NULL;
	for (w = b->head; w; w = w->bnext)
		if (w->conn == c && !strcmp(w->token, token))
			return w;
	return NULL;
}

static void watch_free(struct xsd_watch *w)
{
	struct xsd_watch_bucket *b = w->bucket;
	struct xsd_conn *c = w->conn;

	DL_DELETE2(b->head, w, bprev, bnext);
	if (!--b->n) {
		HASH_DEL(buckets, b);
		free(b->path);
		free(b);
	}
	DL_DELETE(c->watches, w);
	c->nwatches--;
	c->mem_watches -= strlen(w->path) + strlen(w->token);
	nwatches_total--;
	free(w->path);
	free(w->token);
	free(w);
}

void xsd_watch_remove_all(struct xsd_conn *c)
{
	while (c->watches)
		watch_free(c->watches);
}

/* The path a watcher sees: relative watches get relative paths. */
static const char *event_path(const struct xsd_watch *w, const char *path)
{
	const char *rel;

	if (!w->relative)
		return path;
	rel = xsw_path_relative_to(w->conn->domid, path);
	return rel ? rel : path;
}

static bool may_see(const struct xsd_conn *c, const struct store_event *ev)
{
	if (c->privileged)
		return true;
	if (xsw_path_is_special(ev->path))
		return false; /* special nodes are n0: privileged only */
	if (xsw_perms_access(ev->perms, ev->nperms, c->domid, false,
			     c->target) & XSW_PERM_READ)
		return true;
	/* SET_PERMS: who could read the node before may see the change */
	return ev->old_perms &&
	       (xsw_perms_access(ev->old_perms, ev->nold_perms, c->domid,
				 false, c->target) & XSW_PERM_READ);
}

static void fire_bucket(struct xsd_watch_bucket *b,
			const struct store_event *ev, unsigned ev_depth)
{
	struct xsd_watch *w;

	for (w = b->head; w; w = w->bnext) {
		if (w->depth >= 0 &&
		    ev_depth - xsw_path_depth(w->path) > (unsigned)w->depth)
			continue;
		if (w->conn->closing || !may_see(w->conn, ev))
			continue;
		xsd_conn_event(w->conn, event_path(w, ev->path), w->token);
	}
}

void xsd_watch_fire(const struct store_event *ev)
{
	char buf[XSW_PATH_BUF];
	struct xsd_watch_bucket *b;
	unsigned depth;
	size_t len;

	if (!buckets)
		return;
	HASH_FIND_STR(buckets, ev->path, b);
	depth = xsw_path_depth(ev->path);
	if (b)
		fire_bucket(b, ev, depth);
	if (ev->exact || ev->path[0] != '/')
		return;
	/* cxenstored: a change fires the watches on every ancestor too */
	len = strlen(ev->path);
	if (len >= sizeof(buf))
		return;
	memcpy(buf, ev->path, len + 1);
	while (len > 1) {
		char *slash = strrchr(buf, '/');

		if (slash == buf)
			slash[1] = 0;
		else
			*slash = 0;
		len = strlen(buf);
		HASH_FIND_STR(buckets, buf, b);
		if (b)
			fire_bucket(b, ev, depth);
	}
}

void xsd_watch_fire_special(const char *name)
{
	struct store_event ev = { .path = name, .exact = false };

	xsd_watch_fire(&ev);
}

void xsd_watch_fire_domain(const char *name, uint32_t domid)
{
	struct xsd_watch_bucket *b;
	char path[XSW_PATH_BUF];

	HASH_FIND_STR(buckets, name, b);
	if (!b)
		return;
	snprintf(path, sizeof(path), "%s/%u", name, domid);
	for (struct xsd_watch *w = b->head; w; w = w->bnext) {
		/* special nodes are n0: privileged watchers only */
		if (w->conn->closing || !w->conn->privileged)
			continue;
		xsd_conn_event(w->conn, w->depth > 0 ? path : name, w->token);
	}
}

/* Links a new watch into its bucket and c's list. */
static int watch_add(struct xsd_conn *c, const char *path, const char *token,
		     int depth, bool relative, struct xsd_watch **out)
{
	struct xsd_watch_bucket *b;
	struct xsd_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->path = strdup(path);
	w->token = strdup(token);
	b = bucket_get(path, true);
	if (!w->path || !w->token || !b) {
		free(w->path);
		free(w->token);
		free(w);
		return -ENOMEM;
	}
	w->conn = c;
	w->depth = depth;
	w->relative = relative;
	w->bucket = b;
	DL_APPEND2(b->head, w, bprev, bnext);
	b->n++;
	DL_APPEND(c->watches, w);
	c->nwatches++;
	c->mem_watches += strlen(w->path) + strlen(w->token);
	nwatches_total++;
	*out = w;
	return 0;
}

int xsd_watch_restore(struct xsd_conn *c, const char *path,
		      const char *token, int depth, bool relative)
{
	struct xsd_watch *w;

	if (bucket_find(bucket_get(path, false), c, token))
		return -EEXIST;
	return watch_add(c, path, token, depth, relative, &w);
}

int xsd_cmd_watch(struct xsd_conn *c, const struct xsw_request *req,
		  struct xsd_txn *txn)
{
	const char *in = req->u.watch.path, *token = req->u.watch.token;
	uint32_t q = xsd_domain_quota(c->domid, XSD_Q_WATCHES);
	char path[XSW_PATH_BUF];
	struct xsd_watch *w;
	int r;

	(void)txn;
	r = xsw_path_resolve(c->domid, in, true, path);
	if (r)
		return r;
	if (bucket_find(bucket_get(path, false), c, token))
		return -EEXIST;
	if (!c->privileged && q && c->nwatches >= q)
		return -E2BIG;
	/* cxenstored charges path and token to the memory quota */
	if (!c->privileged &&
	    xsd_domain_memory_over(c->domid, strlen(path) + strlen(token)))
		return -ENOMEM;
	r = watch_add(c, path, token, req->u.watch.depth,
		      in[0] != '/' && in[0] != '@', &w);
	if (r)
		return r;
	r = xsd_conn_ack(c, &req->hdr);
	/* cxenstored fires once up front, after the reply */
	if (!r)
		r = xsd_conn_event_unlinked(c, event_path(w, w->path),
					    w->token);
	return r == -EPIPE || r == -ENOSPC ? 0 : r;
}

int xsd_cmd_unwatch(struct xsd_conn *c, const struct xsw_request *req,
		    struct xsd_txn *txn)
{
	char path[XSW_PATH_BUF];
	struct xsd_watch *w;
	int r;

	(void)txn;
	r = xsw_path_resolve(c->domid, req->u.watch.path, true, path);
	if (r)
		return r;
	w = bucket_find(bucket_get(path, false), c, req->u.watch.token);
	if (!w)
		return -ENOENT;
	watch_free(w);
	return xsd_conn_ack(c, &req->hdr);
}

int xsd_cmd_reset_watches(struct xsd_conn *c, const struct xsw_request *req,
			  struct xsd_txn *txn)
{
	(void)txn;
	/* cxenstored drops the transactions too */
	xsd_watch_remove_all(c);
	xsd_txn_abort_all(c);
	return xsd_conn_ack(c, &req->hdr);
}

int xsd_watch_check(char *err, size_t errlen)
{
	struct xsd_conn *c;
	struct xsd_watch_bucket *b, *tmp;
	struct xsd_watch *w;
	uint64_t total = 0;

	HASH_ITER(hh, buckets, b, tmp) {
		unsigned n = 0;

		for (w = b->head; w; w = w->bnext) {
			if (w->bucket != b || strcmp(w->path, b->path)) {
				snprintf(err, errlen, "watch index: %s misfiled",
					 w->path);
				return -EIO;
			}
			n++;
		}
		if (n != b->n || !n) {
			snprintf(err, errlen, "watch index: bad count on %s",
				 b->path);
			return -EIO;
		}
		total += n;
	}
	DL_FOREACH(xsd.conns, c) {
		uint64_t mem = 0;

		DL_FOREACH(c->watches, w)
			mem += strlen(w->path) + strlen(w->token);
		if (mem != c->mem_watches) {
			snprintf(err, errlen, "watch memory: conn %u counts "
				 "%llu, its watches take %llu", c->id,
				 (unsigned long long)c->mem_watches,
				 (unsigned long long)mem);
			return -EIO;
		}
	}
	if (total != nwatches_total) {
		snprintf(err, errlen, "watch index: %llu indexed, %llu counted",
			 (unsigned long long)total,
			 (unsigned long long)nwatches_total);
		return -EIO;
	}
	return 0;
}

unsigned xsd_watch_count_domain(uint32_t domid)
{
	struct xsd_conn *c;
	unsigned n = 0;

	DL_FOREACH(xsd.conns, c)
		if (c->domid == domid)
			n += c->nwatches;
	return n;
}

void xsd_watch_shutdown(void)
{
	struct xsd_conn *c;

	DL_FOREACH(xsd.conns, c)
		xsd_watch_remove_all(c);
}
