/*
 * util: small helpers with no state of their own.  Everything here is safe
 * to call from any thread.
 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void (*util_oom_fn)(size_t n);

void
util_on_oom(void (*fn)(size_t n))
{
	util_oom_fn = fn;
}

static _Noreturn void
util_oom(size_t n)
{
	if (util_oom_fn != NULL)
		util_oom_fn(n);
	fprintf(stderr, "vkchat: out of memory (allocating %zu bytes)\n", n);
	abort();
}

int
util_headroom(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_NONE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return 0;
	munmap(p, bytes);
	return 1;
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		util_oom(n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		util_oom(n * size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		util_oom(n);
	return q;
}

void *
xreallocarray(void *p, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		util_oom(SIZE_MAX);
	return xrealloc(p, nmemb * size);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	struct sbuf sb;

	sbuf_init(&sb);
	sbuf_vaddf(&sb, fmt, ap);
	return sbuf_detach(&sb);
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void
sbuf_init(struct sbuf *sb)
{
	sb->cap = 64;
	sb->len = 0;
	sb->buf = xmalloc(sb->cap);
	sb->buf[0] = '\0';
}

void
sbuf_release(struct sbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

char *
sbuf_detach(struct sbuf *sb)
{
	char *s = sb->buf;

	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return s;
}

void
sbuf_reset(struct sbuf *sb)
{
	sb->len = 0;
	sb->buf[0] = '\0';
}

void
sbuf_grow(struct sbuf *sb, size_t extra)
{
	size_t need;

	if (extra > SIZE_MAX - sb->len - 1)
		util_oom(SIZE_MAX);
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return;
	while (sb->cap < need)
		sb->cap = sb->cap > SIZE_MAX / 2 ? need : sb->cap * 2;
	sb->buf = xrealloc(sb->buf, sb->cap);
}

void
sbuf_add(struct sbuf *sb, const void *data, size_t len)
{
	sbuf_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void
sbuf_adds(struct sbuf *sb, const char *s)
{
	sbuf_add(sb, s, strlen(s));
}

void
sbuf_addc(struct sbuf *sb, char c)
{
	sbuf_add(sb, &c, 1);
}

void
sbuf_vaddf(struct sbuf *sb, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	if ((size_t)n >= sb->cap - sb->len) {
		sbuf_grow(sb, (size_t)n);
		vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
	}
	sb->len += (size_t)n;
}

void
sbuf_addf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

int
util_read_file(
    const char *path, size_t max, char **out, size_t *len, struct err *err)
{
	struct sbuf sb;
	char chunk[65536];
	FILE *f;
	size_t n;

	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((f = fopen(path, "rb")) == NULL)
		return err_set(
		    err, ERR_IO, "cannot open '%s': %s", path, strerror(errno));
	sbuf_init(&sb);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (max > 0 && sb.len + n > max) {
			sbuf_release(&sb);
			if (f != stdin)
				fclose(f);
			return err_set(err, ERR_RANGE,
			    "'%s' is longer than %zu MiB, the most vkchat "
			    "reads",
			    strcmp(path, "-") == 0 ? "standard input" : path,
			    max >> 20);
		}
		sbuf_add(&sb, chunk, n);
	}
	if (ferror(f)) {
		int e = errno;

		sbuf_release(&sb);
		if (f != stdin)
			fclose(f);
		return err_set(
		    err, ERR_IO, "cannot read '%s': %s", path, strerror(e));
	}
	if (f != stdin)
		fclose(f);
	if (len != NULL)
		*len = sb.len;
	*out = sbuf_detach(&sb);
	sbuf_release(&sb);
	return 0;
}

int
util_write_file(const char *path, const void *data, size_t len, unsigned mode,
    struct err *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd, rc = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, (mode_t)mode);
	if (fd < 0) {
		/* named by the file asked for, not its temporary name */
		rc = err_set(err, ERR_IO, "cannot write '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	while (len > 0) {
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = err_set(err, ERR_IO, "cannot write '%s': %s", path,
			    strerror(errno));
			close(fd);
			unlink(tmp);
			goto out;
		}
		data = (const char *)data + w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		rc = err_set(err, ERR_IO, "cannot write '%s': %s", path,
		    strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		rc = err_set(err, ERR_IO, "cannot write '%s': %s", path,
		    strerror(errno));
		unlink(tmp);
	}
out:
	free(tmp);
	return rc;
}

int
util_mkdirs(const char *dir, unsigned mode, struct err *err)
{
	char *p = xstrdup(dir), *s;
	int rc = 0;

	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
			rc = err_set(err, ERR_IO,
			    "cannot create directory "
			    "'%s': %s",
			    p, strerror(errno));
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

char *
util_xdg_dir(const char *kind)
{
	static const struct {
		const char *kind, *env, *fallback;
	} dirs[] = {
		{ "data", "XDG_DATA_HOME", ".local/share" },
		{ "cache", "XDG_CACHE_HOME", ".cache" },
		{ "config", "XDG_CONFIG_HOME", ".config" },
		{ "state", "XDG_STATE_HOME", ".local/state" },
	};
	const char *v, *home;
	size_t i;

	for (i = 0; i < ARRAY_LEN(dirs); i++) {
		if (strcmp(dirs[i].kind, kind) != 0)
			continue;
		v = getenv(dirs[i].env);
		/* The spec says relative values are to be ignored. */
		if (v != NULL && v[0] == '/')
			return xasprintf("%s/vkchat", v);
		home = getenv("HOME");
		if (home == NULL || *home == '\0')
			return NULL;
		return xasprintf("%s/%s/vkchat", home, dirs[i].fallback);
	}
	return NULL;
}

double
util_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t
util_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
util_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return ERR_USAGE;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return ERR_USAGE;
	if (v < min || v > max)
		return ERR_RANGE;
	*out = v;
	return 0;
}

int
util_parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0')
		return ERR_USAGE;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v))
		return ERR_USAGE;
	*out = v;
	return 0;
}

const char *
util_bytes(uint64_t n, char *buf, size_t size)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < ARRAY_LEN(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%" PRIu64 " B", n);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
	return buf;
}
