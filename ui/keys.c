/*
 * keys: decoding of xterm-style input: UTF-8 characters, C0 controls,
 * CSI and SS3 sequences (cursor and editing keys, F1), SGR and legacy
 * X10 mouse reports (only the wheel is used) and bracketed paste
 * (ESC [ 200 ~ ... ESC [ 201 ~).  The bytes of a paste are collected
 * whole before the event is returned, so a paste of many lines is one
 * event however many reads it took.
 */
#include "keys.h"

#include <string.h>

#include "utf8.h"

#define KEYS_PASTE_END "\033[201~"
/* A paste whose end does not come is cut here (the terminal lost it). */
#define KEYS_PASTE_MAX (8u << 20)

void
keys_init(struct keys *k)
{
	sbuf_init(&k->in);
	sbuf_init(&k->paste);
	k->pos = 0;
}

void
keys_release(struct keys *k)
{
	sbuf_release(&k->in);
	sbuf_release(&k->paste);
}

void
keys_feed(struct keys *k, const char *s, size_t len)
{
	if (k->pos > 0) {
		memmove(k->in.buf, k->in.buf + k->pos, k->in.len - k->pos);
		k->in.len -= k->pos;
		k->in.buf[k->in.len] = '\0';
		k->pos = 0;
	}
	sbuf_add(&k->in, s, len);
}

int
keys_pending(const struct keys *k)
{
	return k->pos < k->in.len;
}

static int
keys_emit(struct keys *k, struct keys_event *ev, enum keys_code code,
    uint32_t cp, size_t len)
{
	ev->code = code;
	ev->cp = cp;
	ev->mods = 0;
	ev->raw = k->in.buf + k->pos;
	ev->len = len;
	k->pos += len;
	return 1;
}

/* The key of "CSI N ~". */
static enum keys_code
keys_tilde(long n)
{
	switch (n) {
	case 1:
	case 7:
		return KEYS_HOME;
	case 4:
	case 8:
		return KEYS_END;
	case 3:
		return KEYS_DELETE;
	case 5:
		return KEYS_PGUP;
	case 6:
		return KEYS_PGDN;
	case 11:
		return KEYS_F1;
	default:
		return KEYS_OTHER;
	}
}

static enum keys_code
keys_letter(int c)
{
	switch (c) {
	case 'A':
		return KEYS_UP;
	case 'B':
		return KEYS_DOWN;
	case 'C':
		return KEYS_RIGHT;
	case 'D':
		return KEYS_LEFT;
	case 'H':
		return KEYS_HOME;
	case 'F':
		return KEYS_END;
	case 'P':
		return KEYS_F1;
	default:
		return KEYS_OTHER;
	}
}

/* A bracketed paste starting at S (after its 6-byte opener). */
static int
keys_paste(struct keys *k, struct keys_event *ev, const char *s, size_t n)
{
	const char *end = memmem(s + 6, n - 6, KEYS_PASTE_END, 6);
	size_t i, len, used;

	if (end == NULL && n < KEYS_PASTE_MAX)
		return 0;
	len = end != NULL ? (size_t)(end - (s + 6)) : n - 6;
	used = end != NULL ? len + 12 : n;
	sbuf_reset(&k->paste);
	/* Terminals send line breaks in a paste as CR. */
	for (i = 0; i < len; i++) {
		if (s[6 + i] == '\r') {
			sbuf_addc(&k->paste, '\n');
			if (i + 1 < len && s[6 + i + 1] == '\n')
				i++;
		} else {
			sbuf_addc(&k->paste, s[6 + i]);
		}
	}
	k->pos += used;
	ev->code = KEYS_PASTE;
	ev->cp = 0;
	ev->raw = k->paste.buf;
	ev->len = k->paste.len;
	return 1;
}

/* An escape sequence at S (N bytes, S[0] == ESC). */
static int
keys_escape(
    struct keys *k, struct keys_event *ev, const char *s, size_t n, int final)
{
	size_t i;
	long num = 0, p[3] = { 0, 0, 0 };
	int np = 0;
	uint32_t cp;
	int len;

	if (n < 2)
		return final ? keys_emit(k, ev, KEYS_ESC, 0, 1) : 0;
	if (s[1] == '\r')
		return keys_emit(k, ev, KEYS_ALT_ENTER, 0, 2);
	if (s[1] == 'O') {
		if (n < 3)
			return final ? keys_emit(k, ev, KEYS_ALT, 'O', 2) : 0;
		return keys_emit(k, ev, keys_letter((unsigned char)s[2]), 0, 3);
	}
	if (s[1] != '[') {
		if (s[1] == '\033')
			return keys_emit(k, ev, KEYS_ESC, 0, 1);
		len = utf8_decode(s + 1, n - 1, &cp);
		if (len == 0 && !final)
			return 0;
		if (len <= 0)
			return keys_emit(
			    k, ev, KEYS_ALT, (unsigned char)s[1], 2);
		return keys_emit(k, ev, KEYS_ALT, cp, 1 + (size_t)len);
	}
	/* CSI: parameters, intermediates, a final byte 0x40-0x7e. */
	if (n >= 3 && s[2] == 'M') {
		/* X10 mouse: ESC [ M b x y. */
		if (n < 6)
			return final ? keys_emit(k, ev, KEYS_OTHER, 0, n) : 0;
		if (s[3] == 96)
			return keys_emit(k, ev, KEYS_WHEEL_UP, 0, 6);
		if (s[3] == 97)
			return keys_emit(k, ev, KEYS_WHEEL_DOWN, 0, 6);
		return keys_emit(k, ev, KEYS_MOUSE, 0, 6);
	}
	for (i = 2; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= '0' && c <= '9') {
			num = num * 10 + (c - '0');
			if (num > 100000)
				num = 100000;
		} else if (c == ';') {
			if (np < 3)
				p[np++] = num;
			num = 0;
		} else if (c >= 0x40 && c <= 0x7e) {
			break;
		} else if (c < 0x20 || c > 0x7e) {
			/* Not a sequence after all: an Esc, then bytes. */
			return keys_emit(k, ev, KEYS_ESC, 0, 1);
		}
	}
	if (i == n)
		return final ? keys_emit(k, ev, KEYS_OTHER, 0, n) : 0;
	if (np < 3)
		p[np++] = num;
	if (s[i] == '~' && p[0] == 200 && i == 5)
		return keys_paste(k, ev, s, n);
	if (s[i] == '~')
		return keys_emit(k, ev, keys_tilde(p[0]), 0, i + 1);
	if ((s[i] == 'M' || s[i] == 'm') && s[2] == '<') {
		if (p[0] == 64)
			return keys_emit(k, ev, KEYS_WHEEL_UP, 0, i + 1);
		if (p[0] == 65)
			return keys_emit(k, ev, KEYS_WHEEL_DOWN, 0, i + 1);
		return keys_emit(k, ev, KEYS_MOUSE, 0, i + 1);
	}
	if (i == 2 || (np >= 2 && p[0] == 1)) {
		keys_emit(k, ev, keys_letter((unsigned char)s[i]), 0, i + 1);
		/* "CSI 1 ; M x": modifier M is 1 + the bits below */
		if (np >= 2 && p[1] >= 2 && p[1] <= 16)
			ev->mods = p[1] - 1;
		return 1;
	}
	return keys_emit(k, ev, KEYS_OTHER, 0, i + 1);
}

int
keys_next(struct keys *k, struct keys_event *ev, int final)
{
	const char *s = k->in.buf + k->pos;
	size_t n = k->in.len - k->pos;
	unsigned char c;
	uint32_t cp;
	int len;

	if (n == 0)
		return 0;
	c = (unsigned char)s[0];
	if (c == '\033')
		return keys_escape(k, ev, s, n, final);
	if (c == '\r')
		return keys_emit(k, ev, KEYS_ENTER, 0, 1);
	if (c == '\t')
		return keys_emit(k, ev, KEYS_TAB, 0, 1);
	if (c == 0x7f || c == 0x08)
		return keys_emit(k, ev, KEYS_BACKSPACE, 0, 1);
	if (c < 0x20)
		return keys_emit(k, ev, KEYS_CTRL, c == 0 ? '@' : c + 0x60, 1);
	len = utf8_decode(s, n, &cp);
	if (len == 0 && !final)
		return 0;
	if (len <= 0)
		return keys_emit(k, ev, KEYS_CHAR, 0xfffd, 1);
	return keys_emit(k, ev, KEYS_CHAR, cp, (size_t)len);
}
