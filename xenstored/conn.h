/*
 * conn.h - a client connection: identity, input framing, output queue,
 * its transactions and watches. Transports (Unix socket now, guest rings
 * later) plug in through struct xsd_transport.
 *
 * Output: handlers never write to a transport; they queue messages with
 * xsd_conn_send*(). Once per loop iteration, after persistence, the loop
 * hands each connection's queue to its transport (xsd_conn_flush_all()).
 *
 * Memory: connections are owned by the daemon (xsd.conns). A transport
 * creates one with xsd_conn_new() and ends it with xsd_conn_close(); the
 * memory goes when the transport calls xsd_conn_free() from its own close
 * callback.
 */
#ifndef XSD_CONN_H
#define XSD_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../protocol/msg.h"
#include "../store/store.h"

struct xsd_conn;
struct xsd_txn;
struct xsd_watch;
struct xsd_evref; /* conn.c: a request whose watch events are queued */

/* A queued watch event that holds the request which fired it. */
struct xsd_evpend {
	uint64_t end; /* stream offset where the event ends */
	struct xsd_evref *ref;
};

/* One chunk of queued output; the transport owns a chain given to write. */
struct xsd_outbuf {
	struct xsd_outbuf *next;
	size_t len, cap;
	char data[];
};

struct xsd_transport {
	const char *name;
	/*
	 * Takes ownership of the chain (frees it with xsd_outbuf_free_chain
	 * when written) and calls xsd_conn_written() with the byte count.
	 * Returns 0 or a negative errno (the connection is then closed).
	 */
	int (*write)(struct xsd_conn *c, struct xsd_outbuf *chain, size_t bytes);
	void (*read_stop)(struct xsd_conn *c);
	void (*read_start)(struct xsd_conn *c);
	/* Starts closing; the transport calls xsd_conn_free() when done. */
	void (*close)(struct xsd_conn *c);
	/*
	 * Optional: input that xsd_conn_input() left unread (over the
	 * outstanding quota) may be read again now.
	 */
	void (*input_resume)(struct xsd_conn *c);
};

struct xsd_conn {
	uint32_t id;
	uint32_t domid;
	bool privileged;
	uint32_t target; /* UINT32_MAX: none */
	const struct xsd_transport *tp;
	void *tp_data;

	struct xsw_reader rd;

	struct xsd_outbuf *out_head, *out_tail;
	size_t out_queued;   /* bytes waiting for the next flush */
	size_t out_inflight; /* bytes handed to the transport, not written */
	bool reading_stopped;
	bool closing;
	/* over the output cap: closed at the next flush, not from inside a
	 * handler or while watches are being fired */
	bool doomed;

	/*
	 * The outstanding quota (unprivileged domains, as cxenstored): replies
	 * queued and not yet written out, counted by stream offsets (events
	 * take bytes but are not counted).
	 */
	uint64_t out_total;  /* bytes ever queued */
	uint64_t out_done;   /* bytes ever written by the transport */
	uint64_t *reply_end; /* offsets where pending replies end, a ring */
	unsigned reply_head, nreplies, reply_cap;
	bool over_outstanding; /* input stops at a message boundary */
	bool wrl_held; /* out of write credit (wrl.c): the same */
	/*
	 * cxenstored also keeps a request outstanding, after its reply was
	 * written, while the watch events it fired wait in the watchers'
	 * queues: evrefs lists this connection's requests with events
	 * queued (in reply order), nheld how many of them were answered.
	 * evpend: the events queued here that hold a request, a ring.
	 */
	struct xsd_evref *evrefs;
	unsigned nheld;
	struct xsd_evpend *evpend;
	unsigned ev_head, nev, ev_cap;

	struct xsd_txn *txns; /* uthash by id */
	unsigned ntxns;
	uint32_t next_tx_id;

	struct xsd_watch *watches; /* DL list, in creation order */
	unsigned nwatches;
	uint64_t mem_watches; /* sum of path + token lengths (memory quota) */
	uint64_t events_dropped; /* over the memory quota, as cxenstored */

	struct xsd_conn *prev, *next;        /* xsd.conns */
	struct xsd_conn *dirty_next;
	bool dirty;
};

/* Stop reading past this much pending output; drop past the hard cap. */
#define XSD_OUT_SOFT_CAP (256u * 1024u)
#define XSD_OUT_HARD_CAP (16u * 1024u * 1024u)

/* Creates a connection and links it into xsd.conns. NULL on ENOMEM. */
struct xsd_conn *xsd_conn_new(const struct xsd_transport *tp, void *tp_data,
			      uint32_t domid, bool privileged);
/*
 * Feeds transport bytes; dispatches every whole message. Returns the
 * bytes taken: fewer than len only when the connection went over its
 * outstanding quota (never for a privileged one); the transport keeps the
 * rest and offers it again after tp->input_resume().
 */
size_t xsd_conn_input(struct xsd_conn *c, const char *buf, size_t len);
/*
 * The memory c holds, charged to its domain's memory quota as cxenstored
 * 4.17 does: its watches (path + token), the node copies of its open
 * transactions (store_txn_memory) and its output not yet taken by the
 * client (header + payload of every queued message).
 */
uint64_t xsd_conn_memory(const struct xsd_conn *c);
/*
 * c's outstanding requests (the outstanding quota): replies queued and
 * not yet written out, and answered requests whose watch events still
 * wait in a watcher's queue.
 */
unsigned xsd_conn_outstanding(const struct xsd_conn *c);
/*
 * Ends the connection: aborts its transactions, removes its watches,
 * drops queued output, asks the transport to close. Idempotent.
 */
void xsd_conn_close(struct xsd_conn *c, const char *why);
void xsd_conn_free(struct xsd_conn *c);

/*
 * Queues a reply echoing req's req_id and tx_id. 0 or -errno. For an
 * unprivileged domain, a payload over 16 bytes that would take it past
 * its memory quota becomes an ENOMEM error (cxenstored's send_reply).
 */
int xsd_conn_reply(struct xsd_conn *c, const struct xsw_hdr *req,
		   const void *payload, uint32_t len);
/* Queues "OK\0". */
int xsd_conn_ack(struct xsd_conn *c, const struct xsw_hdr *req);
int xsd_conn_error(struct xsd_conn *c, const struct xsw_hdr *req, int err);
/*
 * Queues a WATCH_EVENT. Fired while an unprivileged domain's request is
 * being dispatched, the event keeps that request outstanding until it is
 * written out (xsd_conn_event_unlinked: not). For an unprivileged domain, an event that would
 * take it past its memory quota is dropped (cxenstored's send_event), and
 * counted in events_dropped; 0 then too.
 */
int xsd_conn_event(struct xsd_conn *c, const char *path, const char *token);
/* The event WATCH fires at once: tied to no request (cxenstored). */
int xsd_conn_event_unlinked(struct xsd_conn *c, const char *path,
			    const char *token);

void xsd_conn_written(struct xsd_conn *c, size_t bytes);
void xsd_outbuf_free_chain(struct xsd_outbuf *b);

/* Hands every queued output to its transport; one write per connection. */
void xsd_conn_flush_all(void);
/* Closes every connection (shutdown). */
void xsd_conn_close_all(void);

/* The store identity of a connection. */
static inline struct store_caller xsd_conn_caller(const struct xsd_conn *c)
{
	struct store_caller who = {
		.domid = c->domid,
		.privileged = c->privileged,
		.target = c->target,
		.conn_id = c->id,
	};
	return who;
}

#endif
