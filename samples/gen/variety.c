/* variety.c - configurations that are not attacks (scenarios variety and
 * variety-clean, docs/SAMPLES.md "Variety"): webmail hosts that relay
 * unauthenticated or hand mail to the sendmail binary, big attachments,
 * clients behind NAT, an IMAP proxy, IPv6 and POP3 clients, backups,
 * monitoring, an administrator's work and a mailing-list server. None of it
 * may make breachscope judge a server anything but clean. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "sim.h"

#define IPV4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
static const uint32_t CGNAT_IP = IPV4(198, 18, 255, 1);   /* a mobile carrier's CGNAT */
static const uint32_t OFFICE_IP = IPV4(198, 19, 100, 1);  /* a customer's office NAT */
static const uint32_t PROXY_IP = IPV4(10, 0, 2, 21);      /* imapproxy1 in front of imap1 */
static const uint32_t LISTS_IP = IPV4(10, 0, 2, 60);      /* lists1, the mailing-list server */
static const uint32_t OFFSITE_IP = IPV4(198, 51, 100, 30); /* the offsite backup service */
static const uint32_t METRICS_IP = IPV4(198, 51, 100, 31); /* the hosted monitoring's collector */
static const uint32_t NAGIOS_IP = IPV4(10, 0, 9, 20);     /* the internal monitoring probe */
#define MINUTE (60 * BS_USEC)
#define HOUR_US (3600 * BS_USEC)

/* wm1, wm2 relay without SMTP AUTH (mynetworks); wm4, wm5 hand the message
 * to the sendmail binary (Postfix pickup as apache, uid 48, sender the
 * user); wm3, wm6 submit with SMTP AUTH as the reference does. */
enum send_mode { SEND_AUTH, SEND_UNAUTH, SEND_BINARY };
static enum send_mode send_mode(int server)
{
	return server < 2 ? SEND_UNAUTH : (server == 3 || server == 4) ? SEND_BINARY : SEND_AUTH;
}

void variety_init(void)
{
	for (int i = 0; i < W.nusers; i++) {
		struct user *u = &W.users[i];
		double p = rng_unit(R);
		if (p < 0.4 || (p < 0.5 && !u->desktop)) {
			u->ip = p < 0.4 ? CGNAT_IP : OFFICE_IP;
			u->nat = true;
		}
		u->access = (uint8_t)(u->desktop ? rng_below(R, 4) : ACC_DIRECT);
	}
}

static void ip_text(uint32_t ip, char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255);
}

void variety_desktop_login(int user, bs_time t)
{
	struct user *u = &W.users[user];
	if (u->access == ACC_DIRECT) {
		imap_desktop_login(user, t);
		return;
	}
	char rip[48], sess[20];
	if (u->access == ACC_PROXY)
		ip_text(PROXY_IP, rip, sizeof rip);
	else if (u->access == ACC_IPV6)
		snprintf(rip, sizeof rip, "2001:db8:%x:%x::%x", 16 + user % 200, user / 200, 2 + user % 97);
	else
		ip_text(u->ip, rip, sizeof rip);
	const char *proto = u->access == ACC_POP3 ? "pop3" : "imap";
	dovecot_session(sess);
	out_syslog(H_IMAP1, t, "dovecot", 0, "%s-login: Login: user=<%s>, method=PLAIN, rip=%s, lip=10.0.2.20, mpid=%d, TLS, session=<%s>",
		proto, u->login_name, rip, next_pid(H_IMAP1), sess);
	if (u->access == ACC_POP3) {
		unsigned n = rng_below(R, 6), size = n * (2000 + rng_below(R, 30000));
		out_syslog(H_IMAP1, t + rng_span(R, 1, 20), "dovecot", 0, "pop3(%s): Disconnected: Logged out top=0/0, retr=%u/%u, del=%u/%u, size=%u",
			u->login_name, n, size, n, n, size);
	} else {
		out_syslog(H_IMAP1, t + rng_span(R, 20, 1800), "dovecot", 0, "imap(%s): Logged out in=%u out=%u",
			u->login_name, 200 + rng_below(R, 3000), 2000 + rng_below(R, 400000));
	}
}

/* A scanned document of 5-20 MB, base64 in 76-column lines (repetitive:
 * the archive stays small). */
static void add_attachment(struct buf *data)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t bytes = (size_t)(5 + rng_below(R, 16)) << 20;
	char line[78];
	for (int i = 0; i < 76; i++)
		line[i] = b64[rng_below(R, 64)];
	line[76] = '\r';
	line[77] = '\n';
	buf_puts(data, "\r\n--att\r\nContent-Type: application/pdf; name=\"scan.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
	buf_reserve(data, bytes + 64);
	for (size_t k = 0; k < bytes / sizeof line; k++) {
		line[k % 76] = b64[(k * 7) % 64];
		buf_add(data, line, sizeof line);
	}
	buf_puts(data, "--att--\r\n");
}

bs_time variety_send(int server, int user, const int *rcpt, int n, struct buf *data, bs_time t, bool *authed)
{
	const struct user *u = &W.users[user];
	const char *from = W.addrs[u->addr].s;
	if (W.addrs[rcpt[0]].user < 0 && rng_chance(R, 0.01))
		add_attachment(data);
	enum send_mode mode = send_mode(server);
	*authed = mode == SEND_AUTH;
	if (mode == SEND_AUTH)
		return smtp_to_relay(server, u->login_name, u->password, from, u->addr, rcpt, n, data->p, data->n, t, NULL);
	if (mode == SEND_UNAUTH)
		return smtp_to_relay(server, NULL, NULL, from, u->addr, rcpt, n, data->p, data->n, t, NULL);
	/* The sendmail binary: pickup as the web server's uid, the user as sender. */
	char qid[16], rq[16];
	new_qid(qid);
	out_syslog(server, t, "postfix/pickup", next_pid(server), "%s: uid=48 from=<%s>", qid, from);
	out_syslog(server, t + 20000, "postfix/cleanup", next_pid(server), "%s: message-id=<%llu.%s@%s>", qid,
		(unsigned long long)(t / BS_USEC), qid, LOCAL_DOMAIN);
	out_syslog(server, t + 40000, "postfix/qmgr", 1502, "%s: from=<%s>, size=%zu, nrcpt=%d (queue active)", qid, from, data->n, n);
	bs_time te = smtp_to_relay(server, NULL, NULL, from, u->addr, rcpt, n, data->p, data->n, t + 60000, rq);
	for (int i = 0; i < n; i++)
		out_syslog(server, te, "postfix/smtp", next_pid(server),
			"%s: to=<%s>, relay=relay1.example.net[10.0.2.30]:25, delay=%.1f, delays=0.04/0.01/0.1/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as %s)",
			qid, W.addrs[rcpt[i]].s, (double)(te - t) / 1e6, rq);
	out_syslog(server, te + 1000, "postfix/qmgr", 1502, "%s: removed", qid);
	return te;
}

/* A bulk TCP transfer started by server (the client side sends). */
static bs_time bulk_transfer(int server, uint32_t dst_ip, bool internal, uint16_t port, const char *hello, size_t bytes, bs_time t)
{
	struct host_addr dst;
	struct tcpconn tc;
	host_addr_v4(&dst, dst_ip, internal);
	tcp_connect(&tc, &hosts[server], &dst, eph_port(), port, t, 150, internal ? 150 : internet_rtt(), true);
	tcp_send(&tc, true, hello, strlen(hello));
	tcp_send(&tc, false, hello, strlen(hello));
	struct buf b = { 0 };
	while (bytes) {
		buf_clear(&b);
		while (b.n < 64 * 1024)
			buf_printf(&b, "var/www/html/mail/%08x 0644 %u\n", (unsigned)rng_below(R, 1u << 24), rng_below(R, 100000));
		size_t n = b.n < bytes ? b.n : bytes;
		tcp_send(&tc, false, b.p, n);
		bytes -= n;
	}
	buf_free(&b);
	tcp_send(&tc, true, "OK\n", 3);
	tcp_close(&tc, false, false);
	return tc.t;
}

void variety_nightly(int server, bs_time t)
{
	out_syslog(server, t, "CRON", next_pid(server), "(root) CMD (/usr/local/sbin/nightly-backup.sh)");
	t += 2 * BS_USEC;
	size_t local = (size_t)((100 + 200 * rng_unit(R)) * 1024 * W.scale);
	bs_time te = bulk_transfer(server, host_ip[H_BACKUP1], true, 873, "@RSYNCD: 29\n", local, t);
	out_syslog(H_BACKUP1, te, "rsyncd", 3121 + (int)rng_below(R, 500), "sent 2214 bytes  received %zu bytes  total size %zu",
		local, local);
	size_t offsite = (size_t)((200 + 400 * rng_unit(R)) * 1024 * W.scale);
	bulk_transfer(server, OFFSITE_IP, false, 22, "SSH-2.0-OpenSSH_4.3\r\n", offsite, te + rng_span(R, 5, 60));
}

/* An administrator's day: SSH to a webmail server, a few sudo commands. */
void variety_admin(bs_time t)
{
	static const char *const cmds[] = {
		"/usr/bin/tail -n 200 /var/log/httpd/error_log", "/sbin/service httpd graceful", "/usr/bin/yum -y update php",
		"/bin/rm -f /var/www/html/mail/tmp/sess_0a1b2c3d", "/usr/sbin/postqueue -p", "/bin/df -h",
		"/usr/bin/vi /etc/httpd/conf/httpd.conf", "/bin/cp /var/www/html/mail/config.php /root/config.php.bak",
	};
	int server = (int)rng_below(R, NWEB), pid = next_pid(server);
	out_syslog(server, t, "sshd", pid, "Accepted publickey for admin from 10.0.9.5 port %u ssh2", eph_port());
	out_syslog(server, t + 1000, "sshd", pid, "pam_unix(sshd:session): session opened for user admin by (uid=0)");
	bs_time tc = t;
	for (unsigned k = 0, n = 1 + rng_below(R, 4); k < n; k++) {
		tc += rng_span(R, 30, 600);
		out_syslog(server, tc, "sudo", 0, "   admin : TTY=pts/0 ; PWD=/home/admin ; USER=root ; COMMAND=%s",
			cmds[rng_below(R, sizeof cmds / sizeof cmds[0])]);
	}
	out_syslog(server, tc + rng_span(R, 60, 900), "sshd", pid, "pam_unix(sshd:session): session closed for user admin");
}

void variety_monitor(bs_time t)
{
	static const char status[] = "Total Accesses: 81234\nTotal kBytes: 912345\nUptime: 1209600\nBusyWorkers: 7\nIdleWorkers: 13\n";
	for (int s = 0; s < NWEB; s++) {
		struct webconn w;
		web_begin(&w, s, NAGIOS_IP, "check_http/v1.4.9 (nagios-plugins 1.4.9)");
		struct http_reply rep = { 200, "text/plain", NULL, status, sizeof status - 1, false };
		bs_time te = web_request(&w, t + (bs_time)s * 300000, "GET", "/server-status?auto", NULL, NULL, 0, &rep, -1);
		web_end(&w);
		/* the hosted monitoring's agent pushes its metrics out */
		char hello[160];
		snprintf(hello, sizeof hello, "POST /v1/metrics?host=%s HTTP/1.1\r\nHost: collector.monitoring.example\r\n\r\n", host_names[s]);
		bulk_transfer(s, METRICS_IP, false, 443, hello, 1500 + rng_below(R, 1500), te + rng_span(R, 1, 20));
	}
}

void variety_list_post(bs_time t)
{
	static struct host_addr lists;
	host_addr_v4(&lists, LISTS_IP, true);
	int sender = addr_intern("announce-bounces@example.net");
	int rcpt[64], n = 20 + (int)rng_below(R, 40);
	for (int i = 0; i < n;) {
		int a = rng_chance(R, 0.6) ? W.users[rng_below(R, (uint32_t)W.nusers)].addr : W.pool[rng_below(R, (uint32_t)W.npool)];
		bool twice = false;
		for (int k = 0; k < i; k++)
			twice |= rcpt[k] == a;
		if (!twice)
			rcpt[i++] = a;
	}
	struct buf data = { 0 };
	buf_printf(&data, "From: announce@lists.example.net\r\nTo: announce@lists.example.net\r\nSubject: [announce] %s\r\n"
		"Message-ID: <%llu.list@lists.example.net>\r\nList-Id: <announce.lists.example.net>\r\n\r\n",
		random_subject(), (unsigned long long)(t / BS_USEC));
	for (unsigned k = 0, lines = 100 + rng_below(R, 500); k < lines; k++)
		buf_puts(&data, "The service will be upgraded this weekend; webmail stays available.\r\n");
	smtp_submit(&lists, "lists1", NULL, NULL, W.addrs[sender].s, sender, rcpt, n, data.p, data.n, t, NULL);
	buf_free(&data);
}

void variety_fleet_rows(FILE *fp)
{
	fputs("imapproxy1,10.0.2.21,imap\nlists1,10.0.2.60,lists\n", fp);
}
