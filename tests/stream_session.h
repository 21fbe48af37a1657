/* stream_session.h - drives a stream parser (through its bs_proto_def) with a
 * scripted session and records every event as one text line, so that tests
 * compare event lists: fed whole, one byte at a time, and split at every
 * byte position of every segment must give the same lines. The case runner
 * (caserun.c) and the C tests of mysql and dns record bs_event_format's
 * lines (format_sink below); the older C tests of parser edge cases use the
 * short lines of rec_sink.
 */
#ifndef BS_STREAM_SESSION_H
#define BS_STREAM_SESSION_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include "tap.h"
#include "parsers/stream/proto.h"

/* One step of a session: bytes in a direction, or a gap of n bytes. */
struct step {
	int dir;          /* 0 client to server, 1 server to client */
	const char *p;
	size_t n;
	uint64_t gap;     /* > 0: a gap of this many bytes instead of data */
	int64_t wait;     /* seconds that pass before this step (and so every later one) */
};
#define C(s) { 0, (s), sizeof(s) - 1, 0, 0 }
#define S(s) { 1, (s), sizeof(s) - 1, 0, 0 }
#define CB(p, n) { 0, (const char *)(p), (n), 0, 0 }
#define SB(p, n) { 1, (const char *)(p), (n), 0, 0 }
#define GAP(d, n) { (d), NULL, 0, (n), 0 }
#define NSTEPS(a) (sizeof(a) / sizeof((a)[0]))

#define REC_MAX 256
#define REC_LINE 65536 /* a mail event of BS_MAIL_MAX_RCPT recipients */
struct recorder {
	char line[REC_MAX][REC_LINE];
	size_t n;
	size_t dropped;
};
static struct recorder rec;

static void rec_add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void rec_add(const char *fmt, ...)
{
	va_list ap;
	if (rec.n == REC_MAX) {
		rec.dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(rec.line[rec.n++], REC_LINE, fmt, ap);
	va_end(ap);
}

#define BSF(s) (int)(s).n, (s).p ? (s).p : ""

static void rec_sink(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	char a[BS_IP_STRLEN], b[BS_IP_STRLEN], buf[REC_LINE];
	size_t off = 0;
	switch (ev->type) {
	case BS_EV_AUTH:
		rec_add("AUTH proto=%d user=%.*s method=%.*s success=%d", (int)ev->u.auth.proto,
		        BSF(ev->u.auth.user), BSF(ev->u.auth.method), ev->u.auth.success);
		break;
	case BS_EV_MAIL: {
		const struct bs_ev_mail *m = &ev->u.mail;
		for (size_t i = 0; i < m->nrcpt && off < sizeof buf - 1; i++)
			off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%.*s:%.*s", i ? "," : "",
			                        BSF(m->rcpts[i]), BSF(m->rcpt_status[i]));
		buf[off < sizeof buf ? off : sizeof buf - 1] = '\0';
		if (off == 0)
			buf[0] = '\0';
		rec_add("MAIL from=%.*s rcpts=[%s] dropped=%zu sasl=%.*s size=%" PRIu64
		        " mid=%.*s qid=%.*s rejected=%d helo=%.*s%s%.*s",
		        BSF(m->sender), buf, m->rcpts_dropped, BSF(m->sasl_user), m->size,
		        BSF(m->message_id), BSF(m->queue_id), (int)m->rejected, BSF(m->client_name),
		        m->rejected ? " reason=" : "", BSF(m->reject_reason));
		break;
	}
	case BS_EV_ADDR:
		rec_add("ADDR ctx=%d ref=%" PRIu64 " addr=%.*s col=%.*s to_client=%d%s%.*s", (int)ev->u.addr.ctx,
		        ev->u.addr.ref, BSF(ev->u.addr.address), BSF(ev->u.addr.column),
		        (int)ev->u.addr.to_client, ev->u.addr.row_tags.n ? " tags=" : "", BSF(ev->u.addr.row_tags));
		break;
	case BS_EV_DBQUERY:
		rec_add("DBQUERY id=%" PRIu64 " user=%.*s db=%.*s truncated=%d len=%zu sql=%.*s",
		        ev->u.dbquery.query_id, BSF(ev->u.dbquery.db_user), BSF(ev->u.dbquery.db_name),
		        (int)ev->u.dbquery.sql_truncated, ev->u.dbquery.sql.n, BSF(ev->u.dbquery.sql));
		break;
	case BS_EV_DBRESULT:
		rec_add("DBRESULT id=%" PRIu64 " rows=%" PRIu64 " cols=%" PRIu64 " bytes=%" PRIu64 " error=%d%s",
		        ev->u.dbresult.query_id, ev->u.dbresult.rows, ev->u.dbresult.columns,
		        ev->u.dbresult.bytes, (int)ev->u.dbresult.error, ev->u.dbresult.cut ? " cut=1" : "");
		break;
	case BS_EV_DNS: {
		const struct bs_ev_dns *d = &ev->u.dns;
		buf[0] = '\0';
		for (size_t i = 0; i < d->nanswers; i++) {
			bs_ip_format(&d->answers[i], a, sizeof a);
			off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s", i ? "," : "", a);
			if (off >= sizeof buf)
				break;
		}
		bs_ip_format(&ev->src, a, sizeof a);
		bs_ip_format(&ev->dst, b, sizeof b);
		rec_add("DNS %s>%s q=%.*s type=%u ans=[%s] cname=%.*s rcode=%d", a, b, BSF(d->qname),
		        (unsigned)d->qtype, buf, BSF(d->cname), d->rcode);
		break;
	}
	default:
		rec_add("EVENT type=%d", (int)ev->type);
		break;
	}
}

/* Every event as its bs_event_format line (the case files' lines). */
__attribute__((unused)) static void format_sink(void *ctx, const struct bs_event *ev)
{
	static char buf[REC_LINE];
	(void)ctx;
	bs_event_format(ev, buf, sizeof buf);
	rec_add("%s", buf);
}

static void rec_expect(void *disp, const bs_ip *ip, uint16_t port, uint64_t cookie,
                       const char *filename, bool upload, const char *user)
{
	char a[BS_IP_STRLEN];
	(void)disp;
	bs_ip_format(ip, a, sizeof a);
	rec_add("EXPECT %s:%u cookie=%" PRIu64 " file=%s upload=%d user=%s", a, (unsigned)port, cookie,
	        filename ? filename : "(null)", (int)upload, user ? user : "(null)");
}

static struct bs_sink rec_sink_obj = { rec_sink, NULL };

/* The endpoints of every session (a case file may change them). */
static struct session_endpoints {
	const char *cli, *srv;
	uint16_t cport, sport;
} session_ends = { "192.0.2.10", "198.51.100.20", 40000, 25 };

static void ctx_init(struct bs_proto_ctx *c)
{
	memset(c, 0, sizeof *c);
	c->sink = &rec_sink_obj;
	c->input = 1;
	c->flow_id = 7;
	bs_ip_parse(session_ends.cli, strlen(session_ends.cli), &c->cli);
	bs_ip_parse(session_ends.srv, strlen(session_ends.srv), &c->srv);
	c->cport = session_ends.cport;
	c->sport = session_ends.sport;
	c->ts = 1000 * BS_USEC;
	c->expect = rec_expect;
}

/* Feed a session; each data step is cut into pieces of at most `piece`
 * bytes (0: whole), or, when split_at > 0, in two at split_at. Returns the
 * first non-zero feed result. Events land in rec. */
static int run_session(const struct bs_proto_def *def, const struct step *steps, size_t nsteps,
                       size_t piece, size_t split_at)
{
	struct bs_proto_ctx c;
	void *state = malloc(def->state_size);
	int err = 0;
	ctx_init(&c);
	rec.n = rec.dropped = 0;
	def->init(state);
	bs_time waited = 0;
	for (size_t i = 0; i < nsteps && !err; i++) {
		const struct step *st = &steps[i];
		waited += st->wait;
		c.ts = (1000 + (bs_time)i + waited) * BS_USEC;
		c.pktno = i + 1;
		if (st->gap) {
			def->gap(state, &c, st->dir, st->gap);
			continue;
		}
		if (def->udp) {
			err = def->feed(state, &c, st->dir, (const uint8_t *)st->p, st->n);
			continue;
		}
		size_t off = 0;
		while (off < st->n && !err) {
			size_t k = st->n - off;
			if (split_at > 0 && off == 0 && split_at < st->n)
				k = split_at;
			else if (piece > 0 && k > piece)
				k = piece;
			/* copy so that a parser reading past the piece trips ASan */
			uint8_t *tmp = malloc(k ? k : 1);
			memcpy(tmp, st->p + off, k);
			err = def->feed(state, &c, st->dir, tmp, k);
			free(tmp);
			off += k;
		}
	}
	if (!err)
		def->end(state, &c);
	free(state);
	return err;
}

static char whole_text[REC_MAX * REC_LINE];
static void rec_join(char *out, size_t size)
{
	size_t off = 0;
	out[0] = '\0';
	for (size_t i = 0; i < rec.n && off < size; i++)
		off += (size_t)snprintf(out + off, size - off, "%s\n", rec.line[i]);
}

/* Run whole, one byte at a time and split at every position; one test for
 * each of the latter two. Leaves the whole-run events in rec. */
__attribute__((unused)) static void check_segmentation(const struct bs_proto_def *def, const struct step *steps,
                               size_t nsteps, const char *name)
{
	static char other[REC_MAX * REC_LINE];
	size_t maxlen = 0;
	for (size_t i = 0; i < nsteps; i++)
		if (steps[i].n > maxlen)
			maxlen = steps[i].n;
	run_session(def, steps, nsteps, 1, 0);
	rec_join(other, sizeof other);
	run_session(def, steps, nsteps, 0, 0);
	rec_join(whole_text, sizeof whole_text);
	if (!ok(strcmp(whole_text, other) == 0, "%s: one byte at a time gives the same events", name))
		printf("# whole:\n%s# bytewise:\n%s", whole_text, other);
	size_t bad = 0;
	for (size_t k = 1; k < maxlen && !bad; k++) {
		run_session(def, steps, nsteps, 0, k);
		rec_join(other, sizeof other);
		if (strcmp(whole_text, other) != 0)
			bad = k;
	}
	if (!ok(bad == 0, "%s: split at every position gives the same events", name))
		printf("# first differing split at %zu:\n%s", bad, other);
	run_session(def, steps, nsteps, 0, 0);
}

__attribute__((unused)) static size_t rec_count(const char *prefix)
{
	size_t k = 0;
	for (size_t i = 0; i < rec.n; i++)
		if (strncmp(rec.line[i], prefix, strlen(prefix)) == 0)
			k++;
	return k;
}

/* The i-th recorded line that starts with prefix, or "" */
__attribute__((unused)) static const char *rec_find(const char *prefix, size_t i)
{
	for (size_t j = 0; j < rec.n; j++)
		if (strncmp(rec.line[j], prefix, strlen(prefix)) == 0 && i-- == 0)
			return rec.line[j];
	return "";
}

/* The tests use the dispatcher's bs_proto_event / bs_proto_emit_addrs
 * (parsers/stream/proto.c) and the shared address scanner (src/core/addrscan.c). */

#endif
