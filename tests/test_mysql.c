/* test_mysql.c - what the MySQL cases (tests/cases/mysql) cannot hold: a
 * value of more than 16 MB over two packets (a case is at most 1 MB), the
 * 16 KiB cap of a statement (an event line is cut at 4 KiB), garbage and
 * the sniffer. */
#include "stream_session.h"
#include "parsers/stream/mysql.h"
#include "src/core/event.h"

/* Every event as its bs_event_format line; the last statement's length and
 * cap flag, which a cut line cannot show. */
static size_t last_sql_len;
static bool last_sql_truncated;
static void mysql_sink(void *ctx, const struct bs_event *ev)
{
	if (ev->type == BS_EV_DBQUERY) {
		last_sql_len = ev->u.dbquery.sql.n;
		last_sql_truncated = ev->u.dbquery.sql_truncated;
	}
	format_sink(ctx, ev);
}

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

static void query(uint8_t cmd, const char *sql)
{
	size_t n = strlen(sql);
	pln = 0;
	pl_u8(cmd);
	pl_mem(sql, n);
	b_pkt(0, 0, pl, pln);
}

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
	is_int(rec_count("addr "), 1, "one address in the 16 MB value");
	ok(strstr(rec_find("addr ", 0), " ref=7340033 address=zed@split.example.com to_client=1 column=data") != NULL,
	   "address across a 16 MB packet boundary");
	is_int(rec_count("dbresult "), 1, "16 MB row: one result");
	ok(strstr(rec_find("dbresult ", 0), " rows=1 columns=1 ") != NULL, "16 MB row counted once");
	run_session(&bs_proto_mysql, steps, nsteps, 65521, 0);
	char pieces[4096];
	rec_join(pieces, sizeof pieces);
	is_str(pieces, whole, "16 MB row in 64 KiB segments: same events");
	free(big);
}

/* A 20 KB statement: capped at 16 KiB and marked truncated. */
static void test_long_statement(void)
{
	static char longsql[20000];
	memset(longsql, 'x', sizeof longsql - 1);
	memcpy(longsql, "SELECT ", 7);
	b_reset();
	greeting(CAPS_BASE);
	login(CAPS_BASE, "webmail", "atmail");
	ok_pkt(2, 0, 2, 0);
	query(3, longsql);
	ok_pkt(1, 0, 2, 0);
	last_sql_len = 0;
	last_sql_truncated = false;
	check_segmentation(&bs_proto_mysql, steps, nsteps, "long statement");
	is_int(rec_count("dbquery "), 1, "long statement: one query");
	is_int((long long)last_sql_len, 16384, "20 KB statement: capped at 16 KiB");
	ok(last_sql_truncated, "20 KB statement: sql_truncated");
	ok(strstr(rec_find("dbquery ", 0), " sql=SELECT xxx") != NULL, "long statement: its text kept");
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
	rec_sink_obj.fn = mysql_sink;
	test_big_value();
	test_long_statement();
	test_garbage();
	return tap_done();
}
