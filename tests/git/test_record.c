/* test_record.c - journal record encoding, framing and perms text. */
#include <criterion/criterion.h>
#include <string.h>

#include "store/git/mirror.h"
#include "store/git/record.h"

static struct store_commit sample(struct store_op *ops,
				  struct store_effect *eff,
				  struct xsw_perm *perms)
{
	perms[0] = (struct xsw_perm){ 7, XSW_PERM_NONE };
	perms[1] = (struct xsw_perm){ 0, XSW_PERM_BOTH };
	ops[0] = (struct store_op){ STORE_OP_WRITE, "/local/domain/7/a" };
	ops[1] = (struct store_op){ STORE_OP_RM, "/local/domain/7/b" };
	eff[0] = (struct store_effect){ "/local/domain/7/a", false, "v\0x", 3,
					perms, 2 };
	eff[1] = (struct store_effect){ "/local/domain/7/b", true, NULL, 0,
					NULL, 0 };
	return (struct store_commit){ .caller = { 7, false, 3, 42 },
				      .tx_id = 9, .nops = 2, .ops = ops,
				      .neffects = 2, .effects = eff };
}

Test(record, round_trip)
{
	struct store_op ops[2];
	struct store_effect eff[2];
	struct xsw_perm perms[2];
	struct store_commit c = sample(ops, eff, perms);
	struct gs_buf b = { 0 };
	cr_assert_eq(gs_record_encode(&b, &c, 77, 123456789), 0);
	size_t fl = gs_frame_check(b.data, b.len);
	cr_assert_eq(fl, b.len);
	struct gs_record r;
	cr_assert_eq(gs_record_decode(b.data + GS_FRAME_HDR,
				      fl - GS_FRAME_HDR, &r), 0);
	cr_assert_eq(r.seq, 77);
	cr_assert_eq(r.time_ns, 123456789);
	cr_assert_eq(r.caller.domid, 7);
	cr_assert_eq(r.caller.target, 3);
	cr_assert_eq(r.caller.conn_id, 42);
	cr_assert_eq(r.tx_id, 9);
	cr_assert_eq(r.nops, 2);
	cr_assert_eq(r.ops[1].kind, STORE_OP_RM);
	cr_assert_str_eq(r.ops[1].path, "/local/domain/7/b");
	cr_assert_eq(r.neffects, 2);
	cr_assert_eq(r.effects[0].len, 3);
	cr_assert_eq(memcmp(r.effects[0].value, "v\0x", 3), 0);
	cr_assert_eq(r.effects[0].nperms, 2);
	cr_assert_eq(r.effects[0].perms[1].perms, XSW_PERM_BOTH);
	cr_assert_eq(r.effects[0].perms[0].domid, 7);
	cr_assert(r.effects[1].deleted);
	gs_record_release(&r);
	gs_buf_free(&b);
}

Test(record, torn_and_corrupt_frames_rejected)
{
	struct store_op ops[2];
	struct store_effect eff[2];
	struct xsw_perm perms[2];
	struct store_commit c = sample(ops, eff, perms);
	struct gs_buf b = { 0 };
	cr_assert_eq(gs_record_encode(&b, &c, 1, 1), 0);
	size_t one = b.len;
	cr_assert_eq(gs_record_encode(&b, &c, 2, 2), 0);
	cr_assert_eq(gs_frame_check(b.data + one, b.len - one), b.len - one);
	for (size_t cut = 0; cut < b.len - one; cut++)
		cr_assert_eq(gs_frame_check(b.data + one, cut), 0,
			     "torn at %zu accepted", cut);
	b.data[one + GS_FRAME_HDR + 3] ^= 1;
	cr_assert_eq(gs_frame_check(b.data + one, b.len - one), 0);
	gs_buf_free(&b);
}

Test(record, malformed_payload_rejected)
{
	struct store_op ops[2];
	struct store_effect eff[2];
	struct xsw_perm perms[2];
	struct store_commit c = sample(ops, eff, perms);
	struct gs_buf b = { 0 };
	cr_assert_eq(gs_record_encode(&b, &c, 1, 1), 0);
	struct gs_record r;
	size_t plen = b.len - GS_FRAME_HDR;
	for (size_t cut = 0; cut < plen; cut++)
		cr_assert_neq(gs_record_decode(b.data + GS_FRAME_HDR, cut, &r),
			      0, "short payload %zu decoded", cut);
	gs_buf_free(&b);
}

Test(perms, format_and_parse)
{
	struct xsw_perm p[3] = { { 5, XSW_PERM_NONE }, { 0, XSW_PERM_READ },
				 { 12, XSW_PERM_BOTH | XSW_PERM_IGNORE } };
	char text[64];
	size_t len = gs_perms_format(p, 3, text);
	text[len] = '\0';
	cr_assert_str_eq(text, "n5\nr0\nb12!\n");
	struct xsw_perm q[4];
	cr_assert_eq(gs_perms_parse(text, len, q, 4), 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(q[i].domid, p[i].domid);
		cr_assert_eq(q[i].perms, p[i].perms);
	}
	cr_assert_lt(gs_perms_parse("x5\n", 3, q, 4), 0);
	cr_assert_lt(gs_perms_parse("r\n", 2, q, 4), 0);
	cr_assert_lt(gs_perms_parse("r5x\n", 4, q, 4), 0);
}
