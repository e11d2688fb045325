/*
 * picker: the preset picker (Ctrl-P) and the template picker (Ctrl-T).
 * Presets are listed with the parameters that differ from the defaults;
 * Enter uses one, e edits a copy in a form (u uses the copy, s saves it
 * as a user preset).  Templates are listed with their variables; Enter
 * asks for the variables in a form and sends the filled-in prompt.
 */
#ifndef VKCHAT_PICKER_H
#define VKCHAT_PICKER_H

#include "tui.h"

enum picker_kind {
	PICKER_PRESETS,
	PICKER_TEMPLATES,
};

/* Push the preset or the template picker over the current screen. */
void picker_open(struct tui *t, enum picker_kind kind);
/* Push the template picker with template NAME's variables form open. */
void picker_open_template(struct tui *t, const char *name);

#endif
