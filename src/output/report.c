/* report.c - report.html: one self-contained page for the responders.
 *
 * No script, no font, no image is fetched: the CSS is compiled in and the
 * pictures are inline SVG, so the page opens on an air-gapped workstation
 * and prints as it shows. Every string that comes from the data is
 * HTML-escaped. Nothing time-dependent (such as "generated at") goes in,
 * so that equal results give a byte-identical page. */
#include "config.h"
#include "src/output/output.h"
#include "src/output/report_html.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


static const char report_css[] =
	"body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;"
	"color:#1a1a1a;margin:24px auto;max-width:1100px;padding:0 16px}\n"
	"h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;border-bottom:2px solid #ddd;"
	"padding-bottom:3px;margin-top:28px}h3{font-size:15px;margin:16px 0 4px}\n"
	".meta{color:#555;margin:0 0 12px}\n"
	"table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}th,td{border:1px solid #ccc;"
	"padding:3px 6px;text-align:left;vertical-align:top}th{background:#f0f0f0}\n"
	"td.w{overflow-wrap:anywhere;min-width:6em}td.n,td.ip{white-space:nowrap}\n"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	".mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}\n"
	".v{font-weight:bold;padding:1px 6px;border-radius:3px;white-space:nowrap}\n"
	".v-compromised{background:#c62828;color:#fff}.v-suspicious{background:#f9a825;color:#000}\n"
	".v-clean{background:#2e7d32;color:#fff}.v-no_data{background:#9e9e9e;color:#fff}\n"
	".r-high{color:#c62828;font-weight:bold}.r-medium{color:#b26a00;font-weight:bold}\n"
	"figure{margin:10px 0 18px;break-inside:avoid;page-break-inside:avoid}\n"
	"figcaption{font-weight:bold;margin-bottom:2px}\n"
	"svg{max-width:100%;height:auto}svg text{font:11px system-ui,Helvetica,Arial,sans-serif}\n"
	".legend span{display:inline-block;margin-right:14px;white-space:nowrap}\n"
	".sw{display:inline-block;width:12px;height:12px;vertical-align:middle;margin-right:4px;"
	"border:1px solid #888}\n"
	".none{color:#777;font-style:italic}.t{white-space:nowrap}\n"
	".ph{white-space:nowrap;font-weight:bold}.dec{color:#333}\n"
	".phases span{display:inline-block;margin-right:12px;white-space:nowrap}\n"
	"section.server{border-left:4px solid #c62828;padding-left:12px;margin:14px 0}\n"
	"h3.sv{font-size:17px}hr{border:0;border-top:1px dashed #ccc;margin:4px 0}\n"
	"tfoot th{background:#f7f7f7}details summary{cursor:pointer;margin:6px 0;font-weight:bold}\n"
	"table.story,table.why{width:100%}td.ev{width:30%}table.why td:nth-child(3){width:22%}\n"
	/* Print (the PDF for management): A4 landscape, the title on every
	 * page, table headers repeated, no row, picture or small table cut. */
	"@page{size:A4 landscape;margin:14mm 10mm 12mm;"
	"@top-left{content:'breachscope report';font:10px sans-serif;color:#555}"
	"@bottom-right{content:'page ' counter(page) ' of ' counter(pages);font:10px sans-serif;color:#555}}\n"
	"@media print{body{margin:0;max-width:none;font-size:11px}h2,h3{break-after:avoid}"
	"thead{display:table-header-group}tfoot{display:table-footer-group}"
	"tr,figure,svg,.legend{break-inside:avoid}table{break-inside:avoid}"
	"table.story,table.why,table.files,table.inputs{break-inside:auto}"
	"section.server{break-before:page}details summary{display:none}"
	"th{background:#eee}*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

/* Picture colours; the legend uses the same. */
#define C_ALL "#90a4ae"
#define C_ATTACK "#d32f2f"
#define C_ACCESS "#ef5350"
#define C_TAMPER "#ffb300"
#define C_EXPLOIT "#b71c1c"
#define C_EXFIL "#6a1b9a"
#define C_SPAM "#1565c0"

/* Text from the data: escaped as in every output (escape.c), then made
 * HTML. The escapes are ASCII without markup, so only a kept character can
 * need an entity. */
void bs_html_n(FILE *f, const char *s, size_t n)
{
	char unit[BS_ESC_UNIT_MAX];
	for (size_t i = 0; i < n;) {
		size_t k = bs_esc_unit(s, n, &i, unit);
		switch (k == 1 ? unit[0] : 0) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fwrite(unit, 1, k, f);
		}
	}
}

void bs_html(FILE *f, const char *s)
{
	bs_html_n(f, s, s ? strlen(s) : 0);
}


/* A ';'-joined list from the data, one item per line. */
static void html_list(FILE *f, const char *s)
{
	while (s && *s) {
		const char *semi = strchr(s, ';');
		size_t n = semi ? (size_t)(semi - s) : strlen(s);
		char item[256];
		/* items are addresses and server names; a longer one is shown cut */
		snprintf(item, sizeof item, "%.*s", (int)(n < sizeof item - 1 ? n : sizeof item - 1), s);
		bs_html(f, item);
		if (!semi)
			break;
		fputs("<br>", f);
		s = semi + 1;
	}
}

void bs_html_time(FILE *f, bs_time t)
{
	char buf[40];
	bs_time_format(t, 0, buf, sizeof buf);
	fputs(buf, f);
}

static void html_window(FILE *f, bs_time a, bs_time b)
{
	if (a == BS_TIME_NONE) {
		fputs("<span class=\"none\">none</span>", f);
		return;
	}
	/* one time per line: an ISO time must not break in the middle */
	fputs("<span class=\"mono t\">", f);
	bs_html_time(f, a);
	fputs("</span><br><span class=\"mono t\">&ndash; ", f);
	bs_html_time(f, b == BS_TIME_NONE ? a : b);
	fputs("</span>", f);
}

void bs_html_ip(FILE *f, const bs_ip *ip)
{
	char buf[BS_IP_STRLEN];
	bs_ip_format(ip, buf, sizeof buf);
	fputs(buf, f); /* digits, dots, colons and hex: nothing to escape */
}

static void html_signals(FILE *f, unsigned mask)
{
	const char *sep = "";
	for (unsigned i = 0; i < BS_SIG_COUNT; i++)
		if (mask & (1u << i)) {
			fprintf(f, "%s%s", sep, bs_signal_name((enum bs_signal)i));
			sep = ", ";
		}
	if (!*sep)
		fputs("<span class=\"none\">none</span>", f);
}

/* ------------------------------------------------------- activity picture */

#define SVG_W 1000
#define SVG_H 200
#define PLOT_X0 50
#define PLOT_X1 985
#define PLOT_Y0 18
#define PLOT_Y1 150

struct time_axis {
	bs_time t0, t1;       /* the plotted span */
};

static double x_of(const struct time_axis *ax, bs_time t)
{
	double span = (double)(ax->t1 - ax->t0);
	double x = PLOT_X0 + (double)(t - ax->t0) / span * (PLOT_X1 - PLOT_X0);
	return x < PLOT_X0 ? PLOT_X0 : x > PLOT_X1 ? PLOT_X1 : x;
}

/* Ticks at round UTC steps: about 4 to 12 labels whatever the span. */
static void svg_axis(FILE *f, const struct time_axis *ax)
{
	static const int64_t steps_s[] = { 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600,
		86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400, 91 * 86400, 364 * 86400 };
	int64_t span_s = (ax->t1 - ax->t0) / BS_USEC;
	int64_t step = steps_s[sizeof steps_s / sizeof steps_s[0] - 1];
	for (size_t i = 0; i < sizeof steps_s / sizeof steps_s[0]; i++)
		if (span_s / steps_s[i] <= 10) {
			step = steps_s[i];
			break;
		}
	/* Bogus far-apart times (year 1970 next to 2038) must not make
	 * thousands of labels: beyond years, steps are whole multiples of one. */
	if (span_s / step > 10)
		step *= span_s / step / 10 + 1;
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n", PLOT_X0, PLOT_Y1, PLOT_X1, PLOT_Y1);
	int64_t first = ax->t0 / BS_USEC;
	first = (first / step + (first % step != 0)) * step;
	for (int64_t s = first; s * BS_USEC <= ax->t1; s += step) {
		double x = x_of(ax, s * BS_USEC);
		char t[40];
		bs_time_format(s * BS_USEC, 0, t, sizeof t);
		/* "2007-05-04T17:30:00Z": the date for day steps, else date and time */
		char label[24];
		if (step >= 86400)
			snprintf(label, sizeof label, "%.10s", t);
		else
			snprintf(label, sizeof label, "%.5s %.5s", t + 5, t + 11);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#444\"/>"
		        "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e0e0e0\"/>"
		        "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">%s</text>\n",
		        x, PLOT_Y1, x, PLOT_Y1 + 5, x, PLOT_Y0, x, PLOT_Y1, x, PLOT_Y1 + 18,
		        /* a label at the right edge would be cut by the picture's border */
		        x > SVG_W - 45 ? "end" : "middle", label);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">UTC</text>\n", PLOT_X1, PLOT_Y1 + 34);
}

static void svg_band(FILE *f, const struct time_axis *ax, bs_time a, bs_time b, const char *colour, const char *title)
{
	if (a == BS_TIME_NONE)
		return;
	if (b == BS_TIME_NONE || b < a)
		b = a;
	double xa = x_of(ax, a), xb = x_of(ax, b);
	if (xb - xa < 3) /* a short window must still be visible */
		xb = xa + 3;
	fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" fill-opacity=\"0.22\">"
	        "<title>%s</title></rect>\n", xa, PLOT_Y0, xb - xa, PLOT_Y1 - PLOT_Y0, colour, title);
}

static void svg_histogram(FILE *f, const struct time_axis *ax, const struct bs_server_result *s)
{
	/* Bins are merged into pixel columns so a long capture stays a few
	 * hundred rectangles; heights are on a log scale so that a handful of
	 * attack requests still shows beside the day's normal traffic. */
	size_t ncols = PLOT_X1 - PLOT_X0;
	size_t group = s->nbins > ncols ? (s->nbins + ncols - 1) / ncols : 1;
	uint64_t max = 0;
	for (size_t i = 0; i < s->nbins; i += group) {
		uint64_t sum = 0;
		for (size_t k = i; k < i + group && k < s->nbins; k++)
			sum += s->hist[k];
		if (sum > max)
			max = sum;
	}
	if (max == 0)
		return;
	double scale = (PLOT_Y1 - PLOT_Y0 - 4) / log1p((double)max);
	for (int pass = 0; pass < 2; pass++) {
		const uint32_t *h = pass == 0 ? s->hist : s->hist_attack;
		if (!h)
			continue;
		fprintf(f, "<g fill=\"%s\">", pass == 0 ? C_ALL : C_ATTACK);
		for (size_t i = 0; i < s->nbins; i += group) {
			uint64_t sum = 0;
			for (size_t k = i; k < i + group && k < s->nbins; k++)
				sum += h[k];
			if (sum == 0)
				continue;
			size_t end = i + group < s->nbins ? i + group : s->nbins;
			double xa = x_of(ax, s->hist_start + (bs_time)i * s->hist_bin);
			double xb = x_of(ax, s->hist_start + (bs_time)end * s->hist_bin);
			double hgt = log1p((double)sum) * scale;
			if (hgt < 1.5)
				hgt = 1.5;
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
			        xa, PLOT_Y1 - hgt, xb - xa > 1 ? xb - xa : 1, hgt);
		}
		fputs("</g>\n", f);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%" PRIu64 "</text>"
	        "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n"
	        "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 %d %d)\">events (log)</text>\n",
	        PLOT_X0 - 4, PLOT_Y0 + 8, max, PLOT_X0 - 4, PLOT_Y1, 14, (PLOT_Y0 + PLOT_Y1) / 2, 14,
	        (PLOT_Y0 + PLOT_Y1) / 2);
}

static void svg_mark(FILE *f, const struct time_axis *ax, bs_time t, const char *colour, const char *label, bool dashed)
{
	double x = x_of(ax, t);
	fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>",
	        x, PLOT_Y0 - 4, x, PLOT_Y1, colour, dashed ? " stroke-dasharray=\"4 3\"" : "");
	if (label)
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" fill=\"%s\" text-anchor=\"%s\">%s</text>",
		        x + (x > PLOT_X1 - 80 ? -3 : 3), PLOT_Y0 - 6, colour, x > PLOT_X1 - 80 ? "end" : "start", label);
	fputc('\n', f);
}

/* Exfiltration marks drawn per server; more would be one solid block. */
#define MAX_EXFIL_MARKS 200

static void svg_server(FILE *f, const struct bs_server_result *s, bs_time spam_onset)
{
	struct time_axis ax = { s->hist_start, s->hist_start + (bs_time)s->nbins * s->hist_bin };
	if (ax.t1 <= ax.t0)
		return;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
	        "role=\"img\">\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fafafa\"/>\n",
	        SVG_W, SVG_H, SVG_W, SVG_H, PLOT_X0, PLOT_Y0, PLOT_X1 - PLOT_X0, PLOT_Y1 - PLOT_Y0);
	svg_axis(f, &ax);
	svg_band(f, &ax, s->window_start, s->window_end, C_ACCESS, "attacker access window");
	svg_band(f, &ax, s->tamper_start, s->tamper_end, C_TAMPER, "tampered pages served");
	svg_histogram(f, &ax, s);
	if (spam_onset != BS_TIME_NONE && spam_onset >= ax.t0 && spam_onset <= ax.t1)
		svg_mark(f, &ax, spam_onset, C_SPAM, "spam onset", true);
	for (size_t i = 0; i < s->nexfil && i < MAX_EXFIL_MARKS; i++) {
		double x = x_of(&ax, s->exfil_times[i]);
		fprintf(f, "<path d=\"M%.1f %d l-5 -9 h10 z\" fill=\"" C_EXFIL "\"><title>exfiltration</title></path>\n",
		        x, PLOT_Y1 + 1 - 12);
	}
	if (s->exploit_time != BS_TIME_NONE)
		svg_mark(f, &ax, s->exploit_time, C_EXPLOIT, "exploit", false);
	fputs("</svg>\n", f);
}

static void legend(FILE *f)
{
	fputs("<p class=\"legend\">"
	      "<span><i class=\"sw\" style=\"background:" C_ALL "\"></i>all events</span>"
	      "<span><i class=\"sw\" style=\"background:" C_ATTACK "\"></i>attack events</span>"
	      "<span><i class=\"sw\" style=\"background:" C_ACCESS ";opacity:.35\"></i>attacker access window</span>"
	      "<span><i class=\"sw\" style=\"background:" C_TAMPER ";opacity:.35\"></i>tampered pages served</span>"
	      "<span><i class=\"sw\" style=\"background:" C_EXPLOIT "\"></i>exploit</span>"
	      "<span><i class=\"sw\" style=\"background:" C_EXFIL "\"></i>exfiltration</span>"
	      "<span><i class=\"sw\" style=\"background:" C_SPAM "\"></i>spam onset</span></p>\n", f);
}

/* ------------------------------------------------------------- the tables */

static void geo_cell(FILE *f, struct bs_geoip *geo, const bs_ip *ip, bool with_asn)
{
	struct bs_geo_info gi;
	bs_geoip_lookup(geo, ip, &gi);
	fputs("<td>", f);
	bs_html(f, gi.country);
	fputs("</td>", f);
	if (with_asn) {
		fputs("<td>", f);
		bs_html(f, gi.asn);
		fputs("</td>", f);
	}
}

/* Attacker addresses listed per server in the verdict table (a botnet can
 * bring thousands); the attacker table and servers.csv have them all. */
#define MAX_VERDICT_IPS 20

static void verdict_table(FILE *f, const struct bs_results *r, struct bs_geoip *geo)
{
	fputs("<h2>Verdict</h2>\n", f);
	if (r->nservers == 0) {
		fputs("<p class=\"none\">No server was judged.</p>\n", f);
		return;
	}
	fputs("<table><thead><tr><th>server</th><th>address</th><th>verdict</th><th>score</th>"
	      "<th>attacker access window</th><th>tampered pages served</th><th>signals</th>"
	      "<th>attacker addresses</th><th>evidence</th></tr></thead>\n", f);
	for (size_t i = 0; i < r->nservers; i++) {
		const struct bs_server_result *s = &r->servers[i];
		const char *v = bs_verdict_name(s->verdict);
		fputs("<tr><td class=\"w\">", f);
		bs_html(f, s->name);
		fputs("</td><td class=\"mono ip\">", f);
		html_list(f, s->addresses);
		fprintf(f, "</td><td><span class=\"v v-%s\">%s</span></td><td class=\"n\">%.2f</td><td>",
		        v, v, isfinite(s->score) ? s->score : 0.0);
		html_window(f, s->window_start, s->window_end);
		fputs("</td><td>", f);
		html_window(f, s->tamper_start, s->tamper_end);
		fputs("</td><td>", f);
		html_signals(f, s->signals);
		fputs("</td><td class=\"mono ip\">", f);
		for (size_t k = 0; k < s->nattacker_ips && k < MAX_VERDICT_IPS; k++) {
			struct bs_geo_info gi;
			bs_geoip_lookup(geo, &s->attacker_ips[k], &gi);
			if (k)
				fputs("<br>", f);
			bs_html_ip(f, &s->attacker_ips[k]);
			if (gi.country[0]) {
				fputs(" (", f);
				bs_html(f, gi.country);
				fputs(")", f);
			}
		}
		if (s->nattacker_ips > MAX_VERDICT_IPS)
			fprintf(f, "<br>&hellip; %zu more", s->nattacker_ips - MAX_VERDICT_IPS);
		fprintf(f, "</td><td class=\"n\">%" PRIu64 "</td></tr>\n", s->evidence);
	}
	fputs("</table>\n", f);
}

static void activity(FILE *f, const struct bs_results *r)
{
	fputs("<h2>Activity per server</h2>\n", f);
	legend(f);
	for (size_t i = 0; i < r->nservers; i++) {
		const struct bs_server_result *s = &r->servers[i];
		fputs("<figure><figcaption>", f);
		bs_html(f, s->name);
		fprintf(f, " &mdash; %s</figcaption>\n", bs_verdict_name(s->verdict));
		if (s->nbins == 0 || !s->hist || s->hist_bin <= 0)
			fputs("<p class=\"none\">No activity recorded.</p>\n", f);
		else
			svg_server(f, s, r->spam_onset);
		fputs("</figure>\n", f);
	}
}

static int cmp_ip(const void *a, const void *b)
{
	return bs_ip_cmp(a, b);
}

static void attackers(FILE *f, const struct bs_results *r, struct bs_geoip *geo)
{
	fputs("<h2>Attacker addresses</h2>\n", f);
	size_t total = 0;
	for (size_t i = 0; i < r->nservers; i++)
		total += r->servers[i].nattacker_ips;
	if (total == 0) {
		fputs("<p class=\"none\">No address was attributed to an attacker.</p>\n", f);
		return;
	}
	bs_ip *all = bs_xmalloc(total * sizeof *all);
	size_t n = 0, unique = 0;
	for (size_t i = 0; i < r->nservers; i++)
		for (size_t k = 0; k < r->servers[i].nattacker_ips; k++)
			all[n++] = r->servers[i].attacker_ips[k];
	qsort(all, n, sizeof *all, cmp_ip);
	for (size_t i = 0; i < n; i++)
		if (unique == 0 || !bs_ip_eq(&all[unique - 1], &all[i]))
			all[unique++] = all[i];
	fputs("<table><thead><tr><th>address</th><th>country</th><th>AS</th><th>servers</th></tr></thead>\n", f);
	for (size_t i = 0; i < unique; i++) {
		fputs("<tr><td class=\"mono\">", f);
		bs_html_ip(f, &all[i]);
		fputs("</td>", f);
		geo_cell(f, geo, &all[i], true);
		fputs("<td>", f);
		const char *sep = "";
		for (size_t s = 0; s < r->nservers; s++)
			for (size_t k = 0; k < r->servers[s].nattacker_ips; k++)
				if (bs_ip_eq(&r->servers[s].attacker_ips[k], &all[i])) {
					fputs(sep, f);
					bs_html(f, r->servers[s].name);
					sep = ", ";
					break;
				}
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	if (!geo)
		fputs("<p class=\"none\">No GeoIP database was given (--geoip): countries and AS are unknown.</p>\n", f);
	free(all);
}

static void count_row(FILE *f, const char *name, const char *cls, uint64_t count, uint64_t max)
{
	double w = max ? 200.0 * (double)count / (double)max : 0;
	fprintf(f, "<tr><td%s%s%s>%s</td><td class=\"n\">%" PRIu64 "</td><td>"
	        "<svg width=\"204\" height=\"12\"><rect x=\"0\" y=\"1\" width=\"%.1f\" height=\"10\" fill=\"#607d8b\"/></svg>"
	        "</td></tr>\n", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "", name, count, w);
}

static void exposure(FILE *f, const struct bs_results *r)
{
	fputs("<h2>Exposed addresses</h2>\n", f);
	uint64_t total = 0, max = 0;
	for (int i = 0; i < 3; i++) {
		total += r->risk_counts[i];
		if (r->risk_counts[i] > max)
			max = r->risk_counts[i];
	}
	fprintf(f, "<p>%" PRIu64 " exposed address(es); the list with reasons and actions is in "
	        "<span class=\"mono\">exposed_addresses.csv</span>.</p>\n", total);
	static const char *const risk_cls[3] = { "r-high", "r-medium", NULL };
	static const char *const risk_why[3] = { "credentials at risk or trojan page served",
		"a customer in the stolen data", "an outside contact" };
	fputs("<h3>By risk</h3><table><tr><th>risk</th><th>addresses</th><th></th></tr>\n", f);
	for (int i = 0; i < 3; i++) {
		char name[96];
		snprintf(name, sizeof name, "%s (%s)", bs_risk_name((enum bs_risk)i), risk_why[i]);
		count_row(f, name, risk_cls[i], r->risk_counts[i], max);
	}
	fputs("</table>\n", f);
	max = 0;
	for (unsigned i = 0; i < BS_CAT_COUNT; i++)
		if (r->category_counts[i] > max)
			max = r->category_counts[i];
	fputs("<h3>By category</h3><table><tr><th>category</th><th>addresses</th><th></th></tr>\n", f);
	for (unsigned i = 0; i < BS_CAT_COUNT; i++)
		count_row(f, bs_category_name((enum bs_category)i), NULL, r->category_counts[i], max);
	fputs("</table>\n<h3>By basis</h3><table><tr><th>basis</th><th>addresses</th><th></th></tr>\n", f);
	static const char *const basis_why[BS_BASIS_COUNT] = {
		"observed (in a copy the attacker was seen to take, or through the compromised server)",
		"inferred (from logs and traffic)" };
	for (unsigned i = 0; i < BS_BASIS_COUNT; i++)
		count_row(f, basis_why[i], NULL, r->basis_counts[i], total);
	fputs("</table>\n<p>Spam onset: ", f);
	if (r->spam_onset != BS_TIME_NONE) {
		fputs("<span class=\"mono\">", f);
		bs_html_time(f, r->spam_onset);
		fprintf(f, "</span> (spam to exposed addresses: %" PRIu64 " before, %" PRIu64 " after).</p>\n",
		        r->spam_exposed_before, r->spam_exposed_after);
	} else {
		fputs("<span class=\"none\">no rise of spam to exposed addresses was seen</span>.</p>\n", f);
	}
}

static bool damaged(const struct bs_input_stats *st)
{
	return st->truncated || st->malformed > 0;
}

/* One summary row per directory and format. */
struct input_group {
	const char *source;     /* the first input's path: the directory is its prefix */
	size_t dirlen;
	const char *format;
	size_t files, damaged_files;
	struct bs_input_stats st;
};

/* Summary rows beyond this are folded into the last (a run over a million
 * files in a thousand directories still gives a readable page). */
#define MAX_INPUT_GROUPS 200

static size_t dir_len(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? (size_t)(slash - path) : 0;
}

static size_t group_inputs(const struct bs_results *r, struct input_group *g)
{
	size_t ng = 0;
	for (size_t i = 0; i < r->ninputs; i++) {
		const struct bs_input_row *in = &r->inputs[i];
		size_t dl = dir_len(in->source), k = 0;
		while (k < ng && !(g[k].dirlen == dl && !strncmp(g[k].source, in->source, dl) && !strcmp(g[k].format, in->format)))
			k++;
		if (k == ng && ng == MAX_INPUT_GROUPS)
			k = ng - 1;
		else if (k == ng)
			g[ng++] = (struct input_group){ .source = in->source, .dirlen = dl, .format = in->format };
		g[k].files++;
		g[k].damaged_files += damaged(&in->st);
		g[k].st.bytes += in->st.bytes;
		g[k].st.records += in->st.records;
		g[k].st.parsed += in->st.parsed;
		g[k].st.ignored += in->st.ignored;
		g[k].st.malformed += in->st.malformed;
		g[k].st.truncated |= in->st.truncated;
	}
	return ng;
}

static void stats_cells(FILE *f, const struct bs_input_stats *st, const char *cell)
{
	fprintf(f, "<%s class=\"n\">%" PRIu64 "</%s><%s class=\"n\">%" PRIu64 "</%s><%s class=\"n\">%" PRIu64
	        "</%s><%s class=\"n\">%" PRIu64 "</%s><%s class=\"n%s\">%" PRIu64 "</%s>",
	        cell, st->bytes, cell, cell, st->records, cell, cell, st->parsed, cell, cell, st->ignored, cell,
	        cell, st->malformed ? " r-medium" : "", st->malformed, cell);
}

static void input_row(FILE *f, const struct bs_input_row *in)
{
	fputs("<tr><td class=\"mono w\">", f);
	bs_html(f, in->source);
	fputs("</td><td>", f);
	bs_html(f, in->format);
	fputs("</td>", f);
	stats_cells(f, &in->st, "td");
	fprintf(f, "<td%s>%s</td></tr>\n", in->st.truncated ? " class=\"r-high\"" : "", in->st.truncated ? "yes" : "no");
}

static void inputs(FILE *f, const struct bs_results *r)
{
	fputs("<h2>Input accounting</h2>\n", f);
	struct input_group *g = bs_xcalloc(r->ninputs < MAX_INPUT_GROUPS ? r->ninputs + 1 : MAX_INPUT_GROUPS, sizeof *g);
	size_t ng = group_inputs(r, g), ndamaged = 0;
	struct bs_input_stats sum = { 0 };
	uint64_t rcpts_dropped = 0;
	for (size_t i = 0; i < r->ninputs; i++) {
		ndamaged += damaged(&r->inputs[i].st);
		rcpts_dropped += r->inputs[i].st.rcpts_dropped;
	}
	fprintf(f, "<p>%zu input(s), %zu damaged (cut, unreadable or with malformed records)%s</p>\n", r->ninputs, ndamaged,
	        ndamaged ? ": listed first" : "");
	uint64_t evicted, by_memcap;
	bs_results_evictions(r, &evicted, &by_memcap);
	if (evicted)
		fprintf(f, "<p class=\"r-medium\">Capture flows evicted before their end: %" PRIu64 " (%" PRIu64
		        " by the memory cap, <code>--memcap</code>); each was closed and what its parsers held is"
		        " reported (timeline end reason <q>evicted</q>).</p>\n", evicted, by_memcap);
	if (r->bare_logins) {
		fprintf(f, "<p class=\"r-medium\">Logins by bare user names (no domain: Dovecot's <code>user=&lt;alice&gt;"
		        "</code>, OWA's <code>DOMAIN\\alice</code>): %" PRIu64 " name(s), ", r->bare_logins);
		if (r->bare_domain[0]) {
			fputs("taken as addresses of <span class=\"mono\">", f);
			bs_html(f, r->bare_domain);
			fputs(r->bare_domain_from_mail ? "</span>, the domain of the mail those names receive (no login by"
			      " address, no <code>--local-domain</code> given).</p>\n"
			      : r->bare_domain_inferred ? "</span>, the one domain of the logins by address (no"
			      " <code>--local-domain</code> given).</p>\n" : "</span>, the only local domain given.</p>\n", f);
		} else {
			fputs("tied to no address: with one <code>--local-domain</code> given they would be its"
			      " addresses.</p>\n", f);
		}
	}
	uint64_t flows, encrypted;
	bs_results_flows(r, &flows, &encrypted);
	if (encrypted)
		fprintf(f, "<p class=\"r-medium\">Capture flows encrypted (TLS or SSH, from the start or after STARTTLS): %" PRIu64 " of %" PRIu64
		        " (%.0f %%). What they carried (web logins, pages, uploads, mail) cannot be read from the captures:"
		        " for those servers the access and mail logs are the evidence, and a capture taken behind the"
		        " TLS terminator (or decrypted) shows more.</p>\n",
		        encrypted, flows, 100.0 * (double)encrypted / (double)(flows ? flows : 1));
	if (rcpts_dropped)
		fprintf(f, "<p class=\"r-medium\">%" PRIu64 " recipient(s) of messages were not kept by the parsers "
		        "(not an address, or beyond a bound): see <span class=\"mono\">--debug</span></p>\n",
		        rcpts_dropped);
	fputs("<table class=\"inputs\"><thead><tr><th>directory</th><th>format</th><th>files</th><th>bytes</th>"
	      "<th>records</th><th>parsed</th><th>ignored</th><th>malformed</th><th>damaged files</th></tr></thead>"
	      "<tbody>\n", f);
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < ng; k++) {
			if ((g[k].damaged_files > 0) != (pass == 0))
				continue;
			fputs("<tr><td class=\"mono w\">", f);
			if (k == MAX_INPUT_GROUPS - 1 && ng == MAX_INPUT_GROUPS)
				fputs("(other directories)", f);
			else if (g[k].dirlen)
				bs_html_n(f, g[k].source, g[k].dirlen);
			else
				fputs(".", f);
			fputs("</td><td>", f);
			bs_html(f, g[k].format);
			fprintf(f, "</td><td class=\"n\">%zu</td>", g[k].files);
			stats_cells(f, &g[k].st, "td");
			fprintf(f, "<td class=\"n%s\">%zu</td></tr>\n", g[k].damaged_files ? " r-high" : "", g[k].damaged_files);
			sum.bytes += g[k].st.bytes;
			sum.records += g[k].st.records;
			sum.parsed += g[k].st.parsed;
			sum.ignored += g[k].st.ignored;
			sum.malformed += g[k].st.malformed;
		}
	fprintf(f, "</tbody><tfoot><tr><th>all</th><th></th><th class=\"n\">%zu</th>", r->ninputs);
	stats_cells(f, &sum, "th");
	fprintf(f, "<th class=\"n\">%zu</th></tr></tfoot></table>\n", ndamaged);
	free(g);
	if (r->ninputs == 0)
		return;
	fprintf(f, "<details><summary>Every input (%zu rows, damaged first)</summary>\n<table class=\"files\"><thead><tr>"
	        "<th>source</th><th>format</th><th>bytes</th><th>records</th><th>parsed</th><th>ignored</th>"
	        "<th>malformed</th><th>truncated</th></tr></thead><tbody>\n", r->ninputs);
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < r->ninputs; i++)
			if (damaged(&r->inputs[i].st) == (pass == 0))
				input_row(f, &r->inputs[i]);
	fputs("</tbody></table></details>\n", f);
}

bool bs_report_write(FILE *f, const struct bs_results *r, struct bs_geoip *geo)
{
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	        "<title>breachscope report</title>\n<style>\n%s</style>\n</head>\n<body>\n"
	        "<h1>breachscope report</h1>\n<p class=\"meta\">", report_css);
	if (r->data_start != BS_TIME_NONE) {
		fputs("Data from <span class=\"mono\">", f);
		bs_html_time(f, r->data_start);
		fputs("</span> to <span class=\"mono\">", f);
		bs_html_time(f, r->data_end);
		fputs("</span> (UTC). ", f);
	}
	fputs("Fleet: ", f);
	bs_html(f, r->fleet_origin ? r->fleet_origin : "unknown");
	fputs(".</p>\n", f);
	verdict_table(f, r, geo);
	bs_report_story(f, r);
	bs_report_actions(f, r);
	activity(f, r);
	attackers(f, r, geo);
	exposure(f, r);
	inputs(f, r);
	fputs("</body>\n</html>\n", f);
	return !ferror(f);
}
