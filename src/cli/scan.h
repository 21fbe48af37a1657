/* scan.h - read inputs into an aggregate: format detection, the text-log
 * reader or the capture engine per input, worker threads, accounting. */
#ifndef BS_SCAN_H
#define BS_SCAN_H

#include <stdio.h>
#include "src/engine/engine.h"
#include "src/input/inputs.h"
#include "src/core/tz.h"
#include "src/core/diag.h"

struct bs_scan_opts {
	int jobs;                       /* worker threads, >= 1 */
	int forced_year;                /* --year, 0 = infer */
	struct bs_tz *tz;               /* --timezone */
	bool progress;                  /* a progress line on stderr */
	FILE *warn;                     /* warnings (damage, refused inputs); NULL = none */
	const struct bs_diag *diag;     /* why records were not used (--debug); NULL = nowhere */
	struct bs_spill *spill;         /* --timeline all: every event also goes here; NULL = off */
	size_t memcap;                  /* --memcap: bytes of flow and parser state for the whole run,
	                                 * divided among the workers; 0 = the default */
};

struct bs_scan_result {
	struct bs_agg *agg;
	struct bs_input_row *rows;      /* one per input, sorted by source */
	size_t nrows;
	bool damaged;                   /* some input was damaged or truncated */
};

/* Always produces a result (a failing input is accounted, not fatal). */
void bs_scan(const struct bs_input_list *inputs, const struct bs_scan_opts *o, struct bs_scan_result *out);

#endif
