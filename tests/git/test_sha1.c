/*
 * test_sha1.c - SHA-1 resumed from marks gives Git's object ids, checked
 * against libgit2's own hashing. Built twice: with the store's SHA-1
 * (libcrypto when found) and the repo's marked writes, and with the
 * portable SHA-1 alone (SHA1_PORTABLE_ONLY).
 */
#include <criterion/criterion.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/git/sha1.h"
#ifndef SHA1_PORTABLE_ONLY
#include "store/git/repo.h"
#endif

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	srand(seed);
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)rand();
}

static void expect_id(const unsigned char *id, const void *data, size_t len)
{
	git_oid want;
	cr_assert_eq(git_odb_hash(&want, data, len, GIT_OBJECT_BLOB), 0);
	cr_assert(!memcmp(id, want.id, 20), "id of %zu bytes differs", len);
}

/* Lengths around mark and block boundaries, and wide-tree sizes. */
static const size_t lens[] = { 0, 1, 55, 64, 200, 246, 247, 248, 256, 511,
			       512, 1000, 4093, 10000, 31000 };

Test(sha1, marked_matches_whole_hash_after_changes)
{
	git_libgit2_init();
	for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
		size_t len = lens[li];
		unsigned char *d = malloc(len + 1);
		char hdr[32];
		size_t hl = (size_t)snprintf(hdr, sizeof(hdr), "blob %zu", len) + 1;
		size_t nm = gs_sha1_marks_count(hl + len);
		struct gs_sha1_mark *mk = calloc(nm + 1, sizeof(*mk));
		unsigned char id[20];
		fill(d, len, (unsigned)len);
		gs_sha1_marked(hdr, hl, d, len, 0, mk, id);
		expect_id(id, d, len);
		for (unsigned k = 0; k < 40 && len; k++) {
			size_t p = (size_t)rand() % len;
			d[p] ^= (unsigned char)(1 + k);
			gs_sha1_marked(hdr, hl, d, len, hl + p, mk, id);
			expect_id(id, d, len);
		}
		free(mk);
		free(d);
	}
	git_libgit2_shutdown();
}

Test(sha1, marked_from_past_end_still_hashes_tail)
{
	git_libgit2_init();
	size_t len = 1000;
	unsigned char d[1000];
	char hdr[] = "blob 1000";
	struct gs_sha1_mark mk[8];
	unsigned char id[20];
	fill(d, len, 3);
	gs_sha1_marked(hdr, sizeof(hdr), d, len, 0, mk, id);
	d[len - 1] ^= 1;
	gs_sha1_marked(hdr, sizeof(hdr), d, len, sizeof(hdr) + len - 1, mk, id);
	expect_id(id, d, len);
	git_libgit2_shutdown();
}

#ifndef SHA1_PORTABLE_ONLY
/* The repo's delta writes with marks, as the mirror uses them. */
Test(sha1, repo_delta_range_with_marks)
{
	char dir[] = "/tmp/test-sha1-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	struct gs_repo r;
	cr_assert_eq(gs_repo_open(&r, dir, false), 0);
	for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
		size_t len = lens[li];
		if (!len)
			continue;
		unsigned char *d = malloc(len);
		size_t nm = gs_repo_marks_count(GIT_OBJECT_BLOB, len);
		struct gs_sha1_mark *v = malloc((nm + 1) * sizeof(*v));
		struct gs_repo_marks mk = { v, 0 };
		git_oid id, prev, none = { { 0 } };
		char hdr[32];
		int hl = snprintf(hdr, sizeof(hdr), "blob %zu", len) + 1;
		cr_assert_eq(nm, gs_sha1_marks_count((size_t)hl + len));
		fill(d, len, (unsigned)len + 1);
		cr_assert_eq(gs_repo_write_delta_range(&r, GIT_OBJECT_BLOB, d,
						       len, &none, 0, 0, &mk,
						       &id), 0);
		expect_id(id.id, d, len);
		for (unsigned k = 0; k < 20; k++) {
			size_t p = (size_t)rand() % len;
			d[p] ^= 0x5a;
			prev = id;
			mk.from = p;
			cr_assert_eq(gs_repo_write_delta_range(&r, GIT_OBJECT_BLOB,
							       d, len, &prev, p,
							       len - p - 1, &mk,
							       &id), 0);
			expect_id(id.id, d, len);
		}
		free(v);
		free(d);
	}
	cr_assert_eq(gs_repo_dump(&r), 0);
	gs_repo_close(&r);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}
#endif
