/* test_mysql.c - MySQL classic protocol parser on hand-built packet streams. */
#include "stream_session.h"
#include "parsers/stream/mysql.h"

/* ---- a session builder: packets appended to the current segment; a
 * change of direction starts a new segment (a new step). */
static uint8_t store[1 << 16];
static size_t store_len;
static struct step steps[64];
static size_t nsteps;
static int cur_dir = -1;

static void b_reset(void) { store_len = 0; nsteps = 0; cur_dir = -1; }

static void b_pkt(int dir, uint8_t seq, const uint8_t *pl, size_t n)
{
	if (dir != cur_dir) {
		steps[nsteps].dir = dir;
		steps[nsteps].p = (const char *)store + store_len;
		steps[nsteps].n = 0;
		steps[nsteps].gap = 0;
		nsteps++;
		cur_dir = dir;
	}
	store[store_len++] = (uint8_t)n;
	store[store_len++] = (uint8_t)(n >> 8);
	store[store_len++] = (uint8_t)(n >> 16);
	store[store_len++] = seq;
	memcpy(store + store_len, pl, n);
	store_len += n;
	steps[nsteps - 1].n += n + 4;
}

static void b_gap(int dir, uint64_t n)
{
	steps[nsteps].dir = dir;
	steps[nsteps].p = NULL;
	steps[nsteps].n = 0;
	steps[nsteps].gap = n;
	nsteps++;
	cur_dir = -1;
}

/* payload under construction */
static uint8_t pl[20000];
static size_t pln;
static void pl_u8(uint8_t v) { pl[pln++] = v; }
static void pl_le(uint64_t v, unsigned k) { for (unsigned i = 0; i < k; i++) pl_u8((uint8_t)(v >> (8 * i))); }
static void pl_mem(const void *p, size_t n) { memcpy(pl + pln, p, n); pln += n; }
static void pl_cstr(const char *s) { pl_mem(s, strlen(s) + 1); }
static void pl_lstr(const char *s) { pl_u8((uint8_t)strlen(s)); pl_mem(s, strlen(s)); }

#define CAPS_BASE (0x200u | 0x8000u | 0x8u | 0x80000u)
#define DEPRECATE_EOF 0x01000000u

static void greeting(uint32_t caps)
{
	pln = 0;
	pl_u8(10);
	pl_cstr("8.0.36-0ubuntu0.22.04.1");
	pl_le(42, 4);
	pl_mem("abcdefgh", 8);
	pl_u8(0);
	pl_le(caps & 0xffff, 2);
	pl_u8(255);
	pl_le(2, 2);
	pl_le(caps >> 16, 2);
	pl_u8(21);
	pl_mem("\0\0\0\0\0\0\0\0\0\0", 10);
	pl_mem("ijklmnopqrst\0", 13);
	pl_cstr("mysql_native_password");
	b_pkt(1, 0, pl, pln);
}

static void login(uint32_t caps, const char *user, const char *db)
{
	pln = 0;
	if (!db)
		caps &= ~0x8u;
	pl_le(caps, 4);
	pl_le(16777216, 4);
	pl_u8(255);
	for (int i = 0; i < 23; i++)
		pl_u8(0);
	pl_cstr(user);
	pl_u8(20);
	pl_mem("01234567890123456789", 20);
	if (db)
		pl_cstr(db);
	pl_cstr("mysql_native_password");
	b_pkt(0, 1, pl, pln);
}

static void ok_pkt(int seq, uint64_t affected, uint16_t status, uint8_t header)
{
	pln = 0;
	pl_u8(header);
	pl_u8((uint8_t)affected);
	pl_u8(0);
	pl_le(status, 2);
	pl_le(0, 2);
	b_pkt(1, (uint8_t)seq, pl, pln);
}

static void eof_pkt(int seq, uint16_t status)
{
	pln = 0;
	pl_u8(0xfe);
	pl_le(0, 2);
	pl_le(status, 2);
	b_pkt(1, (uint8_t)seq, pl, pln);
}

static void query_n(uint8_t cmd, const char *sql, size_t n)
{
	pln = 0;
	pl_u8(cmd);
	pl_mem(sql, n);
	b_pkt(0, 0, pl, pln);
}
static void query(uint8_t cmd, const char *sql) { query_n(cmd, sql, strlen(sql)); }

static void coldef(int seq, const char *name)
{
	pln = 0;
	pl_lstr("def");
	pl_lstr("atmail");
	pl_lstr("Users");
	pl_lstr("Users");
	pl_lstr(name);
	pl_lstr(name);
	pl_u8(0x0c);
	pl_le(33, 2);
	pl_le(255, 4);
	pl_u8(0xfd);
	pl_le(0, 2);
	pl_u8(0);
	pl_le(0, 2);
	b_pkt(1, (uint8_t)seq, pl, pln);
}

/* a row of values; NULL pointers are SQL NULL */
static void row(int seq, const char *a, const char *b)
{
	pln = 0;
	if (a) pl_lstr(a); else pl_u8(0xfb);
	if (b) pl_lstr(b); else pl_u8(0xfb);
	b_pkt(1, (uint8_t)seq, pl, pln);
}

static void err_pkt(int seq, const char *msg)
{
	pln = 0;
	pl_u8(0xff);
	pl_le(1064, 2);
	pl_mem("#42000", 6);
	pl_mem(msg, strlen(msg));
	b_pkt(1, (uint8_t)seq, pl, pln);
}

static void result_set(bool deprecate_eof)
{
	pln = 0;
	pl_u8(2);
	b_pkt(1, 1, pl, pln);
	coldef(2, "Account");
	coldef(3, "Email");
	int seq = 4;
	if (!deprecate_eof)
		eof_pkt(seq++, 2);
	row(seq++, "alice", "Alice@Example.com");
	row(seq++, NULL, "bob@example.org, carol@example.net");
	row(seq++, "dave", NULL);
	if (deprecate_eof)
		ok_pkt(seq, 0, 2, 0xfe);
	else
		eof_pkt(seq, 2);
}

static void test_session(void)
{
	b_reset();
	greeting(CAPS_BASE | 0x20u);
	login(CAPS_BASE, "webmail", "atmail");
	ok_pkt(2, 0, 2, 0);
	query(3, "SELECT Account, Email FROM Users");
	result_set(false);
	query(2, "addressbook");
	ok_pkt(1, 0, 2, 0);
	query(3, "UPDATE Users SET x=1");
	ok_pkt(1, 3, 2, 0);
	query(3, "SELEC bad");
	err_pkt(1, "You have an error in your SQL syntax");
	query(1, "");
	check_segmentation(&bs_proto_mysql, steps, nsteps, "session");

	uint64_t q1 = (7u << 20) | 1, q2 = (7u << 20) | 2, q3 = (7u << 20) | 3;
	char want[512];
	is_str(rec_find("AUTH", 0), "AUTH proto=6 user=webmail method=mysql_native_password success=1",
	       "handshake: user, plugin, success from OK");
	snprintf(want, sizeof want, "DBQUERY id=%" PRIu64 " user=webmail db=atmail truncated=0 len=32 sql=SELECT Account, Email FROM Users", q1);
	is_str(rec_find("DBQUERY", 0), want, "COM_QUERY with user and database from the handshake");
	is_int(rec_count("ADDR"), 3, "three addresses in the result set");
	snprintf(want, sizeof want, "ADDR ctx=1 ref=%" PRIu64 " addr=alice@example.com col=Email to_client=1 tags=Account=alice", q1);
	is_str(rec_find("ADDR", 0), want, "address with its column name and query id");
	snprintf(want, sizeof want, "ADDR ctx=1 ref=%" PRIu64 " addr=carol@example.net col=Email to_client=1", q1);
	is_str(rec_find("ADDR", 2), want, "second address of a value after a NULL column");
	snprintf(want, sizeof want, "DBRESULT id=%" PRIu64 " rows=3 cols=2 bytes=%d error=0", q1, 177);
	is_str(rec_find("DBRESULT", 0), want, "result: rows, columns, bytes");
	snprintf(want, sizeof want, "DBQUERY id=%" PRIu64 " user=webmail db=addressbook truncated=0 len=20 sql=UPDATE Users SET x=1", q2);
	is_str(rec_find("DBQUERY", 1), want, "COM_INIT_DB changes the database after its OK");
	snprintf(want, sizeof want, "DBRESULT id=%" PRIu64 " rows=3 cols=0 bytes=7 error=0", q2);
	is_str(rec_find("DBRESULT", 1), want, "OK packet: affected rows");
	snprintf(want, sizeof want, "DBRESULT id=%" PRIu64 " rows=0 cols=0 bytes=45 error=1", q3);
	is_str(rec_find("DBRESULT", 2), want, "ERR packet: error result");
	is_int(rec.n, 10, "no other events");
}

static void test_deprecate_eof(void)
{
	b_reset();
	greeting(CAPS_BASE | DEPRECATE_EOF);
	login(CAPS_BASE | DEPRECATE_EOF, "root", NULL);
	ok_pkt(2, 0, 2, 0);
	query(3, "select * from abook");
	result_set(true);
	query(3, "select 1");
	check_segmentation(&bs_proto_mysql, steps, nsteps, "deprecate_eof");
	is_str(rec_find("AUTH", 0), "AUTH proto=6 user=root method=mysql_native_password success=1", "login without database");
	is_int(rec_count("ADDR"), 3, "DEPRECATE_EOF: rows found without the EOF");
	ok(strstr(rec_find("DBRESULT", 0), "rows=3 cols=2") != NULL, "DEPRECATE_EOF: OK 0xfe ends the rows");
	is_int(rec_count("DBRESULT"), 1, "unanswered query at end: no result");
}

/* A CALL returning two result sets: SERVER_MORE_RESULTS_EXISTS (0x0008) in
 * the first EOF starts the second under the same query id. */
static void test_more_results(void)
{
	b_reset();
	greeting(CAPS_BASE);
	login(CAPS_BASE, "app", "mail");
	ok_pkt(2, 0, 2, 0);
	query(3, "CALL dump_addresses()");
	pln = 0;
	pl_u8(1);
	b_pkt(1, 1, pl, pln);
	coldef(2, "a");
	eof_pkt(3, 2);
	row(4, "x@example.com", NULL);
	eof_pkt(5, 0x0a);
	pln = 0;
	pl_u8(1);
	b_pkt(1, 6, pl, pln);
	coldef(7, "b");
	eof_pkt(8, 2);
	row(9, "y@example.com", NULL);
	row(10, "z", NULL);
	eof_pkt(11, 2);
	check_segmentation(&bs_proto_mysql, steps, nsteps, "more results");
	is_int(rec_count("DBRESULT"), 2, "two result sets, two results");
	ok(strstr(rec_find("DBRESULT", 1), "rows=2 cols=1") != NULL, "second result set counted on its own");
	is_str(rec_find("ADDR", 1), "ADDR ctx=1 ref=7340033 addr=y@example.com col=b to_client=1",
	       "second result set: its own column names, same query id");
}

/* MySQL 8 with CLIENT_QUERY_ATTRIBUTES: "\0\1" before the statement text */
static void test_query_attributes(void)
{
	b_reset();
	greeting(CAPS_BASE | 0x08000000u);
	login(CAPS_BASE | 0x08000000u, "app", "mail");
	ok_pkt(2, 0, 2, 0);
	query_n(3, "\x00\x01SELECT 1", 10);
	ok_pkt(1, 0, 2, 0);
	check_segmentation(&bs_proto_mysql, steps, nsteps, "query attributes");
	ok(strstr(rec_find("DBQUERY", 0), " len=8 sql=SELECT 1") != NULL, "query attributes: counts skipped, text kept");
}

static void test_auth_fail_and_ssl(void)
{
	b_reset();
	greeting(CAPS_BASE);
	login(CAPS_BASE, "mallory", "atmail");
	err_pkt(2, "Access denied for user 'mallory'@'10.0.0.9'");
	check_segmentation(&bs_proto_mysql, steps, nsteps, "auth fail");
	is_str(rec_find("AUTH", 0), "AUTH proto=6 user=mallory method=mysql_native_password success=0",
	       "ERR after the handshake: failed login");

	b_reset();
	greeting(CAPS_BASE | 0x800u);
	pln = 0;
	pl_le(CAPS_BASE | 0x800u, 4);
	pl_le(16777216, 4);
	pl_u8(255);
	for (int i = 0; i < 23; i++)
		pl_u8(0);
	b_pkt(0, 1, pl, pln);
	steps[nsteps++] = (struct step)CB("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
	steps[nsteps++] = (struct step)SB("\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03", 11);
	int err = run_session(&bs_proto_mysql, steps, nsteps, 0, 0);
	is_int(err, 0, "SSL request: no error");
	is_int(rec.n, 0, "SSL request: opaque, no events");
}

/* One value of more than 16 MB spread over two packets, with an address
 * across the packet boundary. */
#define PKT_BIG 0xffffffu
static void test_big_value(void)
{
	size_t vlen = PKT_BIG + 100;
	size_t plen = 9 + vlen;              /* lenenc 0xfe + 8 bytes, then the value */
	uint8_t *payload = malloc(plen);
	payload[0] = 0xfe;
	for (int i = 0; i < 8; i++)
		payload[1 + i] = (uint8_t)((uint64_t)vlen >> (8 * i));
	memset(payload + 9, ' ', vlen);
	memcpy(payload + PKT_BIG - 7, "zed@split.example.com", 21);
	size_t rest = plen - PKT_BIG;
	uint8_t *big = malloc(plen + 8);
	big[0] = 0xff; big[1] = 0xff; big[2] = 0xff; big[3] = 4;
	memcpy(big + 4, payload, PKT_BIG);
	big[4 + PKT_BIG] = (uint8_t)rest; big[5 + PKT_BIG] = (uint8_t)(rest >> 8);
	big[6 + PKT_BIG] = (uint8_t)(rest >> 16); big[7 + PKT_BIG] = 5;
	memcpy(big + 8 + PKT_BIG, payload + PKT_BIG, rest);
	size_t biglen = plen + 8;
	free(payload);

	b_reset();
	greeting(CAPS_BASE | DEPRECATE_EOF);
	login(CAPS_BASE | DEPRECATE_EOF, "u", NULL);
	ok_pkt(2, 0, 2, 0);
	query(3, "select blob");
	pln = 0;
	pl_u8(1);
	b_pkt(1, 1, pl, pln);
	coldef(2, "data");
	cur_dir = -1;
	steps[nsteps++] = (struct step)SB(big, biglen);
	b_pkt(1, 6, (const uint8_t *)"\xfe\x00\x00\x02\x00\x00\x00", 7);
	run_session(&bs_proto_mysql, steps, nsteps, 0, 0);
	char whole[4096];
	rec_join(whole, sizeof whole);
	is_str(rec_find("ADDR", 0), "ADDR ctx=1 ref=7340033 addr=zed@split.example.com col=data to_client=1",
	       "address across a 16 MB packet boundary");
	ok(strstr(rec_find("DBRESULT", 0), "rows=1 cols=1") != NULL, "16 MB row counted once");
	run_session(&bs_proto_mysql, steps, nsteps, 65521, 0);
	char pieces[4096];
	rec_join(pieces, sizeof pieces);
	is_str(pieces, whole, "16 MB row in 64 KiB segments: same events");
	free(big);
}

static void test_gap_and_truncation(void)
{
	b_reset();
	greeting(CAPS_BASE);
	login(CAPS_BASE, "webmail", "atmail");
	ok_pkt(2, 0, 2, 0);
	query(3, "SELECT Email FROM Users");
	pln = 0;
	pl_u8(2);
	b_pkt(1, 1, pl, pln);
	coldef(2, "Account");
	b_gap(1, 100000);
	row(9, "lost", "lost@example.com");
	row(10, "lost2", "lost2@example.com");
	query(3, "SELECT 2");
	result_set(false);
	static char longsql[20000];
	memset(longsql, 'x', sizeof longsql - 1);
	memcpy(longsql, "SELECT ", 7);
	query(3, longsql);
	ok_pkt(1, 0, 2, 0);
	check_segmentation(&bs_proto_mysql, steps, nsteps, "gap");
	is_int(rec_count("DBQUERY"), 3, "gap: later queries still parsed");
	is_int(rec_count("ADDR"), 3, "gap: bytes after the gap dropped, next result read");
	ok(strstr(rec_find("DBQUERY", 2), "truncated=1 len=16384 ") != NULL, "20 KB statement: capped at 16 KiB, sql_truncated");
}

/* Issue 16: a row's addresses reach the engine with the row's short cells
 * (the Direction after the Email); a gap inside the rows reports the rows
 * seen as a cut result. */
static void test_row_tags_and_cut(void)
{
	b_reset();
	greeting(CAPS_BASE);
	login(CAPS_BASE, "webmail", "atmail");
	ok_pkt(2, 0, 2, 0);
	query(3, "SELECT Email, Direction FROM Correspondents");
	pln = 0;
	pl_u8(2);
	b_pkt(1, 1, pl, pln);
	coldef(2, "Email");
	coldef(3, "Direction");
	eof_pkt(4, 2);
	row(5, "ann@example.org", "received");
	row(6, "Bob <bob@example.org>", "sent");
	b_gap(1, 5000);
	row(20, "lost@example.org", "sent");
	check_segmentation(&bs_proto_mysql, steps, nsteps, "row tags");
	is_str(rec_find("ADDR", 0), "ADDR ctx=1 ref=7340033 addr=ann@example.org col=Email to_client=1 tags=Direction=received",
	       "row tags: the Direction after the address comes with it");
	is_str(rec_find("ADDR", 1), "ADDR ctx=1 ref=7340033 addr=bob@example.org col=Email to_client=1 tags=Direction=sent",
	       "row tags: a cell with an address is no tag");
	is_int(rec_count("ADDR"), 2, "row tags: rows after the gap dropped");
	is_str(rec_find("DBRESULT", 0), "DBRESULT id=7340033 rows=2 cols=2 bytes=162 error=0 cut=1",
	       "gap inside the rows: the rows seen, marked cut");
}

static void test_garbage(void)
{
	static uint8_t junk[3000];
	uint32_t x = 99;
	for (size_t i = 0; i < sizeof junk; i++) {
		x = x * 1664525u + 1013904223u;
		junk[i] = (uint8_t)(x >> 24);
	}
	struct step g[] = { SB(junk, sizeof junk), CB(junk, sizeof junk), SB(junk, sizeof junk) };
	int err = run_session(&bs_proto_mysql, g, NSTEPS(g), 0, 0);
	ok(err == 0 || err == BS_MYSQL_ERR_NOT_MYSQL, "garbage: no crash");
	struct step h[] = { SB("HTTP/1.1 200 OK\r\n\r\n", 19) };
	(void)h;
	ok(!bs_proto_mysql.sniff(1, (const uint8_t *)"HTTP/1.1 200", 12), "sniff: HTTP is not MySQL");
	ok(bs_proto_mysql.sniff(1, (const uint8_t *)"\x4a\x00\x00\x00\x0a" "8.0", 8), "sniff: greeting");
	is_int(bs_proto_mysql.strerror(BS_MYSQL_ERR_NOT_MYSQL)[0] != '\0', 1, "strerror");
}

int main(void)
{
	test_session();
	test_deprecate_eof();
	test_auth_fail_and_ssl();
	test_query_attributes();
	test_more_results();
	test_big_value();
	test_gap_and_truncation();
	test_row_tags_and_cut();
	test_garbage();
	return tap_done();
}
