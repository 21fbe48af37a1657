/* result.h - what the engine concludes, as the writers consume it.
 * All strings are owned by the bs_results and freed by bs_results_free. */
#ifndef BS_RESULT_H
#define BS_RESULT_H

#include "src/core/common.h"
#include "src/core/stats.h"

enum bs_server_verdict { BS_V_COMPROMISED = 0, BS_V_SUSPICIOUS, BS_V_CLEAN, BS_V_NO_DATA };
const char *bs_verdict_name(enum bs_server_verdict v);

/* Signals, in SPEC.md order; bit i = signal i. */
enum bs_signal {
	BS_SIG_WEBSHELL = 0, BS_SIG_EXPLOIT_REQUEST, BS_SIG_TAMPERED_CONTENT, BS_SIG_EXFILTRATION,
	BS_SIG_DB_BULK_READ, BS_SIG_AUTH_ANOMALY, BS_SIG_FOREIGN_DESTINATION, BS_SIG_COUNT
};
const char *bs_signal_name(enum bs_signal s);
/* The rule behind a signal, one sentence for the report's "why". */
const char *bs_signal_rule(enum bs_signal s);

/* Exposure categories, in sorted (output) order; bit i = category i. */
enum bs_category {
	BS_CAT_ADDRESSBOOK = 0, BS_CAT_CREDENTIALS_AT_RISK, BS_CAT_EXFILTRATED, BS_CAT_LOGIN,
	BS_CAT_RECEIVED_FROM, BS_CAT_SENT_TO, BS_CAT_TROJAN_PAGE_SERVED, BS_CAT_COUNT
};
const char *bs_category_name(enum bs_category c);

enum bs_risk { BS_RISK_HIGH = 0, BS_RISK_MEDIUM, BS_RISK_LOW };
const char *bs_risk_name(enum bs_risk r);

/* What an exposure rests on: the address is in a copy of the data the
 * attacker was seen to take (result rows, web-shell output, an exfiltration
 * payload) or was observed through the compromised server (credentials at
 * risk, trojan page); else it is inferred from logs and traffic. */
enum bs_basis { BS_BASIS_OBSERVED = 0, BS_BASIS_INFERRED, BS_BASIS_COUNT };
const char *bs_basis_name(enum bs_basis b);

/* Actions, in SPEC.md order. */
enum bs_action { BS_ACT_RESET_PASSWORD = 0, BS_ACT_MALWARE_CHECK, BS_ACT_NOTIFY, BS_ACT_COUNT };
const char *bs_action_name(enum bs_action a);

struct bs_server_result {
	char *name;
	char *addresses;          /* ';'-joined */
	enum bs_server_verdict verdict;
	double score;
	bs_time window_start, window_end, tamper_start, tamper_end; /* BS_TIME_NONE = empty */
	unsigned signals;         /* bitmask of bs_signal */
	bs_ip *attacker_ips;      /* sorted */
	size_t nattacker_ips;
	uint64_t evidence;
	/* For the report's activity picture: events per bin. */
	bs_time hist_start, hist_bin;  /* start and width of the bins */
	uint32_t *hist;           /* nbins counts of all events on this server */
	uint32_t *hist_attack;    /* nbins counts of attack events */
	size_t nbins;
	bs_time exploit_time;     /* BS_TIME_NONE if none */
	bs_time *exfil_times;     /* exfiltration marks */
	size_t nexfil;
	/* Why this verdict (the report): per signal that fired its weight in
	 * the score and the baseline it was measured against (NULL when the
	 * signal did not fire; "" when its rule has no baseline). */
	double signal_weight[BS_SIG_COUNT];
	char *signal_baseline[BS_SIG_COUNT];
};

struct bs_exposed {
	char *address, *domain;
	bool customer;
	unsigned categories;      /* bitmask of bs_category */
	enum bs_risk risk;
	unsigned actions;         /* bitmask of bs_action */
	bs_time first_seen, last_seen;
	char *servers;            /* ';'-joined, sorted */
	uint64_t evidence;
	/* trojan_page_served: where and with what it was served (report/timeline) */
	bs_ip client_ip;
	char *user_agent;
	enum bs_basis basis;      /* exposed_addresses.csv's column after evidence */
};

enum bs_severity { BS_SEV_ATTACK = 0, BS_SEV_COMPROMISE, BS_SEV_EXPOSURE, BS_SEV_INFO };
const char *bs_severity_name(enum bs_severity s);

struct bs_timeline_row {
	bs_time ts;
	int frac_digits;          /* fraction digits of the source time */
	char *timestamp_desc;     /* Timesketch: what the time means ("Request Time", ...) */
	char *message;
	char *event;              /* short event name: "exploit_request", "login", ... */
	enum bs_severity severity;
	char *server;             /* "" when none */
	bs_ip src_ip, dst_ip;
	char *user, *address;
	uint32_t input;           /* index into bs_results.inputs: the source column */
	uint64_t source_ref;
	/* Data shown with the row in the report only (not in timeline.csv):
	 * for tampered_content, the injected tag; NULL when none. */
	char *detail;
};

struct bs_input_row {
	char *source;             /* path as given/found ("-" for stdin) */
	char *format;             /* "text", "gzip+text", "pcap", "gzip+pcapng", "empty", "binary" */
	struct bs_input_stats st;
};

struct bs_results {
	struct bs_server_result *servers; size_t nservers;     /* sorted by name */
	struct bs_exposed *exposed; size_t nexposed;           /* sorted by address */
	struct bs_timeline_row *timeline; size_t ntimeline;    /* sorted by ts, then source, ref, event */
	struct bs_input_row *inputs; size_t ninputs;           /* sorted by source */
	char *fleet_origin;       /* "inventory FILE" or "discovered: ..." */
	bs_time spam_onset;       /* BS_TIME_NONE if no rise was seen */
	uint64_t spam_exposed_before, spam_exposed_after;      /* spam to exposed addresses */
	uint64_t risk_counts[3];  /* by bs_risk */
	uint64_t category_counts[BS_CAT_COUNT];
	uint64_t basis_counts[BS_BASIS_COUNT];
	/* the tables of the attacker's reads seen in the data, ";"-joined:
	 * whole, and cut (rows lost to a capture gap or end) */
	char tables_whole[256], tables_cut[256];
	bs_time data_start, data_end;
	/* logins by bare user names (no domain): how many distinct names, and
	 * the domain they were given (the only --local-domain), or "" when
	 * none could be: then they stand for no address */
	uint64_t bare_logins;
	char bare_domain[256];
	bool bare_domain_inferred; /* not given: the one domain of the logins by address */
	bool bare_domain_from_mail; /* ... there being none: the domain of the mail to the names */
	/* --timeline all: every event, merged into timeline.csv by the writer
	 * (read once; owned and freed by the caller, not by bs_results_free). */
	struct bs_spill *timeline_all;
};

/* Flows of the captures closed before their end (flow-table or memory cap),
 * and of those by the memory cap (--memcap), summed over the inputs. */
void bs_results_evictions(const struct bs_results *r, uint64_t *evicted, uint64_t *by_memcap);
/* The capture flows of all inputs, and of those the encrypted ones. */
void bs_results_flows(const struct bs_results *r, uint64_t *flows, uint64_t *encrypted);

/* Frees every string and array and the struct itself; NULL is fine. */
void bs_results_free(struct bs_results *r);

#endif
