// SPDX-License-Identifier: MIT
/*
 * Replays a fuzz target's inputs without libFuzzer, for `make check`.
 *
 * Built with ASan+UBSan (no -fsanitize=fuzzer) and linked with one
 * tests/fuzz/fuzz_<name>.c; FUZZ_TARGET names it.  Run from the repository
 * root, it calls LLVMFuzzerTestOneInput() on every file of
 *
 *	tests/fuzz/corpus/<name>/	(seed corpus: must exist, non-empty)
 *	tests/fuzz/crashes/<name>/	(regression inputs: may be absent)
 *
 * or, when given non-option arguments, on those files and directories.
 * Options (--jobs=N, --short-filename, anything starting with '-') are
 * ignored: tests/run-all.sh passes Criterion's.  It ends with a Criterion
 * style synthesis line so run-all.sh can count it.  A sanitizer report, a
 * failed check or an input running over REPLAY_TIMEOUT seconds aborts the
 * process after naming the input; run-all.sh then counts a failure.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef FUZZ_TARGET
#error "build with -DFUZZ_TARGET='\"fuzz_<name>\"'"
#endif

#define REPLAY_TIMEOUT 60	/* seconds per input */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static const char *current;	/* input being replayed */
static unsigned tested, unreadable;

static void name_current(void)
{
	if (current)
		fprintf(stderr, "replay %s: failed on input %s\n", FUZZ_TARGET, current);
}

static void on_alarm(int sig)
{
	(void)sig;
	/* Async-signal-safe enough for a test that is about to die. */
	if (write(2, "replay: input timed out\n", 24) < 0)
		_exit(2);
	abort();	/* on_abort() names the input */
}

static void on_abort(int sig)
{
	name_current();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_file(const char *path)
{
	struct stat st;
	uint8_t *data;
	FILE *f;
	size_t n;

	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "replay %s: cannot read %s\n", FUZZ_TARGET, path);
		unreadable++;
		if (f)
			fclose(f);
		return;
	}
	data = malloc(st.st_size ? st.st_size : 1);
	if (!data) {
		fprintf(stderr, "replay %s: out of memory for %s\n", FUZZ_TARGET, path);
		unreadable++;
		fclose(f);
		return;
	}
	n = fread(data, 1, st.st_size, f);
	fclose(f);
	if (n != (size_t)st.st_size) {
		fprintf(stderr, "replay %s: short read on %s\n", FUZZ_TARGET, path);
		unreadable++;
		free(data);
		return;
	}
	current = path;
	alarm(REPLAY_TIMEOUT);
	LLVMFuzzerTestOneInput(data, n);
	alarm(0);
	current = NULL;
	free(data);
	tested++;
}

/* Every regular file of @dir, sorted, dot files skipped.  -1: no such dir. */
static int replay_dir(const char *dir)
{
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **v = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*v));

			if (!v)
				abort();
			names = v;
		}
		if (asprintf(&names[n], "%s/%s", dir, de->d_name) < 0)
			abort();
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (stat(names[i], &st) == 0 && S_ISDIR(st.st_mode))
			replay_dir(names[i]);
		else
			replay_file(names[i]);
		free(names[i]);
	}
	free(names);
	return 0;
}

static void replay_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		replay_dir(path);
	else
		replay_file(path);
}

int main(int argc, char **argv)
{
	unsigned failing = 0;
	int explicit = 0;

	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(name_current);
	signal(SIGALRM, on_alarm);
	signal(SIGABRT, on_abort);	/* a failed CHECK() of the target */
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);

	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;	/* --jobs=N, --short-filename, ... */
		explicit = 1;
		replay_path(argv[i]);
	}
	if (!explicit) {
		unsigned before;

		if (replay_dir("tests/fuzz/corpus/" FUZZ_TARGET) < 0) {
			fprintf(stderr, "replay %s: no tests/fuzz/corpus/%s: run me from "
				"the repository root\n", FUZZ_TARGET, FUZZ_TARGET);
			failing++;
		} else if (tested == 0) {
			fprintf(stderr, "replay %s: the seed corpus is empty\n", FUZZ_TARGET);
			failing++;
		}
		before = tested;
		replay_dir("tests/fuzz/crashes/" FUZZ_TARGET);
		if (tested > before)
			printf("[----] %s: %u regression input(s) from tests/fuzz/crashes/%s\n",
			       FUZZ_TARGET, tested - before, FUZZ_TARGET);
	}
	failing += unreadable;
	printf("[====] Synthesis: Tested: %u | Passing: %u | Failing: %u | Crashing: 0\n",
	       tested + failing, tested, failing);
	return failing ? 1 : 0;
}
