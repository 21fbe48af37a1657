/* engine.h - correlation: from normalized events to verdicts and exposure.
 *
 * Two stages, so that sharded runs are the same code path as analyze:
 *  1. bs_agg: a mergeable summary of events (what the detectors need: per
 *     address evidence, per server path and reference tables, candidate
 *     attack events, flows, sessions). Every update is commutative, so the
 *     result does not depend on thread count, input order or sharding.
 *  2. bs_correlate: fleet, signals, verdicts, windows and exposure, written
 *     into a bs_results for the writers.
 * See docs/DETECTION.md for every detector and threshold.
 */
#ifndef BS_ENGINE_H
#define BS_ENGINE_H

#include <stdio.h>
#include "src/core/common.h"
#include "src/core/event.h"
#include "src/core/result.h"

struct bs_fleet_entry {
	char *name;
	bs_ip address;
	char *role;               /* "webmail", "db", "imap", "mx", ... */
};

struct bs_thresholds {
	uint64_t exfil_min_bytes;        /* outbound transfer to an outside address */
	double exfil_factor;             /* ... and this many times the server's median */
	uint64_t exfil_min_addrs;        /* ... or carrying this many distinct addresses (a dump,
	                                  * however small compressed) */
	uint64_t bulk_min_rows;          /* query result rows for db_bulk_read */
	uint64_t tamper_weak_clients;    /* distinct clients served a weak reference (a link, a
	                                  * script variable's URL) for it to count as tampering
	                                  * (at most BS_REF_CLIENTS: more never counts) */
	uint64_t bruteforce_failures;    /* failed logins from one source in one hour */
	uint64_t login_burst_users;      /* distinct successful logins in one hour... */
	double login_burst_factor;       /* ... above this many times the server's median hour */
	uint64_t login_burst_slot;       /* logins in one hour far above the same hour of the server's other days */
	double score_compromised, score_suspicious;
};
void bs_thresholds_default(struct bs_thresholds *t);

struct bs_engine_config {
	struct bs_fleet_entry *fleet; size_t nfleet;   /* from --fleet; 0 = discover */
	char *fleet_file;
	char **local_domains; size_t nlocal;           /* lower-case */
	struct bs_thresholds th;
};

struct bs_agg;
struct bs_agg *bs_agg_new(void);
void bs_agg_free(struct bs_agg *a);
/* The event sink: bs_sink{ bs_agg_sink, agg }. */
void bs_agg_sink(void *agg, const struct bs_event *ev);
/* End of one input: drop transient per-input state (open queries...). */
void bs_agg_end_input(struct bs_agg *a);
/* Fold src into dst (src is left unchanged). Commutative and associative. */
void bs_agg_merge(struct bs_agg *dst, const struct bs_agg *src);
/* Persisting an aggregate for sharded runs: see state.h. */
/* Logins by bare user names (Dovecot's user=<alice> on a
 * fleet that serves one domain, OWA's EXAMPLE\alice, a webmail without its
 * domain field) become logins of NAME@domain (folded into that
 * address's), and web sessions owned by a bare name that address's. Run
 * once, on the merged aggregate, before correlating. Returns the number of
 * distinct bare names. With domain NULL nothing changes: the count only. */
size_t bs_agg_complete_logins(struct bs_agg *a, const char *domain);
/* The one domain of the logins by address, when they all share it (a
 * fleet that serves one domain, where some users log in by their address
 * and some by their name), into buf; with no login by address at all, the
 * domain whose addresses carry the bare names among the recipients of
 * delivered mail and spam (*from_mail set); NULL when there is none or
 * several. */
const char *bs_agg_login_domain(const struct bs_agg *a, char *buf, size_t size, bool *from_mail);


/* Correlate. inputs: the input accounting rows (moved into the results). */
struct bs_results *bs_correlate(const struct bs_agg *a, const struct bs_engine_config *cfg,
                                struct bs_input_row *inputs, size_t ninputs);

/* Fleet inventory CSV (name,address,role), read with libcsv. */
bool bs_fleet_load(const char *path, struct bs_engine_config *cfg, char *err, size_t errlen);

#endif
