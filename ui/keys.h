/*
 * keys: the terminal's input bytes as key events, free of any terminal.
 * The TUI reads stdin itself (curses' keypad translation is off) so that
 * readline gets the bytes it expects for the keys it binds; this decoder
 * says which bytes form one key, which keys the TUI handles itself
 * (PgUp, F1, the mouse wheel, a bracketed paste, a lone Esc) and keeps
 * each event's raw bytes for everything that goes on to readline.
 */
#ifndef VKCHAT_KEYS_H
#define VKCHAT_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum keys_code {
	KEYS_CHAR,  /* a printable character: cp */
	KEYS_CTRL,  /* a control character: cp is the lower-case letter */
	KEYS_ENTER, /* CR */
	KEYS_TAB,
	KEYS_BACKSPACE, /* DEL or ^H */
	KEYS_ESC,	/* Esc on its own */
	KEYS_ALT,	/* Esc followed by a character: cp */
	KEYS_ALT_ENTER,
	KEYS_UP,
	KEYS_DOWN,
	KEYS_LEFT,
	KEYS_RIGHT,
	KEYS_HOME,
	KEYS_END,
	KEYS_PGUP,
	KEYS_PGDN,
	KEYS_DELETE,
	KEYS_F1,
	KEYS_WHEEL_UP,
	KEYS_WHEEL_DOWN,
	KEYS_MOUSE, /* another mouse report (ignored) */
	KEYS_PASTE, /* bracketed paste: the text is the event's raw bytes */
	KEYS_OTHER, /* another escape sequence */
};

/* Modifier bits of a cursor key ("CSI 1 ; 1+MODS x"). */
#define KEYS_MOD_SHIFT 1
#define KEYS_MOD_ALT 2
#define KEYS_MOD_CTRL 4

struct keys_event {
	enum keys_code code;
	uint32_t cp;
	unsigned mods;	 /* KEYS_MOD_* of a cursor key, else 0 */
	const char *raw; /* the bytes (the pasted text for KEYS_PASTE) */
	size_t len;	 /* valid until the next keys_* call */
};

/* Caller-owned storage: keys_init / keys_release. */
struct keys {
	struct sbuf in;	   /* bytes not yet decoded */
	size_t pos;	   /* decoded up to here */
	struct sbuf paste; /* the text of the last paste */
};

void keys_init(struct keys *k);
void keys_release(struct keys *k);

/* Queue LEN input bytes. */
void keys_feed(struct keys *k, const char *s, size_t len);

/*
 * Take the next event into *ev: 1, or 0 when the queued bytes do not
 * (yet) make a whole key.  With FINAL set, more bytes are not expected
 * soon (the input went quiet), so an Esc that starts nothing is a lone
 * Esc and an incomplete sequence is taken as it is.
 */
int keys_next(struct keys *k, struct keys_event *ev, int final);

/* Whether bytes are queued (a key may be partly typed). */
int keys_pending(const struct keys *k);

#endif
