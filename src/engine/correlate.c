/* correlate.c - from the aggregate to verdicts, windows and exposure: the
 * driver of the stages (correlate.h lists them), the queries they share, and
 * the server rows of the results.
 *
 * Order of work: fleet (inventory or discovery) -> host-to-server map ->
 * per-server signals -> verdicts and windows -> exposure of every address ->
 * timeline. Every list is sorted before it is written, so the results depend
 * only on the aggregate's content. docs/DETECTION.md explains each rule. */
#include "config.h"
#include "src/engine/correlate.h"
#include "src/engine/detect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bs_thresholds_default(struct bs_thresholds *t)
{
	t->exfil_min_bytes = 100000;
	t->exfil_factor = 10.0;
	t->exfil_min_addrs = 200;
	t->bulk_min_rows = 100;
	t->tamper_weak_clients = 4;
	t->bruteforce_failures = 50;
	t->login_burst_users = 30;
	t->login_burst_factor = 10.0;
	t->login_burst_slot = 8;
	t->score_compromised = 7.0;
	t->score_suspicious = 3.0;
}

/* ----------------------------------------------------- shared queries */

bool is_local_domain(const struct ctx *c, const char *dom)
{
	size_t dl = strlen(dom);
	for (size_t i = 0; i < c->nlocal; i++) {
		size_t ll = strlen(c->local[i]);
		if (dl == ll && strcmp(dom, c->local[i]) == 0)
			return true;
		if (dl > ll && dom[dl - ll - 1] == '.' && strcmp(dom + dl - ll, c->local[i]) == 0)
			return true;
	}
	return false;
}

static int cmp_ip(const void *x, const void *y) { return bs_ip_cmp(x, y); }

/* infra holds the servers' addresses too, sorted (fleet_index) */
bool ip_is_infra(const struct ctx *c, const bs_ip *ip)
{
	return c->ninfra && bsearch(ip, c->infra, c->ninfra, sizeof *c->infra, cmp_ip) != NULL;
}

/* Outside: neither private nor part of the fleet or its infrastructure. */
bool ip_is_outside(const struct ctx *c, const bs_ip *ip)
{
	return ip->family && !bs_ip_is_private(ip) && !ip_is_infra(c, ip);
}

/* A server's name, or a name under it (wm1 -> wm1.example.net): each of the
 * name's prefixes ending before a dot, and the whole, looked up by name. */
static bool name_is_fleet(const struct ctx *c, const char *name)
{
	for (size_t n = 0;; n++) {
		if ((name[n] == '.' || name[n] == 0) && srv_by_name(c, name, n) >= 0)
			return true;
		if (name[n] == 0)
			return false;
	}
}

/* An outside host name or address (a reference target, a DNS name). */
bool host_is_outside(const struct ctx *c, const char *h)
{
	if (!h[0])
		return false;
	bs_ip ip;
	if (bs_ip_parse(h, strlen(h), &ip))
		return ip_is_outside(c, &ip);
	if (!strchr(h, '.'))
		return false; /* a bare name is internal */
	return !is_local_domain(c, h) && !name_is_fleet(c, h);
}

bool addr_domain_outside(const struct ctx *c, const char *addr)
{
	const char *at = strrchr(addr, '@');
	return at && !is_local_domain(c, at + 1);
}

uint32_t path_id_of(const struct ctx *c, const struct bs_cand *k)
{
	const char *uri = S(c, k->s_main);
	bs_str p = bs_uri_path(bs_str_make(uri, strlen(uri)));
	uint32_t id = bs_strtab_find(&c->a->str, p.p, p.n);
	return id == UINT32_MAX ? 0 : id;
}

int cmp_str(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

/* ------------------------------------------------------------- driver */

static void cand_index(struct ctx *c)
{
	bs_u64map_init(&c->cand_ix);
	for (size_t i = 0; i < c->a->cand.n; i++) {
		const struct bs_cand *k = &c->a->cand.v[i];
		if (!k->key)
			continue;
		bool found;
		uint32_t *slot = bs_u64map_upsert(&c->cand_ix, bs_key2(k->kind, k->key), &found);
		if (!found)
			*slot = (uint32_t)i + 1;
	}
}

/* Candidates in a canonical order (their order in the aggregate depends on
 * how inputs were split and merged), so ties resolve the same every run.
 * agg: the aggregate the candidates' ids are of (qsort_r's context). */
static int cmp_cand(const void *x, const void *y, void *agg)
{
	const struct bs_agg *a = agg;
	const struct bs_strtab *str = &a->str;
	const struct bs_cand *p = x, *q = y;
	if (p->ts != q->ts) return p->ts < q->ts ? -1 : 1;
	if (p->input != q->input) return p->input < q->input ? -1 : 1;
	if (p->ref != q->ref) return p->ref < q->ref ? -1 : 1;
	if (p->kind != q->kind) return p->kind < q->kind ? -1 : 1;
	if (p->ts_end != q->ts_end) return p->ts_end < q->ts_end ? -1 : 1;
	if (p->num1 != q->num1) return p->num1 < q->num1 ? -1 : 1;
	int k = bs_ip_cmp(&p->src, &q->src);
	if (k) return k;
	k = bs_ip_cmp(&p->dst, &q->dst);
	if (k) return k;
	k = strcmp(bs_strtab_get(str, p->s_main), bs_strtab_get(str, q->s_main));
	if (k) return k;
	return bs_agg_key_cmp(a, p->key, q->key);
}

/* A shallow copy of the aggregate whose candidates are in canonical order
 * (only its cand.v is owned). */
static struct bs_agg sorted_candidates(const struct bs_agg *agg)
{
	struct bs_agg sorted = *agg;
	sorted.cand.v = bs_xmalloc((agg->cand.n ? agg->cand.n : 1) * sizeof *sorted.cand.v);
	if (agg->cand.n) {
		memcpy(sorted.cand.v, agg->cand.v, agg->cand.n * sizeof *sorted.cand.v);
		qsort_r(sorted.cand.v, sorted.cand.n, sizeof *sorted.cand.v, cmp_cand, (void *)agg);
	}
	return sorted;
}

/* Every server: its signals, window and verdict, then its timeline rows. */
static void judge_servers(struct ctx *c)
{
	for (size_t s = 0; s < c->nsrv; s++) {
		struct srv *v = &c->srv[s];
		v->ws = v->we = v->ts = v->te = v->exploit = BS_TIME_NONE;
		v->burst_first = v->burst_last = BS_TIME_NONE;
	}
	for (size_t s = 0; s < c->nsrv; s++) {
		detect_web(c, s);
		detect_db(c, s);
		detect_exfil(c, s);
		detect_tamper(c, s);
		detect_auth(c, s);
		find_window_end(c, s);
		detect_foreign(c, s, false);
		decide_verdict(c, s);
	}
	for (size_t s = 0; s < c->nsrv; s++)
		server_timeline(c, s);
}

/* ------------------------------------------------------------- results */

static void server_hist(struct ctx *c, size_t s, struct bs_server_result *o)
{
	const struct bs_agg *a = c->a;
	int64_t h0 = a->first_ts == BS_TIME_NONE ? 0 : a->first_ts / BS_USEC / 3600;
	int64_t h1 = a->last_ts == BS_TIME_NONE ? 0 : a->last_ts / BS_USEC / 3600;
	int64_t span = h1 - h0 + 1;
	if (span < 1 || span > 24 * 3660)
		span = 1;
	int64_t per = (span + 399) / 400; /* at most 400 bins */
	o->nbins = (size_t)((span + per - 1) / per);
	o->hist_start = h0 * 3600 * BS_USEC;
	o->hist_bin = per * 3600 * BS_USEC;
	o->hist = bs_xcalloc(o->nbins, sizeof *o->hist);
	o->hist_attack = bs_xcalloc(o->nbins, sizeof *o->hist_attack);
	struct srv_span rows = srv_rows_of(&c->by_srv.hours, s);
	for (size_t j = 0; j < rows.n; j++) {
		const struct bs_hourrec *h = &a->hours.v[rows.v[j]];
		if (h->hour < h0 || h->hour > h1)
			continue;
		size_t b = (size_t)((h->hour - h0) / per);
		if (b >= o->nbins)
			continue; /* an absurd span was clamped to one bin above */
		o->hist[b] += (uint32_t)(h->events > UINT32_MAX ? UINT32_MAX : h->events);
		o->hist_attack[b] += (uint32_t)(h->attack > UINT32_MAX ? UINT32_MAX : h->attack);
	}
}


/* The result row of server s; its working lists are freed (the attacker
 * addresses move into the row). */
static void server_row(struct ctx *c, size_t s, struct bs_server_result *o)
{
	struct srv *v = &c->srv[s];
	o->name = v->name;
	char buf[8 * (BS_IP_STRLEN + 1)];
	size_t off = 0;
	buf[0] = 0;
	for (size_t k = 0; k < v->naddrs; k++) {
		if (off)
			buf[off++] = ';';
		bs_ip_format(&v->addrs[k], buf + off, sizeof buf - off);
		off += strlen(buf + off);
	}
	o->addresses = bs_xstrndup(buf, off);
	o->verdict = v->verdict;
	o->score = v->score;
	o->window_start = v->ws;
	o->window_end = v->we;
	o->tamper_start = v->ts;
	o->tamper_end = v->te;
	o->signals = v->signals;
	bs_qsort(v->attackers.v, v->attackers.n, sizeof *v->attackers.v, cmp_ip);
	o->attacker_ips = v->attackers.n ? v->attackers.v : NULL;
	o->nattacker_ips = v->attackers.n;
	if (!v->attackers.n)
		free(v->attackers.v);
	o->exploit_time = v->verdict <= BS_V_SUSPICIOUS ? v->exploit : BS_TIME_NONE;
	o->nexfil = 0;
	o->exfil_times = bs_xcalloc(v->exfil_cands.n ? v->exfil_cands.n : 1, sizeof *o->exfil_times);
	if (v->verdict <= BS_V_SUSPICIOUS)
		for (size_t j = 0; j < v->exfil_cands.n; j++)
			o->exfil_times[o->nexfil++] = c->a->cand.v[v->exfil_cands.v[j]].ts;
	server_hist(c, s, o);
	for (int g = 0; g < BS_SIG_COUNT; g++) {
		/* the baselines move into the row */
		if (v->signals & (1u << g)) {
			o->signal_weight[g] = signal_weight_of((enum bs_signal)g);
			o->signal_baseline[g] = v->baseline[g] ? v->baseline[g] : bs_xstrndup("", 0);
		} else {
			free(v->baseline[g]);
		}
		v->baseline[g] = NULL;
	}
	BS_VEC_FREE(v->shell_paths);
	BS_VEC_FREE(v->tamper_refhosts);
	BS_VEC_FREE(v->attack_queries);
	BS_VEC_FREE(v->exfil_keys);
	BS_VEC_FREE(v->exfil_cands);
	BS_VEC_FREE(v->shell_removals);
	BS_VEC_FREE(v->bruteforces);
	BS_VEC_FREE(v->exfil_base);
}

static void server_rows(struct ctx *c, struct bs_results *r)
{
	r->servers = bs_xcalloc(c->nsrv ? c->nsrv : 1, sizeof *r->servers);
	r->nservers = c->nsrv;
	for (size_t s = 0; s < c->nsrv; s++)
		server_row(c, s, &r->servers[s]);
}

/* Server rows by name (a stable insertion sort). */
static void sort_server_rows(struct bs_results *r)
{
	for (size_t i = 1; i < r->nservers; i++) {
		struct bs_server_result t = r->servers[i];
		size_t j = i;
		while (j > 0 && strcmp(r->servers[j - 1].name, t.name) > 0) {
			r->servers[j] = r->servers[j - 1];
			j--;
		}
		r->servers[j] = t;
	}
}

/* How the fleet was found, and the local domains when they were inferred
 * (which frees them: they belong to the context then). */
static void fleet_origin(struct ctx *c, struct bs_results *r)
{
	char buf[16384];
	size_t off = (size_t)snprintf(buf, sizeof buf, "%s", c->origin_text ? c->origin_text : "");
	if (c->local_inferred) {
		off += (size_t)snprintf(buf + off, sizeof buf - off, "; local domains inferred from logins:");
		for (size_t k = 0; k < c->nlocal && off < sizeof buf; k++)
			off += (size_t)snprintf(buf + off, sizeof buf - off, " %s", c->local[k]);
		for (size_t k = 0; k < c->nlocal; k++)
			free(c->local[k]);
		free(c->local);
	}
	if (off >= sizeof buf)
		off = sizeof buf - 1;
	r->fleet_origin = bs_xstrndup(buf, off);
}

struct bs_results *bs_correlate(const struct bs_agg *agg, const struct bs_engine_config *cfg,
                                struct bs_input_row *inputs, size_t ninputs)
{
	struct bs_agg sorted = sorted_candidates(agg);
	struct ctx c = { .a = &sorted, .cfg = cfg, .inputs = inputs, .ninputs = ninputs };
	struct bs_results *r = bs_xcalloc(1, sizeof *r);
	r->inputs = inputs;
	r->ninputs = ninputs;
	r->data_start = sorted.first_ts;
	r->data_end = sorted.last_ts;

	if (cfg->nfleet)
		fleet_from_inventory(&c);
	else
		discover_fleet(&c);
	build_host_map(&c);
	srv_index_build(&c);
	cand_index(&c);
	exfil_index_build(&c);
	tamper_index_build(&c);
	find_local_domains(&c);
	mark_servers_with_data(&c);
	judge_servers(&c);
	build_exposure(&c, r);
	spam_onset(&c, r);

	server_rows(&c, r);
	count_evidence_rows(&c, r);
	sort_server_rows(r);
	sort_timeline(&c, r);
	fleet_origin(&c, r);

	free(c.origin_text);
	free(sorted.cand.v);
	free(c.srv);
	free(c.infra);
	free(c.srv_names);
	free(c.srv_hosted);
	bs_u64map_free(&c.host_srv);
	bs_u64map_free(&c.cand_ix);
	exfil_index_free(&c);
	tamper_index_free(&c);
	srv_index_free(&c);
	return r;
}
