/* pathlabel.c - see pathlabel.h. */
#include "config.h"
#include "src/core/pathlabel.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void bs_path_server_label(const char *path, char *out, size_t size)
{
	/* Compared without case: IIS and Exchange write "LogFiles\\W3SVC1" and
	 * "Logging\\HttpProxy\\Owa" under the server's folder; webmail
	 * applications keep their logs in a folder of their own name. */
	static const char *const generic[] = { "log", "logs", "apache", "apache2", "httpd", "nginx", "var",
	                                       "www", "web", "access", "archive", ".", "inetpub", "logfiles",
	                                       "logging", "httpproxy", "owa", "ecp", "ews", "autodiscover",
	                                       "messagetracking", "transportroles", "roundcube", "roundcubemail",
	                                       "sogo", "horde", "squirrelmail", "zimbra", "snappymail", "rainloop" };
	out[0] = 0;
	const char *end = strrchr(path, '/');
	while (end && end > path) {
		const char *start = end - 1;
		while (start > path && start[-1] != '/')
			start--;
		size_t n = (size_t)(end - start);
		/* W3SVC<n>: one IIS web site's log folder */
		bool gen = n == 0 || (n > 5 && strncasecmp(start, "w3svc", 5) == 0 &&
		                      strspn(start + 5, "0123456789") == n - 5);
		for (size_t i = 0; i < sizeof generic / sizeof *generic && !gen; i++)
			if (strlen(generic[i]) == n && strncasecmp(start, generic[i], n) == 0)
				gen = true;
		if (!gen) {
			snprintf(out, size, "%.*s", (int)n, start);
			return;
		}
		end = start > path ? start - 1 : NULL;
	}
}
