/*
 * picker: the preset picker (Ctrl-P) and the template picker (Ctrl-T).
 * Presets are listed with the parameters that differ from the defaults;
 * Enter uses one, e edits a copy in a form (u uses the copy, s saves it
 * as a user preset).  Templates are listed with their variables; Enter
 * asks for the variables in a form and sends the filled-in prompt.
 */
#ifndef VKCHAT_PICKER_H
#define VKCHAT_PICKER_H

#include "keys.h"
#include "tui.h"

/* Open the preset (KIND TUI_PRESETS) or template (TUI_TEMPLATES) picker. */
void picker_open(struct tui *t, enum tui_mode kind);
/* Open the variables form of template NAME directly. */
void picker_open_template(struct tui *t, const char *name);
/* Close the picker and free its state. */
void picker_close(struct tui *t);
void picker_draw(struct tui *t);
void picker_key(struct tui *t, const struct keys_event *ev);

#endif
