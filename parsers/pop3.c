/* pop3.c - POP3 stream parser. First cut: accepts and ignores the stream. */
#include "pop3.h"

void bs_pop3_init(struct bs_pop3 *p) { p->state = BS_POP3_S_START; }

enum bs_pop3_err bs_pop3_feed(struct bs_pop3 *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	(void)p; (void)c; (void)dir; (void)b; (void)n;
	return BS_POP3_OK;
}

void bs_pop3_gap(struct bs_pop3 *p, struct bs_proto_ctx *c, int dir, uint64_t n) { (void)p; (void)c; (void)dir; (void)n; }
void bs_pop3_end(struct bs_pop3 *p, struct bs_proto_ctx *c) { (void)p; (void)c; }
const char *bs_pop3_strerror(enum bs_pop3_err e) { return e == BS_POP3_OK ? "ok" : "unknown error"; }

static void def_init(void *s) { bs_pop3_init(s); }
static int def_feed(void *s, struct bs_proto_ctx *c, int dir, const uint8_t *p, size_t n) { return (int)bs_pop3_feed(s, c, dir, p, n); }
static void def_gap(void *s, struct bs_proto_ctx *c, int dir, uint64_t n) { bs_pop3_gap(s, c, dir, n); }
static void def_end(void *s, struct bs_proto_ctx *c) { bs_pop3_end(s, c); }
static const char *def_strerror(int e) { return bs_pop3_strerror((enum bs_pop3_err)e); }

const struct bs_proto_def bs_proto_pop3 = {
	.name = "pop3", .ports = { 110, 0 }, .sniff = NULL, .state_size = sizeof(struct bs_pop3),
	.init = def_init, .feed = def_feed, .gap = def_gap, .end = def_end, .strerror = def_strerror,
	.udp = false,
};
