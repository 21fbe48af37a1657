/* exposure.c - which addresses were exposed, how and when: every evidence
 * record of the aggregate is weighed against the verdicts and windows of
 * the servers, then one row per address. docs/DETECTION.md, "Exposure" and
 * "Spam onset". */
#include "config.h"
#include "src/engine/correlate.h"
#include "src/engine/detect.h"

#include <string.h>

struct addr_acc {
	unsigned cats;
	unsigned observed;           /* categories from a seen copy or through the compromised server */
	bs_time first, last;
	uint64_t evidence;
	uint64_t servers;            /* bitmask of server indexes < 64 */
	bs_ip client;
	uint32_t ua;
	bs_time trojan_first;
};

static void acc_evidence(struct addr_acc *x, const struct bs_evidence *e, enum bs_category cat, int srv)
{
	if (cat == BS_CAT_CREDENTIALS_AT_RISK || cat == BS_CAT_TROJAN_PAGE_SERVED)
		x->observed |= 1u << cat; /* observed through the compromised server */
	x->cats |= 1u << cat;
	x->first = tmin(x->first, e->first);
	x->last = tmax(x->last, e->last);
	x->evidence += e->count;
	if (srv >= 0 && srv < 64)
		x->servers |= 1ULL << srv;
}

/* Attacker's transactions: suspect requests from attacker addresses on a
 * compromised server inside its window. */
static bool txn_is_attack(const struct ctx *c, uint32_t key, int *srv_out)
{
	const struct bs_cand *k = cand_find(c, CK_HTTP, key);
	if (!k)
		return false;
	int s = srv_of_host(c, k->host);
	if (s < 0 || c->srv[s].verdict != BS_V_COMPROMISED)
		return false;
	const struct srv *v = &c->srv[s];
	*srv_out = s;
	return ip_in(v->attackers.v, v->attackers.n, &k->src) && k->ts >= v->ws;
}

static int cmp_exposed_addr(const void *x, const void *y)
{
	return strcmp(((const struct bs_exposed *)x)->address, ((const struct bs_exposed *)y)->address);
}

/* The latest window end over compromised servers: exposure counts only
 * what happened before it. BS_TIME_NONE when no server is compromised. */
static bs_time compromise_end(const struct ctx *c)
{
	bs_time t = BS_TIME_NONE;
	for (size_t s = 0; s < c->nsrv; s++)
		if (c->srv[s].verdict == BS_V_COMPROMISED)
			t = tmax(t, c->srv[s].we);
	return t;
}

/* txn_is_attack, remembered per transaction key in txn_attack:
 * value ((server + 1) << 1 | attack) + 1. */
static bool txn_is_attack_cached(const struct ctx *c, struct bs_u64map *txn_attack, uint32_t key, int *srv_out)
{
	uint32_t v;
	if (bs_u64map_get(txn_attack, key, &v)) {
		*srv_out = (int)(v >> 1) - 1;
		return v & 1;
	}
	int s = -1;
	bool attack = txn_is_attack(c, key, &s);
	bool f;
	*bs_u64map_upsert(txn_attack, key, &f) = ((uint32_t)(s + 1) << 1 | attack) + 1;
	*srv_out = s;
	return attack;
}

/* ---- The stolen copy, when seen, is the authority (issue 16) ----
 * The attacker's reads seen in the data (result rows of its bulk reads)
 * decide the categories of the tables they cover; inference from logs and
 * traffic fills only the rest, up to the end of the last bulk read or
 * exfiltration (the copy cannot hold what came later). */

struct stolen_copy {
	unsigned whole;   /* categories whose table a seen read covers whole */
	unsigned cut;     /* categories whose table was seen cut: seen rows plus inference */
	bs_time X;        /* inference cut-off: end of the last bulk read or exfiltration */
};

#define CAT(x) (1u << BS_CAT_##x)

static unsigned table_categories(enum bs_table_kind k)
{
	switch (k) {
	case BS_TABLE_USERS: return CAT(LOGIN);
	case BS_TABLE_ADDRBOOK: return CAT(ADDRESSBOOK);
	case BS_TABLE_SENT: return CAT(SENT_TO);
	case BS_TABLE_RECEIVED: return CAT(RECEIVED_FROM);
	case BS_TABLE_CORRESPONDENTS: return CAT(SENT_TO) | CAT(RECEIVED_FROM);
	case BS_TABLE_OTHER: break;
	}
	return 0;
}

static enum bs_table_kind query_table(const struct ctx *c, const struct bs_cand *q)
{
	const char *sql = S(c, q->s_main);
	return bs_detect_sql_table_kind(bs_str_make(sql, strlen(sql)));
}

/* Add a table's name to a ";"-joined list (once). */
static void table_list_add(char *list, size_t size, const struct ctx *c, const struct bs_cand *q)
{
	char t[64];
	const char *sql = S(c, q->s_main);
	bs_detect_sql_from_table(bs_str_make(sql, strlen(sql)), t, sizeof t);
	size_t n = strlen(list), tn = strlen(t);
	for (const char *p = list; tn && (p = strstr(p, t)) != NULL; p += tn)
		if ((p == list || p[-1] == ';') && (p[tn] == ';' || !p[tn]))
			return;
	if (tn && n + tn + 2 <= size)
		snprintf(list + n, size - n, "%s%s", n ? ";" : "", t);
}

/* Which categories the seen reads cover, the tables seen whole and cut,
 * and the inference cut-off X. */
static void stolen_copy_scope(struct ctx *c, struct bs_results *r, struct stolen_copy *sc)
{
	const struct bs_agg *a = c->a;
	sc->whole = sc->cut = 0;
	sc->X = BS_TIME_NONE;
	for (size_t s = 0; s < c->nsrv; s++) {
		const struct srv *v = &c->srv[s];
		if (v->verdict != BS_V_COMPROMISED)
			continue;
		for (size_t i = 0; i < v->attack_queries.n; i++) {
			const struct bs_cand *q = cand_find(c, CK_DBQUERY, v->attack_queries.v[i]);
			if (!q)
				continue;
			bool cut = q->flags & CF_CUT;
			const char *sql = S(c, q->s_main);
			/* an old or backup copy does not stand for the live table */
			if (!bs_detect_sql_table_is_copy(bs_str_make(sql, strlen(sql))))
				*(cut ? &sc->cut : &sc->whole) |= table_categories(query_table(c, q));
			if (cut)
				table_list_add(r->tables_cut, sizeof r->tables_cut, c, q);
			else
				table_list_add(r->tables_whole, sizeof r->tables_whole, c, q);
			sc->X = tmax(sc->X, q->ts_end);
		}
		for (size_t j = 0; j < v->exfil_cands.n; j++)
			sc->X = tmax(sc->X, a->cand.v[v->exfil_cands.v[j]].ts_end);
	}
	sc->cut &= ~sc->whole;
	if (sc->X == BS_TIME_NONE)
		sc->X = c->T;
}

/* A row of a seen copy: its table's category (per row for correspondents),
 * and always exfiltrated; observed. */
static void weigh_seen_row(struct ctx *c, struct addr_acc *x, const struct bs_evidence *e, int s)
{
	if (e->kind == EK_DB_UNFILTERED) {
		const struct bs_cand *q = cand_find(c, CK_DBQUERY, e->peer);
		unsigned m = q ? table_categories(query_table(c, q)) : 0;
		if (m == (CAT(SENT_TO) | CAT(RECEIVED_FROM)))
			m = 0; /* a correspondents table: the row's direction decides (EK_DB_ROW_*) */
		for (int cat = 0; cat < BS_CAT_COUNT; cat++)
			if (m & (1u << cat))
				acc_evidence(x, e, (enum bs_category)cat, s);
		acc_evidence(x, e, BS_CAT_EXFILTRATED, s);
		x->observed |= m | CAT(EXFILTRATED);
	} else {
		enum bs_category cat = e->kind == EK_DB_ROW_SENT ? BS_CAT_SENT_TO : BS_CAT_RECEIVED_FROM;
		acc_evidence(x, e, cat, s);
		x->observed |= 1u << cat;
	}
}

/* Inference from logs and traffic for a category no seen read covers
 * whole, up to X; a table seen cut left the server whole (exfiltrated). */
static void weigh_inferred(const struct stolen_copy *sc, struct addr_acc *x, const struct bs_evidence *e,
                           enum bs_category cat, int s)
{
	if ((sc->whole & (1u << cat)) || e->first > sc->X)
		return;
	acc_evidence(x, e, cat, s);
	if (sc->cut & (1u << cat))
		acc_evidence(x, e, BS_CAT_EXFILTRATED, s);
}

/* One evidence record that stands on its own (all kinds but the received_from pairs). */
static void weigh_evidence(struct ctx *c, struct addr_acc *acc, struct bs_u64map *txn_attack,
                           const struct stolen_copy *sc, const struct bs_evidence *e)
{
	int s = srv_of_host(c, e->host);
	struct addr_acc *x = &acc[e->addr];
	const struct srv *v = s >= 0 ? &c->srv[s] : NULL;
	bool compromised = v && v->verdict == BS_V_COMPROMISED;
	switch (e->kind) {
	case EK_LOGIN:
		if (!v)
			break;
		weigh_inferred(sc, x, e, BS_CAT_LOGIN, s);
		if (compromised && e->last >= v->ws && e->first <= v->we)
			acc_evidence(x, e, BS_CAT_CREDENTIALS_AT_RISK, s);
		break;
	case EK_ADDRBOOK:
		if (v)
			weigh_inferred(sc, x, e, BS_CAT_ADDRESSBOOK, s);
		break;
	case EK_SENT_TO:
		if (v)
			weigh_inferred(sc, x, e, BS_CAT_SENT_TO, s);
		break;
	case EK_DB_UNFILTERED:
	case EK_DB_ROW_SENT:
	case EK_DB_ROW_RECEIVED:
		if (compromised && u32_in(v->attack_queries.v, v->attack_queries.n, e->peer))
			weigh_seen_row(c, x, e, s);
		break;
	case EK_HTTP_SUSPECT: {
		int ts = -1;
		if (txn_is_attack_cached(c, txn_attack, e->peer, &ts)) {
			acc_evidence(x, e, BS_CAT_EXFILTRATED, ts);
			x->observed |= CAT(EXFILTRATED);
		}
		break;
	}
	case EK_PAYLOAD:
		if (compromised && u32_in(v->exfil_keys.v, v->exfil_keys.n, e->peer)) {
			acc_evidence(x, e, BS_CAT_EXFILTRATED, s);
			x->observed |= CAT(EXFILTRATED);
		}
		break;
	default:
		break;
	}
}

/* received_from: a sender whose mail reached a recipient who logged in
 * (needs every login weighed first). */
static void weigh_received_from(const struct ctx *c, const struct stolen_copy *sc, struct addr_acc *acc)
{
	const struct bs_agg *a = c->a;
	for (size_t i = 0; i < a->ev.n; i++) {
		const struct bs_evidence *e = &a->ev.v[i];
		if (e->kind == EK_RECV_PAIR && e->peer < a->str.n && (acc[e->peer].cats & CAT(LOGIN)))
			weigh_inferred(sc, &acc[e->addr], e, BS_CAT_RECEIVED_FROM, -1);
	}
}

/* The earliest trojan page served to an address names its client and user
 * agent; equal times are decided by client, then user agent (by text: the
 * rows' order and string ids depend on how inputs were shared out). */
static bool trojan_first_before(const struct ctx *c, const struct bs_sessref *sr, const struct addr_acc *x)
{
	if (x->trojan_first == BS_TIME_NONE)
		return true;
	if (sr->first != x->trojan_first)
		return sr->first < x->trojan_first;
	int d = bs_ip_cmp(&sr->client, &x->client);
	if (d)
		return d < 0;
	return strcmp(sr->ua ? S(c, sr->ua) : "", x->ua ? S(c, x->ua) : "") < 0;
}

/* Trojan pages: the owner of a login session was served a tampered page. */
static void weigh_trojan_pages(const struct ctx *c, struct addr_acc *acc)
{
	const struct bs_agg *a = c->a;
	for (size_t i = 0; i < a->sref.n; i++) {
		const struct bs_sessref *sr = &a->sref.v[i];
		int s = srv_of_host(c, sr->host);
		if (s < 0 || c->srv[s].verdict != BS_V_COMPROMISED ||
		    !u32_in(c->srv[s].tamper_refhosts.v, c->srv[s].tamper_refhosts.n, sr->refhost))
			continue;
		const struct bs_sessrec *se = bs_agg_find_sess(a, sr->pair);
		/* a session owned by a bare name that bs_agg_complete_logins
		 * could not give a domain is nobody's address */
		if (!se || !strchr(S(c, se->user), '@'))
			continue;
		struct addr_acc *x = &acc[se->user];
		struct bs_evidence pseudo = { .first = sr->first, .last = sr->last, .count = 1 };
		acc_evidence(x, &pseudo, BS_CAT_TROJAN_PAGE_SERVED, s);
		if (trojan_first_before(c, sr, x)) {
			x->trojan_first = sr->first;
			x->client = sr->client;
			x->ua = sr->ua;
		}
	}
}

/* The row of one exposed address, and its counts in the results. */
static void fill_exposed(const struct ctx *c, struct bs_results *r, struct bs_exposed *ex,
                         const struct addr_acc *x, const char *addr)
{
	ex->address = bs_xstrndup(addr, strlen(addr));
	const char *at = strrchr(addr, '@');
	ex->domain = bs_xstrndup(at ? at + 1 : "", at ? strlen(at + 1) : 0);
	ex->customer = (x->cats & CAT(LOGIN)) || (at && is_local_domain(c, at + 1));
	ex->categories = x->cats;
	bool high = x->cats & ((1u << BS_CAT_CREDENTIALS_AT_RISK) | (1u << BS_CAT_TROJAN_PAGE_SERVED));
	ex->risk = high ? BS_RISK_HIGH : ex->customer ? BS_RISK_MEDIUM : BS_RISK_LOW;
	ex->actions = 1u << BS_ACT_NOTIFY;
	if (x->cats & (1u << BS_CAT_CREDENTIALS_AT_RISK))
		ex->actions |= 1u << BS_ACT_RESET_PASSWORD;
	if (x->cats & (1u << BS_CAT_TROJAN_PAGE_SERVED))
		ex->actions |= 1u << BS_ACT_MALWARE_CHECK;
	ex->first_seen = x->first;
	ex->last_seen = x->last;
	ex->evidence = x->evidence;
	char buf[1024];
	size_t o = 0;
	buf[0] = 0;
	for (uint64_t m = x->servers; m; m &= m - 1) { /* the set bits, lowest first */
		size_t s = (size_t)__builtin_ctzll(m);
		if (s < c->nsrv)
			o += (size_t)snprintf(buf + o, o < sizeof buf ? sizeof buf - o : 0, "%s%s", o ? ";" : "", c->srv[s].name);
	}
	if (o >= sizeof buf)
		o = sizeof buf - 1;
	ex->servers = bs_xstrndup(buf, o);
	ex->client_ip = x->client;
	const char *ua = x->ua ? S(c, x->ua) : "";
	ex->user_agent = bs_xstrndup(ua, strlen(ua));
	ex->basis = x->observed ? BS_BASIS_OBSERVED : BS_BASIS_INFERRED;
	r->basis_counts[ex->basis]++;
	r->risk_counts[ex->risk]++;
	for (int cat = 0; cat < BS_CAT_COUNT; cat++)
		if (ex->categories & (1u << cat))
			r->category_counts[cat]++;
}

/* The compromised servers with a tamper window, in server order: the
 * servers trojan_row looks at (not every server per address). */
static size_t tampered_servers(const struct ctx *c, size_t **out)
{
	size_t n = 0, *v = bs_xmalloc((c->nsrv ? c->nsrv : 1) * sizeof *v);
	for (size_t q = 0; q < c->nsrv; q++)
		if (c->srv[q].verdict == BS_V_COMPROMISED && c->srv[q].ts != BS_TIME_NONE)
			v[n++] = q;
	*out = v;
	return n;
}

/* The timeline row of the first tampered page an address was served, on
 * the (last) compromised server whose tamper window holds it. */
static void trojan_row(struct ctx *c, const struct addr_acc *x, const char *addr, const char *ua,
                       const size_t *tampered, size_t ntampered)
{
	char cip[BS_IP_STRLEN];
	bs_ip_format(&x->client, cip, sizeof cip);
	int s = -1;
	for (size_t j = 0; j < ntampered; j++) {
		const struct srv *v = &c->srv[tampered[j]];
		if (x->trojan_first >= v->ts && x->trojan_first <= v->te)
			s = (int)tampered[j];
	}
	tl_add(c, x->trojan_first, 6, "Page Served", "trojan_page_served", BS_SEV_EXPOSURE, s, &x->client,
	       NULL, addr, addr, UINT32_MAX, 0, "%s was served a tampered page (client %s, user agent %.200s)",
	       addr, cip, ua);
}

/* One row per address with a category, sorted by address. */
static void exposed_rows(struct ctx *c, struct bs_results *r, const struct addr_acc *acc)
{
	size_t nstr = c->a->str.n, n = 0;
	for (size_t i = 0; i < nstr; i++)
		if (acc[i].cats)
			n++;
	r->exposed = bs_xcalloc(n ? n : 1, sizeof *r->exposed);
	/* rows in interning order, then sorted */
	size_t k = 0, *tampered, ntampered = tampered_servers(c, &tampered);
	for (size_t i = 0; i < nstr; i++) {
		const struct addr_acc *x = &acc[i];
		if (!x->cats)
			continue;
		const char *addr = S(c, (uint32_t)i);
		struct bs_exposed *ex = &r->exposed[k++];
		fill_exposed(c, r, ex, x, addr);
		if (x->trojan_first != BS_TIME_NONE)
			trojan_row(c, x, addr, ex->user_agent, tampered, ntampered);
	}
	free(tampered);
	r->nexposed = n;
	bs_qsort(r->exposed, n, sizeof *r->exposed, cmp_exposed_addr);
}

/* Credentials at risk: one timeline row per user and compromised server
 * logged in through while the attacker had access. */
static void credentials_rows(struct ctx *c)
{
	const struct bs_agg *a = c->a;
	for (size_t i = 0; i < a->ev.n; i++) {
		const struct bs_evidence *e = &a->ev.v[i];
		int s = srv_of_host(c, e->host);
		if (e->kind != EK_LOGIN || s < 0 || c->srv[s].verdict != BS_V_COMPROMISED)
			continue;
		const struct srv *v = &c->srv[s];
		if (e->last < v->ws || e->first > v->we)
			continue;
		bs_time t = e->first >= v->ws ? e->first : e->last;
		tl_add(c, t, 0, "Login Time", "credentials_at_risk", BS_SEV_EXPOSURE, s, NULL, NULL, S(c, e->addr),
		       S(c, e->addr), e->first >= v->ws ? e->input : UINT32_MAX, e->first >= v->ws ? e->ref : 0,
		       "%s logged in through %s while the attacker had access", S(c, e->addr), v->name);
	}
}

/* A compromise seen in the maillogs alone: every compromised server's
 * evidence is a shell's clean-up, login bursts and mail exfiltration, no
 * exploit request, database read or transfer (which would come with a seen
 * copy or the web rules). *cutoff: the end of the last exfiltration. */
static bool maillog_only_compromise(const struct ctx *c, bs_time *cutoff)
{
	bool any = false;
	*cutoff = BS_TIME_NONE;
	for (size_t s = 0; s < c->nsrv; s++) {
		const struct srv *v = &c->srv[s];
		if (v->verdict != BS_V_COMPROMISED)
			continue;
		if (v->exploit != BS_TIME_NONE || v->attack_queries.n || v->exfil_keys.n || !v->exfil_cands.n ||
		    (v->signals & (1u << BS_SIG_TAMPERED_CONTENT)))
			return false;
		for (size_t j = 0; j < v->exfil_cands.n; j++)
			*cutoff = tmax(*cutoff, c->a->cand.v[v->exfil_cands.v[j]].ts_end);
		any = true;
	}
	return any;
}

/* The exposure of a maillog-only compromise, rebuilt from what the logs
 * show up to the exfiltration: the whole database left the server, so the
 * accounts that logged in through the webmail hosts (login) and the
 * recipients of their webmail submissions (sent_to) are also exfiltrated,
 * by inference (basis inferred). Only for what no seen copy covers: an
 * address already observed exfiltrated keeps that basis. */
static void rebuild_exposure_from_maillogs(struct ctx *c, struct addr_acc *acc, bs_time cutoff)
{
	const struct bs_agg *a = c->a;
	for (size_t i = 0; i < a->ev.n; i++) {
		const struct bs_evidence *e = &a->ev.v[i];
		int s = srv_of_host(c, e->host);
		if (s < 0 || e->first > cutoff || (e->kind != EK_LOGIN && e->kind != EK_SENT_TO))
			continue;
		/* exfiltrated by inference: the row's basis stays inferred (x->observed unset) */
		acc_evidence(&acc[e->addr], e, BS_CAT_EXFILTRATED, s);
	}
}

void build_exposure(struct ctx *c, struct bs_results *r)
{
	const struct bs_agg *a = c->a;
	c->T = compromise_end(c);
	if (c->T == BS_TIME_NONE)
		return;
	/* one accumulator per string id: the addresses are among them */
	struct addr_acc *acc = bs_xcalloc(a->str.n, sizeof *acc);
	for (size_t i = 0; i < a->str.n; i++)
		acc[i].first = acc[i].last = acc[i].trojan_first = BS_TIME_NONE;
	struct stolen_copy sc;
	stolen_copy_scope(c, r, &sc);
	struct bs_u64map txn_attack;
	bs_u64map_init(&txn_attack);
	bs_time maillog_cutoff;
	bool maillog_only = maillog_only_compromise(c, &maillog_cutoff);
	for (size_t i = 0; i < a->ev.n; i++)
		weigh_evidence(c, acc, &txn_attack, &sc, &a->ev.v[i]);
	if (maillog_only)
		rebuild_exposure_from_maillogs(c, acc, maillog_cutoff);
	else
		weigh_received_from(c, &sc, acc);
	weigh_trojan_pages(c, acc);
	exposed_rows(c, r, acc);
	credentials_rows(c);
	bs_u64map_free(&txn_attack);
	free(acc);
}

/* Spam onset: the first day at or after the earliest exploit on which many
 * exposed addresses receive spam far above their own daily spam before the
 * exploit (zero is a baseline too: role accounts that get spam every day do
 * not make an onset by getting it again). Not a comparison of population
 * shares: those depend on who else gets spam. */

struct spam_days {
	int64_t dmin, dmax, d0;
	uint64_t *above;        /* per day: exposed addresses above their own baseline */
	uint64_t *recipients;   /* per day: exposed addresses with spam */
	bs_time *first;         /* per day: first spam to an address above its baseline */
	uint64_t *before;       /* per string id: spam before the exploit */
};

static bool addr_is_exposed(const struct ctx *c, const struct bs_results *r, uint32_t addr)
{
	struct bs_exposed key = { .address = (char *)S(c, addr) };
	return bsearch(&key, r->exposed, r->nexposed, sizeof *r->exposed, cmp_exposed_addr) != NULL;
}

/* The span of days with spam; false when none (or absurd). */
static bool spam_span(const struct bs_agg *a, struct spam_days *sd)
{
	sd->dmin = INT64_MAX;
	sd->dmax = INT64_MIN;
	for (size_t i = 0; i < a->ev.n; i++)
		if (a->ev.v[i].kind == EK_SPAM) {
			int64_t d = a->ev.v[i].peer;
			if (d < sd->dmin) sd->dmin = d;
			if (d > sd->dmax) sd->dmax = d;
		}
	return sd->dmin != INT64_MAX && sd->dmax - sd->dmin <= 3660;
}

/* Per exposed address, its spam before the exploit; per day, the exposed
 * recipients and those above their own mean daily spam before the exploit. */
static void spam_count(const struct ctx *c, struct bs_results *r, struct spam_days *sd)
{
	const struct bs_agg *a = c->a;
	int64_t nbefore = sd->d0 > sd->dmin ? sd->d0 - sd->dmin : 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < a->ev.n; i++) {
			const struct bs_evidence *e = &a->ev.v[i];
			if (e->kind != EK_SPAM || !addr_is_exposed(c, r, e->addr))
				continue;
			int64_t d = (int64_t)e->peer;
			size_t ix = (size_t)(d - sd->dmin);
			if (pass == 0) {
				if (d < sd->d0) {
					sd->before[e->addr] += e->count;
					r->spam_exposed_before += e->count;
				} else {
					r->spam_exposed_after += e->count;
				}
				sd->recipients[ix]++;
				continue;
			}
			double own = nbefore ? (double)sd->before[e->addr] / (double)nbefore : 0;
			if (d >= sd->d0 && (double)e->count > 2.0 * own) {
				sd->above[ix]++;
				sd->first[ix] = tmin(sd->first[ix], e->first);
			}
		}
}

static bs_time spam_onset_day(const struct spam_days *sd)
{
	double base = 0;
	int64_t nb = 0;
	for (int64_t d = sd->dmin; d < sd->d0; d++, nb++)
		base += (double)sd->recipients[d - sd->dmin];
	base = nb ? base / (double)nb : 0;
	for (int64_t d = sd->d0 > sd->dmin ? sd->d0 : sd->dmin; d <= sd->dmax; d++) {
		uint64_t n = sd->above[d - sd->dmin];
		if (n >= 3 && (double)n >= 3.0 * (base + 1.0))
			return sd->first[d - sd->dmin];
	}
	return BS_TIME_NONE;
}

void spam_onset(struct ctx *c, struct bs_results *r)
{
	r->spam_onset = BS_TIME_NONE;
	bs_time start = BS_TIME_NONE;
	for (size_t s = 0; s < c->nsrv; s++)
		if (c->srv[s].verdict == BS_V_COMPROMISED)
			start = tmin(start, c->srv[s].ws);
	struct spam_days sd = { 0 };
	if (start == BS_TIME_NONE || !r->nexposed || !spam_span(c->a, &sd))
		return;
	sd.d0 = start / BS_USEC / 86400;
	size_t ndays = (size_t)(sd.dmax - sd.dmin + 1);
	sd.above = bs_xcalloc(ndays, sizeof *sd.above);
	sd.recipients = bs_xcalloc(ndays, sizeof *sd.recipients);
	sd.first = bs_xmalloc(ndays * sizeof *sd.first);
	for (size_t i = 0; i < ndays; i++)
		sd.first[i] = BS_TIME_NONE;
	sd.before = bs_xcalloc(c->a->str.n ? c->a->str.n : 1, sizeof *sd.before);
	spam_count(c, r, &sd);
	r->spam_onset = spam_onset_day(&sd);
	free(sd.above);
	free(sd.recipients);
	free(sd.first);
	free(sd.before);
	if (r->spam_onset != BS_TIME_NONE)
		tl_add(c, r->spam_onset, 0, "Spam Onset", "spam_onset", BS_SEV_EXPOSURE, -1, NULL, NULL, NULL, NULL,
		       UINT32_MAX, 0, "Spam to exposed addresses rises above its earlier rate (%llu spam messages to exposed addresses before the exploit, %llu after)",
		       (unsigned long long)r->spam_exposed_before, (unsigned long long)r->spam_exposed_after);
}
