/* stats.h - per-input accounting: every line or packet is counted once, as
 * parsed, ignored or malformed. */
#ifndef BS_STATS_H
#define BS_STATS_H

#include "src/core/common.h"

enum bs_verdict { BS_PARSED = 0, BS_IGNORED, BS_MALFORMED };

struct bs_input_stats {
	uint64_t bytes;     /* bytes of the file as stored (compressed size for gzip) */
	uint64_t records, parsed, ignored, malformed;
	bool truncated;     /* damaged or cut: the end of the input was not reached cleanly */
	uint64_t rcpts_dropped; /* recipients of its messages a parser could not keep */
	/* captures: flows closed before their end while this input was read,
	 * by the flow-table cap or the memory cap (--memcap), and of those by
	 * the memory cap. Not columns of input_stats.csv (fixed by the brief):
	 * the summary, the report and --debug show them. */
	uint64_t flows_evicted, flows_evicted_memcap;
	/* captures: TCP and UDP flows that began in this input, and of those
	 * the encrypted ones (TLS records or an SSH banner from the start, or
	 * turned to TLS: STARTTLS, a MySQL SSL request): what they carried
	 * cannot be read. Also not columns: the summary and the report say
	 * how much of a capture was unreadable. */
	uint64_t flows, flows_encrypted;
};

static inline void bs_stats_count(struct bs_input_stats *s, enum bs_verdict v)
{
	s->records++;
	if (v == BS_PARSED) s->parsed++;
	else if (v == BS_IGNORED) s->ignored++;
	else s->malformed++;
}

#endif
