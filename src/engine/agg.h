/* agg.h - the inside of struct bs_agg, shared by agg.c (ingest, merge),
 * state.c (save/load) and the correlation stages (correlate.h). Not an
 * interface for other modules.
 *
 * Every table is keyed by interned strings (hosts, addresses, paths...) or
 * join keys and holds only commutative aggregates (min/max/sum/or), so that
 * merging the aggregates of any split of the inputs gives the same tables. */
#ifndef BS_AGG_H
#define BS_AGG_H

#include "src/engine/engine.h"
#include "src/core/tables.h"

#include <string.h>

/* Evidence kinds recorded on an address. */
enum bs_ek {
	EK_LOGIN = 1,      /* host: the fleet side of the login; peer: day number */
	EK_ADDRBOOK,       /* host: client of the address-book query */
	EK_SENT_TO,        /* host: submitting client; authenticated webmail submission */
	EK_RECV_PAIR,      /* on the sender; peer: the recipient's address id */
	EK_DB_UNFILTERED,  /* in the result of an unfiltered SELECT; peer: query key id */
	EK_HTTP_SUSPECT,   /* in the response to a suspect request; peer: txn key id */
	EK_PAYLOAD,        /* in a stream payload; peer: flow key id */
	EK_SPAM,           /* spam received; peer: day number */
	EK_DB_ROW_SENT,    /* as EK_DB_UNFILTERED, in a row whose direction is "sent" */
	EK_DB_ROW_RECEIVED,/* as EK_DB_UNFILTERED, in a row whose direction is "received" */
	EK_LOGIN_BARE,     /* as EK_LOGIN, by a user name without a domain (addr: the name,
	                    * lower-cased): bs_agg_complete_logins makes it an EK_LOGIN of
	                    * NAME@DOMAIN; the engine reads no other use of it */
	EK_COUNT
};

struct bs_evidence {
	uint32_t addr, host, peer;
	uint8_t kind;
	uint32_t count;
	bs_time first, last;
	uint32_t input;         /* origin of the first record (min by time, then input/ref) */
	uint64_t ref;
};

/* Candidate notable events: the few events that detectors look at one by one. */
enum bs_ck {
	CK_HTTP = 1,       /* a suspect HTTP request (exploit, command, upload, command output) */
	CK_DBQUERY,        /* an unfiltered read query */
	CK_FLOW_OUT,       /* a flow to an outside address carrying data out */
	CK_FILEXFER,       /* a file transfer (upload) */
	CK_MAIL_OUT,       /* a locally submitted or unauthenticated message to outside */
	CK_DNS,            /* a DNS lookup (by any host; fleet ones kept at the end) */
	CK_SHELL_REMOVED,  /* an administrator removed a script from a web root (sudo rm) */
};
enum {
	CF_SUCCESS = 1 << 0,    /* 2xx / OK */
	CF_CMDLIKE = 1 << 1,
	CF_CMD_OUTPUT = 1 << 2,
	CF_SCRIPT = 1 << 3,     /* the path is a script */
	CF_ADDRBOOK = 1 << 4,   /* query on an address-book table */
	CF_LOCAL_UID = 1 << 5,  /* mail submitted locally (pickup) */
	CF_FROM_LOG = 1 << 6,   /* from an access log or maillog (not capture) */
	CF_CUT = 1 << 7,        /* a query whose result rows were not all seen (gap, end) */
	CF_SHELL_DIR = 1 << 8,  /* an ASP.NET script where no application keeps one (bs_detect_shell_dir) */
};
struct bs_cand {
	uint8_t kind;
	uint8_t pad;
	uint16_t flags;
	uint16_t status;
	uint16_t dport;
	uint32_t exploit;       /* bs_exploit_kind bits */
	bs_time ts, ts_end;     /* ts_end: end of a flow or transfer (else == ts) */
	bs_ip src, dst;
	uint32_t host;          /* host id of the server side (HTTP, DB client for queries...) */
	uint32_t s_main;        /* uri / sql / filename / qname */
	uint32_t s_user;        /* user / sender */
	uint32_t s_extra;       /* user agent / recipients / db user */
	uint32_t key;           /* txn / query / flow key id */
	uint64_t num1, num2;    /* bytes / rows, second number */
	uint64_t shape;         /* SQL shape */
	uint32_t input;
	uint64_t ref;
};

/* (path, host) served with 2xx; html = served as HTML. */
struct bs_pathrec { uint32_t path, host; uint64_t count, html; bs_time first, last; };
/* (path, ref host, host): an HTML page referencing an outside host. */
#define BS_REF_CLIENTS 4
/* Adds client hash h (0 is taken as 1) to a set of the smallest distinct
 * hashes seen: the same set whatever the order (merges commute). */
void bs_refrec_add_client(uint32_t clients[BS_REF_CLIENTS], uint32_t h);
struct bs_refrec { uint32_t path, refhost, host;
                   uint32_t tag; /* the tag that carried the first reference ("" if none) */
                   uint64_t count; bs_time first, last;
                   uint32_t input;
                   uint8_t weak_only; /* 1: only ever weak (a link, a script variable's URL) */
                   uint8_t pad_[3];
                   uint64_t ref;
                   /* The distinct clients served it, by the up to
                    * BS_REF_CLIENTS smallest hashes of their addresses (0:
                    * none): a weak reference counts as tampering only when many
                    * visitors got it, not one reader of one message. */
                   uint32_t clients[BS_REF_CLIENTS]; };
/* (client ip, host): all HTTP of a client against a server. */
struct bs_clientrec { bs_ip ip; uint32_t host; uint64_t count, errors; bs_time first, last; };
/* (client ip, path, host): successful (2xx) requests of a client to a
 * script path, whatever the request looked like. A shell driven by a
 * header, a cookie or the raw body is only `POST /x.php 200` in an access
 * log: the window's end needs these once the attacker is known. Bounded by
 * distinct keys, not by requests. */
struct bs_scriptrec { bs_ip ip; uint32_t path, host; uint64_t count; bs_time first, last; };
/* A login session cookie pair and who it belongs to. */
struct bs_sessrec { uint32_t pair; uint32_t user; uint32_t host; bs_time ts; };
/* A page with an outside reference served with a cookie pair. */
struct bs_sessref { uint32_t pair, host, refhost; bs_time first, last; bs_ip client; uint32_t ua; };
/* (host, hour): activity for the report and burst detection. */
struct bs_hourrec { uint32_t host; int64_t hour; uint64_t events, attack, logins, failures;
                    bs_time login_first, login_last; /* BS_TIME_NONE without logins */ };
/* (host, src ip, hour): failed logins. */
struct bs_failrec { uint32_t host; bs_ip src; int64_t hour; uint64_t count; bs_time first, last; };
/* (host, destination): outside destinations contacted by a host; dest is an
 * ip string or a DNS name. */
struct bs_destrec { uint32_t host, dest; bool is_name; bs_time first, last; uint64_t count, bytes; };
/* (host): log2 histogram of outbound bytes of flows to outside, and of local mail sizes. */
struct bs_hostrec { uint32_t host; uint64_t out_hist[64]; uint64_t mail_hist[64]; uint64_t events;
                    bs_time first, last; };
/* SQL shapes: which client hosts issue them. */
struct bs_shaperec { uint64_t shape; uint32_t host; uint64_t count; };
/* Host aliases learnt from the data: name <-> ip (Postfix client=name[ip],
 * or a DNS answer). A pair seen both ways keeps the mail log's: only those
 * name a fleet's hosts; a DNS answer is evidence of serving alone. */
enum bs_alias_source { BS_ALIAS_MAILLOG = 0, BS_ALIAS_DNS = 1 };
struct bs_aliasrec { uint32_t name, ip, source; };

/* A join key: the HTTP transaction, database query or flow that evidence
 * records and candidates came from, typed (no string to parse). Interned
 * in the aggregate's keys table; id 0 is "no key". */
enum bs_join_kind { BS_JOIN_NONE = 0, BS_JOIN_TXN, BS_JOIN_QUERY, BS_JOIN_FLOW, BS_JOIN_KINDS };
struct bs_joinkey {
	uint64_t id;            /* transaction or query id (0 for a flow) */
	uint32_t input;         /* the input that names it (a capture flow's first file) */
	uint16_t sport, dport;  /* flow only */
	bs_ip src, dst;         /* flow only */
	uint8_t kind;           /* enum bs_join_kind */
	uint8_t pad[5];         /* zero: records are written to state files as bytes */
};

/* The aggregate's tables, one line each: name, record type, key kind:
 *   KEYED     a record per identity (a hash of its key fields); merging
 *             folds the records of one identity (min/max/sum)
 *   LISTED    appended, never folded (the candidates, capped at BS_CAND_MAX)
 *   INTERNED  a record per identity that other tables name by index (the
 *             join keys); first, so that merging renumbers it first
 * Per table agg.c defines how a record is keyed, matched, folded and which
 * string ids, key ids and input index it holds (NAME_key, NAME_match,
 * NAME_fold, NAME_refs); the fields of struct bs_agg, upsert, merge, remap,
 * validation of loaded tables, free, and the state file's tables are
 * generated from this list. */
#define BS_AGG_TABLES(X) \
	X(keys, struct bs_joinkey, INTERNED) \
	X(ev, struct bs_evidence, KEYED) \
	X(cand, struct bs_cand, LISTED) \
	X(paths, struct bs_pathrec, KEYED) \
	X(refs, struct bs_refrec, KEYED) \
	X(clients, struct bs_clientrec, KEYED) \
	X(scripts, struct bs_scriptrec, KEYED) \
	X(sess, struct bs_sessrec, KEYED) \
	X(sref, struct bs_sessref, KEYED) \
	X(hours, struct bs_hourrec, KEYED) \
	X(fails, struct bs_failrec, KEYED) \
	X(dests, struct bs_destrec, KEYED) \
	X(hosts, struct bs_hostrec, KEYED) \
	X(shapes, struct bs_shaperec, KEYED) \
	X(aliases, struct bs_aliasrec, KEYED)

/* A table's fields in struct bs_agg: its records and, unless LISTED, the
 * index from identity hash to record. */
#define BS_AGG_FIELDS_KEYED(name, type) BS_VEC(type) name; struct bs_u64map name##_ix;
#define BS_AGG_FIELDS_INTERNED(name, type) BS_AGG_FIELDS_KEYED(name, type)
#define BS_AGG_FIELDS_LISTED(name, type) BS_VEC(type) name;
#define BS_AGG_FIELDS(name, type, kind) BS_AGG_FIELDS_##kind(name, type)

/* A lookaside entry of addr_id: a raw address (up to BS_AGG_ADDR_RAW
 * bytes) and its id (UINT32_MAX: not an address). */
#define BS_AGG_ADDR_LOOK 1024
#define BS_AGG_ADDR_RAW 64
struct bs_agg_addr_look { uint64_t hash; uint32_t id; uint8_t len; char raw[BS_AGG_ADDR_RAW]; };

/* A client name (up to BS_AGG_ADDR_RAW bytes) and address (host id) whose
 * aliases are in the aliases table; ip 0: none. */
#define BS_AGG_ALIAS_LOOK 64
struct bs_agg_alias_look { uint64_t hash; uint32_t ip; uint8_t len; char name[BS_AGG_ADDR_RAW]; };

struct bs_agg {
	struct bs_strtab str;           /* every interned string */
	BS_AGG_TABLES(BS_AGG_FIELDS)
	/* transient, per input: open queries and suspect transactions */
	struct bs_u64map open_query;     /* query_id -> flags */
	struct bs_u64map open_txn;       /* txn_id -> 1 if suspect */
	uint64_t cand_dropped;           /* candidates beyond the cap */
	bool logins_completed;           /* bs_agg_complete_logins gave the bare names a domain:
	                                  * their EK_LOGIN twins stand for them */
	uint64_t events;
	bs_time first_ts, last_ts;
	/* lookaside caches of bs_agg_host_ip and bs_agg_host_name: most
	 * events name a host just named (ids never change, so never stale) */
	struct { bs_ip ip; uint32_t id; } ip_cache[64];
	struct bs_agg_addr_look addr_look[BS_AGG_ADDR_LOOK]; /* of addr_id (agg.c) */
	/* lookasides of bs_agg_host and bs_agg_count_hours (by host id), and of
	 * bs_agg_count_clients, _scripts, _paths (by host ^ address or path id):
	 * record index + 1 (0: none), a hint checked against the record */
	uint32_t host_look[64];
	uint32_t hours_look[64], clients_look[64], scripts_look[64], paths_look[64];
	/* the Postfix client names whose aliases are recorded (on_mail) */
	struct bs_agg_alias_look alias_look[BS_AGG_ALIAS_LOOK];
	size_t last_name_len;
	uint32_t last_name_id;
	char last_name[128];
};

#define BS_CAND_MAX (4u << 20)

/* bs_agg_add_NAME for every table not LISTED: add the record, or fold it
 * into the record of its identity; returns the record's index. */
#define BS_AGG_ADD_KEYED(name, type) uint32_t bs_agg_add_##name(struct bs_agg *a, const type *p);
#define BS_AGG_ADD_INTERNED(name, type) BS_AGG_ADD_KEYED(name, type)
#define BS_AGG_ADD_LISTED(name, type)
#define BS_AGG_ADD(name, type, kind) BS_AGG_ADD_##kind(name, type)
BS_AGG_TABLES(BS_AGG_ADD)

/* Interning helpers shared by agg.c and state.c. */
uint32_t bs_agg_host_ip(struct bs_agg *a, const bs_ip *ip);
uint32_t bs_agg_host_name(struct bs_agg *a, bs_str name);
/* The login session of a cookie pair (string id), or NULL. */
const struct bs_sessrec *bs_agg_find_sess(const struct bs_agg *a, uint32_t pair);
/* The record of a logging host, added empty when new. Not bs_agg_add_hosts:
 * every event touches its host's record, and building and folding a whole
 * record (two 64-bucket histograms) per event cost 2 % of a log run. */
struct bs_hostrec *bs_agg_host(struct bs_agg *a, uint32_t host);
/* bs_agg_add_NAME past the table's lookaside, for the tables every event
 * adds to: a host's events come in runs of the same hour, a client's
 * requests in runs against the same server and path. slot: a few bits of
 * the record's identity, chosen by the caller (only a hint). */
void bs_agg_count_hours(struct bs_agg *a, const struct bs_hourrec *p, uint32_t slot);
void bs_agg_count_clients(struct bs_agg *a, const struct bs_clientrec *p, uint32_t slot);
void bs_agg_count_scripts(struct bs_agg *a, const struct bs_scriptrec *p, uint32_t slot);
void bs_agg_count_paths(struct bs_agg *a, const struct bs_pathrec *p, uint32_t slot);
/* Join keys k1, k2 (ids) in the order of their text in state format 1
 * ("\001T:input:id", "\001Q:...", "\001F:input:src:sport:dst:dport"; none
 * is ""), the order the candidates' ties were always resolved in. */
int bs_agg_key_cmp(const struct bs_agg *a, uint32_t k1, uint32_t k2);
/* A bool read from a file must be 0 or 1 before it is used as one. */
static inline bool bs_bool_byte_ok(const bool *b)
{
	unsigned char v;
	memcpy(&v, b, 1);
	return v <= 1;
}
/* Tables read from a state file: every string id below a->str.n, every
 * key id below a->keys.n, every input index below ninputs (renumbered to
 * remap[i]), every bool 0 or 1. False when not. */
bool bs_agg_check_loaded(struct bs_agg *a, const uint32_t *remap, size_t ninputs);

#endif
