/*
 * harness: runs the registered unit tests, each in a forked child.
 *
 * The parent prints TAP for every test and a closing "# N passed, N failed,
 * N skipped" comment (tests/run.sh prints the suite's one closing line).
 * The child reports its outcome through its exit status: 0 pass, 1 fail,
 * 77 skip; anything else (a signal, a time-out) is a failure.
 *
 * With -j N (or $TEST_JOBS) N children run at a time, each with its own
 * output file and temporary directory; results are printed in the tests'
 * order, each with its own output above it.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/*
 * Whether test NAME is selected by the filters ARGV[1..argc): a name
 * containing any of them, or with none every test but the benchmarks
 * ("_bench" in the name: they report figures, assert little, and run
 * with "make bench").
 */
static int
harness_selected(const char *name, int argc, char **argv)
{
	int i;

	if (argc <= 1)
		return strstr(name, "_bench") == NULL;
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

/* A selected test and where it stands. */
struct harness_job {
	const struct harness_test *t;
	pid_t pid;  /* 0: not started */
	int done;   /* its result is in */
	int result; /* 0 pass, 1 fail, 2 skip */
	int status; /* from waitpid */
	struct timespec t0;
	double secs;
	char out[256]; /* its output, when tests run side by side */
};

/*
 * Start JOB's test in a child.  With CAPTURE its stdout and stderr go to
 * a file of their own, printed when the result is, so that tests run
 * side by side still print whole and in order.
 */
static void
harness_start(struct harness_job *job, int capture)
{
	const char *env = getenv("TEST_TIMEOUT");
	unsigned limit = env != NULL ? (unsigned)atoi(env) : 120;
	const char *base = getenv("TMPDIR");
	int fd = -1;

	if (capture) {
		snprintf(job->out, sizeof job->out, "%s/vkchat-unit-out-XXXXXX",
		    base != NULL && base[0] != '\0' ? base : "/tmp");
		fd = mkstemp(job->out);
		if (fd < 0) {
			perror("harness: mkstemp");
			job->out[0] = '\0';
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &job->t0);
	fflush(stdout);
	job->pid = fork();
	if (job->pid < 0) {
		perror("harness: fork");
		job->pid = 0;
		job->done = 1;
		job->result = 1;
		if (fd >= 0)
			close(fd);
		return;
	}
	if (job->pid == 0) {
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		alarm(limit);
		job->t->fn();
		harness_cleanup();
		fflush(stdout);
		exit(harness_nfail > 0 ? 1 : 0);
	}
	if (fd >= 0)
		close(fd);
}

/* JOB's child ended with STATUS: its result. */
static void
harness_end(struct harness_job *job, int status)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	job->secs = (double)(t1.tv_sec - job->t0.tv_sec) +
	    (double)(t1.tv_nsec - job->t0.tv_nsec) / 1e9;
	job->status = status;
	job->done = 1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		job->result = 0;
	else if (WIFEXITED(status) && WEXITSTATUS(status) == HARNESS_EXIT_SKIP)
		job->result = 2;
	else
		job->result = 1;
}

/* Print JOB's output and result line as test number N. */
static void
harness_report(struct harness_job *job, int n)
{
	char buf[4096];
	size_t k;
	FILE *f;

	if (job->out[0] != '\0') {
		f = fopen(job->out, "r");
		while (f != NULL && (k = fread(buf, 1, sizeof buf, f)) > 0)
			fwrite(buf, 1, k, stdout);
		if (f != NULL)
			fclose(f);
		unlink(job->out);
	}
	if (WIFSIGNALED(job->status)) {
		if (WTERMSIG(job->status) == SIGALRM)
			printf("# timed out\n");
		else
			printf("# killed by signal %d (%s)\n",
			    WTERMSIG(job->status),
			    strsignal(WTERMSIG(job->status)));
	}
	switch (job->result) {
	case 0:
		printf("ok %d - %s (%.2fs)\n", n, job->t->name, job->secs);
		break;
	case 2:
		printf("ok %d - %s # SKIP\n", n, job->t->name);
		break;
	default:
		printf("not ok %d - %s (%s)\n", n, job->t->name, job->t->file);
		break;
	}
}

/*
 * The number of tests to run side by side: -j N (or -jN) in ARGV, taken
 * out of it, else $TEST_JOBS, else 1.
 */
static int
harness_jobs(int *argc, char **argv)
{
	const char *v = getenv("TEST_JOBS");
	int i, j, n = v != NULL ? atoi(v) : 1;

	for (i = 1; i < *argc; i++) {
		if (strncmp(argv[i], "-j", 2) != 0)
			continue;
		if (argv[i][2] != '\0') {
			n = atoi(argv[i] + 2);
			j = 1;
		} else {
			n = i + 1 < *argc ? atoi(argv[i + 1]) : 1;
			j = i + 1 < *argc ? 2 : 1;
		}
		memmove(&argv[i], &argv[i + j],
		    (size_t)(*argc - i - j + 1) * sizeof(*argv));
		*argc -= j;
		i--;
	}
	return n >= 1 ? n : 1;
}

int
main(int argc, char **argv)
{
	struct harness_job *jobs;
	int i, n = 0, next = 0, shown = 0, running = 0, width;
	int pass = 0, fail = 0, skip = 0, status;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	width = harness_jobs(&argc, argv);
	qsort(harness_tests, (size_t)harness_ntests, sizeof harness_tests[0],
	    harness_cmp);
	jobs = calloc((size_t)harness_ntests + 1, sizeof(*jobs));
	if (jobs == NULL) {
		perror("harness");
		return 1;
	}
	for (i = 0; i < harness_ntests; i++)
		if (harness_selected(harness_tests[i].name, argc, argv))
			jobs[n++].t = &harness_tests[i];
	printf("1..%d\n", n);
	while (shown < n) {
		while (next < n && running < width) {
			harness_start(&jobs[next++], width > 1);
			running += jobs[next - 1].pid > 0;
		}
		if (running > 0) {
			pid = waitpid(-1, &status, 0);
			if (pid < 0 && errno == EINTR)
				continue;
			if (pid < 0)
				break;
			for (i = 0; i < next; i++)
				if (jobs[i].pid == pid && !jobs[i].done) {
					harness_end(&jobs[i], status);
					running--;
				}
		}
		/* Results in the tests' order, as soon as they are in. */
		while (shown < next && jobs[shown].done) {
			harness_report(&jobs[shown], shown + 1);
			pass += jobs[shown].result == 0;
			skip += jobs[shown].result == 2;
			fail += jobs[shown].result == 1;
			shown++;
		}
	}
	fail += n - shown;
	printf("# %d passed, %d failed, %d skipped\n", pass, fail, skip);
	free(jobs);
	return fail > 0 ? 1 : 0;
}
