/* ftp.c - FTP stream parser. First cut: accepts and ignores the stream. */
#include "ftp.h"

void bs_ftp_init(struct bs_ftp *p) { p->state = BS_FTP_S_START; }

enum bs_ftp_err bs_ftp_feed(struct bs_ftp *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	(void)p; (void)c; (void)dir; (void)b; (void)n;
	return BS_FTP_OK;
}

void bs_ftp_gap(struct bs_ftp *p, struct bs_proto_ctx *c, int dir, uint64_t n) { (void)p; (void)c; (void)dir; (void)n; }
void bs_ftp_end(struct bs_ftp *p, struct bs_proto_ctx *c) { (void)p; (void)c; }
const char *bs_ftp_strerror(enum bs_ftp_err e) { return e == BS_FTP_OK ? "ok" : "unknown error"; }

static void def_init(void *s) { bs_ftp_init(s); }
static int def_feed(void *s, struct bs_proto_ctx *c, int dir, const uint8_t *p, size_t n) { return (int)bs_ftp_feed(s, c, dir, p, n); }
static void def_gap(void *s, struct bs_proto_ctx *c, int dir, uint64_t n) { bs_ftp_gap(s, c, dir, n); }
static void def_end(void *s, struct bs_proto_ctx *c) { bs_ftp_end(s, c); }
static const char *def_strerror(int e) { return bs_ftp_strerror((enum bs_ftp_err)e); }

const struct bs_proto_def bs_proto_ftp = {
	.name = "ftp", .ports = { 21, 0 }, .sniff = NULL, .state_size = sizeof(struct bs_ftp),
	.init = def_init, .feed = def_feed, .gap = def_gap, .end = def_end, .strerror = def_strerror,
	.udp = false,
};
