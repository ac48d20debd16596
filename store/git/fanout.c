/* fanout.c - a child's bucket in a fanned-out directory (fanout.h). */
#include "fanout.h"

#include "sha1.h"

uint32_t gs_fan_key(const char *name, size_t len, unsigned depth)
{
	unsigned char h[20];
	struct gs_sha1 c;
	if (!depth)
		return 0;
	gs_sha1_init(&c);
	gs_sha1_update(&c, name, len);
	gs_sha1_final(&c, h);
	/* hex digits: the high nibble of byte 0 first */
	uint32_t two = h[0];
	return depth == 1 ? two >> 4 : two;
}
