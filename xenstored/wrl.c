/* wrl.c - write rate limiting of unprivileged domains (wrl.h). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <utlist.h>

#include "../store/store.h"
#include "conn.h"
#include "domain.h"
#include "log.h"
#include "ring_conn.h"
#include "wrl.h"
#include "xenstored.h"

#define FACTOR 1000 /* credit is kept in thousandths of a write */
#define CREDIT_MAX (1000LL * 1000 * 1000)

static int64_t cfg_rate, cfg_dburst, cfg_gburst, cfg_newdoms; /* x FACTOR */
static int64_t reserve; /* [-cfg_newdoms, cfg_gburst] */
static long ndomains;
static struct xsd_wrl_dom *doms; /* the active ones */
static uv_timer_t timer;
static bool timer_ready;
static uint64_t last_warning; /* loop time (ms); 0: not in force */

/* cxenstored says these to syslog: an admin hears of them without -V */
static void __attribute__((format(printf, 1, 2))) warn(const char *fmt, ...)
{
	char msg[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	xsd_log("write rate limit: %s", msg);
	if (!xsd.cfg.verbose)
		fprintf(stderr, "xenstored: write rate limit: %s\n", msg);
}

static struct xsd_domain *dom_of(struct xsd_wrl_dom *w)
{
	return (struct xsd_domain *)((char *)w - offsetof(struct xsd_domain, wrl));
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/*
 * Moves as much as possible from *debit to *credit keeping
 * *debit >= floor and *credit <= ceil (nothing if either is violated).
 */
static void xfer(int64_t *debit, int64_t floor, int64_t *credit, int64_t ceil)
{
	int64_t n = min64(*debit - floor, ceil - *credit);

	if (n > 0) {
		*debit -= n;
		*credit += n;
	}
}

/* Time's credit for w, then the reserve's part (cxenstored's update). */
static void refill(struct xsd_wrl_dom *w, uint64_t now)
{
	int64_t ms = now > w->stamp ? (int64_t)(now - w->stamp) : 0;
	int64_t surplus = 0;

	if (ms > 1000LL * 1000 * 1000)
		ms = 1000LL * 1000 * 1000; /* no overflow below */
	w->credit = min64(w->credit + ms * cfg_rate / (ndomains * 1000),
			  CREDIT_MAX);
	/* below zero: borrow from the reserve */
	xfer(&reserve, 0, &w->credit, 0);
	/* over the burst: the reserve takes it, up to its own burst */
	xfer(&w->credit, cfg_dburst, &surplus, CREDIT_MAX);
	xfer(&surplus, 0, &reserve, cfg_gburst);
	w->stamp = now;
}

/*
 * cxenstored refills every domain at every loop iteration, so idle
 * domains keep filling the reserve; here that happens when a domain runs
 * short (and in the timer), which costs a walk of the domains only while
 * limiting is in force.
 */
static void refill_all(uint64_t now)
{
	struct xsd_wrl_dom *w;

	DL_FOREACH(doms, w)
		refill(w, now);
}

static void on_timer(uv_timer_t *h);

static void timer_arm(uint64_t ms)
{
	if (timer_ready)
		uv_timer_start(&timer, on_timer, ms, 0);
}

/* ms until w's credit is back at zero, at its own share of the rate */
static uint64_t wake_ms(const struct xsd_wrl_dom *w)
{
	uint64_t ms = (uint64_t)(-w->credit) * 1000 * (uint64_t)ndomains /
		      (uint64_t)cfg_rate;

	return ms ? ms : 1;
}

static void hold(struct xsd_wrl_dom *w)
{
	struct xsd_conn *c = xsd_ring_conn(dom_of(w));

	w->held = true;
	w->delays++;
	if (c)
		c->wrl_held = true;
}

static void release(struct xsd_wrl_dom *w)
{
	struct xsd_conn *c = xsd_ring_conn(dom_of(w));

	w->held = false;
	if (c && c->wrl_held) {
		c->wrl_held = false;
		if (!c->closing && c->tp->input_resume)
			c->tp->input_resume(c);
	}
}

static void on_timer(uv_timer_t *h)
{
	uint64_t now = uv_now(xsd.loop), next = 0;
	struct xsd_wrl_dom *w;

	(void)h;
	refill_all(now);
	DL_FOREACH(doms, w) {
		if (!w->held)
			continue;
		if (w->credit >= 0) {
			release(w);
			continue;
		}
		if (!next || wake_ms(w) < next)
			next = wake_ms(w);
	}
	if (next) {
		timer_arm(next);
		return;
	}
	if (!last_warning)
		return;
	if (now - last_warning > XSD_WRL_LOGEVERY * 1000ULL) {
		warn("not in force recently");
		last_warning = 0;
		return;
	}
	timer_arm(last_warning + XSD_WRL_LOGEVERY * 1000ULL + 1 - now);
}

int xsd_wrl_init(uint32_t rate, uint32_t dburst, uint32_t gburst)
{
	cfg_rate = (int64_t)rate * FACTOR;
	cfg_dburst = (int64_t)dburst * FACTOR;
	cfg_gburst = (int64_t)gburst * FACTOR;
	cfg_newdoms = cfg_dburst * XSD_WRL_NEWDOMS;
	reserve = 0;
	last_warning = 0;
	if (!rate)
		return 0;
	if (uv_timer_init(xsd.loop, &timer))
		return -ENOMEM;
	timer_ready = true;
	return 0;
}

void xsd_wrl_close(void)
{
	if (!timer_ready)
		return;
	uv_timer_stop(&timer);
	uv_close((uv_handle_t *)&timer, NULL);
	timer_ready = false;
}

void xsd_wrl_domain_new(struct xsd_domain *d)
{
	struct xsd_wrl_dom *w = &d->wrl;

	if (w->active || !cfg_rate)
		return;
	w->active = true;
	w->credit = 0;
	w->stamp = uv_now(xsd.loop);
	ndomains++;
	DL_APPEND(doms, w);
	/* up to one burst from the reserve, which may go negative for it */
	xfer(&reserve, -cfg_newdoms, &w->credit, cfg_dburst);
}

void xsd_wrl_domain_gone(struct xsd_domain *d)
{
	struct xsd_wrl_dom *w = &d->wrl;

	if (!w->active)
		return;
	DL_DELETE(doms, w);
	ndomains--;
	w->active = w->held = false;
	xfer(&w->credit, 0, &reserve, cfg_dburst);
}

int64_t xsd_wrl_credit(struct xsd_domain *d)
{
	if (!d->wrl.active)
		return 0;
	refill(&d->wrl, uv_now(xsd.loop));
	return d->wrl.credit;
}

static void debit(struct xsd_domain *d, unsigned writes)
{
	struct xsd_wrl_dom *w = &d->wrl;
	uint64_t now = uv_now(xsd.loop);

	if (!w->active)
		xsd_wrl_domain_new(d); /* resumed after a restart */
	refill(w, now);
	w->credit -= (int64_t)writes * FACTOR;
	if (w->credit >= 0)
		return;
	/* the others' surplus reaches the reserve, the reserve this one */
	refill_all(now);
	if (w->credit >= 0)
		return;
	if (!w->logged) {
		w->logged = true;
		warn("domain %u is affected", d->domid);
	} else if (!last_warning) {
		warn("rate limiting restarts");
	}
	last_warning = now ? now : 1;
	if (!w->held)
		hold(w);
	if (!uv_is_active((uv_handle_t *)&timer) ||
	    wake_ms(w) < uv_timer_get_due_in(&timer))
		timer_arm(wake_ms(w));
}

void xsd_wrl_commit(const struct store_commit *c)
{
	struct store_stats st;
	struct xsd_domain *d;

	if (!cfg_rate || c->caller.privileged)
		return;
	store_get_stats(xsd.st, &st);
	/*
	 * cxenstored: writes only matter while transactions could conflict
	 * with them; a committing transaction counts itself.
	 */
	if (st.open_txns <= (c->tx_id ? 1u : 0u))
		return;
	d = xsd_domain_find(c->caller.domid);
	if (!d || !d->introduced)
		return; /* not a guest's ring */
	debit(d, c->tx_id ? 1 : (c->neffects ? c->neffects : 1));
}
