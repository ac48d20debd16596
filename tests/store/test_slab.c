/* test_slab.c - the nodes' size-class pages: no overlap, pages given back. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/slab.h"

#define NSLOTS 20000

static size_t size_of(unsigned i)
{
	return 1 + (i * 37u) % (SLAB_MAX + 200); /* every class, and malloc */
}

Test(slab, slots_do_not_overlap_and_survive_frees)
{
	static unsigned char *p[NSLOTS];
	struct slab s = { 0 };
	for (unsigned i = 0; i < NSLOTS; i++) {
		p[i] = slab_alloc(&s, size_of(i));
		cr_assert_not_null(p[i]);
		cr_assert_eq((uintptr_t)p[i] % 8, 0, "aligned");
		memset(p[i], (int)(i & 0xff), size_of(i));
	}
	/* free every other one, allocate them again: freed slots reused */
	size_t pages = s.pages;
	for (unsigned i = 0; i < NSLOTS; i += 2)
		slab_free(&s, p[i], size_of(i));
	for (unsigned i = 0; i < NSLOTS; i += 2) {
		p[i] = slab_alloc(&s, size_of(i));
		memset(p[i], (int)(i & 0xff), size_of(i));
	}
	cr_assert_eq(s.pages, pages, "freed slots were not reused");
	for (unsigned i = 0; i < NSLOTS; i++)
		for (size_t k = 0; k < size_of(i); k++)
			cr_assert_eq(p[i][k], i & 0xff, "slot %u byte %zu", i, k);
	for (unsigned i = 0; i < NSLOTS; i++)
		slab_free(&s, p[i], size_of(i));
	/* at most one empty page kept per class */
	cr_assert_leq(s.pages, SLAB_CLASSES);
	slab_fini(&s);
	cr_assert_eq(s.pages, 0);
	cr_assert_null(s.all);
}

Test(slab, an_emptied_page_goes_back)
{
	static void *p[4000];
	struct slab s = { 0 };
	for (unsigned i = 0; i < 4000; i++)
		cr_assert_not_null(p[i] = slab_alloc(&s, 96));
	size_t full = s.pages;
	cr_assert_gt(full, 3);
	for (unsigned i = 0; i < 4000; i++)
		slab_free(&s, p[i], 96);
	cr_assert_eq(s.pages, 1);
	/* fini with slots still allocated unmaps their pages too */
	for (unsigned i = 0; i < 4000; i++)
		p[i] = slab_alloc(&s, 96);
	cr_assert_eq(s.pages, full);
	slab_fini(&s);
	cr_assert_eq(s.pages, 0);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

Test(slab, references_lead_back_and_are_distinct)
{
	static unsigned char *p[NSLOTS];
	static uint32_t r[NSLOTS];
	struct slab s = { 0 };
	cr_assert_null(slab_ptr(&s, 0));
	for (unsigned round = 0; round < 2; round++) {
		for (unsigned i = round; i < NSLOTS; i += 1 + round) {
			p[i] = slab_alloc(&s, size_of(i));
			cr_assert_not_null(p[i]);
		}
		for (unsigned i = 0; i < NSLOTS; i++) {
			r[i] = slab_ref(&s, p[i], size_of(i));
			cr_assert_gt(r[i], 1, "0 and 1 are never references");
			cr_assert_eq(slab_ptr(&s, r[i]), p[i], "slot %u", i);
		}
		qsort(r, NSLOTS, sizeof(r[0]), cmp_u32);
		for (unsigned i = 1; i < NSLOTS; i++)
			cr_assert_neq(r[i], r[i - 1], "reference shared");
		/* free every other one (malloc'd ones too): their ids
		 * and slots are taken again by the second round */
		if (!round)
			for (unsigned i = 1; i < NSLOTS; i += 2)
				slab_free(&s, p[i], size_of(i));
	}
	slab_fini(&s); /* large blocks still allocated are freed too */
	cr_assert_null(s.table);
}
