/* maillog.h - the text-log reader: one per text input. It frames each line
 * (syslog, Exim main log, web access log), hands it to the parser of the
 * daemon that wrote it, and says how the line was counted.
 *
 * The daemon parsers are the registry of daemons.h (postfix.c, sendmail.c,
 * exim.c, dovecot.c, courier.c, cyrus.c, amavis.c, spamd.c, weblog.c); the
 * state of those that keep one (the MTAs, bounded: queue.h) is made inside
 * struct bs_maillog at their first line.
 */
#ifndef BS_MAILLOG_H
#define BS_MAILLOG_H

#include <stdio.h>
#include "src/core/common.h"
#include "src/core/diag.h"
#include "src/core/event.h"
#include "src/core/stats.h"
#include "parsers/logs/syslog.h"

struct bs_maillog;

struct bs_maillog_opts {
	int forced_year;       /* 0: infer */
	int64_t ref_epoch;     /* reference for year inference (bs_reader_mtime) */
	struct bs_tz *tz;      /* for stamps without a zone; NULL = UTC */
	uint32_t input;        /* input index, copied into event origins */
	const struct bs_diag *diag; /* why a line is malformed (src/core/diag.h); NULL: nowhere */
};

struct bs_maillog *bs_maillog_new(const struct bs_maillog_opts *o, const struct bs_sink *sink);
/* One line (no LF). lineno is 1-based. */
enum bs_verdict bs_maillog_line(struct bs_maillog *m, const char *line, size_t len, uint64_t lineno);
/* End of input: flush open transactions (Postfix queue ids never removed,
 * ...) as events, so nothing is lost. Returns how many were flushed unfinished. */
uint64_t bs_maillog_finish(struct bs_maillog *m);
void bs_maillog_free(struct bs_maillog *m);

#endif
