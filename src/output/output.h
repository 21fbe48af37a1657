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

/* The one escape for text from the data, used by every writer (escape.c;
 * docs/OUTPUTS.md "Escaping"): a valid UTF-8 character that is not a control
 * is kept, a backslash becomes "\\", any other byte (C0 controls, DEL, the
 * bytes of a C1 control, bytes that are not valid UTF-8) becomes "\xHH".
 * The text written is valid UTF-8 without control characters. */
#define BS_ESC_UNIT_MAX 8 /* a C1 control: "\xc2\x9b" */
/* Escape the character or byte at s[*i] (*i < n) into out, advance *i past
 * it; returns the bytes written (at most BS_ESC_UNIT_MAX). */
size_t bs_esc_unit(const char *s, size_t n, size_t *i, char *out);
/* Escape s into out, at most cap bytes and never half a unit; returns the
 * bytes written and sets *used to the input bytes they cover (< n: cut). */
size_t bs_esc(const char *s, size_t n, char *out, size_t cap, size_t *used);
/* The reverse, for tests and readers: out needs n bytes; returns its length. */
size_t bs_unesc(const char *s, size_t n, char *out);
/* Terminal text (the summary on standard output): the same escape, to a
 * stream. Not for stderr once guarded (it escapes by itself). */
void bs_term_put(FILE *f, const char *s, size_t n);
void bs_term_puts(FILE *f, const char *s);
/* Replace stderr by a stream that escapes everything written to it (file
 * names and data inside messages), once, at the start of main. */
void bs_term_guard_stderr(void);

/* Lower-level, for tests: one CSV cell/row writer. */
struct bs_csv;
struct bs_csv *bs_csv_open(FILE *f);
void bs_csv_cell(struct bs_csv *c, const char *s, size_t n); /* guarded, quoted when needed */
void bs_csv_cellz(struct bs_csv *c, const char *s);
void bs_csv_end_row(struct bs_csv *c);
void bs_csv_close(struct bs_csv *c); /* does not close f */

#endif
