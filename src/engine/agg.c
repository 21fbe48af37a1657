/* agg.c - ingest normalized events into the mergeable aggregate.
 *
 * Nothing here decides a verdict: it records, per key, the commutative facts
 * (first/last time, counts, sums) that the correlation needs once all inputs
 * are read; the tables themselves (upsert, merge, free) are agg_tables.c.
 * Nothing is allocated per event; tables grow with distinct keys. */
#include "config.h"
#include "src/engine/agg.h"
#include "src/engine/detect.h"
#include "src/core/addrscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ keys */

/* The input that names a flow, transaction or query in a join key: a
 * capture flow's first file (it may go on in the next rotated file). */
static uint32_t key_input(const struct bs_event *e)
{
	return e->origin.from_capture ? e->origin.flow_input : e->origin.input;
}

static uint32_t intern(struct bs_agg *a, bs_str s)
{
	return bs_strtab_intern(&a->str, s.p ? s.p : "", s.p ? s.n : 0);
}

/* The join key of a transaction or query of the event's input. */
static uint32_t join_key(struct bs_agg *a, const struct bs_event *e, enum bs_join_kind kind, uint64_t id)
{
	struct bs_joinkey k;
	memset(&k, 0, sizeof k);
	k.kind = (uint8_t)kind;
	k.input = key_input(e);
	k.id = id;
	return bs_agg_add_keys(a, &k);
}

/* "ip:" and the address as bs_ip_format writes it; an IPv4 address by hand
 * (inet_ntop's sprintf costs some 1,800 instructions, and clients of mail
 * and logins are many: the lookaside cache misses often). */
static size_t host_ip_key(const bs_ip *ip, char *buf, size_t size)
{
	memcpy(buf, "ip:", 3);
	if (ip->family != 4) {
		bs_ip_format(ip, buf + 3, size - 3);
		return 3 + strlen(buf + 3);
	}
	size_t o = 3;
	for (int i = 0; i < 4; i++) {
		unsigned v = ip->a[i];
		if (i)
			buf[o++] = '.';
		if (v >= 100)
			buf[o++] = (char)('0' + v / 100);
		if (v >= 10)
			buf[o++] = (char)('0' + v / 10 % 10);
		buf[o++] = (char)('0' + v % 10);
	}
	buf[o] = 0;
	return o;
}

uint32_t bs_agg_host_ip(struct bs_agg *a, const bs_ip *ip)
{
	if (!ip->family)
		return 0;
	size_t len = ip->family == 4 ? 4 : 16;
	uint64_t h = 0;
	memcpy(&h, ip->a + (len == 4 ? 0 : 8), len == 4 ? 4 : 8); /* the varying low bytes */
	size_t slot = (size_t)((h * 0x9E3779B97F4A7C15ULL) >> 58); /* 64 slots */
	if (a->ip_cache[slot].id && bs_ip_eq(&a->ip_cache[slot].ip, ip))
		return a->ip_cache[slot].id;
	char buf[BS_IP_STRLEN + 4];
	uint32_t id = bs_strtab_intern(&a->str, buf, host_ip_key(ip, buf, sizeof buf));
	a->ip_cache[slot].ip = *ip;
	a->ip_cache[slot].id = id;
	return id;
}

/* The id of "name:" and the lower-cased name (its first 128 bytes), past
 * the lookaside cache. */
static uint32_t host_name_uncached(struct bs_agg *a, bs_str name)
{
	if (!name.n)
		return 0;
	size_t n = name.n < 128 ? name.n : 128;
	char buf[136];
	memcpy(buf, "name:", 5);
	for (size_t i = 0; i < n; i++) {
		char c = name.p[i];
		buf[5 + i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	return bs_strtab_intern(&a->str, buf, 5 + n);
}

uint32_t bs_agg_host_name(struct bs_agg *a, bs_str name)
{
	if (!name.n)
		return 0;
	size_t n = name.n < 128 ? name.n : 128;
	if (a->last_name_id && n == a->last_name_len && memcmp(name.p, a->last_name, n) == 0)
		return a->last_name_id;
	uint32_t id = host_name_uncached(a, name);
	memcpy(a->last_name, name.p, n);
	a->last_name_len = n;
	a->last_name_id = id;
	return id;
}

/* Normalized address id, or UINT32_MAX when s is not an address. */
static uint32_t addr_id_uncached(struct bs_agg *a, bs_str s)
{
	char buf[BS_ADDR_MAX + 1];
	if (!s.n || s.n > 1024)
		return UINT32_MAX;
	int n = bs_addr_normalize(s.p, s.n, buf);
	if (n <= 0)
		return UINT32_MAX;
	return bs_strtab_intern(&a->str, buf, (size_t)n);
}

/* addr_id_uncached past the lookaside of raw addresses: mail names the
 * same few senders and recipients over and over, and normalizing one
 * costs ten times looking it up. A hit interns nothing, as the string it
 * would intern is there already, so ids are given in the same order. */
static uint32_t addr_id(struct bs_agg *a, bs_str s)
{
	if (!s.n || s.n > BS_AGG_ADDR_RAW)
		return addr_id_uncached(a, s);
	uint64_t h = bs_hash64(s.p, s.n, 0);
	struct bs_agg_addr_look *l = &a->addr_look[(h >> 40) & (BS_AGG_ADDR_LOOK - 1)];
	if (l->len == s.n && l->hash == h && memcmp(l->raw, s.p, s.n) == 0)
		return l->id;
	uint32_t id = addr_id_uncached(a, s);
	l->hash = h;
	l->len = (uint8_t)s.n;
	memcpy(l->raw, s.p, s.n);
	l->id = id;
	return id;
}

/* addr_id of an address event's address, which the scanner may have flagged
 * as already normal: interning it as it is gives what addr_id would. */
static uint32_t event_addr_id(struct bs_agg *a, const struct bs_ev_addr *ad)
{
	if (ad->normal && ad->address.n && ad->address.n <= BS_ADDR_MAX)
		return bs_strtab_intern(&a->str, ad->address.p, ad->address.n);
	return addr_id(a, ad->address);
}

/* event_addr_id, computed at the first call for the event (where the
 * straightforward code called it first, so strings are interned in the
 * same order) and kept in *addr (ADDR_UNSET before) for the next ones. */
#define ADDR_UNSET (UINT32_MAX - 1)
static uint32_t event_addr_id_once(struct bs_agg *a, const struct bs_ev_addr *ad, uint32_t *addr)
{
	if (*addr == ADDR_UNSET)
		*addr = event_addr_id(a, ad);
	return *addr;
}

/* The id of a login's user: its address's, or for a bare name (no domain;
 * after a NetBIOS "DOMAIN\" prefix, as OWA's) the name's as a local part
 * (lower-cased, by the address rules), *bare set; UINT32_MAX when neither.
 * A Dovecot master-user login ("alice@example.net*admin": the user, then
 * the master user who logged in for them) is the user's. */
static uint32_t login_user_id(struct bs_agg *a, bs_str s, bool *bare)
{
	*bare = false;
	const char *star = s.n ? memchr(s.p, '*', s.n) : NULL;
	if (star && star > s.p)
		s.n = (size_t)(star - s.p);
	uint32_t id = addr_id(a, s);
	if (id != UINT32_MAX || !s.n || s.n > 64 || memchr(s.p, '@', s.n))
		return id;
	const char *slash = memrchr(s.p, '\\', s.n);
	if (slash)
		s = bs_str_make(slash + 1, (size_t)(s.p + s.n - slash - 1));
	char probe[64 + sizeof "@bare.invalid"], out[BS_ADDR_MAX + 1];
	if (!s.n)
		return UINT32_MAX;
	memcpy(probe, s.p, s.n);
	memcpy(probe + s.n, "@bare.invalid", sizeof "@bare.invalid" - 1);
	int n = bs_addr_normalize(probe, s.n + sizeof "@bare.invalid" - 1, out);
	const char *at = n > 0 ? memchr(out, '@', (size_t)n) : NULL;
	if (!at || at == out)
		return UINT32_MAX;
	*bare = true;
	return bs_strtab_intern(&a->str, out, (size_t)(at - out));
}

static int64_t day_of(bs_time t) { return t == BS_TIME_NONE ? 0 : (t / BS_USEC) / 86400; }
static int64_t hour_of(bs_time t) { return t == BS_TIME_NONE ? 0 : (t / BS_USEC) / 3600; }

static void minmax(bs_time *first, bs_time *last, bs_time t)
{
	if (t == BS_TIME_NONE)
		return;
	if (*first == BS_TIME_NONE || t < *first)
		*first = t;
	if (*last == BS_TIME_NONE || t > *last)
		*last = t;
}

static void add_evidence(struct bs_agg *a, const struct bs_event *e, uint32_t addr, enum bs_ek kind,
                         uint32_t host, uint32_t peer)
{
	if (addr == UINT32_MAX)
		return;
	struct bs_evidence p = { .addr = addr, .host = host, .peer = peer, .kind = (uint8_t)kind,
	                         .count = 1, .first = e->ts, .last = e->ts,
	                         .input = e->origin.input, .ref = e->origin.ref };
	bs_agg_add_ev(a, &p);
}

static void count_hour(struct bs_agg *a, uint32_t host, bs_time ts, int events, int attack, int logins, int failures)
{
	if (!host || ts == BS_TIME_NONE)
		return;
	struct bs_hourrec p = { .host = host, .hour = hour_of(ts), .events = (uint64_t)events,
	                        .attack = (uint64_t)attack, .logins = (uint64_t)logins, .failures = (uint64_t)failures,
	                        .login_first = logins ? ts : BS_TIME_NONE, .login_last = logins ? ts : BS_TIME_NONE };
	bs_agg_count_hours(a, &p, host);
}

/* The host's record, added empty if new, for updating in place. */
static void touch_host(struct bs_agg *a, uint32_t host, bs_time ts)
{
	if (!host)
		return;
	struct bs_hostrec *r = bs_agg_host(a, host);
	r->events++;
	minmax(&r->first, &r->last, ts);
}

static struct bs_cand *new_cand(struct bs_agg *a, const struct bs_event *e, enum bs_ck kind)
{
	if (a->cand.n >= BS_CAND_MAX) {
		a->cand_dropped++;
		return NULL;
	}
	struct bs_cand *c = BS_VEC_PUSH(a->cand);
	memset(c, 0, sizeof *c);
	c->kind = (uint8_t)kind;
	c->ts = c->ts_end = e->ts;
	c->src = e->src;
	c->dst = e->dst;
	c->dport = e->dport;
	c->input = e->origin.input;
	c->ref = e->origin.ref;
	return c;
}

/* ---------------------------------------------------------- event kinds */

/* The address's last byte: a lookaside slot's bits. */
static uint32_t ip_low(const bs_ip *ip) { return ip->a[ip->family == 4 ? 3 : 15]; }

static bool status_ok(int s) { return s >= 200 && s < 300; }

static bool is_html(bs_str ct)
{
	return bs_memmem_ci(ct.p ? ct.p : "", ct.n, "html", 4) != NULL;
}

/* Split a Cookie header into name=value pairs, calling fn for each (at most max). */
/* The shortest cookie value taken for a session token (PHP's ids are 26 or
 * 32 characters, Java's 32, ASP.NET's 24). */
#define SESSION_TOKEN_MIN 16

static size_t cookie_pairs(bs_str c, bs_str *out, size_t max)
{
	size_t n = 0;
	const char *p = c.p, *end = c.p + c.n;
	while (p && p < end && n < max) {
		while (p < end && (*p == ' ' || *p == ';'))
			p++;
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *stop = semi ? semi : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		if (eq && eq > p && stop > eq + 1)
			out[n++] = bs_str_make(p, (size_t)(stop - p));
		p = semi ? semi + 1 : end;
	}
	return n;
}

static uint32_t server_host(struct bs_agg *a, const struct bs_event *e)
{
	/* An access log names its server through the event host (set by the
	 * scan layer from the input); a capture through the destination. */
	return e->host.n ? bs_agg_host_name(a, e->host) : bs_agg_host_ip(a, &e->dst);
}

/* A page's references to other hosts, and the login sessions (cookie
 * pairs) it was served to with them. */
static void record_page_refs(struct bs_agg *a, const struct bs_event *e, uint32_t host, uint32_t path_id)
{
	const struct bs_ev_http *h = &e->u.http;
	bs_str pairs[4];
	size_t npairs = h->cookie.n ? cookie_pairs(h->cookie, pairs, 4) : 0;
	uint32_t seen[BS_HTTP_MAX_REFS];
	size_t nseen = 0;
	for (size_t i = 0; i < h->nrefs && i < BS_HTTP_MAX_REFS; i++) {
		char rh[256];
		size_t rn = bs_url_host(h->refs[i], rh, sizeof rh);
		if (!rn)
			continue;
		uint32_t refhost = bs_strtab_intern(&a->str, rh, rn);
		/* the page counts once for each host it references (a script and
		 * a frame from the same host are one answer served) */
		bool again = false;
		for (size_t k = 0; k < nseen && !again; k++)
			again = seen[k] == refhost;
		if (!again)
			seen[nseen++] = refhost;
		struct bs_refrec rr;
		memset(&rr, 0, sizeof rr); /* padding too: records are written to state files as bytes */
		rr.path = path_id;
		rr.refhost = refhost;
		rr.host = host;
		rr.tag = intern(a, h->ref_tags[i]);
		rr.count = again ? 0 : 1;
		rr.first = rr.last = e->ts;
		rr.input = e->origin.input;
		rr.ref = e->origin.ref;
		rr.weak_only = (uint8_t)(h->ref_weak >> i & 1);
		bs_refrec_add_client(rr.clients, (uint32_t)bs_ip_hash(&e->src));
		bs_agg_add_refs(a, &rr);
		uint32_t ua = h->user_agent.n ? intern(a, bs_str_make(h->user_agent.p, h->user_agent.n < 512 ? h->user_agent.n : 512)) : 0;
		for (size_t k = 0; k < npairs; k++) {
			struct bs_sessref sr = { .pair = intern(a, pairs[k]), .host = host, .refhost = refhost,
			                         .first = e->ts, .last = e->ts, .client = e->src, .ua = ua };
			bs_agg_add_sref(a, &sr);
		}
	}
}

/* A client's successful request to a script: use of a web shell once the
 * client is known to be the attacker (verdict.c), however it was driven. */
static void record_script_use(struct bs_agg *a, const struct bs_event *e, uint32_t host, uint32_t path_id)
{
	struct bs_scriptrec r;
	memset(&r, 0, sizeof r); /* padding too: records are written to state files as bytes */
	r.ip = e->src;
	r.path = path_id;
	r.host = host;
	r.count = 1;
	r.first = r.last = e->ts;
	bs_agg_count_scripts(a, &r, host ^ path_id ^ ip_low(&e->src));
}

/* A login form posted to a web server: a success (evidence, and the
 * session cookie it sets) or a failure. */
static void record_web_login(struct bs_agg *a, const struct bs_event *e, uint32_t host)
{
	const struct bs_ev_http *h = &e->u.http;
	bool bare;
	uint32_t user = login_user_id(a, h->login_user, &bare);
	bool success = bs_detect_web_login_success(h->status, h->location, h->login_json, h->set_cookie, h->login_answer,
	                                           h->login_basic);
	if (success && user != UINT32_MAX) {
		add_evidence(a, e, user, bare ? EK_LOGIN_BARE : EK_LOGIN, host, (uint32_t)day_of(e->ts));
		count_hour(a, host, e->ts, 0, 0, 1, 0);
		bs_str sc[4];
		if (h->set_cookie.n && cookie_pairs(h->set_cookie, sc, 1)) {
			struct bs_sessrec s = { .pair = intern(a, sc[0]), .user = user, .host = host, .ts = e->ts };
			bs_agg_add_sess(a, &s);
		} else {
			/* no new cookie: the session the login page opened (PHP's
			 * PHPSESSID) is now this user's; its token-like pairs, not
			 * a language or theme setting that many share */
			size_t n = h->cookie.n ? cookie_pairs(h->cookie, sc, 4) : 0;
			for (size_t k = 0; k < n; k++) {
				const char *eq = memchr(sc[k].p, '=', sc[k].n);
				if (eq && sc[k].n - (size_t)(eq + 1 - sc[k].p) >= SESSION_TOKEN_MIN) {
					struct bs_sessrec s = { .pair = intern(a, sc[k]), .user = user, .host = host, .ts = e->ts };
					bs_agg_add_sess(a, &s);
				}
			}
		}
	} else if (!success) {
		struct bs_failrec f = { .host = host, .src = e->src, .hour = hour_of(e->ts), .count = 1,
		                        .first = e->ts, .last = e->ts };
		bs_agg_add_fails(a, &f);
		count_hour(a, host, e->ts, 0, 0, 0, 1);
	}
}

/* open_txn value: the request's classification, computed once per
 * transaction at its REQUEST event and reused by its ADDR and COMPLETE
 * events: TXN_SUSPECT | TXN_CMDLIKE | TXN_SCRIPT | TXN_SHELL_DIR |
 * exploit kinds << TXN_EXPLOIT_SHIFT. */
enum { TXN_SUSPECT = 1, TXN_CMDLIKE = 2, TXN_SCRIPT = 4, TXN_SHELL_DIR = 8, TXN_DATA_FILE = 16, TXN_EXPLOIT_SHIFT = 5 };

/* What the detectors say of a request. */
struct txn_class { unsigned exploit; bool cmdlike, script, shell_dir, data_file; };

/* The request's class: from its REQUEST event's open_txn value at its
 * COMPLETE (the value is then dropped), else from the detectors. */
static struct txn_class txn_class(struct bs_agg *a, const struct bs_ev_http *h, bs_str path)
{
	uint32_t cached;
	if (h->phase == BS_HTTP_COMPLETE && bs_u64map_get(&a->open_txn, h->txn_id, &cached)) {
		bs_u64map_del(&a->open_txn, h->txn_id);
		return (struct txn_class){ .exploit = cached >> TXN_EXPLOIT_SHIFT, .cmdlike = cached & TXN_CMDLIKE,
		                           .script = cached & TXN_SCRIPT, .shell_dir = cached & TXN_SHELL_DIR,
		                           .data_file = cached & TXN_DATA_FILE };
	}
	struct txn_class tc = { .exploit = bs_detect_exploit(h->uri, h->upload_filename),
	                        .cmdlike = bs_detect_cmdlike(h->uri), .shell_dir = bs_detect_shell_dir(path) };
	bs_detect_path_kind(path, &tc.script, &tc.data_file);
	return tc;
}

static void on_http(struct bs_agg *a, const struct bs_event *e)
{
	const struct bs_ev_http *h = &e->u.http;
	if (h->phase == BS_HTTP_ANOMALY)
		return; /* skipped bytes, no transaction: only the timeline shows it */
	bs_str path = bs_uri_path(h->uri);
	struct txn_class tc = txn_class(a, h, path);
	unsigned exploit = tc.exploit;
	bool cmdlike = tc.cmdlike, script = tc.script, shell_dir = tc.shell_dir;
	/* a data file fetched is kept too: its addresses count as taken when
	 * its client turns out to be the attacker (the dump downloaded) */
	bool suspect = exploit || (cmdlike && script) || h->cmd_output || shell_dir || tc.data_file;

	if (h->phase == BS_HTTP_REQUEST) {
		if (a->open_txn.n > (1u << 20))
			bs_u64map_clear(&a->open_txn); /* responses never seen: bound the table */
		bool found;
		uint32_t *slot = bs_u64map_upsert(&a->open_txn, h->txn_id, &found);
		*slot = ((exploit << TXN_EXPLOIT_SHIFT) | (cmdlike ? TXN_CMDLIKE : 0) | (script ? TXN_SCRIPT : 0) |
		         (shell_dir ? TXN_SHELL_DIR : 0) | (tc.data_file ? TXN_DATA_FILE : 0) | (suspect ? TXN_SUSPECT : 0)) + 1;
		return;
	}
	uint32_t host = server_host(a, e);
	touch_host(a, host, e->ts);
	count_hour(a, host, e->ts, 1, suspect, 0, 0);

	struct bs_clientrec cr = { .ip = e->src, .host = host, .count = 1, .errors = h->status >= 400,
	                           .first = e->ts, .last = e->ts };
	if (e->src.family)
		bs_agg_count_clients(a, &cr, host ^ ip_low(&e->src));

	uint32_t path_id = 0;
	if (status_ok(h->status) || h->refs[0].n) {
		path_id = bs_strtab_intern(&a->str, path.p, path.n < 1024 ? path.n : 1024);
		if (status_ok(h->status)) {
			struct bs_pathrec pr = { .path = path_id, .host = host, .count = 1,
			                         .html = is_html(h->resp_content_type), .first = e->ts, .last = e->ts };
			bs_agg_count_paths(a, &pr, host ^ path_id);
			if (script && e->src.family)
				record_script_use(a, e, host, path_id);
		}
	}

	record_page_refs(a, e, host, path_id);

	if (h->login_user.n)
		record_web_login(a, e, host);

	if (suspect) {
		struct bs_cand *c = new_cand(a, e, CK_HTTP);
		if (!c)
			return;
		c->host = host;
		c->exploit = exploit;
		c->status = (uint16_t)(h->status > 0 && h->status < 1000 ? h->status : 0);
		c->flags = (uint16_t)((status_ok(h->status) ? CF_SUCCESS : 0) | (cmdlike ? CF_CMDLIKE : 0) |
		                      (h->cmd_output ? CF_CMD_OUTPUT : 0) | (script ? CF_SCRIPT : 0) |
		                      (h->from_access_log ? CF_FROM_LOG : 0) | (shell_dir ? CF_SHELL_DIR | CF_SCRIPT : 0));
		bs_str uri = h->uri;
		if (uri.n > 2048)
			uri.n = 2048;
		c->s_main = intern(a, uri);
		c->s_user = intern(a, bs_str_make(h->method.p, h->method.n < 32 ? h->method.n : 32));
		c->s_extra = h->user_agent.n ? intern(a, bs_str_make(h->user_agent.p, h->user_agent.n < 512 ? h->user_agent.n : 512)) : 0;
		c->key = join_key(a, e, BS_JOIN_TXN, h->txn_id);
		c->num1 = h->resp_bytes ? h->resp_bytes : h->resp_body_len;
		c->num2 = h->req_body_len;
	}
}

static void on_auth(struct bs_agg *a, const struct bs_event *e)
{
	const struct bs_ev_auth *au = &e->u.auth;
	/* The fleet side of a login: the web server for HTTP, the client for
	 * IMAP/POP3 (a webmail server logs in on the user's behalf). */
	if (au->proto != BS_AUTH_HTTP && au->proto != BS_AUTH_IMAP && au->proto != BS_AUTH_POP3)
		return;
	uint32_t host = au->proto == BS_AUTH_HTTP ? bs_agg_host_ip(a, &e->dst) : bs_agg_host_ip(a, &e->src);
	if (!host && au->proto == BS_AUTH_HTTP)
		host = bs_agg_host_name(a, e->host); /* a webmail application's own log names its host */
	touch_host(a, host, e->ts);
	if (au->success == 1) {
		bool bare;
		uint32_t user = login_user_id(a, au->user, &bare);
		add_evidence(a, e, user, bare ? EK_LOGIN_BARE : EK_LOGIN, host, (uint32_t)day_of(e->ts));
		count_hour(a, host, e->ts, 1, 0, 1, 0);
	} else if (au->success == 0) {
		struct bs_failrec f = { .host = host, .src = e->src, .hour = hour_of(e->ts), .count = 1,
		                        .first = e->ts, .last = e->ts };
		bs_agg_add_fails(a, &f);
		count_hour(a, host, e->ts, 1, 0, 0, 1);
	}
}

static bool relay_is_loopback(bs_str relay)
{
	return bs_memmem_ci(relay.p ? relay.p : "", relay.n, "127.0.0.1", 9) ||
	       bs_memmem_ci(relay.p ? relay.p : "", relay.n, "[::1]", 5) ||
	       bs_memmem_ci(relay.p ? relay.p : "", relay.n, "localhost", 9);
}

static int hist_bucket(uint64_t v)
{
	int b = 0;
	while (v > 1 && b < 63) {
		v >>= 1;
		b++;
	}
	return b;
}

/* The evidence of each recipient of a message, or of one part of it. */
static void mail_rcpts(struct bs_agg *a, const struct bs_event *e, uint32_t client, uint32_t sender)
{
	const struct bs_ev_mail *m = &e->u.mail;
	bool authed = m->sasl_user.n > 0;
	bool delivered_final = !relay_is_loopback(m->relay);
	for (size_t i = 0; i < m->nrcpt; i++) {
		uint32_t r = addr_id(a, m->rcpts[i]);
		if (r == UINT32_MAX)
			continue;
		bs_str st = m->rcpt_status ? m->rcpt_status[i] : BS_STR_NULL;
		bool sent = st.n == 0 || bs_str_ieq(st, "sent") || bs_str_ieq(st, "delivered") || bs_str_ieq(st, "accepted");
		if (authed)
			add_evidence(a, e, r, EK_SENT_TO, client, 0);
		/* received_from: whatever reached a mailbox, whoever sent it */
		if (sender != UINT32_MAX && delivered_final && sent)
			add_evidence(a, e, sender, EK_RECV_PAIR, 0, r);
	}
}

/* Postfix client=wm3.example.net[10.0.1.13]: the name's first label and
 * the full name are aliases of the address; looked up past the host name
 * lookaside, which keeps the logging host of the next event. */
static void record_client_aliases_uncached(struct bs_agg *a, bs_str name, uint32_t client)
{
	const char *dot = memchr(name.p, '.', name.n);
	struct bs_aliasrec al = { .name = host_name_uncached(a, name), .ip = client };
	if (bs_str_eq(name, "unknown") || bs_str_eq(name, "localhost"))
		return;
	bs_agg_add_aliases(a, &al);
	if (dot) {
		al.name = host_name_uncached(a, bs_str_make(name.p, (size_t)(dot - name.p)));
		bs_agg_add_aliases(a, &al);
	}
}

/* record_client_aliases_uncached, skipped when the lookaside says this
 * name and address were recorded: their strings are interned and their
 * records there (a record folded into itself is unchanged). */
static void record_client_aliases(struct bs_agg *a, bs_str name, uint32_t client)
{
	if (name.n > BS_AGG_ADDR_RAW) {
		record_client_aliases_uncached(a, name, client);
		return;
	}
	uint64_t h = bs_hash64(name.p, name.n, client);
	struct bs_agg_alias_look *l = &a->alias_look[(h >> 40) & (BS_AGG_ALIAS_LOOK - 1)];
	if (l->ip == client && l->len == name.n && l->hash == h && memcmp(l->name, name.p, name.n) == 0)
		return;
	record_client_aliases_uncached(a, name, client);
	l->hash = h;
	l->ip = client;
	l->len = (uint8_t)name.n;
	memcpy(l->name, name.p, name.n);
}

static void on_mail(struct bs_agg *a, const struct bs_event *e)
{
	const struct bs_ev_mail *m = &e->u.mail;
	if (m->rejected)
		return;
	uint32_t client = bs_agg_host_ip(a, &e->src);
	uint32_t loghost = bs_agg_host_name(a, e->host);
	if (m->part > 0) {
		/* a later part of a message with many recipients: the message
		 * was counted with its first part, only recipients are new */
		mail_rcpts(a, e, client, m->sender.n ? addr_id(a, m->sender) : UINT32_MAX);
		return;
	}
	touch_host(a, client, e->ts);
	touch_host(a, loghost, e->ts);
	count_hour(a, client, e->ts, 1, 0, 0, 0);
	if (m->client_name.n && client)
		record_client_aliases(a, m->client_name, client);
	uint32_t sender = m->sender.n ? addr_id(a, m->sender) : UINT32_MAX;
	bool authed = m->sasl_user.n > 0;
	mail_rcpts(a, e, client, sender);
	/* Possible exfiltration by mail: a local submission (web server user),
	 * or an unauthenticated message relayed from an internal client. */
	bool local = m->local_uid >= 0;
	bool internal_unauth = !authed && e->src.family && bs_ip_is_private(&e->src) &&
	                       !(e->src.family == 4 && e->src.a[0] == 127) && m->size >= 10000;
	if (local && loghost) {
		struct bs_hostrec *hr = bs_agg_host(a, loghost);
		hr->mail_hist[hist_bucket(m->size)]++;
	}
	if ((local || internal_unauth) && m->nrcpt) {
		struct bs_cand *c = new_cand(a, e, CK_MAIL_OUT);
		if (!c)
			return;
		c->host = local ? loghost : client;
		c->flags = (uint16_t)((local ? CF_LOCAL_UID : 0) | CF_FROM_LOG | CF_SUCCESS);
		c->num1 = m->size;
		c->num2 = (uint64_t)(m->local_uid >= 0 ? m->local_uid : 0);
		c->s_user = sender != UINT32_MAX ? sender : intern(a, m->sender);
		/* recipients, ';'-joined, for the message; the first decides outside-ness */
		char buf[1024];
		size_t o = 0;
		for (size_t i = 0; i < m->nrcpt && o < sizeof buf - 2; i++) {
			char an[BS_ADDR_MAX + 1];
			int n = bs_addr_normalize(m->rcpts[i].p, m->rcpts[i].n, an);
			if (n <= 0 || o + (size_t)n + 1 >= sizeof buf)
				continue;
			if (o)
				buf[o++] = ';';
			memcpy(buf + o, an, (size_t)n);
			o += (size_t)n;
		}
		c->s_main = bs_strtab_intern(&a->str, buf, o);
		c->s_extra = intern(a, m->message_id.n < 256 ? m->message_id : BS_STR_NULL);
	}
}

static void on_spam(struct bs_agg *a, const struct bs_event *e)
{
	const struct bs_ev_spam *s = &e->u.spam;
	if (!s->spam)
		return;
	for (size_t i = 0; i < s->nrcpt; i++)
		add_evidence(a, e, addr_id(a, s->rcpts[i]), EK_SPAM, 0, (uint32_t)day_of(e->ts));
}

/* open_query value: (candidate index + 1) << 2 | flags */
enum { OQ_UNFILTERED = 1, OQ_ADDRBOOK = 2 };

static void on_dbquery(struct bs_agg *a, const struct bs_event *e)
{
	const struct bs_ev_dbquery *q = &e->u.dbquery;
	uint32_t client = bs_agg_host_ip(a, &e->src);
	touch_host(a, client, e->ts);
	count_hour(a, client, e->ts, 1, 0, 0, 0);
	uint64_t shape = bs_detect_sql_shape(q->sql);
	struct bs_shaperec sr = { .shape = shape, .host = client, .count = 1 };
	bs_agg_add_shapes(a, &sr);
	unsigned flags = (bs_detect_sql_unfiltered(q->sql) ? OQ_UNFILTERED : 0) |
	                 (bs_detect_sql_addressbook(q->sql) && bs_detect_sql_is_read(q->sql) ? OQ_ADDRBOOK : 0);
	uint32_t candix = 0;
	if (flags & OQ_UNFILTERED) {
		struct bs_cand *c = new_cand(a, e, CK_DBQUERY);
		if (c) {
			c->host = client;
			c->flags = (uint16_t)((flags & OQ_ADDRBOOK) ? CF_ADDRBOOK : 0);
			bs_str sql = q->sql;
			if (sql.n > 4096)
				sql.n = 4096;
			c->s_main = intern(a, sql);
			c->s_user = intern(a, bs_str_make(q->db_user.p, q->db_user.n < 128 ? q->db_user.n : 128));
			c->key = join_key(a, e, BS_JOIN_QUERY, q->query_id);
			c->shape = shape;
			candix = (uint32_t)(a->cand.n);
		}
	}
	if (!flags)
		return;
	if (a->open_query.n > (1u << 20))
		bs_u64map_clear(&a->open_query); /* a capture without results: bound the table */
	bool found;
	uint32_t *slot = bs_u64map_upsert(&a->open_query, q->query_id, &found);
	*slot = ((candix << 2) | flags) + 1;
}

static void on_dbresult(struct bs_agg *a, const struct bs_event *e)
{
	const struct bs_ev_dbresult *r = &e->u.dbresult;
	uint32_t v;
	if (!bs_u64map_get(&a->open_query, r->query_id, &v))
		return;
	uint32_t candix = v >> 2;
	if (candix && candix <= a->cand.n) {
		struct bs_cand *c = &a->cand.v[candix - 1];
		c->num1 = r->rows;
		c->num2 = r->bytes;
		if (!r->error)
			c->flags |= CF_SUCCESS;
		if (r->cut)
			c->flags |= CF_CUT;
	}
	bs_u64map_del(&a->open_query, r->query_id);
}

/* The join key of the event's flow (its input, addresses and ports). */
static uint32_t flow_key(struct bs_agg *a, const struct bs_event *e)
{
	struct bs_joinkey k;
	memset(&k, 0, sizeof k);
	k.kind = BS_JOIN_FLOW;
	k.input = key_input(e);
	k.src = e->src;
	k.dst = e->dst;
	k.sport = e->sport;
	k.dport = e->dport;
	return bs_agg_add_keys(a, &k);
}

static void on_addr(struct bs_agg *a, const struct bs_event *e)
{
	const struct bs_ev_addr *ad = &e->u.addr;
	uint32_t v;
	switch (ad->ctx) {
	case BS_ADDR_DB_RESULT: {
		if (!bs_u64map_get(&a->open_query, ad->ref, &v))
			return;
		uint32_t addr = ADDR_UNSET;
		if ((v & 3) & OQ_ADDRBOOK)
			add_evidence(a, e, event_addr_id_once(a, ad, &addr), EK_ADDRBOOK, bs_agg_host_ip(a, &e->src), 0);
		if ((v & 3) & OQ_UNFILTERED) {
			uint32_t q = join_key(a, e, BS_JOIN_QUERY, ad->ref), host = bs_agg_host_ip(a, &e->src);
			add_evidence(a, e, event_addr_id_once(a, ad, &addr), EK_DB_UNFILTERED, host, q);
			int dir = bs_detect_row_direction(ad->row_tags);
			if (dir)
				add_evidence(a, e, event_addr_id_once(a, ad, &addr),
				             dir == 1 ? EK_DB_ROW_SENT : EK_DB_ROW_RECEIVED, host, q);
		}
		return;
	}
	case BS_ADDR_HTTP_RESP_BODY:
		if (bs_u64map_get(&a->open_txn, ad->ref, &v) && (v & TXN_SUSPECT))
			add_evidence(a, e, event_addr_id(a, ad), EK_HTTP_SUSPECT, server_host(a, e),
			             join_key(a, e, BS_JOIN_TXN, ad->ref));
		return;
	case BS_ADDR_HTTP_REQ_BODY:
	case BS_ADDR_PAYLOAD: {
		/* Data leaving towards an outside address. */
		const bs_ip *from = ad->to_client ? &e->dst : &e->src;
		const bs_ip *to = ad->to_client ? &e->src : &e->dst;
		if (!to->family || bs_ip_is_private(to) || !from->family)
			return;
		add_evidence(a, e, event_addr_id(a, ad), EK_PAYLOAD, bs_agg_host_ip(a, from), flow_key(a, e));
		return;
	}
	case BS_ADDR_SMTP_HEADER:
	case BS_ADDR_DB_PARAM: /* written into the database: not data leaving it */
		return;
	}
}

#define FLOW_CAND_MIN_BYTES 32768

static void on_flow(struct bs_agg *a, const struct bs_event *e)
{
	const struct bs_ev_flow *f = &e->u.flow;
	uint32_t src = bs_agg_host_ip(a, &e->src), dst = bs_agg_host_ip(a, &e->dst);
	touch_host(a, src, f->first);
	touch_host(a, dst, f->first);
	if (!e->dst.family || bs_ip_is_private(&e->dst))
		return;
	/* outside destination contacted by src */
	struct bs_destrec dr = { .host = src, .dest = dst, .is_name = false, .first = f->first, .last = f->last,
	                         .count = 1, .bytes = f->bytes_fwd };
	bs_agg_add_dests(a, &dr);
	struct bs_hostrec *hr = bs_agg_host(a, src);
	hr->out_hist[hist_bucket(f->bytes_fwd)]++;
	if (f->bytes_fwd >= FLOW_CAND_MIN_BYTES && f->bytes_fwd > f->bytes_rev) {
		struct bs_cand *c = new_cand(a, e, CK_FLOW_OUT);
		if (!c)
			return;
		c->ts = f->first;
		c->ts_end = f->last;
		c->host = src;
		c->flags = CF_SUCCESS;
		c->num1 = f->bytes_fwd;
		c->num2 = f->bytes_rev;
		c->s_main = intern(a, f->app);
		c->key = flow_key(a, e);
	}
}

static void on_filexfer(struct bs_agg *a, const struct bs_event *e)
{
	const struct bs_ev_filexfer *x = &e->u.xfer;
	if (!x->upload)
		return;
	struct bs_cand *c = new_cand(a, e, CK_FILEXFER);
	if (!c)
		return;
	c->host = bs_agg_host_ip(a, &e->src);
	c->flags = CF_SUCCESS;
	c->num1 = x->size;
	c->s_main = intern(a, bs_str_make(x->filename.p, x->filename.n < 512 ? x->filename.n : 512));
	c->s_user = intern(a, bs_str_make(x->user.p, x->user.n < 128 ? x->user.n : 128));
	c->s_extra = intern(a, x->proto);
	c->key = flow_key(a, e);
}

static void on_dns(struct bs_agg *a, const struct bs_event *e)
{
	const struct bs_ev_dns *d = &e->u.dns;
	if (!d->qname.n)
		return;
	char name[256];
	size_t n = d->qname.n < sizeof name - 1 ? d->qname.n : sizeof name - 1;
	for (size_t i = 0; i < n; i++)
		name[i] = (char)((d->qname.p[i] >= 'A' && d->qname.p[i] <= 'Z') ? d->qname.p[i] + 32 : d->qname.p[i]);
	while (n && name[n - 1] == '.')
		n--;
	uint32_t host = bs_agg_host_ip(a, &e->src);
	struct bs_destrec dr = { .host = host, .dest = bs_strtab_intern(&a->str, name, n), .is_name = true,
	                         .first = e->ts, .last = e->ts, .count = 1 };
	bs_agg_add_dests(a, &dr);
	/* the name's addresses: evidence that they serve (fleet discovery) */
	if (d->rcode != 0 || !d->nanswers)
		return;
	struct bs_aliasrec al = { .name = bs_agg_host_name(a, bs_str_make(name, n)), .source = BS_ALIAS_DNS };
	for (size_t i = 0; i < d->nanswers && i < BS_DNS_MAX_ANS; i++) {
		al.ip = bs_agg_host_ip(a, &d->answers[i]);
		if (al.ip && al.name)
			bs_agg_add_aliases(a, &al);
	}
}

/* An administrator removing a script from a web root cleans up after a
 * web shell: the host is the logging host, the path the file removed. */
static void on_admin(struct bs_agg *a, const struct bs_event *e)
{
	const struct bs_ev_admin *ad = &e->u.admin;
	bs_str path;
	if (ad->success != 1 || !bs_detect_script_removal(ad->command, &path))
		return;
	uint32_t host = bs_agg_host_name(a, e->host);
	touch_host(a, host, e->ts);
	struct bs_cand *c = new_cand(a, e, CK_SHELL_REMOVED);
	if (!c)
		return;
	c->host = host;
	c->flags = CF_FROM_LOG | CF_SUCCESS | CF_SCRIPT;
	c->s_main = intern(a, bs_str_make(path.p, path.n < 1024 ? path.n : 1024));
	c->s_user = intern(a, bs_str_make(ad->user.p, ad->user.n < 64 ? ad->user.n : 64));
}

void bs_agg_sink(void *ctx, const struct bs_event *e)
{
	struct bs_agg *a = ctx;
	a->events++;
	minmax(&a->first_ts, &a->last_ts, e->ts);
	switch (e->type) {
	case BS_EV_HTTP: on_http(a, e); break;
	case BS_EV_AUTH: on_auth(a, e); break;
	case BS_EV_MAIL: on_mail(a, e); break;
	case BS_EV_SPAM: on_spam(a, e); break;
	case BS_EV_DBQUERY: on_dbquery(a, e); break;
	case BS_EV_DBRESULT: on_dbresult(a, e); break;
	case BS_EV_ADDR: on_addr(a, e); break;
	case BS_EV_FLOW: on_flow(a, e); break;
	case BS_EV_FILEXFER: on_filexfer(a, e); break;
	case BS_EV_DNS: on_dns(a, e); break;
	case BS_EV_ADMIN: on_admin(a, e); break;
	default: break;
	}
}

/* ----------------------------------------------------------- lifecycle */

/* With no login by address at all: the domain whose addresses carry the
 * bare login names, among the recipients of delivered mail and of spam
 * (alice logs in, alice@example.net gets mail): the domain with the most
 * distinct names, at least three and twice the next one's (a stray
 * alice@gmail.com among the recipients is outvoted). */
static const char *bare_names_domain(const struct bs_agg *a, char *buf, size_t size)
{
	struct bs_u64map names, pairs, domain_index;
	bs_u64map_init(&names);
	bs_u64map_init(&pairs);
	bs_u64map_init(&domain_index);
	bool found;
	for (size_t i = 0; i < a->ev.n; i++)
		if (a->ev.v[i].kind == EK_LOGIN_BARE) {
			const char *name = bs_strtab_get(&a->str, a->ev.v[i].addr);
			*bs_u64map_upsert(&names, bs_hash64(name, strlen(name), 0), &found) = 1;
		}
	struct name_domain { const char *dom; uint32_t n; };
	BS_VEC(struct name_domain) doms = { 0 };
	for (size_t i = 0; i < a->ev.n && names.n >= 3; i++) {
		const struct bs_evidence *e = &a->ev.v[i];
		uint32_t id = e->kind == EK_RECV_PAIR ? e->peer : e->kind == EK_SPAM ? e->addr : UINT32_MAX;
		if (id == UINT32_MAX || id >= a->str.n)
			continue;
		const char *addr = bs_strtab_get(&a->str, id), *at = strrchr(addr, '@');
		uint32_t v;
		if (!at || !at[1] || at == addr)
			continue;
		uint64_t name = bs_hash64(addr, (size_t)(at - addr), 0), dom = bs_hash64(at + 1, strlen(at + 1), 1);
		if (!bs_u64map_get(&names, name, &v))
			continue;
		bs_u64map_upsert(&pairs, name ^ dom, &found);
		if (found)
			continue;
		uint32_t *slot = bs_u64map_upsert(&domain_index, dom, &found);
		if (!found) {
			*BS_VEC_PUSH(doms) = (struct name_domain){ at + 1, 0 };
			*slot = (uint32_t)doms.n; /* index + 1 */
		}
		doms.v[*slot - 1].n++;
	}
	bs_u64map_free(&names);
	bs_u64map_free(&pairs);
	bs_u64map_free(&domain_index);
	/* the most names, ties by text: the same whatever the evidence's order */
	size_t best = 0;
	uint32_t second = 0;
	for (size_t k = 1; k < doms.n; k++)
		if (doms.v[k].n > doms.v[best].n ||
		    (doms.v[k].n == doms.v[best].n && strcmp(doms.v[k].dom, doms.v[best].dom) < 0)) {
			second = doms.v[best].n > second ? doms.v[best].n : second;
			best = k;
		} else if (doms.v[k].n > second) {
			second = doms.v[k].n;
		}
	const char *won = doms.n && doms.v[best].n >= 3 && doms.v[best].n >= 2 * second ? doms.v[best].dom : NULL;
	BS_VEC_FREE(doms);
	if (!won || strlen(won) >= size)
		return NULL;
	memcpy(buf, won, strlen(won) + 1);
	return buf;
}

const char *bs_agg_login_domain(const struct bs_agg *a, char *buf, size_t size, bool *from_mail)
{
	*from_mail = false;
	/* at least three users, as fleet discovery asks: one stray login by
	 * address in a capture is no fleet's domain */
	const char *one = NULL;
	uint32_t seen[3];
	size_t nseen = 0;
	for (size_t i = 0; i < a->ev.n; i++) {
		if (a->ev.v[i].kind != EK_LOGIN)
			continue;
		uint32_t id = a->ev.v[i].addr;
		const char *at = strrchr(bs_strtab_get(&a->str, id), '@');
		if (!at || !at[1])
			continue;
		if (!one)
			one = at + 1;
		else if (strcmp(one, at + 1) != 0)
			return NULL;
		bool again = false;
		for (size_t k = 0; k < nseen; k++)
			again |= seen[k] == id;
		if (!again && nseen < 3)
			seen[nseen++] = id;
	}
	if (!one) {
		*from_mail = true;
		return bare_names_domain(a, buf, size);
	}
	if (nseen < 3 || strlen(one) >= size)
		return NULL;
	memcpy(buf, one, strlen(one) + 1);
	return buf;
}

size_t bs_agg_complete_logins(struct bs_agg *a, const char *domain)
{
	/* bare name id -> its address's id, 0 for none (without a domain, or
	 * when NAME@domain is no address); the map stores value + 1 */
	struct bs_u64map names;
	bs_u64map_init(&names);
	size_t nbare = 0, n = a->ev.n;
	for (size_t i = 0; i < n; i++) {
		if (a->ev.v[i].kind != EK_LOGIN_BARE)
			continue;
		struct bs_evidence e = a->ev.v[i]; /* a copy: adding may move the table */
		bool found;
		uint32_t *slot = bs_u64map_upsert(&names, bs_mix64(e.addr), &found);
		if (!found) {
			nbare++;
			uint32_t full = UINT32_MAX;
			if (domain) {
				char addr[BS_ADDR_MAX + 1];
				int k = snprintf(addr, sizeof addr, "%s@%s", bs_strtab_get(&a->str, e.addr), domain);
				if (k > 0 && (size_t)k < sizeof addr)
					full = addr_id_uncached(a, bs_str_make(addr, (size_t)k));
			}
			*slot = full == UINT32_MAX ? 1 : full + 1;
		}
		if (*slot == 1)
			continue;
		e.addr = *slot - 1;
		e.kind = EK_LOGIN;
		bs_agg_add_ev(a, &e);
	}
	/* web sessions set at a bare name's login belong to its address */
	for (size_t i = 0; domain && i < a->sess.n; i++) {
		uint32_t v;
		if (bs_u64map_get(&names, bs_mix64(a->sess.v[i].user), &v) && v)
			a->sess.v[i].user = v;
	}
	bs_u64map_free(&names);
	if (domain)
		a->logins_completed = true;
	return nbare;
}

void bs_agg_end_input(struct bs_agg *a)
{
	bs_u64map_clear(&a->open_query);
	bs_u64map_clear(&a->open_txn);
}
