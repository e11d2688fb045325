/*
 * field: a small line editor over a struct sbuf.  The cursor is a byte
 * offset that always sits on a character boundary; control characters
 * are never inserted (a paste has its line breaks turned into spaces).
 */
#include "field.h"

#include <string.h>

#include "text.h"
#include "utf8.h"

void
field_init(struct field *f)
{
	sbuf_init(&f->text);
	f->point = 0;
}

void
field_release(struct field *f)
{
	sbuf_release(&f->text);
}

void
field_set(struct field *f, const char *s)
{
	sbuf_reset(&f->text);
	sbuf_adds(&f->text, s);
	f->point = f->text.len;
}

/* Start of the character before byte offset AT. */
static size_t
field_prev(const struct field *f, size_t at)
{
	if (at == 0)
		return 0;
	at--;
	while (at > 0 && ((unsigned char)f->text.buf[at] & 0xc0) == 0x80)
		at--;
	return at;
}

static size_t
field_after(const struct field *f, size_t at)
{
	uint32_t cp;

	if (at >= f->text.len)
		return f->text.len;
	return at + (size_t)text_next(f->text.buf + at, f->text.len - at, &cp);
}

static void
field_delete(struct field *f, size_t a, size_t b)
{
	memmove(f->text.buf + a, f->text.buf + b, f->text.len - b + 1);
	f->text.len -= b - a;
	f->point = a;
}

static void
field_insert(struct field *f, const char *s, size_t len)
{
	sbuf_grow(&f->text, len);
	memmove(f->text.buf + f->point + len, f->text.buf + f->point,
	    f->text.len - f->point + 1);
	memcpy(f->text.buf + f->point, s, len);
	f->text.len += len;
	f->point += len;
}

static void
field_paste(struct field *f, const char *s, size_t len)
{
	struct sbuf safe;

	sbuf_init(&safe);
	text_sanitize(&safe, s, len, 1);
	field_insert(f, safe.buf, safe.len);
	sbuf_release(&safe);
}

int
field_key(struct field *f, const struct keys_event *ev)
{
	char buf[4];
	size_t a;

	switch (ev->code) {
	case KEYS_CHAR:
		if (ev->cp >= 0x80 && ev->cp < 0xa0)
			return 1;
		field_insert(f, buf, (size_t)utf8_encode(ev->cp, buf));
		return 1;
	case KEYS_PASTE:
		field_paste(f, ev->raw, ev->len);
		return 1;
	case KEYS_BACKSPACE:
		if (f->point > 0)
			field_delete(f, field_prev(f, f->point), f->point);
		return 1;
	case KEYS_DELETE:
		field_delete(f, f->point, field_after(f, f->point));
		return 1;
	case KEYS_LEFT:
		f->point = field_prev(f, f->point);
		return 1;
	case KEYS_RIGHT:
		f->point = field_after(f, f->point);
		return 1;
	case KEYS_HOME:
		f->point = 0;
		return 1;
	case KEYS_END:
		f->point = f->text.len;
		return 1;
	case KEYS_CTRL:
		switch (ev->cp) {
		case 'a':
			f->point = 0;
			return 1;
		case 'e':
			f->point = f->text.len;
			return 1;
		case 'u':
			field_delete(f, 0, f->point);
			return 1;
		case 'k':
			f->text.len = f->point;
			f->text.buf[f->point] = '\0';
			return 1;
		case 'w':
			a = f->point;
			while (a > 0 && f->text.buf[a - 1] == ' ')
				a--;
			while (a > 0 && f->text.buf[a - 1] != ' ')
				a--;
			field_delete(f, a, f->point);
			return 1;
		default:
			return 0;
		}
	default:
		return 0;
	}
}

void
field_view(const struct field *f, int width, size_t *first, int *col)
{
	size_t start = 0;
	int w = text_width(f->text.buf, f->point);

	if (width < 2)
		width = 2;
	/* Scroll so the cursor has a column to itself at the right edge. */
	while (w > width - 1 && start < f->point) {
		size_t next = field_after(f, start);

		w -= text_width(f->text.buf + start, next - start);
		start = next;
	}
	*first = start;
	*col = w;
}
