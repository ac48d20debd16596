/* mirror_perms.c - .perms text and blob ids, cached both ways. */
#include "mirror_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#define PERMS_MAX 1024u /* entries parsed from one .perms blob */

/* perms text -> blob id, and blob id -> parsed list */
struct perms_text {
	char *text;
	git_oid oid;
	UT_hash_handle hh;
};

struct perms_parsed {
	git_oid oid;
	unsigned n;
	struct xsw_perm *p;
	UT_hash_handle hh;
};

struct gs_perms_cache {
	struct perms_text *by_text;
	struct perms_parsed *by_oid;
};

size_t gs_perms_format(const struct xsw_perm *p, unsigned n, char *out)
{
	/* by hand: sprintf was the writer's only printf per commit */
	static const char letters[] = "nrwb";
	size_t len = 0;
	for (unsigned i = 0; i < n; i++) {
		char num[10];
		unsigned k = 0;
		uint32_t v = p[i].domid;
		out[len++] = letters[p[i].perms & 3];
		do
			num[k++] = (char)('0' + v % 10);
		while ((v /= 10));
		while (k)
			out[len++] = num[--k];
		if (p[i].perms & XSW_PERM_IGNORE)
			out[len++] = '!';
		out[len++] = '\n';
	}
	return len;
}

int gs_perms_parse(const char *s, size_t len, struct xsw_perm *out,
		   unsigned max)
{
	unsigned n = 0;
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (s + i)) : len - i;
		if (l < 2 || n == max)
			return -EINVAL;
		const char *e = s + i;
		uint8_t bits;
		switch (e[0]) {
		case 'n': bits = XSW_PERM_NONE; break;
		case 'r': bits = XSW_PERM_READ; break;
		case 'w': bits = XSW_PERM_WRITE; break;
		case 'b': bits = XSW_PERM_BOTH; break;
		default: return -EINVAL;
		}
		uint64_t d = 0;
		size_t k = 1;
		for (; k < l && e[k] >= '0' && e[k] <= '9'; k++)
			d = d * 10 + (uint64_t)(e[k] - '0');
		if (k == 1 || d > UINT32_MAX)
			return -EINVAL;
		if (k < l && e[k] == '!') {
			bits |= XSW_PERM_IGNORE;
			k++;
		}
		if (k != l)
			return -EINVAL;
		out[n].domid = (uint32_t)d;
		out[n].perms = bits;
		n++;
		i += l + 1;
	}
	return (int)n;
}

struct gs_perms_cache *gs_perms_cache_new(void)
{
	return calloc(1, sizeof(struct gs_perms_cache));
}

void gs_perms_cache_free(struct gs_perms_cache *pc)
{
	if (!pc)
		return;
	struct perms_text *t, *tt;
	HASH_ITER(hh, pc->by_text, t, tt) {
		HASH_DEL(pc->by_text, t);
		free(t->text);
		free(t);
	}
	struct perms_parsed *p, *pp;
	HASH_ITER(hh, pc->by_oid, p, pp) {
		HASH_DEL(pc->by_oid, p);
		free(p->p);
		free(p);
	}
	free(pc);
}

int gs_mirror_perms_oid(struct gs_mirror *m, const struct xsw_perm *p,
			unsigned n, git_oid *out)
{
	char stackbuf[512], *text = stackbuf;
	if (n > 24 && !(text = malloc(16u * n + 1)))
		return -ENOMEM;
	size_t len = gs_perms_format(p, n, text);
	struct perms_text *pt;
	int e = 0;
	HASH_FIND(hh, m->perms->by_text, text, len, pt);
	if (pt) {
		git_oid_cpy(out, &pt->oid);
		goto out;
	}
	if ((e = gs_repo_write(m->repo, GIT_OBJECT_BLOB, text, len, out)))
		goto out;
	pt = calloc(1, sizeof(*pt));
	if (pt && (pt->text = malloc(len + 1))) {
		memcpy(pt->text, text, len + 1);
		git_oid_cpy(&pt->oid, out);
		HASH_ADD_KEYPTR(hh, m->perms->by_text, pt->text, len, pt);
	} else {
		free(pt); /* only a cache */
	}
out:
	if (text != stackbuf)
		free(text);
	return e;
}

int gs_mirror_perms_get(struct gs_mirror *m, const git_oid *id,
			const struct xsw_perm **p, unsigned *n)
{
	struct perms_parsed *pp;
	HASH_FIND(hh, m->perms->by_oid, id, sizeof(*id), pp);
	if (pp) {
		*p = pp->p;
		*n = pp->n;
		return 0;
	}
	git_blob *b;
	int e = gs_mirror_read_blob(m, id, &b);
	if (e)
		return e;
	struct xsw_perm tmp[PERMS_MAX];
	int cnt = gs_perms_parse(git_blob_rawcontent(b),
			       (size_t)git_blob_rawsize(b), tmp, PERMS_MAX);
	git_blob_free(b);
	if (cnt <= 0)
		return -EIO; /* a node always has an owner entry */
	pp = calloc(1, sizeof(*pp));
	if (!pp || !(pp->p = malloc((size_t)cnt * sizeof(*pp->p)))) {
		free(pp);
		return -ENOMEM;
	}
	memcpy(pp->p, tmp, (size_t)cnt * sizeof(*pp->p));
	pp->n = (unsigned)cnt;
	git_oid_cpy(&pp->oid, id);
	HASH_ADD(hh, m->perms->by_oid, oid, sizeof(pp->oid), pp);
	*p = pp->p;
	*n = pp->n;
	return 0;
}
