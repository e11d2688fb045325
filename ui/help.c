/*
 * help: the help overlay, a pager over a text its opener builds (the chat
 * screen builds it from its key table and the slash-command table, so
 * what is listed is what exists).  Lines that do not start with a space
 * are headings.
 */
#include "help.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "screen.h"
#include "text.h"

struct help {
	struct view v;
	char *title;
	char *text; /* lines, each ended by a newline */
	size_t top; /* the first line shown */
};

static void help_draw(struct tui *t, struct view *v);
static void help_key(
    struct tui *t, struct view *v, const struct keys_event *ev);

static void
help_free(struct tui *t, struct view *v)
{
	struct help *h = (struct help *)v;

	(void)t;
	free(h->title);
	free(h->text);
	free(h);
}

static const struct view_ops help_ops = {
	.name = "help",
	.draw = help_draw,
	.key = help_key,
	.free = help_free,
};

void
help_open(struct tui *t, const char *title, char *text)
{
	struct help *h = xcalloc(1, sizeof(*h));

	h->v.ops = &help_ops;
	h->title = xstrdup(title);
	h->text = text;
	tui_push(t, &h->v);
}

static size_t
help_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
help_draw(struct tui *t, struct view *v)
{
	struct help *hp = (struct help *)v;
	const char *line, *nl;
	size_t k = 0, n;
	int y = 1, h = t->rows - 2;

	n = help_lines(hp->text);
	if (h > 0 && hp->top + (size_t)h > n)
		hp->top = n > (size_t)h ? n - (size_t)h : 0;
	screen_fill(0, 0, t->cols, screen_attr(SCREEN_TITLE));
	screen_puts(0, 1, hp->title, t->cols - 1, screen_attr(SCREEN_TITLE));
	for (line = hp->text; *line != '\0' && y <= h; line = nl + 1, k++) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			break;
		if (k < hp->top)
			continue;
		screen_put(y++, 1, line, (size_t)(nl - line), t->cols - 2,
		    line[0] != ' ' ? screen_attr(SCREEN_USER) : (int)A_NORMAL);
	}
	screen_fill(t->rows - 1, 0, t->cols, screen_attr(SCREEN_STATUS));
	screen_puts(t->rows - 1, 1,
	    "Esc/q close  Up/Down/PgUp/PgDn scroll  /man TOPIC opens a page",
	    t->cols - 2, screen_attr(SCREEN_STATUS));
	curs_set(0);
}

static void
help_key(struct tui *t, struct view *v, const struct keys_event *ev)
{
	struct help *h = (struct help *)v;
	size_t page = t->rows > 4 ? (size_t)t->rows - 3 : 1;

	switch (ev->code) {
	case KEYS_ESC:
	case KEYS_F1:
	case KEYS_ENTER:
		tui_pop(t);
		break;
	case KEYS_CHAR:
		if (ev->cp == 'q' || ev->cp == '?')
			tui_pop(t);
		else if (ev->cp == 'j')
			h->top++;
		else if (ev->cp == 'k' && h->top > 0)
			h->top--;
		break;
	case KEYS_DOWN:
	case KEYS_WHEEL_DOWN:
		h->top++;
		break;
	case KEYS_UP:
	case KEYS_WHEEL_UP:
		if (h->top > 0)
			h->top--;
		break;
	case KEYS_PGDN:
		h->top += page;
		break;
	case KEYS_PGUP:
		h->top = h->top > page ? h->top - page : 0;
		break;
	default:
		break;
	}
}
