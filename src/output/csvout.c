/* csvout.c - one RFC 4180 cell and row writer over a FILE.
 *
 * Quoting is libcsv's (csv_fwrite) and happens only for a cell that needs it,
 * so ordinary cells stay readable by line tools. Every cell, whatever column
 * it is in, goes through the same formula-injection guard: a spreadsheet
 * must never execute attacker text such as a user name "=HYPERLINK(...)". */
#include "config.h"
#include "src/output/output.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>

/* Spreadsheets hold at most 32767 characters in a cell and the notification
 * pipeline has no use for more: longer attacker text (a 1 MB URL) is cut at
 * a UTF-8 character boundary and the cut is counted. */
#define BS_CSV_CELL_MAX 32000

struct bs_csv {
	FILE *f;
	bool in_row;         /* a cell was already written on this row */
	char *scratch;       /* "'" + cell, for a guarded cell that also needs quoting */
	size_t scratch_cap;  /* grows to the longest such cell once, then reused */
	uint64_t cells_cut;
};

struct bs_csv *bs_csv_open(FILE *f)
{
	struct bs_csv *c = bs_xcalloc(1, sizeof *c);
	c->f = f;
	return c;
}

static bool starts_formula(const char *s, size_t n)
{
	if (n == 0)
		return false;
	switch (s[0]) {
	case '=': case '+': case '-': case '@': case '\t': case '\r':
		return true;
	default:
		return false;
	}
}

/* Whether the cell as written (after the guard's "'", if any) needs quotes. */
static bool needs_quoting(const char *s, size_t n, bool guarded)
{
	if (n == 0)
		return false;
	/* Readers (libcsv among them) trim blanks around an unquoted field. */
	if ((!guarded && (s[0] == ' ' || s[0] == '\t')) || s[n - 1] == ' ' || s[n - 1] == '\t')
		return true;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return true;
	return false;
}

/* Length of s cut to at most max bytes without splitting a UTF-8 sequence. */
static size_t cut_utf8(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	size_t k = max;
	/* step back over at most 3 continuation bytes to a lead byte and drop
	 * that incomplete character */
	for (int back = 0; back < 4 && k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80; back++)
		k--;
	return k;
}

void bs_csv_cell(struct bs_csv *c, const char *s, size_t n)
{
	if (c->in_row)
		fputc(',', c->f);
	c->in_row = true;
	if (!s || n == 0)
		return;
	if (n > BS_CSV_CELL_MAX) {
		n = cut_utf8(s, n, BS_CSV_CELL_MAX);
		c->cells_cut++;
	}
	bool guard = starts_formula(s, n);
	if (!needs_quoting(s, n, guard)) {
		if (guard)
			fputc('\'', c->f);
		fwrite(s, 1, n, c->f);
		return;
	}
	if (!guard) {
		csv_fwrite(c->f, s, n);
		return;
	}
	if (c->scratch_cap < n + 1) {
		c->scratch_cap = n + 1 > 256 ? n + 1 : 256;
		c->scratch = bs_xrealloc(c->scratch, c->scratch_cap);
	}
	c->scratch[0] = '\'';
	memcpy(c->scratch + 1, s, n);
	csv_fwrite(c->f, c->scratch, n + 1);
}

void bs_csv_cellz(struct bs_csv *c, const char *s)
{
	bs_csv_cell(c, s, s ? strlen(s) : 0);
}

void bs_csv_end_row(struct bs_csv *c)
{
	fputc('\n', c->f);
	c->in_row = false;
}

void bs_csv_close(struct bs_csv *c)
{
	if (!c)
		return;
	if (c->cells_cut)
		fprintf(stderr, "breachscope: %llu CSV cell(s) longer than %d bytes were cut\n",
		        (unsigned long long)c->cells_cut, BS_CSV_CELL_MAX);
	free(c->scratch);
	free(c);
}
