/*
 * cmd-load: what `vkchat run` and `vkchat bench` share: opening a model
 * file, its tokenizer, a Vulkan device, uploading the weights and making
 * an engine, with each failure printed and mapped to an exit status
 * (2 for anything wrong with the model file, 3 for the device, 1 for
 * bad sizes).
 */
#ifndef VKCHAT_CMD_LOAD_H
#define VKCHAT_CMD_LOAD_H

#include <stdint.h>

#include "engine.h"
#include "gguf.h"
#include "kern.h"
#include "model.h"
#include "tokenizer.h"
#include "vk-device.h"

struct cmd_load {
	struct gguf *g;
	struct tokenizer *tok;
	struct vk_device *dev;
	struct kern *k;
	struct model *m;
	struct engine *e;
	double t_load; /* seconds from opening the file to a ready engine */
};

/*
 * Open PATH on device DEVICE (-1: automatic or VKCHAT_DEVICE) and make an
 * engine with CFG (n_ctx 0: the default).  On failure the error is
 * printed and the exit status returned (everything opened is closed);
 * 0 on success.
 */
int cmd_load_open(struct cmd_load *l, const char *path, int device,
    const struct engine_config *cfg);

/* Close everything cmd_load_open opened. */
void cmd_load_close(struct cmd_load *l);

/* Parse a device index option value; -1 and an error message when bad. */
int cmd_load_device(const char *value);

#endif
