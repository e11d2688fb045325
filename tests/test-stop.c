/*
 * test-stop: stop strings over streamed text: split across pieces, held
 * prefixes released when they stop matching, several strings, the flush
 * at the end, UTF-8, and randomized splits against a reference.
 */
#include <string.h>

#include "harness.h"
#include "rng.h"
#include "stop.h"
#include "utf8.h"

/* Push the NUL-terminated PIECES in turn; return the index of the push
 * that matched (-1 if none) and append what was released to OUT. */
static int
test_stop_feed(struct stop *s, const char *const *pieces, struct sbuf *out)
{
	int i;

	for (i = 0; pieces[i] != NULL; i++)
		if (stop_push(s, pieces[i], strlen(pieces[i]), out))
			return i;
	return -1;
}

TEST(stop_split_across_pieces)
{
	static const char *const strs[] = { "o w" };
	static const char *const pieces[] = { "Hel", "lo", " ", "wo", "rld",
		NULL };
	struct stop s;
	struct sbuf out;

	sbuf_init(&out);
	stop_init(&s, strs, 1);
	CHECK_INT(stop_push(&s, "Hel", 3, &out), 0);
	CHECK_STR(out.buf, "Hel");
	CHECK_INT(stop_push(&s, "lo", 2, &out), 0);
	CHECK_STR(out.buf, "Hell"); /* "o" is held */
	CHECK_INT(stop_push(&s, " ", 1, &out), 0);
	CHECK_STR(out.buf, "Hell");
	CHECK_INT(stop_push(&s, "wo", 2, &out), 1);
	CHECK_STR(out.buf, "Hell");
	CHECK_STR(stop_matched(&s), "o w");
	/* After a match nothing more comes out, not even at the end. */
	CHECK_INT(stop_push(&s, "rld", 3, &out), 1);
	stop_finish(&s, &out);
	CHECK_STR(out.buf, "Hell");
	/* The same through the helper after a reset. */
	stop_reset(&s);
	sbuf_reset(&out);
	CHECK(stop_matched(&s) == NULL);
	CHECK_INT(test_stop_feed(&s, pieces, &out), 3);
	CHECK_STR(out.buf, "Hell");
	stop_release(&s);
	sbuf_release(&out);
}

TEST(stop_release_when_prefix_breaks)
{
	static const char *const strs[] = { "\n\nUser:" };
	struct stop s;
	struct sbuf out;

	sbuf_init(&out);
	stop_init(&s, strs, 1);
	CHECK_INT(stop_push(&s, "a\n", 2, &out), 0);
	CHECK_STR(out.buf, "a");
	CHECK_INT(stop_push(&s, "\nUs", 3, &out), 0);
	CHECK_STR(out.buf, "a");
	CHECK_INT(stop_push(&s, "ed", 2, &out), 0);
	CHECK_STR(out.buf, "a\n\nUsed");
	/* A prefix that restarts inside held text: "\n\n\nUser:". */
	CHECK_INT(stop_push(&s, "\n\n", 2, &out), 0);
	CHECK_INT(stop_push(&s, "\nUser", 5, &out), 0);
	CHECK_STR(out.buf, "a\n\nUsed\n");
	CHECK_INT(stop_push(&s, ":", 1, &out), 1);
	CHECK_STR(out.buf, "a\n\nUsed\n");
	stop_release(&s);
	sbuf_release(&out);
}

TEST(stop_several_strings)
{
	static const char *const strs[] = { "", "###", "END", "ENDING", "x" };
	struct stop s;
	struct sbuf out;

	sbuf_init(&out);
	stop_init(&s, strs, 5);
	CHECK_INT(s.n, 4); /* the empty string is ignored */
	/* Held: "EN" may become END or ENDING. */
	CHECK_INT(stop_push(&s, "abc EN", 6, &out), 0);
	CHECK_STR(out.buf, "abc ");
	/* Both complete in one push: the longest at the same start. */
	CHECK_INT(stop_push(&s, "DING now", 8, &out), 1);
	CHECK_STR(stop_matched(&s), "ENDING");
	CHECK_STR(out.buf, "abc ");
	/* Two in one piece: the one starting first wins. */
	stop_reset(&s);
	sbuf_reset(&out);
	CHECK_INT(stop_push(&s, "ab### x END", 11, &out), 1);
	CHECK_STR(stop_matched(&s), "###");
	CHECK_STR(out.buf, "ab");
	/* A stop string at the very start releases nothing. */
	stop_reset(&s);
	sbuf_reset(&out);
	CHECK_INT(stop_push(&s, "x", 1, &out), 1);
	CHECK_INT(out.len, 0);
	stop_release(&s);
	sbuf_release(&out);
}

TEST(stop_finish_flushes_held)
{
	static const char *const strs[] = { "END" };
	struct stop s;
	struct sbuf out;

	sbuf_init(&out);
	stop_init(&s, strs, 1);
	CHECK_INT(stop_push(&s, "abcEN", 5, &out), 0);
	CHECK_STR(out.buf, "abc");
	stop_finish(&s, &out);
	CHECK_STR(out.buf, "abcEN");
	stop_release(&s);
	/* No stop strings: everything passes at once. */
	stop_init(&s, NULL, 0);
	sbuf_reset(&out);
	CHECK_INT(stop_push(&s, "hello", 5, &out), 0);
	CHECK_STR(out.buf, "hello");
	stop_finish(&s, &out);
	CHECK_STR(out.buf, "hello");
	stop_release(&s);
	sbuf_release(&out);
}

TEST(stop_utf8)
{
	static const char *const strs[] = { "\xc3\xa9!", "\xe2\x80\x94" };
	struct stop s;
	struct sbuf out;

	sbuf_init(&out);
	stop_init(&s, strs, 2);
	/* Whole characters in: whole characters out. */
	CHECK_INT(stop_push(&s, "caf\xc3\xa9", 5, &out), 0);
	CHECK_STR(out.buf, "caf");
	CHECK_INT(stop_push(&s, "s \xe2\x80\x93 ", 6, &out), 0);
	CHECK_STR(out.buf, "caf\xc3\xa9s \xe2\x80\x93 ");
	CHECK(utf8_valid(out.buf, out.len));
	/* A stop string split inside a character. */
	CHECK_INT(stop_push(&s, "\xe2\x80", 2, &out), 0);
	CHECK_INT(stop_push(&s, "\x94tail", 5, &out), 1);
	CHECK_STR(out.buf, "caf\xc3\xa9s \xe2\x80\x93 ");
	CHECK_STR(stop_matched(&s), "\xe2\x80\x94");
	stop_release(&s);
	sbuf_release(&out);
}

/*
 * Random text over a small alphabet (so matches and near-misses are
 * common), split at random: with one stop string the output is the text
 * before its first occurrence; fed byte by byte with several, the text
 * before the occurrence that ends first.  (Output only grows, so the
 * final length shows nothing was released too early.)
 */
TEST(stop_random_splits)
{
	static const char *const strs[] = { "abca", "bb", "cab" };
	struct rng r;
	struct stop s;
	struct sbuf out;
	char text[200];
	size_t round, i, j;

	rng_init(&r, 2024);
	sbuf_init(&out);
	for (round = 0; round < 2000; round++) {
		size_t n = 1 + rng_below(&r, sizeof text - 1);
		size_t which = rng_below(&r, 3), best_end = n + 1, best = 0;
		const char *hit;
		int matched = 0;

		for (i = 0; i < n; i++)
			text[i] = "abcd"[rng_below(&r, 4)];
		text[n] = '\0';
		/* One stop string, random pieces. */
		stop_init(&s, &strs[which], 1);
		sbuf_reset(&out);
		for (i = 0; i < n && !matched; i += j) {
			j = 1 + rng_below(&r, 8);
			if (j > n - i)
				j = n - i;
			matched = stop_push(&s, text + i, j, &out);
			/* Released and held together are what came in. */
			if (!matched)
				CHECK(out.len + s.held.len == i + j);
		}
		if (!matched)
			stop_finish(&s, &out);
		hit = strstr(text, strs[which]);
		if (hit != NULL) {
			CHECK(matched);
			CHECK_INT(out.len, hit - text);
		} else {
			CHECK(!matched);
			CHECK_INT(out.len, n);
		}
		CHECK(memcmp(out.buf, text, out.len) == 0);
		stop_release(&s);

		/* All three, byte by byte. */
		for (i = 0; i < 3; i++) {
			hit = strstr(text, strs[i]);
			if (hit != NULL &&
			    (size_t)(hit - text) + strlen(strs[i]) < best_end) {
				best_end =
				    (size_t)(hit - text) + strlen(strs[i]);
				best = i;
			}
		}
		stop_init(&s, strs, 3);
		sbuf_reset(&out);
		matched = 0;
		for (i = 0; i < n && !matched; i++)
			matched = stop_push(&s, text + i, 1, &out);
		if (!matched)
			stop_finish(&s, &out);
		if (best_end <= n) {
			CHECK(matched);
			CHECK_STR(stop_matched(&s), strs[best]);
			CHECK_INT(out.len, best_end - strlen(strs[best]));
		} else {
			CHECK(!matched);
			CHECK_INT(out.len, n);
		}
		stop_release(&s);
		if (test_failures() > 0)
			break;
	}
	sbuf_release(&out);
}
