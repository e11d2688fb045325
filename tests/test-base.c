/*
 * test-base: err, util and utf8.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "harness.h"
#include "utf8.h"
#include "util.h"

TEST(err_set_and_prefix)
{
	struct err e;

	err_clear(&e);
	CHECK_INT(e.code, ERR_OK);
	CHECK_INT(err_set(&e, ERR_FORMAT, "offset %d: bad", 12), ERR_FORMAT);
	CHECK_STR(e.msg, "offset 12: bad");
	CHECK_INT(err_prefix(&e, "'%s'", "x.gguf"), ERR_FORMAT);
	CHECK_STR(e.msg, "'x.gguf': offset 12: bad");
	CHECK_INT(err_set(NULL, ERR_IO, "ignored"), ERR_IO);
}

TEST(err_truncates_long_messages)
{
	struct err e;
	char big[2000];

	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	err_set(&e, ERR_IO, "%s", big);
	CHECK_INT(strlen(e.msg), ERR_MSG_MAX - 1);
}

TEST(sbuf_grows)
{
	struct sbuf sb;
	int i;

	sbuf_init(&sb);
	for (i = 0; i < 1000; i++)
		sbuf_addf(&sb, "%d,", i);
	CHECK(sb.len > 3000);
	CHECK(strncmp(sb.buf, "0,1,2,", 6) == 0);
	CHECK_INT(sb.buf[sb.len], 0);
	sbuf_reset(&sb);
	CHECK_INT(sb.len, 0);
	sbuf_add(&sb, "a\0b", 3);
	CHECK_INT(sb.len, 3);
	sbuf_release(&sb);
}

TEST(utf8_decode_strict)
{
	uint32_t cp;

	CHECK_INT(utf8_decode("A", 1, &cp), 1);
	CHECK_INT(cp, 'A');
	CHECK_INT(utf8_decode("\xc3\xa9", 2, &cp), 2);
	CHECK_INT(cp, 0xe9);
	CHECK_INT(utf8_decode("\xf0\x9f\x98\x80", 4, &cp), 4);
	CHECK_INT(cp, 0x1f600);
	/* Incomplete but valid so far. */
	CHECK_INT(utf8_decode("\xf0\x9f\x98", 3, &cp), 0);
	/* Overlong, surrogate, out of range, stray continuation. */
	CHECK_INT(utf8_decode("\xc0\xaf", 2, &cp), -1);
	CHECK_INT(utf8_decode("\xe0\x80\xaf", 3, &cp), -1);
	CHECK_INT(utf8_decode("\xed\xa0\x80", 3, &cp), -1);
	CHECK_INT(utf8_decode("\xf4\x90\x80\x80", 4, &cp), -1);
	CHECK_INT(utf8_decode("\x80", 1, &cp), -1);
	CHECK(utf8_valid("h\xc3\xa9llo", 6));
	CHECK(!utf8_valid("h\xc3", 2));
}

TEST(utf8_complete_prefix)
{
	CHECK_INT(utf8_complete_prefix("ab\xe2\x82", 4), 2);
	CHECK_INT(utf8_complete_prefix("ab\xe2\x82\xac", 5), 5);
	/* An invalid byte is complete: it will not become valid later. */
	CHECK_INT(utf8_complete_prefix("a\xff", 2), 2);
}

TEST(utf8_encode_roundtrip)
{
	static const uint32_t cps[] = { 0, 0x7f, 0x80, 0x7ff, 0x800, 0xfffd,
		0x10000, 0x10ffff };
	char buf[4];
	uint32_t cp;
	size_t i;

	for (i = 0; i < sizeof cps / sizeof cps[0]; i++) {
		int n = utf8_encode(cps[i], buf);

		CHECK_INT(utf8_decode(buf, (size_t)n, &cp), n);
		CHECK_INT(cp, cps[i]);
	}
	CHECK_INT(utf8_encode(0xd800, buf), 3); /* becomes U+FFFD */
}

TEST(util_parse_numbers)
{
	int64_t v;
	double d;

	CHECK_INT(util_parse_i64("42", 0, 100, &v), 0);
	CHECK_INT(v, 42);
	CHECK_INT(util_parse_i64("101", 0, 100, &v), ERR_RANGE);
	CHECK_INT(util_parse_i64("4x", 0, 100, &v), ERR_USAGE);
	CHECK_INT(util_parse_i64("", 0, 100, &v), ERR_USAGE);
	CHECK_INT(util_parse_double("0.25", &d), 0);
	CHECK(d == 0.25);
	CHECK_INT(util_parse_double("nan", &d), ERR_USAGE);
	CHECK_INT(util_parse_double("1e999", &d), ERR_USAGE);
}

TEST(util_files_and_dirs)
{
	struct err e;
	struct stat st;
	char *data, *dir;
	size_t len;

	dir = xasprintf("%s/a/b/c", test_tmpdir());
	CHECK_INT(util_mkdirs(dir, 0700, &e), 0);
	CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
	CHECK_INT(st.st_mode & 0777, 0700);
	CHECK_INT(util_write_file(test_tmpfile("f"), "hello", 5, 0600, &e), 0);
	CHECK_INT(util_read_file(test_tmpfile("f"), 0, &data, &len, &e), 0);
	CHECK_INT(len, 5);
	CHECK_STR(data, "hello");
	free(data);
	CHECK_INT(util_read_file(test_tmpfile("missing"), 0, &data, &len, &e),
	    ERR_IO);
	CHECK_CONTAINS(e.msg, "missing");
	/* a limit: within it, and past it (an error naming it) */
	CHECK_INT(util_read_file(test_tmpfile("f"), 5, &data, &len, &e), 0);
	free(data);
	data = NULL;
	CHECK_INT(
	    util_read_file(test_tmpfile("f"), 4, &data, &len, &e), ERR_RANGE);
	CHECK(data == NULL);
	CHECK_CONTAINS(e.msg, "longer than");
	free(dir);
}

TEST(util_xdg_dirs)
{
	char *d;

	setenv("XDG_DATA_HOME", "/x/data", 1);
	d = util_xdg_dir("data");
	CHECK_STR(d, "/x/data/vkchat");
	free(d);
	setenv("XDG_DATA_HOME", "relative", 1);
	setenv("HOME", "/home/u", 1);
	d = util_xdg_dir("data");
	CHECK_STR(d, "/home/u/.local/share/vkchat");
	free(d);
	unsetenv("XDG_CACHE_HOME");
	d = util_xdg_dir("cache");
	CHECK_STR(d, "/home/u/.cache/vkchat");
	free(d);
}

TEST(util_bytes_human)
{
	char buf[32];

	CHECK_STR(util_bytes(512, buf, sizeof buf), "512 B");
	CHECK_STR(util_bytes(1536, buf, sizeof buf), "1.5 KiB");
	CHECK_STR(util_bytes(3ull << 30, buf, sizeof buf), "3.0 GiB");
}
