/*
 * steps: see steps.h.
 */
#include "steps.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static struct worker_step *
steps_dup(const struct worker_step *src)
{
	struct worker_step *d = xcalloc(1, sizeof *d);
	size_t i;

	d->rec = src->rec;
	d->n = src->n;
	d->ids = xcalloc(src->n + 1, sizeof *d->ids);
	d->text = xcalloc(src->n + 1, sizeof *d->text);
	for (i = 0; i < src->n; i++) {
		d->ids[i] = src->ids[i];
		d->text[i] = xstrdup(src->text[i]);
	}
	return d;
}

void
steps_push(struct steps *s, const struct worker_step *step)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = xreallocarray(s->v, s->cap, sizeof *s->v);
	}
	s->v[s->n++] = steps_dup(step);
}

void
steps_release(struct steps *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		worker_step_free(s->v[i]);
	free(s->v);
	free(s->label);
	memset(s, 0, sizeof *s);
}

void
steps_copy(struct steps *dst, const struct steps *src)
{
	size_t i;

	memset(dst, 0, sizeof *dst);
	dst->label = src->label != NULL ? xstrdup(src->label) : NULL;
	dst->id = src->id;
	for (i = 0; i < src->n; i++)
		steps_push(dst, src->v[i]);
}

void
steps_keep(struct steps_store *st, struct steps *s)
{
	if (st->n == STEPS_KEEP) {
		steps_release(&st->v[0]);
		memmove(&st->v[0], &st->v[1], (st->n - 1) * sizeof *st->v);
		st->n--;
	}
	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 16;
		st->v = xreallocarray(st->v, st->cap, sizeof *st->v);
	}
	st->v[st->n++] = *s;
	memset(s, 0, sizeof *s);
}

const struct steps *
steps_find(const struct steps_store *st, int64_t id)
{
	size_t i;

	for (i = st->n; id > 0 && i > 0; i--)
		if (st->v[i - 1].id == id)
			return &st->v[i - 1];
	return NULL;
}

void
steps_store_release(struct steps_store *st)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		steps_release(&st->v[i]);
	free(st->v);
	memset(st, 0, sizeof *st);
}
