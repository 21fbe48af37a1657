/* imap.c - IMAP stream parser. First cut: accepts and ignores the stream. */
#include "imap.h"

void bs_imap_init(struct bs_imap *p) { p->state = BS_IMAP_S_START; }

enum bs_imap_err bs_imap_feed(struct bs_imap *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	(void)p; (void)c; (void)dir; (void)b; (void)n;
	return BS_IMAP_OK;
}

void bs_imap_gap(struct bs_imap *p, struct bs_proto_ctx *c, int dir, uint64_t n) { (void)p; (void)c; (void)dir; (void)n; }
void bs_imap_end(struct bs_imap *p, struct bs_proto_ctx *c) { (void)p; (void)c; }
const char *bs_imap_strerror(enum bs_imap_err e) { return e == BS_IMAP_OK ? "ok" : "unknown error"; }

static void def_init(void *s) { bs_imap_init(s); }
static int def_feed(void *s, struct bs_proto_ctx *c, int dir, const uint8_t *p, size_t n) { return (int)bs_imap_feed(s, c, dir, p, n); }
static void def_gap(void *s, struct bs_proto_ctx *c, int dir, uint64_t n) { bs_imap_gap(s, c, dir, n); }
static void def_end(void *s, struct bs_proto_ctx *c) { bs_imap_end(s, c); }
static const char *def_strerror(int e) { return bs_imap_strerror((enum bs_imap_err)e); }

const struct bs_proto_def bs_proto_imap = {
	.name = "imap", .ports = { 143, 0 }, .sniff = NULL, .state_size = sizeof(struct bs_imap),
	.init = def_init, .feed = def_feed, .gap = def_gap, .end = def_end, .strerror = def_strerror,
	.udp = false,
};
