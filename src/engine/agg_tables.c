/* agg_tables.c - the aggregate's tables (listed once, in BS_AGG_TABLES of
 * agg.h): how each table's records are keyed, matched, folded and which
 * ids they hold; and, generated from the list, upsert, merge, the checks
 * of tables loaded from a state file, and free. */
#include "config.h"
#include "src/engine/agg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void minmax(bs_time *first, bs_time *last, bs_time t)
{
	if (t == BS_TIME_NONE)
		return;
	if (*first == BS_TIME_NONE || t < *first)
		*first = t;
	if (*last == BS_TIME_NONE || t > *last)
		*last = t;
}

/* The earliest first time wins, ties broken by the record's origin, so the
 * origin kept does not depend on the order of folding. */
#define FOLD_FIRST_WITH_ORIGIN(r, p) do { \
	if ((p)->first != BS_TIME_NONE && ((r)->first == BS_TIME_NONE || (p)->first < (r)->first || \
	    ((p)->first == (r)->first && ((p)->input < (r)->input || \
	                                  ((p)->input == (r)->input && (p)->ref < (r)->ref))))) { \
		(r)->first = (p)->first; (r)->input = (p)->input; (r)->ref = (p)->ref; } \
	if ((p)->last != BS_TIME_NONE && ((r)->last == BS_TIME_NONE || (p)->last > (r)->last)) \
		(r)->last = (p)->last; } while (0)

/* Records of equal time are chosen between by their strings' text, never by
 * their ids: ids follow the order in which a worker met the strings, so they
 * depend on how the inputs were shared out (-j, shards). Every NAME_fold gets
 * the string table for that reason. */
static int str_cmp(const struct bs_strtab *st, uint32_t x, uint32_t y)
{
	if (x == y)
		return 0;
	size_t nx = bs_strtab_len(st, x), ny = bs_strtab_len(st, y);
	int c = memcmp(bs_strtab_get(st, x), bs_strtab_get(st, y), nx < ny ? nx : ny);
	return c ? c : (nx > ny) - (nx < ny);
}

/* ------------------------------------------------- what a record holds */

/* The ids of a record: string ids, join key ids, its input index, and the
 * bool bytes a state file could hold badly. */
struct recrefs {
	uint32_t *str[4];
	size_t nstr;
	uint32_t *key[1];
	size_t nkey;
	uint32_t *input;
	const bool *flag;
};
#define REF_STR(o, f) ((o)->str[(o)->nstr++] = &(f))

/* ------------------------------------------------ the tables, one by one:
 * NAME_key (identity hash), NAME_match (same identity), NAME_fold (merge
 * p into r of the same identity), NAME_refs */

static uint64_t keys_key(const struct bs_joinkey *k)
{
	uint64_t ends = bs_key3(bs_ip_hash(&k->src), bs_ip_hash(&k->dst), ((uint64_t)k->sport << 16) | k->dport);
	return bs_key3(((uint64_t)k->kind << 32) | k->input, k->id, ends);
}
static bool keys_match(const struct bs_joinkey *r, const struct bs_joinkey *p)
{
	return r->kind == p->kind && r->input == p->input && r->id == p->id && r->sport == p->sport &&
	       r->dport == p->dport && bs_ip_eq(&r->src, &p->src) && bs_ip_eq(&r->dst, &p->dst);
}
static void keys_fold(const struct bs_strtab *st, struct bs_joinkey *r, const struct bs_joinkey *p) { (void)st; (void)r; (void)p; }
static void keys_refs(struct bs_joinkey *r, struct recrefs *o)
{
	if (r->kind != BS_JOIN_NONE)
		o->input = &r->input;
}

static uint64_t ev_key(const struct bs_evidence *p)
{
	return bs_key3(p->addr, ((uint64_t)p->kind << 32) | p->host, p->peer);
}
static bool ev_match(const struct bs_evidence *r, const struct bs_evidence *p)
{
	return r->addr == p->addr && r->host == p->host && r->peer == p->peer && r->kind == p->kind;
}
static void ev_fold(const struct bs_strtab *st, struct bs_evidence *r, const struct bs_evidence *p)
{
	(void)st;
	r->count += p->count;
	FOLD_FIRST_WITH_ORIGIN(r, p);
}
static void ev_refs(struct bs_evidence *r, struct recrefs *o)
{
	REF_STR(o, r->addr);
	REF_STR(o, r->host);
	if (r->kind == EK_RECV_PAIR)
		REF_STR(o, r->peer);
	else if (r->kind == EK_DB_UNFILTERED || r->kind == EK_HTTP_SUSPECT || r->kind == EK_PAYLOAD ||
	         r->kind == EK_DB_ROW_SENT || r->kind == EK_DB_ROW_RECEIVED)
		o->key[o->nkey++] = &r->peer;
	o->input = &r->input;
}

static void cand_refs(struct bs_cand *r, struct recrefs *o)
{
	REF_STR(o, r->host);
	REF_STR(o, r->s_main);
	REF_STR(o, r->s_user);
	REF_STR(o, r->s_extra);
	o->key[o->nkey++] = &r->key;
	o->input = &r->input;
}

static uint64_t paths_key(const struct bs_pathrec *p) { return bs_key2(p->path, p->host); }
static bool paths_match(const struct bs_pathrec *r, const struct bs_pathrec *p)
{
	return r->path == p->path && r->host == p->host;
}
static void paths_fold(const struct bs_strtab *st, struct bs_pathrec *r, const struct bs_pathrec *p)
{
	(void)st;
	r->count += p->count;
	r->html += p->html;
	minmax(&r->first, &r->last, p->first);
	minmax(&r->first, &r->last, p->last);
}
static void paths_refs(struct bs_pathrec *r, struct recrefs *o) { REF_STR(o, r->path); REF_STR(o, r->host); }

static uint64_t refs_key(const struct bs_refrec *p) { return bs_key3(p->path, p->host, p->refhost); }
static bool refs_match(const struct bs_refrec *r, const struct bs_refrec *p)
{
	return r->path == p->path && r->host == p->host && r->refhost == p->refhost;
}
void bs_refrec_add_client(uint32_t clients[BS_REF_CLIENTS], uint32_t h)
{
	h = h ? h : 1;
	size_t i = 0;
	while (i < BS_REF_CLIENTS && clients[i] && clients[i] < h)
		i++;
	if (i == BS_REF_CLIENTS || clients[i] == h)
		return;
	memmove(clients + i + 1, clients + i, (BS_REF_CLIENTS - 1 - i) * sizeof *clients);
	clients[i] = h;
}

static void refs_fold(const struct bs_strtab *st, struct bs_refrec *r, const struct bs_refrec *p)
{
	(void)st;
	r->count += p->count;
	r->weak_only &= p->weak_only;
	for (size_t i = 0; i < BS_REF_CLIENTS && p->clients[i]; i++)
		bs_refrec_add_client(r->clients, p->clients[i]);
	bs_time first = r->first;
	uint32_t input = r->input;
	uint64_t ref = r->ref;
	FOLD_FIRST_WITH_ORIGIN(r, p);
	/* the tag goes with the first reference: p's when p is earlier, or
	 * when r had none */
	if (r->first != first || r->input != input || r->ref != ref || !r->tag)
		r->tag = p->tag;
}
static void refs_refs(struct bs_refrec *r, struct recrefs *o)
{
	REF_STR(o, r->path);
	REF_STR(o, r->host);
	REF_STR(o, r->refhost);
	REF_STR(o, r->tag);
	o->input = &r->input;
}

static uint64_t clients_key(const struct bs_clientrec *p) { return bs_key2(bs_ip_hash(&p->ip), p->host); }
static bool clients_match(const struct bs_clientrec *r, const struct bs_clientrec *p)
{
	return r->host == p->host && bs_ip_eq(&r->ip, &p->ip);
}
static void clients_fold(const struct bs_strtab *st, struct bs_clientrec *r, const struct bs_clientrec *p)
{
	(void)st;
	r->count += p->count;
	r->errors += p->errors;
	minmax(&r->first, &r->last, p->first);
	minmax(&r->first, &r->last, p->last);
}
static void clients_refs(struct bs_clientrec *r, struct recrefs *o) { REF_STR(o, r->host); }

static uint64_t scripts_key(const struct bs_scriptrec *p)
{
	return bs_key3(bs_ip_hash(&p->ip), p->path, p->host);
}
static bool scripts_match(const struct bs_scriptrec *r, const struct bs_scriptrec *p)
{
	return r->path == p->path && r->host == p->host && bs_ip_eq(&r->ip, &p->ip);
}
static void scripts_fold(const struct bs_strtab *st, struct bs_scriptrec *r, const struct bs_scriptrec *p)
{
	(void)st;
	r->count += p->count;
	minmax(&r->first, &r->last, p->first);
	minmax(&r->first, &r->last, p->last);
}
static void scripts_refs(struct bs_scriptrec *r, struct recrefs *o) { REF_STR(o, r->path); REF_STR(o, r->host); }

static uint64_t sess_key(const struct bs_sessrec *p) { return bs_mix64(p->pair); }
static bool sess_match(const struct bs_sessrec *r, const struct bs_sessrec *p) { return r->pair == p->pair; }
/* A cookie value reused for another login: the earliest login owns it
 * (deterministic whatever the order). */
static void sess_fold(const struct bs_strtab *st, struct bs_sessrec *r, const struct bs_sessrec *p)
{
	int tie = 0;
	if (p->ts == r->ts) {
		tie = str_cmp(st, p->user, r->user);
		if (tie == 0)
			tie = str_cmp(st, p->host, r->host);
	}
	if (p->ts < r->ts || tie < 0)
		*r = *p;
}
static void sess_refs(struct bs_sessrec *r, struct recrefs *o)
{
	REF_STR(o, r->pair);
	REF_STR(o, r->user);
	REF_STR(o, r->host);
}

static uint64_t sref_key(const struct bs_sessref *p) { return bs_key3(p->pair, p->host, p->refhost); }
static bool sref_match(const struct bs_sessref *r, const struct bs_sessref *p)
{
	return r->pair == p->pair && r->host == p->host && r->refhost == p->refhost;
}
static void sref_fold(const struct bs_strtab *st, struct bs_sessref *r, const struct bs_sessref *p)
{
	if (p->first != BS_TIME_NONE && (r->first == BS_TIME_NONE || p->first < r->first ||
	    (p->first == r->first && (bs_ip_cmp(&p->client, &r->client) < 0 ||
	                              (bs_ip_eq(&p->client, &r->client) && str_cmp(st, p->ua, r->ua) < 0))))) {
		r->first = p->first;
		r->client = p->client;
		r->ua = p->ua;
	}
	if (p->last != BS_TIME_NONE && (r->last == BS_TIME_NONE || p->last > r->last))
		r->last = p->last;
}
static void sref_refs(struct bs_sessref *r, struct recrefs *o)
{
	REF_STR(o, r->pair);
	REF_STR(o, r->host);
	REF_STR(o, r->refhost);
	REF_STR(o, r->ua);
}

static uint64_t hours_key(const struct bs_hourrec *p) { return bs_key2(p->host, (uint64_t)p->hour); }
static bool hours_match(const struct bs_hourrec *r, const struct bs_hourrec *p)
{
	return r->host == p->host && r->hour == p->hour;
}
static void hours_fold(const struct bs_strtab *st, struct bs_hourrec *r, const struct bs_hourrec *p)
{
	(void)st;
	r->events += p->events;
	r->attack += p->attack;
	r->logins += p->logins;
	r->failures += p->failures;
	if (p->login_first != BS_TIME_NONE && (r->login_first == BS_TIME_NONE || p->login_first < r->login_first))
		r->login_first = p->login_first;
	if (p->login_last != BS_TIME_NONE && (r->login_last == BS_TIME_NONE || p->login_last > r->login_last))
		r->login_last = p->login_last;
}
static void hours_refs(struct bs_hourrec *r, struct recrefs *o) { REF_STR(o, r->host); }

static uint64_t fails_key(const struct bs_failrec *p)
{
	return bs_key3(p->host, (uint64_t)p->hour, bs_ip_hash(&p->src));
}
static bool fails_match(const struct bs_failrec *r, const struct bs_failrec *p)
{
	return r->host == p->host && r->hour == p->hour && bs_ip_eq(&r->src, &p->src);
}
static void fails_fold(const struct bs_strtab *st, struct bs_failrec *r, const struct bs_failrec *p)
{
	(void)st;
	r->count += p->count;
	minmax(&r->first, &r->last, p->first);
	minmax(&r->first, &r->last, p->last);
}
static void fails_refs(struct bs_failrec *r, struct recrefs *o) { REF_STR(o, r->host); }

static uint64_t dests_key(const struct bs_destrec *p) { return bs_key3(p->host, p->dest, p->is_name); }
static bool dests_match(const struct bs_destrec *r, const struct bs_destrec *p)
{
	return r->host == p->host && r->dest == p->dest && r->is_name == p->is_name;
}
static void dests_fold(const struct bs_strtab *st, struct bs_destrec *r, const struct bs_destrec *p)
{
	(void)st;
	r->count += p->count;
	r->bytes += p->bytes;
	minmax(&r->first, &r->last, p->first);
	minmax(&r->first, &r->last, p->last);
}
static void dests_refs(struct bs_destrec *r, struct recrefs *o)
{
	REF_STR(o, r->host);
	REF_STR(o, r->dest);
	o->flag = &r->is_name;
}

/* bs_agg_host keys hosts the same way */
static uint64_t hosts_key(const struct bs_hostrec *p) { return bs_mix64(p->host); }
static bool hosts_match(const struct bs_hostrec *r, const struct bs_hostrec *p) { return r->host == p->host; }
static void hosts_fold(const struct bs_strtab *st, struct bs_hostrec *r, const struct bs_hostrec *p)
{
	(void)st;
	for (int b = 0; b < 64; b++) {
		r->out_hist[b] += p->out_hist[b];
		r->mail_hist[b] += p->mail_hist[b];
	}
	r->events += p->events;
	minmax(&r->first, &r->last, p->first);
	minmax(&r->first, &r->last, p->last);
}
static void hosts_refs(struct bs_hostrec *r, struct recrefs *o) { REF_STR(o, r->host); }

static uint64_t shapes_key(const struct bs_shaperec *p) { return bs_key2(p->shape, p->host); }
static bool shapes_match(const struct bs_shaperec *r, const struct bs_shaperec *p)
{
	return r->shape == p->shape && r->host == p->host;
}
static void shapes_fold(const struct bs_strtab *st, struct bs_shaperec *r, const struct bs_shaperec *p) { (void)st; r->count += p->count; }
static void shapes_refs(struct bs_shaperec *r, struct recrefs *o) { REF_STR(o, r->host); }

static uint64_t aliases_key(const struct bs_aliasrec *p) { return bs_key2(p->name, p->ip); }
static bool aliases_match(const struct bs_aliasrec *r, const struct bs_aliasrec *p)
{
	return r->name == p->name && r->ip == p->ip;
}
static void aliases_fold(const struct bs_strtab *st, struct bs_aliasrec *r, const struct bs_aliasrec *p)
{
	(void)st;
	if (p->source < r->source)
		r->source = p->source;
}
static void aliases_refs(struct bs_aliasrec *r, struct recrefs *o) { REF_STR(o, r->name); REF_STR(o, r->ip); }

/* ------------------------------------------------------ find and upsert */

/* The map key is a hash of the record's identity; a hash collision is
 * resolved by probing with a salted key, so lookups are exact. */
static uint64_t next_probe(uint64_t key) { return bs_mix64(key + 0x51ed270b27ULL); }

typedef bool (*match_fn)(const void *rec, const void *probe);

static uint32_t find_or_add(struct bs_u64map *m, uint64_t key, const void *tab, size_t recsize,
                            size_t n, match_fn match, const void *probe, bool *created)
{
	for (;; key = next_probe(key)) {
		bool found;
		uint32_t *slot = bs_u64map_upsert(m, key, &found);
		if (!found) {
			*slot = (uint32_t)n + 1;
			*created = true;
			return (uint32_t)n;
		}
		uint32_t ix = *slot - 1;
		if (match((const char *)tab + (size_t)ix * recsize, probe)) {
			*created = false;
			return ix;
		}
	}
}

static bool find_existing(const struct bs_u64map *m, uint64_t key, const void *tab, size_t recsize,
                          match_fn match, const void *probe, uint32_t *ix)
{
	uint32_t v;
	for (; bs_u64map_get(m, key, &v); key = next_probe(key))
		if (match((const char *)tab + (size_t)v * recsize, probe)) {
			*ix = v;
			return true;
		}
	return false;
}

/* bs_agg_add_NAME of every keyed table: add p, or fold it into the record
 * of its identity; the record's index. */
#define UPSERT_KEYED(name, type) \
	uint32_t bs_agg_add_##name(struct bs_agg *a, const type *p) \
	{ \
		bool created; \
		uint32_t ix = find_or_add(&a->name##_ix, name##_key(p), a->name.v, sizeof *a->name.v, a->name.n, \
		                          (match_fn)name##_match, p, &created); \
		if (created) \
			*BS_VEC_PUSH(a->name) = *p; \
		else \
			name##_fold(&a->str, &a->name.v[ix], p); \
		return ix; \
	}
#define UPSERT_INTERNED(name, type) UPSERT_KEYED(name, type)
#define UPSERT_LISTED(name, type)
#define UPSERT(name, type, kind) UPSERT_##kind(name, type)
BS_AGG_TABLES(UPSERT)

static bool host_is(const void *rec, const void *host)
{
	return ((const struct bs_hostrec *)rec)->host == *(const uint32_t *)host;
}

struct bs_hostrec *bs_agg_host(struct bs_agg *a, uint32_t host)
{
	uint32_t *look = &a->host_look[host & 63];
	if (*look && *look <= a->hosts.n && a->hosts.v[*look - 1].host == host)
		return &a->hosts.v[*look - 1];
	bool created;
	uint32_t ix = find_or_add(&a->hosts_ix, bs_mix64(host), a->hosts.v, sizeof *a->hosts.v, a->hosts.n, host_is,
	                          &host, &created);
	if (created) {
		struct bs_hostrec *r = BS_VEC_PUSH(a->hosts);
		memset(r, 0, sizeof *r);
		r->host = host;
		r->first = r->last = BS_TIME_NONE;
	}
	*look = ix + 1;
	return &a->hosts.v[ix];
}

#define COUNT_VIA_LOOK(name, type) \
	void bs_agg_count_##name(struct bs_agg *a, const type *p, uint32_t slot) \
	{ \
		uint32_t *look = &a->name##_look[slot & 63]; \
		if (*look && *look <= a->name.n && name##_match(&a->name.v[*look - 1], p)) { \
			name##_fold(&a->str, &a->name.v[*look - 1], p); \
			return; \
		} \
		*look = bs_agg_add_##name(a, p) + 1; \
	}
COUNT_VIA_LOOK(hours, struct bs_hourrec)
COUNT_VIA_LOOK(clients, struct bs_clientrec)
COUNT_VIA_LOOK(scripts, struct bs_scriptrec)
COUNT_VIA_LOOK(paths, struct bs_pathrec)

const struct bs_sessrec *bs_agg_find_sess(const struct bs_agg *a, uint32_t pair)
{
	struct bs_sessrec probe = { .pair = pair };
	uint32_t ix;
	return find_existing(&a->sess_ix, sess_key(&probe), a->sess.v, sizeof *a->sess.v, (match_fn)sess_match,
	                     &probe, &ix) ? &a->sess.v[ix] : NULL;
}

/* ---------------------------------------------------------------- merge */

/* Old id -> id in the destination, for the strings and the join keys of
 * the source. */
struct idmaps {
	uint32_t *str;
	uint32_t *key;
};

static void remap_refs(struct recrefs *o, const struct idmaps *mp)
{
	for (size_t i = 0; i < o->nstr; i++)
		*o->str[i] = mp->str[*o->str[i]];
	for (size_t i = 0; i < o->nkey; i++)
		*o->key[i] = mp->key[*o->key[i]];
}

/* Keyed tables fold record by record; the interned keys also note where each
 * source key went; the candidates are appended up to the cap. */
#define MERGE_KEYED(name, type) \
	for (size_t i = 0; i < s->name.n; i++) { \
		type r = s->name.v[i]; \
		struct recrefs o = { .nstr = 0 }; \
		name##_refs(&r, &o); \
		remap_refs(&o, &mp); \
		bs_agg_add_##name(d, &r); \
	}
#define MERGE_INTERNED(name, type) \
	for (size_t i = 0; i < s->name.n; i++) \
		mp.key[i] = bs_agg_add_##name(d, &s->name.v[i]);
#define MERGE_LISTED(name, type) \
	for (size_t i = 0; i < s->name.n; i++) { \
		if (d->name.n >= BS_CAND_MAX) { \
			d->cand_dropped += s->name.n - i; \
			break; \
		} \
		type r = s->name.v[i]; \
		struct recrefs o = { .nstr = 0 }; \
		name##_refs(&r, &o); \
		remap_refs(&o, &mp); \
		*BS_VEC_PUSH(d->name) = r; \
	}
#define MERGE(name, type, kind) MERGE_##kind(name, type)

void bs_agg_merge(struct bs_agg *d, const struct bs_agg *s)
{
	/* id maps for every string and key of s, built once */
	struct idmaps mp = { .str = bs_xmalloc((s->str.n ? s->str.n : 1) * sizeof *mp.str),
	                     .key = bs_xmalloc((s->keys.n ? s->keys.n : 1) * sizeof *mp.key) };
	for (size_t i = 0; i < s->str.n; i++)
		mp.str[i] = bs_strtab_intern(&d->str, bs_strtab_get(&s->str, (uint32_t)i),
		                             bs_strtab_len(&s->str, (uint32_t)i));
	BS_AGG_TABLES(MERGE)
	d->cand_dropped += s->cand_dropped;
	d->events += s->events;
	minmax(&d->first_ts, &d->last_ts, s->first_ts);
	minmax(&d->first_ts, &d->last_ts, s->last_ts);
	free(mp.str);
	free(mp.key);
}

/* ------------------------------------------------- tables of a state file */

static bool refs_ok(struct recrefs *o, const struct bs_agg *a, const uint32_t *remap, size_t ninputs)
{
	for (size_t i = 0; i < o->nstr; i++)
		if (*o->str[i] >= a->str.n)
			return false;
	for (size_t i = 0; i < o->nkey; i++)
		if (*o->key[i] >= a->keys.n)
			return false;
	if (o->flag && !bs_bool_byte_ok(o->flag))
		return false;
	if (o->input) {
		if (*o->input >= ninputs)
			return false;
		*o->input = remap[*o->input];
	}
	return true;
}

#define CHECK(name, type, kind) \
	for (size_t i = 0; i < a->name.n; i++) { \
		struct recrefs o = { .nstr = 0 }; \
		name##_refs(&a->name.v[i], &o); \
		if (!refs_ok(&o, a, remap, ninputs)) \
			return false; \
	}

bool bs_agg_check_loaded(struct bs_agg *a, const uint32_t *remap, size_t ninputs)
{
	/* key 0 is "no key", as in every aggregate */
	if (!a->keys.n || a->keys.v[0].kind != BS_JOIN_NONE)
		return false;
	for (size_t i = 1; i < a->keys.n; i++)
		if (a->keys.v[i].kind == BS_JOIN_NONE || a->keys.v[i].kind >= BS_JOIN_KINDS)
			return false;
	BS_AGG_TABLES(CHECK)
	return true;
}

/* ----------------------------------------------------------- lifecycle */

/* The key every aggregate holds at id 0: no key. */
static void add_no_key(struct bs_agg *a)
{
	struct bs_joinkey none;
	memset(&none, 0, sizeof none);
	bs_agg_add_keys(a, &none);
}

struct bs_agg *bs_agg_new(void)
{
	struct bs_agg *a = bs_xcalloc(1, sizeof *a);
	bs_strtab_init(&a->str);
	add_no_key(a);
	a->first_ts = a->last_ts = BS_TIME_NONE;
	return a;
}

#define FREE_KEYED(name) BS_VEC_FREE(a->name); bs_u64map_free(&a->name##_ix);
#define FREE_INTERNED(name) FREE_KEYED(name)
#define FREE_LISTED(name) BS_VEC_FREE(a->name);
#define FREE(name, type, kind) FREE_##kind(name)

void bs_agg_free(struct bs_agg *a)
{
	if (!a)
		return;
	bs_strtab_free(&a->str);
	BS_AGG_TABLES(FREE)
	bs_u64map_free(&a->open_query);
	bs_u64map_free(&a->open_txn);
	free(a);
}

/* ---------------------------------------------------------- join keys */

/* The text a key had in state format 1 (and still the order of ties). */
static int key_text(const struct bs_joinkey *k, char *buf, size_t size)
{
	char s[BS_IP_STRLEN], d[BS_IP_STRLEN];
	switch (k->kind) {
	case BS_JOIN_TXN:
	case BS_JOIN_QUERY:
		return snprintf(buf, size, "\001%c:%llu:%llu", k->kind == BS_JOIN_TXN ? 'T' : 'Q',
		                (unsigned long long)k->input, (unsigned long long)k->id);
	case BS_JOIN_FLOW:
		bs_ip_format(&k->src, s, sizeof s);
		bs_ip_format(&k->dst, d, sizeof d);
		return snprintf(buf, size, "\001F:%u:%s:%u:%s:%u", k->input, s, k->sport, d, k->dport);
	default:
		buf[0] = 0;
		return 0;
	}
}

int bs_agg_key_cmp(const struct bs_agg *a, uint32_t k1, uint32_t k2)
{
	if (k1 == k2)
		return 0;
	char t1[160], t2[160];
	key_text(&a->keys.v[k1], t1, sizeof t1);
	key_text(&a->keys.v[k2], t2, sizeof t2);
	return strcmp(t1, t2);
}
