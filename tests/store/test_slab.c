/* test_slab.c - the nodes' size-class pages: no overlap, pages given back. */
#include <criterion/criterion.h>
#include <stdint.h>
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
