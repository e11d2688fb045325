/*
 * err: the error record.  Library code reports a failure by filling a
 * caller-supplied struct err with one line for the user and returning a
 * negative code; only the program's top level prints it.  Reporting never
 * allocates.
 */
#ifndef VKCHAT_ERR_H
#define VKCHAT_ERR_H

enum err_code {
	ERR_OK = 0,
	ERR_USAGE = -1,	      /* bad arguments or option values */
	ERR_IO = -2,	      /* a file could not be read or written */
	ERR_FORMAT = -3,      /* a file's contents are malformed */
	ERR_UNSUPPORTED = -4, /* well-formed but not something we handle */
	ERR_NOMEM = -5,	      /* out of host or device memory */
	ERR_DEVICE = -6,      /* Vulkan: no device, device lost, ... */
	ERR_DB = -7,	      /* SQLite */
	ERR_RANGE = -8,	      /* a value out of its allowed range */
	ERR_NOTFOUND = -9,    /* a named thing does not exist */
	ERR_EXISTS = -10,     /* a named thing already exists */
	ERR_CANCELLED = -11,  /* stopped on request */
	ERR_MODEL = -12,      /* the model lacks a required tensor or key */
};

#define ERR_MSG_MAX 512

struct err {
	enum err_code code;
	char msg[ERR_MSG_MAX];
};

/* Clear *err (if not NULL). */
void err_clear(struct err *err);

/*
 * Fill *err (if not NULL) with CODE and a printf-style message (lower case,
 * no full stop); return CODE so callers can write "return err_set(...)".
 */
int err_set(struct err *err, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Put a prefix in front of an error already in *err, as in
 * "loading 'x.gguf': <old message>"; return err->code.
 */
int err_prefix(struct err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A short name for a code ("format error"). */
const char *err_code_name(enum err_code code);

#endif
