/* timeline.c - the timeline rows behind the verdicts: per server the
 * attacks, the compromise and its windows; the order of the rows and the
 * count of rows behind each verdict. docs/DETECTION.md, "Timeline". */
#include "config.h"
#include "src/engine/correlate.h"
#include "src/engine/detect.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct bs_timeline_row *tl_add(struct ctx *c, bs_time ts, int frac, const char *desc, const char *event,
                               enum bs_severity sev, int srv, const bs_ip *src, const bs_ip *dst, const char *user,
                               const char *address, uint32_t input, uint64_t ref, const char *fmt, ...)
{
	if (ts == BS_TIME_NONE)
		return NULL;
	struct bs_timeline_row *r = BS_VEC_PUSH(c->tl);
	memset(r, 0, sizeof *r);
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	r->ts = ts;
	r->frac_digits = frac;
	r->timestamp_desc = bs_xstrndup(desc, strlen(desc));
	r->message = bs_xstrndup(msg, strlen(msg));
	r->event = bs_xstrndup(event, strlen(event));
	r->severity = sev;
	r->server = bs_xstrndup(srv >= 0 ? c->srv[srv].name : "", srv >= 0 ? strlen(c->srv[srv].name) : 0);
	if (src)
		r->src_ip = *src;
	if (dst)
		r->dst_ip = *dst;
	r->user = bs_xstrndup(user ? user : "", user ? strlen(user) : 0);
	r->address = bs_xstrndup(address ? address : "", address ? strlen(address) : 0);
	r->input = input;
	r->source_ref = ref;
	return r;
}

/* Brute forces are attacks worth a row whatever the verdict. */
static void bruteforce_rows(struct ctx *c, size_t s)
{
	const struct bs_agg *a = c->a;
	for (size_t j = 0; j < c->srv[s].bruteforces.n; j++) {
		const struct bs_failrec *f = &a->fails.v[c->srv[s].bruteforces.v[j]];
		char src[BS_IP_STRLEN];
		bs_ip_format(&f->src, src, sizeof src);
		tl_add(c, f->first, 0, "First Failure", "auth_anomaly", BS_SEV_ATTACK, (int)s, &f->src, NULL, NULL, NULL,
		       UINT32_MAX, 0, "%llu failed logins on %s from %s within an hour",
		       (unsigned long long)f->count, c->srv[s].name, src);
	}
}

/* A burst of logins through the server far above that hour of its other days. */
static void login_burst_rows(struct ctx *c, size_t s)
{
	const struct srv *v = &c->srv[s];
	char t1[40];
	if (v->burst_first == BS_TIME_NONE)
		return;
	bs_time_format(v->burst_last, 0, t1, sizeof t1);
	tl_add(c, v->burst_first, 0, "First Login", "auth_anomaly", BS_SEV_ATTACK, (int)s, NULL, NULL, NULL, NULL,
	       UINT32_MAX, 0, "burst of logins through %s far above its usual logins at that hour (until %s)", v->name, t1);
}

/* An attacker's request against any server of the fleet (ks), told apart
 * as a web shell use, the exploit, reconnaissance or another request. */
static void attacker_request_row(struct ctx *c, size_t s, const struct bs_cand *k, int ks)
{
	const struct srv *v = &c->srv[s];
	char src[BS_IP_STRLEN];
	bs_ip_format(&k->src, src, sizeof src);
	uint32_t pid = path_id_of(c, k);
	bool shell = ks == (int)s && u32_in(v->shell_paths.v, v->shell_paths.n, pid);
	const char *ev, *what;
	enum bs_severity sev;
	if (shell) {
		ev = "webshell"; sev = BS_SEV_COMPROMISE; what = "web shell request";
	} else if (k->exploit && (k->flags & CF_SUCCESS) && k->ts == v->exploit && ks == (int)s) {
		ev = "exploit_request"; sev = BS_SEV_ATTACK; what = "exploit (succeeded)";
	} else if (v->ws != BS_TIME_NONE && k->ts < v->ws) {
		ev = "recon"; sev = BS_SEV_ATTACK; what = "reconnaissance before the exploit";
	} else {
		ev = k->exploit ? "exploit_request" : "attacker_request"; sev = BS_SEV_ATTACK;
		what = (k->flags & CF_SUCCESS) ? "attacker request" : "attacker request (failed)";
	}
	tl_add(c, k->ts, cand_frac(k), "Request Time", ev, sev, ks, &k->src, &k->dst, NULL, NULL,
	       k->input, k->ref, "%s from %s: %s %.400s -> %u%s%s%s", what, src, S(c, k->s_user),
	       S(c, k->s_main), k->status, k->exploit ? " [" : "",
	       k->exploit ? bs_exploit_kind_name(k->exploit) : "", k->exploit ? "]" : "");
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t p = *(const uint32_t *)x, q = *(const uint32_t *)y;
	return (p > q) - (p < q);
}

/* The candidates attack_rows writes, in row order: the attackers' requests
 * against any server of the fleet (by client address, a lookup per
 * attacker) and the server's own bulk reads. */
static size_t attack_cands(const struct ctx *c, size_t s, uint32_t **out)
{
	const struct srv *v = &c->srv[s];
	const struct srv_index *x = &c->by_srv;
	struct srv_span rows = srv_rows_of(&x->cand, s);
	BS_VEC(uint32_t) ix = { 0 };
	for (size_t j = 0; j < v->attackers.n; j++)
		for (size_t i = http_from_first(c, &v->attackers.v[j]);
		     i < x->http_by_src.n && bs_ip_eq(&c->a->cand.v[x->http_by_src.v[i]].src, &v->attackers.v[j]); i++)
			*BS_VEC_PUSH(ix) = x->http_by_src.v[i];
	for (size_t j = 0; j < rows.n; j++) {
		const struct bs_cand *k = &c->a->cand.v[rows.v[j]];
		if (k->kind == CK_DBQUERY && u32_in(v->attack_queries.v, v->attack_queries.n, k->key))
			*BS_VEC_PUSH(ix) = rows.v[j];
	}
	bs_qsort(ix.v, ix.n, sizeof *ix.v, cmp_u32);
	*out = ix.v;
	return ix.n;
}

/* The attackers' requests and the server's bulk database reads. */
static void attack_rows(struct ctx *c, size_t s)
{
	const struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	uint32_t *ix;
	size_t n = attack_cands(c, s, &ix);
	for (size_t j = 0; j < n; j++) {
		const struct bs_cand *k = &a->cand.v[ix[j]];
		int ks = srv_of_host(c, k->host);
		if (k->kind == CK_HTTP) {
			attacker_request_row(c, s, k, ks);
		} else {
			tl_add(c, k->ts, 6, "Query Time", "db_bulk_read", BS_SEV_COMPROMISE, ks, &k->src, &k->dst,
			       S(c, k->s_user), NULL, k->input, k->ref, "bulk database read from %s: %.400s (%llu rows)",
			       v->name, S(c, k->s_main), (unsigned long long)k->num1);
		}
	}
	free(ix);
}

static void exfil_rows(struct ctx *c, size_t s)
{
	const struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	for (size_t j = 0; j < v->exfil_cands.n; j++) {
		const struct bs_cand *k = &a->cand.v[v->exfil_cands.v[j]];
		unsigned long long base = j < v->exfil_base.n ? (unsigned long long)v->exfil_base.v[j] : 0;
		char dst[BS_IP_STRLEN];
		bs_ip_format(&k->dst, dst, sizeof dst);
		if (k->kind == CK_MAIL_OUT)
			tl_add(c, k->ts, 0, "Submission Time", "exfiltration", BS_SEV_COMPROMISE, (int)s, &k->src, NULL,
			       S(c, k->s_user), NULL, k->input, k->ref,
			       "%s mail from %s on %s to %.300s, %llu bytes (largest other mail of this account or its namesakes on the fleet: %llu bytes)",
			       (k->flags & CF_LOCAL_UID) ? "locally submitted" : "unauthenticated", S(c, k->s_user),
			       v->name, S(c, k->s_main), (unsigned long long)k->num1, base);
		else if (k->kind == CK_FILEXFER)
			tl_add(c, k->ts, 6, "Transfer End", "exfiltration", BS_SEV_COMPROMISE, (int)s, &k->src, &k->dst,
			       S(c, k->s_user), NULL, k->input, k->ref,
			       "%s upload of %.200s from %s to %s, %llu bytes (largest other transfer of the fleet to it: %llu bytes)",
			       S(c, k->s_extra), S(c, k->s_main), v->name, dst, (unsigned long long)k->num1, base);
		else
			tl_add(c, k->ts, 6, "Connection Start", "exfiltration", BS_SEV_COMPROMISE, (int)s, &k->src,
			       &k->dst, NULL, NULL, k->input, k->ref,
			       "%s sent %llu bytes to %s:%u (%s; largest other transfer of the fleet to it: %llu bytes)", v->name,
			       (unsigned long long)k->num1, dst, k->dport, S(c, k->s_main)[0] ? S(c, k->s_main) : "tcp", base);
	}
}

/* The clean-up: an administrator removed a script from the web root. */
static void shell_removal_rows(struct ctx *c, size_t s)
{
	const struct srv *v = &c->srv[s];
	for (size_t j = 0; j < v->shell_removals.n; j++) {
		const struct bs_cand *k = &c->a->cand.v[v->shell_removals.v[j]];
		tl_add(c, k->ts, 0, "Command Time", "shell_removed", BS_SEV_COMPROMISE, (int)s, NULL, NULL, S(c, k->s_user),
		       NULL, k->input, k->ref, "%s removed the script %.400s from the web root of %s (sudo): a web shell cleaned up",
		       S(c, k->s_user), S(c, k->s_main), v->name);
	}
}

static void tamper_rows(struct ctx *c, size_t s)
{
	const struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	struct srv_span rows = srv_rows_of(&c->by_srv.refs, s);
	for (size_t j = 0; j < rows.n; j++) {
		const struct bs_refrec *r = &a->refs.v[rows.v[j]];
		if (!u32_in(v->tamper_refhosts.v, v->tamper_refhosts.n, r->refhost))
			continue;
		struct bs_timeline_row *row = tl_add(c, r->first, 6, "First Served", "tampered_content", BS_SEV_COMPROMISE,
		       (int)s, NULL, NULL, NULL, NULL, r->input, r->ref,
		       "%s served %s with a reference to %s that the other servers' copies do not have (%llu times)",
		       v->name, S(c, r->path), S(c, r->refhost), (unsigned long long)r->count);
		const char *tag = S(c, r->tag);
		if (row && *tag) /* the report shows it; timeline.csv keeps its columns */
			row->detail = bs_xstrndup(tag, strlen(tag));
	}
}

/* The attacker and tamper windows' bounds. */
static void window_rows(struct ctx *c, size_t s)
{
	const struct srv *v = &c->srv[s];
	char ips[512];
	size_t o = 0;
	ips[0] = 0;
	for (size_t i = 0; i < v->attackers.n && o < sizeof ips - BS_IP_STRLEN - 2; i++) {
		if (o)
			ips[o++] = ' ';
		bs_ip_format(&v->attackers.v[i], ips + o, sizeof ips - o);
		o += strlen(ips + o);
	}
	char t1[40];
	if (v->ws != BS_TIME_NONE) {
		bs_time_format(v->we, 0, t1, sizeof t1);
		tl_add(c, v->ws, 0, "Window Start", "window_start", BS_SEV_COMPROMISE, (int)s, NULL, NULL, NULL, NULL,
		       UINT32_MAX, 0, "attacker access window on %s opens (until %s); attacker addresses: %s", v->name, t1, ips);
		tl_add(c, v->we, 0, "Window End", "window_end", BS_SEV_COMPROMISE, (int)s, NULL, NULL, NULL, NULL,
		       UINT32_MAX, 0, "attacker access window on %s closes (last web shell use, database read or exfiltration)", v->name);
	}
	if (v->ts != BS_TIME_NONE) {
		tl_add(c, v->ts, 0, "Tamper Start", "tamper_start", BS_SEV_COMPROMISE, (int)s, NULL, NULL, NULL, NULL,
		       UINT32_MAX, 0, "first tampered page served by %s", v->name);
		tl_add(c, v->te, 0, "Tamper End", "tamper_end", BS_SEV_COMPROMISE, (int)s, NULL, NULL, NULL, NULL,
		       UINT32_MAX, 0, "last tampered page served by %s", v->name);
	}
}

void server_timeline(struct ctx *c, size_t s)
{
	bruteforce_rows(c, s);
	login_burst_rows(c, s);
	if (c->srv[s].verdict != BS_V_COMPROMISED && c->srv[s].verdict != BS_V_SUSPICIOUS)
		return;
	attack_rows(c, s);
	exfil_rows(c, s);
	shell_removal_rows(c, s);
	tamper_rows(c, s);
	detect_foreign(c, s, true);
	window_rows(c, s);
}

/* The evidence of each server: the timeline rows behind its verdict: for a
 * compromised or suspicious server every attack and compromise row about
 * it, for a clean one the rows of the signals that fired (not enough to
 * judge). */
void count_evidence_rows(const struct ctx *c, struct bs_results *r)
{
	for (size_t i = 0; i < c->tl.n; i++) {
		const struct bs_timeline_row *row = &c->tl.v[i];
		if (row->severity == BS_SEV_EXPOSURE)
			continue;
		/* the servers of the row's name: a run of the sorted names */
		for (size_t q = srv_name_first(c, row->server); q < c->nsrv && strcmp(c->srv_names[q].name, row->server) == 0; q++) {
			size_t s = c->srv_names[q].s;
			const struct bs_server_result *o = &r->servers[s];
			bool behind = o->verdict == BS_V_COMPROMISED || o->verdict == BS_V_SUSPICIOUS;
			for (int g = 0; g < BS_SIG_COUNT && !behind; g++)
				if ((o->signals & (1u << g)) && strcmp(row->event, bs_signal_name((enum bs_signal)g)) == 0)
					behind = true;
			if (behind)
				r->servers[s].evidence++;
		}
	}
}

static int cmp_tl(const void *x, const void *y)
{
	const struct bs_timeline_row *p = x, *q = y;
	if (p->ts != q->ts)
		return p->ts < q->ts ? -1 : 1;
	if (p->input != q->input)
		return p->input < q->input ? -1 : 1;
	if (p->source_ref != q->source_ref)
		return p->source_ref < q->source_ref ? -1 : 1;
	int k = strcmp(p->event, q->event);
	if (k)
		return k;
	k = strcmp(p->server, q->server);
	if (k)
		return k;
	return strcmp(p->message, q->message);
}


/* The rows in time order, into the results. */
void sort_timeline(struct ctx *c, struct bs_results *r)
{
	bs_qsort(c->tl.v, c->tl.n, sizeof *c->tl.v, cmp_tl);
	r->timeline = c->tl.v;
	r->ntimeline = c->tl.n;
}
