/* content.h - classifiers of content carried by a stream: facts about bytes
 * that only the parser holds.
 *
 * The engine sees events, never a body, so whatever it needs to know about a
 * body has to be found while the parser still has the bytes, and travels in
 * the event as a fact (bs_ev_http.cmd_output). These functions say what
 * content looks like; they decide nothing about a server or an attack: what
 * such a fact means is the engine's business (src/engine/agg.c, correlate.c).
 */
#ifndef BS_CONTENT_H
#define BS_CONTENT_H

#include "src/core/common.h"

/* Does the start of a body (the first BS_HTTP_SNIFF_MAX decoded bytes of an
 * HTTP response) look like the output of a shell command run through a web
 * shell: id (uid=N(...) gid=), /etc/passwd (root:x:0:0:), cmd.exe's dir,
 * ls -l (two permission lines, or "total N" and one), uname -a (GNU/Linux)?
 * A cheap check, meant for a KB. */
bool bs_content_is_shell_output(const char *s, size_t n);
/* Tests only: true makes it take its SSE2 path on a CPU with AVX2 too. */
extern bool bs_content_avx2_off;

#endif
