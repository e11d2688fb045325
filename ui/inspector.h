/*
 * inspector: the overlay showing the sampler's stages for each token of
 * an answer generated in this run (Alt-P, /probs).
 */
#ifndef VKCHAT_INSPECTOR_H
#define VKCHAT_INSPECTOR_H

#include <stddef.h>

#include "steps.h"
#include "tui.h"

/* Push it over the answer streaming now (t->live). */
void inspector_open_live(struct tui *t);
/* Push it over answer I of t->kept (Up/Down reach the others). */
void inspector_open_kept(struct tui *t, size_t i);
/* Push it over copies of compare columns COLS[N] (Tab switches). */
void inspector_open_columns(
    struct tui *t, const struct steps *const *cols, size_t n);

#endif
