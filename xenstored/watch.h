/*
 * watch.h - watches, indexed by path so that firing an event costs the
 * number of the changed path's ancestors, not the number of watches.
 *
 * Memory: watches belong to their connection and to the index; both
 * links go in xsd_watch_remove_all() / UNWATCH / RESET_WATCHES.
 */
#ifndef XSD_WATCH_H
#define XSD_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "../store/store.h"

struct xsd_conn;
struct xsd_watch_bucket;

struct xsd_watch {
	struct xsd_conn *conn;
	char *path;  /* canonical absolute, or a special '@' path */
	char *token;
	int depth;   /* -1: whole subtree */
	bool relative;
	struct xsd_watch *prev, *next;         /* the connection's list */
	struct xsd_watch *bprev, *bnext;       /* the bucket's list */
	struct xsd_watch_bucket *bucket;
};

void xsd_watch_remove_all(struct xsd_conn *c);
/*
 * Recovery: registers a watch c had before a restart (path canonical, as
 * in struct xsd_watch), without a reply or an event. 0 or -errno.
 */
int xsd_watch_restore(struct xsd_conn *c, const char *path,
		      const char *token, int depth, bool relative);
/* Fires the events of one commit (store_event list). */
void xsd_watch_fire(const struct store_event *ev);
/* Fires a special event ("@introduceDomain", "@releaseDomain"). */
void xsd_watch_fire_special(const char *name);
/*
 * Fires a domain event ("@releaseDomain") about domid: watches set with
 * a depth (XSW_FEATURE_WATCHDEPTH) see "<name>/<domid>", others <name>.
 */
void xsd_watch_fire_domain(const char *name, uint32_t domid);
/* Consistency check for CONTROL check: 0 or -EIO with a message. */
int xsd_watch_check(char *err, size_t errlen);
/* Number of watches of connections of domain domid. */
unsigned xsd_watch_count_domain(uint32_t domid);
void xsd_watch_shutdown(void);

#endif
