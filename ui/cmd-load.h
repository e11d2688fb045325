/*
 * cmd-load: what the commands that run a model (run, bench) share:
 * loading it through src/llm.h with each failure printed and mapped to
 * an exit status (2 for anything wrong with the model file, 3 for the
 * device, 1 for bad options and sizes), and parsing --device.
 */
#ifndef VKCHAT_CMD_LOAD_H
#define VKCHAT_CMD_LOAD_H

#include "err.h"
#include "llm.h"

/* The exit status for an llm_open failure at STAGE with error ERR. */
int cmd_load_status(enum llm_stage stage, const struct err *err);

/*
 * Load the model as O says into *out (llm_free).  On failure the error
 * is printed and the exit status returned; 0 on success.
 */
int cmd_load_open(const struct llm_opts *o, struct llm **out);

/* Parse a device index option value; -1 and an error message when bad. */
int cmd_load_device(const char *value);

#endif
