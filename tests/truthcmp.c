/* truthcmp - compare breachscope's results with a sample's ground truth.
 *
 * usage: truthcmp TRUTH_DIR OUT_DIR
 * Reads servers.csv and exposed_addresses.csv from both (libcsv) and prints
 * TAP: one check per server verdict, per window boundary (within 60 s), per
 * attacker-address set; precision and recall 1.0 of the exposed addresses
 * overall and per category; customer, risk and action per address. A
 * mismatch lists the missing and extra addresses (at most 20 each) as TAP
 * comments. When the truth has them (the issue 16 scenarios): the addresses
 * of each basis (observed, inferred; a TAP skip when the results have no
 * basis column) and the spam onset day (meta.csv spam_onset against the
 * timeline's spam_onset event); every tampered answer of the captures
 * (meta.csv tampered_answers_NAME against the timeline's counts). Exit
 * status 0 when every check passed, 1 otherwise, 2 on usage or unreadable
 * input.
 */
#include "config.h"
#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "src/core/common.h"
#include "tap.h"

#define WINDOW_SLACK_S 60
#define MAX_LISTED 20

struct table {
	char **cells;        /* row-major, ncols per row; row 0 is the header */
	size_t ncols, nrows, ncells, cap;
	size_t col;          /* column index of the cell being parsed */
	size_t *by_addr;     /* row numbers sorted by the address column */
	size_t addr_col;
};

static void on_field(void *s, size_t n, void *data)
{
	struct table *t = data;
	if (t->ncells == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->cells = bs_xrealloc(t->cells, t->cap * sizeof *t->cells);
	}
	const char *p = s ? s : "";
	/* Undo the spreadsheet guard ('=..., '+..., '-..., '@...). */
	if (n >= 2 && p[0] == '\'' && strchr("=+-@\t\r", p[1])) {
		p++;
		n--;
	}
	t->cells[t->ncells++] = bs_xstrndup(p, n);
	t->col++;
}

static void on_row(int c, void *data)
{
	struct table *t = data;
	(void)c;
	if (t->nrows == 0)
		t->ncols = t->col;
	/* Pad or cut ragged rows to the header's width. */
	while (t->col < t->ncols)
		on_field(NULL, 0, data);
	if (t->col > t->ncols) {
		size_t extra = t->col - t->ncols;
		for (size_t i = 0; i < extra; i++)
			free(t->cells[--t->ncells]);
	}
	t->nrows++;
	t->col = 0;
}

static bool load(const char *dir, const char *name, struct table *t)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	memset(t, 0, sizeof *t);
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		printf("# cannot open %s\n", path);
		return false;
	}
	struct csv_parser p;
	csv_init(&p, CSV_APPEND_NULL);
	char buf[65536];
	size_t n;
	bool ok = true;
	while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
		if (csv_parse(&p, buf, n, on_field, on_row, t) != n) {
			printf("# %s: %s\n", path, csv_strerror(csv_error(&p)));
			ok = false;
			break;
		}
	csv_fini(&p, on_field, on_row, t);
	csv_free(&p);
	fclose(fp);
	return ok && t->nrows > 0;
}

static const char *cell(const struct table *t, size_t row, const char *col)
{
	for (size_t c = 0; c < t->ncols; c++)
		if (strcmp(t->cells[c], col) == 0)
			return t->cells[row * t->ncols + c];
	return "";
}

static const struct table *sort_table;
static int cmp_rows(const void *a, const void *b)
{
	const struct table *t = sort_table;
	return strcmp(t->cells[*(const size_t *)a * t->ncols + t->addr_col], t->cells[*(const size_t *)b * t->ncols + t->addr_col]);
}

/* Exposed-address tables are large: index them by address. */
static void index_by_address(struct table *t)
{
	t->addr_col = SIZE_MAX;
	for (size_t c = 0; c < t->ncols; c++)
		if (strcmp(t->cells[c], "address") == 0)
			t->addr_col = c;
	if (t->addr_col == SIZE_MAX)
		return;
	t->by_addr = bs_xmalloc(t->nrows * sizeof *t->by_addr);
	for (size_t r = 1; r < t->nrows; r++)
		t->by_addr[r - 1] = r;
	sort_table = t;
	qsort(t->by_addr, t->nrows - 1, sizeof *t->by_addr, cmp_rows);
}

static long find_row(const struct table *t, const char *keycol, const char *key)
{
	if (t->by_addr && strcmp(keycol, "address") == 0) {
		size_t lo = 0, hi = t->nrows - 1;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int c = strcmp(t->cells[t->by_addr[mid] * t->ncols + t->addr_col], key);
			if (c == 0)
				return (long)t->by_addr[mid];
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return -1;
	}
	for (size_t r = 1; r < t->nrows; r++)
		if (strcmp(cell(t, r, keycol), key) == 0)
			return (long)r;
	return -1;
}

/* ISO 8601 UTC ("2007-05-04T17:31:02Z", fractions allowed) to seconds; false if empty or bad. */
static bool parse_time(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6)
		return false;
	*out = bs_time_make(y, mo, d, h, mi, sec, 0) / BS_USEC;
	return true;
}

static void check_time(const char *server, const char *col, const char *want, const char *got)
{
	int64_t tw, tg;
	bool hw = parse_time(want, &tw), hg = parse_time(got, &tg);
	if (!hw || !hg) {
		if (!ok(!hw && !hg, "%s %s: %s", server, col, hw ? want : "empty"))
			printf("#   got \"%s\", want \"%s\"\n", got, want);
		return;
	}
	int64_t diff = tg > tw ? tg - tw : tw - tg;
	if (!ok(diff <= WINDOW_SLACK_S, "%s %s within %d s of %s", server, col, WINDOW_SLACK_S, want))
		printf("#   got \"%s\" (%lld s off)\n", got, (long long)diff);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A ';'-joined set, sorted, as one canonical string. */
static char *canon_set(const char *s)
{
	char *copy = bs_xstrndup(s, strlen(s)), *items[256], *save = NULL;
	size_t n = 0;
	for (char *tok = strtok_r(copy, ";", &save); tok && n < 256; tok = strtok_r(NULL, ";", &save))
		items[n++] = tok;
	qsort(items, n, sizeof *items, cmp_str);
	char *out = bs_xmalloc(strlen(s) + 2);
	out[0] = 0;
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(out, ";");
		strcat(out, items[i]);
	}
	free(copy);
	return out;
}

static void compare_servers(const struct table *want, const struct table *got)
{
	for (size_t r = 1; r < want->nrows; r++) {
		const char *name = cell(want, r, "server");
		long g = find_row(got, "server", name);
		if (!ok(g > 0, "server %s is in servers.csv", name))
			continue;
		is_str(cell(got, (size_t)g, "verdict"), cell(want, r, "verdict"), "server %s verdict", name);
		static const char *const tcols[] = { "window_start", "window_end", "tamper_start", "tamper_end" };
		for (int k = 0; k < 4; k++)
			check_time(name, tcols[k], cell(want, r, tcols[k]), cell(got, (size_t)g, tcols[k]));
		char *ws = canon_set(cell(want, r, "attacker_ips")), *gs = canon_set(cell(got, (size_t)g, "attacker_ips"));
		is_str(gs, ws, "server %s attacker_ips", name);
		free(ws);
		free(gs);
	}
}

static const char *const categories[] = {
	"login", "addressbook", "sent_to", "received_from", "exfiltrated", "credentials_at_risk", "trojan_page_served"
};
#define NCAT 7

static bool has_cat(const char *list, const char *cat)
{
	size_t n = strlen(cat);
	for (const char *p = list; (p = strstr(p, cat)) != NULL; p += n)
		if ((p == list || p[-1] == ';') && (p[n] == 0 || p[n] == ';'))
			return true;
	return false;
}

/* Addresses of table a (with cat in the ';'-set of column col, or all if cat
 * is NULL) that b lacks. */
static size_t diff_list(const struct table *a, const struct table *b, const char *col, const char *cat, const char *label,
	bool print)
{
	size_t n = 0;
	for (size_t r = 1; r < a->nrows; r++) {
		if (cat && !has_cat(cell(a, r, col), cat))
			continue;
		long o = find_row(b, "address", cell(a, r, "address"));
		if (o > 0 && (!cat || has_cat(cell(b, (size_t)o, col), cat)))
			continue;
		if (print && n < MAX_LISTED)
			printf("#   %s %s: %s\n", label, cat ? cat : "(any)", cell(a, r, "address"));
		n++;
	}
	if (print && n > MAX_LISTED)
		printf("#   ... and %zu more %s\n", n - MAX_LISTED, label);
	return n;
}

static size_t count_cat(const struct table *t, const char *col, const char *cat)
{
	size_t n = 0;
	for (size_t r = 1; r < t->nrows; r++)
		if (!cat || has_cat(cell(t, r, col), cat))
			n++;
	return n;
}

/* Precision and recall of the addresses whose column col holds cat (all if NULL). */
static void compare_set(const struct table *want, const struct table *got, const char *col, const char *cat)
{
	size_t nw = count_cat(want, col, cat), ng = count_cat(got, col, cat);
	size_t missing = diff_list(want, got, col, cat, "missing", false), extra = diff_list(got, want, col, cat, "extra", false);
	double recall = nw ? (double)(nw - missing) / (double)nw : 1.0;
	double precision = ng ? (double)(ng - extra) / (double)ng : 1.0;
	const char *label = cat ? cat : "all categories", *pre = strcmp(col, "categories") ? col : "";
	if (!ok(precision == 1.0, "exposed addresses, %s%s%s: precision 1.0 (%zu reported)", pre, *pre ? " " : "", label, ng))
		diff_list(got, want, col, cat, "extra", true);
	if (!ok(recall == 1.0, "exposed addresses, %s%s%s: recall 1.0 (%zu expected)", pre, *pre ? " " : "", label, nw))
		diff_list(want, got, col, cat, "missing", true);
}

static bool has_col(const struct table *t, const char *col)
{
	for (size_t c = 0; c < t->ncols; c++)
		if (strcmp(t->cells[c], col) == 0)
			return true;
	return false;
}

/* The basis column (issue 16), when the truth has one: the addresses
 * observed and inferred. Results without the column: a TAP skip. */
static void compare_basis(const struct table *want, const struct table *got)
{
	static const char *const bases[] = { "observed", "inferred" };
	if (!has_col(want, "basis"))
		return;
	if (!has_col(got, "basis")) {
		ok(1, "exposed addresses, basis # SKIP the results have no basis column");
		return;
	}
	for (int b = 0; b < 2; b++)
		compare_set(want, got, "basis", bases[b]);
}

static void compare_exposed(const struct table *want, const struct table *got)
{
	compare_set(want, got, "categories", NULL);
	for (int c = 0; c < NCAT; c++)
		compare_set(want, got, "categories", categories[c]);
	compare_basis(want, got);
	for (size_t r = 1; r < want->nrows; r++) {
		const char *addr = cell(want, r, "address");
		long g = find_row(got, "address", addr);
		if (g < 0)
			continue; /* already counted as missing */
		const char *fields[] = { "customer", "risk", "action" };
		bool same = true;
		for (int k = 0; k < 3; k++)
			same &= strcmp(cell(want, r, fields[k]), cell(got, (size_t)g, fields[k])) == 0;
		if (!ok(same, "%s: customer, risk, action", addr))
			printf("#   got %s,%s,%s want %s,%s,%s\n", cell(got, (size_t)g, "customer"), cell(got, (size_t)g, "risk"),
				cell(got, (size_t)g, "action"), cell(want, r, "customer"), cell(want, r, "risk"), cell(want, r, "action"));
	}
}

static void free_table(struct table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->by_addr);
}

/* The spam onset day, when the truth's meta.csv gives one: the day of the
 * timeline's spam_onset event. */
static void compare_onset(const char *truth_dir, const char *out_dir)
{
	struct table meta, tl;
	if (!load(truth_dir, "meta.csv", &meta))
		return;
	long r = find_row(&meta, "key", "spam_onset");
	const char *want = r > 0 ? cell(&meta, (size_t)r, "value") : "";
	if (want[0]) {
		char got[16] = "";
		if (load(out_dir, "timeline.csv", &tl)) {
			long e = find_row(&tl, "event", "spam_onset");
			if (e > 0)
				snprintf(got, sizeof got, "%.10s", cell(&tl, (size_t)e, "datetime"));
			free_table(&tl);
		}
		is_str(got, want, "spam onset day (timeline event spam_onset)");
	}
	free_table(&meta);
}

/* The tampered answers of each server, when the truth's meta.csv gives
 * them (tampered_answers_NAME: the pages the captures hold with the
 * injected code): the sum of the server's tampered_content rows' counts,
 * "(N times)" (a page counts once however many references it holds). */
static void compare_tampered(const char *truth_dir, const char *out_dir)
{
	struct table meta, tl;
	if (!load(truth_dir, "meta.csv", &meta))
		return;
	struct stat sb;
	char tl_path[4096];
	snprintf(tl_path, sizeof tl_path, "%s/timeline.csv", out_dir);
	if (stat(tl_path, &sb) != 0) { /* results without a timeline (the truth itself): nothing to count */
		free_table(&meta);
		return;
	}
	bool have_tl = load(out_dir, "timeline.csv", &tl);
	static const char prefix[] = "tampered_answers_";
	for (size_t r = 1; r < meta.nrows; r++) {
		const char *key = cell(&meta, r, "key");
		if (strncmp(key, prefix, sizeof prefix - 1) != 0)
			continue;
		const char *server = key + sizeof prefix - 1;
		unsigned long long sum = 0;
		for (size_t e = 1; have_tl && e < tl.nrows; e++) {
			const char *times = strrchr(cell(&tl, e, "message"), '(');
			unsigned long long n;
			if (strcmp(cell(&tl, e, "event"), "tampered_content") == 0 &&
			    strcmp(cell(&tl, e, "server"), server) == 0 && times && sscanf(times, "(%llu times)", &n) == 1)
				sum += n;
		}
		is_int((long long)sum, atoll(cell(&meta, r, "value")), "%s: every tampered answer read (the timeline's counts)",
		       server);
	}
	if (have_tl)
		free_table(&tl);
	free_table(&meta);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: truthcmp TRUTH_DIR OUT_DIR\n");
		return 2;
	}
	struct table ws, gs, we, ge;
	bool okw = load(argv[1], "servers.csv", &ws) & load(argv[1], "exposed_addresses.csv", &we);
	if (!okw) {
		printf("Bail out! cannot read the truth in %s\n", argv[1]);
		return 2;
	}
	index_by_address(&we);
	bool okg = load(argv[2], "servers.csv", &gs);
	if (ok(okg, "servers.csv readable in %s", argv[2]))
		compare_servers(&ws, &gs);
	bool oke = load(argv[2], "exposed_addresses.csv", &ge);
	if (ok(oke, "exposed_addresses.csv readable in %s", argv[2])) {
		index_by_address(&ge);
		compare_exposed(&we, &ge);
	}
	compare_onset(argv[1], argv[2]);
	compare_tampered(argv[1], argv[2]);
	tap_done();
	free_table(&ws);
	free_table(&gs);
	free_table(&we);
	free_table(&ge);
	return tap_failed ? 1 : 0;
}
