/* gen.h - internal interfaces of bs-gen, the sample-incident generator.
 *
 * The generator is a discrete-event simulation: sources (users, mail flows,
 * the attacker's plan, decoys, noise) are popped from a heap in time order;
 * each one writes its whole exchange (packets and log lines, with times at
 * or after its start) into a time-ordered record queue, and the queue writes
 * out everything older than the next source's start. Output is therefore
 * streamed in time order with memory bounded by what overlaps "now".
 */
#ifndef BS_GEN_H
#define BS_GEN_H

#include <stdarg.h>
#include <stdio.h>
#include "src/core/common.h"

/* ------------------------------------------------------------------ PRNG */
/* splitmix64: tiny, fast and fully determined by the seed. */
typedef struct { uint64_t s; } rng_t;
static inline uint64_t rng_next(rng_t *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}
static inline uint32_t rng_below(rng_t *r, uint32_t n) { return n ? (uint32_t)((rng_next(r) >> 32) * (uint64_t)n >> 32) : 0; }
static inline double rng_unit(rng_t *r) { return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }
static inline bool rng_chance(rng_t *r, double p) { return rng_unit(r) < p; }
double rng_exp(rng_t *r, double mean);
/* Microseconds drawn uniformly from [lo, hi] seconds. */
bs_time rng_span(rng_t *r, double lo, double hi);

/* ---------------------------------------------------------- byte buffers */
/* A growable buffer, reused across exchanges (grows, never shrinks). */
struct buf { char *p; size_t n, cap; };
void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
static inline void buf_clear(struct buf *b) { b->n = 0; }
void buf_free(struct buf *b);
void base64_encode(struct buf *out, const void *p, size_t n);
/* gzip (RFC 1952) of p into out, deterministic (MTIME 0). */
void gzip_bytes(struct buf *out, const void *p, size_t n);

/* -------------------------------------------------------- output targets */
/* Records are either captured frames (target CAPTURE) or log lines for one
 * (host, kind) file. */
#define TGT_CAPTURE 0
/* LOG_RC_*: Roundcube's own logs (file form, log_driver = file), written only
 * in the Roundcube scenarios; LOG_MSGTRK: Exchange's message tracking log
 * (MessageTracking/MSGTRKyyyymmdd-1.LOG), only in the owa scenarios. */
enum log_kind { LOG_MAIL = 0, LOG_ACCESS = 1, LOG_RC_LOGINS, LOG_RC_SENDMAIL, LOG_RC_ERRORS, LOG_MSGTRK, NLOG_KINDS };
static inline uint16_t tgt_log(int host, enum log_kind k) { return (uint16_t)(1 + host * NLOG_KINDS + (int)k); }

struct out_config {
	const char *dir;
	bool captures;        /* false: maillog-only */
	bool pcapng;          /* pcapng with VLAN tags and ns times */
	int nhosts;
	const char *const *host_names;
	const int *rotate_days; /* per host: 1 daily, 7 weekly */
	bool no_access_logs;  /* maillog-only-exfil: maillogs alone */
	bool iis;             /* owa*: the web servers' access logs are IIS W3C logs (u_exYYMMDD.log) */
};
void out_open(const struct out_config *cfg);
/* Queue a record (copied). ts must be >= the last out_flush_before() time. */
void out_emit(uint16_t target, bs_time ts, const void *data, size_t len);
/* Write every queued record older than t. */
void out_flush_before(bs_time t);
void out_close(void);
/* A syslog line "Mmm dd hh:mm:ss host prog[pid]: msg" to host's maillog. */
void out_syslog(int host, bs_time ts, const char *prog, int pid, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* A line of Roundcube's file-form log kind on host: "[dd-Mon-YYYY hh:mm:ss +0000]: msg". */
void out_roundcube(int host, enum log_kind kind, bs_time ts, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A record of host's Exchange message tracking log: "YYYY-MM-DDThh:mm:ss.fffZ," then the rest. */
void out_msgtrk(int host, bs_time ts, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Bytes and files written so far, for the summary. */
void out_totals(uint64_t *bytes, unsigned *files);

/* gzip files (logs and captures) */
struct gzfile;
struct gzfile *gzf_open(const char *path);
void gzf_write(struct gzfile *f, const void *p, size_t n);
/* Closes; sets the gzip header MTIME to mtime (seconds), because year inference of
 * RFC 3164 logs reads it. */
void gzf_close(struct gzfile *f, int64_t mtime);
/* A stdio stream that gzips into path, for pcap_dump_fopen(). */
FILE *gzf_fopen_stream(const char *path);
uint64_t gzf_total_bytes(void);
void gzf_set_fast(bool fast); /* gzip level 1 for benchmark archives */

/* ------------------------------------------------------- capture frames */
struct host_addr {
	uint8_t ip[4];        /* IPv4 */
	uint8_t mac[6];       /* the MAC that frames from this host carry at the capture point */
	uint8_t ttl;          /* TTL/hop limit as seen at the capture point */
	uint16_t vlan;        /* 802.1Q tag in pcapng-vlan mode */
};
void host_addr_v4(struct host_addr *h, uint32_t ip, bool internal);
void host_addr_format(const struct host_addr *h, char *buf, size_t n);

struct tcpconn {
	struct host_addr c, s;   /* client (initiator) and server */
	uint16_t cport, sport;
	uint32_t cseq, sseq;     /* next sequence number each side sends */
	uint32_t cack_sent;      /* last ack the client sent */
	uint16_t cipid, sipid;
	bs_time t;               /* time cursor: when the next packet is seen */
	bs_time crt, srt;        /* round trip from the capture point to the client, to the server */
	bool captured;           /* false: advance time only, write nothing */
	bool open;
};
void cap_set_rng(rng_t *r, bool vlan);
void tcp_connect(struct tcpconn *c, const struct host_addr *cli, const struct host_addr *srv,
	uint16_t cport, uint16_t sport, bs_time t, bs_time crt, bs_time srt, bool captured);
/* Send len bytes from one side, segmented at the MSS, acknowledged by the
 * peer; ~0.5% of segments are lost (seen twice or late) and a few reordered. */
void tcp_send(struct tcpconn *c, bool from_server, const void *p, size_t len);
/* tcp_send of len bytes that draws and takes the time that sending as_len
 * bytes would (p has room for as_len): an answer whose length is not the
 * world's (a tamper style's snippet) leaves every later draw and time as
 * they were. */
void tcp_send_as(struct tcpconn *c, bool from_server, const void *p, size_t len, size_t as_len);
static inline void tcp_wait(struct tcpconn *c, bs_time dt) { c->t += dt; }
/* FIN handshake started by one side, or an RST. */
void tcp_close(struct tcpconn *c, bool from_server, bool rst);
/* One UDP datagram. */
void udp_send(const struct host_addr *src, const struct host_addr *dst, uint16_t sport, uint16_t dport,
	bs_time t, const void *p, size_t len);

#endif
