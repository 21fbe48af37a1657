/* proto.c - the wire conversations and daemon log lines of the back end:
 * MySQL (classic protocol, text result sets), IMAP logins (Dovecot), SMTP
 * submission to the relay (Postfix), incoming mail on the MX (Postfix +
 * amavis), FTP uploads and DNS lookups. */
#include "config.h"
#include <stdlib.h>
#include <zlib.h>
#include <string.h>
#include "sim.h"

rng_t *R;

uint16_t eph_port(void) { return (uint16_t)(32768 + rng_below(R, 28000)); }

int next_pid(int host)
{
	static int pid[NHOSTS];
	if (!pid[host])
		pid[host] = 1200 + (int)rng_below(R, 3000);
	pid[host] += 1 + (int)rng_below(R, 40);
	if (pid[host] > 32000)
		pid[host] = 1200;
	return pid[host];
}

void new_qid(char out[16])
{
	static const char hex[] = "0123456789ABCDEF";
	for (int i = 0; i < 10; i++)
		out[i] = hex[rng_below(R, 16)];
	out[10] = 0;
}

void dovecot_session(char out[20])
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (int i = 0; i < 16; i++)
		out[i] = b64[rng_below(R, 64)];
	out[16] = 0;
}

void outside_mta(const char *domain, char *name, size_t nn, struct host_addr *h)
{
	uint64_t k = bs_hash_bytes(domain, strlen(domain), 7);
	snprintf(name, nn, "%s.%s", k & 1 ? "mx" : "mail", domain);
	host_addr_v4(h, 0xC613C800u | (uint32_t)(10 + k % 200), false);
}

bs_time internet_rtt(void) { return 15000 + (bs_time)rng_below(R, 90000); }

static const bs_time LAN = 150; /* capture point <-> an internal host and back, in us */

/* ----------------------------------------------------------------- MySQL */
static struct buf mbuf;
static uint8_t mseq;

static void m_begin(uint8_t seq) { buf_add(&mbuf, "\0\0\0", 3); buf_add(&mbuf, &seq, 1); }
static size_t m_hdr;
static void m_start(void) { m_hdr = mbuf.n; m_begin(mseq++); }
static void m_end(void)
{
	size_t len = mbuf.n - m_hdr - 4;
	mbuf.p[m_hdr] = (char)len;
	mbuf.p[m_hdr + 1] = (char)(len >> 8);
	mbuf.p[m_hdr + 2] = (char)(len >> 16);
}
static void m_byte(uint8_t b) { buf_add(&mbuf, &b, 1); }
static void m_lenenc(uint64_t v)
{
	if (v < 251) {
		m_byte((uint8_t)v);
	} else if (v < 65536) {
		m_byte(0xfc); m_byte((uint8_t)v); m_byte((uint8_t)(v >> 8));
	} else {
		m_byte(0xfd); m_byte((uint8_t)v); m_byte((uint8_t)(v >> 8)); m_byte((uint8_t)(v >> 16));
	}
}
static void m_str(const char *s) { m_lenenc(strlen(s)); buf_puts(&mbuf, s); }

/* The variety world's wm1 and wm3 connect with the compressed protocol
 * (PHP's MYSQLI_CLIENT_COMPRESS): after the login every send is one frame,
 * zlib-compressed (deterministic: no draw), its 7-byte header first. */
static bool m_compress;
static void m_send(struct tcpconn *tc, bool from_server, const char *p, size_t n)
{
	if (!m_compress) {
		tcp_send(tc, from_server, p, n);
		return;
	}
	struct buf z = { 0 };
	uLongf zn = compressBound((uLong)n);
	buf_reserve(&z, 7 + zn);
	if (compress((Bytef *)z.p + 7, &zn, (const Bytef *)p, (uLong)n) != Z_OK)
		abort();
	uint8_t *h = (uint8_t *)z.p;
	h[0] = (uint8_t)zn; h[1] = (uint8_t)(zn >> 8); h[2] = (uint8_t)(zn >> 16);
	h[3] = from_server ? 1 : 0;
	h[4] = (uint8_t)n; h[5] = (uint8_t)(n >> 8); h[6] = (uint8_t)(n >> 16);
	tcp_send(tc, from_server, z.p, 7 + (size_t)zn);
	buf_free(&z);
}

void mysql_open(struct tcpconn *tc, int server, bs_time t, const char *user)
{
	tcp_connect(tc, &hosts[server], &hosts[H_DB1], eph_port(), 3306, t, LAN, LAN, true);
	buf_clear(&mbuf);
	mseq = 0;
	m_compress = false; /* the handshake is plain */
	bool compress_after = W.variety && (server == H_WM1 || server == H_WM1 + 2);
	m_start();
	m_byte(10);
	buf_add(&mbuf, "5.0.45-log", 11);
	uint32_t tid = 1000 + rng_below(R, 900000);
	for (int i = 0; i < 4; i++)
		m_byte((uint8_t)(tid >> (8 * i)));
	for (int i = 0; i < 8; i++)
		m_byte((uint8_t)(33 + rng_below(R, 90)));
	m_byte(0);
	m_byte(0x2c); m_byte(0xa2); /* capabilities: protocol 4.1, secure connection, ... */
	m_byte(8);                  /* latin1 */
	m_byte(2); m_byte(0);       /* autocommit */
	for (int i = 0; i < 13; i++)
		m_byte(0);
	for (int i = 0; i < 12; i++)
		m_byte((uint8_t)(33 + rng_below(R, 90)));
	m_byte(0);
	m_end();
	tcp_send(tc, true, mbuf.p, mbuf.n);
	/* Client authentication (4.1), database atmail. */
	buf_clear(&mbuf);
	m_start();
	m_byte(compress_after ? 0xad : 0x8d); m_byte(0xa6); m_byte(0x03); m_byte(0x00); /* 0x20: compress */
	m_byte(0); m_byte(0); m_byte(0); m_byte(1);
	m_byte(8);
	for (int i = 0; i < 23; i++)
		m_byte(0);
	buf_add(&mbuf, user, strlen(user) + 1);
	m_byte(20);
	for (int i = 0; i < 20; i++)
		m_byte((uint8_t)rng_next(R));
	buf_add(&mbuf, "atmail", 7);
	m_end();
	tcp_wait(tc, 80);
	tcp_send(tc, false, mbuf.p, mbuf.n);
	buf_clear(&mbuf);
	m_start();
	m_byte(0); m_byte(0); m_byte(0); m_byte(2); m_byte(0); m_byte(0); m_byte(0);
	m_end();
	tcp_wait(tc, 200);
	tcp_send(tc, true, mbuf.p, mbuf.n);
	m_compress = compress_after;
}

static void send_query(struct tcpconn *tc, const char *sql)
{
	buf_clear(&mbuf);
	mseq = 0;
	m_start();
	m_byte(3);
	buf_puts(&mbuf, sql);
	m_end();
	tcp_wait(tc, 300 + rng_below(R, 2000));
	m_send(tc, false, mbuf.p, mbuf.n);
	buf_clear(&mbuf);
}

static void m_eof(void)
{
	m_start();
	m_byte(0xfe); m_byte(0); m_byte(0); m_byte(2); m_byte(0);
	m_end();
}

static size_t gap_from = SIZE_MAX, gap_to = SIZE_MAX;
void mysql_set_gap(size_t from, size_t to)
{
	gap_from = from;
	gap_to = to;
}

void mysql_select(struct tcpconn *tc, const char *sql, const char *table, const char *const *cols, size_t ncols,
	size_t nrows, cell_fn cell, void *ctx)
{
	send_query(tc, sql);
	m_start();
	m_lenenc(ncols);
	m_end();
	for (size_t c = 0; c < ncols; c++) {
		m_start();
		m_str("def"); m_str("atmail"); m_str(table); m_str(table); m_str(cols[c]); m_str(cols[c]);
		m_byte(0x0c);
		m_byte(8); m_byte(0);
		m_byte(0xff); m_byte(0); m_byte(0); m_byte(0);
		m_byte(0xfd);
		m_byte(0); m_byte(0);
		m_byte(0);
		m_byte(0); m_byte(0);
		m_end();
	}
	m_eof();
	size_t cut[2] = { mbuf.n, mbuf.n };
	for (size_t r = 0; r < nrows; r++) {
		if (r == gap_from)
			cut[0] = mbuf.n;
		if (r == gap_to)
			cut[1] = mbuf.n;
		m_start();
		for (size_t c = 0; c < ncols; c++)
			m_str(cell(ctx, r, c));
		m_end();
	}
	m_eof();
	/* Server time grows with the size of the answer. */
	tcp_wait(tc, 400 + (bs_time)nrows * 3);
	if (gap_from < gap_to && gap_to <= nrows && !m_compress) {
		/* A capture gap: the middle of the result set is sent but not seen. */
		tcp_send(tc, true, mbuf.p, cut[0]);
		tc->captured = false;
		tcp_send(tc, true, mbuf.p + cut[0], cut[1] - cut[0]);
		tc->captured = true;
		tcp_send(tc, true, mbuf.p + cut[1], mbuf.n - cut[1]);
	} else {
		m_send(tc, true, mbuf.p, mbuf.n);
	}
	gap_from = gap_to = SIZE_MAX;
}

void mysql_exec(struct tcpconn *tc, const char *sql, uint64_t affected)
{
	send_query(tc, sql);
	m_start();
	m_byte(0);
	m_lenenc(affected);
	m_lenenc(0);
	m_byte(2); m_byte(0); m_byte(0); m_byte(0);
	m_end();
	tcp_wait(tc, 600);
	m_send(tc, true, mbuf.p, mbuf.n);
}

void mysql_quit(struct tcpconn *tc)
{
	buf_clear(&mbuf);
	mseq = 0;
	m_start();
	m_byte(1);
	m_end();
	tcp_wait(tc, 100);
	m_send(tc, false, mbuf.p, mbuf.n);
	tcp_close(tc, false, false);
}

/* ------------------------------------------------------------------ IMAP */
static struct buf tbuf;

static void say(struct tcpconn *tc, bool from_server, bs_time think, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void say(struct tcpconn *tc, bool from_server, bs_time think, const char *fmt, ...)
{
	buf_clear(&tbuf);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&tbuf, fmt, ap);
	va_end(ap);
	tcp_wait(tc, think);
	tcp_send(tc, from_server, tbuf.p, tbuf.n);
}

bs_time imap_webmail_login(int server, const char *login_name, const char *password, bool ok, bs_time t)
{
	struct tcpconn tc;
	tcp_connect(&tc, &hosts[server], &hosts[H_IMAP1], eph_port(), 143, t, LAN, LAN, true);
	say(&tc, true, 300, "* OK Dovecot ready.\r\n");
	say(&tc, false, 200, "a1 LOGIN \"%s\" \"%s\"\r\n", login_name, password);
	char sess[20], rip[BS_IP_STRLEN];
	dovecot_session(sess);
	host_addr_format(&hosts[server], rip, sizeof rip);
	tcp_wait(&tc, 2000 + rng_below(R, 20000));
	if (!ok) {
		tcp_wait(&tc, 2 * BS_USEC); /* Dovecot's auth failure delay */
		say(&tc, true, 0, "a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
		say(&tc, false, 200, "a2 LOGOUT\r\n");
		say(&tc, true, 200, "* BYE Logging out\r\na2 OK Logout completed.\r\n");
		tcp_close(&tc, true, false);
		out_syslog(H_IMAP1, tc.t, "dovecot", 0,
			"imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<%s>, method=PLAIN, rip=%s, lip=10.0.2.20, session=<%s>",
			login_name, rip, sess);
		return tc.t;
	}
	say(&tc, true, 0, "a1 OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT THREAD=REFERENCES MULTIAPPEND UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS] Logged in\r\n");
	int mpid = next_pid(H_IMAP1);
	out_syslog(H_IMAP1, tc.t, "dovecot", 0,
		"imap-login: Login: user=<%s>, method=PLAIN, rip=%s, lip=10.0.2.20, mpid=%d, session=<%s>",
		login_name, rip, mpid, sess);
	unsigned exists = 3 + rng_below(R, 200);
	say(&tc, false, 300, "a2 SELECT \"INBOX\"\r\n");
	say(&tc, true, 1500, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n"
		"* %u EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1167609600] UIDs valid\r\n* OK [UIDNEXT %u] Predicted next UID\r\na2 OK [READ-WRITE] Select completed.\r\n",
		exists, exists + 1);
	say(&tc, false, 300, "a3 LOGOUT\r\n");
	say(&tc, true, 300, "* BYE Logging out\r\na3 OK Logout completed.\r\n");
	tcp_close(&tc, true, false);
	out_syslog(H_IMAP1, tc.t, "dovecot", 0, "imap(%s): Logged out in=%u out=%u", login_name,
		60 + rng_below(R, 30), 700 + rng_below(R, 400));
	return tc.t;
}

void imap_desktop_login(int user, bs_time t)
{
	struct user *u = &W.users[user];
	char sess[20];
	dovecot_session(sess);
	uint32_t ip = u->ip;
	int mpid = next_pid(H_IMAP1);
	out_syslog(H_IMAP1, t, "dovecot", 0,
		"imap-login: Login: user=<%s>, method=PLAIN, rip=%u.%u.%u.%u, lip=10.0.2.20, mpid=%d, TLS, session=<%s>",
		u->login_name, ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255, mpid, sess);
	out_syslog(H_IMAP1, t + rng_span(R, 20, 1800), "dovecot", 0, "imap(%s): Logged out in=%u out=%u",
		u->login_name, 200 + rng_below(R, 3000), 2000 + rng_below(R, 400000));
}

/* ------------------------------------------------------------------ SMTP */
static void lmtp_delivery(int host, const char *qid, int rcpt_user, const char *msgid, bs_time t)
{
	const char *rcpt = W.addrs[W.users[rcpt_user].addr].s;
	char sess[20];
	dovecot_session(sess);
	/* Dovecot's LMTP answer: "250 2.0.0 <rcpt> <session id> Saved". */
	out_syslog(host, t, "postfix/lmtp", next_pid(host),
		"%s: to=<%s>, relay=imap1.example.net[10.0.2.20]:24, delay=%.1f, delays=0.1/0/0.1/0.%u, dsn=2.0.0, status=sent (250 2.0.0 <%s> %s Saved)",
		qid, rcpt, 0.3 + rng_unit(R), rng_below(R, 9) + 1, rcpt, sess);
	out_syslog(H_IMAP1, t + 20000, "dovecot", 0, "lmtp(%s): msgid=%s: saved mail to INBOX", rcpt, msgid);
}

bs_time smtp_to_relay(int server, const char *auth_user, const char *password, const char *from, int sender_addr,
	const int *rcpts, int nrcpt, const char *data, size_t dlen, bs_time t, char *qid_out)
{
	return smtp_submit(&hosts[server], host_names[server], auth_user, password, from, sender_addr, rcpts, nrcpt,
		data, dlen, t, qid_out);
}

bs_time smtp_submit(const struct host_addr *client, const char *client_host, const char *auth_user, const char *password,
	const char *from, int sender_addr, const int *rcpts, int nrcpt, const char *data, size_t dlen, bs_time t, char *qid_out)
{
	struct tcpconn tc;
	char qid[16], cname[64], msgid[128];
	new_qid(qid);
	snprintf(cname, sizeof cname, "%s.example.net[%u.%u.%u.%u]", client_host, client->ip[0],
		client->ip[1], client->ip[2], client->ip[3]);
	int spid = next_pid(H_RELAY1);
	tcp_connect(&tc, client, &hosts[H_RELAY1], eph_port(), 25, t, LAN, LAN, true);
	out_syslog(H_RELAY1, tc.t, "postfix/smtpd", spid, "connect from %s", cname);
	say(&tc, true, 500, "220 relay1.example.net ESMTP Postfix\r\n");
	say(&tc, false, 200, "EHLO %s.example.net\r\n", client_host);
	say(&tc, true, 300, "250-relay1.example.net\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n"
		"250-AUTH PLAIN LOGIN\r\n250-AUTH=PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 DSN\r\n");
	if (auth_user) {
		struct buf b = { 0 };
		say(&tc, false, 200, "AUTH LOGIN\r\n");
		say(&tc, true, 200, "334 VXNlcm5hbWU6\r\n");
		base64_encode(&b, auth_user, strlen(auth_user));
		say(&tc, false, 200, "%s\r\n", b.p);
		say(&tc, true, 200, "334 UGFzc3dvcmQ6\r\n");
		buf_clear(&b);
		base64_encode(&b, password, strlen(password));
		say(&tc, false, 200, "%s\r\n", b.p);
		buf_free(&b);
		say(&tc, true, 3000, "235 2.7.0 Authentication successful\r\n");
	}
	say(&tc, false, 200, "MAIL FROM:<%s>\r\n", from);
	say(&tc, true, 300, "250 2.1.0 Ok\r\n");
	if (auth_user)
		out_syslog(H_RELAY1, tc.t, "postfix/smtpd", spid, "%s: client=%s, sasl_method=LOGIN, sasl_username=%s", qid, cname, auth_user);
	else
		out_syslog(H_RELAY1, tc.t, "postfix/smtpd", spid, "%s: client=%s", qid, cname);
	for (int i = 0; i < nrcpt; i++) {
		say(&tc, false, 200, "RCPT TO:<%s>\r\n", W.addrs[rcpts[i]].s);
		say(&tc, true, 300, "250 2.1.5 Ok\r\n");
	}
	say(&tc, false, 200, "DATA\r\n");
	say(&tc, true, 200, "354 End data with <CR><LF>.<CR><LF>\r\n");
	tcp_wait(&tc, 200);
	tcp_send(&tc, false, data, dlen);
	say(&tc, false, 0, "\r\n.\r\n");
	/* The Message-ID header of the data. */
	const char *mid = strstr(data, "Message-ID: ");
	size_t ml = 0;
	if (mid) {
		mid += 12;
		ml = strcspn(mid, "\r\n");
	}
	snprintf(msgid, sizeof msgid, "%.*s", (int)(ml < sizeof msgid ? ml : sizeof msgid - 1), mid ? mid : "");
	out_syslog(H_RELAY1, tc.t + 1000, "postfix/cleanup", next_pid(H_RELAY1), "%s: message-id=%s", qid, msgid);
	say(&tc, true, 5000, "250 2.0.0 Ok: queued as %s\r\n", qid);
	bs_time tq = tc.t;
	size_t size = dlen + 400;
	out_syslog(H_RELAY1, tq, "postfix/qmgr", 1877, "%s: from=<%s>, size=%zu, nrcpt=%d (queue active)", qid, from, size, nrcpt);
	say(&tc, false, 200, "QUIT\r\n");
	say(&tc, true, 200, "221 2.0.0 Bye\r\n");
	tcp_close(&tc, false, false);
	out_syslog(H_RELAY1, tc.t, "postfix/smtpd", spid, "disconnect from %s", cname);
	bs_time td = tq;
	for (int i = 0; i < nrcpt; i++) {
		const struct addr *a = &W.addrs[rcpts[i]];
		td += rng_span(R, 0.05, 0.9);
		if (a->user >= 0) {
			lmtp_delivery(H_RELAY1, qid, a->user, msgid, td);
			truth_delivered(sender_addr, a->user, td);
		} else {
			char mta[128];
			struct host_addr h;
			const char *dom = strrchr(a->s, '@');
			outside_mta(dom ? dom + 1 : "example.org", mta, sizeof mta, &h);
			char nq[16];
			new_qid(nq);
			out_syslog(H_RELAY1, td, "postfix/smtp", next_pid(H_RELAY1),
				"%s: to=<%s>, relay=%s[%u.%u.%u.%u]:25, delay=%.1f, delays=0.1/0/0.3/0.%u, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as %s)",
				qid, a->s, mta, h.ip[0], h.ip[1], h.ip[2], h.ip[3], 0.5 + rng_unit(R) * 2, rng_below(R, 9) + 1, nq);
		}
	}
	out_syslog(H_RELAY1, td + 2000, "postfix/qmgr", 1877, "%s: removed", qid);
	if (qid_out)
		strcpy(qid_out, qid);
	return tc.t;
}

static void mx_connect_lines(const char *mta, const struct host_addr *h, int pid, bs_time t)
{
	out_syslog(H_MX1, t, "postfix/smtpd", pid, "connect from %s[%u.%u.%u.%u]", mta, h->ip[0], h->ip[1], h->ip[2], h->ip[3]);
}

static const char *const subjects[] = {
	"Meeting on Thursday", "Re: invoice 2007-114", "Photos from the weekend", "Re: Re: project plan",
	"Your order has shipped", "Lunch?", "Fwd: schedule", "Minutes of the board meeting", "Re: contract draft",
	"Holiday plans", "Newsletter May", "Re: quick question", "Tickets", "Re: budget", "Welcome aboard",
};
const char *random_subject(void);
const char *random_subject(void) { return subjects[rng_below(R, sizeof subjects / sizeof subjects[0])]; }

void mx_deliver_incoming(int sender, int rcpt_user, bs_time t)
{
	const char *from = W.addrs[sender].s, *to = W.addrs[W.users[rcpt_user].addr].s;
	const char *dom = strrchr(from, '@');
	char mta[128], q1[16], q2[16], mid[128], mailid[20];
	struct host_addr h;
	outside_mta(dom ? dom + 1 : "example.org", mta, sizeof mta, &h);
	new_qid(q1);
	new_qid(q2);
	dovecot_session(mailid);
	mailid[12] = 0;
	snprintf(mid, sizeof mid, "<%llu.%s@%s>", (unsigned long long)(t / BS_USEC), q1, dom ? dom + 1 : "example.org");
	int pid = next_pid(H_MX1);
	unsigned size = 1500 + rng_below(R, 30000);
	mx_connect_lines(mta, &h, pid, t);
	t += rng_span(R, 0.2, 1.5);
	out_syslog(H_MX1, t, "postfix/smtpd", pid, "%s: client=%s[%u.%u.%u.%u]", q1, mta, h.ip[0], h.ip[1], h.ip[2], h.ip[3]);
	out_syslog(H_MX1, t + 50000, "postfix/cleanup", next_pid(H_MX1), "%s: message-id=%s", q1, mid);
	out_syslog(H_MX1, t + 90000, "postfix/qmgr", 2211, "%s: from=<%s>, size=%u, nrcpt=1 (queue active)", q1, from, size);
	out_syslog(H_MX1, t + 300000, "postfix/smtpd", pid, "disconnect from %s[%u.%u.%u.%u]", mta, h.ip[0], h.ip[1], h.ip[2], h.ip[3]);
	bs_time ta = t + rng_span(R, 0.4, 2.5);
	unsigned ms = 200 + rng_below(R, 1500);
	int apid = 4000 + (int)rng_below(R, 2000);
	out_syslog(H_MX1, ta, "amavis", apid,
		"(%05d-%02u) Passed CLEAN {RelayedInbound}, [%u.%u.%u.%u]:%u [%u.%u.%u.%u] <%s> -> <%s>, Queue-ID: %s, Message-ID: %s, mail_id: %s, Hits: %.1f, size: %u, queued_as: %s, %u ms",
		apid, rng_below(R, 20) + 1, h.ip[0], h.ip[1], h.ip[2], h.ip[3], 32768 + rng_below(R, 28000), h.ip[0], h.ip[1], h.ip[2], h.ip[3],
		from, to, q1, mid, mailid, -2.0 + rng_unit(R) * 3, size, q2, ms);
	out_syslog(H_MX1, ta + 1000, "postfix/smtp", next_pid(H_MX1),
		"%s: to=<%s>, relay=127.0.0.1[127.0.0.1]:10024, delay=%.1f, delays=0.1/0/0/%.1f, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as %s)",
		q1, to, (double)(ta - t) / 1e6 + 0.1, ms / 1000.0, q2);
	out_syslog(H_MX1, ta + 2000, "postfix/qmgr", 2211, "%s: removed", q1);
	int p2 = next_pid(H_MX1);
	out_syslog(H_MX1, ta - 30000, "postfix/smtpd", p2, "connect from localhost[127.0.0.1]");
	out_syslog(H_MX1, ta - 20000, "postfix/smtpd", p2, "%s: client=localhost[127.0.0.1]", q2);
	out_syslog(H_MX1, ta - 10000, "postfix/cleanup", next_pid(H_MX1), "%s: message-id=%s", q2, mid);
	out_syslog(H_MX1, ta + 500, "postfix/qmgr", 2211, "%s: from=<%s>, size=%u, nrcpt=1 (queue active)", q2, from, size + 420);
	out_syslog(H_MX1, ta + 800, "postfix/smtpd", p2, "disconnect from localhost[127.0.0.1]");
	bs_time td = ta + rng_span(R, 0.1, 0.8);
	lmtp_delivery(H_MX1, q2, rcpt_user, mid, td);
	out_syslog(H_MX1, td + 1000, "postfix/qmgr", 2211, "%s: removed", q2);
	truth_delivered(sender, rcpt_user, td);
}

void mx_spam(int rcpt_user, bs_time t, bool rbl) { mx_spam_to(W.addrs[W.users[rcpt_user].addr].s, t, rbl); }

void mx_spam_to(const char *to, bs_time t, bool rbl)
{
	static const char *const spam_dom[] = { "cheap-meds.example", "replica-watch.example", "casino-win.example", "loans-now.example" };
	char from[96];
	snprintf(from, sizeof from, "%c%c%c%u@%s", 'a' + rng_below(R, 26), 'a' + rng_below(R, 26), 'a' + rng_below(R, 26),
		rng_below(R, 9999), spam_dom[rng_below(R, 4)]);
	uint32_t ip = 0xC6138000u | rng_below(R, 16000); /* 198.19.128.0/18 */
	unsigned a = ip >> 24, b = ip >> 16 & 255, c = ip >> 8 & 255, d = ip & 255;
	int pid = next_pid(H_MX1);
	out_syslog(H_MX1, t, "postfix/smtpd", pid, "connect from unknown[%u.%u.%u.%u]", a, b, c, d);
	if (rbl) {
		out_syslog(H_MX1, t + rng_span(R, 0.3, 2), "postfix/smtpd", pid,
			"NOQUEUE: reject: RCPT from unknown[%u.%u.%u.%u]: 554 5.7.1 Service unavailable; Client host [%u.%u.%u.%u] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/%u.%u.%u.%u; from=<%s> to=<%s> proto=ESMTP helo=<%s>",
			a, b, c, d, a, b, c, d, a, b, c, d, from, to, "localhost");
		out_syslog(H_MX1, t + rng_span(R, 2, 3), "postfix/smtpd", pid, "disconnect from unknown[%u.%u.%u.%u]", a, b, c, d);
		return;
	}
	char q1[16], mid[96], mailid[20];
	new_qid(q1);
	dovecot_session(mailid);
	mailid[12] = 0;
	snprintf(mid, sizeof mid, "<%08x%04x$%u@%u.%u.%u.%u>", (unsigned)rng_next(R), rng_below(R, 65536), rng_below(R, 999), a, b, c, d);
	unsigned size = 3000 + rng_below(R, 20000);
	t += rng_span(R, 0.3, 1.5);
	out_syslog(H_MX1, t, "postfix/smtpd", pid, "%s: client=unknown[%u.%u.%u.%u]", q1, a, b, c, d);
	out_syslog(H_MX1, t + 40000, "postfix/cleanup", next_pid(H_MX1), "%s: message-id=%s", q1, mid);
	out_syslog(H_MX1, t + 80000, "postfix/qmgr", 2211, "%s: from=<%s>, size=%u, nrcpt=1 (queue active)", q1, from, size);
	out_syslog(H_MX1, t + 200000, "postfix/smtpd", pid, "disconnect from unknown[%u.%u.%u.%u]", a, b, c, d);
	bs_time ta = t + rng_span(R, 0.5, 3);
	int apid = 4000 + (int)rng_below(R, 2000);
	out_syslog(H_MX1, ta, "amavis", apid,
		"(%05d-%02u) Blocked SPAM {DiscardedInbound}, [%u.%u.%u.%u]:%u [%u.%u.%u.%u] <%s> -> <%s>, quarantine: spam-%s, Queue-ID: %s, Message-ID: %s, mail_id: %s, Hits: %.3f, size: %u, %u ms",
		apid, rng_below(R, 20) + 1, a, b, c, d, 1024 + rng_below(R, 60000), a, b, c, d, from, to, mailid, q1, mid, mailid,
		8 + rng_unit(R) * 20, size, 800 + rng_below(R, 3000));
	out_syslog(H_MX1, ta + 1000, "postfix/smtp", next_pid(H_MX1),
		"%s: to=<%s>, relay=127.0.0.1[127.0.0.1]:10024, delay=3.1, delays=0.1/0/0/3, dsn=2.7.0, status=sent (250 2.7.0 Ok, discarded, id=%05d-%02u - spam)",
		q1, to, apid, rng_below(R, 20) + 1);
	out_syslog(H_MX1, ta + 2000, "postfix/qmgr", 2211, "%s: removed", q1);
}

/* ------------------------------------------------------------------- FTP */
bs_time ftp_upload(int server, const struct host_addr *dst, const char *user, const char *pass, const char *file,
	const char *data, size_t len, bs_time t)
{
	struct tcpconn ctl, dat;
	bs_time rtt = internet_rtt() * 3;
	tcp_connect(&ctl, &hosts[server], dst, eph_port(), 21, t, LAN, rtt, true);
	say(&ctl, true, 2000, "220 (vsFTPd 2.0.5)\r\n");
	say(&ctl, false, 5000, "USER %s\r\n", user);
	say(&ctl, true, 1000, "331 Please specify the password.\r\n");
	say(&ctl, false, 5000, "PASS %s\r\n", pass);
	say(&ctl, true, 20000, "230 Login successful.\r\n");
	say(&ctl, false, 3000, "TYPE I\r\n");
	say(&ctl, true, 1000, "200 Switching to Binary mode.\r\n");
	say(&ctl, false, 3000, "PASV\r\n");
	uint16_t port = (uint16_t)(40000 + rng_below(R, 20000));
	say(&ctl, true, 1000, "227 Entering Passive Mode (%u,%u,%u,%u,%u,%u).\r\n", dst->ip[0], dst->ip[1], dst->ip[2], dst->ip[3],
		port >> 8, port & 255);
	say(&ctl, false, 3000, "STOR %s\r\n", file);
	tcp_connect(&dat, &hosts[server], dst, eph_port(), port, ctl.t + 500, LAN, rtt, true);
	say(&ctl, true, 1000, "150 Ok to send data.\r\n");
	dat.t = ctl.t + 200;
	tcp_send(&dat, false, data, len);
	tcp_close(&dat, false, false);
	ctl.t = dat.t + 1000;
	say(&ctl, true, 2000, "226 File receive OK.\r\n");
	say(&ctl, false, 3000, "QUIT\r\n");
	say(&ctl, true, 1000, "221 Goodbye.\r\n");
	tcp_close(&ctl, true, false);
	return dat.t;
}

/* ------------------------------------------------------------------- DNS */
void dns_lookup(int server, const char *name, uint32_t answer, bs_time t)
{
	uint8_t m[512];
	size_t n = 0;
	uint16_t id = (uint16_t)rng_next(R);
	m[n++] = (uint8_t)(id >> 8); m[n++] = (uint8_t)id;
	m[n++] = 0x01; m[n++] = 0x00; /* RD */
	m[n++] = 0; m[n++] = 1; m[n++] = 0; m[n++] = 0; m[n++] = 0; m[n++] = 0; m[n++] = 0; m[n++] = 0;
	for (const char *p = name; *p && n < 400;) {
		size_t l = strcspn(p, ".");
		m[n++] = (uint8_t)l;
		memcpy(m + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	m[n++] = 0;
	m[n++] = 0; m[n++] = 1; m[n++] = 0; m[n++] = 1;
	uint16_t sport = eph_port();
	udp_send(&hosts[server], &hosts[H_DNS1], sport, 53, t, m, n);
	m[2] = 0x81; m[3] = 0x80; /* response, RD, RA */
	m[7] = 1;                 /* one answer */
	uint8_t ans[16] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4,
		(uint8_t)(answer >> 24), (uint8_t)(answer >> 16), (uint8_t)(answer >> 8), (uint8_t)answer };
	memcpy(m + n, ans, 16);
	udp_send(&hosts[H_DNS1], &hosts[server], 53, sport, t + 400 + rng_below(R, 30000), m, n + 16);
}
