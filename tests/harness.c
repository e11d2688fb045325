/*
 * harness: runs the registered unit tests, each in a forked child.
 *
 * The parent prints TAP for every test and a closing "# N passed, N failed,
 * N skipped" comment (tests/run.sh prints the suite's one closing line).
 * The child reports its outcome through its exit status: 0 pass, 1 fail,
 * 77 skip; anything else (a signal, a time-out) is a failure.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HARNESS_MAX_TESTS 4096
#define HARNESS_EXIT_SKIP 77

struct harness_test {
	const char *name;
	test_fn fn;
	const char *file;
};

static struct harness_test harness_tests[HARNESS_MAX_TESTS];
static int harness_ntests;
static int harness_nfail;
static char harness_tmp[256];

void
test_register(const char *name, test_fn fn, const char *file)
{
	if (harness_ntests == HARNESS_MAX_TESTS) {
		fprintf(stderr, "harness: too many tests\n");
		abort();
	}
	harness_tests[harness_ntests].name = name;
	harness_tests[harness_ntests].fn = fn;
	harness_tests[harness_ntests].file = file;
	harness_ntests++;
}

void
test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	harness_nfail++;
	printf("# FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int
test_failures(void)
{
	return harness_nfail;
}

void
test_note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void
harness_rmtree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char sub[1024];
	struct stat st;

	if (d == NULL) {
		unlink(path);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			harness_rmtree(sub);
		else
			unlink(sub);
	}
	closedir(d);
	rmdir(path);
}

static void
harness_cleanup(void)
{
	if (harness_tmp[0] != '\0')
		harness_rmtree(harness_tmp);
	harness_tmp[0] = '\0';
}

_Noreturn void
test_skip(const char *fmt, ...)
{
	va_list ap;

	printf("# SKIP ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	harness_cleanup();
	exit(HARNESS_EXIT_SKIP);
}

void
test_timeout(unsigned seconds)
{
	alarm(seconds);
}

/* NAME under the directory in environment variable ENV, into BUF; or NULL. */
static const char *
harness_path(const char *env, const char *name, char *buf, size_t size)
{
	const char *dir = getenv(env);

	if (dir == NULL || *dir == '\0')
		return NULL;
	snprintf(buf, size, "%s/%s", dir, name);
	if (access(buf, R_OK) != 0)
		return NULL;
	return buf;
}

const char *
test_shared_path(const char *name)
{
	static char path[1024];

	return harness_path("VKCHAT_SHARED", name, path, sizeof path);
}

const char *
test_srcdir_path(const char *name)
{
	static char path[1024];

	return harness_path("TOP_SRCDIR", name, path, sizeof path);
}

const char *
test_tmpdir(void)
{
	const char *base;

	if (harness_tmp[0] != '\0')
		return harness_tmp;
	base = getenv("TMPDIR");
	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(
	    harness_tmp, sizeof harness_tmp, "%s/vkchat-test-XXXXXX", base);
	if (mkdtemp(harness_tmp) == NULL) {
		fprintf(stderr, "harness: mkdtemp: %s\n", strerror(errno));
		abort();
	}
	return harness_tmp;
}

const char *
test_tmpfile(const char *name)
{
	static char path[1024];

	snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
	return path;
}

static int
harness_selected(const char *name, int argc, char **argv)
{
	int i;

	if (argc <= 1)
		return 1;
	for (i = 1; i < argc; i++)
		if (strstr(name, argv[i]) != NULL)
			return 1;
	return 0;
}

static int
harness_cmp(const void *a, const void *b)
{
	const struct harness_test *ta = a, *tb = b;
	int c = strcmp(ta->file, tb->file);

	return c != 0 ? c : strcmp(ta->name, tb->name);
}

/* Run one test in a child; return 0 pass, 1 fail, 2 skip. */
static int
harness_run(const struct harness_test *t, double *secs)
{
	struct timespec t0, t1;
	const char *env = getenv("TEST_TIMEOUT");
	unsigned limit = env != NULL ? (unsigned)atoi(env) : 120;
	pid_t pid;
	int status;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("harness: fork");
		return 1;
	}
	if (pid == 0) {
		alarm(limit);
		t->fn();
		harness_cleanup();
		fflush(stdout);
		exit(harness_nfail > 0 ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (WIFEXITED(status)) {
		if (WEXITSTATUS(status) == 0)
			return 0;
		if (WEXITSTATUS(status) == HARNESS_EXIT_SKIP)
			return 2;
		return 1;
	}
	if (WIFSIGNALED(status)) {
		if (WTERMSIG(status) == SIGALRM)
			printf("# timed out\n");
		else
			printf("# killed by signal %d (%s)\n", WTERMSIG(status),
			    strsignal(WTERMSIG(status)));
	}
	return 1;
}

int
main(int argc, char **argv)
{
	int i, n = 0, pass = 0, fail = 0, skip = 0;
	double secs;

	setvbuf(stdout, NULL, _IOLBF, 0);
	qsort(harness_tests, (size_t)harness_ntests, sizeof harness_tests[0],
	    harness_cmp);
	for (i = 0; i < harness_ntests; i++)
		if (harness_selected(harness_tests[i].name, argc, argv))
			n++;
	printf("1..%d\n", n);
	n = 0;
	for (i = 0; i < harness_ntests; i++) {
		const struct harness_test *t = &harness_tests[i];

		if (!harness_selected(t->name, argc, argv))
			continue;
		n++;
		switch (harness_run(t, &secs)) {
		case 0:
			pass++;
			printf("ok %d - %s (%.2fs)\n", n, t->name, secs);
			break;
		case 2:
			skip++;
			printf("ok %d - %s # SKIP\n", n, t->name);
			break;
		default:
			fail++;
			printf("not ok %d - %s (%s)\n", n, t->name, t->file);
			break;
		}
	}
	printf("# %d passed, %d failed, %d skipped\n", pass, fail, skip);
	return fail > 0 ? 1 : 0;
}
