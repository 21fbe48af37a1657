/* output.h - the writers: the four CSV files, report.html and the summary.
 *
 * Every file is written to a temporary name in the output directory (mode
 * 0600) and renamed into place, so a reader never sees half a file. Cells are
 * quoted by libcsv when needed and guarded against formula injection. */
#ifndef BS_OUTPUT_H
#define BS_OUTPUT_H

#include <stdio.h>
#include "src/core/result.h"
#include "src/output/geoip.h"

/* Check that dir exists or can be created and is writable, before any work.
 * Returns false with a message in err. */
bool bs_output_prepare(const char *dir, char *err, size_t errlen);
/* Write all result files into dir, replacing older results whole: every file
 * is first written to a temporary name, then all are renamed, and result
 * files of an earlier run that this run does not write are removed. */
bool bs_output_write_all(const char *dir, const struct bs_results *r, struct bs_geoip *geo,
                         char *err, size_t errlen);
/* The short plain verdict for standard output. */
void bs_output_summary(FILE *out, const char *dir, const struct bs_results *r, struct bs_geoip *geo);

/* report.html into an open stream (used by bs_output_write_all). */
bool bs_report_write(FILE *f, const struct bs_results *r, struct bs_geoip *geo);

/* Lower-level, for tests: one CSV cell/row writer. */
struct bs_csv;
struct bs_csv *bs_csv_open(FILE *f);
void bs_csv_cell(struct bs_csv *c, const char *s, size_t n); /* guarded, quoted when needed */
void bs_csv_cellz(struct bs_csv *c, const char *s);
void bs_csv_end_row(struct bs_csv *c);
void bs_csv_close(struct bs_csv *c); /* does not close f */

#endif
