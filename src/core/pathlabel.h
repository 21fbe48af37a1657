/* pathlabel.h - which server wrote a log, as its path says without any
 * configuration: an access log names no host in its lines, so the scan gives
 * its events this label as their host (as a syslog line carries its host),
 * and the engine maps labels to fleet servers (src/engine/fleet.c). One
 * definition for both, so that they agree. */
#ifndef BS_PATHLABEL_H
#define BS_PATHLABEL_H

#include <stddef.h>

#define BS_PATH_LABEL_SIZE 128 /* bytes of a label, with its NUL */

/* The directory holding the file, skipping generic names ("log", "apache2", IIS's
 * "LogFiles" and "W3SVC1", a webmail application's own folder,
 * "www", ...); "" when none. */
void bs_path_server_label(const char *path, char *out, size_t size);

#endif
