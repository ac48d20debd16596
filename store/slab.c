/* slab.c - size-class pages for the store's nodes (slab.h). */
#include "slab.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Aligned to its size, so that a slot finds its page by masking. */
#define PAGE_SIZE (64u << 10)
#define PAGE_HDR 64u

struct slab_page {
	struct slab_page *prev, *next;   /* s->avail[cls], if listed */
	struct slab_page *aprev, *anext; /* every page, for slab_fini */
	void *free;                      /* freed slots, linked through them */
	uint32_t used;                   /* slots allocated */
	uint32_t bump;                   /* offset of the first never used */
	uint32_t size;                   /* of a slot */
	bool listed;
};

static void avail_add(struct slab *s, struct slab_page *p, unsigned cls)
{
	p->prev = NULL;
	p->next = s->avail[cls];
	if (p->next)
		p->next->prev = p;
	s->avail[cls] = p;
	p->listed = true;
}

static void avail_del(struct slab *s, struct slab_page *p, unsigned cls)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		s->avail[cls] = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->listed = false;
}

static struct slab_page *page_new(struct slab *s, uint32_t size)
{
	/* Twice the size, then the unaligned ends go back. */
	char *m = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	uintptr_t a = ((uintptr_t)m + PAGE_SIZE - 1) & ~(uintptr_t)(PAGE_SIZE - 1);
	size_t head = a - (uintptr_t)m;
	if (head)
		munmap(m, head);
	munmap((char *)a + PAGE_SIZE, PAGE_SIZE - head);
	struct slab_page *p = (struct slab_page *)a;
	p->free = NULL;
	p->used = 0;
	p->bump = PAGE_HDR;
	p->size = size;
	p->aprev = NULL;
	p->anext = s->all;
	if (p->anext)
		p->anext->aprev = p;
	s->all = p;
	s->pages++;
	return p;
}

static void page_drop(struct slab *s, struct slab_page *p)
{
	if (p->aprev)
		p->aprev->anext = p->anext;
	else
		s->all = p->anext;
	if (p->anext)
		p->anext->aprev = p->aprev;
	s->pages--;
	munmap(p, PAGE_SIZE);
}

static bool page_full(const struct slab_page *p)
{
	return !p->free && p->bump + p->size > PAGE_SIZE;
}

void *slab_alloc(struct slab *s, size_t size)
{
	if (size > SLAB_MAX)
		return malloc(size);
	unsigned cls = size ? (unsigned)((size + 7) / 8) - 1 : 0;
	struct slab_page *p = s->avail[cls];
	void *slot;
	if (!p) {
		if (!(p = page_new(s, (cls + 1) * 8u)))
			return NULL;
		avail_add(s, p, cls);
	}
	if (p->free) {
		slot = p->free;
		p->free = *(void **)slot;
	} else {
		slot = (char *)p + p->bump;
		p->bump += p->size;
	}
	p->used++;
	if (page_full(p))
		avail_del(s, p, cls);
	return slot;
}

void slab_free(struct slab *s, void *slot, size_t size)
{
	if (!slot)
		return;
	if (size > SLAB_MAX) {
		free(slot);
		return;
	}
	unsigned cls = size ? (unsigned)((size + 7) / 8) - 1 : 0;
	struct slab_page *p = (struct slab_page *)((uintptr_t)slot &
						   ~(uintptr_t)(PAGE_SIZE - 1));
	*(void **)slot = p->free;
	p->free = slot;
	p->used--;
	if (!p->used && p->listed && (p->prev || p->next)) {
		/* empty, and not the class's only page: back to the system */
		avail_del(s, p, cls);
		page_drop(s, p);
		return;
	}
	if (!p->used) {
		/* the class's only page stays mapped, its memory goes back */
		size_t sys = (size_t)sysconf(_SC_PAGESIZE);
		if (sys && sys < PAGE_SIZE)
			madvise((char *)p + sys, PAGE_SIZE - sys, MADV_DONTNEED);
		p->free = NULL;
		p->bump = PAGE_HDR;
	}
	if (!p->listed)
		avail_add(s, p, cls);
}

void slab_fini(struct slab *s)
{
	while (s->all)
		page_drop(s, s->all);
	for (unsigned c = 0; c < SLAB_CLASSES; c++)
		s->avail[c] = NULL;
}
