/* verdict.c - the attacker window and the verdict of each server, from the
 * signals the detectors set. docs/DETECTION.md, "Verdict" and "Attacker
 * addresses and windows". */
#include "config.h"
#include "src/engine/correlate.h"

static const double signal_weight[BS_SIG_COUNT] = {
	[BS_SIG_WEBSHELL] = 4, [BS_SIG_EXPLOIT_REQUEST] = 3, [BS_SIG_TAMPERED_CONTENT] = 4,
	[BS_SIG_EXFILTRATION] = 4, [BS_SIG_DB_BULK_READ] = 3, [BS_SIG_AUTH_ANOMALY] = 1,
	[BS_SIG_FOREIGN_DESTINATION] = 1,
};
#define STRONG_SIGNALS ((1u << BS_SIG_WEBSHELL) | (1u << BS_SIG_EXPLOIT_REQUEST) | \
	(1u << BS_SIG_TAMPERED_CONTENT) | (1u << BS_SIG_EXFILTRATION) | (1u << BS_SIG_DB_BULK_READ))

double signal_weight_of(enum bs_signal g)
{
	return (unsigned)g < BS_SIG_COUNT ? signal_weight[g] : 0;
}

/* No exploit or shell request seen (maillogs alone): the window opens at
 * the first evidence of the attacker's access, a bulk read, an
 * exfiltration or a burst of logins through the server, and the burst's
 * last login is activity through that access too. */
static void open_window_without_exploit(struct ctx *c, size_t s)
{
	struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	bool strong = false;
	/* the earliest candidate of a query is its first in canonical order (by time) */
	for (size_t j = 0; j < v->attack_queries.n; j++) {
		const struct bs_cand *k = cand_find(c, CK_DBQUERY, v->attack_queries.v[j]);
		if (k) {
			v->ws = tmin(v->ws, k->ts);
			strong = true;
		}
	}
	for (size_t j = 0; j < v->exfil_cands.n; j++) {
		v->ws = tmin(v->ws, a->cand.v[v->exfil_cands.v[j]].ts);
		strong = true;
	}
	if (strong || v->shell_removals.n)
		v->ws = tmin(v->ws, v->burst_first);
}

/* The attacker's last successful request to a script path only server s
 * serves (the web-shell rule's "only this server serves"): a shell driven
 * by a header, a cookie or the raw body, or a new shell path, is use of
 * the same access even where the access log shows only `POST /x.php 200`.
 * Refused requests are not in the scripts table (probes); with a single
 * web server every path is its own, so the rule needs two. */
static bs_time last_script_use(const struct ctx *c, size_t s)
{
	const struct srv *v = &c->srv[s];
	bs_time last = BS_TIME_NONE;
	if (!v->attackers.n || c->by_srv.nhttp < 2)
		return last;
	struct srv_span rows = srv_rows_of(&c->by_srv.scripts, s);
	for (size_t j = 0; j < rows.n; j++) {
		const struct bs_scriptrec *r = &c->a->scripts.v[rows.v[j]];
		if (r->last < v->ws || (last != BS_TIME_NONE && r->last <= last) ||
		    !ip_in(v->attackers.v, v->attackers.n, &r->ip) || !path_unique_to(c, r->path, s))
			continue;
		last = r->last;
	}
	return last;
}

/* The window ends with the attacker's last activity through the access. */
void find_window_end(struct ctx *c, size_t s)
{
	struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	bool no_exploit = v->ws == BS_TIME_NONE;
	if (no_exploit)
		open_window_without_exploit(c, s);
	if (v->ws == BS_TIME_NONE)
		return;
	bs_time we = no_exploit ? tmax(v->ws, v->burst_last) : v->ws;
	struct srv_span paths = srv_rows_of(&c->by_srv.paths, s), cands = srv_rows_of(&c->by_srv.cand, s);
	for (size_t j = 0; j < paths.n; j++) {
		const struct bs_pathrec *p = &a->paths.v[paths.v[j]];
		if (u32_in(v->shell_paths.v, v->shell_paths.n, p->path))
			we = tmax(we, p->last);
	}
	for (size_t j = 0; j < cands.n; j++) {
		const struct bs_cand *k = &a->cand.v[cands.v[j]];
		if (k->ts < v->ws)
			continue;
		if (k->kind == CK_DBQUERY && u32_in(v->attack_queries.v, v->attack_queries.n, k->key))
			we = tmax(we, k->ts_end);
		/* a request refused (404 after the clean-up, 403, 5xx) is a probe, not use */
		if (k->kind == CK_HTTP && ip_in(v->attackers.v, v->attackers.n, &k->src) &&
		    (k->flags & CF_SUCCESS) && (k->flags & (CF_CMDLIKE | CF_CMD_OUTPUT)))
			we = tmax(we, k->ts);
	}
	for (size_t j = 0; j < v->exfil_cands.n; j++) {
		const struct bs_cand *k = &a->cand.v[v->exfil_cands.v[j]];
		if (k->ts >= v->ws)
			we = tmax(we, k->ts_end);
	}
	v->we = tmax(we, last_script_use(c, s));
}

void decide_verdict(struct ctx *c, size_t s)
{
	struct srv *v = &c->srv[s];
	v->score = 0;
	unsigned strong = 0;
	for (int i = 0; i < BS_SIG_COUNT; i++)
		if (v->signals & (1u << i)) {
			v->score += signal_weight[i];
			if (STRONG_SIGNALS & (1u << i))
				strong++;
		}
	if (!v->has_data)
		v->verdict = BS_V_NO_DATA;
	else if (v->score >= c->cfg->th.score_compromised && strong >= 2)
		v->verdict = BS_V_COMPROMISED;
	else if (v->score >= c->cfg->th.score_suspicious)
		v->verdict = BS_V_SUSPICIOUS;
	else
		v->verdict = BS_V_CLEAN;
	if (v->verdict != BS_V_COMPROMISED && v->verdict != BS_V_SUSPICIOUS) {
		v->ws = v->we = v->ts = v->te = BS_TIME_NONE;
		v->attackers.n = 0;
	}
}

