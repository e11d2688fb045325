/*
 * err: fill and prefix error records.  Messages are truncated to fit the
 * fixed buffer rather than allocated, so reporting works when memory is
 * short.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
err_clear(struct err *err)
{
	if (err == NULL)
		return;
	err->code = ERR_OK;
	err->msg[0] = '\0';
}

int
err_set(struct err *err, enum err_code code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return code;
}

int
err_prefix(struct err *err, const char *fmt, ...)
{
	char old[ERR_MSG_MAX];
	size_t n;
	va_list ap;

	if (err == NULL)
		return ERR_OK;
	memcpy(old, err->msg, sizeof old);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	if (n < sizeof err->msg)
		snprintf(err->msg + n, sizeof err->msg - n, ": %s", old);
	return err->code;
}

const char *
err_code_name(enum err_code code)
{
	switch (code) {
	case ERR_OK:
		return "no error";
	case ERR_USAGE:
		return "usage error";
	case ERR_IO:
		return "i/o error";
	case ERR_FORMAT:
		return "format error";
	case ERR_UNSUPPORTED:
		return "unsupported";
	case ERR_NOMEM:
		return "out of memory";
	case ERR_DEVICE:
		return "device error";
	case ERR_DB:
		return "database error";
	case ERR_RANGE:
		return "out of range";
	case ERR_NOTFOUND:
		return "not found";
	case ERR_EXISTS:
		return "already exists";
	case ERR_CANCELLED:
		return "cancelled";
	case ERR_MODEL:
		return "model error";
	}
	return "unknown error";
}
