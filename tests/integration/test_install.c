// SPDX-License-Identifier: MIT
/*
 * make install DESTDIR=... puts tattach, tread, their man pages and the
 * bash completion where a system looks for them; man renders the pages
 * without a warning; every long option of each program's --help is in its
 * man page (so the two cannot drift apart); bash completes options, pids
 * and values, and bash-completion's loader finds the completion by name.
 * Everything runs the real make, man, groff and bash.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

static char stage[] = "/tmp/tattach-install-XXXXXX";

/* Run a shell command line; its output in *@out, *@err (may be NULL). */
static int sh(const char *cmd, char **out, char **err)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };

	return run_capture(argv, out, err);
}

/* A path under the staged PREFIX (/usr/local). */
static const char *staged(const char *rel)
{
	static char buf[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/usr/local/%s", stage, rel);
	return buf[k];
}

static const char *build_dir(void)
{
	const char *b = getenv("TATTACH_BUILD");

	return b && *b ? b : "build";
}

/* The top-level make, not one nested in 'make check''s jobserver. */
static int make(const char *target, char **err)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s "
		 "--no-print-directory %s O=%s PREFIX=/usr/local DESTDIR=%s", target,
		 build_dir(), stage);
	return sh(cmd, NULL, err);
}

static void install_staged(void)
{
	char *err = NULL;

	cr_assert(mkdtemp(stage), "mkdtemp");
	cr_assert_eq(make("install", &err), 0, "make install: %s", err);
	free(err);
}

static void remove_staged(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", stage);
	sh(cmd, NULL, NULL);
}

TestSuite(install, .init = install_staged, .fini = remove_staged, .timeout = 120);

static const char *const installed[] = {
	"bin/tattach", "bin/tread", "share/man/man1/tattach.1", "share/man/man1/tread.1",
	"share/bash-completion/completions/tattach",
	"share/bash-completion/completions/tread",
	"include/tattach/mark.h",
};

Test(install, files_in_place)
{
	char cmd[1200], *out = NULL, *err = NULL;

	for (size_t i = 0; i < sizeof(installed) / sizeof(installed[0]); i++) {
		struct stat st;
		unsigned want = i < 2 ? 0755 : 0644;

		cr_assert(stat(staged(installed[i]), &st) == 0, "%s not installed",
			  installed[i]);
		cr_assert(S_ISREG(st.st_mode), "%s", installed[i]);
		cr_assert_eq(st.st_mode & 07777, want, "%s has mode %o", installed[i],
			     st.st_mode & 07777);
	}
	snprintf(cmd, sizeof(cmd), "%s --version && %s --version", staged("bin/tattach"),
		 staged("bin/tread"));
	cr_assert_eq(sh(cmd, &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "tattach 0.1.0\n") && strstr(out, "tread "), "%s", out);
	/* one completion file under both names, the one from the sources */
	snprintf(cmd, sizeof(cmd), "cmp completion/tattach.bash %s && cmp "
		 "completion/tattach.bash %s && cmp docs/man/tattach.1 %s && cmp "
		 "docs/man/tread.1 %s", staged(installed[4]), staged(installed[5]),
		 staged(installed[2]), staged(installed[3]));
	cr_assert_eq(sh(cmd, NULL, &err), 0, "%s", err);
	/* <tattach/mark.h>, for programs that mark their own trace */
	snprintf(cmd, sizeof(cmd), "cmp include/tattach/mark.h %s", staged(installed[6]));
	cr_assert_eq(sh(cmd, NULL, &err), 0, "%s", err);
}

/* man (with every groff warning on) and groff itself: not one warning. */
static void renders_cleanly(const char *page)
{
	char cmd[1200], *out = NULL, *err = NULL;
	const char *path = staged(page);

	snprintf(cmd, sizeof(cmd), "LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l %s", path);
	cr_assert_eq(sh(cmd, &out, &err), 0, "%s: %s", cmd, err);
	cr_assert_str_eq(err, "", "%s", cmd);
	cr_assert(strstr(out, "NAME") && strstr(out, "SYNOPSIS") && strstr(out, "OPTIONS") &&
		  strstr(out, "EXIT STATUS"), "%s", out);
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd), "groff -ww -z -man %s", path);
	cr_assert_eq(sh(cmd, NULL, &err), 0, "%s: %s", cmd, err);
	cr_assert_str_eq(err, "", "%s", cmd);
	free(err);
}

Test(install, man_pages_render_without_warnings)
{
	renders_cleanly("share/man/man1/tattach.1");
	renders_cleanly("share/man/man1/tread.1");
}

/* man finds the pages where they were installed, by name. */
Test(install, man_finds_the_pages)
{
	char cmd[1200], want[600], *out = NULL, *err = NULL;

	snprintf(cmd, sizeof(cmd), "MANPATH=%s man -w tattach tread", staged("share/man"));
	cr_assert_eq(sh(cmd, &out, &err), 0, "%s: %s", cmd, err);
	snprintf(want, sizeof(want), "%s\n%s\n", staged("share/man/man1/tattach.1"),
		 staged("share/man/man1/tread.1"));
	cr_assert_str_eq(out, want);
}

/*
 * Every long option on an option line of '@prog --help' ("  -p, --pid PID"
 * or "      --report") is in the man page, as roff writes it ("\-\-pid").
 * Returns how many options were checked.
 */
static size_t options_in_man_page(const char *prog, const char *page)
{
	char cmd[600], *out = NULL, *err = NULL, *man = file_text(staged(page));
	size_t n = 0;

	snprintf(cmd, sizeof(cmd), "%s --help", staged(prog));
	cr_assert_eq(sh(cmd, &out, &err), 0, "%s", err);
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		char *p = line, roff[128] = "", *r = roff;

		while (*p == ' ')
			p++;
		if (p[0] == '-' && p[1] != '-' && p[1] && p[2] == ',' && p[3] == ' ')
			p += 4;	/* "-p, " */
		if (p == line || strncmp(p, "--", 2) || !((p[2] >= 'a' && p[2] <= 'z') ||
							  (p[2] >= 'A' && p[2] <= 'Z')))
			continue;
		for (; *p && *p != ' ' && *p != '=' && r < roff + sizeof(roff) - 3; p++) {
			if (*p == '-')
				*r++ = '\\';
			*r++ = *p;
		}
		*r = 0;
		cr_assert(strstr(man, roff), "'%s --help' lists an option its man page %s "
			  "lacks: %s", prog, page, roff);
		n++;
	}
	free(man);
	free(out);
	return n;
}

Test(install, man_pages_name_every_option_of_help)
{
	/* at least the options there are today: the parser found them */
	cr_assert_geq(options_in_man_page("bin/tattach", "share/man/man1/tattach.1"), 12);
	cr_assert_geq(options_in_man_page("bin/tread", "share/man/man1/tread.1"), 8);
}

/*
 * Complete COMP_WORDS (@words, a bash array body) at word @cword with the
 * installed completion and return the candidates, one a line.
 */
static char *complete(const char *words, int cword, const char *env)
{
	char cmd[2000], *out = NULL, *err = NULL;

	snprintf(cmd, sizeof(cmd),
		 "%s PATH=%s:$PATH bash --norc --noprofile -c '"
		 ". %s || exit 9; "
		 "COMP_WORDS=(%s); COMP_CWORD=%d; "
		 "f=$(complete -p ${COMP_WORDS[0]} | sed -n \"s/.*-F \\([^ ]*\\) .*/\\1/p\"); "
		 "$f; printf \"%%s\\n\" \"${COMPREPLY[@]}\"'",
		 env ? env : "", staged("bin"),
		 staged("share/bash-completion/completions/tattach"), words, cword);
	cr_assert_eq(sh(cmd, &out, &err), 0, "%s: %s", cmd, err);
	cr_assert_str_eq(err, "", "%s", cmd);
	free(err);
	return out;
}

Test(install, bash_completes_options_and_values)
{
	char *out = NULL, *err = NULL, cmd[1000], dir[] = "/tmp/tattach-rings-XXXXXX";
	char env[128], ring[200];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "bash --norc --noprofile -c '. %s; complete -p tattach "
		 "tread'", staged("share/bash-completion/completions/tattach"));
	cr_assert_eq(sh(cmd, &out, &err), 0, "%s", err);
	cr_assert_str_eq(out, "complete -F _tattach tattach\ncomplete -F _tread tread\n");

	/* each option once: a description line starting with an option's
	 * name ("--enable without it unhooks them") is not an option line */
	cr_assert_str_eq(complete("tattach --e", 1, NULL), "--enable\n--entry\n");
	cr_assert_str_eq(complete("tread --tim", 1, NULL), "--time\n");
	/* the options of --libcalls, --entry, --module, --stacks */
	cr_assert_str_eq(complete("tattach --li", 1, NULL), "--list\n--libcalls\n");
	cr_assert_str_eq(complete("tattach --sta", 1, NULL), "--status\n--stacks\n");
	cr_assert_str_eq(complete("tattach --mod", 1, NULL), "--mode\n--module\n");
	/* --module NAME: the libraries the process of -p has loaded */
	cr_assert(strstr(complete("tattach -p $$ --enable --module libc", 5, NULL), "libc.so"),
		  "libc not offered");
	cr_assert_str_eq(complete("tattach --enable --module \"\"", 3, NULL), "\n");
	cr_assert_str_eq(complete("tattach --max-t", 1, NULL), "--max-threads\n");
	cr_assert_str_eq(complete("tattach --mode f", 2, NULL), "flight\n");
	cr_assert_str_eq(complete("tattach --mode s", 2, NULL), "stats\n");
	cr_assert_str_eq(complete("tattach --clock \"\"", 2, NULL), "tsc\nmono\n");
	cr_assert_str_eq(complete("tread --fo", 1, NULL), "--follow\n");
	cr_assert_str_eq(complete("tread --time r", 2, NULL), "rel\n");
	cr_assert_str_eq(complete("tread -s s", 2, NULL), "self\n");
	cr_assert_str_eq(complete("tread --export f", 2, NULL), "folded\nflamegraph\n");
	/* after "--", a command name */
	cr_assert(strstr(complete("tattach -m flight -- tattac", 4, NULL), "tattach\n"));

	/* pids: tattach offers processes (the completing bash is one) ... */
	out = complete("tattach -p $$", 2, NULL);
	cr_assert(out[0] && strchr(out, '\n'), "no pid offered");
	/* ... but not kernel threads (kthreadd is pid 2) */
	out = complete("tattach -p 2", 2, NULL);
	cr_assert(strncmp(out, "2\n", 2) && !strstr(out, "\n2\n"), "pid 2 offered:\n%s", out);
	/* ... and tread the ones with a ring file */
	cr_assert(mkdtemp(dir));
	snprintf(ring, sizeof(ring), "%s/tattach-4242.ring", dir);
	f = fopen(ring, "w");
	cr_assert(f);
	fclose(f);
	snprintf(env, sizeof(env), "TATTACH_RING_DIR=%s", dir);
	cr_assert_str_eq(complete("tread -p \"\"", 2, env), "4242\n");
	unlink(ring);
	rmdir(dir);
}

/* The pid a bash completes for "tattach -p $$" is that bash's own. */
Test(install, bash_completes_its_own_pid)
{
	char cmd[1200], *out = NULL, *err = NULL;

	snprintf(cmd, sizeof(cmd),
		 "bash --norc --noprofile -c '. %s; COMP_WORDS=(tattach -p $$); "
		 "COMP_CWORD=2; _tattach; for p in \"${COMPREPLY[@]}\"; do "
		 "[ \"$p\" = $$ ] && echo found; done'",
		 staged("share/bash-completion/completions/tattach"));
	cr_assert_eq(sh(cmd, &out, &err), 0, "%s", err);
	cr_assert_str_eq(out, "found\n");
}

/* bash-completion's loader finds the installed files by command name. */
Test(install, loaded_by_bash_completion)
{
	char cmd[1200], *out = NULL, *err = NULL;

	snprintf(cmd, sizeof(cmd),
		 "bash --norc --noprofile -c '. /usr/share/bash-completion/bash_completion; "
		 "XDG_DATA_DIRS=%s; BASH_COMPLETION_USER_DIR=/nonexistent; "
		 "__load_completion tattach && __load_completion tread && "
		 "complete -p tattach tread'", staged("share"));
	cr_assert_eq(sh(cmd, &out, &err), 0, "%s: %s", cmd, err);
	cr_assert_str_eq(out, "complete -F _tattach tattach\ncomplete -F _tread tread\n");
}

Test(install, uninstall_removes_every_file)
{
	char *err = NULL;

	cr_assert_eq(make("uninstall", &err), 0, "make uninstall: %s", err);
	for (size_t i = 0; i < sizeof(installed) / sizeof(installed[0]); i++)
		cr_assert(access(staged(installed[i]), F_OK) < 0, "%s still there",
			  installed[i]);
}
