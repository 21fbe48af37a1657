/* dns.h - DNS parser: UDP datagrams (bs_proto_dns) and TCP streams with the
 * 2-byte length prefix (bs_proto_dns_tcp), one state shape for both.
 *
 * Queries wait in a table keyed by (querier address and port, id, qname):
 * small per TCP flow; for UDP the dispatcher keeps one state for all
 * datagrams of an input, so that table is larger. Each answer
 * gives one BS_EV_DNS (qname, qtype, A/AAAA addresses, the first CNAME,
 * rcode); queries never answered are reported at the end with rcode -1.
 * Names are decoded with compression pointers that must go strictly
 * backwards (no loops), at most 255 bytes. Malformed messages are counted.
 */
#ifndef BS_DNS_H
#define BS_DNS_H

#include "parsers/stream/proto.h"

enum bs_dns_err { BS_DNS_OK = 0 };

/* Per TCP direction: where the framer is. */
enum bs_dns_tstate { BS_DNS_T_LEN = 0, BS_DNS_T_MSG, BS_DNS_T_DESYNC };

#define BS_DNS_PENDING_TCP 8     /* queries awaiting an answer, per TCP flow */
#define BS_DNS_PENDING_UDP 512   /* the same for all UDP datagrams of an input */
#define BS_DNS_NAME_MAX 255
#define BS_DNS_TCP_BUF 2048   /* TCP messages kept; longer ones parsed from their start */

struct bs_dns_query {
	bool used;
	uint8_t dir;               /* direction the query went */
	uint16_t id, qtype;
	bs_ip cli, srv;            /* querier and server */
	uint16_t cport, sport;
	uint8_t qname_len;
	char qname[BS_DNS_NAME_MAX + 1];
	bs_time ts;
	uint64_t pktno, seq;
	uint32_t input;            /* the file of the query's packet: an unanswered
	                            * query is reported after later files were read */
};

/* The names of an UPDATE waiting for its response (UPDATEs are rare: a
 * few slots, the oldest replaced when full, counted). */
#define BS_DNS_UPDATE_SLOTS 4
#define BS_DNS_UPDATE_POOL 1024
struct bs_dns_update {
	uint64_t query_seq;        /* seq of its query in pending[]; 0: free */
	size_t nnames, more, pool_len;
	uint16_t off[BS_DNS_MAX_UPDATES];
	uint8_t len[BS_DNS_MAX_UPDATES];
	char pool[BS_DNS_UPDATE_POOL];
};
struct bs_dns_tcp {
	enum bs_dns_tstate state;
	uint8_t lenb[2];
	unsigned lenb_have;
	uint16_t msg_len;
	size_t have;
	uint8_t buf[BS_DNS_TCP_BUF];
};

struct bs_dns {
	uint64_t seq;
	struct bs_dns_tcp tcp[2];
	int last_dir;
	uint64_t messages, malformed, truncated, evicted;
	uint64_t update_names_dropped;  /* an UPDATE's names whose slot was taken */
	struct bs_dns_update updates[BS_DNS_UPDATE_SLOTS];
	size_t npending;                /* capacity of pending[] */
	struct bs_dns_query pending[];  /* npending entries follow */
};

/* The state for a table of npending queries is BS_DNS_SIZE(npending) bytes. */
#define BS_DNS_SIZE(npending) (sizeof(struct bs_dns) + (npending) * sizeof(struct bs_dns_query))
void bs_dns_init(struct bs_dns *p, size_t npending);
/* One whole DNS message (a UDP datagram). */
enum bs_dns_err bs_dns_feed(struct bs_dns *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);
/* Stream bytes of DNS over TCP. */
enum bs_dns_err bs_dns_feed_tcp(struct bs_dns *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);
void bs_dns_gap(struct bs_dns *p, struct bs_proto_ctx *c, int dir, uint64_t n);
void bs_dns_end(struct bs_dns *p, struct bs_proto_ctx *c);
const char *bs_dns_strerror(enum bs_dns_err e);
/* Decode the name at *pos of a message; advances *pos past it. Returns the
 * length written to out (>= BS_DNS_NAME_MAX+1 bytes), -1 if malformed. */
int bs_dns_name(const uint8_t *msg, size_t n, size_t *pos, char *out);

extern const struct bs_proto_def bs_proto_dns;      /* UDP 53 and 5353 */
extern const struct bs_proto_def bs_proto_dns_tcp;  /* TCP 53 */

#endif
