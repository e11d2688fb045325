/*
 * util: memory that cannot fail, growable strings, files, XDG paths and
 * clocks: the small helpers every layer uses.
 *
 * x*alloc abort with a message when the host is out of memory: they are for
 * sizes the program computes.  Sizes that come from a file or the user are
 * checked by the caller first and reported through struct err.
 */
#ifndef VKCHAT_UTIL_H
#define VKCHAT_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
/*
 * Call FN (which must not return) instead of abort() when an x*alloc
 * fails, with the size asked for: the program's main sets one that puts
 * the terminal back and exits with a status of its own.
 */
void util_on_oom(void (*fn)(size_t n));
/*
 * Whether BYTES more of address space can still be mapped (a probe,
 * unmapped at once).  For calls into drivers that crash rather than fail
 * when memory runs out.
 */
int util_headroom(size_t bytes);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow an array of NMEMB elements of SIZE bytes; aborts on overflow. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A newly allocated printf-formatted string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* xasprintf with a va_list. */
char *xvasprintf(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

/*
 * sbuf: a growable byte string, always NUL-terminated (buf is never NULL
 * after sbuf_init).  Caller-owned storage: sbuf_init/sbuf_release.
 */
struct sbuf {
	char *buf;
	size_t len;
	size_t cap;
};

void sbuf_init(struct sbuf *sb);
void sbuf_release(struct sbuf *sb);
/*
 * Take the string (the caller frees it).  The sbuf is left released:
 * sbuf_release is then a no-op, and sbuf_init makes it usable again.
 */
char *sbuf_detach(struct sbuf *sb);
void sbuf_reset(struct sbuf *sb);
void sbuf_grow(struct sbuf *sb, size_t extra);
void sbuf_add(struct sbuf *sb, const void *data, size_t len);
void sbuf_adds(struct sbuf *sb, const char *s);
void sbuf_addc(struct sbuf *sb, char c);
void sbuf_addf(struct sbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sbuf_vaddf(struct sbuf *sb, const char *fmt, va_list ap);

/*
 * Read a whole file (or stdin for "-") of at most MAX bytes (0: no
 * limit) into *out (NUL-terminated, length in *len if not NULL).
 * Returns 0, ERR_IO, or ERR_RANGE for a longer one (naming the limit;
 * nothing past it is read, so /dev/zero ends too).
 */
int util_read_file(
    const char *path, size_t max, char **out, size_t *len, struct err *err);

/* The limit on prompt files and standard input: far above any context. */
#define UTIL_PROMPT_MAX ((size_t)64 << 20)

/*
 * Write DATA to PATH atomically (a temporary file renamed over it) with
 * MODE.  Returns 0 or ERR_IO.
 */
int util_write_file(const char *path, const void *data, size_t len,
    unsigned mode, struct err *err);

/* Create DIR and its parents with MODE (existing ones are left alone). */
int util_mkdirs(const char *dir, unsigned mode, struct err *err);

/*
 * An XDG base directory joined with "vkchat": KIND is "data", "cache",
 * "config" or "state".  Newly allocated; NULL if neither XDG_*_HOME nor HOME
 * is set.
 */
char *util_xdg_dir(const char *kind);

/* Monotonic time in seconds. */
double util_now(void);
/* Wall-clock time in milliseconds since the epoch. */
int64_t util_wall_ms(void);

/* Parse an integer / a float, the whole string, within [min, max]. */
int util_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int util_parse_double(const char *s, double *out);

/* Human-readable byte count ("1.5 MiB") into BUF. */
const char *util_bytes(uint64_t n, char *buf, size_t size);

#endif
