/*
 * harness: the unit-test runner.
 *
 * A test is a function declared with TEST(name); it registers itself at
 * start-up.  tests/unit runs every registered test (or those whose names
 * contain one of the command-line arguments) each in a forked child with a
 * time limit, and prints TAP: "ok N - name", "not ok N - name",
 * "ok N - name # SKIP why".  Diagnostics are "# " lines.  A test fails when
 * a CHECK fails, when it crashes, or when it runs past its time limit
 * (TEST_TIMEOUT seconds, default 120; a test may raise its own).
 *
 * Environment: VKCHAT_SHARED names the shared test-data directory (models,
 * tokenizers); test_shared_path() returns NULL when it is missing, and the
 * test should then call test_skip().
 */
#ifndef VKCHAT_HARNESS_H
#define VKCHAT_HARNESS_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef void (*test_fn)(void);

/* Register a test; called by the TEST() constructor. */
void test_register(const char *name, test_fn fn, const char *file);

#define TEST(name) \
	static void test_##name(void); \
	__attribute__((constructor)) static void test_reg_##name(void) \
	{ \
		test_register(#name, test_##name, __FILE__); \
	} \
	static void test_##name(void)

/* Record a failure (the test goes on, so several failures show). */
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* End the test now as skipped, with a reason. */
_Noreturn void test_skip(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* Print a "# " diagnostic line. */
void test_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Set this test's time limit in seconds (from inside the test). */
void test_timeout(unsigned seconds);
/* Number of failures recorded so far in this test. */
int test_failures(void);

/*
 * Path of NAME inside the shared data directory, in a static buffer, or
 * NULL when the directory or the file does not exist.
 */
const char *test_shared_path(const char *name);
/*
 * Path of NAME inside the source tree ($TOP_SRCDIR, which make check sets),
 * in a static buffer, or NULL when TOP_SRCDIR is unset or the file does
 * not exist.
 */
const char *test_srcdir_path(const char *name);
/* A fresh temporary directory for this test (removed when it ends). */
const char *test_tmpdir(void);
/* Path of NAME inside test_tmpdir(), in a static buffer (one at a time). */
const char *test_tmpfile(const char *name);

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
	} while (0)

#define CHECK_MSG(cond, ...) \
	do { \
		if (!(cond)) \
			test_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

#define CHECK_INT(a, b) \
	do { \
		long long check_a_ = (long long)(a); \
		long long check_b_ = (long long)(b); \
		if (check_a_ != check_b_) \
			test_fail(__FILE__, __LINE__, \
			    "%s == %s: %lld != %lld", #a, #b, check_a_, \
			    check_b_); \
	} while (0)

#define CHECK_STR(a, b) \
	do { \
		const char *check_a_ = (a); \
		const char *check_b_ = (b); \
		if (check_a_ == NULL || check_b_ == NULL || \
		    strcmp(check_a_, check_b_) != 0) \
			test_fail(__FILE__, __LINE__, \
			    "%s == %s: \"%s\" != \"%s\"", #a, #b, \
			    check_a_ ? check_a_ : "(null)", \
			    check_b_ ? check_b_ : "(null)"); \
	} while (0)

/* CHECK that a string contains a substring. */
#define CHECK_CONTAINS(hay, needle) \
	do { \
		const char *check_h_ = (hay); \
		const char *check_n_ = (needle); \
		if (check_h_ == NULL || strstr(check_h_, check_n_) == NULL) \
			test_fail(__FILE__, __LINE__, \
			    "\"%s\" does not contain \"%s\"", \
			    check_h_ ? check_h_ : "(null)", check_n_); \
	} while (0)

#endif
