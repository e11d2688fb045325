/*
 * main: the vkchat program entry.  Dispatches to a subcommand from
 * cmd_table; with no arguments, or options first, it opens the TUI
 * (tui_main).  Only this file and the commands it calls may exit the
 * process.
 */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "tui.h"
#include "util.h"
#include "vk-device.h"

int
main(int argc, char **argv)
{
	const struct cmd *c;

	setlocale(LC_ALL, "");
	util_on_oom(cmd_oom);
	/* before any thread: it may add to the environment */
	vk_device_threads_init();
	if (argc < 2)
		return tui_main(argc, argv);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		cmd_usage(0);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(argc - 1, argv + 1);
	/* Options before any command: the chat screen's. */
	if (argv[1][0] == '-')
		return tui_main(argc, argv);
	for (c = cmd_table; c->name != NULL; c++)
		if (strcmp(c->name, argv[1]) == 0)
			return c->fn(argc - 1, argv + 1);
	cmd_error("unknown command '%s' (try 'vkchat --help')", argv[1]);
	return EXIT_USAGE;
}
