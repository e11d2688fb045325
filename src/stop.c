/*
 * stop: stop-string matching by holding back a tail.  After each push
 * the held buffer is searched for the leftmost stop string; without one,
 * the longest tail of the buffer that is a proper prefix of some stop
 * string stays held and the rest is passed on.  The buffer never exceeds
 * the longest stop string plus the last piece, so the naive search is
 * cheap.
 */
#include "stop.h"

#include <stdlib.h>
#include <string.h>

void
stop_init(struct stop *s, const char *const *strs, size_t n)
{
	size_t i;

	s->strs = xreallocarray(NULL, n > 0 ? n : 1, sizeof *s->strs);
	s->lens = xreallocarray(NULL, n > 0 ? n : 1, sizeof *s->lens);
	s->n = 0;
	s->max_len = 0;
	for (i = 0; i < n; i++) {
		size_t len = strlen(strs[i]);

		if (len == 0)
			continue;
		s->strs[s->n] = xstrdup(strs[i]);
		s->lens[s->n] = len;
		if (len > s->max_len)
			s->max_len = len;
		s->n++;
	}
	sbuf_init(&s->held);
	s->matched = -1;
}

void
stop_release(struct stop *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->strs[i]);
	free(s->strs);
	free(s->lens);
	sbuf_release(&s->held);
	s->n = 0;
}

/* Whether some stop string starts with the LEN bytes at P. */
static int
stop_is_prefix(const struct stop *s, const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->lens[i] > len && memcmp(s->strs[i], p, len) == 0)
			return 1;
	return 0;
}

int
stop_push(struct stop *s, const char *text, size_t len, struct sbuf *out)
{
	const char *h;
	size_t hlen, pos, i, keep;

	if (s->matched >= 0)
		return 1;
	sbuf_add(&s->held, text, len);
	h = s->held.buf;
	hlen = s->held.len;
	for (pos = 0; pos < hlen; pos++) {
		int best = -1;

		for (i = 0; i < s->n; i++)
			if (s->lens[i] <= hlen - pos &&
			    memcmp(h + pos, s->strs[i], s->lens[i]) == 0 &&
			    (best < 0 || s->lens[i] > s->lens[best]))
				best = (int)i;
		if (best >= 0) {
			sbuf_add(out, h, pos);
			sbuf_reset(&s->held);
			s->matched = best;
			return 1;
		}
	}
	/* No match: hold the longest tail that may still grow into one. */
	keep = hlen < s->max_len ? hlen : s->max_len - (s->max_len > 0);
	while (keep > 0 && !stop_is_prefix(s, h + hlen - keep, keep))
		keep--;
	sbuf_add(out, h, hlen - keep);
	memmove(s->held.buf, h + hlen - keep, keep);
	s->held.len = keep;
	s->held.buf[keep] = '\0';
	return 0;
}

void
stop_finish(struct stop *s, struct sbuf *out)
{
	if (s->matched < 0)
		sbuf_add(out, s->held.buf, s->held.len);
	sbuf_reset(&s->held);
}

const char *
stop_matched(const struct stop *s)
{
	return s->matched >= 0 ? s->strs[s->matched] : NULL;
}

void
stop_reset(struct stop *s)
{
	sbuf_reset(&s->held);
	s->matched = -1;
}
