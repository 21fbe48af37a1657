/* proto.h - the protocol dispatcher and the contract of every stream parser.
 *
 * The dispatcher implements bs_stream_ops for the capture engine: per flow it
 * picks a protocol parser by port, or by sniffing the first bytes when the
 * port says nothing, and feeds it. The parsers it knows are listed once, in
 * BS_STREAM_PROTOCOLS below. Each protocol parser (http.h, smtp.h,
 * imap.h, pop3.h, ftp.h, mysql.h, dns.h) has the shape of a push parser:
 * a state enum, an error enum, a fixed-size state struct, and
 *   void X_init(struct X *p);
 *   enum X_err X_feed(struct X *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);
 *   void X_gap(struct X *p, struct bs_proto_ctx *c, int dir, uint64_t n);   (resynchronise)
 *   void X_end(struct X *p, struct bs_proto_ctx *c);                         (flush at close)
 *   const char *X_strerror(enum X_err e);
 * fed arbitrary segment boundaries (one byte at a time must give the same events).
 */
#ifndef BS_PROTO_H
#define BS_PROTO_H

#include "src/core/common.h"
#include "src/core/diag.h"
#include "src/core/event.h"
#include "parsers/capture/capture.h"

#include <stdio.h>

/* What a stream parser needs to build events: updated by the dispatcher
 * before every feed call. */
struct bs_proto_ctx {
	const struct bs_sink *sink;
	uint32_t input;
	uint64_t flow_id;
	bs_ip cli, srv;
	uint16_t cport, sport;
	bs_time ts;               /* time of the packet whose bytes are being fed */
	uint64_t pktno;
	/* For FTP: announce a data connection to ip:port (PASV/EPSV/PORT/EPRT).
	 * A file name names the transfer; "" keeps the name already announced
	 * (none for a listing); NULL forgets it (the server refused the
	 * transfer). A named transfer whose data connection never comes is
	 * reported by the dispatcher, size unknown. */
	void (*expect)(void *disp, const bs_ip *ip, uint16_t port, uint64_t cookie,
	               const char *filename, bool upload, const char *user);
	void *disp;
	/* Set by a module inside feed(): from byte tunnel_at of the bytes being
	 * fed on, the flow carries another protocol (an HTTP CONNECT answered
	 * 2xx). The dispatcher ends the module and sniffs what follows as it
	 * would a new flow's first bytes. */
	bool tunnel;
	size_t tunnel_at;
};

/* Fill an event's common fields (type, ts, origin, endpoints) from a ctx. */
void bs_proto_event(const struct bs_proto_ctx *c, struct bs_event *ev, enum bs_event_type t);
/* One BS_EV_AUTH from a stream parser: user, method, success 1, 0, or -1
 * when the capture holds no reply. Every parser that sees a
 * login uses it. */
void bs_emit_auth(const struct bs_proto_ctx *c, enum bs_auth_proto proto, bs_str user, bs_str method, int success);
/* Scan bytes for addresses and emit one BS_EV_ADDR per address found. */
void bs_proto_emit_addrs(const struct bs_proto_ctx *c, enum bs_addr_ctx actx, uint64_t ref,
                         bool to_client, bs_str column, const char *p, size_t n);
/* Scan one window (see bs_window_feed) and emit a BS_EV_ADDR per address
 * found, like bs_proto_emit_addrs does for a whole buffer. */
void bs_proto_addr_window(const struct bs_proto_ctx *c, enum bs_addr_ctx actx, uint64_t ref, bool to_client,
                          const char *p, size_t n, size_t fresh_from, bool final);

/* How the dispatcher knows a protocol module. Each module defines one
 * `const struct bs_proto_def bs_proto_ID`, declares it in its own header and
 * has one line in BS_STREAM_PROTOCOLS below. */
struct bs_proto_def {
	const char *name;                  /* "http", also bs_cflow.app */
	uint16_t ports[6];                 /* well-known server ports, 0-terminated */
	/* Does this look like the protocol? First bytes of a direction (client
	 * first for dir 0). Returns true to claim the flow. NULL for datagram
	 * modules, which are chosen by port only. */
	bool (*sniff)(int dir, const uint8_t *p, size_t n);
	size_t state_size;                 /* bytes of the per-flow state */
	void (*init)(void *state);
	/* Returns 0 while fine, a module error code once the flow is unparseable
	 * (the dispatcher then stops feeding it and counts it). */
	int (*feed)(void *state, struct bs_proto_ctx *c, int dir, const uint8_t *p, size_t n);
	void (*gap)(void *state, struct bs_proto_ctx *c, int dir, uint64_t n);
	void (*end)(void *state, struct bs_proto_ctx *c);
	const char *(*strerror)(int err);
	/* Bytes the state holds on the heap beyond state_size (a store that
	 * grows with the flow), charged to the flow's memory; NULL: none. */
	size_t (*held_bytes)(const void *state);
	/* Whether the flow turned to TLS (STARTTLS accepted, a MySQL SSL
	 * request): what follows cannot be read. Asked at the flow's end, so
	 * that its record says so; NULL: never. */
	bool (*encrypted)(const void *state);
	/* Datagrams (DNS over UDP): feed() gets one whole datagram, and one state
	 * serves every datagram of an input. Never chosen for a TCP flow. */
	bool udp;
};

/* The protocol registry: one line X(ID, LABEL) per module, where
 * bs_proto_ID is the module's bs_proto_def and LABEL names its counters
 * (bs_dispatch_proto_name(), BS_DEBUG_PROTO). TCP modules are tried in this
 * order, by port and then by sniffing (the first claim wins), and the
 * counters are printed in it: add a protocol where it should be tried, and
 * include its header in proto.c. */
#define BS_STREAM_PROTOCOLS(X) \
	X(http, "http") \
	X(smtp, "smtp") \
	X(ftp, "ftp") \
	X(imap, "imap") \
	X(pop3, "pop3") \
	X(mysql, "mysql") \
	X(dns_tcp, "dns") \
	X(dns, "dns-udp")

#define BS_PROTO_COUNT_ONE(id, label) + 1
enum { BS_DISPATCH_NPROTO = 0 BS_STREAM_PROTOCOLS(BS_PROTO_COUNT_ONE) };
#undef BS_PROTO_COUNT_ONE

/* The registry's modules, in BS_STREAM_PROTOCOLS order (the fuzz target
 * drives them directly). */
extern const struct bs_proto_def *const bs_stream_protocols[BS_DISPATCH_NPROTO];

/* ------------------------------------------------------------------ dispatcher */
#define BS_DISPATCH_MAX_EXPECT 64
#define BS_DISPATCH_EXPECT_TTL (300 * BS_USEC) /* of capture time */

struct bs_dispatch_counters {
	uint64_t flows, by_expect, by_port, by_sniff, swapped, unknown, opaque, tunnels;
	uint64_t proto_flows[BS_DISPATCH_NPROTO], proto_errors[BS_DISPATCH_NPROTO]; /* registry order */
	uint64_t udp_datagrams, udp_errors, udp_ignored;
	uint64_t expect_added, expect_replaced, expect_dropped, expect_expired;
	uint64_t payload_bytes, filexfers;
	uint64_t gzip_files;              /* payloads that were gzip files, inflated for the scan */
	uint64_t filexfers_unseen;        /* announced transfers whose data connection never came */
};

struct bs_dispatch;
struct bs_dispatch *bs_dispatch_new(uint32_t input, const struct bs_sink *sink);
const struct bs_stream_ops *bs_dispatch_ops(void);
/* The input the next bytes come from (rotated captures of one link share one
 * dispatcher: a flow's events name the file that held their packet). */
void bs_dispatch_set_input(struct bs_dispatch *d, uint32_t input);
/* Where a parser's error on a flow is reported (src/core/diag.h), with the
 * packet number and the flow's endpoints; NULL (the default): nowhere. */
void bs_dispatch_set_diag(struct bs_dispatch *d, const struct bs_diag *diag);
/* Prints the counters to stderr first when BS_DEBUG_PROTO is set. */
void bs_dispatch_free(struct bs_dispatch *d);

const struct bs_dispatch_counters *bs_dispatch_counters(const struct bs_dispatch *d);
/* LABEL of the i-th registry entry, "?" out of range. */
const char *bs_dispatch_proto_name(size_t i);
/* One line per non-zero counter, for --debug style output. */
void bs_dispatch_print(const struct bs_dispatch *d, FILE *out);
/* What ctx->expect does, callable directly (tests, other announcers). */
void bs_dispatch_expect(struct bs_dispatch *d, const bs_ip *ip, uint16_t port, uint64_t cookie,
                        const char *filename, bool upload, const char *user, bs_time now);

#endif
