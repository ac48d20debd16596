/* Criterion tests of fanout.h: bucket keys and names (docs/STORE-FORMAT.md). */
#include <criterion/criterion.h>
#include <string.h>

#include "store/git/fanout.h"

/* Expected keys from `printf %s NAME | sha1sum`, the documented recipe. */
Test(fanout, key_is_leading_hex_digits_of_sha1_of_name)
{
	static const struct {
		const char *name;
		uint32_t two;
	} v[] = { { "7", 0x90 }, { "k0", 0x69 }, { "1000", 0xe3 },
		  { "backend", 0x75 } };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t len = strlen(v[i].name);
		cr_expect_eq(gs_fan_key(v[i].name, len, 0), 0u);
		cr_expect_eq(gs_fan_key(v[i].name, len, 1), v[i].two >> 4,
			     "%s", v[i].name);
		cr_expect_eq(gs_fan_key(v[i].name, len, 2), v[i].two,
			     "%s", v[i].name);
	}
}

Test(fanout, depth_follows_width)
{
	cr_expect_eq(gs_fan_depth(0), 0u);
	cr_expect_eq(gs_fan_depth(GS_FAN_MIN - 1), 0u);
	cr_expect_eq(gs_fan_depth(GS_FAN_MIN), 1u);
	cr_expect_eq(gs_fan_depth(GS_FAN_DEEP - 1), 1u);
	cr_expect_eq(gs_fan_depth(GS_FAN_DEEP), 2u);
	cr_expect_eq(gs_fan_depth(UINT32_MAX), 2u);
}

Test(fanout, bucket_names_round_trip_and_nothing_else_is_a_bucket)
{
	char nm[3];
	for (unsigned d = 0; d < GS_FAN_WAYS; d++) {
		gs_fan_bucket_name(d, nm);
		cr_expect(gs_fan_is_bucket(nm), "%s", nm);
		cr_expect_eq(gs_fan_bucket_digit(nm), d);
	}
	const char *not[] = { ".value", ".perms", ".order", ".", ".g", ".A",
			      "a", "0", ".00", "" };
	for (size_t i = 0; i < sizeof(not) / sizeof(not[0]); i++)
		cr_expect(!gs_fan_is_bucket(not[i]), "%s", not[i]);
}
