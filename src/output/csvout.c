/* csvout.c - one RFC 4180 cell and row writer over a FILE.
 *
 * Quoting is libcsv's (csv_fwrite) and happens only for a cell that needs it,
 * so ordinary cells stay readable by line tools. Every cell, whatever column
 * it is in, goes through the same formula-injection guard: a spreadsheet
 * must never execute attacker text such as a user name "=HYPERLINK(...)".
 * Before both, the cell is escaped (escape.c): no control character and no
 * invalid UTF-8 reaches a file, whatever column the text is in. */
#include "config.h"
#include "src/output/output.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>

/* Spreadsheets hold at most 32767 characters in a cell and the notification
 * pipeline has no use for more: longer attacker text (a 1 MB URL) is cut,
 * after escaping, between two characters or escapes, and the cut is counted. */
#define BS_CSV_CELL_MAX 32000

struct bs_csv {
	FILE *f;
	bool in_row;         /* a cell was already written on this row */
	char *scratch;       /* "'" + the escaped cell */
	size_t scratch_cap;  /* grows to the longest escaped cell once, then reused */
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

void bs_csv_cell(struct bs_csv *c, const char *s, size_t n)
{
	if (c->in_row)
		fputc(',', c->f);
	c->in_row = true;
	if (!s || n == 0)
		return;
	/* Escape first (escape.c): the cell becomes valid UTF-8 without control
	 * characters, cut at BS_CSV_CELL_MAX bytes between two whole characters
	 * or escapes. The guard and the quoting then see the escaped text. Each
	 * input byte gives at most 4 bytes; scratch[0] is kept for the guard. */
	size_t cap = n > BS_CSV_CELL_MAX / 4 ? BS_CSV_CELL_MAX : 4 * n;
	if (c->scratch_cap < cap + 1) {
		c->scratch_cap = cap + 1 > 256 ? cap + 1 : 256;
		c->scratch = bs_xrealloc(c->scratch, c->scratch_cap);
	}
	size_t used;
	char *text = c->scratch + 1;
	size_t len = bs_esc(s, n, text, cap, &used);
	if (used < n)
		c->cells_cut++;
	n = len;
	bool guard = starts_formula(text, n);
	if (guard) {
		text--;
		text[0] = '\'';
		n++;
	}
	if (needs_quoting(text + guard, n - guard, guard))
		csv_fwrite(c->f, text, n);
	else
		fwrite(text, 1, n, c->f);
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
