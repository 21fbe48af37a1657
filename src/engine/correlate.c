/* correlate.c - from the aggregate to verdicts, windows and exposure.
 *
 * Order of work: fleet (inventory or discovery) -> host-to-server map ->
 * per-server signals -> verdicts and windows -> exposure of every address ->
 * timeline. Every list is sorted before it is written, so the results depend
 * only on the aggregate's content. docs/DETECTION.md explains each rule. */
#include "config.h"
#include "src/engine/agg.h"
#include "src/engine/detect.h"
#include "src/core/addrscan.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bs_thresholds_default(struct bs_thresholds *t)
{
	t->exfil_min_bytes = 100000;
	t->exfil_factor = 10.0;
	t->bulk_min_rows = 100;
	t->bruteforce_failures = 50;
	t->login_burst_users = 30;
	t->login_burst_factor = 10.0;
	t->score_compromised = 7.0;
	t->score_suspicious = 3.0;
}

static const double signal_weight[BS_SIG_COUNT] = {
	[BS_SIG_WEBSHELL] = 4, [BS_SIG_EXPLOIT_REQUEST] = 3, [BS_SIG_TAMPERED_CONTENT] = 4,
	[BS_SIG_EXFILTRATION] = 4, [BS_SIG_DB_BULK_READ] = 3, [BS_SIG_AUTH_ANOMALY] = 1,
	[BS_SIG_FOREIGN_DESTINATION] = 1,
};
#define STRONG_SIGNALS ((1u << BS_SIG_WEBSHELL) | (1u << BS_SIG_EXPLOIT_REQUEST) | \
	(1u << BS_SIG_TAMPERED_CONTENT) | (1u << BS_SIG_EXFILTRATION) | (1u << BS_SIG_DB_BULK_READ))

/* ------------------------------------------------------------- helpers */

struct srv {
	char *name;
	bs_ip addrs[8];
	size_t naddrs;
	bool has_data;
	unsigned signals;
	double score;
	enum bs_server_verdict verdict;
	bs_time ws, we, ts, te, exploit;
	BS_VEC(bs_ip) attackers;
	BS_VEC(uint32_t) shell_paths;
	BS_VEC(uint32_t) tamper_refhosts;
	BS_VEC(uint32_t) attack_queries;   /* query key ids */
	BS_VEC(uint32_t) exfil_keys;       /* flow key ids of exfil flows/transfers */
	BS_VEC(size_t) exfil_cands;
	uint64_t evidence;
};

struct ctx {
	const struct bs_agg *a;
	const struct bs_engine_config *cfg;
	struct srv *srv;
	size_t nsrv;
	struct bs_u64map host_srv;        /* host id -> server index */
	bs_ip *infra;                     /* inventory addresses of every role */
	size_t ninfra;
	char **local;                     /* local domains (given or inferred) */
	size_t nlocal;
	bool local_inferred;
	BS_VEC(struct bs_timeline_row) tl;
	bs_time T;                        /* latest window end over compromised servers */
	char *origin_text;                /* how the fleet was found */
	struct bs_u64map cand_ix;         /* (kind, key) -> first candidate, for joins */
};

static int srv_of_host(const struct ctx *c, uint32_t host)
{
	uint32_t v;
	return host && bs_u64map_get(&c->host_srv, host, &v) ? (int)v : -1;
}

static const char *S(const struct ctx *c, uint32_t id) { return bs_strtab_get(&c->a->str, id); }

/* The first candidate (in canonical order) of a kind with a key: the join of
 * evidence records to the request, query or transfer they came from. */
static const struct bs_cand *cand_find(const struct ctx *c, enum bs_ck kind, uint32_t key)
{
	uint32_t ix;
	return key && bs_u64map_get(&c->cand_ix, bs_key2(kind, key), &ix) ? &c->a->cand.v[ix] : NULL;
}

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

static bool is_local_domain(const struct ctx *c, const char *dom)
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

static bool ip_is_infra(const struct ctx *c, const bs_ip *ip)
{
	for (size_t i = 0; i < c->ninfra; i++)
		if (bs_ip_eq(&c->infra[i], ip))
			return true;
	for (size_t s = 0; s < c->nsrv; s++)
		for (size_t k = 0; k < c->srv[s].naddrs; k++)
			if (bs_ip_eq(&c->srv[s].addrs[k], ip))
				return true;
	return false;
}

/* Outside: neither private nor part of the fleet or its infrastructure. */
static bool ip_is_outside(const struct ctx *c, const bs_ip *ip)
{
	return ip->family && !bs_ip_is_private(ip) && !ip_is_infra(c, ip);
}

static bool name_is_fleet(const struct ctx *c, const char *name)
{
	for (size_t s = 0; s < c->nsrv; s++) {
		size_t n = strlen(c->srv[s].name);
		if (strncmp(name, c->srv[s].name, n) == 0 && (name[n] == 0 || name[n] == '.'))
			return true;
	}
	return false;
}

/* An outside host name or address (a reference target, a DNS name). */
static bool host_is_outside(const struct ctx *c, const char *h)
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

static bool addr_domain_outside(const struct ctx *c, const char *addr)
{
	const char *at = strrchr(addr, '@');
	return at && !is_local_domain(c, at + 1);
}

static void add_ip_unique(struct srv *s, const bs_ip *ip)
{
	for (size_t i = 0; i < s->attackers.n; i++)
		if (bs_ip_eq(&s->attackers.v[i], ip))
			return;
	*BS_VEC_PUSH(s->attackers) = *ip;
}

static void push_u32_unique(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == x)
			return;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = bs_xrealloc(*v, *cap * sizeof **v);
	}
	(*v)[(*n)++] = x;
}
#define PUSH_UNIQUE(vec, x) push_u32_unique(&(vec).v, &(vec).n, &(vec).cap, (x))

static bool u32_in(const uint32_t *v, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static bool ip_in(const bs_ip *v, size_t n, const bs_ip *x)
{
	for (size_t i = 0; i < n; i++)
		if (bs_ip_eq(&v[i], x))
			return true;
	return false;
}

static bs_time tmin(bs_time a, bs_time b) { return a == BS_TIME_NONE ? b : b == BS_TIME_NONE ? a : a < b ? a : b; }
static bs_time tmax(bs_time a, bs_time b) { return a == BS_TIME_NONE ? b : b == BS_TIME_NONE ? a : a > b ? a : b; }

/* ------------------------------------------------------------- timeline */

static void tl_add(struct ctx *c, bs_time ts, int frac, const char *desc, const char *event,
                   enum bs_severity sev, int srv, const bs_ip *src, const bs_ip *dst, const char *user,
                   const char *address, uint32_t input, uint64_t ref, const char *fmt, ...)
	__attribute__((format(printf, 14, 15)));

static void tl_add(struct ctx *c, bs_time ts, int frac, const char *desc, const char *event,
                   enum bs_severity sev, int srv, const bs_ip *src, const bs_ip *dst, const char *user,
                   const char *address, uint32_t input, uint64_t ref, const char *fmt, ...)
{
	if (ts == BS_TIME_NONE)
		return;
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
}

static int cand_frac(const struct bs_cand *k) { return (k->flags & CF_FROM_LOG) ? 0 : 6; }

/* ------------------------------------------------------------- fleet */

static void srv_add_host(struct ctx *c, uint32_t host, size_t s)
{
	if (!host)
		return;
	bool found;
	uint32_t *slot = bs_u64map_upsert(&c->host_srv, host, &found);
	if (!found)
		*slot = (uint32_t)s + 1;
}

static uint32_t find_host_ip(const struct bs_agg *a, const bs_ip *ip)
{
	char buf[BS_IP_STRLEN + 4] = "ip:";
	bs_ip_format(ip, buf + 3, sizeof buf - 3);
	uint32_t id = bs_strtab_find(&a->str, buf, strlen(buf));
	return id == UINT32_MAX ? 0 : id;
}

static uint32_t find_host_name(const struct bs_agg *a, const char *name)
{
	char buf[160];
	int n = snprintf(buf, sizeof buf, "name:%s", name);
	for (int i = 5; i < n; i++)
		if (buf[i] >= 'A' && buf[i] <= 'Z')
			buf[i] = (char)(buf[i] + 32);
	uint32_t id = bs_strtab_find(&a->str, buf, (size_t)n);
	return id == UINT32_MAX ? 0 : id;
}


/* Map every host id of the aggregate that belongs to a server. */
static void build_host_map(struct ctx *c)
{
	const struct bs_agg *a = c->a;
	bs_u64map_init(&c->host_srv);
	for (size_t s = 0; s < c->nsrv; s++) {
		struct srv *v = &c->srv[s];
		srv_add_host(c, find_host_name(a, v->name), s);
		const char *dot = strchr(v->name, '.');
		if (dot) {
			char first[128];
			size_t n = (size_t)(dot - v->name) < sizeof first - 1 ? (size_t)(dot - v->name) : sizeof first - 1;
			memcpy(first, v->name, n);
			first[n] = 0;
			srv_add_host(c, find_host_name(a, first), s);
		}
		for (size_t k = 0; k < v->naddrs; k++) {
			uint32_t ipid = find_host_ip(a, &v->addrs[k]);
			srv_add_host(c, ipid, s);
			/* names that the data ties to this address */
			for (size_t i = 0; i < a->aliases.n; i++)
				if (a->aliases.v[i].ip == ipid && ipid)
					srv_add_host(c, a->aliases.v[i].name, s);
		}
	}
	/* names aliased to an address of a server (reverse direction) */
	for (size_t i = 0; i < a->aliases.n; i++) {
		int s = srv_of_host(c, a->aliases.v[i].name);
		if (s >= 0)
			srv_add_host(c, a->aliases.v[i].ip, (size_t)s);
	}
}

static int cmp_str(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

/* Discovery: hosts (by address) through which many distinct users logged in. */
static void discover_fleet(struct ctx *c)
{
	const struct bs_agg *a = c->a;
	struct bs_u64map users;  /* (host, user) seen */
	struct bs_u64map count;  /* host -> index in counts */
	bs_u64map_init(&users);
	bs_u64map_init(&count);
	BS_VEC(struct { uint32_t host; uint64_t n; }) counts = { 0 };
	for (size_t i = 0; i < a->ev.n; i++) {
		const struct bs_evidence *e = &a->ev.v[i];
		if (e->kind != EK_LOGIN || !e->host)
			continue;
		bool f;
		uint32_t *slot = bs_u64map_upsert(&users, bs_key2(e->host, e->addr), &f);
		if (f)
			continue;
		*slot = 1;
		slot = bs_u64map_upsert(&count, e->host, &f);
		if (!f) {
			*slot = (uint32_t)counts.n + 1;
			BS_VEC_PUSH(counts)->host = e->host;
			counts.v[counts.n - 1].n = 0;
		}
		counts.v[*slot - 1].n++;
	}
	char **names = NULL;
	size_t nn = 0;
	for (size_t i = 0; i < counts.n; i++) {
		const char *h = S(c, counts.v[i].host);
		if (counts.v[i].n < 3 || strncmp(h, "ip:", 3) != 0)
			continue;
		names = bs_xrealloc(names, (nn + 1) * sizeof *names);
		names[nn++] = bs_xstrndup(h + 3, strlen(h + 3));
	}
	bs_qsort(names, nn, sizeof *names, cmp_str);
	c->srv = bs_xcalloc(nn ? nn : 1, sizeof *c->srv);
	c->nsrv = nn;
	for (size_t i = 0; i < nn; i++) {
		struct srv *v = &c->srv[i];
		bs_ip_parse(names[i], strlen(names[i]), &v->addrs[0]);
		v->naddrs = 1;
		/* prefer a host name learnt from the data (shortest alias) */
		uint32_t ipid = find_host_ip(a, &v->addrs[0]);
		const char *best = NULL;
		for (size_t k = 0; k < a->aliases.n; k++) {
			if (a->aliases.v[k].ip != ipid)
				continue;
			const char *n = S(c, a->aliases.v[k].name) + 5;
			if (!best || strlen(n) < strlen(best) || (strlen(n) == strlen(best) && strcmp(n, best) < 0))
				best = n;
		}
		v->name = best ? bs_xstrndup(best, strlen(best)) : names[i];
		if (best)
			free(names[i]);
	}
	free(names);
	char buf[512];
	snprintf(buf, sizeof buf, "discovered: %zu host(s) through which 3 or more users logged in to webmail or IMAP", nn);
	c->origin_text = bs_xstrndup(buf, strlen(buf));
	bs_u64map_free(&users);
	bs_u64map_free(&count);
	BS_VEC_FREE(counts);
}

/* ------------------------------------------------------------- signals */

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
	for (size_t i = 0; i < c->a->hosts.n; i++) {
		const struct bs_hostrec *r = &c->a->hosts.v[i];
		if (srv_of_host(c, r->host) != (int)s)
			continue;
		for (int b = 0; b < 64; b++)
			h[b] += mail ? r->mail_hist[b] : r->out_hist[b];
	}
	return hist_median(h);
}

static bool path_unique_to(const struct ctx *c, uint32_t path, size_t s, size_t *nserving)
{
	unsigned seen = 0;
	bool other = false, mine = false;
	for (size_t i = 0; i < c->a->paths.n; i++) {
		const struct bs_pathrec *p = &c->a->paths.v[i];
		if (p->path != path)
			continue;
		int o = srv_of_host(c, p->host);
		if (o < 0)
			continue;
		if ((size_t)o == s)
			mine = true;
		else
			other = true;
		seen++;
	}
	if (nserving)
		*nserving = seen;
	return mine && !other;
}

static size_t servers_with_http(const struct ctx *c)
{
	size_t n = 0;
	bool *has = bs_xcalloc(c->nsrv ? c->nsrv : 1, 1);
	for (size_t i = 0; i < c->a->paths.n; i++) {
		int o = srv_of_host(c, c->a->paths.v[i].host);
		if (o >= 0 && !has[o]) {
			has[o] = true;
			n++;
		}
	}
	free(has);
	return n;
}

static uint32_t path_id_of(const struct ctx *c, const struct bs_cand *k)
{
	const char *uri = S(c, k->s_main);
	bs_str p = bs_uri_path(bs_str_make(uri, strlen(uri)));
	uint32_t id = bs_strtab_find(&c->a->str, p.p, p.n);
	return id == UINT32_MAX ? 0 : id;
}

static void detect_web(struct ctx *c, size_t s)
{
	struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	size_t nhttp = servers_with_http(c);
	bs_time first_shell = BS_TIME_NONE;
	/* web shell: a script path only this server serves, reached with
	 * commands or answering with command output */
	for (size_t i = 0; i < a->cand.n; i++) {
		const struct bs_cand *k = &a->cand.v[i];
		if (k->kind != CK_HTTP || srv_of_host(c, k->host) != (int)s || !(k->flags & CF_SUCCESS))
			continue;
		if (!(k->flags & (CF_CMDLIKE | CF_CMD_OUTPUT)) || !(k->flags & CF_SCRIPT))
			continue;
		uint32_t pid = path_id_of(c, k);
		bool unique = pid && (nhttp < 2 ? (k->flags & CF_CMD_OUTPUT) : path_unique_to(c, pid, s, NULL));
		if (!unique)
			continue;
		PUSH_UNIQUE(v->shell_paths, pid);
		add_ip_unique(v, &k->src);
		first_shell = tmin(first_shell, k->ts);
	}
	if (v->shell_paths.n)
		v->signals |= 1u << BS_SIG_WEBSHELL;
	/* exploit: a malicious request that succeeded. With a web shell, the
	 * exploit is the first successful one from the shell's users, or else
	 * the last one before the shell was first used. */
	bs_time exploit = BS_TIME_NONE, before_shell = BS_TIME_NONE;
	const struct bs_cand *before_k = NULL;
	for (size_t i = 0; i < a->cand.n; i++) {
		const struct bs_cand *k = &a->cand.v[i];
		if (k->kind != CK_HTTP || srv_of_host(c, k->host) != (int)s || !k->exploit || !(k->flags & CF_SUCCESS))
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
	if (!v->shell_paths.n && exploit != BS_TIME_NONE) {
		for (size_t i = 0; i < a->cand.n; i++) {
			const struct bs_cand *k = &a->cand.v[i];
			if (k->kind == CK_HTTP && srv_of_host(c, k->host) == (int)s && k->exploit &&
			    (k->flags & CF_SUCCESS) && k->ts == exploit)
				add_ip_unique(v, &k->src);
		}
	}
	v->exploit = exploit;
	v->ws = exploit != BS_TIME_NONE ? exploit : first_shell;
}

static void detect_db(struct ctx *c, size_t s)
{
	struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	/* servers that issue queries at all, and per shape how many */
	bool *issues = bs_xcalloc(c->nsrv ? c->nsrv : 1, 1);
	size_t nissue = 0;
	for (size_t i = 0; i < a->shapes.n; i++) {
		int o = srv_of_host(c, a->shapes.v[i].host);
		if (o >= 0 && !issues[o]) {
			issues[o] = true;
			nissue++;
		}
	}
	size_t app_min = nissue / 2 > 2 ? nissue / 2 : 2;
	for (size_t i = 0; i < a->cand.n; i++) {
		const struct bs_cand *k = &a->cand.v[i];
		if (k->kind != CK_DBQUERY || srv_of_host(c, k->host) != (int)s || !(k->flags & CF_SUCCESS))
			continue;
		if (k->num1 < c->cfg->th.bulk_min_rows)
			continue;
		/* the application's own statements are issued by most servers */
		bool *by = bs_xcalloc(c->nsrv ? c->nsrv : 1, 1);
		size_t nby = 0;
		for (size_t j = 0; j < a->shapes.n; j++) {
			if (a->shapes.v[j].shape != k->shape)
				continue;
			int o = srv_of_host(c, a->shapes.v[j].host);
			if (o >= 0 && !by[o]) {
				by[o] = true;
				nby++;
			}
		}
		free(by);
		if (nby >= app_min)
			continue;
		v->signals |= 1u << BS_SIG_DB_BULK_READ;
		PUSH_UNIQUE(v->attack_queries, k->key);
	}
	free(issues);
}

static void detect_exfil(struct ctx *c, size_t s)
{
	struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	uint64_t med_out = srv_median(c, s, false), med_mail = srv_median(c, s, true);
	double f = c->cfg->th.exfil_factor;
	uint64_t min = c->cfg->th.exfil_min_bytes;
	for (size_t i = 0; i < a->cand.n; i++) {
		const struct bs_cand *k = &a->cand.v[i];
		if (srv_of_host(c, k->host) != (int)s)
			continue;
		bool hit = false;
		if ((k->kind == CK_FLOW_OUT || k->kind == CK_FILEXFER) && ip_is_outside(c, &k->dst)) {
			uint64_t floor = (uint64_t)(f * (double)med_out);
			hit = k->num1 >= min && k->num1 >= floor;
			if (hit && k->kind == CK_FLOW_OUT) {
				/* an FTP data flow is reported once, as its transfer */
				if (cand_find(c, CK_FILEXFER, k->key))
					hit = false;
			}
		} else if (k->kind == CK_MAIL_OUT) {
			const char *rcpts = S(c, k->s_main);
			char first[BS_ADDR_MAX + 1];
			size_t n = strcspn(rcpts, ";");
			if (n > BS_ADDR_MAX)
				n = BS_ADDR_MAX;
			memcpy(first, rcpts, n);
			first[n] = 0;
			uint64_t floor = (k->flags & CF_LOCAL_UID) ? (uint64_t)(f * (double)med_mail) : 0;
			hit = addr_domain_outside(c, first) && k->num1 >= min && k->num1 >= floor;
		}
		if (!hit)
			continue;
		v->signals |= 1u << BS_SIG_EXFILTRATION;
		*BS_VEC_PUSH(v->exfil_cands) = i;
		if (k->kind != CK_MAIL_OUT) {
			PUSH_UNIQUE(v->exfil_keys, k->key);
			add_ip_unique(v, &k->dst);
		}
	}
}

static void detect_tamper(struct ctx *c, size_t s)
{
	struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	for (size_t i = 0; i < a->refs.n; i++) {
		const struct bs_refrec *r = &a->refs.v[i];
		if (srv_of_host(c, r->host) != (int)s || !host_is_outside(c, S(c, r->refhost)))
			continue;
		/* servers that serve this path, and those whose copy has this reference */
		bool *serve = bs_xcalloc(c->nsrv, 1), *with = bs_xcalloc(c->nsrv, 1);
		size_t nserve = 0, nwith = 0;
		for (size_t j = 0; j < a->paths.n; j++) {
			int o = srv_of_host(c, a->paths.v[j].host);
			if (a->paths.v[j].path == r->path && o >= 0 && !serve[o]) {
				serve[o] = true;
				nserve++;
			}
		}
		for (size_t j = 0; j < a->refs.n; j++) {
			int o = srv_of_host(c, a->refs.v[j].host);
			if (a->refs.v[j].path == r->path && a->refs.v[j].refhost == r->refhost && o >= 0 && !with[o]) {
				with[o] = true;
				nwith++;
			}
		}
		free(serve);
		free(with);
		if (nserve < 2 || nwith * 2 >= nserve)
			continue;
		PUSH_UNIQUE(v->tamper_refhosts, r->refhost);
	}
	if (!v->tamper_refhosts.n)
		return;
	v->signals |= 1u << BS_SIG_TAMPERED_CONTENT;
	for (size_t i = 0; i < a->refs.n; i++) {
		const struct bs_refrec *r = &a->refs.v[i];
		if (srv_of_host(c, r->host) == (int)s && u32_in(v->tamper_refhosts.v, v->tamper_refhosts.n, r->refhost)) {
			v->ts = tmin(v->ts, r->first);
			v->te = tmax(v->te, r->last);
		}
	}
}

static void detect_auth(struct ctx *c, size_t s)
{
	struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	for (size_t i = 0; i < a->fails.n; i++)
		if (srv_of_host(c, a->fails.v[i].host) == (int)s && a->fails.v[i].count >= c->cfg->th.bruteforce_failures)
			v->signals |= 1u << BS_SIG_AUTH_ANOMALY;
	/* a burst of successful logins far above the server's usual hour */
	uint64_t *per = NULL;
	size_t n = 0;
	for (size_t i = 0; i < a->hours.n; i++)
		if (srv_of_host(c, a->hours.v[i].host) == (int)s && a->hours.v[i].logins) {
			per = bs_xrealloc(per, (n + 1) * sizeof *per);
			per[n++] = a->hours.v[i].logins;
		}
	if (n >= 24) {
		uint64_t sum = 0, max = 0;
		for (size_t i = 0; i < n; i++) {
			sum += per[i];
			if (per[i] > max)
				max = per[i];
		}
		double mean = (double)sum / (double)n;
		if (max >= c->cfg->th.login_burst_users && (double)max > c->cfg->th.login_burst_factor * mean)
			v->signals |= 1u << BS_SIG_AUTH_ANOMALY;
	}
	free(per);
}

static void detect_foreign(struct ctx *c, size_t s, bool emit)
{
	struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	if (v->ws == BS_TIME_NONE)
		return;
	for (size_t i = 0; i < a->dests.n; i++) {
		const struct bs_destrec *d = &a->dests.v[i];
		if (srv_of_host(c, d->host) != (int)s || d->first < v->ws)
			continue;
		const char *dest = S(c, d->dest);
		const char *name = d->is_name ? dest : (strncmp(dest, "ip:", 3) == 0 ? dest + 3 : dest);
		if (!host_is_outside(c, name))
			continue;
		bool other = false;
		for (size_t j = 0; j < a->dests.n && !other; j++) {
			int o = srv_of_host(c, a->dests.v[j].host);
			if (a->dests.v[j].dest == d->dest && o >= 0 && o != (int)s)
				other = true;
		}
		if (!other) {
			v->signals |= 1u << BS_SIG_FOREIGN_DESTINATION;
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
	if (v->tamper_refhosts.n)
		v->signals |= 1u << BS_SIG_FOREIGN_DESTINATION;
}

/* The window ends with the attacker's last activity through the access. */
static void window_end(struct ctx *c, size_t s)
{
	struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	if (v->ws == BS_TIME_NONE) {
		/* no exploit or shell seen: open the window at the first strong event */
		for (size_t i = 0; i < a->cand.n; i++) {
			const struct bs_cand *k = &a->cand.v[i];
			bool mine = (k->kind == CK_DBQUERY && u32_in(v->attack_queries.v, v->attack_queries.n, k->key));
			for (size_t j = 0; j < v->exfil_cands.n; j++)
				if (v->exfil_cands.v[j] == i)
					mine = true;
			if (mine)
				v->ws = tmin(v->ws, k->ts);
		}
	}
	if (v->ws == BS_TIME_NONE)
		return;
	bs_time we = v->ws;
	for (size_t i = 0; i < a->paths.n; i++) {
		const struct bs_pathrec *p = &a->paths.v[i];
		if (srv_of_host(c, p->host) == (int)s && u32_in(v->shell_paths.v, v->shell_paths.n, p->path))
			we = tmax(we, p->last);
	}
	for (size_t i = 0; i < a->cand.n; i++) {
		const struct bs_cand *k = &a->cand.v[i];
		if (k->ts < v->ws || srv_of_host(c, k->host) != (int)s)
			continue;
		if (k->kind == CK_DBQUERY && u32_in(v->attack_queries.v, v->attack_queries.n, k->key))
			we = tmax(we, k->ts_end);
		if (k->kind == CK_HTTP && ip_in(v->attackers.v, v->attackers.n, &k->src) &&
		    (k->flags & (CF_CMDLIKE | CF_CMD_OUTPUT)))
			we = tmax(we, k->ts);
	}
	for (size_t j = 0; j < v->exfil_cands.n; j++) {
		const struct bs_cand *k = &a->cand.v[v->exfil_cands.v[j]];
		if (k->ts >= v->ws)
			we = tmax(we, k->ts_end);
	}
	v->we = we;
}

static void verdict(struct ctx *c, size_t s)
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

/* ------------------------------------------------------------- exposure */

struct addr_acc {
	unsigned cats;
	bs_time first, last;
	uint64_t evidence;
	uint64_t servers;            /* bitmask of server indexes < 64 */
	bool login_any;              /* logged in through the fleet (any time) */
	bs_ip client;
	uint32_t ua;
	bs_time trojan_first;
};

static void acc_evidence(struct addr_acc *x, const struct bs_evidence *e, enum bs_category cat, int srv)
{
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

static void build_exposure(struct ctx *c, struct bs_results *r)
{
	const struct bs_agg *a = c->a;
	size_t nstr = a->str.n;
	c->T = BS_TIME_NONE;
	for (size_t s = 0; s < c->nsrv; s++)
		if (c->srv[s].verdict == BS_V_COMPROMISED)
			c->T = tmax(c->T, c->srv[s].we);
	if (c->T == BS_TIME_NONE)
		return;
	struct addr_acc *acc = bs_xcalloc(nstr, sizeof *acc);
	for (size_t i = 0; i < nstr; i++) {
		acc[i].first = acc[i].last = acc[i].trojan_first = BS_TIME_NONE;
	}
	/* txn keys of attacker requests: computed lazily via a map */
	struct bs_u64map txn_attack;
	bs_u64map_init(&txn_attack);

	/* pass 1: logins (needed by received_from) and everything not pairwise */
	for (size_t i = 0; i < a->ev.n; i++) {
		const struct bs_evidence *e = &a->ev.v[i];
		int s = srv_of_host(c, e->host);
		struct addr_acc *x = &acc[e->addr];
		switch (e->kind) {
		case EK_LOGIN:
			if (s < 0)
				break;
			if (e->first <= c->T) {
				acc_evidence(x, e, BS_CAT_LOGIN, s);
				x->login_any = true;
			}
			if (c->srv[s].verdict == BS_V_COMPROMISED && e->last >= c->srv[s].ws && e->first <= c->srv[s].we)
				acc_evidence(x, e, BS_CAT_CREDENTIALS_AT_RISK, s);
			break;
		case EK_ADDRBOOK:
			if (s >= 0 && e->first <= c->T)
				acc_evidence(x, e, BS_CAT_ADDRESSBOOK, s);
			break;
		case EK_SENT_TO:
			if (s >= 0 && e->first <= c->T)
				acc_evidence(x, e, BS_CAT_SENT_TO, s);
			break;
		case EK_DB_UNFILTERED:
			if (s >= 0 && c->srv[s].verdict == BS_V_COMPROMISED &&
			    u32_in(c->srv[s].attack_queries.v, c->srv[s].attack_queries.n, e->peer)) {
				acc_evidence(x, e, BS_CAT_EXFILTRATED, s);
				const struct bs_cand *q = cand_find(c, CK_DBQUERY, e->peer);
				if (q && (q->flags & CF_ADDRBOOK))
					acc_evidence(x, e, BS_CAT_ADDRESSBOOK, s);
			}
			break;
		case EK_HTTP_SUSPECT: {
			uint32_t v;
			int ts = -1;
			bool attack;
			if (bs_u64map_get(&txn_attack, e->peer, &v)) {
				attack = v & 1;
				ts = (int)(v >> 1) - 1;
			} else {
				attack = txn_is_attack(c, e->peer, &ts);
				bool f;
				*bs_u64map_upsert(&txn_attack, e->peer, &f) = ((uint32_t)(ts + 1) << 1 | attack) + 1;
			}
			if (attack)
				acc_evidence(x, e, BS_CAT_EXFILTRATED, ts);
			break;
		}
		case EK_PAYLOAD:
			if (s >= 0 && c->srv[s].verdict == BS_V_COMPROMISED &&
			    u32_in(c->srv[s].exfil_keys.v, c->srv[s].exfil_keys.n, e->peer))
				acc_evidence(x, e, BS_CAT_EXFILTRATED, s);
			break;
		default:
			break;
		}
	}
	/* pass 2: received_from needs the recipients' logins */
	for (size_t i = 0; i < a->ev.n; i++) {
		const struct bs_evidence *e = &a->ev.v[i];
		if (e->kind == EK_RECV_PAIR && e->first <= c->T && e->peer < nstr && acc[e->peer].login_any)
			acc_evidence(&acc[e->addr], e, BS_CAT_RECEIVED_FROM, -1);
	}
	/* trojan pages: sessions served a tampered page */
	for (size_t i = 0; i < a->sref.n; i++) {
		const struct bs_sessref *sr = &a->sref.v[i];
		int s = srv_of_host(c, sr->host);
		if (s < 0 || c->srv[s].verdict != BS_V_COMPROMISED ||
		    !u32_in(c->srv[s].tamper_refhosts.v, c->srv[s].tamper_refhosts.n, sr->refhost))
			continue;
		uint32_t v;
		bool found = false;
		for (uint32_t probe = 0; probe < 1; probe++) {
			/* sess_ix maps a pair to its record (keys re-probed as in agg.c) */
			uint64_t key = bs_mix64(sr->pair);
			while (bs_u64map_get(&a->sess_ix, key, &v)) {
				if (a->sess.v[v].pair == sr->pair) {
					found = true;
					break;
				}
				key = bs_mix64(key + 0x51ed270b27ULL);
			}
		}
		if (!found)
			continue;
		const struct bs_sessrec *se = &a->sess.v[v];
		struct addr_acc *x = &acc[se->user];
		struct bs_evidence pseudo = { .first = sr->first, .last = sr->last, .count = 1 };
		acc_evidence(x, &pseudo, BS_CAT_TROJAN_PAGE_SERVED, s);
		if (x->trojan_first == BS_TIME_NONE || sr->first < x->trojan_first) {
			x->trojan_first = sr->first;
			x->client = sr->client;
			x->ua = sr->ua;
		}
	}
	/* results, sorted by address */
	size_t n = 0;
	for (size_t i = 0; i < nstr; i++)
		if (acc[i].cats)
			n++;
	r->exposed = bs_xcalloc(n ? n : 1, sizeof *r->exposed);
	uint32_t *ids = bs_xmalloc((n ? n : 1) * sizeof *ids);
	size_t k = 0;
	for (size_t i = 0; i < nstr; i++)
		if (acc[i].cats)
			ids[k++] = (uint32_t)i;
	for (size_t i = 0; i < n; i++) {
		struct addr_acc *x = &acc[ids[i]];
		struct bs_exposed *ex = &r->exposed[i];
		const char *addr = S(c, ids[i]);
		ex->address = bs_xstrndup(addr, strlen(addr));
		const char *at = strrchr(addr, '@');
		ex->domain = bs_xstrndup(at ? at + 1 : "", at ? strlen(at + 1) : 0);
		ex->customer = x->login_any || (at && is_local_domain(c, at + 1));
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
		for (size_t s = 0; s < c->nsrv && s < 64; s++)
			if (x->servers & (1ULL << s))
				o += (size_t)snprintf(buf + o, o < sizeof buf ? sizeof buf - o : 0, "%s%s", o ? ";" : "", c->srv[s].name);
		if (o >= sizeof buf)
			o = sizeof buf - 1;
		ex->servers = bs_xstrndup(buf, o);
		ex->client_ip = x->client;
		const char *ua = x->ua ? S(c, x->ua) : "";
		ex->user_agent = bs_xstrndup(ua, strlen(ua));
		r->risk_counts[ex->risk]++;
		for (int cat = 0; cat < BS_CAT_COUNT; cat++)
			if (ex->categories & (1u << cat))
				r->category_counts[cat]++;
		if (x->trojan_first != BS_TIME_NONE) {
			char cip[BS_IP_STRLEN];
			bs_ip_format(&x->client, cip, sizeof cip);
			int s = -1;
			for (size_t q = 0; q < c->nsrv; q++)
				if (c->srv[q].verdict == BS_V_COMPROMISED && c->srv[q].ts != BS_TIME_NONE &&
				    x->trojan_first >= c->srv[q].ts && x->trojan_first <= c->srv[q].te)
					s = (int)q;
			tl_add(c, x->trojan_first, 6, "Page Served", "trojan_page_served", BS_SEV_EXPOSURE, s, &x->client,
			       NULL, addr, addr, UINT32_MAX, 0, "%s was served a tampered page (client %s, user agent %.200s)",
			       addr, cip, ua);
		}
	}
	r->nexposed = n;
	/* sorted by address: ids are in interning order, sort the rows */
	bs_qsort(r->exposed, n, sizeof *r->exposed, cmp_exposed_addr);
	/* credentials at risk: one timeline row per user and server */
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
	bs_u64map_free(&txn_attack);
	free(ids);
	free(acc);
}

/* Spam onset: the first day after the earliest exploit on which the share
 * of exposed addresses receiving spam rises well above the share before the
 * incident and above the share of addresses not exposed. */

static void spam_onset(struct ctx *c, struct bs_results *r)
{
	const struct bs_agg *a = c->a;
	r->spam_onset = BS_TIME_NONE;
	bs_time start = BS_TIME_NONE;
	for (size_t s = 0; s < c->nsrv; s++)
		if (c->srv[s].verdict == BS_V_COMPROMISED)
			start = tmin(start, c->srv[s].ws);
	if (start == BS_TIME_NONE || !r->nexposed)
		return;
	int64_t d0 = start / BS_USEC / 86400;
	/* days span */
	int64_t dmin = INT64_MAX, dmax = INT64_MIN;
	for (size_t i = 0; i < a->ev.n; i++)
		if (a->ev.v[i].kind == EK_SPAM) {
			int64_t d = a->ev.v[i].peer;
			if (d < dmin) dmin = d;
			if (d > dmax) dmax = d;
		}
	if (dmin == INT64_MAX || dmax - dmin > 3660)
		return;
	size_t ndays = (size_t)(dmax - dmin + 1);
	uint64_t *exp_n = bs_xcalloc(ndays, sizeof *exp_n), *oth_n = bs_xcalloc(ndays, sizeof *oth_n);
	bs_time *exp_first = bs_xmalloc(ndays * sizeof *exp_first);
	for (size_t i = 0; i < ndays; i++)
		exp_first[i] = BS_TIME_NONE;
	uint64_t nothers_seen = 0;
	for (size_t i = 0; i < a->ev.n; i++) {
		const struct bs_evidence *e = &a->ev.v[i];
		if (e->kind != EK_SPAM)
			continue;
		struct bs_exposed key = { .address = (char *)S(c, e->addr) };
		bool exposed = bsearch(&key, r->exposed, r->nexposed, sizeof *r->exposed, cmp_exposed_addr) != NULL;
		size_t d = (size_t)((int64_t)e->peer - dmin);
		if (exposed) {
			exp_n[d]++;
			exp_first[d] = tmin(exp_first[d], e->first);
			if ((int64_t)e->peer < d0)
				r->spam_exposed_before += e->count;
			else
				r->spam_exposed_after += e->count;
		} else {
			oth_n[d]++;
			nothers_seen++;
		}
	}
	/* baseline: mean daily exposed spam recipients before the exploit */
	double base = 0;
	size_t nb = 0;
	for (int64_t d = dmin; d < d0; d++, nb++)
		base += (double)exp_n[d - dmin];
	base = nb ? base / (double)nb : 0;
	for (int64_t d = d0 > dmin ? d0 : dmin; d <= dmax; d++) {
		size_t i = (size_t)(d - dmin);
		double exposed_rate = (double)exp_n[i] / (double)r->nexposed;
		double other_rate = (double)oth_n[i] / (double)(nothers_seen ? nothers_seen : 1);
		if (exp_n[i] >= 3 && (double)exp_n[i] >= 3.0 * (base + 1.0) && exposed_rate > 2.0 * other_rate) {
			r->spam_onset = exp_first[i];
			break;
		}
	}
	free(exp_n);
	free(oth_n);
	free(exp_first);
	if (r->spam_onset != BS_TIME_NONE)
		tl_add(c, r->spam_onset, 0, "Spam Onset", "spam_onset", BS_SEV_EXPOSURE, -1, NULL, NULL, NULL, NULL,
		       UINT32_MAX, 0, "Spam to exposed addresses rises above its earlier rate (%llu spam messages to exposed addresses before the exploit, %llu after)",
		       (unsigned long long)r->spam_exposed_before, (unsigned long long)r->spam_exposed_after);
}

/* ------------------------------------------------------------- timeline */

static void server_timeline(struct ctx *c, size_t s)
{
	struct srv *v = &c->srv[s];
	const struct bs_agg *a = c->a;
	/* brute forces are attacks worth a row whatever the verdict */
	for (size_t i = 0; i < a->fails.n; i++) {
		const struct bs_failrec *f = &a->fails.v[i];
		if (srv_of_host(c, f->host) != (int)s || f->count < c->cfg->th.bruteforce_failures)
			continue;
		char src[BS_IP_STRLEN];
		bs_ip_format(&f->src, src, sizeof src);
		tl_add(c, f->first, 0, "First Failure", "auth_anomaly", BS_SEV_ATTACK, (int)s, &f->src, NULL, NULL, NULL,
		       UINT32_MAX, 0, "%llu failed logins on %s from %s within an hour",
		       (unsigned long long)f->count, v->name, src);
	}
	if (v->verdict != BS_V_COMPROMISED && v->verdict != BS_V_SUSPICIOUS)
		return;
	char ips[512];
	size_t o = 0;
	ips[0] = 0;
	for (size_t i = 0; i < v->attackers.n && o < sizeof ips - BS_IP_STRLEN - 2; i++) {
		if (o)
			ips[o++] = ' ';
		bs_ip_format(&v->attackers.v[i], ips + o, sizeof ips - o);
		o += strlen(ips + o);
	}
	for (size_t i = 0; i < a->cand.n; i++) {
		const struct bs_cand *k = &a->cand.v[i];
		int ks = srv_of_host(c, k->host);
		char src[BS_IP_STRLEN];
		bs_ip_format(&k->src, src, sizeof src);
		if (k->kind == CK_HTTP) {
			bool attacker = ip_in(v->attackers.v, v->attackers.n, &k->src);
			/* the attackers' requests against any server of the fleet */
			if (!attacker || ks < 0)
				continue;
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
		} else if (k->kind == CK_DBQUERY && ks == (int)s &&
		           u32_in(v->attack_queries.v, v->attack_queries.n, k->key)) {
			tl_add(c, k->ts, 6, "Query Time", "db_bulk_read", BS_SEV_COMPROMISE, ks, &k->src, &k->dst,
			       S(c, k->s_user), NULL, k->input, k->ref, "bulk database read from %s: %.400s (%llu rows)",
			       v->name, S(c, k->s_main), (unsigned long long)k->num1);
		}
	}
	for (size_t j = 0; j < v->exfil_cands.n; j++) {
		const struct bs_cand *k = &a->cand.v[v->exfil_cands.v[j]];
		char dst[BS_IP_STRLEN];
		bs_ip_format(&k->dst, dst, sizeof dst);
		if (k->kind == CK_MAIL_OUT)
			tl_add(c, k->ts, 0, "Submission Time", "exfiltration", BS_SEV_COMPROMISE, (int)s, &k->src, NULL,
			       S(c, k->s_user), NULL, k->input, k->ref, "%s mail from %s on %s to %.300s, %llu bytes",
			       (k->flags & CF_LOCAL_UID) ? "locally submitted" : "unauthenticated", S(c, k->s_user),
			       v->name, S(c, k->s_main), (unsigned long long)k->num1);
		else if (k->kind == CK_FILEXFER)
			tl_add(c, k->ts, 6, "Transfer End", "exfiltration", BS_SEV_COMPROMISE, (int)s, &k->src, &k->dst,
			       S(c, k->s_user), NULL, k->input, k->ref, "%s upload of %.200s from %s to %s, %llu bytes",
			       S(c, k->s_extra), S(c, k->s_main), v->name, dst, (unsigned long long)k->num1);
		else
			tl_add(c, k->ts, 6, "Connection Start", "exfiltration", BS_SEV_COMPROMISE, (int)s, &k->src,
			       &k->dst, NULL, NULL, k->input, k->ref, "%s sent %llu bytes to %s:%u (%s)", v->name,
			       (unsigned long long)k->num1, dst, k->dport, S(c, k->s_main)[0] ? S(c, k->s_main) : "tcp");
	}
	for (size_t i = 0; i < a->refs.n; i++) {
		const struct bs_refrec *r = &a->refs.v[i];
		if (srv_of_host(c, r->host) != (int)s || !u32_in(v->tamper_refhosts.v, v->tamper_refhosts.n, r->refhost))
			continue;
		tl_add(c, r->first, 6, "First Served", "tampered_content", BS_SEV_COMPROMISE, (int)s, NULL, NULL, NULL,
		       NULL, r->input, r->ref, "%s served %s with a reference to %s that the other servers' copies do not have (%llu times)",
		       v->name, S(c, r->path), S(c, r->refhost), (unsigned long long)r->count);
	}
	detect_foreign(c, s, true);
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

static int cmp_ip(const void *x, const void *y) { return bs_ip_cmp(x, y); }

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
	for (size_t i = 0; i < a->hours.n; i++) {
		const struct bs_hourrec *h = &a->hours.v[i];
		if (srv_of_host(c, h->host) != (int)s || h->hour < h0 || h->hour > h1)
			continue;
		size_t b = (size_t)((h->hour - h0) / per);
		if (b >= o->nbins)
			continue; /* an absurd span was clamped to one bin above */
		o->hist[b] += (uint32_t)(h->events > UINT32_MAX ? UINT32_MAX : h->events);
		o->hist_attack[b] += (uint32_t)(h->attack > UINT32_MAX ? UINT32_MAX : h->attack);
	}
}

/* Candidates in a canonical order (their order in the aggregate depends on
 * how inputs were split and merged), so ties resolve the same every run. */
static const struct bs_agg *sort_agg;
static int cmp_cand(const void *x, const void *y)
{
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
	k = strcmp(bs_strtab_get(&sort_agg->str, p->s_main), bs_strtab_get(&sort_agg->str, q->s_main));
	if (k) return k;
	return strcmp(bs_strtab_get(&sort_agg->str, p->key), bs_strtab_get(&sort_agg->str, q->key));
}

struct bs_results *bs_correlate(const struct bs_agg *agg, const struct bs_engine_config *cfg,
                                struct bs_input_row *inputs, size_t ninputs)
{
	struct bs_agg sorted = *agg;
	sorted.cand.v = bs_xmalloc((agg->cand.n ? agg->cand.n : 1) * sizeof *sorted.cand.v);
	if (agg->cand.n)
		memcpy(sorted.cand.v, agg->cand.v, agg->cand.n * sizeof *sorted.cand.v);
	sort_agg = agg;
	bs_qsort(sorted.cand.v, sorted.cand.n, sizeof *sorted.cand.v, cmp_cand);
	const struct bs_agg *a = &sorted;
	struct ctx c = { .a = a, .cfg = cfg };
	struct bs_results *r = bs_xcalloc(1, sizeof *r);
	r->inputs = inputs;
	r->ninputs = ninputs;
	r->data_start = a->first_ts;
	r->data_end = a->last_ts;

	/* fleet */
	if (cfg->nfleet) {
		size_t nweb = 0;
		for (size_t i = 0; i < cfg->nfleet; i++)
			if (strcmp(cfg->fleet[i].role, "webmail") == 0)
				nweb++;
		c.srv = bs_xcalloc(nweb ? nweb : 1, sizeof *c.srv);
		c.infra = bs_xcalloc(cfg->nfleet, sizeof *c.infra);
		for (size_t i = 0; i < cfg->nfleet; i++) {
			c.infra[c.ninfra++] = cfg->fleet[i].address;
			if (strcmp(cfg->fleet[i].role, "webmail") != 0)
				continue;
			/* one server may be listed once per address */
			struct srv *v = NULL;
			for (size_t s = 0; s < c.nsrv; s++)
				if (strcmp(c.srv[s].name, cfg->fleet[i].name) == 0)
					v = &c.srv[s];
			if (!v) {
				v = &c.srv[c.nsrv++];
				v->name = bs_xstrndup(cfg->fleet[i].name, strlen(cfg->fleet[i].name));
			}
			if (v->naddrs < 8 && cfg->fleet[i].address.family)
				v->addrs[v->naddrs++] = cfg->fleet[i].address;
		}
		char buf[600];
		snprintf(buf, sizeof buf, "inventory %s", cfg->fleet_file ? cfg->fleet_file : "");
		c.origin_text = bs_xstrndup(buf, strlen(buf));
	} else {
		discover_fleet(&c);
	}
	for (size_t s = 0; s < c.nsrv; s++) {
		struct srv *v = &c.srv[s];
		v->ws = v->we = v->ts = v->te = v->exploit = BS_TIME_NONE;
	}
	build_host_map(&c);
	cand_index(&c);

	/* local domains: given, or those of the users who logged in */
	if (cfg->nlocal) {
		c.local = cfg->local_domains;
		c.nlocal = cfg->nlocal;
	} else {
		c.local_inferred = true;
		for (size_t i = 0; i < a->ev.n; i++) {
			const struct bs_evidence *e = &a->ev.v[i];
			if (e->kind != EK_LOGIN || srv_of_host(&c, e->host) < 0)
				continue;
			const char *at = strrchr(S(&c, e->addr), '@');
			if (!at)
				continue;
			bool have = false;
			for (size_t k = 0; k < c.nlocal; k++)
				if (strcmp(c.local[k], at + 1) == 0)
					have = true;
			if (!have && c.nlocal < 64) {
				c.local = bs_xrealloc(c.local, (c.nlocal + 1) * sizeof *c.local);
				c.local[c.nlocal++] = bs_xstrndup(at + 1, strlen(at + 1));
			}
		}
		bs_qsort(c.local, c.nlocal, sizeof *c.local, cmp_str);
	}

	/* which servers have data at all */
	for (size_t i = 0; i < a->hosts.n; i++) {
		int s = srv_of_host(&c, a->hosts.v[i].host);
		if (s >= 0 && a->hosts.v[i].events)
			c.srv[s].has_data = true;
	}
	for (size_t i = 0; i < a->paths.n; i++) {
		int s = srv_of_host(&c, a->paths.v[i].host);
		if (s >= 0)
			c.srv[s].has_data = true;
	}

	for (size_t s = 0; s < c.nsrv; s++) {
		detect_web(&c, s);
		detect_db(&c, s);
		detect_exfil(&c, s);
		detect_tamper(&c, s);
		detect_auth(&c, s);
		window_end(&c, s);
		detect_foreign(&c, s, false);
		verdict(&c, s);
	}
	for (size_t s = 0; s < c.nsrv; s++)
		server_timeline(&c, s);
	build_exposure(&c, r);
	spam_onset(&c, r);

	/* server rows, sorted by name */
	r->servers = bs_xcalloc(c.nsrv ? c.nsrv : 1, sizeof *r->servers);
	r->nservers = c.nsrv;
	for (size_t s = 0; s < c.nsrv; s++) {
		struct srv *v = &c.srv[s];
		struct bs_server_result *o = &r->servers[s];
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
				o->exfil_times[o->nexfil++] = a->cand.v[v->exfil_cands.v[j]].ts;
		server_hist(&c, s, o);
		BS_VEC_FREE(v->shell_paths);
		BS_VEC_FREE(v->tamper_refhosts);
		BS_VEC_FREE(v->attack_queries);
		BS_VEC_FREE(v->exfil_keys);
		BS_VEC_FREE(v->exfil_cands);
	}
	/* evidence: the timeline rows behind each verdict: for a compromised or
	 * suspicious server every attack and compromise row about it, for a
	 * clean one the rows of the signals that fired (not enough to judge) */
	for (size_t i = 0; i < c.tl.n; i++)
		for (size_t s = 0; s < c.nsrv; s++) {
			const struct bs_server_result *o = &r->servers[s];
			const struct bs_timeline_row *row = &c.tl.v[i];
			if (strcmp(row->server, o->name) != 0 || row->severity == BS_SEV_EXPOSURE)
				continue;
			bool behind = o->verdict == BS_V_COMPROMISED || o->verdict == BS_V_SUSPICIOUS;
			for (int g = 0; g < BS_SIG_COUNT && !behind; g++)
				if ((o->signals & (1u << g)) && strcmp(row->event, bs_signal_name((enum bs_signal)g)) == 0)
					behind = true;
			if (behind)
				r->servers[s].evidence++;
		}
	for (size_t i = 1; i < c.nsrv; i++) {
		struct bs_server_result t = r->servers[i];
		size_t j = i;
		while (j > 0 && strcmp(r->servers[j - 1].name, t.name) > 0) {
			r->servers[j] = r->servers[j - 1];
			j--;
		}
		r->servers[j] = t;
	}
	bs_qsort(c.tl.v, c.tl.n, sizeof *c.tl.v, cmp_tl);
	r->timeline = c.tl.v;
	r->ntimeline = c.tl.n;

	char buf[1024];
	size_t off = (size_t)snprintf(buf, sizeof buf, "%s", c.origin_text ? c.origin_text : "");
	if (c.local_inferred) {
		off += (size_t)snprintf(buf + off, sizeof buf - off, "; local domains inferred from logins:");
		for (size_t k = 0; k < c.nlocal && off < sizeof buf; k++)
			off += (size_t)snprintf(buf + off, sizeof buf - off, " %s", c.local[k]);
		for (size_t k = 0; k < c.nlocal; k++)
			free(c.local[k]);
		free(c.local);
	}
	if (off >= sizeof buf)
		off = sizeof buf - 1;
	r->fleet_origin = bs_xstrndup(buf, off);
	free(c.origin_text);
	free(sorted.cand.v);
	free(c.srv);
	free(c.infra);
	bs_u64map_free(&c.host_srv);
	bs_u64map_free(&c.cand_ix);
	return r;
}
