/*
 * Random operations against a plain model of the tree, inside and outside
 * transactions: values, existence and child order must always agree, and
 * store_check must pass (index growth, node moves, subtree removal).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define NA 10
#define NB 8
#define NC 8
#define NP (1 + NA + NA * NB + NA * NB * NC)

struct mnode {
	bool exists;
	unsigned order; /* creation order among siblings */
	char value[48];
};

static struct mnode model[NP];
static unsigned counter;

/* Path ids: 0 = /s, then /s/aI, /s/aI/bJ, /s/aI/bJ/cK. */
static int id_of(int a, int b, int c)
{
	if (a < 0)
		return 0;
	if (b < 0)
		return 1 + a;
	if (c < 0)
		return 1 + NA + a * NB + b;
	return 1 + NA + NA * NB + (a * NB + b) * NC + c;
}

static void path_of(int a, int b, int c, char *buf)
{
	int n = sprintf(buf, "/s");

	if (a >= 0)
		n += sprintf(buf + n, "/a%d", a);
	if (b >= 0)
		n += sprintf(buf + n, "/b%d", b);
	if (c >= 0)
		sprintf(buf + n, "/c%d", c);
}

static void m_create(int id, const char *v)
{
	if (!model[id].exists) {
		model[id].exists = true;
		model[id].order = counter++;
		model[id].value[0] = '\0';
	}
	if (v)
		snprintf(model[id].value, sizeof(model[id].value), "%s", v);
}

static void m_write(int a, int b, int c, const char *v, bool mkdir)
{
	m_create(0, NULL);
	if (a >= 0)
		m_create(id_of(a, -1, -1), NULL);
	if (b >= 0)
		m_create(id_of(a, b, -1), NULL);
	if (c >= 0)
		m_create(id_of(a, b, c), NULL);
	if (!mkdir)
		snprintf(model[id_of(a, b, c)].value, 48, "%s", v);
}

static void m_rm(int a, int b, int c)
{
	int j, k;

	model[id_of(a, b, c)].exists = false;
	for (j = 0; j < NB; j++) {
		if (b >= 0 && j != b)
			continue;
		if (b < 0)
			model[id_of(a, j, -1)].exists = false;
		for (k = 0; k < NC; k++)
			if (c < 0 || k == c)
				model[id_of(a, j, k)].exists = false;
	}
}

/* Expected listing of a directory: existing children by creation order. */
static void m_dir(int a, int b, char *out)
{
	unsigned best, last = 0;
	int n = 0, i, pick, first = 1, count = a < 0 ? NA : b < 0 ? NB : NC;

	out[0] = '\0';
	for (;;) {
		pick = -1;
		best = ~0u;
		for (i = 0; i < count; i++) {
			int id = a < 0 ? id_of(i, -1, -1) :
				 b < 0 ? id_of(a, i, -1) : id_of(a, b, i);

			if (model[id].exists && (first || model[id].order > last) &&
			    model[id].order < best) {
				best = model[id].order;
				pick = i;
			}
		}
		if (pick < 0)
			return;
		n += sprintf(out + n, "%s%c%d", n ? "," : "",
			     a < 0 ? 'a' : b < 0 ? 'b' : 'c', pick);
		last = best;
		first = 0;
	}
}

static void compare(void)
{
	char p[64], want[512];
	const char *got;
	int a, b, c;
	char err[256];

	cr_assert_eq(store_check(st, err, sizeof(err)), 0, "%s", err);
	for (a = -1; a < NA; a++)
		for (b = -1; b < (a < 0 ? 0 : NB); b++)
			for (c = -1; c < (b < 0 ? 0 : NC); c++) {
				int id = id_of(a, b, c);

				path_of(a, b, c, p);
				got = val(p);
				if (!model[id].exists) {
					cr_assert_null(got, "%s exists", p);
					continue;
				}
				cr_assert_not_null(got, "%s missing", p);
				cr_assert_str_eq(got, model[id].value, "%s", p);
				if (c < 0) {
					m_dir(a, b, want);
					cr_assert_str_eq(dir(NULL, &dom0, p), want,
							 "%s", p);
				}
			}
}

static void random_op(struct store_txn *t)
{
	int a = rand() % NA, b = rand() % (NB + 1) - 1, c;
	int kind = rand() % 10;
	char p[64], v[48];

	c = b < 0 ? -1 : rand() % (NC + 1) - 1;
	path_of(a, b, c, p);
	snprintf(v, sizeof(v), "%.*s", rand() % 40, "0123456789abcdefghijklmnopqrstuvwxyzABCDE");
	if (kind < 6) {
		cr_assert_eq(wr(t, &dom0, p, v), 0);
		m_write(a, b, c, v, false);
	} else if (kind < 7) {
		cr_assert_eq(store_mkdir(st, t, &dom0, p), 0);
		m_write(a, b, c, NULL, true);
	} else {
		int parent = b < 0 ? 0 : c < 0 ? id_of(a, -1, -1) : id_of(a, b, -1);
		int r = store_rm(st, t, &dom0, p);

		if (model[id_of(a, b, c)].exists || model[parent].exists)
			cr_assert_eq(r, 0, "rm %s", p);
		else
			cr_assert_eq(r, -ENOENT, "rm %s", p);
		if (model[id_of(a, b, c)].exists)
			m_rm(a, b, c);
	}
}

TestSuite(model, .init = fx_setup, .fini = fx_teardown);

Test(model, random_direct)
{
	int i;

	srand(7);
	for (i = 0; i < 4000; i++) {
		random_op(NULL);
		if (i % 500 == 499)
			compare();
	}
	compare();
}

Test(model, random_in_transactions)
{
	struct store_txn *t;
	int i, j;

	srand(11);
	for (i = 0; i < 200; i++) {
		cr_assert_eq(store_txn_begin(st, &dom0, i + 1, &t), 0);
		for (j = 0; j < 1 + rand() % 20; j++)
			random_op(t);
		cr_assert_eq(store_txn_commit(st, t), 0);
		if (i % 20 == 19)
			compare();
	}
	compare();
}
