/* test_csv.c - the CSV cell writer: quoting through libcsv, the formula
 * guard, and a round trip through libcsv's own reader (csv_parse), which is
 * what a consumer of the files will do. */
#include "config.h"
#include "src/output/output.h"
#include "tap.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>

/* Write one row of cells into memory and return the bytes (caller frees). */
static char *write_row(const char *const *cells, const size_t *lens, size_t n, size_t *outlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct bs_csv *c = bs_csv_open(f);
	for (size_t i = 0; i < n; i++)
		bs_csv_cell(c, cells[i], lens ? lens[i] : strlen(cells[i]));
	bs_csv_end_row(c);
	bs_csv_close(c);
	fclose(f);
	*outlen = len;
	return buf;
}

static char *write_one(const char *cell, size_t n, size_t *outlen)
{
	const char *cells[] = { cell };
	size_t lens[] = { n };
	return write_row(cells, lens, 1, outlen);
}

/* the bytes written for one cell (a C string) are exactly want */
static void expect_written(const char *cell, const char *want, const char *what)
{
	size_t len;
	char *out = write_one(cell, strlen(cell), &len);
	is_str(out, want, "%s", what);
	free(out);
}

/* The fields libcsv's reader gives back. */
struct parsed {
	char *field[16];
	size_t len[16];
	size_t nfields, nrows;
};

static void on_field(void *s, size_t n, void *data)
{
	struct parsed *p = data;
	if (p->nfields < 16) {
		p->field[p->nfields] = malloc(n + 1);
		if (n)
			memcpy(p->field[p->nfields], s, n);
		p->field[p->nfields][n] = 0;
		p->len[p->nfields] = n;
	}
	p->nfields++;
}

static void on_row(int term, void *data)
{
	(void)term;
	((struct parsed *)data)->nrows++;
}

static void parse_back(const char *buf, size_t len, struct parsed *p)
{
	struct csv_parser cp;
	memset(p, 0, sizeof *p);
	csv_init(&cp, CSV_STRICT | CSV_STRICT_FINI);
	size_t used = csv_parse(&cp, buf, len, on_field, on_row, p);
	is_int(used, len, "libcsv parses the whole output (%s)", csv_strerror(csv_error(&cp)));
	is_int(csv_fini(&cp, on_field, on_row, p), 0, "libcsv strict reader accepts the output");
	csv_free(&cp);
}

static void free_parsed(struct parsed *p)
{
	for (size_t i = 0; i < p->nfields && i < 16; i++)
		free(p->field[i]);
}

/* write cell, read it back: one field, one row, value want */
static void round_trip(const char *cell, size_t n, const char *want_bytes, size_t want_n, const char *what)
{
	size_t len;
	char *out = write_one(cell, n, &len);
	struct parsed p;
	parse_back(out, len, &p);
	is_int(p.nrows, 1, "%s: one row", what);
	is_int(p.nfields, 1, "%s: one field", what);
	ok(p.nfields >= 1 && p.len[0] == want_n && memcmp(p.field[0], want_bytes, want_n) == 0,
	   "%s: value read back as intended", what);
	ok(len > 0 && out[len - 1] == '\n' && (len < 2 || out[len - 2] != '\r'), "%s: row ends with LF only", what);
	free_parsed(&p);
	free(out);
}

/* cell as given, bytes expected, what it shows */
static const struct { const char *cell, *want, *what; } written_cases[] = {
	{ "alice@example.net", "alice@example.net\n", "a plain cell is written as is, unquoted" },
	{ "a,b", "\"a,b\"\n", "a comma is quoted" },
	{ "say \"hi\"", "\"say \"\"hi\"\"\"\n", "a quote is doubled inside quotes" },
	{ "two\nlines", "\"two\nlines\"\n", "a newline is quoted" },
	{ " padded", "\" padded\"\n", "a leading space is quoted" },
	{ "padded ", "\"padded \"\n", "a trailing space is quoted" },
	{ "", "\n", "an empty cell is empty" },
	{ "=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"\n", "guard applied before quoting" },
	{ "=1+2", "'=1+2\n", "= gets a leading quote" },
	{ "+1", "'+1\n", "+ gets a leading quote" },
	{ "-2", "'-2\n", "- gets a leading quote" },
	{ "@SUM(A1)", "'@SUM(A1)\n", "@ gets a leading quote" },
	{ "\tcmd", "'\tcmd\n", "tab gets a leading quote" },
	{ "\t", "\"'\t\"\n", "a lone tab is guarded, then quoted for its trailing blank" },
	{ "x\t", "\"x\t\"\n", "a trailing tab is quoted" },
	{ "\rcmd", "\"'\rcmd\"\n", "CR gets a leading quote, then quoting" },
	{ "a=b", "a=b\n", "= not at the start is left alone" },
	{ "2007-05-04T17:31:02Z", "2007-05-04T17:31:02Z\n", "a time is untouched" },
	{ "2001:db8::1", "2001:db8::1\n", "an IPv6 address is untouched" },
};

static void test_written_cells(void)
{
	for (size_t i = 0; i < sizeof written_cases / sizeof written_cases[0]; i++)
		expect_written(written_cases[i].cell, written_cases[i].want, written_cases[i].what);
	const char *cells[] = { "a", "", "c" };
	size_t len;
	char *out = write_row(cells, NULL, 3, &len);
	is_str(out, "a,,c\n", "cells are comma separated, empty ones kept");
	free(out);
}

static void test_round_trips(void)
{
	round_trip("a,b", 3, "a,b", 3, "comma");
	round_trip("say \"hi\"", 8, "say \"hi\"", 8, "quotes");
	round_trip("line1\nline2\r\nline3", 18, "line1\nline2\r\nline3", 18, "newlines");
	round_trip("=cmd|' /C calc'!A0", 18, "'=cmd|' /C calc'!A0", 19, "formula =");
	round_trip("-1,\"x\"", 6, "'-1,\"x\"", 7, "formula - with comma and quotes");
	round_trip("@x\ny", 4, "'@x\ny", 5, "formula @ with newline");
	round_trip("+ spaced ", 9, "'+ spaced ", 10, "formula + with trailing space");
	round_trip("\r\n", 2, "'\r\n", 3, "CR LF alone");
	round_trip("caf\xc3\xa9 \xe2\x82\xac,\xf0\x9f\x93\xa7", 15, "caf\xc3\xa9 \xe2\x82\xac,\xf0\x9f\x93\xa7", 15, "UTF-8 bytes");
	round_trip("bad\xff\xfeutf8", 9, "bad\xff\xfeutf8", 9, "invalid UTF-8 passed as bytes");
	round_trip("nul\0inside,", 11, "nul\0inside,", 11, "NUL byte inside");
}

static void test_many_cells_round_trip(void)
{
	const char *cells[] = { "web3", "=1", "a,b", "x\"y", "", "line\nbreak", "-", "@", " s " };
	size_t n = sizeof cells / sizeof cells[0];
	const char *want[] = { "web3", "'=1", "a,b", "x\"y", "", "line\nbreak", "'-", "'@", " s " };
	size_t len;
	char *out = write_row(cells, NULL, n, &len);
	struct parsed p;
	parse_back(out, len, &p);
	is_int(p.nrows, 1, "mixed row: one row");
	is_int(p.nfields, n, "mixed row: every field");
	for (size_t i = 0; i < n && i < p.nfields; i++)
		is_str(p.field[i], want[i], "mixed row: field %zu", i);
	free_parsed(&p);
	free(out);
}

static void test_long_cell(void)
{
	/* A 1 MB attacker URL of 2-byte characters: cut, on a character boundary. */
	size_t n = 1 << 20;
	char *big = malloc(n);
	for (size_t i = 0; i < n; i += 2) {
		big[i] = (char)0xc3;
		big[i + 1] = (char)0xa9;
	}
	size_t len;
	char *out = write_one(big, n, &len);
	ok(len > 1000 && len <= 32001 + 1, "a 1 MB cell is cut (%zu bytes)", len);
	ok((len - 1) % 2 == 0, "the cut does not split a UTF-8 character");
	ok(len >= 2 && (unsigned char)out[len - 2] == 0xa9, "the cell ends on a complete character");
	free(out);
	big[0] = '=';
	big[1] = ',';
	out = write_one(big, n, &len);
	struct parsed p;
	parse_back(out, len, &p);
	is_int(p.nfields, 1, "a cut, guarded and quoted long cell is still one field");
	ok(p.nfields == 1 && p.field[0][0] == '\'' && p.field[0][1] == '=', "the long cell keeps its guard");
	free_parsed(&p);
	free(out);
	free(big);
}

/* Random cells of every byte, weighted to the ones that matter (separators,
 * quotes, line ends, formula starters, spaces, NUL): a row of them must read
 * back through libcsv as the guarded cells, every time. */
static void test_random_round_trips(void)
{
	static const char special[] = ",\"\r\n=+-@\t '\0";
	unsigned seed = 12345;
	int bad = 0, rows = 0;
	for (int row = 0; row < 400; row++) {
		char cells[5][24];
		size_t lens[5];
		const char *ptrs[5];
		for (int k = 0; k < 5; k++) {
			seed = seed * 1103515245u + 12345u;
			lens[k] = (seed >> 16) % 24;
			for (size_t i = 0; i < lens[k]; i++) {
				seed = seed * 1103515245u + 12345u;
				unsigned v = seed >> 16;
				cells[k][i] = v % 3 == 0 ? special[(v >> 2) % (sizeof special - 1)] : (char)(v >> 4);
			}
			ptrs[k] = cells[k];
		}
		size_t len;
		char *out = write_row(ptrs, lens, 5, &len);
		struct parsed p;
		struct csv_parser cp;
		memset(&p, 0, sizeof p);
		csv_init(&cp, CSV_STRICT | CSV_STRICT_FINI);
		bool parsed = csv_parse(&cp, out, len, on_field, on_row, &p) == len && csv_fini(&cp, on_field, on_row, &p) == 0;
		csv_free(&cp);
		bool same = parsed && p.nrows == 1 && p.nfields == 5;
		for (int k = 0; k < 5 && same; k++) {
			bool guard = lens[k] > 0 && strchr("=+-@\t\r", cells[k][0]) && cells[k][0] != 0;
			size_t want = lens[k] + guard;
			same = p.len[k] == want && (!guard || p.field[k][0] == '\'') &&
			       memcmp(p.field[k] + guard, cells[k], lens[k]) == 0;
		}
		if (!same && bad < 3) {
			printf("# row %d not read back:", row);
			for (size_t i = 0; i < len; i++)
				printf(" %02x", (unsigned char)out[i]);
			printf("\n");
		}
		bad += !same;
		rows++;
		free_parsed(&p);
		free(out);
	}
	is_int(bad, 0, "%d random rows of hostile bytes read back as written (guarded)", rows);
}

int main(void)
{
	test_written_cells();
	test_round_trips();
	test_many_cells_round_trip();
	test_long_cell();
	test_random_round_trips();
	return tap_done();
}
