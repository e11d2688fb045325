/*
 * cmd-load: model, tokenizer, device and engine for the commands that
 * run a model.  See cmd-load.h.
 *
 * The file is validated (model_validate) before the device is opened, so
 * a bad model is reported as such (status 2) even on a machine without
 * Vulkan.
 */
#include "cmd-load.h"

#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "util.h"

void
cmd_load_close(struct cmd_load *l)
{
	engine_free(l->e);
	model_free(l->m);
	kern_free(l->k);
	vk_device_free(l->dev);
	tokenizer_free(l->tok);
	gguf_close(l->g);
	memset(l, 0, sizeof *l);
}

int
cmd_load_open(struct cmd_load *l, const char *path, int device,
    const struct engine_config *cfg)
{
	struct model_hparams hp;
	struct err err;
	double t0 = util_now();
	int status;

	memset(l, 0, sizeof *l);
	err_clear(&err);
	if (gguf_open(path, &l->g, &err) < 0 ||
	    tokenizer_load(l->g, &l->tok, &err) < 0 ||
	    model_validate(l->g, &hp, &err) < 0) {
		status = EXIT_MODEL;
		goto fail;
	}
	if (vk_device_new(device, &l->dev, &err) < 0 ||
	    kern_new(l->dev, &l->k, &err) < 0) {
		status = err.code == ERR_USAGE ? EXIT_USAGE : EXIT_DEVICE;
		goto fail;
	}
	if (model_load(l->dev, l->k, l->g, NULL, NULL, &l->m, &err) < 0) {
		status = err.code == ERR_NOMEM || err.code == ERR_DEVICE
		    ? EXIT_DEVICE
		    : EXIT_MODEL;
		goto fail;
	}
	if (engine_new(l->m, cfg, &l->e, &err) < 0) {
		status = err.code == ERR_NOMEM || err.code == ERR_DEVICE
		    ? EXIT_DEVICE
		    : EXIT_USAGE;
		goto fail;
	}
	l->t_load = util_now() - t0;
	return 0;
fail:
	cmd_error("%s", err.msg[0] != '\0' ? err.msg : err_code_name(err.code));
	cmd_load_close(l);
	return status;
}

int
cmd_load_device(const char *value)
{
	int64_t v;

	if (util_parse_i64(value, 0, 255, &v) < 0) {
		cmd_error("--device: '%s' is not a device index (0-255; see "
			  "'vkchat devices')",
		    value);
		return -1;
	}
	return (int)v;
}
