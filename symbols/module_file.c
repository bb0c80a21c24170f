// SPDX-License-Identifier: MIT
/*
 * Which file to read for a module of the traced process: see
 * module_file.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "symbols/module_file.h"

#define DELETED " (deleted)"

/* The map_files entry of @pid's first mapping of @path " (deleted)". */
static int mapped_replaced(int pid, const char *path, char *file, size_t len)
{
	char maps[64], line[4096 + 128];
	size_t plen = strlen(path);
	int found = 0;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	f = fopen(maps, "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		uint64_t start, end;
		char *name = strchr(line, '/');

		line[strcspn(line, "\n")] = 0;
		if (!name || strncmp(name, path, plen) || strcmp(name + plen, DELETED) ||
		    sscanf(line, "%" SCNx64 "-%" SCNx64, &start, &end) != 2)
			continue;
		snprintf(file, len, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, start, end);
		found = access(file, R_OK) == 0;
	}
	fclose(f);
	return found;
}

int sym_module_file(int pid, const char *path, char *file, size_t len)
{
	if (pid > 0 && path[0] == '/' && mapped_replaced(pid, path, file, len))
		return 1;
	if (pid > 0 && path[0] == '/' && access(path, R_OK) < 0)
		snprintf(file, len, "/proc/%d/root%s", pid, path);
	else
		snprintf(file, len, "%s", path);
	return 0;
}
