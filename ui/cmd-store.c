/*
 * cmd-store: shared plumbing of the storage commands.  The argument
 * parser is small and permuting on purpose: options may come before or
 * after the positional arguments ("sessions show 12 --json"), and the
 * global --db is accepted everywhere, before the subcommand word too.
 *
 * Stored text (titles, messages, model output above all) is untrusted:
 * everything printed for people goes through cmd_store_safe().
 */
#include "cmd-store.h"

#include <errno.h>
#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "cmd.h"
#include "storage/db.h"
#include "utf8.h"

/* The option of OPTS called NAME (LEN bytes) or with SHORT_NAME. */
static const struct cmd_store_opt *
cmd_store_find(const struct cmd_store_opt *opts, const char *name, size_t len,
    char short_name)
{
	for (; opts->name != NULL; opts++) {
		if (short_name != 0 ? opts->short_name == short_name
				    : strlen(opts->name) == len &&
			    memcmp(opts->name, name, len) == 0)
			return opts;
	}
	return NULL;
}

int
cmd_store_args(const char *cmd, int argc, char **argv,
    const struct cmd_store_opt *opts, int min, int max,
    cmd_store_usage_fn usage, const char **db, char ***pos, int *npos)
{
	static const struct cmd_store_opt none[] = { { NULL, 0, NULL, NULL } };
	const struct cmd_store_opt db_opt = { "db", 0, db, NULL };
	int i, dashdash = 0;

	*pos = xcalloc((size_t)argc + 1, sizeof **pos);
	*npos = 0;
	if (opts == NULL)
		opts = none;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *name;
		const struct cmd_store_opt *o;
		size_t len;

		if (dashdash || a[0] != '-' || a[1] == '\0') {
			(*pos)[(*npos)++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			free(*pos);
			*pos = NULL;
			return 1;
		}
		if (a[1] == '-') {
			name = a + 2;
			eq = strchr(name, '=');
			len = eq != NULL ? (size_t)(eq - name) : strlen(name);
			o = cmd_store_find(opts, name, len, 0);
			if (o == NULL && len == 2 && memcmp(name, "db", 2) == 0)
				o = &db_opt;
		} else {
			eq = NULL;
			o = a[2] == '\0' ? cmd_store_find(opts, NULL, 0, a[1])
					 : NULL;
		}
		if (o == NULL) {
			cmd_error("%s: unknown option '%s'", cmd, a);
			goto fail;
		}
		if (o->flag != NULL) {
			if (eq != NULL) {
				cmd_error(
				    "%s: --%s takes no value", cmd, o->name);
				goto fail;
			}
			*o->flag = 1;
			continue;
		}
		if (eq != NULL) {
			*o->value = eq + 1;
		} else if (i + 1 < argc) {
			*o->value = argv[++i];
		} else {
			cmd_error("%s: --%s needs a value", cmd, o->name);
			goto fail;
		}
	}
	if (*npos >= min && *npos <= max)
		return 0;
	cmd_error("%s: %s", cmd,
	    *npos < min ? "missing arguments (see --help)"
			: "too many arguments (see --help)");
fail:
	free(*pos);
	*pos = NULL;
	return -1;
}

/*
 * The index in ARGV of the subcommand word (the first argument that is
 * neither an option nor --db's value), or 0 when there is none.
 */
static int
cmd_store_subcommand(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0) {
			i++;
			continue;
		}
		if (argv[i][0] != '-')
			return i;
	}
	return 0;
}

int
cmd_store_dispatch(const char *cmd, const struct cmd_store_sub *subs,
    cmd_store_usage_fn usage, int argc, char **argv)
{
	const struct cmd_store_sub *s;
	int i = cmd_store_subcommand(argc, argv), j;
	struct sbuf names;

	if (i == 0) {
		for (j = 1; j < argc; j++) {
			if (strcmp(argv[j], "--help") == 0 ||
			    strcmp(argv[j], "-h") == 0) {
				usage(stdout);
				return EXIT_OK;
			}
		}
		sbuf_init(&names);
		for (s = subs; s->name != NULL; s++) {
			if (s != subs)
				sbuf_adds(
				    &names, s[1].name != NULL ? ", " : " or ");
			sbuf_adds(&names, s->name);
		}
		cmd_error("%s: which one? %s", cmd, names.buf);
		sbuf_release(&names);
		cmd_usage_hint(cmd);
		return EXIT_USAGE;
	}
	for (s = subs; s->name != NULL; s++) {
		if (strcmp(argv[i], s->name) != 0)
			continue;
		/* The subcommand word goes; options before it stay. */
		memmove(argv + i, argv + i + 1,
		    (size_t)(argc - i - 1) * sizeof *argv);
		return s->fn(argc - 1, argv);
	}
	cmd_error("%s: unknown command '%s' (try 'vkchat %s --help')", cmd,
	    argv[i], cmd);
	return EXIT_USAGE;
}

int
cmd_store_fail(const struct err *e)
{
	cmd_fail(e);
	return EXIT_USAGE;
}

struct db *
cmd_store_open(const char *db_opt)
{
	struct db *db;
	struct err e;
	char *path;

	if (db_path(db_opt, &path, &e) != 0) {
		cmd_store_fail(&e);
		return NULL;
	}
	if (db_open(path, &db, &e) != 0) {
		cmd_store_fail(&e);
		db = NULL;
	}
	free(path);
	return db;
}

int
cmd_store_id(const char *what, const char *s, int64_t *out)
{
	if (util_parse_i64(s, 1, INT64_MAX, out) != 0) {
		cmd_error("'%s' is not a %s id (a number from 'vkchat sessions "
			  "list')",
		    s, what);
		return -1;
	}
	return 0;
}

int
cmd_store_width(void)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	int64_t v;

	if (env != NULL && util_parse_i64(env, 20, 10000, &v) == 0)
		return (int)v;
	if (isatty(STDOUT_FILENO) &&
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 0;
}

void
cmd_store_safe(struct sbuf *out, const char *s, int multiline)
{
	size_t len = strlen(s), i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		int n;

		if (c == '\n' || c == '\t') {
			sbuf_addc(out, multiline ? (char)c : ' ');
			i++;
			continue;
		}
		if (c >= 0x20 && c < 0x7f) {
			sbuf_addc(out, (char)c);
			i++;
			continue;
		}
		n = utf8_decode(s + i, len - i, &cp);
		/* Keep printable characters; escape C1 and bidi controls. */
		if (n > 1 && !utf8_hidden(cp)) {
			sbuf_add(out, s + i, (size_t)n);
			i += (size_t)n;
			continue;
		}
		if (n > 1) {
			sbuf_addf(out, "\\u%04x", (unsigned)cp);
			i += (size_t)n;
			continue;
		}
		sbuf_addf(out, "\\x%02x", c);
		i++;
	}
}

/* Columns of code point CP (unprintable ones count as one). */
static int
cmd_store_cp_cols(uint32_t cp)
{
	int w = wcwidth((wchar_t)cp);

	return w < 0 ? 1 : w;
}

int
cmd_store_cols(const char *s)
{
	size_t len = strlen(s), i = 0;
	int cols = 0;

	while (i < len) {
		uint32_t cp;
		int n = utf8_decode(s + i, len - i, &cp);

		if (n <= 0) {
			cols++;
			i++;
			continue;
		}
		cols += (unsigned char)s[i] < 0x80 ? 1 : cmd_store_cp_cols(cp);
		i += (size_t)n;
	}
	return cols;
}

int
cmd_store_fit(struct sbuf *out, const char *s, int width)
{
	const char *dots = "...";
	int dots_cols = 3, cols = 0;
	size_t len = strlen(s), i = 0;
	const char *cs = nl_langinfo(CODESET);

	if (width <= 0 || cmd_store_cols(s) <= width) {
		sbuf_adds(out, s);
		return cmd_store_cols(s);
	}
	if (cs != NULL && strcmp(cs, "UTF-8") == 0) {
		dots = "\xe2\x80\xa6";
		dots_cols = 1;
	}
	while (i < len) {
		uint32_t cp;
		int n = utf8_decode(s + i, len - i, &cp), w;

		if (n <= 0)
			n = 1, cp = '?';
		w = (unsigned char)s[i] < 0x80 ? 1 : cmd_store_cp_cols(cp);
		if (cols + w > width - dots_cols)
			break;
		sbuf_add(out, s + i, (size_t)n);
		cols += w;
		i += (size_t)n;
	}
	sbuf_adds(out, dots);
	return cols + dots_cols;
}

void
cmd_store_row(const char *left, const char *text, int width)
{
	int used = cmd_store_cols(left);
	struct sbuf line;

	sbuf_init(&line);
	sbuf_adds(&line, left);
	cmd_store_fit(&line, text, width > 0 ? width - used : 0);
	puts(line.buf);
	sbuf_release(&line);
}

const char *
cmd_store_time(int64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(buf, size, "?");
	return buf;
}

int
cmd_store_since(const char *s, int64_t *out)
{
	time_t now = time(NULL), t;
	struct tm tm;
	char unit = 0;
	int64_t n;
	int y, mo, d, h = 0, mi = 0, sec = 0, used = 0;
	char *num;

	memset(&tm, 0, sizeof tm);
	if (strcmp(s, "today") == 0 || strcmp(s, "yesterday") == 0) {
		localtime_r(&now, &tm);
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		if (s[0] == 'y')
			tm.tm_mday--;
		tm.tm_isdst = -1;
		*out = (int64_t)mktime(&tm) * 1000;
		return 0;
	}
	if (*s != '\0' && strchr("hdw", s[strlen(s) - 1]) != NULL) {
		unit = s[strlen(s) - 1];
		num = xstrndup(s, strlen(s) - 1);
		if (util_parse_i64(num, 0, 100000, &n) == 0) {
			free(num);
			n *= unit == 'h' ? 3600 : unit == 'd' ? 86400 : 604800;
			*out = ((int64_t)now - n) * 1000;
			return 0;
		}
		free(num);
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3) {
		const char *r = s + used;
		int k = 0;

		if (*r == ' ' || *r == 'T') {
			if (sscanf(r + 1, "%2d:%2d%n", &h, &mi, &k) != 2)
				goto bad;
			r += 1 + k;
			if (*r == ':') {
				if (sscanf(r + 1, "%2d%n", &sec, &k) != 1)
					goto bad;
				r += 1 + k;
			}
		}
		if (*r != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 ||
		    h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
			goto bad;
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_sec = sec;
		tm.tm_isdst = -1;
		if ((t = mktime(&tm)) == (time_t)-1)
			goto bad;
		*out = (int64_t)t * 1000;
		return 0;
	}
bad:
	cmd_error("--since: '%s' is not a date (YYYY-MM-DD, 'YYYY-MM-DD "
		  "HH:MM', today, yesterday, or 3h, 2d, 1w ago)",
	    s);
	return -1;
}

int
cmd_store_confirm(const char *question)
{
	char line[64];

	if (!isatty(STDIN_FILENO))
		return 0;
	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (fgets(line, sizeof line, stdin) == NULL)
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}

int
cmd_store_output(const char *file, const char *data, size_t len)
{
	struct err e;
	struct sbuf safe;
	int rc = 0;

	if (file == NULL || strcmp(file, "-") == 0) {
		/* a terminal gets the filtered text, a pipe the bytes */
		sbuf_init(&safe);
		if (isatty(STDOUT_FILENO) && memchr(data, '\0', len) == NULL) {
			cmd_store_safe(&safe, data, 1);
			data = safe.buf;
			len = safe.len;
		}
		if (fwrite(data, 1, len, stdout) != len ||
		    fflush(stdout) != 0) {
			cmd_error(
			    "cannot write the output: %s", strerror(errno));
			rc = -1;
		}
		sbuf_release(&safe);
		return rc;
	}
	if (util_write_file(file, data, len, 0600, &e) != 0) {
		cmd_store_fail(&e);
		return -1;
	}
	return 0;
}

char *
cmd_store_input(const char *file, size_t *len)
{
	struct err e;
	char *data;

	if (util_read_file(file, (size_t)1 << 30, &data, len, &e) != 0) {
		cmd_store_fail(&e);
		return NULL;
	}
	return data;
}
