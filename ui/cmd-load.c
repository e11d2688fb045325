/*
 * cmd-load: loading a model for a command, with the error printed and
 * turned into an exit status.  The loading itself is src/llm.c's; see
 * cmd-load.h.
 */
#include "cmd-load.h"

#include <stdio.h>

#include "cmd.h"
#include "util.h"

int
cmd_load_status(enum llm_stage stage, const struct err *err)
{
	switch (stage) {
	case LLM_STAGE_OPTIONS:
		return EXIT_USAGE;
	case LLM_STAGE_FILE:
		return err->code == ERR_NOMEM ? EXIT_NOMEM : EXIT_MODEL;
	case LLM_STAGE_DEVICE:
		return err->code == ERR_USAGE ? EXIT_USAGE
		    : err->code == ERR_NOMEM  ? EXIT_NOMEM
					      : EXIT_DEVICE;
	case LLM_STAGE_UPLOAD:
		return err->code == ERR_NOMEM ? EXIT_NOMEM
		    : err->code == ERR_DEVICE ? EXIT_DEVICE
					      : EXIT_MODEL;
	case LLM_STAGE_ENGINE:
		return err->code == ERR_NOMEM ? EXIT_NOMEM
		    : err->code == ERR_DEVICE ? EXIT_DEVICE
					      : EXIT_USAGE;
	}
	return EXIT_USAGE;
}

int
cmd_load_open(const struct llm_opts *o, struct llm **out)
{
	enum llm_stage stage;
	struct err err;

	err_clear(&err);
	if (llm_open(o, out, &stage, &err) == 0)
		return 0;
	cmd_error("%s", err.msg[0] != '\0' ? err.msg : err_code_name(err.code));
	return cmd_load_status(stage, &err);
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
