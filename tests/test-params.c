/*
 * test-params: setting, listing, diffing and the text and JSON forms of
 * generation parameters.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "params.h"

TEST(params_set_and_aliases)
{
	struct gen_params p;
	struct err e;

	params_init(&p);
	CHECK_INT(params_set(&p, "temp", "0.2", &e), 0);
	CHECK(p.temperature == 0.2f);
	CHECK_INT(params_set(&p, "top-p", "0.5", &e), 0);
	CHECK(p.top_p == 0.5f);
	CHECK_INT(params_set(&p, "top_k", "7", &e), 0);
	CHECK_INT(p.top_k, 7);
	CHECK_INT(params_set(&p, "seed", "18446744073709551615", &e), 0);
	CHECK(p.seed == UINT64_MAX);
	CHECK_INT(params_set(&p, "stop", "User:", &e), 0);
	CHECK_INT(params_set(&p, "stop", "\n\n", &e), 0);
	CHECK_INT(p.n_stop, 2);
	CHECK_INT(params_set(&p, "logit_bias", "13:-inf", &e), 0);
	CHECK(isinf(p.bias[0].bias) && p.bias[0].token == 13);
	CHECK_INT(params_set(&p, "system", "Be brief.", &e), 0);
	CHECK_STR(p.system_prompt, "Be brief.");
	CHECK_STR(params_canonical("temp"), "temperature");
	CHECK(params_canonical("nope") == NULL);
	params_release(&p);
}

TEST(params_errors_name_key_and_value)
{
	struct gen_params p;
	struct err e;

	params_init(&p);
	CHECK_INT(params_set(&p, "temperature", "hot", &e), ERR_USAGE);
	CHECK_CONTAINS(e.msg, "temperature");
	CHECK_CONTAINS(e.msg, "hot");
	CHECK_INT(params_set(&p, "top_p", "1.5", &e), ERR_RANGE);
	CHECK_CONTAINS(e.msg, "0 to 1");
	CHECK_INT(params_set(&p, "bogus", "1", &e), ERR_USAGE);
	CHECK_CONTAINS(e.msg, "bogus");
	CHECK_INT(params_set(&p, "mirostat", "1", &e), ERR_UNSUPPORTED);
	CHECK_INT(params_set(&p, "logit_bias", "x", &e), ERR_USAGE);
	CHECK_INT(params_set(&p, "seed", "-1", &e), ERR_USAGE);
	params_release(&p);
}

TEST(params_set_list_is_atomic)
{
	struct gen_params p;
	struct err e;

	params_init(&p);
	CHECK_INT(
	    params_set_list(&p, "temp=0.7 top_p=0.9 stop=\"a b\"", &e), 0);
	CHECK(p.temperature == 0.7f && p.top_p == 0.9f);
	CHECK_STR(p.stop[0], "a b");
	CHECK(params_set_list(&p, "temp=0.1 top_p=7", &e) != 0);
	CHECK(p.temperature == 0.7f); /* unchanged */
	CHECK(params_set_list(&p, "temp", &e) != 0);
	CHECK(params_set_list(&p, "stop=\"open", &e) != 0);
	params_release(&p);
}

TEST(params_diff_lists_changes)
{
	struct gen_params a, b;
	struct sbuf sb;

	params_init(&a);
	params_init(&b);
	sbuf_init(&sb);
	CHECK_INT(params_diff(&a, NULL, " ", &sb), 0);
	CHECK(params_equal(&a, &b));
	params_set(&a, "temp", "0.2", NULL);
	params_set(&a, "system", "hi there", NULL);
	CHECK_INT(params_diff(&a, &b, " ", &sb), 2);
	CHECK_STR(sb.buf, "temperature=0.2 system=\"hi there\"");
	CHECK(!params_equal(&a, &b));
	sbuf_release(&sb);
	params_release(&a);
	params_release(&b);
}

/* Only what differs among all three, each column with its own value. */
TEST(params_diff_n_columns)
{
	struct gen_params p[3];
	const struct gen_params *pp[3] = { &p[0], &p[1], &p[2] };
	const char *skip[] = { "seed", NULL };
	struct sbuf out[3];
	size_t i;

	for (i = 0; i < 3; i++) {
		params_init(&p[i]);
		sbuf_init(&out[i]);
		p[i].seed = 10 + i;
	}
	params_set(&p[1], "temp", "0.2", NULL);
	params_set(&p[0], "top_k", "5", NULL);
	params_set(&p[1], "top_k", "5", NULL);
	params_set(&p[2], "top_k", "5", NULL);
	params_set(&p[2], "stop", "x y", NULL);
	CHECK_INT(params_diff_n(pp, 3, skip, " ", out), 2);
	CHECK_STR(out[0].buf, "temperature=0.8 stop=");
	CHECK_STR(out[1].buf, "temperature=0.2 stop=");
	CHECK_STR(out[2].buf, "temperature=0.8 stop=\"x y\"");
	sbuf_reset(&out[0]);
	CHECK_INT(params_diff_n(pp, 3, NULL, " ", out), 3);
	CHECK_CONTAINS(out[0].buf, "seed=10");
	CHECK_INT(params_diff_n(pp, 1, NULL, " ", out), 0);
	for (i = 0; i < 3; i++) {
		sbuf_release(&out[i]);
		params_release(&p[i]);
	}
}

TEST(params_text_roundtrip)
{
	struct gen_params a, b;
	struct sbuf sb;
	struct err e;

	params_init(&a);
	params_set_list(&a,
	    "temp=0.3 top_k=5 stop=\"x\\\"y\" stop=END "
	    "logit_bias=2:-inf logit_bias=7:1.5 seed=99",
	    NULL);
	params_set(&a, "system", "line one\nline two", NULL);
	sbuf_init(&sb);
	params_format(&a, &sb);
	params_init(&b);
	CHECK_INT(params_parse_text(&b, sb.buf, "test", &e), 0);
	CHECK_MSG(params_equal(&a, &b), "roundtrip differs:\n%s", sb.buf);
	sbuf_release(&sb);
	params_release(&a);
	params_release(&b);
}

/*
 * Escapes mean the same in every typed form: --stop and --set values
 * (params_set_typed), /set lists quoted or not, preset files; stored
 * values (params_set) are taken as they are.
 */
TEST(params_escapes_everywhere)
{
	static const char *const lists[] = {
		"stop=a\\nb",
		"stop=\"a\\nb\"",
		"top_k=3, stop=a\\nb",
	};
	struct gen_params p, q;
	struct sbuf sb;
	struct err e;
	size_t i;

	for (i = 0; i < ARRAY_LEN(lists); i++) {
		params_init(&p);
		CHECK_INT(params_set_list(&p, lists[i], &e), 0);
		CHECK_INT((int)p.n_stop, 1);
		if (p.n_stop == 1)
			CHECK_STR(p.stop[0], "a\nb");
		params_release(&p);
	}
	params_init(&p);
	CHECK_INT(params_parse_text(&p, "stop = a\\nb\n", "f", &e), 0);
	CHECK(p.n_stop == 1 && strcmp(p.stop[0], "a\nb") == 0);
	params_release(&p);

	params_init(&p);
	CHECK_INT(params_set_typed(&p, "stop", "a\\nb", &e), 0);
	CHECK_INT(params_set_typed(&p, "stop", "\\t|\\\\n|\\x|\\\"", &e), 0);
	CHECK_INT(params_set(&p, "stop", "raw\\n", &e), 0);
	CHECK_INT(params_set_typed(&p, "system", "one\\ntwo", &e), 0);
	CHECK_INT((int)p.n_stop, 3);
	if (p.n_stop == 3) {
		CHECK_STR(p.stop[0], "a\nb");
		CHECK_STR(p.stop[1], "\t|\\n|\\x|\"");
		CHECK_STR(p.stop[2], "raw\\n");
	}
	CHECK_STR(p.system_prompt, "one\ntwo");
	/* a carriage return survives the text form (found by fuzzing) */
	CHECK_INT(params_set_typed(&p, "system", "one\\r\\ntwo\r", &e), 0);
	CHECK_STR(p.system_prompt, "one\r\ntwo\r");

	/* what is written as text reads back the same */
	sbuf_init(&sb);
	params_format(&p, &sb);
	params_init(&q);
	CHECK_INT(params_parse_text(&q, sb.buf, "test", &e), 0);
	CHECK_MSG(params_equal(&p, &q), "roundtrip differs:\n%s", sb.buf);
	params_release(&q);
	sbuf_release(&sb);
	params_release(&p);
}

TEST(params_text_errors_name_line)
{
	struct gen_params p;
	struct err e;

	params_init(&p);
	CHECK(params_parse_text(
		  &p, "# c\ntemp = 0.5\ntop_p = 2\n", "f.preset", &e) != 0);
	CHECK_CONTAINS(e.msg, "f.preset: line 3");
	CHECK(p.temperature != 0.5f); /* unchanged on error */
	CHECK(params_parse_text(&p, "temp 0.5\n", "f", &e) != 0);
	CHECK_CONTAINS(e.msg, "line 1");
	params_release(&p);
}

TEST(params_json_roundtrip)
{
	struct gen_params a, b;
	struct json_writer w;
	struct sbuf sb;
	struct json *j;
	struct err e;

	params_init(&a);
	params_set_list(&a,
	    "temp=1.25 min_p=0.1 stop=Q: logit_bias=3:-2 "
	    "seed=12345678901234567",
	    NULL);
	sbuf_init(&sb);
	json_writer_init(&w, &sb, 0);
	params_to_json(&a, &w);
	CHECK_INT(json_parse(sb.buf, sb.len, &j, &e), 0);
	params_init(&b);
	CHECK_INT(params_from_json(&b, j, &e), 0);
	CHECK_MSG(params_equal(&a, &b), "json roundtrip differs: %s", sb.buf);
	json_free(j);
	sbuf_release(&sb);
	params_release(&a);
	params_release(&b);
}

TEST(params_table_documented)
{
	size_t i;

	CHECK(params_count() >= 17);
	for (i = 0; i < params_count(); i++)
		CHECK_MSG(params_doc(params_key(i)) != NULL, "%s undocumented",
		    params_key(i));
}

TEST(params_builtins_valid)
{
	struct gen_params p;
	struct err e;
	size_t i;

	for (i = 0; i < params_builtin_count(); i++) {
		CHECK_INT(params_builtin(params_builtin_name(i), &p), 0);
		CHECK(params_builtin_doc(i) != NULL);
		params_release(&p);
	}
	CHECK_INT(params_builtin("deterministic", &p), 0);
	CHECK(p.temperature == 0);
	params_release(&p);
	CHECK_INT(params_builtin("nope", &p), ERR_NOTFOUND);
	params_init(&p);
	CHECK_INT(params_set_list(&p, "temp=0.7,top_p=0.9", &e), 0);
	CHECK(p.temperature == 0.7f && p.top_p == 0.9f);
	params_release(&p);
}
