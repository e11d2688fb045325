/*
 * test-json: the writer's escaping and commas, the parser's escapes,
 * surrogates, NUL bytes, depth limit and error offsets.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "json.h"

TEST(json_writer_compact)
{
	struct sbuf sb;
	struct json_writer w;

	sbuf_init(&sb);
	json_writer_init(&w, &sb, 0);
	json_obj_begin(&w);
	json_key(&w, "a");
	json_int(&w, 1);
	json_key(&w, "b");
	json_arr_begin(&w);
	json_str(&w, "x\"y\n\x01");
	json_num(&w, 0.5);
	json_bool(&w, 1);
	json_null(&w);
	json_num(&w, NAN);
	json_end(&w);
	json_key(&w, "c");
	json_obj_begin(&w);
	json_end(&w);
	json_end(&w);
	CHECK_STR(sb.buf,
	    "{\"a\":1,\"b\":[\"x\\\"y\\n\\u0001\",0.5,true,null,"
	    "null],\"c\":{}}");
	sbuf_release(&sb);
}

TEST(json_writer_bad_utf8_escaped)
{
	struct sbuf sb;

	sbuf_init(&sb);
	json_quote(&sb, "a\xff\xc3\xa9", 4);
	CHECK_STR(sb.buf, "\"a\\ufffd\xc3\xa9\"");
	sbuf_release(&sb);
}

/* C1 controls and the bidi controls are escaped even though JSON would
 * allow them raw: JSON output often lands on a terminal. */
TEST(json_writer_escapes_hidden_controls)
{
	struct sbuf sb;

	sbuf_init(&sb);
	json_quote(&sb,
	    "a\xc2\x85"
	    "b\xe2\x80\xae"
	    "c\xe2\x81\xa6"
	    "d\xc3\xa9",
	    14);
	CHECK_STR(sb.buf, "\"a\\u0085b\\u202ec\\u2066d\xc3\xa9\"");
	sbuf_release(&sb);
}

TEST(json_writer_pretty)
{
	struct sbuf sb;
	struct json_writer w;

	sbuf_init(&sb);
	json_writer_init(&w, &sb, 1);
	json_obj_begin(&w);
	json_key(&w, "k");
	json_arr_begin(&w);
	json_int(&w, 1);
	json_int(&w, 2);
	json_end(&w);
	json_end(&w);
	CHECK_STR(sb.buf, "{\n  \"k\": [\n    1,\n    2\n  ]\n}\n");
	sbuf_release(&sb);
}

TEST(json_parse_values)
{
	const char *text =
	    "{\"s\": \"a\\u00e9\\ud83d\\ude00\\u0000b\", "
	    "\"n\": -1.5e2, \"t\": true, \"a\": [1, [], {}], \"z\": null}";
	struct json *j;
	struct err e;
	const struct json *v;

	CHECK_INT(json_parse(text, strlen(text), &j, &e), 0);
	if (test_failures())
		return;
	v = json_get(j, "s");
	CHECK(v != NULL && v->type == JSON_STRING);
	CHECK_INT(v->len, 1 + 2 + 4 + 1 + 1);
	CHECK(memcmp(v->str, "a\xc3\xa9\xf0\x9f\x98\x80\0b", 9) == 0);
	CHECK(json_get(j, "n")->number == -150);
	CHECK(json_get(j, "t")->boolean);
	CHECK_INT(json_get(j, "a")->len, 3);
	CHECK_INT(json_get(j, "z")->type, JSON_NULL);
	CHECK(json_get(j, "missing") == NULL);
	json_free(j);
}

TEST(json_parse_errors)
{
	static const char *bad[] = { "", "{", "[1,]", "{\"a\" 1}", "\"abc",
		"\"\\ud800\"", "\"\\x\"", "tru", "1 2", "[\"\x01\"]" };
	struct json *j;
	struct err e;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_MSG(
		    json_parse(bad[i], strlen(bad[i]), &j, &e) == ERR_FORMAT,
		    "accepted '%s'", bad[i]);
		CHECK_CONTAINS(e.msg, "offset");
	}
}

TEST(json_parse_depth_limit)
{
	char buf[200];
	struct json *j;
	struct err e;

	memset(buf, '[', sizeof buf);
	CHECK_INT(json_parse(buf, sizeof buf, &j, &e), ERR_FORMAT);
	CHECK_CONTAINS(e.msg, "too deep");
}
