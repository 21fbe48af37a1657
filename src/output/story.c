/* story.c - the parts of report.html a responder writes the first hour's
 * note from: per compromised or suspicious server the attack story (its
 * timeline rows in time order, by phase, each with its evidence reference
 * and the command decoded), why the verdict (each signal, its weight, rule,
 * baseline and first evidence rows), and what to do now (the exposed
 * addresses' actions by risk). Everything from the data goes through
 * bs_html (escape.c). */
#include "config.h"
#include "src/output/output.h"
#include "src/output/report_html.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows of one server's story; the rest are in timeline.csv. */
#define MAX_STORY_ROWS 300
/* Evidence rows shown per signal under "why". */
#define MAX_WHY_ROWS 3

static bool in_story(const struct bs_server_result *s)
{
	return s->verdict == BS_V_COMPROMISED || s->verdict == BS_V_SUSPICIOUS;
}

/* Commands a web shell runs to wipe its traces. */
static bool looks_like_cleanup(const char *msg)
{
	static const char *const words[] = { "rm -", "rm%20", "rm+", "unlink", "history -c", "history%20-c",
		"shred", "truncate", "> /var/log", "%3E%20/var/log", ".bash_history" };
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strstr(msg, words[i]))
			return true;
	return false;
}

/* The phase of the attack a timeline row belongs to; NULL: not part of
 * the story (the window bounds are in the verdict table). *shell_seen
 * tells the first web shell use (installed) from the later ones. */
static const char *phase_of(const struct bs_timeline_row *t, const struct bs_server_result *s, bool *shell_seen)
{
	const char *e = t->event;
	if (!strcmp(e, "recon") || !strcmp(e, "auth_anomaly"))
		return "reconnaissance";
	if (!strcmp(e, "exploit_request") || (t->ts == s->exploit_time && !strcmp(e, "webshell")))
		return "exploit";
	if (!strcmp(e, "webshell")) {
		if (looks_like_cleanup(t->message))
			return "cleanup";
		if (!*shell_seen) {
			*shell_seen = true;
			return "web shell installed";
		}
		return "commands run";
	}
	if (!strcmp(e, "attacker_request"))
		return s->exploit_time != BS_TIME_NONE && t->ts < s->exploit_time ? "reconnaissance"
		       : looks_like_cleanup(t->message) ? "cleanup" : "commands run";
	if (!strcmp(e, "shell_removed"))
		return "cleanup";
	if (!strcmp(e, "db_bulk_read"))
		return "database read";
	if (!strcmp(e, "exfiltration") || !strcmp(e, "foreign_destination"))
		return "exfiltration";
	if (!strcmp(e, "tampered_content"))
		return "tampering";
	return NULL;
}

/* URL and form decoding of a message (%XX everywhere, '+' as a space after
 * a '?'); returns false when nothing changed. */
static bool url_decode(const char *in, char *out, size_t cap)
{
	bool changed = false, query = false;
	size_t o = 0;
	for (size_t i = 0; in[i] && o + 1 < cap; i++) {
		char ch = in[i];
		if (ch == '?')
			query = true;
		if (ch == '%' && bs_hexval(in[i + 1]) >= 0 && bs_hexval(in[i + 2]) >= 0) {
			ch = (char)(bs_hexval(in[i + 1]) * 16 + bs_hexval(in[i + 2]));
			i += 2;
			changed = true;
		} else if (ch == '+' && query) {
			ch = ' ';
			changed = true;
		}
		out[o++] = ch;
	}
	out[o] = 0;
	return changed;
}

/* "access.log line 12", "capture.pcap packet 473", then the flow. */
static void evidence_ref(FILE *f, const struct bs_results *r, const struct bs_timeline_row *t)
{
	if (t->input < r->ninputs) {
		const struct bs_input_row *in = &r->inputs[t->input];
		fputs("<span class=\"mono\">", f);
		bs_html(f, in->source);
		fprintf(f, "</span> %s %" PRIu64, strstr(in->format, "pcap") ? "packet" : "line", t->source_ref);
	} else {
		fputs("<span class=\"none\">aggregate of several records</span>", f);
	}
	if (t->src_ip.family || t->dst_ip.family) {
		fputs("<br><span class=\"mono\">", f);
		if (t->src_ip.family)
			bs_html_ip(f, &t->src_ip);
		fputs(" &rarr; ", f);
		if (t->dst_ip.family)
			bs_html_ip(f, &t->dst_ip);
		fputs("</span>", f);
	}
}

static void event_text(FILE *f, const struct bs_timeline_row *t)
{
	char decoded[1200];
	bs_html(f, t->message);
	/* the request in the message: from its path to the status */
	const char *req = strstr(t->message, " /");
	req = req ? req + 1 : t->message;
	if (url_decode(req, decoded, sizeof decoded)) {
		char *status = strstr(decoded, " -> ");
		if (status)
			*status = 0;
		fputs("<br><span class=\"dec\">decoded: <span class=\"mono\">", f);
		bs_html(f, decoded);
		fputs("</span></span>", f);
	}
	if (t->user && *t->user) {
		fputs("<br>user: ", f);
		bs_html(f, t->user);
	}
	if (t->detail && *t->detail) { /* the injected tag, as text */
		fputs("<br>injected: <span class=\"mono\">", f);
		bs_html(f, t->detail);
		fputs("</span>", f);
	}
}

/* The same event seen twice (a request in the access log and in the
 * capture): within this time, same event and message. */
#define SAME_EVENT_USEC (2 * BS_USEC)

static bool same_event(const struct bs_timeline_row *a, const struct bs_timeline_row *b)
{
	return b->ts - a->ts <= SAME_EVENT_USEC && !strcmp(a->server, b->server) && !strcmp(a->event, b->event) &&
	       !strcmp(a->message, b->message);
}

/* Row i, with the evidence of every later copy of it (marked shown). */
static void story_row(FILE *f, const struct bs_results *r, size_t i, const char *phase, bool *shown)
{
	const struct bs_timeline_row *t = &r->timeline[i];
	fputs("<tr><td class=\"mono t\">", f);
	bs_html_time(f, t->ts);
	fprintf(f, "</td><td class=\"ph\">%s</td><td class=\"w\">", phase);
	event_text(f, t);
	fputs("</td><td class=\"w ev\">", f);
	evidence_ref(f, r, t);
	for (size_t j = i + 1; j < r->ntimeline && r->timeline[j].ts - t->ts <= SAME_EVENT_USEC; j++)
		if (!shown[j] && same_event(t, &r->timeline[j])) {
			shown[j] = true;
			fputs("<hr>", f);
			evidence_ref(f, r, &r->timeline[j]);
		}
	fputs("</td></tr>\n", f);
}

static void spam_row(FILE *f, const struct bs_results *r)
{
	fputs("<tr><td class=\"mono t\">", f);
	bs_html_time(f, r->spam_onset);
	fprintf(f, "</td><td class=\"ph\">spam</td><td class=\"w\">spam to exposed addresses rises: %" PRIu64
	        " message(s) before, %" PRIu64 " after</td><td class=\"w\"><span class=\"none\">the fleet's "
	        "maillogs</span></td></tr>\n", r->spam_exposed_before, r->spam_exposed_after);
}

static void story(FILE *f, const struct bs_results *r, const struct bs_server_result *s)
{
	static const char *const phases[] = { "reconnaissance", "exploit", "web shell installed", "commands run",
		"database read", "exfiltration", "tampering", "cleanup", "spam" };
	size_t count[sizeof phases / sizeof phases[0]] = { 0 };
	bool shell_seen = false;
	size_t total = 0;
	for (size_t i = 0; i < r->ntimeline; i++) {
		bool copy = false; /* counted once: the same event seen in a log and a capture */
		for (size_t j = i; j-- > 0 && r->timeline[i].ts - r->timeline[j].ts <= SAME_EVENT_USEC && !copy;)
			copy = same_event(&r->timeline[j], &r->timeline[i]);
		const char *ph = strcmp(r->timeline[i].server, s->name) || copy ? NULL : phase_of(&r->timeline[i], s, &shell_seen);
		for (size_t p = 0; ph && p < sizeof phases / sizeof phases[0]; p++)
			if (!strcmp(ph, phases[p]))
				count[p]++;
		total += ph != NULL;
	}
	bool spam = r->spam_onset != BS_TIME_NONE && s->verdict == BS_V_COMPROMISED;
	count[8] = spam;
	fputs("<h3>The attack story</h3>\n<p class=\"phases\">", f);
	for (size_t p = 0; p < sizeof phases / sizeof phases[0]; p++)
		fprintf(f, "<span class=\"%s\">%s: %zu</span>", count[p] ? "" : "none", phases[p], count[p]);
	fputs("</p>\n", f);
	if (total == 0 && !spam) {
		fputs("<p class=\"none\">No notable event of this server is in the timeline.</p>\n", f);
		return;
	}
	fputs("<table class=\"story\"><thead><tr><th>time (UTC)</th><th>phase</th><th>what happened</th>"
	      "<th>evidence</th></tr></thead><tbody>\n", f);
	shell_seen = false;
	size_t shown = 0;
	bool *merged = bs_xcalloc(r->ntimeline + 1, sizeof *merged);
	for (size_t i = 0; i < r->ntimeline; i++) {
		const struct bs_timeline_row *t = &r->timeline[i];
		const char *ph = strcmp(t->server, s->name) || merged[i] ? NULL : phase_of(t, s, &shell_seen);
		if (!ph)
			continue;
		if (spam && t->ts > r->spam_onset) {
			spam_row(f, r);
			spam = false;
		}
		if (shown++ < MAX_STORY_ROWS)
			story_row(f, r, i, ph, merged);
	}
	free(merged);
	if (spam)
		spam_row(f, r);
	fputs("</tbody></table>\n", f);
	if (shown > MAX_STORY_ROWS)
		fprintf(f, "<p>&hellip; %zu more event(s) in <span class=\"mono\">timeline.csv</span>.</p>\n",
		        shown - MAX_STORY_ROWS);
}

static void why(FILE *f, const struct bs_results *r, const struct bs_server_result *s)
{
	fprintf(f, "<h3>Why %s</h3>\n<table class=\"why\"><thead><tr><th>signal</th><th>weight</th><th>rule</th>"
	        "<th>baseline</th><th>first evidence</th></tr></thead><tbody>\n", bs_verdict_name(s->verdict));
	for (unsigned g = 0; g < BS_SIG_COUNT; g++) {
		if (!(s->signals & (1u << g)))
			continue;
		const char *name = bs_signal_name((enum bs_signal)g);
		fprintf(f, "<tr><td>%s</td><td class=\"n\">%.0f</td><td class=\"w\">%s</td><td class=\"w\">", name,
		        s->signal_weight[g], bs_signal_rule((enum bs_signal)g));
		if (s->signal_baseline[g] && *s->signal_baseline[g])
			bs_html(f, s->signal_baseline[g]);
		else
			fputs("<span class=\"none\">none: the rule is absolute</span>", f);
		fputs("</td><td class=\"w\">", f);
		size_t n = 0;
		for (size_t i = 0; i < r->ntimeline && n < MAX_WHY_ROWS; i++) {
			const struct bs_timeline_row *t = &r->timeline[i];
			bool exploit = g == BS_SIG_EXPLOIT_REQUEST && t->ts == s->exploit_time; /* through a shell path */
			if (strcmp(t->server, s->name) || (strcmp(t->event, name) && !exploit))
				continue;
			fputs(n++ ? "<hr>" : "", f);
			fputs("<span class=\"mono t\">", f);
			bs_html_time(f, t->ts);
			fputs("</span> ", f);
			event_text(f, t);
			fputs("<br>", f);
			evidence_ref(f, r, t);
		}
		if (!n)
			fputs("<span class=\"none\">no single row: see the timeline</span>", f);
		fputs("</td></tr>\n", f);
	}
	fprintf(f, "<tr><th>score</th><th class=\"n\">%.2f</th><th colspan=\"3\"></th></tr></tbody></table>\n",
	        isfinite(s->score) ? s->score : 0.0);
}

void bs_report_story(FILE *f, const struct bs_results *r)
{
	fputs("<h2>What happened</h2>\n", f);
	size_t n = 0;
	for (size_t i = 0; i < r->nservers; i++) {
		const struct bs_server_result *s = &r->servers[i];
		if (!in_story(s))
			continue;
		const char *v = bs_verdict_name(s->verdict);
		fputs("<section class=\"server\"><h3 class=\"sv\">", f);
		bs_html(f, s->name);
		fprintf(f, " <span class=\"v v-%s\">%s</span></h3>\n", v, v);
		story(f, r, s);
		why(f, r, s);
		fputs("</section>\n", f);
		n++;
	}
	if (!n)
		fputs("<p class=\"none\">No server is compromised or suspicious: there is no attack story to tell.</p>\n", f);
}

void bs_report_actions(FILE *f, const struct bs_results *r)
{
	/* per action: addresses by risk, then by basis (seen in a copy, or
	 * concluded without one): the pipeline treats the two differently */
	uint64_t by[BS_ACT_COUNT][3] = { { 0 } }, basis[BS_ACT_COUNT][2] = { { 0 } };
	for (size_t i = 0; i < r->nexposed; i++) {
		const struct bs_exposed *e = &r->exposed[i];
		for (unsigned a = 0; a < BS_ACT_COUNT; a++) {
			if (!(e->actions & (1u << a)))
				continue;
			if ((unsigned)e->risk < 3)
				by[a][e->risk]++;
			basis[a][e->basis == BS_BASIS_OBSERVED ? 0 : 1]++;
		}
	}
	fputs("<h2>What to do now</h2>\n<table class=\"act\"><thead><tr><th>action</th><th>high risk</th>"
	      "<th>medium risk</th><th>low risk</th><th>observed</th><th>inferred</th><th>addresses</th></tr></thead><tbody>\n",
	      f);
	for (unsigned a = 0; a < BS_ACT_COUNT; a++)
		fprintf(f, "<tr><td>%s</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%"
		        PRIu64 "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
		        "</td></tr>\n", bs_action_name((enum bs_action)a), by[a][0], by[a][1], by[a][2], basis[a][0], basis[a][1],
		        by[a][0] + by[a][1] + by[a][2]);
	fprintf(f, "</tbody></table>\n<p>The addresses, with their categories, risk, action and basis (observed: seen "
	        "in a copy the attacker read or sent out, or through the compromised server; inferred: concluded "
	        "without such a copy), are in <span class=\"mono\">exposed_addresses.csv</span> (%zu rows); the "
	        "events behind them in <span class=\"mono\">timeline.csv</span>.</p>\n", r->nexposed);
}
