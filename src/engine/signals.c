/* signals.c - the per-server detectors: each looks at the aggregate's
 * tables for one server and sets that server's signal bits, noting what it
 * found (shell paths, attack queries, exfiltration candidates...) for the
 * verdict, the window and the timeline. docs/DETECTION.md, "Signals". */
#include "config.h"
#include "src/engine/correlate.h"
#include "src/engine/detect.h"
#include "src/core/addrscan.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void note_baseline(struct srv *v, enum bs_signal g, const char *fmt, ...)
{
	if (v->baseline[g])
		return;
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	v->baseline[g] = bs_xstrndup(text, strlen(text));
}

static uint64_t hist_median(const uint64_t *h)
{
	uint64_t total = 0;
	for (int b = 0; b < 64; b++)
		total += h[b];
	if (total < 5)
		return 0; /* too little history for a baseline: the absolute minimum alone decides */
	uint64_t acc = 0;
	for (int b = 0; b < 64; b++) {
		acc += h[b];
		if (acc * 2 >= total)
			return 1ULL << b;
	}
	return 0;
}

static uint64_t srv_median(const struct ctx *c, size_t s, bool mail)
{
	uint64_t h[64] = { 0 };
	struct srv_span rows = srv_rows_of(&c->by_srv.hosts, s);
	for (size_t j = 0; j < rows.n; j++) {
		const struct bs_hostrec *r = &c->a->hosts.v[rows.v[j]];
		for (int b = 0; b < 64; b++)
			h[b] += mail ? r->mail_hist[b] : r->out_hist[b];
	}
	return hist_median(h);
}

/* Web shell: a script path only this server serves, reached with commands
 * or answering with command output. Returns when it was first used. */
static bs_time find_web_shells(struct ctx *c, size_t s)
{
	struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	size_t nhttp = c->by_srv.nhttp;
	bs_time first_shell = BS_TIME_NONE;
	struct srv_span rows = srv_rows_of(&c->by_srv.cand, s);
	for (size_t j = 0; j < rows.n; j++) {
		const struct bs_cand *k = &a->cand.v[rows.v[j]];
		if (k->kind != CK_HTTP || !(k->flags & CF_SUCCESS))
			continue;
		/* a script in /aspnet_client/ or /owa/auth/ that Exchange does not
		 * ship is a shell wherever it is served, with or without commands */
		bool shell_dir = k->flags & CF_SHELL_DIR;
		if (!shell_dir && (!(k->flags & (CF_CMDLIKE | CF_CMD_OUTPUT)) || !(k->flags & CF_SCRIPT)))
			continue;
		uint32_t pid = path_id_of(c, k);
		bool unique = pid && (shell_dir || (nhttp < 2 ? (k->flags & CF_CMD_OUTPUT) : path_unique_to(c, pid, s)));
		if (!unique)
			continue;
		PUSH_UNIQUE(v->shell_paths, pid);
		add_ip_unique(v, &k->src);
		first_shell = tmin(first_shell, k->ts);
	}
	if (v->shell_paths.n) {
		v->signals |= 1u << BS_SIG_WEBSHELL;
		note_baseline(v, BS_SIG_WEBSHELL, nhttp < 2 ? "the only server with web traffic: the script answered with command output"
		              : "the paths served by the other %zu server(s) with web traffic", nhttp - 1);
	}
	return first_shell;
}

/* The URL path of a file under a web root: its longest suffix that the
 * data knows as a path served by the server ("/mail/tmp/x.php" of
 * "/var/www/html/mail/tmp/x.php"); 0 when none is. */
static uint32_t url_path_of_file(const struct ctx *c, const char *file, size_t s)
{
	for (const char *p = strchr(file + 1, '/'); p; p = strchr(p + 1, '/')) {
		uint32_t id = bs_strtab_find(&c->a->str, p, strlen(p));
		if (id == UINT32_MAX)
			continue;
		if (path_served_by(c, id, s))
			return id;
	}
	return 0;
}

/* An administrator removed a script from this server's web root (sudo
 * rm): the clean-up of a web shell, evidence of one even where no request
 * to it is seen (maillogs alone). A script the other servers serve too is
 * the application's own, not a shell. */
static void find_shell_removals(struct ctx *c, size_t s)
{
	struct srv *v = &c->srv[s];
	struct srv_span rows = srv_rows_of(&c->by_srv.cand, s);
	for (size_t j = 0; j < rows.n; j++) {
		size_t i = rows.v[j];
		const struct bs_cand *k = &c->a->cand.v[i];
		if (k->kind != CK_SHELL_REMOVED)
			continue;
		uint32_t pid = url_path_of_file(c, S(c, k->s_main), s);
		if (pid && !path_unique_to(c, pid, s))
			continue;
		if (pid)
			PUSH_UNIQUE(v->shell_paths, pid);
		*BS_VEC_PUSH(v->shell_removals) = i;
		v->signals |= 1u << BS_SIG_WEBSHELL;
		note_baseline(v, BS_SIG_WEBSHELL, "an administrator removed a script from the web root (%s) that no other server serves",
		              S(c, k->s_main));
	}
}

/* Exploit: a malicious request that succeeded. With a web shell, the
 * exploit is the first successful one from the shell's users, or else the
 * last one before the shell was first used. */
static bs_time find_exploit(struct ctx *c, size_t s, bs_time first_shell)
{
	struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	bs_time exploit = BS_TIME_NONE, before_shell = BS_TIME_NONE;
	const struct bs_cand *before_k = NULL;
	struct srv_span rows = srv_rows_of(&c->by_srv.cand, s);
	for (size_t j = 0; j < rows.n; j++) {
		const struct bs_cand *k = &a->cand.v[rows.v[j]];
		if (k->kind != CK_HTTP || !k->exploit || !(k->flags & CF_SUCCESS))
			continue;
		v->signals |= 1u << BS_SIG_EXPLOIT_REQUEST;
		if (ip_in(v->attackers.v, v->attackers.n, &k->src))
			exploit = tmin(exploit, k->ts);
		if (first_shell != BS_TIME_NONE && k->ts <= first_shell &&
		    (before_shell == BS_TIME_NONE || k->ts > before_shell)) {
			before_shell = k->ts;
			before_k = k;
		}
		if (!v->shell_paths.n)
			exploit = tmin(exploit, k->ts);
	}
	if (exploit == BS_TIME_NONE && before_k) {
		exploit = before_shell;
		add_ip_unique(v, &before_k->src);
	}
	return exploit;
}

void detect_web(struct ctx *c, size_t s)
{
	struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	bs_time first_shell = find_web_shells(c, s);
	find_shell_removals(c, s);
	bs_time exploit = find_exploit(c, s, first_shell);
	if (!v->shell_paths.n && exploit != BS_TIME_NONE) {
		/* without a shell, the exploit's senders are the attackers */
		struct srv_span rows = srv_rows_of(&c->by_srv.cand, s);
		for (size_t j = 0; j < rows.n; j++) {
			const struct bs_cand *k = &a->cand.v[rows.v[j]];
			if (k->kind == CK_HTTP && k->exploit && (k->flags & CF_SUCCESS) && k->ts == exploit)
				add_ip_unique(v, &k->src);
		}
	}
	v->exploit = exploit;
	v->ws = exploit != BS_TIME_NONE ? exploit : first_shell;
}

void detect_db(struct ctx *c, size_t s)
{
	struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	size_t nissue = c->by_srv.nquery; /* servers that issue queries at all */
	size_t app_min = nissue / 2 > 2 ? nissue / 2 : 2;
	struct srv_span rows = srv_rows_of(&c->by_srv.cand, s);
	for (size_t j = 0; j < rows.n; j++) {
		const struct bs_cand *k = &a->cand.v[rows.v[j]];
		if (k->kind != CK_DBQUERY || !(k->flags & CF_SUCCESS))
			continue;
		if (k->num1 < c->cfg->th.bulk_min_rows)
			continue;
		/* the application's own statements are issued by most servers */
		size_t nby = shape_servers(c, k->shape);
		if (nby >= app_min)
			continue;
		v->signals |= 1u << BS_SIG_DB_BULK_READ;
		note_baseline(v, BS_SIG_DB_BULK_READ, "at least %llu rows; the statement shape is issued by %zu server(s), "
		              "the application's own by %zu or more of the %zu that query", (unsigned long long)c->cfg->th.bulk_min_rows,
		              nby, app_min, nissue);
		PUSH_UNIQUE(v->attack_queries, k->key);
	}
}

/* ------------------------------------------- exfiltration's indexes
 * Built once per run (exfil_index_build) so that judging a mail or a
 * transfer costs a lookup, not a scan of every evidence or candidate. */

/* The sender logged in (webmail or IMAP/POP3): the message is that
 * customer's own mail, whatever its size (attachments), not the server's. */
static bool sender_is_customer(const struct ctx *c, uint32_t sender)
{
	uint32_t v;
	return id_set_get(&c->ex.login_addr, sender, &v);
}

static const char *local_part_end(const char *addr) { const char *at = strrchr(addr, '@'); return at ? at : addr + strlen(addr); }

static uint64_t local_part_hash(const struct ctx *c, uint32_t user)
{
	const char *me = S(c, user);
	return bs_hash64(me, (size_t)(local_part_end(me) - me), 0);
}

/* Candidates grouped by a hash (mails by their account's local part,
 * transfers by destination), each group largest first. */
struct grouped { uint64_t group; uint64_t num1; uint32_t ix; };

static int cmp_grouped(const void *x, const void *y)
{
	const struct grouped *p = x, *q = y;
	if (p->group != q->group) return p->group < q->group ? -1 : 1;
	if (p->num1 != q->num1) return p->num1 > q->num1 ? -1 : 1;
	return p->ix < q->ix ? -1 : p->ix > q->ix;
}

static bool is_transfer(const struct bs_cand *k) { return k->kind == CK_FLOW_OUT || k->kind == CK_FILEXFER; }

static uint64_t dst_group(const bs_ip *ip)
{
	return bs_key2(CK_FLOW_OUT, bs_hash64(ip->a, ip->family == 4 ? 4 : ip->family ? 16 : 0, ip->family));
}

void exfil_index_build(struct ctx *c)
{
	const struct bs_agg *a = c->a;
	struct exfil_index *x = &c->ex;
	bs_u64map_init(&x->login_addr);
	bs_u64map_init(&x->sent_to);
	bs_u64map_init(&x->wrote_peer);
	bs_u64map_init(&x->payload_addrs);
	for (size_t i = 0; i < a->ev.n; i++)
		if (a->ev.v[i].kind == EK_LOGIN)
			id_set_add(&x->login_addr, a->ev.v[i].addr, 1);
		else if (a->ev.v[i].kind == EK_SENT_TO)
			id_set_add(&x->sent_to, a->ev.v[i].addr, 1);
		else if (a->ev.v[i].kind == EK_PAYLOAD) {
			/* one record per (address, sending host, flow): a count of the
			 * distinct addresses each side of a flow sent */
			bool found;
			uint32_t *n = bs_u64map_upsert(&x->payload_addrs, bs_key2(a->ev.v[i].peer, a->ev.v[i].host), &found);
			*n = found && *n < UINT32_MAX ? *n + 1 : 2; /* stored as count + 1 */
		}
	for (size_t i = 0; i < a->ev.n; i++) {
		const struct bs_evidence *e = &a->ev.v[i];
		if (e->kind == EK_RECV_PAIR && sender_is_customer(c, e->addr))
			id_set_add(&x->wrote_peer, e->peer, e->addr);
	}
	x->by_group = bs_xmalloc((a->cand.n ? a->cand.n : 1) * sizeof *x->by_group);
	x->n = 0;
	for (size_t i = 0; i < a->cand.n; i++) {
		const struct bs_cand *k = &a->cand.v[i];
		struct grouped g = { 0, k->num1, (uint32_t)i };
		if (k->kind == CK_MAIL_OUT)
			g.group = bs_key2(CK_MAIL_OUT, local_part_hash(c, k->s_user));
		else if (is_transfer(k) && srv_of_host(c, k->host) >= 0)
			g.group = dst_group(&k->dst);
		else
			continue;
		x->by_group[x->n++] = g;
	}
	bs_qsort(x->by_group, x->n, sizeof *x->by_group, cmp_grouped);
}

void exfil_index_free(struct ctx *c)
{
	bs_u64map_free(&c->ex.login_addr);
	bs_u64map_free(&c->ex.sent_to);
	bs_u64map_free(&c->ex.wrote_peer);
	bs_u64map_free(&c->ex.payload_addrs);
	free(c->ex.by_group);
}

/* The first of a group in by_group (x->n when none). */
static size_t group_start(const struct exfil_index *x, uint64_t group)
{
	size_t lo = 0, hi = x->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->by_group[mid].group < group)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Copies of one message (pickup, relay, capture): same recipients, close in time. */
static bool same_message(const struct bs_cand *x, const struct bs_cand *y)
{
	bs_time d = x->ts > y->ts ? x->ts - y->ts : y->ts - x->ts;
	return x->s_main == y->s_main && d < 600 * (bs_time)BS_USEC;
}

/* Baseline of a mail: the largest other message of the same account, or of
 * the same account name on the other servers (apache@wm1 for apache@wm3). */
static uint64_t mail_baseline(const struct ctx *c, const struct bs_cand *k)
{
	const char *me = S(c, k->s_user), *me_end = local_part_end(me);
	uint64_t group = bs_key2(CK_MAIL_OUT, local_part_hash(c, k->s_user));
	for (size_t i = group_start(&c->ex, group); i < c->ex.n && c->ex.by_group[i].group == group; i++) {
		const struct bs_cand *o = &c->a->cand.v[c->ex.by_group[i].ix];
		if (!o->num1)
			break; /* largest first: no other counts */
		if (o == k || o->kind != CK_MAIL_OUT || same_message(o, k))
			continue;
		const char *other = S(c, o->s_user), *other_end = local_part_end(other);
		if (o->s_user == k->s_user || (other_end - other == me_end - me && memcmp(other, me, (size_t)(me_end - me)) == 0))
			return o->num1;
	}
	return 0;
}

/* Baseline of a transfer: the largest other transfer by the fleet (this
 * server's history and its peers) to the same destination: a nightly
 * offsite backup is routine, a first upload to a new host is not. */
static uint64_t transfer_baseline(const struct ctx *c, const struct bs_cand *k)
{
	uint64_t group = dst_group(&k->dst);
	for (size_t i = group_start(&c->ex, group); i < c->ex.n && c->ex.by_group[i].group == group; i++) {
		const struct bs_cand *o = &c->a->cand.v[c->ex.by_group[i].ix];
		if (!o->num1)
			break;
		if (is_transfer(o) && o->key != k->key && bs_ip_eq(&o->dst, &k->dst))
			return o->num1;
	}
	return 0;
}

/* The distinct addresses a transfer's sender (the fleet host) put in its
 * payload (0 for none seen): what came back from the outside host is not
 * the fleet's data leaving. */
static uint64_t payload_addrs(const struct ctx *c, const struct bs_cand *k)
{
	uint32_t n;
	return bs_u64map_get(&c->ex.payload_addrs, bs_key2(k->key, k->host), &n) ? n : 0;
}

/* The most addresses any other transfer of the fleet to the same
 * destination carried: a destination that routinely receives address
 * lists (an offsite backup of the database) is no drop box. */
static uint64_t transfer_addr_baseline(const struct ctx *c, const struct bs_cand *k)
{
	uint64_t group = dst_group(&k->dst), most = 0;
	for (size_t i = group_start(&c->ex, group); i < c->ex.n && c->ex.by_group[i].group == group; i++) {
		const struct bs_cand *o = &c->a->cand.v[c->ex.by_group[i].ix];
		if (is_transfer(o) && o->key != k->key && bs_ip_eq(&o->dst, &k->dst)) {
			uint64_t n = payload_addrs(c, o);
			if (n > most)
				most = n;
		}
	}
	return most;
}

/* Did a user of the fleet ever write to this address? An authenticated
 * submission to it, or mail to it from a sender who logged in (other than
 * the account under judgement). A drop box the attacker mails the dump to
 * is new; a correspondent of the customers is not. */
static bool users_wrote_to(const struct ctx *c, const char *rcpt, uint32_t own_sender)
{
	uint32_t id = bs_strtab_find(&c->a->str, rcpt, strlen(rcpt));
	if (id == UINT32_MAX)
		return false;
	uint32_t sender;
	if (id_set_get(&c->ex.sent_to, id, &sender))
		return true;
	return id_set_get(&c->ex.wrote_peer, id, &sender) && sender != own_sender;
}

static bool exfil_mail_hit(const struct ctx *c, const struct bs_cand *k, uint64_t med_mail, uint64_t *base)
{
	const char *rcpts = S(c, k->s_main);
	char first[BS_ADDR_MAX + 1];
	size_t n = strcspn(rcpts, ";");
	if (n > BS_ADDR_MAX)
		n = BS_ADDR_MAX;
	memcpy(first, rcpts, n);
	first[n] = 0;
	double f = c->cfg->th.exfil_factor;
	uint64_t floor = (k->flags & CF_LOCAL_UID) ? (uint64_t)(f * (double)med_mail) : 0;
	if (!addr_domain_outside(c, first) || k->num1 < c->cfg->th.exfil_min_bytes || k->num1 < floor)
		return false;
	if (sender_is_customer(c, k->s_user) || users_wrote_to(c, first, k->s_user))
		return false;
	*base = mail_baseline(c, k);
	return (double)k->num1 >= f * (double)*base;
}

void detect_exfil(struct ctx *c, size_t s)
{
	struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	uint64_t med_out = srv_median(c, s, false), med_mail = srv_median(c, s, true);
	double f = c->cfg->th.exfil_factor;
	uint64_t min = c->cfg->th.exfil_min_bytes;
	struct srv_span rows = srv_rows_of(&c->by_srv.cand, s);
	for (size_t j = 0; j < rows.n; j++) {
		size_t i = rows.v[j];
		const struct bs_cand *k = &a->cand.v[i];
		bool hit = false;
		uint64_t base = 0;
		uint64_t naddrs = 0, addr_base = 0;
		bool by_addrs = false;
		if ((k->kind == CK_FLOW_OUT || k->kind == CK_FILEXFER) && ip_is_outside(c, &k->dst)) {
			/* an FTP data flow is reported once, as its transfer */
			if (k->kind == CK_FLOW_OUT && cand_find(c, CK_FILEXFER, k->key))
				continue;
			uint64_t floor = (uint64_t)(f * (double)med_out);
			hit = k->num1 >= min && k->num1 >= floor;
			if (hit) {
				base = transfer_baseline(c, k);
				hit = (double)k->num1 >= f * (double)base;
			}
			/* or a dump however small: a gzip file of thousands of
			 * addresses is a few tens of KB */
			naddrs = payload_addrs(c, k);
			if (!hit && naddrs >= c->cfg->th.exfil_min_addrs) {
				addr_base = transfer_addr_baseline(c, k);
				hit = by_addrs = (double)naddrs >= f * (double)addr_base;
			}
		} else if (k->kind == CK_MAIL_OUT) {
			hit = exfil_mail_hit(c, k, med_mail, &base);
		}
		if (!hit)
			continue;
		v->signals |= 1u << BS_SIG_EXFILTRATION;
		if (by_addrs)
			note_baseline(v, BS_SIG_EXFILTRATION, "a transfer carrying %llu distinct addresses; the most any other transfer to "
			              "the same destination carried: %llu; flagged from %llu and %.0f times that",
			              (unsigned long long)naddrs, (unsigned long long)addr_base,
			              (unsigned long long)c->cfg->th.exfil_min_addrs, f);
		else
			note_baseline(v, BS_SIG_EXFILTRATION, "median outbound flow of this server: %llu bytes, median local mail: "
			              "%llu bytes; largest other %s of the same %s: %llu bytes; flagged from %.0f times both and at "
			              "least %llu bytes", (unsigned long long)med_out, (unsigned long long)med_mail,
			              k->kind == CK_MAIL_OUT ? "mail" : "transfer", k->kind == CK_MAIL_OUT ? "account" : "destination",
			              (unsigned long long)base, f, (unsigned long long)min);
		*BS_VEC_PUSH(v->exfil_cands) = i;
		*BS_VEC_PUSH(v->exfil_base) = base;
		if (k->kind != CK_MAIL_OUT) {
			PUSH_UNIQUE(v->exfil_keys, k->key);
			add_ip_unique(v, &k->dst);
		}
	}
}

/* (path, ref host, server) triples, sorted: servers are counted once each. */
struct page_srv { uint32_t path, refhost; int32_t srv; };

static int cmp_page_srv(const void *pa, const void *pb)
{
	const struct page_srv *x = pa, *y = pb;
	if (x->path != y->path)
		return x->path < y->path ? -1 : 1;
	if (x->refhost != y->refhost)
		return x->refhost < y->refhost ? -1 : 1;
	return (x->srv > y->srv) - (x->srv < y->srv);
}

/* Counts the distinct servers of each run of equal (path, refhost) in a
 * sorted array into map, keyed by path alone when by_path. */
static void count_servers(struct page_srv *v, size_t n, struct bs_u64map *map, bool by_path)
{
	bs_qsort(v, n, sizeof *v, cmp_page_srv);
	for (size_t i = 0; i < n; i++) {
		if (i && v[i].path == v[i - 1].path && v[i].refhost == v[i - 1].refhost && v[i].srv == v[i - 1].srv)
			continue;
		bool found;
		uint32_t *cnt = bs_u64map_upsert(map, by_path ? v[i].path : bs_key2(v[i].path, v[i].refhost), &found);
		*cnt = found ? *cnt + 1 : 2; /* the map stores value + 1 */
	}
}

/* One pass over the pages and one over their references, sorted: judging
 * a server's references is then a lookup each, whatever the fleet's size
 * (comparing every reference with every page per server was quadratic). */
void tamper_index_build(struct ctx *c)
{
	const struct bs_agg *a = c->a;
	struct tamper_index *t = &c->tamper;
	bs_u64map_init(&t->nserve);
	bs_u64map_init(&t->nwith);
	bs_u64map_init(&t->fleetwide);
	size_t n = a->paths.n > a->refs.n ? a->paths.n : a->refs.n, k = 0;
	struct page_srv *v = bs_xmalloc((n ? n : 1) * sizeof *v);
	for (size_t i = 0; i < a->paths.n; i++) {
		int o = srv_of_host(c, a->paths.v[i].host);
		if (o >= 0)
			v[k++] = (struct page_srv){ a->paths.v[i].path, 0, o };
	}
	count_servers(v, k, &t->nserve, true);
	k = 0;
	for (size_t i = 0; i < a->refs.n; i++) {
		int o = srv_of_host(c, a->refs.v[i].host);
		if (o >= 0)
			v[k++] = (struct page_srv){ a->refs.v[i].path, a->refs.v[i].refhost, o };
	}
	count_servers(v, k, &t->nwith, false);
	/* A host that most servers' copies of some page reference is the
	 * fleet's own resource (a widget deployed everywhere), whatever a
	 * single odd page shows: one server's answer to a scanner's request,
	 * served after the deployment while the others answered it before. */
	for (size_t i = 0; i < k; i++) {
		uint32_t nserve = 0, nwith = 0;
		bs_u64map_get(&t->nserve, v[i].path, &nserve);
		bs_u64map_get(&t->nwith, bs_key2(v[i].path, v[i].refhost), &nwith);
		if (nserve >= 2 && nwith * 2 >= nserve) {
			bool found;
			*bs_u64map_upsert(&t->fleetwide, v[i].refhost, &found) = 1;
		}
	}
	free(v);
}

void tamper_index_free(struct ctx *c)
{
	bs_u64map_free(&c->tamper.nserve);
	bs_u64map_free(&c->tamper.nwith);
	bs_u64map_free(&c->tamper.fleetwide);
}

static int cmp_refrec_by_refhost(const void *pa, const void *pb)
{
	const struct bs_refrec *x = *(const struct bs_refrec *const *)pa, *y = *(const struct bs_refrec *const *)pb;
	return (x->refhost > y->refhost) - (x->refhost < y->refhost);
}

/* Weak references the copies of other servers lack (links, URLs scripts
 * hold in variables): a host counts when at least th.tamper_weak_clients
 * distinct clients were served them, over the server's pages, a tampered
 * template reaching every visitor. A message shown by the webmail with a
 * link in it, or per-user data a page's script holds, reaches its reader
 * (what loads or opens by itself counts from one page and one client).
 * Sorted by host, so each host's clients are joined once. */
static void tamper_weak(struct ctx *c, struct srv *v, const struct bs_refrec **cand, size_t n)
{
	bs_qsort(cand, n, sizeof *cand, cmp_refrec_by_refhost);
	for (size_t i = 0; i < n;) {
		uint32_t clients[BS_REF_CLIENTS] = { 0 };
		size_t j = i;
		for (; j < n && cand[j]->refhost == cand[i]->refhost; j++)
			for (size_t k = 0; k < BS_REF_CLIENTS && cand[j]->clients[k]; k++)
				bs_refrec_add_client(clients, cand[j]->clients[k]);
		size_t distinct = 0;
		while (distinct < BS_REF_CLIENTS && clients[distinct])
			distinct++;
		if (distinct >= c->cfg->th.tamper_weak_clients)
			PUSH_UNIQUE(v->tamper_refhosts, cand[i]->refhost);
		i = j;
	}
}

void detect_tamper(struct ctx *c, size_t s)
{
	struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	const struct tamper_index *t = &c->tamper;
	struct srv_span rows = srv_rows_of(&c->by_srv.refs, s);
	const struct bs_refrec **weak = NULL;
	size_t nweak = 0;
	for (size_t j = 0; j < rows.n; j++) {
		const struct bs_refrec *r = &a->refs.v[rows.v[j]];
		if (!host_is_outside(c, S(c, r->refhost)))
			continue;
		/* servers that serve this path, and those whose copy has this reference */
		uint32_t nserve = 0, nwith = 0, fleetwide;
		bs_u64map_get(&t->nserve, r->path, &nserve);
		bs_u64map_get(&t->nwith, bs_key2(r->path, r->refhost), &nwith);
		if (nserve < 2 || nwith * 2 >= nserve || bs_u64map_get(&t->fleetwide, r->refhost, &fleetwide))
			continue;
		if (!r->weak_only) {
			PUSH_UNIQUE(v->tamper_refhosts, r->refhost);
			continue;
		}
		if (!weak)
			weak = bs_xmalloc(rows.n * sizeof *weak);
		weak[nweak++] = r;
	}
	if (nweak)
		tamper_weak(c, v, weak, nweak);
	free(weak);
	if (!v->tamper_refhosts.n)
		return;
	v->signals |= 1u << BS_SIG_TAMPERED_CONTENT;
	note_baseline(v, BS_SIG_TAMPERED_CONTENT, "the copies of the same pages served by the other servers (flagged when fewer than half have the reference)");
	for (size_t j = 0; j < rows.n; j++) {
		const struct bs_refrec *r = &a->refs.v[rows.v[j]];
		if (u32_in(v->tamper_refhosts.v, v->tamper_refhosts.n, r->refhost)) {
			v->ts = tmin(v->ts, r->first);
			v->te = tmax(v->te, r->last);
		}
	}
}

static int hour_slot(int64_t hour) { return (int)(((hour % 24) + 24) % 24); }

/* The two busiest hours of one hour of the day on a server: the busiest
 * same or neighbouring hour of other days, h excluded, in constant time. */
struct slot_top { const struct bs_hourrec *best; uint64_t second; };

static void slot_top_add(struct slot_top *t, const struct bs_hourrec *h)
{
	if (!t->best || h->logins > t->best->logins) {
		t->second = t->best ? t->best->logins : 0;
		t->best = h;
	} else if (h->logins > t->second) {
		t->second = h->logins;
	}
}

/* The most logins through the server in an hour of another day at the same
 * hour of the day or next to it (h excluded). */
static uint64_t busiest_same_hours(const struct slot_top top[24], const struct bs_hourrec *h)
{
	uint64_t most = 0;
	for (int d = 23; d <= 25; d++) {
		const struct slot_top *t = &top[(hour_slot(h->hour) + d) % 24];
		uint64_t n = t->best == h ? t->second : t->best ? t->best->logins : 0;
		most = n > most ? n : most;
	}
	return most;
}

/* Logins through the server in an hour far above the same hours of its
 * other days: harvested passwords tried at night through the webmail host
 * (IMAP logins with rip= the host). Baselines: the server's mean for that
 * hour of the day over the days it has data (zero is a baseline too), and
 * the busiest same or neighbouring hour of its other days (a busy morning
 * is not a burst). */
static void login_slot_bursts(struct ctx *c, size_t s)
{
	struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	uint64_t slot[24] = { 0 };
	struct slot_top top[24] = { 0 };
	int64_t hmin = INT64_MAX, hmax = INT64_MIN;
	struct srv_span rows = srv_rows_of(&c->by_srv.hours, s);
	for (size_t j = 0; j < rows.n; j++) {
		const struct bs_hourrec *h = &a->hours.v[rows.v[j]];
		slot[hour_slot(h->hour)] += h->logins;
		slot_top_add(&top[hour_slot(h->hour)], h);
		hmin = h->hour < hmin ? h->hour : hmin;
		hmax = h->hour > hmax ? h->hour : hmax;
	}
	int64_t days = hmin <= hmax ? (hmax - hmin) / 24 + 1 : 0;
	if (days < 7)
		return; /* a week at least, for the same hour of other days to mean anything */
	/* the baseline names the largest (then earliest) burst: the rows'
	 * order depends on how the inputs were shared out */
	const struct bs_hourrec *best = NULL;
	double best_usual = 0;
	uint64_t best_most = 0;
	for (size_t j = 0; j < rows.n; j++) {
		const struct bs_hourrec *h = &a->hours.v[rows.v[j]];
		if (h->logins < c->cfg->th.login_burst_slot)
			continue;
		double usual = (double)(slot[hour_slot(h->hour)] - h->logins) / (double)(days - 1);
		uint64_t most = busiest_same_hours(top, h);
		if ((double)h->logins <= c->cfg->th.login_burst_factor * usual || h->logins <= 3 * most)
			continue;
		v->signals |= 1u << BS_SIG_AUTH_ANOMALY;
		v->burst_first = tmin(v->burst_first, h->login_first);
		v->burst_last = tmax(v->burst_last, h->login_last);
		if (!best || h->logins > best->logins || (h->logins == best->logins && h->hour < best->hour)) {
			best = h;
			best_usual = usual;
			best_most = most;
		}
	}
	if (best)
		note_baseline(v, BS_SIG_AUTH_ANOMALY, "%llu logins in the hour from %02d:00 UTC; that hour on this server's %lld days: "
		              "%.2f on average, at most %llu (flagged from %llu logins, above %.0f times the average and 3 times the most)",
		              (unsigned long long)best->logins, hour_slot(best->hour), (long long)days, best_usual,
		              (unsigned long long)best_most, (unsigned long long)c->cfg->th.login_burst_slot,
		              c->cfg->th.login_burst_factor);
}

/* Failed logins from one address within an hour are a brute force from the
 * threshold on; from an address of the fleet itself (a webmail host logging
 * its users in to IMAP: rip= is the webmail host) only when they also
 * outnumber the successful logins through the server that hour. A webmail
 * host of a million users passes on a hundred mistyped passwords an hour
 * among tens of thousands of logins: that was flagged on every server. */
static void find_bruteforces(struct ctx *c, size_t s, struct srv_span fails, struct srv_span hours)
{
	const struct bs_agg *a = c->a;
	struct bs_u64map logins; /* (host, hour) -> successful logins (stored + 1, as the map does) */
	bs_u64map_init(&logins);
	for (size_t j = 0; j < hours.n; j++) {
		const struct bs_hourrec *h = &a->hours.v[hours.v[j]];
		bool found;
		*bs_u64map_upsert(&logins, bs_key2(h->host, (uint64_t)h->hour), &found) =
			(uint32_t)(h->logins < UINT32_MAX - 1 ? h->logins : UINT32_MAX - 1) + 1;
	}
	for (size_t j = 0; j < fails.n; j++) {
		const struct bs_failrec *f = &a->fails.v[fails.v[j]];
		if (f->count < c->cfg->th.bruteforce_failures)
			continue;
		uint32_t ok = 0;
		if (ip_is_infra(c, &f->src) && bs_u64map_get(&logins, bs_key2(f->host, (uint64_t)f->hour), &ok) &&
		    ok >= f->count)
			continue;
		*BS_VEC_PUSH(c->srv[s].bruteforces) = fails.v[j];
	}
	bs_u64map_free(&logins);
}

/* More failures, then earlier, then the lower address. */
static bool fail_outranks(const struct bs_failrec *f, const struct bs_failrec *top)
{
	if (f->count != top->count)
		return f->count > top->count;
	if (f->hour != top->hour)
		return f->hour < top->hour;
	return bs_ip_cmp(&f->src, &top->src) < 0;
}

void detect_auth(struct ctx *c, size_t s)
{
	struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	if (!c->srv_hosted[s])
		return; /* no login of the data is its */
	struct srv_span fails = srv_rows_of(&c->by_srv.fails, s), hours = srv_rows_of(&c->by_srv.hours, s);
	find_bruteforces(c, s, fails, hours);
	/* the baseline names the largest (then earliest) brute force: the
	 * aggregate's row order depends on how the inputs were shared out */
	const struct bs_failrec *top = NULL;
	for (size_t j = 0; j < v->bruteforces.n; j++) {
		const struct bs_failrec *f = &a->fails.v[v->bruteforces.v[j]];
		if (!top || fail_outranks(f, top))
			top = f;
	}
	if (top) {
		v->signals |= 1u << BS_SIG_AUTH_ANOMALY;
		note_baseline(v, BS_SIG_AUTH_ANOMALY, "%llu failed logins from one address within an hour (threshold %llu%s)",
		              (unsigned long long)top->count, (unsigned long long)c->cfg->th.bruteforce_failures,
		              ip_is_infra(c, &top->src) ? "; from the fleet itself: also more than that hour's successful logins through the server" : "");
	}
	/* a burst of successful logins far above the server's usual hour */
	uint64_t *per = bs_xmalloc((hours.n ? hours.n : 1) * sizeof *per);
	size_t n = 0;
	for (size_t j = 0; j < hours.n; j++)
		if (a->hours.v[hours.v[j]].logins)
			per[n++] = a->hours.v[hours.v[j]].logins;
	if (n >= 24) {
		uint64_t sum = 0, max = 0;
		for (size_t i = 0; i < n; i++) {
			sum += per[i];
			if (per[i] > max)
				max = per[i];
		}
		double mean = (double)sum / (double)n;
		if (max >= c->cfg->th.login_burst_users && (double)max > c->cfg->th.login_burst_factor * mean) {
			v->signals |= 1u << BS_SIG_AUTH_ANOMALY;
			note_baseline(v, BS_SIG_AUTH_ANOMALY, "busiest hour: %llu logins; usual hour of this server: %.1f (flagged above %.0f times)",
			              (unsigned long long)max, mean, c->cfg->th.login_burst_factor);
		}
	}
	free(per);
	login_slot_bursts(c, s);
}

void detect_foreign(struct ctx *c, size_t s, bool emit)
{
	struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	if (v->ws == BS_TIME_NONE)
		return;
	struct srv_span rows = srv_rows_of(&c->by_srv.dests, s);
	for (size_t j = 0; j < rows.n; j++) {
		const struct bs_destrec *d = &a->dests.v[rows.v[j]];
		if (d->first < v->ws)
			continue;
		const char *dest = S(c, d->dest);
		const char *name = d->is_name ? dest : (strncmp(dest, "ip:", 3) == 0 ? dest + 3 : dest);
		if (!host_is_outside(c, name))
			continue;
		if (dest_only_of(c, d->dest, s)) {
			v->signals |= 1u << BS_SIG_FOREIGN_DESTINATION;
			note_baseline(v, BS_SIG_FOREIGN_DESTINATION, "the destinations of the other %zu server(s) of the fleet", c->nsrv - 1);
			if (!emit)
				continue;
			tl_add(c, d->first, 6, "First Contact", "foreign_destination", BS_SEV_COMPROMISE, (int)s, NULL,
			       NULL, NULL, NULL, 0, 0, "%s contacted %s %s for the first time (%llu times in all)",
			       v->name, d->is_name ? "the name" : "the address", name, (unsigned long long)d->count);
			c->tl.v[c->tl.n - 1].input = UINT32_MAX; /* no single source line */
			if (!d->is_name) {
				bs_ip ip;
				if (bs_ip_parse(name, strlen(name), &ip))
					c->tl.v[c->tl.n - 1].dst_ip = ip;
			}
		}
	}
	if (v->tamper_refhosts.n) {
		v->signals |= 1u << BS_SIG_FOREIGN_DESTINATION;
		note_baseline(v, BS_SIG_FOREIGN_DESTINATION, "the outside hosts the other servers' copies of the tampered pages reference");
	}
}

