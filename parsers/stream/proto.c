/* proto.c - the protocol dispatcher: implements bs_stream_ops for the capture
 * engine, picks a protocol module per flow (FTP data expectation, then server
 * port, then sniffing the first bytes) and feeds it; scans the payload of
 * flows nobody claims for addresses; turns FTP data connections into file
 * transfers. See docs/PROTOCOLS.md, "Dispatcher".
 */
#include "config.h"
#include "parsers/stream/proto.h"
#include "src/core/addrscan.h"
/* the headers declaring the bs_proto_def of every BS_STREAM_PROTOCOLS entry */
#include "parsers/stream/http.h"
#include "parsers/stream/smtp.h"
#include "parsers/stream/imap.h"
#include "parsers/stream/pop3.h"
#include "parsers/stream/ftp.h"
#include "parsers/stream/mysql.h"
#include "parsers/stream/dns.h"
#include "parsers/stream/gzfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The registry (BS_STREAM_PROTOCOLS, proto.h) as tables; their indexes are
 * those of the per-protocol counters. */
#define PROTO_DEF(id, label) &bs_proto_##id,
const struct bs_proto_def *const bs_stream_protocols[BS_DISPATCH_NPROTO] = { BS_STREAM_PROTOCOLS(PROTO_DEF) };
#undef PROTO_DEF
#define PROTO_LABEL(id, label) label,
static const char *const proto_labels[BS_DISPATCH_NPROTO] = { BS_STREAM_PROTOCOLS(PROTO_LABEL) };
#undef PROTO_LABEL

#define SNIFF_MAX 128   /* first bytes kept per direction until a module claims the flow */

enum flow_kind { K_UNDECIDED = 0, K_PROTO, K_FTPDATA, K_UNKNOWN, K_OPAQUE };

struct expectation {
	bool used;
	bool upload;
	bs_ip ip;
	uint16_t port;
	uint64_t cookie;
	bs_time ts;
	struct dflow *flow;        /* the data connection that took it, if open */
	bool has_ctl;
	struct bs_proto_ctx ctl;   /* the control connection at the announcement */
	char filename[256];
	char user[128];
};

/* The most bytes inflated from one gzip file in a payload (a bomb stops
 * there): a large dump's addresses, not a disk's worth. */
#define PAYLOAD_GZIP_MAX ((uint64_t)256 << 20)

/* The dispatcher's record of one TCP flow (bs_cflow.user). */
struct dflow {
	struct bs_proto_ctx pc;    /* what the module sees: endpoints already swapped */
	enum flow_kind kind;
	size_t proto;              /* index in bs_stream_protocols[] */
	void *state;
	bool failed;
	bool swap;                 /* key.cli is really the server: directions flipped */
	int first_dir;
	size_t sniff_len[2];
	uint8_t sniff[2][SNIFF_MAX];
	struct expectation *x;     /* ftp-data */
	uint64_t xfer_bytes;
	struct bs_scan_window *win[2]; /* unknown / ftp-data payload, allocated on first use */
	struct bs_gzfile gz[2];    /* ... through the gzip file decoder (set up with win[dir]) */
};

struct bs_dispatch {
	uint32_t input;
	const struct bs_sink *sink;
	const struct bs_diag *diag;
	bs_time now;
	const struct bs_proto_ctx *cur; /* the flow being fed, for its announcements */
	struct expectation expect[BS_DISPATCH_MAX_EXPECT];
	size_t expect_hi;          /* 1 + the highest slot ever used: every flow opened looks
	                            * for its announcement, and most links announce none */
	/* per datagram module (registry index; unused for stream modules): one
	 * state for all its datagrams, allocated with the first */
	struct udp_module {
		void *state;
		struct bs_proto_ctx pc;
	} udp[BS_DISPATCH_NPROTO];
	struct bs_dispatch_counters count;
};

/* ------------------------------------------------------------------ shared helpers */

void bs_proto_event(const struct bs_proto_ctx *c, struct bs_event *ev, enum bs_event_type t)
{
	bs_event_init(ev, t);
	ev->ts = c->ts;
	ev->origin.input = c->input;
	ev->origin.ref = c->pktno;
	ev->origin.from_capture = true;
	ev->origin.flow_input = c->flow_id ? (uint32_t)(c->flow_id >> 40) : c->input;
	ev->src = c->cli;
	ev->dst = c->srv;
	ev->sport = c->cport;
	ev->dport = c->sport;
}

void bs_emit_auth(const struct bs_proto_ctx *c, enum bs_auth_proto proto, bs_str user, bs_str method, int success)
{
	struct bs_event ev;
	bs_proto_event(c, &ev, BS_EV_AUTH);
	ev.u.auth.proto = proto;
	ev.u.auth.user = user;
	ev.u.auth.method = method;
	ev.u.auth.success = success;
	bs_emit(c->sink, &ev);
}

struct addr_emit {
	const struct bs_proto_ctx *c;
	enum bs_addr_ctx actx;
	uint64_t ref;
	bool to_client;
	bs_str column;
};

static void emit_one_addr(void *vctx, const char *addr, size_t n)
{
	struct addr_emit *a = vctx;
	struct bs_event ev;
	bs_proto_event(a->c, &ev, BS_EV_ADDR);
	ev.u.addr.ctx = a->actx;
	ev.u.addr.ref = a->ref;
	ev.u.addr.address = bs_str_make(addr, n);
	ev.u.addr.to_client = a->to_client;
	ev.u.addr.normal = bs_addr_scanned_is_normal(addr, n);
	ev.u.addr.column = a->column;
	bs_emit(a->c->sink, &ev);
}

void bs_proto_emit_addrs(const struct bs_proto_ctx *c, enum bs_addr_ctx actx, uint64_t ref,
                         bool to_client, bs_str column, const char *p, size_t n)
{
	struct addr_emit a = { c, actx, ref, to_client, column };
	bs_addr_scan(p, n, false, emit_one_addr, &a);
}

void bs_proto_addr_window(const struct bs_proto_ctx *c, enum bs_addr_ctx actx, uint64_t ref, bool to_client,
                          const char *p, size_t n, size_t fresh_from, bool final)
{
	struct addr_emit a = { c, actx, ref, to_client, BS_STR_NULL };
	bs_addr_scan_window(p, n, fresh_from, final, false, emit_one_addr, &a);
}

/* ------------------------------------------------------------------ expectations */

static bool expired(const struct expectation *x, bs_time now)
{
	return !x->flow && now != BS_TIME_NONE && x->ts != BS_TIME_NONE && now - x->ts > BS_DISPATCH_EXPECT_TTL;
}

static void copy_cstr(char *dst, size_t cap, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, s, n);
	dst[n] = 0;
}

/* A transfer announced with its file name whose data connection never
 * came (not in the capture): still a transfer, of unknown size, at the time
 * and on the control connection of its command. */
static void expect_unseen(struct bs_dispatch *d, struct expectation *x)
{
	if (!x->used || x->flow || !x->filename[0] || !x->has_ctl)
		return;
	struct bs_event ev;
	bs_proto_event(&x->ctl, &ev, BS_EV_FILEXFER);
	ev.u.xfer.proto = BS_STR_LIT("ftp");
	ev.u.xfer.upload = x->upload;
	ev.u.xfer.filename = bs_str_make(x->filename, strlen(x->filename));
	ev.u.xfer.user = bs_str_make(x->user, strlen(x->user));
	ev.u.xfer.size_unknown = true;
	bs_emit(d->sink, &ev);
	d->count.filexfers_unseen++;
}

static void expect_forget(struct bs_dispatch *d, struct expectation *x)
{
	expect_unseen(d, x);
	x->used = false;
}

static void expect_announce(struct bs_dispatch *d, const struct bs_proto_ctx *ctl, const bs_ip *ip, uint16_t port,
                            uint64_t cookie, const char *filename, bool upload, const char *user, bs_time now)
{
	struct expectation *slot = NULL, *oldest = NULL;
	for (size_t i = 0; i < BS_DISPATCH_MAX_EXPECT; i++) {
		struct expectation *x = &d->expect[i];
		if (x->used && expired(x, now)) {
			expect_forget(d, x);
			d->count.expect_expired++;
		}
		if (x->used && x->port == port && bs_ip_eq(&x->ip, ip)) {
			/* the same endpoint again: RETR/STOR after PASV names the
			 * file; a new transfer on it ends the one not seen */
			slot = x;
			if (x->cookie != cookie) {
				expect_unseen(d, x);
				x->filename[0] = 0;
				x->has_ctl = false;
			}
			d->count.expect_replaced++;
			break;
		}
		if (!x->used && !slot)
			slot = x;
		if (x->used && !x->flow && (!oldest || x->ts < oldest->ts))
			oldest = x;
	}
	if (!filename && (!slot || !slot->used || slot->port != port || !bs_ip_eq(&slot->ip, ip)))
		return; /* a transfer refused on an endpoint no longer expected */
	if (!slot) {
		if (!oldest) {
			d->count.expect_dropped++; /* every slot feeds an open data connection */
			return;
		}
		slot = oldest;
		expect_unseen(d, slot);
		d->count.expect_dropped++;
	}
	if ((size_t)(slot - d->expect) >= d->expect_hi)
		d->expect_hi = (size_t)(slot - d->expect) + 1;
	if (!slot->used || slot->port != port || !bs_ip_eq(&slot->ip, ip)) {
		memset(slot, 0, sizeof *slot);
		slot->used = true;
		slot->ip = *ip;
		slot->port = port;
		d->count.expect_added++;
	}
	slot->cookie = cookie;
	slot->ts = now;
	slot->upload = upload;
	if (!filename)
		slot->filename[0] = 0; /* the transfer was refused: nothing to report */
	else if (*filename)
		copy_cstr(slot->filename, sizeof slot->filename, filename);
	if (user && *user)
		copy_cstr(slot->user, sizeof slot->user, user);
	if (ctl && filename && *filename) {
		slot->ctl = *ctl;
		slot->has_ctl = true;
	}
}

void bs_dispatch_expect(struct bs_dispatch *d, const bs_ip *ip, uint16_t port, uint64_t cookie,
                        const char *filename, bool upload, const char *user, bs_time now)
{
	expect_announce(d, NULL, ip, port, cookie, filename, upload, user, now);
}

static void on_expect(void *disp, const bs_ip *ip, uint16_t port, uint64_t cookie,
                      const char *filename, bool upload, const char *user)
{
	struct bs_dispatch *d = disp;
	expect_announce(d, d->cur, ip, port, cookie, filename, upload, user, d->now);
}

static struct expectation *expect_take(struct bs_dispatch *d, const bs_ip *ip, uint16_t port, bs_time now)
{
	for (size_t i = 0; i < d->expect_hi; i++) {
		struct expectation *x = &d->expect[i];
		if (!x->used || x->flow || x->port != port || !bs_ip_eq(&x->ip, ip))
			continue;
		if (expired(x, now)) {
			expect_forget(d, x);
			d->count.expect_expired++;
			continue;
		}
		return x;
	}
	return NULL;
}

/* ------------------------------------------------------------------ sniffing */

static bool claims(size_t i, int dir, const uint8_t *p, size_t n)
{
	const struct bs_proto_def *def = bs_stream_protocols[i];
	return !def->udp && def->sniff && def->sniff(dir, p, n);
}

static const char *opaque_name(const uint8_t *p, size_t n)
{
	if (n >= 3 && p[0] == 0x16 && p[1] == 0x03 && p[2] <= 0x04)
		return "tls";
	if (n >= 4 && memcmp(p, "SSH-", 4) == 0)
		return "ssh";
	return NULL;
}

/* ------------------------------------------------------------------ per flow */

static void set_endpoints(struct dflow *df, const struct bs_cflow *f)
{
	const struct bs_flow_key *k = &f->key;
	df->pc.cli = df->swap ? k->srv : k->cli;
	df->pc.srv = df->swap ? k->cli : k->srv;
	df->pc.cport = df->swap ? k->sport : k->cport;
	df->pc.sport = df->swap ? k->cport : k->sport;
}

static void start_proto(struct bs_dispatch *d, struct bs_cflow *f, struct dflow *df, size_t i)
{
	const struct bs_proto_def *def = bs_stream_protocols[i];
	df->kind = K_PROTO;
	df->proto = i;
	df->state = NULL; /* allocated with the first byte or gap: a SYN flood costs no parser state */
	set_endpoints(df, f);
	f->app = def->name;
	d->count.proto_flows[i]++;
}

static void *proto_state(struct dflow *df)
{
	if (!df->state) {
		const struct bs_proto_def *def = bs_stream_protocols[df->proto];
		/* not calloc: every init sets what it needs (HTTP leaves its
		 * big buffers alone), and zeroing 43 KB twice per flow showed */
		df->state = bs_xmalloc(def->state_size);
		def->init(df->state);
	}
	return df->state;
}

/* The packet a flow's next events come from: its time, number and file (a
 * flow can continue into the next rotated file). */
static void at_packet(struct bs_dispatch *d, struct dflow *df, bs_time ts, uint64_t pktno)
{
	df->pc.ts = ts;
	df->pc.pktno = pktno;
	df->pc.input = d->input;
}

/* A stream parser gave up on a flow (or a datagram): why, with the packet
 * and the flow's endpoints, to the diagnostics path. */
static void proto_error(const struct bs_dispatch *d, const struct bs_proto_def *def, const struct bs_proto_ctx *pc,
                        int err)
{
	if (!bs_diag_on(d->diag))
		return;
	char cli[BS_IP_STRLEN], srv[BS_IP_STRLEN];
	bs_ip_format(&pc->cli, cli, sizeof cli);
	bs_ip_format(&pc->srv, srv, sizeof srv);
	bs_diag(d->diag, pc->input, pc->pktno, true, def->name, "%s (flow %s port %u -> %s port %u)",
	        def->strerror ? def->strerror(err) : "parse error", cli, (unsigned)pc->cport, srv, (unsigned)pc->sport);
}

static void sniff_data(struct bs_dispatch *d, struct bs_cflow *f, struct dflow *df, int dir,
                       const uint8_t *p, size_t n, bs_time ts, uint64_t pktno);

/* The module said the rest of the flow is a tunnel (ctx.tunnel): end it and
 * sniff what follows like a new flow's first bytes, so that SMTP through an
 * HTTP proxy is parsed as SMTP. */
static void enter_tunnel(struct bs_dispatch *d, struct bs_cflow *f, struct dflow *df, int dir,
                         const uint8_t *p, size_t n, bs_time ts, uint64_t pktno)
{
	size_t at = df->pc.tunnel_at < n ? df->pc.tunnel_at : n;
	df->pc.tunnel = false;
	bs_stream_protocols[df->proto]->end(df->state, &df->pc);
	free(df->state);
	df->state = NULL;
	df->kind = K_UNDECIDED;
	df->failed = false;
	df->sniff_len[0] = df->sniff_len[1] = 0;
	d->count.tunnels++;
	if (at < n)
		sniff_data(d, f, df, dir, p + at, n - at, ts, pktno);
}

static void feed_proto(struct bs_dispatch *d, struct bs_cflow *f, struct dflow *df, int dir, const uint8_t *p,
                       size_t n, bs_time ts, uint64_t pktno)
{
	if (df->kind != K_PROTO || df->failed || n == 0)
		return;
	const struct bs_proto_def *def = bs_stream_protocols[df->proto];
	proto_state(df);
	at_packet(d, df, ts, pktno);
	d->now = ts;
	d->cur = &df->pc;
	int err = def->feed(df->state, &df->pc, df->swap ? !dir : dir, p, n);
	d->cur = NULL;
	if (err) {
		df->failed = true; /* not fed again; end() still flushes and frees */
		d->count.proto_errors[df->proto]++;
		proto_error(d, def, &df->pc, err);
	} else if (df->pc.tunnel) {
		enter_tunnel(d, f, df, dir, p, n, ts, pktno);
	}
}

struct payload_scan {
	struct dflow *df;
	struct bs_scan_window *win;
	bool to_client;
};

static void payload_window_cb(void *vctx, const char *p, size_t n, size_t fresh, bool final)
{
	struct payload_scan *s = vctx;
	bs_proto_addr_window(&s->df->pc, BS_ADDR_PAYLOAD, 0, s->to_client, p, n, fresh, final);
}

/* A payload's bytes for the scan (bs_gzfile's output: a gzip file sent
 * over FTP or a raw connection is inflated first). */
static void payload_out(void *ctx, const char *b, size_t n)
{
	struct payload_scan *s = ctx;
	bs_window_feed(s->win, b, n, payload_window_cb, s);
}

static void payload(struct bs_dispatch *d, struct dflow *df, int dir, const uint8_t *p, size_t n,
                    bs_time ts, uint64_t pktno, bool final)
{
	int sd = df->swap ? !dir : dir;
	if (!df->win[dir]) {
		if (!n)
			return;
		df->win[dir] = bs_xmalloc(sizeof *df->win[dir]);
		bs_window_reset(df->win[dir]);
		bs_gzfile_init(&df->gz[dir], PAYLOAD_GZIP_MAX);
	}
	at_packet(d, df, ts, pktno);
	struct payload_scan s = { df, df->win[dir], sd == 1 };
	d->count.payload_bytes += n;
	if (n)
		bs_gzfile_feed(&df->gz[dir], p, n, payload_out, &s);
	if (final) {
		d->count.gzip_files += df->gz[dir].gzip;
		bs_gzfile_end(&df->gz[dir], payload_out, &s);
		bs_window_end(df->win[dir], payload_window_cb, &s);
	}
}

static void become_unknown(struct bs_dispatch *d, struct bs_cflow *f, struct dflow *df, bs_time ts, uint64_t pktno)
{
	df->kind = K_UNKNOWN;
	d->count.unknown++;
	set_endpoints(df, f);
	for (int k = 0; k < 2; k++) {
		int dir = k == 0 ? df->first_dir : !df->first_dir;
		payload(d, df, dir, df->sniff[dir], df->sniff_len[dir], ts, pktno, false);
		df->sniff_len[dir] = 0;
	}
}

static void d_data(void *ctx, struct bs_cflow *f, int dir, const uint8_t *p, size_t n, bs_time ts, uint64_t pktno);

/* Buffer the first bytes until a module claims the flow, then replay them. */
static void sniff_data(struct bs_dispatch *d, struct bs_cflow *f, struct dflow *df, int dir,
                       const uint8_t *p, size_t n, bs_time ts, uint64_t pktno)
{
	if (df->sniff_len[0] + df->sniff_len[1] == 0)
		df->first_dir = dir;
	size_t room = SNIFF_MAX - df->sniff_len[dir];
	size_t take = n < room ? n : room;
	memcpy(df->sniff[dir] + df->sniff_len[dir], p, take);
	df->sniff_len[dir] += take;
	const uint8_t *b = df->sniff[dir];
	size_t bn = df->sniff_len[dir];

	const char *opaque = opaque_name(b, bn);
	if (opaque) {
		df->kind = K_OPAQUE;
		f->app = opaque;
		f->encrypted = true;
		d->count.opaque++;
		return;
	}
	size_t claimed = BS_DISPATCH_NPROTO;
	bool swap = false;
	for (size_t i = 0; i < BS_DISPATCH_NPROTO && claimed == BS_DISPATCH_NPROTO; i++) {
		if (claims(i, dir, b, bn)) {
			claimed = i;
		} else if (!f->handshake_seen && claims(i, !dir, b, bn)) {
			/* no SYN seen: the engine's "client" may be the server */
			claimed = i;
			swap = true;
		}
	}
	if (claimed < BS_DISPATCH_NPROTO) {
		df->swap = swap;
		if (swap)
			d->count.swapped++;
		d->count.by_sniff++;
		start_proto(d, f, df, claimed);
		for (int k = 0; k < 2; k++) {
			int rd = k == 0 ? df->first_dir : !df->first_dir;
			size_t len = df->sniff_len[rd];
			df->sniff_len[rd] = 0;
			if (rd == dir && take < n) {
				/* this segment went partly into the buffer: feed it whole */
				len -= take;
				feed_proto(d, f, df, rd, df->sniff[rd], len, ts, pktno);
				d_data(d, f, rd, p, n, ts, pktno); /* by kind: a tunnel may have begun */
			} else {
				feed_proto(d, f, df, rd, df->sniff[rd], len, ts, pktno);
			}
		}
		return;
	}
	/* Nobody claims a whole first line (or SNIFF_MAX bytes): give up, unless
	 * the other side has started a line that may still be claimed. */
	bool done_here = memchr(b, '\n', bn) != NULL || bn == SNIFF_MAX;
	const uint8_t *ob = df->sniff[!dir];
	size_t on = df->sniff_len[!dir];
	bool other_waiting = on > 0 && on < SNIFF_MAX && !memchr(ob, '\n', on);
	if (done_here && !other_waiting) {
		become_unknown(d, f, df, ts, pktno);
		if (take < n)
			payload(d, df, dir, p + take, n - take, ts, pktno, false);
	} else if (take < n) {
		/* buffer full while waiting for the other side: stop waiting */
		become_unknown(d, f, df, ts, pktno);
		payload(d, df, dir, p + take, n - take, ts, pktno, false);
	}
}

/* What the dispatcher holds for a flow, told to the capture engine after
 * each callback (bs_cflow.user_bytes, charged against its memory cap): the
 * record, the protocol state once allocated (HTTP's is the big one), the
 * payload windows. */
static void charge(struct bs_cflow *f, const struct dflow *df)
{
	size_t n = sizeof *df;
	if (df->state) {
		const struct bs_proto_def *def = bs_stream_protocols[df->proto];
		n += def->state_size + (def->held_bytes ? def->held_bytes(df->state) : 0);
	}
	for (int dir = 0; dir < 2; dir++)
		if (df->win[dir])
			n += sizeof *df->win[dir] + bs_gzfile_held_bytes(&df->gz[dir]);
	f->user_bytes = n;
}

static bool port_in(const struct bs_proto_def *def, uint16_t port)
{
	for (size_t k = 0; k < sizeof def->ports / sizeof def->ports[0] && def->ports[k]; k++)
		if (def->ports[k] == port)
			return true;
	return false;
}

static void d_open(void *ctx, struct bs_cflow *f)
{
	struct bs_dispatch *d = ctx;
	struct dflow *df = bs_xcalloc(1, sizeof *df);
	f->user = df;
	df->pc.sink = d->sink;
	df->pc.input = d->input;
	df->pc.flow_id = f->id;
	df->pc.expect = on_expect;
	df->pc.disp = d;
	df->pc.ts = f->first;
	set_endpoints(df, f);
	charge(f, df);
	d->count.flows++;
	if (f->key.proto != 6)
		return;
	const struct bs_flow_key *k = &f->key;
	bs_time now = f->first != BS_TIME_NONE ? f->first : d->now;

	/* An announced FTP data connection: to the announced ip:port. */
	struct expectation *x = expect_take(d, &k->srv, k->sport, now);
	if (!x && !f->handshake_seen && (x = expect_take(d, &k->cli, k->cport, now)) != NULL)
		df->swap = true;
	if (x) {
		x->flow = df;
		df->x = x;
		df->kind = K_FTPDATA;
		set_endpoints(df, f);
		f->app = "ftp-data";
		d->count.by_expect++;
		return;
	}
	for (size_t i = 0; i < BS_DISPATCH_NPROTO; i++) {
		if (bs_stream_protocols[i]->udp)
			continue;
		if (port_in(bs_stream_protocols[i], k->sport)) {
			d->count.by_port++;
			start_proto(d, f, df, i);
			return;
		}
	}
	if (!f->handshake_seen) {
		for (size_t i = 0; i < BS_DISPATCH_NPROTO; i++) {
			if (!bs_stream_protocols[i]->udp && port_in(bs_stream_protocols[i], k->cport)) {
				df->swap = true;
				d->count.by_port++;
				d->count.swapped++;
				start_proto(d, f, df, i);
				return;
			}
		}
	}
}

static void d_data(void *ctx, struct bs_cflow *f, int dir, const uint8_t *p, size_t n, bs_time ts, uint64_t pktno)
{
	struct bs_dispatch *d = ctx;
	struct dflow *df = f->user;
	if (!df || !n)
		return;
	dir = dir ? 1 : 0;
	d->now = ts;
	switch (df->kind) {
	case K_UNDECIDED:
		sniff_data(d, f, df, dir, p, n, ts, pktno);
		break;
	case K_PROTO:
		feed_proto(d, f, df, dir, p, n, ts, pktno);
		break;
	case K_FTPDATA:
		df->xfer_bytes += n;
		payload(d, df, dir, p, n, ts, pktno, false);
		break;
	case K_UNKNOWN:
		payload(d, df, dir, p, n, ts, pktno, false);
		break;
	case K_OPAQUE:
		break;
	}
	charge(f, df);
}

static void d_gap(void *ctx, struct bs_cflow *f, int dir, uint64_t n, bs_time ts, uint64_t pktno)
{
	struct bs_dispatch *d = ctx;
	struct dflow *df = f->user;
	if (!df)
		return;
	dir = dir ? 1 : 0;
	d->now = ts;
	switch (df->kind) {
	case K_UNDECIDED:
		/* the first bytes are lost: no sniffing on a torn start */
		become_unknown(d, f, df, ts, pktno);
		/* fall through */
	case K_UNKNOWN:
	case K_FTPDATA:
		if (df->kind == K_FTPDATA)
			df->xfer_bytes += n;
		payload(d, df, dir, NULL, 0, ts, pktno, true); /* no match across the hole */
		break;
	case K_PROTO:
		if (!df->failed) {
			at_packet(d, df, ts, pktno);
			bs_stream_protocols[df->proto]->gap(proto_state(df), &df->pc, df->swap ? !dir : dir, n);
		}
		break;
	case K_OPAQUE:
		break;
	}
	charge(f, df);
}

static void d_close(void *ctx, struct bs_cflow *f, enum bs_flow_end why, bs_time ts)
{
	struct bs_dispatch *d = ctx;
	struct dflow *df = f->user;
	(void)why;
	if (!df)
		return;
	d->now = ts;
	if (df->kind == K_UNDECIDED && df->sniff_len[0] + df->sniff_len[1])
		become_unknown(d, f, df, ts, df->pc.pktno);
	switch (df->kind) {
	case K_PROTO:
		df->pc.ts = ts;
		if (df->state) { /* a flow that never carried a byte has nothing to flush */
			const struct bs_proto_def *def = bs_stream_protocols[df->proto];
			def->end(df->state, &df->pc);
			if (def->encrypted && def->encrypted(df->state))
				f->encrypted = true;
		}
		break;
	case K_FTPDATA:
	case K_UNKNOWN:
		for (int dir = 0; dir < 2; dir++)
			payload(d, df, dir, NULL, 0, ts, df->pc.pktno, true);
		if (df->kind == K_FTPDATA && df->x) {
			struct expectation *x = df->x;
			if (x->filename[0]) {
				struct bs_event ev;
				df->pc.ts = ts;
				bs_proto_event(&df->pc, &ev, BS_EV_FILEXFER);
				ev.u.xfer.proto = BS_STR_LIT("ftp");
				ev.u.xfer.upload = x->upload;
				ev.u.xfer.filename = bs_str_make(x->filename, strlen(x->filename));
				ev.u.xfer.size = df->xfer_bytes;
				ev.u.xfer.user = bs_str_make(x->user, strlen(x->user));
				bs_emit(d->sink, &ev);
				d->count.filexfers++;
			}
			x->used = false;
			x->flow = NULL;
		}
		break;
	default:
		break;
	}
	for (int dir = 0; dir < 2; dir++)
		if (df->win[dir]) /* a payload never ended (no final call) */
			bs_gzfile_drop(&df->gz[dir]);
	free(df->win[0]);
	free(df->win[1]);
	free(df->state);
	free(df);
	f->user = NULL;
	f->user_bytes = 0;
}

/* The datagram module on the key's server port, else on its client port
 * (*swap: the key's "client" sent from the module's port); BS_DISPATCH_NPROTO
 * when no module takes the datagram. */
static size_t udp_module_for(const struct bs_flow_key *k, bool *swap)
{
	for (int side = 0; side < 2; side++) {
		for (size_t i = 0; i < BS_DISPATCH_NPROTO; i++) {
			const struct bs_proto_def *def = bs_stream_protocols[i];
			if (def->udp && port_in(def, side == 0 ? k->sport : k->cport)) {
				*swap = side == 1;
				return i;
			}
		}
	}
	return BS_DISPATCH_NPROTO;
}

static void d_udp(void *ctx, const struct bs_flow_key *k, int dir, const uint8_t *p, size_t n,
                  bs_time ts, uint64_t pktno)
{
	struct bs_dispatch *d = ctx;
	d->now = ts;
	bool swap = false;
	size_t i = udp_module_for(k, &swap);
	if (i == BS_DISPATCH_NPROTO) {
		d->count.udp_ignored++;
		return;
	}
	const struct bs_proto_def *def = bs_stream_protocols[i];
	struct udp_module *m = &d->udp[i];
	if (!m->state) {
		m->state = bs_xcalloc(1, def->state_size);
		def->init(m->state);
		d->count.proto_flows[i]++;
	}
	struct bs_proto_ctx *pc = &m->pc;
	pc->sink = d->sink;
	pc->input = d->input;
	pc->flow_id = 0;
	pc->cli = swap ? k->srv : k->cli;
	pc->srv = swap ? k->cli : k->srv;
	pc->cport = swap ? k->sport : k->cport;
	pc->sport = swap ? k->cport : k->sport;
	pc->ts = ts;
	pc->pktno = pktno;
	pc->expect = on_expect;
	pc->disp = d;
	d->count.udp_datagrams++;
	int err = def->feed(m->state, pc, swap ? !dir : dir, p, n);
	if (err) {
		/* one bad datagram must not silence DNS for the rest of the input */
		d->count.udp_errors++;
		d->count.proto_errors[i]++;
		proto_error(d, def, pc, err);
		def->end(m->state, pc);
		def->init(m->state);
	}
}

static const struct bs_stream_ops dispatch_ops = {
	.open = d_open, .data = d_data, .gap = d_gap, .close = d_close, .udp = d_udp,
};

const struct bs_stream_ops *bs_dispatch_ops(void) { return &dispatch_ops; }

struct bs_dispatch *bs_dispatch_new(uint32_t input, const struct bs_sink *sink)
{
	struct bs_dispatch *d = bs_xcalloc(1, sizeof *d);
	d->input = input;
	d->sink = sink;
	d->now = BS_TIME_NONE;
	return d;
}

void bs_dispatch_set_input(struct bs_dispatch *d, uint32_t input)
{
	d->input = input;
}

void bs_dispatch_set_diag(struct bs_dispatch *d, const struct bs_diag *diag)
{
	d->diag = diag;
}

const struct bs_dispatch_counters *bs_dispatch_counters(const struct bs_dispatch *d) { return &d->count; }

const char *bs_dispatch_proto_name(size_t i)
{
	return i < BS_DISPATCH_NPROTO ? proto_labels[i] : "?";
}

void bs_dispatch_print(const struct bs_dispatch *d, FILE *out)
{
	const struct bs_dispatch_counters *c = &d->count;
#define P(f) do { if (c->f) fprintf(out, "dispatch %s %llu\n", #f, (unsigned long long)c->f); } while (0)
	P(flows); P(by_expect); P(by_port); P(by_sniff); P(swapped); P(unknown); P(opaque); P(tunnels);
	P(udp_datagrams); P(udp_errors); P(udp_ignored); P(expect_added); P(expect_replaced);
	P(expect_dropped); P(expect_expired); P(payload_bytes); P(filexfers); P(filexfers_unseen); P(gzip_files);
#undef P
	for (size_t i = 0; i < BS_DISPATCH_NPROTO; i++)
		if (c->proto_flows[i] || c->proto_errors[i])
			fprintf(out, "dispatch %s flows %llu errors %llu\n", bs_dispatch_proto_name(i),
			        (unsigned long long)c->proto_flows[i], (unsigned long long)c->proto_errors[i]);
}

void bs_dispatch_free(struct bs_dispatch *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < BS_DISPATCH_NPROTO; i++) {
		if (d->udp[i].state) {
			bs_stream_protocols[i]->end(d->udp[i].state, &d->udp[i].pc);
			free(d->udp[i].state);
		}
	}
	for (size_t i = 0; i < BS_DISPATCH_MAX_EXPECT; i++)
		expect_unseen(d, &d->expect[i]);
	if (getenv("BS_DEBUG_PROTO"))
		bs_dispatch_print(d, stderr);
	free(d);
}
