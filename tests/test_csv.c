/* test_csv.c - the CSV cell writer: quoting through libcsv, the formula
 * guard, and a round trip through libcsv's own reader (csv_parse), which is
 * what a consumer of the files will do. */
#include "config.h"
#include "src/output/output.h"
#include "tap.h"

#include <csv.h>
#include <stdbool.h>
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

/* Valid UTF-8 without a control character (C0, DEL, C1): decoded code point
 * by code point, independently of escape.c's table. */
static bool clean_utf8(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		if (len == 0 || i + len > n)
			return false;
		unsigned cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		static const unsigned min[] = { 0, 0, 0x80, 0x800, 0x10000 };
		if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return false;
		i += len;
	}
	return true;
}

/* cell as given, bytes expected, what it shows */
static const struct { const char *cell, *want, *what; } written_cases[] = {
	{ "alice@example.net", "alice@example.net\n", "a plain cell is written as is, unquoted" },
	{ "a,b", "\"a,b\"\n", "a comma is quoted" },
	{ "say \"hi\"", "\"say \"\"hi\"\"\"\n", "a quote is doubled inside quotes" },
	{ "two\nlines", "two\\x0alines\n", "a newline is escaped (no quoting needed)" },
	{ " padded", "\" padded\"\n", "a leading space is quoted" },
	{ "padded ", "\"padded \"\n", "a trailing space is quoted" },
	{ "", "\n", "an empty cell is empty" },
	{ "=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"\n", "guard applied before quoting" },
	{ "=1+2", "'=1+2\n", "= gets a leading quote" },
	{ "+1", "'+1\n", "+ gets a leading quote" },
	{ "-2", "'-2\n", "- gets a leading quote" },
	{ "@SUM(A1)", "'@SUM(A1)\n", "@ gets a leading quote" },
	{ "\tcmd", "\\x09cmd\n", "a leading tab is escaped: nothing left to guard" },
	{ "\t", "\\x09\n", "a lone tab is escaped" },
	{ "x\t", "x\\x09\n", "a trailing tab is escaped" },
	{ "\rcmd", "\\x0dcmd\n", "a leading CR is escaped" },
	{ "a=b", "a=b\n", "= not at the start is left alone" },
	{ "2007-05-04T17:31:02Z", "2007-05-04T17:31:02Z\n", "a time is untouched" },
	{ "2001:db8::1", "2001:db8::1\n", "an IPv6 address is untouched" },
	/* the escape (escape.c) */
	{ "C:\\temp", "C:\\\\temp\n", "a backslash is doubled" },
	{ "\\x1b", "\\\\x1b\n", "a literal \\x1b in the data stays distinguishable from an escape" },
	{ "\x1b]0;owned\x07", "\\x1b]0;owned\\x07\n", "a terminal title sequence (ESC ] 0 ; ... BEL) is escaped" },
	{ "\x1b[31mred", "\\x1b[31mred\n", "an ANSI colour sequence is escaped" },
	{ "back\bspace", "back\\x08space\n", "BS is escaped" },
	{ "del\x7f", "del\\x7f\n", "DEL is escaped" },
	{ "bad\xff\xfeutf8", "bad\\xff\\xfeutf8\n", "0xff 0xfe are escaped" },
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7\n", "valid 2-, 3- and 4-byte characters are kept" },
	{ "\xc2\xa0nbsp", "\xc2\xa0nbsp\n", "U+00A0, the first character after the C1 controls, is kept" },
	{ "\xc2\x9b" "31m", "\\xc2\\x9b31m\n", "a C1 control (U+009B CSI) is escaped" },
	{ "\xc2\x80\xc2\x9f", "\\xc2\\x80\\xc2\\x9f\n", "U+0080 and U+009F are escaped" },
	{ "\xc0\xaf", "\\xc0\\xaf\n", "an overlong '/' (C0 AF) is escaped" },
	{ "\xc1\xbf", "\\xc1\\xbf\n", "an overlong 2-byte form (C1) is escaped" },
	{ "\xe0\x80\xaf", "\\xe0\\x80\\xaf\n", "an overlong 3-byte '/' is escaped" },
	{ "\xe0\x9f\xbf", "\\xe0\\x9f\\xbf\n", "the largest overlong 3-byte form is escaped" },
	{ "\xe0\xa0\x80", "\xe0\xa0\x80\n", "U+0800, the smallest 3-byte character, is kept" },
	{ "\xf0\x80\x80\xaf", "\\xf0\\x80\\x80\\xaf\n", "an overlong 4-byte '/' is escaped" },
	{ "\xf0\x8f\xbf\xbf", "\\xf0\\x8f\\xbf\\xbf\n", "the largest overlong 4-byte form is escaped" },
	{ "\xf0\x90\x80\x80", "\xf0\x90\x80\x80\n", "U+10000 is kept" },
	{ "\xed\xa0\x80", "\\xed\\xa0\\x80\n", "a high surrogate (U+D800) is escaped" },
	{ "\xed\xbf\xbf", "\\xed\\xbf\\xbf\n", "a low surrogate (U+DFFF) is escaped" },
	{ "\xed\x9f\xbf", "\xed\x9f\xbf\n", "U+D7FF, below the surrogates, is kept" },
	{ "\xee\x80\x80", "\xee\x80\x80\n", "U+E000, above the surrogates, is kept" },
	{ "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf\n", "U+10FFFF is kept" },
	{ "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80\n", "above U+10FFFF is escaped" },
	{ "\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80\n", "lead byte F5 is escaped" },
	{ "\xf8\x88\x80\x80\x80", "\\xf8\\x88\\x80\\x80\\x80\n", "a 5-byte form is escaped" },
	{ "\x80x", "\\x80x\n", "a lone continuation byte is escaped" },
	{ "\xe2\x82", "\\xe2\\x82\n", "a sequence cut at the end of the cell is escaped" },
	{ "\xe2\x82x\xc3\xa9", "\\xe2\\x82x\xc3\xa9\n", "a cut sequence is escaped, the character after it kept" },
	{ "\xef\xbf\xbe", "\xef\xbf\xbe\n", "a noncharacter (U+FFFE) is valid UTF-8: kept" },
	{ "=\x1b", "'=\\x1b\n", "the guard holds on the escaped text" },
	{ "-\xff,", "\"'-\\xff,\"\n", "guard, escape and quoting together" },
	{ "\x1b=", "\\x1b=\n", "an escaped first byte is not a formula" },
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
	round_trip("line1\nline2\r\nline3", 18, "line1\\x0aline2\\x0d\\x0aline3", 27, "newlines escaped");
	round_trip("=cmd|' /C calc'!A0", 18, "'=cmd|' /C calc'!A0", 19, "formula =");
	round_trip("-1,\"x\"", 6, "'-1,\"x\"", 7, "formula - with comma and quotes");
	round_trip("@x\ny", 4, "'@x\\x0ay", 8, "formula @ with newline");
	round_trip("+ spaced ", 9, "'+ spaced ", 10, "formula + with trailing space");
	round_trip("\r\n", 2, "\\x0d\\x0a", 8, "CR LF alone");
	round_trip("caf\xc3\xa9 \xe2\x82\xac,\xf0\x9f\x93\xa7", 14, "caf\xc3\xa9 \xe2\x82\xac,\xf0\x9f\x93\xa7", 14, "UTF-8 bytes");
	round_trip("bad\xff\xfeutf8", 9, "bad\\xff\\xfeutf8", 15, "invalid UTF-8 escaped");
	round_trip("nul\0inside,", 11, "nul\\x00inside,", 14, "NUL byte inside escaped, the cell not cut there");
}

static void test_many_cells_round_trip(void)
{
	const char *cells[] = { "web3", "=1", "a,b", "x\"y", "", "line\nbreak", "-", "@", " s " };
	size_t n = sizeof cells / sizeof cells[0];
	const char *want[] = { "web3", "'=1", "a,b", "x\"y", "", "line\\x0abreak", "'-", "'@", " s " };
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
			/* the guard is decided on the escaped text: tab and CR are
			 * escaped, so only = + - @ can still lead */
			bool guard = lens[k] > 0 && cells[k][0] != 0 && strchr("=+-@", cells[k][0]);
			char back[24 * 4];
			size_t nback = p.len[k] >= (size_t)guard ? bs_unesc(p.field[k] + guard, p.len[k] - guard, back) : 0;
			same = (!guard || p.field[k][0] == '\'') && clean_utf8(p.field[k], p.len[k]) &&
			       nback == lens[k] && memcmp(back, cells[k], lens[k]) == 0;
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
	is_int(bad, 0, "%d random rows of hostile bytes read back as valid UTF-8 without controls, "
	       "and unescape to the bytes written (guarded)", rows);
}

/* Escape s, check the text is clean and unescapes to s. */
static bool esc_round(const char *s, size_t n)
{
	char out[64], back[64];
	size_t used;
	size_t w = bs_esc(s, n, out, sizeof out, &used);
	return used == n && clean_utf8(out, w) && bs_unesc(out, w, back) == n && memcmp(back, s, n) == 0;
}

static void test_escape_exhaustive(void)
{
	/* every byte alone: printable ASCII but the backslash kept, the rest \xHH */
	int bad = 0;
	for (int b = 0; b < 256; b++) {
		char in = (char)b, out[16], want[8];
		size_t used, w = bs_esc(&in, 1, out, sizeof out, &used);
		if (b >= 0x20 && b < 0x7f && b != '\\')
			snprintf(want, sizeof want, "%c", b);
		else if (b == '\\')
			snprintf(want, sizeof want, "\\\\");
		else
			snprintf(want, sizeof want, "\\x%02x", b);
		if (used != 1 || w != strlen(want) || memcmp(out, want, w) != 0) {
			if (bad++ < 3)
				printf("#   byte %02x written as \"%.*s\"\n", b, (int)w, out);
		}
	}
	is_int(bad, 0, "each of the 256 bytes alone: kept only when printable ASCII other than \\, else \\xHH or \\\\");
	/* every 2-byte sequence: clean, reversible; the valid non-control ones kept */
	int unclean = 0, lost = 0;
	for (int a = 0; a < 256; a++)
		for (int b = 0; b < 256; b++) {
			char in[2] = { (char)a, (char)b }, out[16];
			size_t used, w = bs_esc(in, 2, out, sizeof out, &used);
			unclean += !esc_round(in, 2);
			bool valid = a >= 0xc2 && a <= 0xdf && b >= 0x80 && b <= 0xbf && !(a == 0xc2 && b < 0xa0);
			if (valid)
				lost += !(w == 2 && memcmp(out, in, 2) == 0);
		}
	is_int(unclean, 0, "all 65536 two-byte cells: valid UTF-8 without controls, unescaped back to the bytes");
	is_int(lost, 0, "every valid 2-byte character U+00A0..U+07FF is kept as it is");
	/* every 3-byte sequence with a lead byte E0..EF: surrogates and overlongs
	 * escaped, the rest kept */
	unclean = lost = 0;
	int kept = 0;
	for (int a = 0xe0; a <= 0xef; a++)
		for (int b = 0x80; b <= 0xbf; b++)
			for (int c = 0x70; c <= 0xc0; c++) {
				char in[3] = { (char)a, (char)b, (char)c }, out[32];
				size_t used, w = bs_esc(in, 3, out, sizeof out, &used);
				unclean += !esc_round(in, 3);
				unsigned cp = (unsigned)(a & 0x0f) << 12 | (unsigned)(b & 0x3f) << 6 | (unsigned)(c & 0x3f);
				bool valid = c >= 0x80 && c <= 0xbf && cp >= 0x800 && !(cp >= 0xd800 && cp <= 0xdfff);
				bool same = w == 3 && memcmp(out, in, 3) == 0;
				lost += valid != same;
				kept += same;
			}
	is_int(unclean, 0, "3-byte cells (lead E0..EF): clean and reversible");
	is_int(lost, 0, "3-byte cells: kept exactly when a valid character (%d kept)", kept);
	/* random 4-byte cells weighted to lead bytes F0..F7 */
	unsigned seed = 777;
	unclean = lost = 0;
	for (int t = 0; t < 200000; t++) {
		unsigned char in[4];
		for (int k = 0; k < 4; k++) {
			seed = seed * 1103515245u + 12345u;
			unsigned v = seed >> 16;
			in[k] = k == 0 ? (unsigned char)(0xf0 | (v & 7)) : (unsigned char)(0x70 + v % 0x60);
		}
		char out[64];
		size_t used, w = bs_esc((char *)in, 4, out, sizeof out, &used);
		unclean += !esc_round((char *)in, 4);
		bool cont = (in[1] & 0xc0) == 0x80 && (in[2] & 0xc0) == 0x80 && (in[3] & 0xc0) == 0x80;
		unsigned cp = (unsigned)(in[0] & 7) << 18 | (unsigned)(in[1] & 0x3f) << 12 | (unsigned)(in[2] & 0x3f) << 6 |
		              (unsigned)(in[3] & 0x3f);
		bool valid = in[0] <= 0xf4 && cont && cp >= 0x10000 && cp <= 0x10ffff;
		lost += valid != (w == 4 && memcmp(out, in, 4) == 0);
	}
	is_int(unclean, 0, "200000 random 4-byte cells: clean and reversible");
	is_int(lost, 0, "4-byte cells: kept exactly when U+10000..U+10FFFF");
}

static void test_escaped_cut(void)
{
	/* 1 MB of control bytes: 4 bytes each once escaped; the cut keeps whole escapes */
	size_t n = 1 << 20;
	char *big = malloc(n);
	memset(big, 0x1b, n);
	big[0] = '\\';
	size_t len;
	char *out = write_one(big, n, &len);
	ok(len > 1000 && len <= 32000 + 1, "a 1 MB cell of ESC bytes is cut (%zu bytes)", len);
	ok(len >= 6 && memcmp(out + len - 5, "\\x1b\n", 5) == 0 && (len - 3) % 4 == 0,
	   "the cut falls between two whole escapes");
	ok(clean_utf8(out, len - 1), "the cut cell is clean");
	free(out);
	free(big);
}

int main(void)
{
	test_written_cells();
	test_round_trips();
	test_many_cells_round_trip();
	test_long_cell();
	test_random_round_trips();
	test_escape_exhaustive();
	test_escaped_cut();
	return tap_done();
}
