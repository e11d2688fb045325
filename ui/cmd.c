/*
 * cmd: the subcommand table and the helpers every command shares for
 * reporting errors.
 */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "slash.h"
#include "screen.h"
#include "util.h"

const struct cmd cmd_table[] = {
	{ "help", cmd_help,
	    "this help, a command's, or a manual page (help sampling)" },
	{ "version", cmd_version, "print the version" },
	{ "info", cmd_info, "describe a GGUF model file" },
	{ "tokenize", cmd_tokenize, "show how a model tokenizes a text" },
	{ "devices", cmd_devices, "list the Vulkan devices" },
	{ "run", cmd_run, "complete a prompt with a model, streaming" },
	{ "chat", cmd_chat, "chat with a model (the screen, or plain lines)" },
	{ "compare", cmd_compare, "one prompt with 2-8 settings side by side" },
	{ "bench", cmd_bench, "measure prompt and generation speed" },
	{ "sessions", cmd_sessions,
	    "list, show, export, fork and replay saved chats" },
	{ "presets", cmd_presets, "manage named generation settings" },
	{ "templates", cmd_templates, "manage and render prompt templates" },
	{ NULL, NULL, NULL },
};

int
cmd_uninstalled(void)
{
	char *exe = realpath("/proc/self/exe", NULL);
	char *top = realpath(VK_TOP_BUILDDIR, NULL);
	char *slash = exe != NULL ? strrchr(exe, '/') : NULL;
	int yes = 0;

	if (slash != NULL && top != NULL) {
		*slash = '\0';
		yes = strcmp(exe, top) == 0;
	}
	free(exe);
	free(top);
	return yes;
}

char *
cmd_man_page(const char *page)
{
	static const char sections[] = "175";
	struct stat st;
	char *path;
	size_t i;

	if (!cmd_uninstalled())
		return NULL;
	for (i = 0; sections[i] != '\0'; i++) {
		path =
		    xasprintf("%s/man/%s.%c", VK_TOP_SRCDIR, page, sections[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			return path;
		free(path);
	}
	return NULL;
}

void
cmd_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("vkchat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
cmd_oom(size_t n)
{
	char msg[96];
	int len;

	/* the chat screen's terminal first; no allocation from here on */
	screen_emergency();
	len = snprintf(msg, sizeof msg,
	    "vkchat: out of memory (allocating %zu bytes)\n", n);
	if (len > 0 && write(STDERR_FILENO, msg, (size_t)len) < 0) {
		/* nothing more to do on the way out */
	}
	_exit(EXIT_NOMEM);
}

int
cmd_status(enum err_code code)
{
	switch (code) {
	case ERR_OK:
		return EXIT_OK;
	case ERR_FORMAT:
	case ERR_MODEL:
		return EXIT_MODEL;
	case ERR_DEVICE:
		return EXIT_DEVICE;
	case ERR_NOMEM:
		return EXIT_NOMEM;
	default:
		return EXIT_USAGE;
	}
}

int
cmd_fail(const struct err *err)
{
	cmd_error(
	    "%s", err->msg[0] != '\0' ? err->msg : err_code_name(err->code));
	return cmd_status(err->code);
}

/*
 * Whether getopt stopped at letter OPT inside the short-option cluster
 * ARGV[IND] ("-xh": optind stays on a cluster until its last letter).
 */
static int
cmd_in_cluster(int opt, char **argv, int ind)
{
	const char *w = argv[ind];

	return w != NULL && w[0] == '-' && w[1] != '-' && w[1] != '\0' &&
	    strchr(w + 1, opt) != NULL;
}

/*
 * "CMD: WHAT 'OPTION'": see cmd_bad_optarg().  A long option's error
 * leaves optind past it and optopt at its value, which may be a letter
 * (--model's 'm'): it is named as typed.
 */
static void
cmd_option_error(
    const char *cmd, const char *what, int opt, char **argv, int ind)
{
	const char *prev = argv[ind - 1];

	if (opt > 0 && opt < 256 &&
	    (strncmp(prev, "--", 2) != 0 || cmd_in_cluster(opt, argv, ind)))
		cmd_error("%s: %s '-%c'", cmd, what, opt);
	else
		cmd_error("%s: %s '%s'", cmd, what, prev);
}

int
cmd_bad_option(const char *cmd, char **argv)
{
	cmd_option_error(cmd, "unknown option", optopt, argv, optind);
	cmd_usage_hint(cmd);
	return EXIT_USAGE;
}

void
cmd_usage_hint(const char *cmd)
{
	fflush(stdout);
	fprintf(stderr, "Try 'vkchat %s --help' for more.\n", cmd);
}

int
cmd_bad_optarg(const char *cmd, int opt, char **argv, int ind)
{
	cmd_option_error(cmd, "bad option or missing argument", opt, argv, ind);
	return EXIT_USAGE;
}

void
cmd_usage(int to_stderr)
{
	FILE *f = to_stderr ? stderr : stdout;
	const struct cmd *c;

	fprintf(f,
	    "usage: vkchat [-m MODEL.gguf] [OPTIONS]\n"
	    "       vkchat COMMAND [ARGS...]\n\n"
	    "The first form opens the chat screen (with no model: the model "
	    "and session\nof last time, or else the pocket model, a tiny "
	    "demo; commands given no -m\nuse it too).  OPTIONS: --db PATH, "
	    "--preset NAME, "
	    "--ctx N, --device N,\n"
	    "--chat-format NAME, --session ID, --new, --compare "
	    "PRESET,...|KEY=V1,V2,...\n"
	    "(open in compare mode; with --same-seed), and the generation "
	    "options of\n"
	    "'vkchat run' (--temp X, -n N, --system TEXT, --set "
	    "KEY=VALUE,...).\n"
	    "'man vkchat-tui' explains the screen; 'man vkchat-tutorial' is "
	    "a course in\nshort lessons.\n\ncommands:\n");
	for (c = cmd_table; c->name != NULL; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f,
	    "\nRun 'vkchat COMMAND --help' for a command's options; "
	    "'man vkchat'\nexplains everything; 'vkchat help TOPIC' opens "
	    "manual page vkchat-TOPIC\n(tutorial, tui, sampling, presets, "
	    "storage).\n");
}

/*
 * "vkchat help TOPIC": manual page vkchat-TOPIC (TOPIC "vkchat": the
 * main page) through man(1), the source tree's page while vkchat runs
 * from its build directory, so the pages read the same before
 * "make install".  Returns only when man cannot run.
 */
static int
cmd_help_page(const char *topic)
{
	const struct slash_man *m;
	char *page, *local;

	for (m = slash_man_pages; m->topic != NULL; m++)
		if (strcmp(m->topic, topic) == 0 ||
		    (m->topic[0] == '\0' && strcmp(topic, "vkchat") == 0))
			break;
	if (m->topic == NULL)
		return -1;
	page =
	    m->topic[0] ? xasprintf("vkchat-%s", m->topic) : xstrdup("vkchat");
	local = cmd_man_page(page);
	fflush(stdout);
	if (local != NULL)
		execlp("man", "man", "-l", local, (char *)NULL);
	else
		execlp("man", "man", page, (char *)NULL);
	cmd_error("cannot run man (%s); the page is %s", strerror(errno),
	    local != NULL ? local : page);
	free(local);
	free(page);
	return EXIT_USAGE;
}

int
cmd_help(int argc, char **argv)
{
	const struct cmd *c;
	char *args[] = { NULL, (char *)"--help", NULL };
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		cmd_usage(0);
		return EXIT_OK;
	}
	for (c = cmd_table; c->name != NULL; c++) {
		if (strcmp(c->name, argv[1]) == 0 && c->fn != cmd_help) {
			args[0] = (char *)c->name;
			return c->fn(2, args);
		}
	}
	if ((rc = cmd_help_page(argv[1])) >= 0)
		return rc;
	cmd_error("unknown command or manual topic '%s' (try 'vkchat "
		  "--help')",
	    argv[1]);
	return EXIT_USAGE;
}

int
cmd_version(int argc, char **argv)
{
	printf("vkchat %s\n", PACKAGE_VERSION);
	return EXIT_OK;
}
