/* result.c - names of the result model's values, as SPEC.md fixes them, and
 * the release of a bs_results. The name tables are the output contract: the
 * notification pipeline matches on these exact strings. */
#include "config.h"
#include "src/core/result.h"

#include <stdlib.h>

/* An enum value outside its table gives "" rather than a wild read, so a
 * corrupted value shows up as an empty cell instead of a crash. */
#define NAME_OF(table, v) ((unsigned)(v) < sizeof(table) / sizeof((table)[0]) ? (table)[(unsigned)(v)] : "")

const char *bs_verdict_name(enum bs_server_verdict v)
{
	static const char *const names[] = { "compromised", "suspicious", "clean", "no_data" };
	return NAME_OF(names, v);
}

const char *bs_signal_name(enum bs_signal s)
{
	static const char *const names[BS_SIG_COUNT] = {
		"webshell", "exploit_request", "tampered_content", "exfiltration",
		"db_bulk_read", "auth_anomaly", "foreign_destination",
	};
	return NAME_OF(names, s);
}

const char *bs_signal_rule(enum bs_signal s)
{
	static const char *const rules[BS_SIG_COUNT] = {
		"a script path that only this server serves, reached with commands or answering with command output",
		"a request matching an exploit pattern (injection, traversal, upload, remote include) that succeeded",
		"a page this server serves with a reference to an outside host that most other servers' copies do not have",
		"a transfer to an outside destination far above this server's usual outbound size",
		"a database read returning many rows, of a statement shape the application's servers do not issue",
		"a brute force (many failed logins from one address within an hour) or a burst of logins far above the usual hour",
		"an outside destination first contacted after the attack began that no other server of the fleet contacted",
	};
	return NAME_OF(rules, s);
}

const char *bs_category_name(enum bs_category c)
{
	static const char *const names[BS_CAT_COUNT] = {
		"addressbook", "credentials_at_risk", "exfiltrated", "login",
		"received_from", "sent_to", "trojan_page_served",
	};
	return NAME_OF(names, c);
}

const char *bs_risk_name(enum bs_risk r)
{
	static const char *const names[] = { "high", "medium", "low" };
	return NAME_OF(names, r);
}

const char *bs_basis_name(enum bs_basis b)
{
	static const char *const names[BS_BASIS_COUNT] = { "observed", "inferred" };
	return NAME_OF(names, b);
}

const char *bs_action_name(enum bs_action a)
{
	static const char *const names[BS_ACT_COUNT] = { "reset_password", "malware_check", "notify" };
	return NAME_OF(names, a);
}

const char *bs_severity_name(enum bs_severity s)
{
	static const char *const names[] = { "attack", "compromise", "exposure", "info" };
	return NAME_OF(names, s);
}

void bs_results_evictions(const struct bs_results *r, uint64_t *evicted, uint64_t *by_memcap)
{
	*evicted = *by_memcap = 0;
	for (size_t i = 0; i < r->ninputs; i++) {
		*evicted += r->inputs[i].st.flows_evicted;
		*by_memcap += r->inputs[i].st.flows_evicted_memcap;
	}
}

void bs_results_flows(const struct bs_results *r, uint64_t *flows, uint64_t *encrypted)
{
	*flows = *encrypted = 0;
	for (size_t i = 0; i < r->ninputs; i++) {
		*flows += r->inputs[i].st.flows;
		*encrypted += r->inputs[i].st.flows_encrypted;
	}
}

void bs_results_free(struct bs_results *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nservers; i++) {
		struct bs_server_result *s = &r->servers[i];
		free(s->name);
		free(s->addresses);
		free(s->attacker_ips);
		free(s->hist);
		free(s->hist_attack);
		free(s->exfil_times);
		for (int g = 0; g < BS_SIG_COUNT; g++)
			free(s->signal_baseline[g]);
	}
	free(r->servers);
	for (size_t i = 0; i < r->nexposed; i++) {
		struct bs_exposed *e = &r->exposed[i];
		free(e->address);
		free(e->domain);
		free(e->servers);
		free(e->user_agent);
	}
	free(r->exposed);
	for (size_t i = 0; i < r->ntimeline; i++) {
		struct bs_timeline_row *t = &r->timeline[i];
		free(t->timestamp_desc);
		free(t->message);
		free(t->event);
		free(t->server);
		free(t->user);
		free(t->address);
		free(t->detail);
	}
	free(r->timeline);
	for (size_t i = 0; i < r->ninputs; i++) {
		free(r->inputs[i].source);
		free(r->inputs[i].format);
	}
	free(r->inputs);
	free(r->fleet_origin);
	/* bs_correlate hands out a heap bs_results: it goes with its contents. */
	free(r);
}
