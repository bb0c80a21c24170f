// SPDX-License-Identifier: MIT
/* Headless chromium for the viewer tests (browser.h). */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/browser.h"

extern char **environ;

const char *browser_path(void)
{
	static char found[4096];
	const char *env = getenv("TATTACH_CHROMIUM");
	const char *path = getenv("PATH");

	if (env && *env)
		return access(env, X_OK) ? NULL : env;
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");

		snprintf(found, sizeof(found), "%.*s/chromium", (int)n, p);
		if (n && !access(found, X_OK))
			return found;
		p += n + (p[n] == ':');
	}
	return NULL;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	FILE *m = open_memstream(&buf, &len);
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), f)))
		fwrite(chunk, 1, n, m);
	fclose(m);
	fclose(f);
	return buf;
}

/* &gt; &lt; &amp; &quot; back to characters, in place. */
static void unescape(char *s)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&gt;", '>' }, { "&lt;", '<' }, { "&quot;", '"' }, { "&amp;", '&' },
	};
	char *w = s;

	while (*s) {
		size_t i;

		for (i = 0; i < 4; i++)
			if (!strncmp(s, ents[i].ent, strlen(ents[i].ent)))
				break;
		if (i < 4) {
			*w++ = ents[i].c;
			s += strlen(ents[i].ent);
		} else {
			*w++ = *s++;
		}
	}
	*w = 0;
}

static int run(char *const argv[], const char *out)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc, status;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return -rc;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

char *browser_selftest(const char *page, const char *hash, char *why, size_t whylen)
{
	const char *chromium = browser_path();
	char profile[] = "/tmp/tattach-chromium-XXXXXX";
	char out[] = "/tmp/tattach-dom-XXXXXX";
	char *url = NULL, *udd = NULL, *dom = NULL, *text = NULL, *a, *b;
	int fd, rc;

	if (!chromium) {
		snprintf(why, whylen, "no chromium: install Debian's chromium (make deps) or set TATTACH_CHROMIUM");
		return NULL;
	}
	if (!mkdtemp(profile) || (fd = mkstemp(out)) < 0) {
		snprintf(why, whylen, "temporary files: %s", strerror(errno));
		return NULL;
	}
	close(fd);
	if (asprintf(&url, "file://%s#%s", page, hash) < 0 ||
	    asprintf(&udd, "--user-data-dir=%s", profile) < 0)
		abort();
	/* No sandbox: the tests may run as root.  Everything that would
	 * talk to the network is off; the page needs none of it. */
	char *argv[] = {
		"timeout", "120", (char *)chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-quic", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--window-size=1280,900", udd, "--dump-dom", url, NULL,
	};
	rc = run(argv, out);
	dom = read_all(out);
	if (rc) {
		snprintf(why, whylen, "%s exited with %d", chromium, rc);
		goto out;
	}
	a = dom ? strstr(dom, "<pre id=\"selftest\"") : NULL;
	a = a ? strchr(a, '>') : NULL;
	b = a ? strstr(a, "</pre>") : NULL;
	if (!b) {
		snprintf(why, whylen, "no <pre id=selftest> in the page's DOM (%zu bytes)", dom ? strlen(dom) : 0);
		goto out;
	}
	text = strndup(a + 1, (size_t)(b - a - 1));
	unescape(text);
out:
	{
		char *rm[] = { "rm", "-rf", profile, NULL };

		run(rm, "/dev/null");
	}
	unlink(out);
	free(dom);
	free(url);
	free(udd);
	return text;
}
