/* test_output.c - the result files as SPEC.md fixes them, written by
 * bs_output_write_all from a bs_results built by hand: headers, row order,
 * values, modes, the atomic replace and its failure path, the summary and
 * the report's safety properties.
 *
 * With "--sample DIR" it only writes the sample results into DIR (used by
 * tests/test_report.sh to render report.html). */
#include "config.h"
#include "src/output/output.h"
#include "src/output/spill.h"
#include "src/core/interrupt.h"
#include "tap.h"

#include <csv.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ the sample */

static char *owned(const char *s) { return bs_xstrndup(s, strlen(s)); }

static bs_ip ip(const char *s)
{
	bs_ip a;
	bs_ip_parse(s, strlen(s), &a);
	return a;
}

#define T(y, mo, d, h, mi, s) bs_time_make(y, mo, d, h, mi, s, 0)

static void sample_server(struct bs_server_result *s, const char *name, const char *addr,
                          enum bs_server_verdict v, double score, uint64_t evidence)
{
	memset(s, 0, sizeof *s);
	s->name = owned(name);
	s->addresses = owned(addr);
	s->verdict = v;
	s->score = score;
	s->evidence = evidence;
	s->window_start = s->window_end = s->tamper_start = s->tamper_end = BS_TIME_NONE;
	s->exploit_time = BS_TIME_NONE;
	/* 16 days of hourly activity with a day/night rhythm */
	s->hist_start = T(2007, 5, 1, 0, 0, 0);
	s->hist_bin = 3600 * BS_USEC;
	s->nbins = 16 * 24;
	s->hist = bs_xcalloc(s->nbins, sizeof *s->hist);
	s->hist_attack = bs_xcalloc(s->nbins, sizeof *s->hist_attack);
	for (size_t i = 0; i < s->nbins; i++) {
		size_t hour = i % 24;
		s->hist[i] = (hour >= 8 && hour <= 20 ? 40 : 6) + (uint32_t)(i * 7 % 11);
	}
}

static void sample_timeline_row(struct bs_timeline_row *t, bs_time ts, int frac, const char *desc,
                                const char *msg, const char *event, enum bs_severity sev,
                                const char *server, const char *src, const char *dst, const char *user,
                                const char *address, uint32_t input, uint64_t ref)
{
	t->ts = ts;
	t->frac_digits = frac;
	t->timestamp_desc = owned(desc);
	t->message = owned(msg);
	t->event = owned(event);
	t->severity = sev;
	t->server = owned(server);
	t->src_ip = src ? ip(src) : (bs_ip){ 0 };
	t->dst_ip = dst ? ip(dst) : (bs_ip){ 0 };
	t->user = owned(user);
	t->address = owned(address);
	t->input = input;
	t->source_ref = ref;
}

/* A heap bs_results, as bs_correlate gives one (bs_results_free frees it). */
static struct bs_results *sample_results(void)
{
	struct bs_results *r = bs_xcalloc(1, sizeof *r);
	r->fleet_origin = owned("inventory fleet.csv");
	r->data_start = T(2007, 5, 1, 0, 0, 0);
	r->data_end = T(2007, 5, 16, 23, 59, 59);
	r->spam_onset = T(2007, 5, 13, 8, 0, 0);
	r->spam_exposed_before = 2;
	r->spam_exposed_after = 311;

	r->nservers = 4;
	r->servers = bs_xcalloc(r->nservers, sizeof *r->servers);
	/* a server name from the data that needs the guard, quoting and escaping */
	sample_server(&r->servers[0], "=web9 \"<b>x</b>\",y", "192.0.2.19", BS_V_NO_DATA, 0, 0);
	free(r->servers[0].hist);
	free(r->servers[0].hist_attack);
	r->servers[0].hist = r->servers[0].hist_attack = NULL;
	r->servers[0].nbins = 0;
	sample_server(&r->servers[1], "web1", "192.0.2.11", BS_V_CLEAN, 0, 0);
	struct bs_server_result *w2 = &r->servers[2];
	sample_server(w2, "web2", "192.0.2.12;2001:db8::12", BS_V_COMPROMISED, 17.5, 42);
	w2->window_start = T(2007, 5, 4, 17, 31, 2);
	w2->window_end = T(2007, 5, 7, 9, 12, 44);
	w2->tamper_start = T(2007, 5, 4, 18, 2, 0);
	w2->tamper_end = T(2007, 5, 10, 12, 0, 0);
	w2->signals = 1u << BS_SIG_WEBSHELL | 1u << BS_SIG_EXPLOIT_REQUEST | 1u << BS_SIG_TAMPERED_CONTENT |
	              1u << BS_SIG_EXFILTRATION | 1u << BS_SIG_DB_BULK_READ;
	w2->nattacker_ips = 2;
	w2->attacker_ips = bs_xcalloc(2, sizeof(bs_ip));
	w2->attacker_ips[0] = ip("81.2.69.142");
	w2->attacker_ips[1] = ip("2001:220::1");
	w2->exploit_time = T(2007, 5, 4, 17, 31, 2);
	w2->nexfil = 2;
	w2->exfil_times = bs_xcalloc(2, sizeof(bs_time));
	w2->exfil_times[0] = T(2007, 5, 5, 2, 0, 0);
	w2->exfil_times[1] = T(2007, 5, 6, 23, 40, 0);
	for (size_t i = 3 * 24 + 17; i < 6 * 24 + 10; i += 5)
		w2->hist_attack[i] = 3 + (uint32_t)(i % 4);
	w2->hist_attack[3 * 24 + 17] = 25;
	struct bs_server_result *w3 = &r->servers[3];
	sample_server(w3, "web3", "192.0.2.13", BS_V_SUSPICIOUS, 2.25, 3);
	w3->signals = 1u << BS_SIG_AUTH_ANOMALY | 1u << BS_SIG_FOREIGN_DESTINATION;
	w3->nattacker_ips = 2;
	w3->attacker_ips = bs_xcalloc(2, sizeof(bs_ip));
	w3->attacker_ips[0] = ip("1.128.0.1");
	w3->attacker_ips[1] = ip("81.2.69.142");

	r->nexposed = 3;
	r->exposed = bs_xcalloc(r->nexposed, sizeof *r->exposed);
	struct bs_exposed *e = r->exposed;
	e[0] = (struct bs_exposed){ owned("=cmd@example.net"), owned("example.net"), true, 1u << BS_CAT_EXFILTRATED,
		BS_RISK_MEDIUM, 1u << BS_ACT_NOTIFY, T(2007, 5, 4, 18, 0, 0), T(2007, 5, 4, 18, 0, 0), owned("web2"), 1,
		{ 0 }, NULL, BS_BASIS_OBSERVED };
	e[1] = (struct bs_exposed){ owned("alice@example.net"), owned("example.net"), true,
		1u << BS_CAT_CREDENTIALS_AT_RISK | 1u << BS_CAT_EXFILTRATED | 1u << BS_CAT_LOGIN | 1u << BS_CAT_TROJAN_PAGE_SERVED,
		BS_RISK_HIGH, 1u << BS_ACT_RESET_PASSWORD | 1u << BS_ACT_MALWARE_CHECK | 1u << BS_ACT_NOTIFY,
		T(2007, 5, 4, 18, 5, 0), T(2007, 5, 6, 10, 0, 0), owned("web2"), 7, ip("198.51.100.7"), owned("Mozilla/4.0"),
		BS_BASIS_OBSERVED };
	e[2] = (struct bs_exposed){ owned("bob@partner.example"), owned("partner.example"), false,
		1u << BS_CAT_RECEIVED_FROM | 1u << BS_CAT_SENT_TO, BS_RISK_LOW, 1u << BS_ACT_NOTIFY,
		T(2007, 4, 2, 9, 0, 0), T(2007, 5, 3, 9, 0, 0), owned("web1;web2"), 2, { 0 }, NULL, BS_BASIS_INFERRED };
	r->basis_counts[BS_BASIS_OBSERVED] = 2;
	r->basis_counts[BS_BASIS_INFERRED] = 1;
	r->risk_counts[BS_RISK_HIGH] = 1;
	r->risk_counts[BS_RISK_MEDIUM] = 1;
	r->risk_counts[BS_RISK_LOW] = 1;
	r->category_counts[BS_CAT_EXFILTRATED] = 2;
	r->category_counts[BS_CAT_CREDENTIALS_AT_RISK] = 1;
	r->category_counts[BS_CAT_LOGIN] = 1;
	r->category_counts[BS_CAT_TROJAN_PAGE_SERVED] = 1;
	r->category_counts[BS_CAT_RECEIVED_FROM] = 1;
	r->category_counts[BS_CAT_SENT_TO] = 1;

	r->ninputs = 3;
	r->inputs = bs_xcalloc(r->ninputs, sizeof *r->inputs);
	r->inputs[0] = (struct bs_input_row){ owned("/data/access.log"), owned("text"), { .bytes = 52340, .records = 400, .parsed = 380, .ignored = 15, .malformed = 5 } };
	r->inputs[1] = (struct bs_input_row){ owned("/data/capture.pcap"), owned("pcap"), { .bytes = 1048576, .records = 900, .parsed = 850, .ignored = 50, .truncated = true } };
	r->inputs[2] = (struct bs_input_row){ owned("/data/maillog.1.gz"), owned("gzip+text"), { .bytes = 20480, .records = 1000, .parsed = 700, .ignored = 290, .malformed = 10 } };

	r->ntimeline = 4;
	r->timeline = bs_xcalloc(r->ntimeline, sizeof *r->timeline);
	sample_timeline_row(&r->timeline[0], T(2007, 5, 4, 17, 20, 11) + 250000, 3, "Request Time",
	                    "GET /atmail/index.php?func=\"x\", recon", "recon", BS_SEV_ATTACK, "web2",
	                    "81.2.69.142", "192.0.2.12", "", "", 0, 1201);
	sample_timeline_row(&r->timeline[1], T(2007, 5, 4, 17, 31, 2), 0, "Request Time",
	                    "POST /atmail/compose.php (upload shell.php)", "exploit_request", BS_SEV_COMPROMISE,
	                    "web2", "81.2.69.142", "192.0.2.12", "", "", 0, 1250);
	sample_timeline_row(&r->timeline[2], T(2007, 5, 4, 18, 5, 0) + 123456, 6, "Login Time",
	                    "login\nwhile the attacker was active", "login", BS_SEV_EXPOSURE, "web2", "10.1.2.3",
	                    "192.0.2.12", "alice", "alice@example.net", 2, 0);
	sample_timeline_row(&r->timeline[3], T(2007, 5, 5, 2, 0, 0), 0, "Packet Time", "=cmd|' /C calc'!A0",
	                    "exfiltration", BS_SEV_COMPROMISE, "web2", "192.0.2.12", "2001:220::1", "", "", 1, 77);
	return r;
}

/* ------------------------------------------------------------ file access */

static char *slurp(const char *dir, const char *name, size_t *len)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = bs_xrealloc(buf, cap);
		}
		size_t got = fread(buf + n, 1, 4096, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

static void put_file(const char *dir, const char *name, const char *content)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(content, f);
		fclose(f);
	}
}

static bool exists(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return lstat(path, &st) == 0;
}

static int file_mode(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* Count entries whose name holds ".tmp." */
static int count_temps(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL)
		n += strstr(de->d_name, ".tmp.") != NULL;
	if (d)
		closedir(d);
	return n;
}

/* ------------------------------------------------------------ CSV reading */

#define MAX_ROWS 16
#define MAX_COLS 16
struct table {
	char *cell[MAX_ROWS][MAX_COLS];
	size_t ncols[MAX_ROWS];
	size_t nrows;
	size_t col;
};

static void tab_field(void *s, size_t n, void *data)
{
	struct table *t = data;
	if (t->nrows < MAX_ROWS && t->col < MAX_COLS)
		t->cell[t->nrows][t->col] = bs_xstrndup(s ? s : "", s ? n : 0);
	t->col++;
}

static void tab_row(int c, void *data)
{
	(void)c;
	struct table *t = data;
	if (t->nrows < MAX_ROWS)
		t->ncols[t->nrows] = t->col;
	t->nrows++;
	t->col = 0;
}

static bool read_table(const char *dir, const char *name, struct table *t)
{
	memset(t, 0, sizeof *t);
	size_t len;
	char *buf = slurp(dir, name, &len);
	if (!buf)
		return false;
	struct csv_parser p;
	csv_init(&p, CSV_STRICT | CSV_STRICT_FINI);
	bool ok = csv_parse(&p, buf, len, tab_field, tab_row, t) == len && csv_fini(&p, tab_field, tab_row, t) == 0;
	csv_free(&p);
	free(buf);
	return ok;
}

static void free_table(struct table *t)
{
	for (size_t r = 0; r < MAX_ROWS; r++)
		for (size_t c = 0; c < MAX_COLS; c++)
			free(t->cell[r][c]);
}

static const char *cell(const struct table *t, size_t row, size_t col)
{
	return row < MAX_ROWS && col < MAX_COLS && t->cell[row][col] ? t->cell[row][col] : "(missing)";
}

static int column(const struct table *t, const char *name)
{
	for (size_t c = 0; c < t->ncols[0] && c < MAX_COLS; c++)
		if (t->cell[0][c] && strcmp(t->cell[0][c], name) == 0)
			return (int)c;
	return -1;
}

/* ------------------------------------------------------------------ tests */

static char tmpdir[256];

static void test_prepare(void)
{
	char dir[512], err[512] = "";
	snprintf(dir, sizeof dir, "%s/new/nested/out", tmpdir);
	ok(bs_output_prepare(dir, err, sizeof err), "prepare creates a missing nested directory (%s)", err);
	is_int(file_mode(tmpdir, "new/nested/out"), 0700, "the created directory is private (0700)");
	ok(bs_output_prepare(dir, err, sizeof err), "prepare accepts an existing directory");
	is_int(count_temps(dir), 0, "prepare leaves no probe file behind");

	put_file(tmpdir, "plainfile", "x\n");
	snprintf(dir, sizeof dir, "%s/plainfile/out", tmpdir);
	err[0] = 0;
	ok(!bs_output_prepare(dir, err, sizeof err), "prepare fails below a regular file");
	ok(strstr(err, "plainfile") != NULL, "the error names the path (%s)", err);
	snprintf(dir, sizeof dir, "%s/plainfile", tmpdir);
	err[0] = 0;
	ok(!bs_output_prepare(dir, err, sizeof err), "prepare fails on a regular file");
	ok(err[0] != 0, "with a message (%s)", err);
}

static const char servers_csv[] =
	"server,address,verdict,score,window_start,window_end,tamper_start,tamper_end,signals,attacker_ips,evidence\n"
	"\"'=web9 \"\"<b>x</b>\"\",y\",192.0.2.19,no_data,0.00,,,,,,,0\n"
	"web1,192.0.2.11,clean,0.00,,,,,,,0\n"
	"web2,192.0.2.12;2001:db8::12,compromised,17.50,2007-05-04T17:31:02Z,2007-05-07T09:12:44Z,"
	"2007-05-04T18:02:00Z,2007-05-10T12:00:00Z,webshell;exploit_request;tampered_content;exfiltration;db_bulk_read,"
	"81.2.69.142;2001:220::1,42\n"
	"web3,192.0.2.13,suspicious,2.25,,,,,auth_anomaly;foreign_destination,1.128.0.1;81.2.69.142,3\n";

static const char exposed_csv[] =
	"address,domain,customer,categories,risk,action,first_seen,last_seen,servers,evidence,basis\n"
	"'=cmd@example.net,example.net,1,exfiltrated,medium,notify,2007-05-04T18:00:00Z,2007-05-04T18:00:00Z,web2,1,observed\n"
	"alice@example.net,example.net,1,credentials_at_risk;exfiltrated;login;trojan_page_served,high,"
	"reset_password;malware_check;notify,2007-05-04T18:05:00Z,2007-05-06T10:00:00Z,web2,7,observed\n"
	"bob@partner.example,partner.example,0,received_from;sent_to,low,notify,2007-04-02T09:00:00Z,"
	"2007-05-03T09:00:00Z,web1;web2,2,inferred\n";

static const char timeline_csv[] =
	"datetime,timestamp,timestamp_desc,message,event,severity,server,src_ip,src_country,src_asn,dst_ip,user,"
	"address,source,source_ref\n"
	"2007-05-04T17:20:11.250Z,1178299211250000,Request Time,\"GET /atmail/index.php?func=\"\"x\"\", recon\","
	"recon,attack,web2,81.2.69.142,,,192.0.2.12,,,/data/access.log,1201\n"
	"2007-05-04T17:31:02Z,1178299862000000,Request Time,POST /atmail/compose.php (upload shell.php),"
	"exploit_request,compromise,web2,81.2.69.142,,,192.0.2.12,,,/data/access.log,1250\n"
	"2007-05-04T18:05:00.123456Z,1178301900123456,Login Time,login\\x0awhile the attacker was active,"
	"login,exposure,web2,10.1.2.3,,,192.0.2.12,alice,alice@example.net,/data/maillog.1.gz,\n"
	"2007-05-05T02:00:00Z,1178330400000000,Packet Time,'=cmd|' /C calc'!A0,exfiltration,compromise,web2,"
	"192.0.2.12,,,2001:220::1,,,/data/capture.pcap,77\n";

static const char input_stats_csv[] =
	"source,format,bytes,records,parsed,ignored,malformed,truncated\n"
	"/data/access.log,text,52340,400,380,15,5,0\n"
	"/data/capture.pcap,pcap,1048576,900,850,50,0,1\n"
	"/data/maillog.1.gz,gzip+text,20480,1000,700,290,10,0\n";

static const char *const result_names[] = { "servers.csv", "exposed_addresses.csv", "timeline.csv",
	"input_stats.csv", "report.html" };

static void expect_file(const char *dir, const char *name, const char *want)
{
	char *got = slurp(dir, name, NULL);
	is_str(got, want, "%s: exact bytes", name);
	if (got && strcmp(got, want) != 0)
		printf("# got:\n%s", got);
	free(got);
}

static void test_write_all(const struct bs_results *r)
{
	char dir[512], err[512] = "";
	snprintf(dir, sizeof dir, "%s/out", tmpdir);
	ok(bs_output_prepare(dir, err, sizeof err), "prepare the output directory (%s)", err);
	/* an older run's results, an interrupted run's temporary, a live one's */
	put_file(dir, "servers.csv", "old,results\n");
	put_file(dir, "report.html", "<p>old</p>\n");
	put_file(dir, "timeline.csv.tmp.4194999", "half a file");
	put_file(dir, "timeline.csv.tmp.1", "a live process's temporary");
	put_file(dir, "notes.txt", "the responder's own file\n");
	err[0] = 0;
	ok(bs_output_write_all(dir, r, NULL, err, sizeof err), "write_all succeeds (%s)", err);
	for (size_t i = 0; i < sizeof result_names / sizeof result_names[0]; i++)
		is_int(file_mode(dir, result_names[i]), 0600, "%s has mode 0600", result_names[i]);
	ok(!exists(dir, "timeline.csv.tmp.4194999"), "a dead run's temporary is removed");
	ok(exists(dir, "timeline.csv.tmp.1"), "a live process's temporary is left alone");
	ok(exists(dir, "notes.txt"), "a file that is not ours is left alone");
	char path[600];
	snprintf(path, sizeof path, "%s/timeline.csv.tmp.1", dir);
	unlink(path);
	is_int(count_temps(dir), 0, "no temporary file is left");
	expect_file(dir, "servers.csv", servers_csv);
	expect_file(dir, "exposed_addresses.csv", exposed_csv);
	expect_file(dir, "timeline.csv", timeline_csv);
	expect_file(dir, "input_stats.csv", input_stats_csv);
	char *html = slurp(dir, "report.html", NULL);
	ok(html && strstr(html, "<p>old</p>") == NULL, "the older report.html is replaced whole");
	free(html);
}

/* Headers and rows read back through libcsv, as the pipeline reads them. */
static void test_read_back(const struct bs_results *r)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/out", tmpdir);
	static const char *const want_servers[] = { "server", "address", "verdict", "score", "window_start",
		"window_end", "tamper_start", "tamper_end", "signals", "attacker_ips", "evidence" };
	struct table t;
	ok(read_table(dir, "servers.csv", &t), "servers.csv parses as strict CSV");
	is_int(t.ncols[0], 11, "servers.csv: 11 columns");
	for (size_t c = 0; c < 11; c++)
		is_str(cell(&t, 0, c), want_servers[c], "servers.csv column %zu", c);
	is_int(t.nrows, 1 + r->nservers, "servers.csv: one row per server");
	is_str(cell(&t, 1, 0), "'=web9 \"<b>x</b>\",y", "a server name with a formula, quotes and a comma reads back guarded");
	for (size_t i = 1; i < t.nrows && i < MAX_ROWS; i++)
		is_int(t.ncols[i], 11, "servers.csv row %zu has every column", i);
	free_table(&t);

	ok(read_table(dir, "timeline.csv", &t), "timeline.csv parses as strict CSV");
	is_int(t.nrows, 1 + r->ntimeline, "timeline.csv: one row per event");
	is_str(cell(&t, 3, 3), "login\\x0awhile the attacker was active", "a line break in a message is escaped, "
	       "the row stays one line");
	/* Timesketch's CSV importer requires these three columns. */
	int c_msg = column(&t, "message"), c_dt = column(&t, "datetime"), c_desc = column(&t, "timestamp_desc");
	int c_ts = column(&t, "timestamp");
	ok(c_msg >= 0 && c_dt >= 0 && c_desc >= 0, "Timesketch: message, datetime and timestamp_desc are present");
	ok(c_ts >= 0, "Timesketch: timestamp is present");
	for (size_t i = 1; i < t.nrows && i < MAX_ROWS && c_dt >= 0 && c_ts >= 0; i++) {
		const char *dt = cell(&t, i, (size_t)c_dt);
		struct tm tm = { 0 };
		const char *rest = strptime(dt, "%Y-%m-%dT%H:%M:%S", &tm);
		long long usec = 0;
		int digits = 0;
		if (rest && *rest == '.')
			for (rest++; *rest >= '0' && *rest <= '9'; rest++, digits++)
				usec = usec * 10 + (*rest - '0');
		while (rest && digits > 0 && digits < 6) {
			usec *= 10;
			digits++;
		}
		ok(rest && strcmp(rest, "Z") == 0, "row %zu: datetime %s is ISO 8601 UTC with Z", i, dt);
		long long secs = (long long)timegm(&tm);
		is_str(cell(&t, i, (size_t)c_dt), dt, "row %zu: datetime read", i);
		ok(strtoll(cell(&t, i, (size_t)c_ts), NULL, 10) == secs * 1000000 + usec,
		   "row %zu: timestamp is the same instant in microseconds", i);
		ok(cell(&t, i, (size_t)c_desc)[0] != 0 && cell(&t, i, (size_t)c_msg)[0] != 0,
		   "row %zu: timestamp_desc and message are not empty", i);
	}
	free_table(&t);

	ok(read_table(dir, "exposed_addresses.csv", &t), "exposed_addresses.csv parses as strict CSV");
	is_int(t.ncols[0], 11, "exposed_addresses.csv: 11 columns");
	is_str(cell(&t, 0, 10), "basis", "exposed_addresses.csv: basis after evidence");
	is_str(cell(&t, 3, 10), "inferred", "basis value");
	is_str(cell(&t, 1, 0), "'=cmd@example.net", "an address beginning with = reads back guarded");
	is_str(cell(&t, 2, 4), "high", "risk value");
	free_table(&t);

	ok(read_table(dir, "input_stats.csv", &t), "input_stats.csv parses as strict CSV");
	is_int(t.nrows, 1 + r->ninputs, "input_stats.csv: one row per input");
	for (size_t i = 1; i < t.nrows && i < MAX_ROWS; i++) {
		long long rec = strtoll(cell(&t, i, 3), NULL, 10);
		long long sum = strtoll(cell(&t, i, 4), NULL, 10) + strtoll(cell(&t, i, 5), NULL, 10) +
		                strtoll(cell(&t, i, 6), NULL, 10);
		is_int(sum, rec, "input_stats row %zu: parsed + ignored + malformed = records", i);
	}
	free_table(&t);
}

static void test_deterministic(const struct bs_results *r)
{
	char a[512], b[512], err[512] = "";
	snprintf(a, sizeof a, "%s/out", tmpdir);
	snprintf(b, sizeof b, "%s/again", tmpdir);
	ok(bs_output_prepare(b, err, sizeof err) && bs_output_write_all(b, r, NULL, err, sizeof err),
	   "a second run writes (%s)", err);
	for (size_t i = 0; i < sizeof result_names / sizeof result_names[0]; i++) {
		size_t na, nb;
		char *x = slurp(a, result_names[i], &na), *y = slurp(b, result_names[i], &nb);
		ok(x && y && na == nb && memcmp(x, y, na) == 0, "%s is byte-identical across runs", result_names[i]);
		free(x);
		free(y);
	}
}

static void test_failure_keeps_old(const struct bs_results *r)
{
	char dir[512], err[512] = "", path[600];
	snprintf(dir, sizeof dir, "%s/fail", tmpdir);
	ok(bs_output_prepare(dir, err, sizeof err), "prepare a directory to fail in");
	put_file(dir, "servers.csv", "old,results\n");
	/* a directory where a result must go: its rename would fail */
	snprintf(path, sizeof path, "%s/report.html", dir);
	mkdir(path, 0700);
	err[0] = 0;
	ok(!bs_output_write_all(dir, r, NULL, err, sizeof err), "write_all fails when a result cannot be placed");
	ok(strstr(err, "report.html") != NULL, "the error names the file (%s)", err);
	char *old = slurp(dir, "servers.csv", NULL);
	is_str(old, "old,results\n", "the older servers.csv is left untouched");
	free(old);
	ok(!exists(dir, "timeline.csv"), "no new result is renamed into place");
	is_int(count_temps(dir), 0, "the temporaries are removed");

	snprintf(dir, sizeof dir, "%s/plainfile/out", tmpdir);
	err[0] = 0;
	ok(!bs_output_write_all(dir, r, NULL, err, sizeof err), "write_all fails below a regular file");
	ok(err[0] != 0, "with a message (%s)", err);
}

static void test_summary(const struct bs_results *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	bs_output_summary(f, "case-0504", r, NULL);
	fclose(f);
	/* shown in the test log for a reader's eye */
	for (const char *line = buf; *line;) {
		const char *nl = strchr(line, '\n');
		int n = nl ? (int)(nl - line) : (int)strlen(line);
		printf("# | %.*s\n", n, line);
		line += n + (nl != NULL);
	}
	ok(strstr(buf, "COMPROMISED: web2") != NULL, "summary names the compromised server");
	ok(strstr(buf, "2007-05-04T17:31:02Z .. 2007-05-07T09:12:44Z") != NULL, "summary gives the access window");
	ok(strstr(buf, "2007-05-04T18:02:00Z .. 2007-05-10T12:00:00Z") != NULL, "summary gives the tamper window");
	ok(strstr(buf, "suspicious: web3") != NULL, "summary names the suspicious server");
	ok(strstr(buf, "attacker addresses: 3") != NULL, "attacker addresses are counted once each");
	ok(strstr(buf, "    81.2.69.142\n") != NULL, "an attacker address is listed");
	ok(strstr(buf, "high 1, medium 1, low 1") != NULL, "summary counts exposed addresses by risk");
	ok(strstr(buf, "exfiltrated 2") != NULL, "summary counts by category");
	ok(strstr(buf, "by basis: observed 2") != NULL && strstr(buf, "inferred 1") != NULL, "summary counts by basis");
	ok(strstr(buf, "spam onset: 2007-05-13T08:00:00Z") != NULL, "summary gives the spam onset");
	ok(strstr(buf, "damaged or truncated inputs: 1 of 3") != NULL, "summary flags damaged inputs");
	ok(strstr(buf, "case-0504/") != NULL, "summary says where the files are");
	free(buf);

	/* a control sequence in a name from the data never reaches the terminal */
	struct bs_results evil = { 0 };
	struct bs_server_result s = r->servers[2];
	s.name = "web\x1b]0;owned\x07" "2";
	evil.servers = &s;
	evil.nservers = 1;
	evil.spam_onset = BS_TIME_NONE;
	buf = NULL;
	f = open_memstream(&buf, &len);
	bs_output_summary(f, "out", &evil, NULL);
	fclose(f);
	ok(strchr(buf, '\x1b') == NULL && strchr(buf, '\x07') == NULL, "escape bytes from the data are neutralized");
	ok(strstr(buf, "spam onset: none seen") != NULL, "no spam onset is said");
	free(buf);
}

static void test_report(void)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/out", tmpdir);
	char *html = slurp(dir, "report.html", NULL);
	ok(html != NULL, "report.html is written");
	if (!html)
		return;
	ok(strncmp(html, "<!DOCTYPE html>", 15) == 0, "report.html is an HTML5 document");
	ok(strstr(html, "<script") == NULL, "no script");
	ok(strstr(html, " src=") == NULL && strstr(html, "href=") == NULL && strstr(html, "url(") == NULL,
	   "nothing is fetched (no src, href or url())");
	ok(strstr(html, "<b>x</b>") == NULL && strstr(html, "&lt;b&gt;x&lt;/b&gt;") != NULL,
	   "data is HTML-escaped");
	ok(strstr(html, "@media print") != NULL, "has print styles");
	int svgs = 0;
	for (const char *p = html; (p = strstr(p, "<svg xmlns")) != NULL; p++)
		svgs++;
	is_int(svgs, 3, "one activity picture per server with data");
	ok(strstr(html, ">exploit</text>") != NULL, "the exploit is marked");
	ok(strstr(html, "<title>exfiltration</title>") != NULL, "exfiltration is marked");
	ok(strstr(html, "<title>attacker access window</title>") != NULL, "the access window is shaded");
	ok(strstr(html, "<title>tampered pages served</title>") != NULL, "the tamper window is shaded");
	ok(strstr(html, "text-anchor=\"middle\">2007-05-03</text>") != NULL, "the date axis is labelled with dates");
	ok(strstr(html, "/data/capture.pcap") != NULL, "the input accounting is shown");
	ok(strstr(html, "v-compromised") != NULL, "the verdict is shown");
	free(html);
}

/* With a GeoIP database: the timeline's src_country/src_asn, the summary
 * and the report carry the countries. The suite's own database
 * (tests/data/geoip-test.mmdb, made by samples/mkgeoip.pl) holds both parts;
 * `--corpus DIR` runs the same checks on MaxMind's City and ASN test
 * databases of the public corpus (make check-corpus). */
static void test_with_geoip(const struct bs_results *r, const char *corpus)
{
	const char *top = getenv("top_srcdir");
	char city[4200], asn[4200];
	size_t nfiles = 1;
	if (corpus) {
		snprintf(city, sizeof city, "%s/geoip/maxmind-GeoIP2-City-Test.mmdb", corpus);
		snprintf(asn, sizeof asn, "%s/geoip/maxmind-GeoLite2-ASN-Test.mmdb", corpus);
		nfiles = 2;
	} else {
		snprintf(city, sizeof city, "%s/tests/data/geoip-test.mmdb", top && *top ? top : ".");
	}
	char *files[] = { city, asn };
	char err[512] = "", dir[512];
	struct bs_geoip *geo = bs_geoip_open(files, nfiles, err, sizeof err);
	ok(geo != NULL, "the GeoIP test database%s open (%s)", nfiles > 1 ? "s" : "", err);
	if (!geo)
		return;
	snprintf(dir, sizeof dir, "%s/geo", tmpdir);
	ok(bs_output_prepare(dir, err, sizeof err) && bs_output_write_all(dir, r, geo, err, sizeof err),
	   "write_all with GeoIP (%s)", err);
	struct table t;
	ok(read_table(dir, "timeline.csv", &t), "timeline.csv with GeoIP parses");
	is_str(cell(&t, 1, 8), "GB", "an outside source address gets its country");
	is_str(cell(&t, 1, 9), "", "an address the ASN database does not know has an empty src_asn");
	is_str(cell(&t, 3, 8), "", "a private source address gets no country");
	is_str(cell(&t, 4, 8), "", "the server's own (documentation) address gets no country");
	free_table(&t);
	char *html = slurp(dir, "report.html", NULL);
	ok(html && strstr(html, "81.2.69.142 (GB)") != NULL, "the report shows an attacker's country");
	ok(html && strstr(html, "No GeoIP database was given") == NULL, "the report does not say GeoIP is missing");
	free(html);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	bs_output_summary(f, dir, r, geo);
	fclose(f);
	ok(strstr(buf, "    81.2.69.142  GB") != NULL, "the summary shows an attacker's country");
	ok(strstr(buf, "    1.128.0.1  --  AS1221 Telstra Pty Ltd") != NULL, "the summary shows an attacker's AS");
	free(buf);
	bs_geoip_close(geo);
}

/* Results the engine should never produce but hostile data might push it
 * to: times decades apart, a botnet of attacker addresses, empty names. */
static void test_report_extremes(void)
{
	struct bs_results *r = bs_xcalloc(1, sizeof *r);
	r->spam_onset = r->data_start = r->data_end = BS_TIME_NONE;
	r->nservers = 1;
	r->servers = bs_xcalloc(1, sizeof *r->servers);
	struct bs_server_result *s = r->servers;
	sample_server(s, "", "", BS_V_COMPROMISED, INFINITY, 1);
	s->hist_start = 0;
	s->hist_bin = (bs_time)86400 * 365 * BS_USEC; /* 1970 to 2100 */
	free(s->hist);
	free(s->hist_attack);
	s->nbins = 130;
	s->hist = bs_xcalloc(s->nbins, sizeof *s->hist);
	s->hist_attack = NULL;
	s->hist[0] = 1;
	s->hist[129] = 4000000000u;
	s->window_start = T(2100, 1, 1, 0, 0, 0);
	s->window_end = T(1999, 1, 1, 0, 0, 0); /* before its start */
	s->exploit_time = T(3000, 1, 1, 0, 0, 0); /* outside the picture */
	s->nattacker_ips = 25;
	s->attacker_ips = bs_xcalloc(25, sizeof(bs_ip));
	for (int i = 0; i < 25; i++) {
		char a[32];
		snprintf(a, sizeof a, "203.0.113.%d", i + 1);
		s->attacker_ips[i] = ip(a);
	}
	char dir[512], err[512] = "";
	snprintf(dir, sizeof dir, "%s/extreme", tmpdir);
	ok(bs_output_prepare(dir, err, sizeof err) && bs_output_write_all(dir, r, NULL, err, sizeof err),
	   "extreme results are written (%s)", err);
	char *html = slurp(dir, "report.html", NULL);
	int labels = 0;
	for (const char *p = html; p && (p = strstr(p, "text-anchor=\"middle\">")) != NULL; p++)
		labels++;
	ok(labels > 2 && labels <= 14, "a 130-year span still gets a handful of axis labels (%d)", labels);
	ok(html && strstr(html, "&hellip; 5 more") != NULL, "a botnet is cut short in the verdict table");
	/* "inf" followed by a delimiter: the word "inferred" (basis) is fine */
	bool nonfinite = false;
	for (const char *const *w = (const char *const[]){ "nan", "inf<", "inf ", "inf)", "inf;", "inf,", NULL }; *w; w++)
		nonfinite |= html && strstr(html, *w) != NULL;
	ok(html && !nonfinite, "a non-finite score is not printed as such");
	free(html);
	char *servers = slurp(dir, "servers.csv", NULL);
	ok(servers && strstr(servers, ",compromised,,") != NULL, "a non-finite score is an empty cell");
	free(servers);
	bs_results_free(r);
}

/* ---------------------------------------------- hostile text in every file */

/* Valid UTF-8 without a control character other than the line ends the
 * writer itself puts (LF); decoded independently of escape.c. */
static bool clean_file(const char *buf, size_t n, size_t *at)
{
	const unsigned char *s = (const unsigned char *)buf;
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		unsigned cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
		bool good = len > 0 && i + len <= n;
		for (size_t k = 1; good && k < len; k++) {
			good = (s[i + k] & 0xc0) == 0x80;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		static const unsigned min[] = { 0, 0, 0x80, 0x800, 0x10000 };
		good = good && cp >= min[len] && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) &&
		       (cp >= 0x20 || cp == '\n') && !(cp >= 0x7f && cp < 0xa0);
		if (!good) {
			*at = i;
			return false;
		}
		i += len;
	}
	return true;
}

static void test_hostile_text(void)
{
	static const char evil[] = "ev\x1b]0;owned\x07il\r\b\x7f\xff\xfe\xc0\xaf\xed\xa0\x80\xc2\x9b\\x41 caf\xc3\xa9";
	static const char shown[] = "ev\\x1b]0;owned\\x07il\\x0d\\x08\\x7f\\xff\\xfe\\xc0\\xaf\\xed\\xa0\\x80\\xc2\\x9b"
	                            "\\\\x41 caf\xc3\xa9";
	struct bs_results *r = sample_results();
	free(r->servers[1].name);
	r->servers[1].name = owned(evil);
	free(r->exposed[2].address);
	r->exposed[2].address = owned("\x1b[2Jbob\xff@partner.example");
	free(r->timeline[1].message);
	r->timeline[1].message = owned(evil);
	free(r->timeline[1].user);
	r->timeline[1].user = owned("=\x01user");
	free(r->inputs[0].source);
	r->inputs[0].source = owned("/data/\x1b]2;title\x07.log");
	free(r->fleet_origin);
	r->fleet_origin = owned(evil);
	char dir[512], err[512] = "";
	snprintf(dir, sizeof dir, "%s/hostile", tmpdir);
	ok(bs_output_prepare(dir, err, sizeof err) && bs_output_write_all(dir, r, NULL, err, sizeof err),
	   "results with control bytes and invalid UTF-8 are written (%s)", err);
	for (size_t i = 0; i < sizeof result_names / sizeof result_names[0]; i++) {
		size_t len = 0, at = 0;
		char *buf = slurp(dir, result_names[i], &len);
		bool clean = buf && clean_file(buf, len, &at);
		ok(clean, "%s is valid UTF-8 without control characters", result_names[i]);
		if (buf && !clean)
			printf("#   at byte %zu: %02x\n", at, (unsigned char)buf[at]);
		free(buf);
	}
	char *servers = slurp(dir, "servers.csv", NULL);
	ok(servers && strstr(servers, shown), "servers.csv: the server name escaped as documented");
	free(servers);
	char *timeline = slurp(dir, "timeline.csv", NULL);
	ok(timeline && strstr(timeline, shown), "timeline.csv: the message escaped as documented");
	ok(timeline && strstr(timeline, ",'=\\x01user,"), "timeline.csv: the guard applies to the escaped user");
	free(timeline);
	char *exposed = slurp(dir, "exposed_addresses.csv", NULL);
	ok(exposed && strstr(exposed, "\n\\x1b[2Jbob\\xff@partner.example,"), "exposed_addresses.csv: the address escaped");
	free(exposed);
	char *stats = slurp(dir, "input_stats.csv", NULL);
	ok(stats && strstr(stats, "/data/\\x1b]2;title\\x07.log,"), "input_stats.csv: the file name escaped");
	free(stats);
	char *html = slurp(dir, "report.html", NULL);
	ok(html && strstr(html, "ev\\x1b]0;owned\\x07il\\x0d\\x08\\x7f\\xff"), "report.html: the same escape");
	ok(html && strstr(html, "/data/\\x1b]2;title\\x07.log"), "report.html: the file name escaped");
	free(html);
	/* the summary on a terminal */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	bs_output_summary(f, "out\x1b]0;t\x07", r, NULL);
	fclose(f);
	size_t at;
	ok(buf && clean_file(buf, len, &at), "the summary is valid UTF-8 without control characters");
	ok(buf && strstr(buf, shown), "the summary shows data with the same escape");
	ok(buf && strstr(buf, "results: out\\x1b]0;t\\x07/"), "the summary escapes the output directory's name");
	free(buf);
	bs_results_free(r);
}

/* --------------------------------------------------------- the lock */

static void test_lock(const struct bs_results *r)
{
	char dir[512], err[512] = "", lock[600];
	snprintf(dir, sizeof dir, "%s/locked", tmpdir);
	snprintf(lock, sizeof lock, "%s/.breachscope.lock", dir);
	ok(bs_output_prepare(dir, err, sizeof err), "prepare (%s)", err);
	put_file(dir, "servers.csv", "old,results\n");
	/* another run holds the directory (another open file: flock conflicts
	 * even within one process) */
	int fd = open(lock, O_RDWR | O_CREAT, 0600);
	ok(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0, "the test holds the lock");
	setenv("BREACHSCOPE_LOCK_WAIT", "0", 1);
	err[0] = 0;
	ok(!bs_output_write_all(dir, r, NULL, err, sizeof err), "write_all refuses a locked directory");
	ok(strstr(err, dir) && strstr(err, "another breachscope run"), "the message names the directory (%s)", err);
	char *old = slurp(dir, "servers.csv", NULL);
	is_str(old, "old,results\n", "nothing was replaced");
	free(old);
	ok(!exists(dir, "timeline.csv") && count_temps(dir) == 0, "nothing was written, no temporary");
	/* the holder finishes while the next run waits */
	setenv("BREACHSCOPE_LOCK_WAIT", "20", 1);
	pid_t child = fork();
	if (child == 0) {
		struct timespec nap = { 0, 400 * 1000 * 1000 };
		nanosleep(&nap, NULL);
		unlink(lock); /* as a run does, while still holding it */
		_exit(0);
	}
	close(fd); /* the child still holds it through the inherited descriptor */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err[0] = 0;
	ok(bs_output_write_all(dir, r, NULL, err, sizeof err), "write_all waits for the holder, then writes (%s)", err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ok(waited >= 0.3, "it waited for the holder (%.2f s)", waited);
	waitpid(child, NULL, 0);
	expect_file(dir, "servers.csv", servers_csv);
	ok(!exists(dir, ".breachscope.lock"), "no lock file is left behind");
	unsetenv("BREACHSCOPE_LOCK_WAIT");
}

/* -------------------------------------------- temporaries of dead processes */

static void test_stale_temps(void)
{
	char dir[512], path[600];
	snprintf(dir, sizeof dir, "%s/state", tmpdir);
	mkdir(dir, 0700);
	put_file(dir, "shard.state.tmp.4194999", "a killed scan's personal data");
	put_file(dir, "shard.state.tmp.1", "a live process's temporary");
	put_file(dir, "shard.state.tmp.12x", "not a temporary of ours");
	put_file(dir, "other.state.tmp.4194999", "another file's temporary");
	put_file(dir, "shard.state", "the state file itself");
	snprintf(path, sizeof path, "%s/shard.state", dir);
	bs_temp_remove_stale(path);
	ok(!exists(dir, "shard.state.tmp.4194999"), "a dead process's temporary of the file is removed");
	ok(exists(dir, "shard.state.tmp.1"), "a live process's temporary is left");
	ok(exists(dir, "shard.state.tmp.12x") && exists(dir, "other.state.tmp.4194999") && exists(dir, "shard.state"),
	   "other files are left");
	/* the output directory's own probe, left by a run killed in prepare */
	snprintf(dir, sizeof dir, "%s/out", tmpdir);
	put_file(dir, ".breachscope-probe.tmp.4194999", "");
	char err[512] = "";
	ok(bs_output_prepare(dir, err, sizeof err), "prepare (%s)", err);
	ok(!exists(dir, ".breachscope-probe.tmp.4194999"), "a dead run's probe is removed by prepare");
}

static void make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof tmpdir, "%s/bs-output-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		exit(1);
	}
}

static void remove_tree(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* --timeline all: a mail row names its recipients, each within <...>. */
static void test_spill_mail_message(void)
{
	char err[256] = "";
	struct bs_spill *sp = bs_spill_new(tmpdir, err, sizeof err);
	ok(sp != NULL, "spill directory made %s", err);
	if (!sp)
		return;
	struct bs_spill_writer *w = bs_spill_writer_new(sp);
	static const bs_str rcpts[] = { BS_STR_LIT("bob@example.net"), BS_STR_LIT("carol@example.net") };
	struct bs_event ev;
	bs_event_init(&ev, BS_EV_MAIL);
	ev.ts = T(2024, 3, 1, 10, 0, 0);
	ev.origin.ref = 1;
	ev.src = ip("192.0.2.10");
	ev.u.mail.sender = BS_STR_LIT("alice@example.org");
	ev.u.mail.rcpts = rcpts;
	ev.u.mail.nrcpt = 2;
	ev.u.mail.rcpts_dropped = 3;
	ev.u.mail.size = 10;
	bs_spill_event(w, &ev);
	ok(bs_spill_writer_close(w), "spill writer closed");
	struct bs_timeline_row row;
	ok(bs_spill_next(sp, &row), "the mail row");
	is_str(row.message, "accepted mail from <alice@example.org> to 5 recipient(s) <bob@example.net> "
	       "<carol@example.net> (3 not kept), 10 bytes, client 192.0.2.10",
	       "every recipient, closed by '>', and the ones not kept counted");
	bs_spill_free(sp);
}

int main(int argc, char **argv)
{
	struct bs_results *r = sample_results();
	if (argc == 3 && strcmp(argv[1], "--sample") == 0) {
		char err[512] = "";
		bool good = bs_output_prepare(argv[2], err, sizeof err) && bs_output_write_all(argv[2], r, NULL, err, sizeof err);
		if (!good)
			fprintf(stderr, "test_output: %s\n", err);
		bs_results_free(r);
		return good ? 0 : 1;
	}
	make_tmpdir();
	if (argc == 3 && strcmp(argv[1], "--corpus") == 0) {
		test_with_geoip(r, argv[2]);
		bs_results_free(r);
		remove_tree(tmpdir);
		return tap_done();
	}
	test_prepare();
	test_write_all(r);
	test_read_back(r);
	test_deterministic(r);
	test_failure_keeps_old(r);
	test_summary(r);
	test_report();
	test_with_geoip(r, NULL);
	test_report_extremes();
	test_hostile_text();
	test_lock(r);
	test_stale_temps();
	test_spill_mail_message();
	bs_results_free(r);
	bs_results_free(NULL);
	ok(1, "bs_results_free takes NULL");
	remove_tree(tmpdir);
	return tap_done();
}
