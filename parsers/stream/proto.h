/* proto.h - the protocol dispatcher and the contract of every stream parser.
 *
 * The dispatcher implements bs_stream_ops for the capture engine: per flow it
 * picks a protocol parser by port, or by sniffing the first bytes when the
 * port says nothing, and feeds it. Each protocol parser (http.h, smtp.h,
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
#include "src/core/event.h"
#include "parsers/capture/capture.h"

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
	/* For FTP: announce a data connection to ip:port (PASV/EPSV/PORT/EPRT). */
	void (*expect)(void *disp, const bs_ip *ip, uint16_t port, uint64_t cookie,
	               const char *filename, bool upload, const char *user);
	void *disp;
};

/* Fill an event's common fields (type, ts, origin, endpoints) from a ctx. */
void bs_proto_event(const struct bs_proto_ctx *c, struct bs_event *ev, enum bs_event_type t);
/* Scan bytes for addresses and emit one BS_EV_ADDR per address found. */
void bs_proto_emit_addrs(const struct bs_proto_ctx *c, enum bs_addr_ctx actx, uint64_t ref,
                         bool to_client, bs_str column, const char *p, size_t n);

struct bs_dispatch;
struct bs_dispatch *bs_dispatch_new(uint32_t input, const struct bs_sink *sink);
const struct bs_stream_ops *bs_dispatch_ops(void);
/* The input the next bytes come from (rotated captures of one link share one
 * dispatcher: a flow's events name the file that held their packet). */
void bs_dispatch_set_input(struct bs_dispatch *d, uint32_t input);
void bs_dispatch_free(struct bs_dispatch *d);

#endif

#ifndef BS_PROTO_DEF_DEFINED
#define BS_PROTO_DEF_DEFINED
/* How the dispatcher knows a protocol module. Each module exports one
 * `const struct bs_proto_def bs_proto_NAME` (http, smtp, imap, pop3, ftp,
 * mysql, dns) and the dispatcher lists them in proto.c. */
struct bs_proto_def {
	const char *name;                  /* "http", also bs_cflow.app */
	uint16_t ports[6];                 /* well-known server ports, 0-terminated */
	/* Does this look like the protocol? First bytes of a direction (client
	 * first for dir 0). Returns true to claim the flow. May be NULL. */
	bool (*sniff)(int dir, const uint8_t *p, size_t n);
	size_t state_size;                 /* bytes of the per-flow state */
	void (*init)(void *state);
	/* Returns 0 while fine, a module error code once the flow is unparseable
	 * (the dispatcher then stops feeding it and counts it). */
	int (*feed)(void *state, struct bs_proto_ctx *c, int dir, const uint8_t *p, size_t n);
	void (*gap)(void *state, struct bs_proto_ctx *c, int dir, uint64_t n);
	void (*end)(void *state, struct bs_proto_ctx *c);
	const char *(*strerror)(int err);
	bool udp;                          /* datagrams (DNS): feed() gets one whole datagram */
};
#endif
