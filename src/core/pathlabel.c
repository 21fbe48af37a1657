/* pathlabel.c - see pathlabel.h. */
#include "config.h"
#include "src/core/pathlabel.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void bs_path_server_label(const char *path, char *out, size_t size)
{
	static const char *const generic[] = { "log", "logs", "apache", "apache2", "httpd", "nginx", "var",
	                                       "www", "web", "access", "archive", "." };
	out[0] = 0;
	const char *end = strrchr(path, '/');
	while (end && end > path) {
		const char *start = end - 1;
		while (start > path && start[-1] != '/')
			start--;
		size_t n = (size_t)(end - start);
		bool gen = n == 0;
		for (size_t i = 0; i < sizeof generic / sizeof *generic && !gen; i++)
			if (strlen(generic[i]) == n && strncmp(start, generic[i], n) == 0)
				gen = true;
		if (!gen) {
			snprintf(out, size, "%.*s", (int)n, start);
			return;
		}
		end = start > path ? start - 1 : NULL;
	}
}
