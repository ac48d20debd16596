/* test_repo.c - commits stored as deltas of the previous one read back whole. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "store/git/repo.h"

#define N 120

/* Commit-like texts: some lines repeat, some change, the count varies. */
static size_t text(char *b, size_t cap, unsigned i)
{
	size_t n = (size_t)snprintf(b, cap,
		"tree %040u\nparent %040u\nauthor dom%u <dom@xenstore> %u +0000\n"
		"committer xenstored <xenstored@xenstore> %u +0000\n\n"
		"write /bench/k%u\n\nXenstore-Domain: 0\n"
		"Xenstore-Transaction: 0\nXenstore-Seq: %u\n"
		"Xenstore-Boot: 01234567-89ab-cdef-0123-456789abcdef\n",
		i, i + 1, i / 10, i / 7, i / 7, i % 5, i);
	for (unsigned k = 0; k < i % 4; k++)
		n += (size_t)snprintf(b + n, cap - n, "Xenstore-Op: write /a/%u\n",
				      k);
	if (i % 11 == 0)
		n += (size_t)snprintf(b + n, cap - n, "no newline at the end");
	return n;
}

Test(repo, commit_deltas_read_back)
{
	char dir[] = "/tmp/test-repo-XXXXXX", b[512], path[600];
	cr_assert_not_null(mkdtemp(dir));
	struct gs_repo r;
	git_oid ids[N];
	size_t total = 0;
	cr_assert_eq(gs_repo_open(&r, dir, false), 0);
	for (unsigned i = 0; i < N; i++) {
		size_t len = text(b, sizeof(b), i);
		total += len;
		cr_assert_eq(gs_repo_write_commit(&r, b, len, &ids[i]), 0);
		if (i == N / 2) /* the next one starts a new pack: no base */
			cr_assert_eq(gs_repo_dump(&r), 0);
	}
	cr_assert_eq(gs_repo_dump(&r), 0);
	for (unsigned i = 0; i < N; i++) {
		git_odb_object *o;
		size_t len = text(b, sizeof(b), i);
		git_oid want;
		cr_assert_eq(git_odb_hash(&want, b, len, GIT_OBJECT_COMMIT), 0);
		cr_assert(git_oid_equal(&want, &ids[i]));
		cr_assert_eq(git_odb_read(&o, r.odb, &ids[i]), 0, "commit %u", i);
		cr_assert_eq(git_odb_object_size(o), len);
		cr_assert(!memcmp(git_odb_object_data(o), b, len), "commit %u", i);
		git_odb_object_free(o);
	}
	/* deltas: the packs hold much less than the texts */
	struct gs_packfile *v;
	size_t np, bytes = 0;
	cr_assert_eq(gs_repo_list_packs(&r, &v, &np), 0);
	cr_assert_eq(np, 2);
	for (size_t k = 0; k < np; k++)
		bytes += (size_t)v[k].size;
	free(v);
	cr_assert_lt(bytes, total * 3 / 4, "%zu bytes for %zu", bytes, total);
	gs_repo_close(&r);
	/* stock git agrees on the entries and their CRCs */
	snprintf(path, sizeof(path), "git verify-pack %s/objects/pack/*.idx"
		 " >/dev/null && rm -rf %s", dir, dir);
	cr_assert_eq(system(path), 0, "git verify-pack failed on %s", dir);
}

/* Wide trees at the end of a chain: deltas against an older version. */
Test(repo, delta_diff_reads_back)
{
	char dir[] = "/tmp/test-repo-XXXXXX", path[600];
	cr_assert_not_null(mkdtemp(dir));
	struct gs_repo r;
	enum { LEN = 10000 };
	static unsigned char base[LEN], few[LEN], many[LEN];
	git_oid bid, fid, mid;
	srand(11);
	for (size_t i = 0; i < LEN; i++)
		base[i] = (unsigned char)rand();
	memcpy(few, base, LEN);
	memcpy(many, base, LEN);
	for (unsigned k = 0; k < 40; k++) /* 40 ids changed */
		memset(few + (size_t)rand() % (LEN - 20), k + 1, 20);
	few[0] ^= 1; /* at both ends too */
	few[LEN - 1] ^= 1;
	for (size_t i = 0; i < LEN; i += 12) /* changes everywhere */
		many[i] ^= 0x80;
	cr_assert_eq(gs_repo_open(&r, dir, false), 0);
	cr_assert_eq(gs_repo_write(&r, GIT_OBJECT_BLOB, base, LEN, &bid), 0);
	cr_assert_eq(gs_repo_write_delta_diff(&r, GIT_OBJECT_BLOB, few, LEN,
					      &bid, base, NULL, &fid), 0);
	cr_assert_eq(gs_repo_obj_depth(&r, &fid), 1);
	cr_assert_eq(gs_repo_write_delta_diff(&r, GIT_OBJECT_BLOB, many, LEN,
					      &bid, base, NULL, &mid), 0);
	cr_assert_eq(gs_repo_obj_depth(&r, &mid), 0, "no gain: stored whole");
	size_t packed = (size_t)gs_repo_pack_bytes(&r);
	cr_assert_lt(packed, 2 * LEN + 12 + LEN / 4, "the delta is small");
	cr_assert_eq(gs_repo_dump(&r), 0);
	const unsigned char *want[] = { base, few, many };
	const git_oid *ids[] = { &bid, &fid, &mid };
	for (int i = 0; i < 3; i++) {
		git_odb_object *o;
		git_oid h;
		cr_assert_eq(git_odb_hash(&h, want[i], LEN, GIT_OBJECT_BLOB), 0);
		cr_assert(git_oid_equal(&h, ids[i]));
		cr_assert_eq(git_odb_read(&o, r.odb, ids[i]), 0);
		cr_assert_eq(git_odb_object_size(o), LEN);
		cr_assert(!memcmp(git_odb_object_data(o), want[i], LEN), "%d", i);
		git_odb_object_free(o);
	}
	gs_repo_close(&r);
	snprintf(path, sizeof(path), "git verify-pack %s/objects/pack/*.idx"
		 " >/dev/null && rm -rf %s", dir, dir);
	cr_assert_eq(system(path), 0, "git verify-pack failed on %s", dir);
}

/* A small tree: one entry of it as the id of a child. */
static size_t small_tree(unsigned char *b, unsigned nents, unsigned ver)
{
	size_t n = 0;
	for (unsigned k = 0; k < nents; k++) {
		n += (size_t)sprintf((char *)b + n, "40000 c%02u", k) + 1;
		for (unsigned j = 0; j < 20; j++) /* entry k changes at ver k */
			b[n + j] = (unsigned char)(k * 31 + j +
						   (ver >= k + 1 ? ver : 0));
		n += 20;
	}
	return n;
}

/* Narrow trees: each version one delta away from a whole one. */
Test(repo, delta_root_reads_back)
{
	char dir[] = "/tmp/test-repo-XXXXXX", path[600];
	cr_assert_not_null(mkdtemp(dir));
	struct gs_repo r;
	enum { V = 12, E = 8 };
	unsigned char b[V + 2][512];
	size_t len[V + 2];
	git_oid ids[V + 2], none;
	memset(&none, 0, sizeof(none));
	cr_assert_eq(gs_repo_open(&r, dir, false), 0);
	for (unsigned v = 0; v < V; v++) {
		len[v] = small_tree(b[v], E, v);
		cr_assert_eq(gs_repo_write_delta_root(&r, GIT_OBJECT_TREE, b[v],
						      len[v], v ? &ids[v - 1]
								: &none,
						      &ids[v]), 0);
	}
	cr_assert_eq(gs_repo_obj_depth(&r, &ids[0]), 0, "no previous: whole");
	cr_assert_eq(gs_repo_obj_depth(&r, &ids[1]), 1);
	cr_assert_eq(gs_repo_obj_depth(&r, &ids[2]), 1, "against the root");
	/* every id differs from the root's: no gain, whole, a new root */
	cr_assert_eq(gs_repo_obj_depth(&r, &ids[V - 1]), 0);
	/* another length: whole */
	len[V] = small_tree(b[V], E + 1, V);
	cr_assert_eq(gs_repo_write_delta_root(&r, GIT_OBJECT_TREE, b[V], len[V],
					      &ids[V - 1], &ids[V]), 0);
	cr_assert_eq(gs_repo_obj_depth(&r, &ids[V]), 0);
	cr_assert_eq(gs_repo_dump(&r), 0);
	/* a new pack: no base in it, whole again */
	len[V + 1] = small_tree(b[V + 1], E + 1, V + 1);
	cr_assert_eq(gs_repo_write_delta_root(&r, GIT_OBJECT_TREE, b[V + 1],
					      len[V + 1], &ids[V],
					      &ids[V + 1]), 0);
	cr_assert_eq(gs_repo_obj_depth(&r, &ids[V + 1]), 0);
	cr_assert_eq(gs_repo_dump(&r), 0);
	for (unsigned v = 0; v < V + 2; v++) {
		git_odb_object *o;
		git_oid h;
		cr_assert_eq(git_odb_hash(&h, b[v], len[v], GIT_OBJECT_TREE), 0);
		cr_assert(git_oid_equal(&h, &ids[v]), "version %u", v);
		cr_assert_eq(git_odb_read(&o, r.odb, &ids[v]), 0);
		cr_assert_eq(git_odb_object_size(o), len[v]);
		cr_assert(!memcmp(git_odb_object_data(o), b[v], len[v]), "%u", v);
		git_odb_object_free(o);
	}
	gs_repo_close(&r);
	snprintf(path, sizeof(path), "git verify-pack %s/objects/pack/*.idx"
		 " >/dev/null && rm -rf %s", dir, dir);
	cr_assert_eq(system(path), 0, "git verify-pack failed on %s", dir);
}

/* Files in objects/pack whose name starts with prefix. */
static int count_files(const char *dir, const char *prefix)
{
	char path[600];
	int n = 0;
	snprintf(path, sizeof(path), "%s/objects/pack", dir);
	DIR *d = opendir(path);
	struct dirent *de;
	cr_assert_not_null(d);
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, prefix, strlen(prefix));
	closedir(d);
	return n;
}

#define BIG 120
#define BIGLEN 8192

/*
 * A pack larger than the stage goes to its file as it grows; deltas whose
 * base is already there, and a second pack after a rest, read back whole.
 */
Test(repo, large_pack_streams_to_its_file)
{
	char dir[] = "/tmp/test-repo-XXXXXX", path[600];
	static unsigned char blob[2 * BIG][BIGLEN];
	git_oid ids[2 * BIG];
	struct gs_repo r;
	cr_assert_not_null(mkdtemp(dir));
	srand(7);
	for (size_t i = 0; i < BIGLEN; i++)
		blob[0][i] = (unsigned char)rand(); /* incompressible */
	cr_assert_eq(gs_repo_open(&r, dir, false), 0);
	cr_assert_eq(gs_repo_write(&r, GIT_OBJECT_BLOB, blob[0], BIGLEN,
				   &ids[0]), 0);
	for (int k = 0; k < 2; k++) {
		for (int i = k ? BIG : 1; i < (k + 1) * BIG; i++) {
			const unsigned char *base = blob[i % 2 ? 0 : i - 2];
			if (i % 3 == 0) { /* whole, new bytes */
				for (size_t j = 0; j < BIGLEN; j++)
					blob[i][j] = (unsigned char)rand();
				cr_assert_eq(gs_repo_write(&r, GIT_OBJECT_BLOB,
					blob[i], BIGLEN, &ids[i]), 0);
				continue;
			}
			memcpy(blob[i], base, BIGLEN);
			blob[i][(size_t)i * 97 % BIGLEN] ^= 0x55;
			cr_assert_eq(gs_repo_write_delta_diff(&r,
				GIT_OBJECT_BLOB, blob[i], BIGLEN,
				&ids[i % 2 ? 0 : i - 2], base, NULL, &ids[i]),
				0, "%d", i);
		}
		/* not in memory, and not visible before its index */
		cr_assert_leq(r.pack.len, GS_PACK_STAGE + 64 + BIGLEN);
		cr_assert_gt(gs_repo_pack_bytes(&r), 2 * GS_PACK_STAGE);
		cr_assert_eq(count_files(dir, "tmp_pack_"), 1);
		cr_assert_eq(count_files(dir, "pack-"), 2 * k);
		size_t pending = r.pending;
		gs_repo_rest(&r); /* objects wait: nothing may go */
		cr_assert_eq(r.pending, pending);
		cr_assert_eq(gs_repo_dump(&r), 0);
		cr_assert_eq(count_files(dir, "tmp_pack_"), 0);
		cr_assert_eq(count_files(dir, "pack-"), 2 * k + 2);
		gs_repo_rest(&r); /* the next pack starts from nothing */
		cr_assert_eq(r.cap, 0);
		cr_assert_eq(r.pack.cap, 0);
	}
	for (int i = 0; i < 2 * BIG; i++) {
		git_odb_object *o;
		git_oid h;
		cr_assert_eq(git_odb_hash(&h, blob[i], BIGLEN, GIT_OBJECT_BLOB), 0);
		cr_assert(git_oid_equal(&h, &ids[i]), "%d", i);
		cr_assert_eq(git_odb_read(&o, r.odb, &ids[i]), 0, "%d", i);
		cr_assert(!memcmp(git_odb_object_data(o), blob[i], BIGLEN),
			  "%d", i);
		git_odb_object_free(o);
	}
	gs_repo_close(&r);
	snprintf(path, sizeof(path), "git verify-pack %s/objects/pack/*.idx"
		 " >/dev/null && rm -rf %s", dir, dir);
	cr_assert_eq(system(path), 0, "git verify-pack failed on %s", dir);
}

/*
 * A pack file that cannot grow (here past RLIMIT_FSIZE, as on a full
 * disk) fails no object write: the bytes stay in memory, the dump fails
 * and leaves everything as it was, and a later dump writes it all.
 */
Test(repo, pack_write_failure_is_retried_by_the_dump)
{
	char dir[] = "/tmp/test-repo-XXXXXX", path[600];
	static unsigned char blob[BIG][BIGLEN];
	git_oid ids[BIG];
	struct gs_repo r;
	struct rlimit lim, small;
	cr_assert_not_null(mkdtemp(dir));
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &lim), 0);
	small = (struct rlimit){ GS_PACK_STAGE, lim.rlim_max }; /* soft only */
	cr_assert_eq(gs_repo_open(&r, dir, false), 0);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	srand(9);
	for (int i = 0; i < BIG; i++) {
		for (size_t j = 0; j < BIGLEN; j++)
			blob[i][j] = (unsigned char)rand();
		cr_assert_eq(gs_repo_write(&r, GIT_OBJECT_BLOB, blob[i], BIGLEN,
					   &ids[i]), 0, "%d", i);
	}
	cr_assert_gt(r.pack.len, GS_PACK_STAGE, "the rest waits in memory");
	cr_assert_lt(gs_repo_dump(&r), 0);
	cr_assert_eq(r.pending, BIG);
	cr_assert_eq(count_files(dir, "pack-"), 0);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	cr_assert_eq(gs_repo_dump(&r), 0);
	cr_assert_eq(count_files(dir, "tmp_pack_"), 0);
	for (int i = 0; i < BIG; i++) {
		git_odb_object *o;
		cr_assert_eq(git_odb_read(&o, r.odb, &ids[i]), 0, "%d", i);
		cr_assert(!memcmp(git_odb_object_data(o), blob[i], BIGLEN),
			  "%d", i);
		git_odb_object_free(o);
	}
	gs_repo_close(&r);
	snprintf(path, sizeof(path), "git verify-pack %s/objects/pack/*.idx"
		 " >/dev/null && rm -rf %s", dir, dir);
	cr_assert_eq(system(path), 0, "git verify-pack failed on %s", dir);
}

/*
 * An object the pack being built holds already is not added again,
 * whichever writer meets it (the check comes after the entry is built):
 * the same count of entries, the same bytes, the same id.
 */
Test(repo, same_object_is_added_once)
{
	char dir[] = "/tmp/test-repo-XXXXXX", path[600];
	cr_assert_not_null(mkdtemp(dir));
	struct gs_repo r;
	unsigned char t0[512], t1[512];
	char c[1024];
	git_oid blob, blob2, id0, id1, again, cm, cm2, none;
	memset(&none, 0, sizeof(none));
	cr_assert_eq(gs_repo_open(&r, dir, false), 0);
	cr_assert_eq(gs_repo_write(&r, GIT_OBJECT_BLOB, "value", 5, &blob), 0);
	size_t t0len = small_tree(t0, 8, 0), t1len = small_tree(t1, 8, 1);
	cr_assert_eq(gs_repo_write_delta_root(&r, GIT_OBJECT_TREE, t0, t0len,
					      &none, &id0), 0);
	cr_assert_eq(gs_repo_write_delta_root(&r, GIT_OBJECT_TREE, t1, t1len,
					      &id0, &id1), 0);
	size_t clen = text(c, sizeof(c), 3);
	cr_assert_eq(gs_repo_write_commit(&r, c, clen, &cm), 0);
	size_t pending = r.pending;
	uint64_t bytes = gs_repo_pack_bytes(&r);
	cr_assert_eq(gs_repo_write(&r, GIT_OBJECT_BLOB, "value", 5, &blob2), 0);
	cr_assert(git_oid_equal(&blob, &blob2));
	/* back to the first version: a delta of itself would be built */
	cr_assert_eq(gs_repo_write_delta_root(&r, GIT_OBJECT_TREE, t0, t0len,
					      &id1, &again), 0);
	cr_assert(git_oid_equal(&again, &id0));
	cr_assert_eq(gs_repo_write_delta_range(&r, GIT_OBJECT_TREE, t1, t1len,
					       &id0, 0, 0, NULL, &again), 0);
	cr_assert(git_oid_equal(&again, &id1));
	cr_assert_eq(gs_repo_write_commit(&r, c, clen, &cm2), 0);
	cr_assert(git_oid_equal(&cm, &cm2));
	cr_assert_eq(r.pending, pending, "no entry added");
	cr_assert_eq(gs_repo_pack_bytes(&r), bytes, "no byte added");
	cr_assert_eq(gs_repo_obj_depth(&r, &id0), 0);
	cr_assert_eq(gs_repo_dump(&r), 0);
	gs_repo_close(&r);
	snprintf(path, sizeof(path), "git verify-pack %s/objects/pack/*.idx"
		 " >/dev/null && rm -rf %s", dir, dir);
	cr_assert_eq(system(path), 0, "git verify-pack failed on %s", dir);
}

static size_t pack_count(struct gs_repo *r)
{
	struct gs_packfile *v;
	size_t n;
	cr_assert_eq(gs_repo_list_packs(r, &v, &n), 0);
	free(v);
	return n;
}

/* One pack holding one blob of len bytes that do not compress. */
static void blob_pack(struct gs_repo *r, size_t len, uint64_t seed,
		      git_oid *id)
{
	unsigned char *b = malloc(len);
	cr_assert_not_null(b);
	for (size_t i = 0; i < len; i++) {
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		b[i] = (unsigned char)seed;
	}
	cr_assert_eq(gs_repo_write(r, GIT_OBJECT_BLOB, b, len, id), 0);
	cr_assert_eq(gs_repo_dump(r), 0);
	free(b);
}

/*
 * A small pack is not merged into packs many times its size (that
 * rewrote a large pack for a few new objects), but small packs are
 * merged together, and what they held stays readable.
 */
Test(repo, merges_take_packs_of_about_the_same_size)
{
	char dir[] = "/tmp/test-repo-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	struct gs_repo r;
	git_oid big[4], small[2];
	cr_assert_eq(gs_repo_open(&r, dir, false), 0);
	for (unsigned i = 0; i < 4; i++)
		blob_pack(&r, 9u << 20, i + 1, &big[i]);
	blob_pack(&r, 100, 11, &small[0]);
	cr_assert_eq(pack_count(&r), 5);
	/* max 4: one pack too many, but only the small one is small */
	while (gs_repo_consolidate(&r, 4, UINT64_MAX) == 1)
		;
	cr_assert_eq(pack_count(&r), 5);
	blob_pack(&r, 200, 12, &small[1]);
	while (gs_repo_consolidate(&r, 4, UINT64_MAX) == 1)
		;
	cr_assert_eq(pack_count(&r), 5); /* the two small ones merged */
	for (unsigned i = 0; i < 2; i++) {
		git_odb_object *o;
		cr_assert_eq(git_odb_read(&o, r.odb, &small[i]), 0);
		cr_assert_eq(git_odb_object_size(o), i ? 200 : 100);
		git_odb_object_free(o);
	}
	for (unsigned i = 0; i < 4; i++)
		cr_assert(git_odb_exists(r.odb, &big[i]));
	gs_repo_close(&r);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}
