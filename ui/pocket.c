/*
 * pocket: where the pocket model is and what the user is told about it.
 *
 * The places are fixed at build time (PKGDATADIR, the source and build
 * directories, from configure) except $VKCHAT_DATADIR, which replaces
 * them all: a test or a relocated install names exactly one directory
 * and a pocket.gguf elsewhere can never be picked up instead.  The
 * source tree is looked at only while this binary runs from the build
 * directory it was built in, so an installed vkchat never depends on a
 * build tree (and never names one in its messages).
 *
 * Runs on the UI thread only (pocket_default keeps its answer in a
 * static buffer).
 */
#include "pocket.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "config.h"
#include "util.h"

#define POCKET_FILE "pocket.gguf"

/* Add candidate PATH to *LOOKED (why it is not usable, when known). */
static void
pocket_looked(struct sbuf *looked, const char *path, int errnum, int last)
{
	if (looked->len > 0)
		sbuf_adds(looked, last ? " and " : ", ");
	sbuf_addf(looked, "'%s'", path);
	if (errnum == 0)
		sbuf_adds(looked, " (not a regular file)");
	else if (errnum != ENOENT)
		sbuf_addf(looked, " (%s)", strerror(errnum));
}

int
pocket_find(char **path, struct err *err)
{
	const char *env = getenv("VKCHAT_DATADIR");
	char *cand[2];
	size_t n = 0, i;
	struct sbuf looked;
	struct stat st;
	int errnum, rc = 0;

	*path = NULL;
	if (env != NULL && env[0] != '\0') {
		cand[n++] = xasprintf("%s/%s", env, POCKET_FILE);
	} else {
		cand[n++] = xstrdup(PKGDATADIR "/" POCKET_FILE);
		if (cmd_uninstalled())
			cand[n++] = xstrdup(VK_TOP_SRCDIR "/data/" POCKET_FILE);
	}
	sbuf_init(&looked);
	for (i = 0; i < n && *path == NULL; i++) {
		/* errno from stat, or 0 when it is there but no file. */
		errnum = stat(cand[i], &st) < 0 ? errno : 0;
		if (errnum == 0 && S_ISREG(st.st_mode)) {
			*path = cand[i];
			cand[i] = NULL;
		} else {
			pocket_looked(
			    &looked, cand[i], errnum, i > 0 && i + 1 == n);
		}
	}
	for (i = 0; i < n; i++)
		free(cand[i]);
	if (*path == NULL)
		rc = err_set(err, ERR_NOTFOUND,
		    "the pocket model (vkchat's built-in demo) is not "
		    "installed: looked for %s%s",
		    looked.buf,
		    n == 1 && env != NULL && env[0] != '\0'
			? ", the only place looked while VKCHAT_DATADIR is set"
			: "");
	sbuf_release(&looked);
	return rc;
}

int
pocket_is(const char *path)
{
	char *pocket;
	struct stat a, b;
	int same;

	if (pocket_find(&pocket, NULL) < 0)
		return 0;
	same = stat(path, &a) == 0 && stat(pocket, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	free(pocket);
	return same;
}

const char *
pocket_notice(void)
{
	return "using the pocket model, a tiny demo model: a pocket "
	       "dictionary (ask what a word means) that can also explain "
	       "vkchat; for a real model give a GGUF file with -m, as in "
	       "'vkchat -m MODEL.gguf'";
}

int
pocket_default(const char *cmd, const char **model)
{
	static char found[PATH_MAX];
	struct err err;
	char *path;

	if (pocket_find(&path, &err) < 0) {
		cmd_error("%s: no model: give one with -m MODEL.gguf; %s", cmd,
		    err.msg);
		return EXIT_USAGE;
	}
	if (strlen(path) >= sizeof found) {
		cmd_error(
		    "%s: the pocket model's path '%s' is too long", cmd, path);
		free(path);
		return EXIT_USAGE;
	}
	snprintf(found, sizeof found, "%s", path);
	free(path);
	*model = found;
	cmd_error("%s", pocket_notice());
	return 0;
}
