/* when.c - WHEN arguments: commit ids, times, ages and ~N. */
#include "hist.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Days since the epoch of a proleptic Gregorian date (UTC, no tz file). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/*
 * ISO 8601: YYYY-MM-DD[(T| )HH:MM[:SS]][Z|(+|-)HH[:]MM]. Without a zone
 * the time is local, as git reads it.
 */
static int parse_iso(const char *s, int64_t *out)
{
	int y, mo, d, hh = 0, mi = 0, ss = 0, n = 0;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -EINVAL;
	s += n;
	if (*s == 'T' || *s == ' ') {
		int k = 0;
		if (sscanf(s + 1, "%2d:%2d%n", &hh, &mi, &k) != 2 || k != 5)
			return -EINVAL;
		s += 1 + k;
		if (*s == ':') {
			if (sscanf(s + 1, "%2d%n", &ss, &k) != 1 || k != 2)
				return -EINVAL;
			s += 3;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 ||
	    ss > 60)
		return -EINVAL;
	if (!*s) {
		struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1,
				 .tm_mday = d, .tm_hour = hh, .tm_min = mi,
				 .tm_sec = ss, .tm_isdst = -1 };
		time_t t = mktime(&tm);
		if (t == (time_t)-1)
			return -EINVAL;
		*out = t;
		return 0;
	}
	int64_t off = 0;
	if (*s == 'Z' && !s[1]) {
		off = 0;
	} else if (*s == '+' || *s == '-') {
		int oh, om = 0, k = 0;
		if (sscanf(s + 1, "%2d%n", &oh, &k) != 1 || k != 2)
			return -EINVAL;
		const char *r = s + 3;
		if (*r == ':')
			r++;
		if (*r && (sscanf(r, "%2d%n", &om, &k) != 1 || k != 2 || r[2]))
			return -EINVAL;
		off = (oh * 3600 + om * 60) * (*s == '-' ? -1 : 1);
	} else {
		return -EINVAL;
	}
	*out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	       hh * 3600 + mi * 60 + ss - off;
	return 0;
}

/* 90s, 15m, 2h, 3d, 1w (optionally followed by "-ago"/" ago"). */
static int parse_age(const char *s, int64_t *out)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	long long v = strtoll(s, &end, 10);
	int64_t unit;
	switch (*end) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: return -EINVAL;
	}
	end++;
	if (*end && strcmp(end, "-ago") && strcmp(end, " ago"))
		return -EINVAL;
	*out = (int64_t)time(NULL) - v * unit;
	return 0;
}

static bool all_hex(const char *s)
{
	size_t n = strlen(s);
	return n >= 7 && n <= 40 && strspn(s, "0123456789abcdefABCDEF") == n;
}

/* Parses a time; 1 if s is not a time at all. */
static int parse_time(const char *s, int64_t *t)
{
	char *end;
	if (!strcmp(s, "now")) {
		*t = (int64_t)time(NULL);
		return 0;
	}
	if (s[0] == '@') {
		errno = 0;
		long long v = strtoll(s + 1, &end, 10);
		if (!s[1] || *end || errno)
			return -EINVAL;
		*t = v;
		return 0;
	}
	if (!parse_age(s, t) || !parse_iso(s, t))
		return 0;
	return 1;
}

static int find_commit(struct hist *h, const char *s, size_t *idx)
{
	size_t n = strlen(s), hits = 0;
	char hex[GIT_OID_HEXSZ + 1];
	for (size_t i = h->ngit; i-- > 0;) {
		git_oid_tostr(hex, sizeof(hex), &h->v[i].oid);
		if (!strncasecmp(hex, s, n)) {
			if (!hits++)
				*idx = i;
		}
	}
	if (hits == 1)
		return 0;
	snprintf(h->err, sizeof(h->err), hits ? "%s: ambiguous commit id"
					      : "%s: no such change in the history",
		 s);
	return hits ? -EINVAL : -ENOENT;
}

int hist_when_bound(struct hist *h, const char *when, int64_t *t,
		    size_t *pos, bool *is_pos)
{
	*is_pos = false;
	if (when[0] == '~') {
		char *end;
		errno = 0;
		unsigned long long k = strtoull(when + 1, &end, 10);
		if (!when[1] || *end || errno) {
			snprintf(h->err, sizeof(h->err), "%s: bad ~N", when);
			return -EINVAL;
		}
		if (k >= h->n) {
			snprintf(h->err, sizeof(h->err),
				 "%s: the history holds only %zu changes",
				 when, h->n);
			return -ERANGE;
		}
		*pos = h->n - 1 - (size_t)k;
		*is_pos = true;
		return 0;
	}
	if (all_hex(when) && !find_commit(h, when, pos)) {
		*is_pos = true;
		return 0;
	}
	h->err[0] = '\0';
	int r = parse_time(when, t);
	if (r <= 0) {
		if (r < 0)
			snprintf(h->err, sizeof(h->err), "%s: bad time", when);
		return r;
	}
	if (all_hex(when)) {
		*is_pos = true;
		return find_commit(h, when, pos);
	}
	snprintf(h->err, sizeof(h->err),
		 "%s: not a WHEN (commit id, @secs, ISO 8601 time, 2h, ~N)",
		 when);
	return -EINVAL;
}

int hist_when(struct hist *h, const char *when, size_t *idx)
{
	int64_t t;
	bool is_pos;
	int e = hist_when_bound(h, when, &t, idx, &is_pos);
	if (e || is_pos)
		return e;
	/* the newest change at or before t */
	for (size_t i = h->n; i-- > 0;)
		if (h->v[i].time <= t) {
			*idx = i;
			return 0;
		}
	char first[40];
	out_time(first, sizeof(first), h->v[0].time);
	snprintf(h->err, sizeof(h->err),
		 "%s: before the history begins (first change at %s)", when,
		 first);
	return -ERANGE;
}
