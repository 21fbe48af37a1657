/* smtp.c - SMTP stream parser. First cut: accepts and ignores the stream. */
#include "smtp.h"

void bs_smtp_init(struct bs_smtp *p) { p->state = BS_SMTP_S_START; }

enum bs_smtp_err bs_smtp_feed(struct bs_smtp *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	(void)p; (void)c; (void)dir; (void)b; (void)n;
	return BS_SMTP_OK;
}

void bs_smtp_gap(struct bs_smtp *p, struct bs_proto_ctx *c, int dir, uint64_t n) { (void)p; (void)c; (void)dir; (void)n; }
void bs_smtp_end(struct bs_smtp *p, struct bs_proto_ctx *c) { (void)p; (void)c; }
const char *bs_smtp_strerror(enum bs_smtp_err e) { return e == BS_SMTP_OK ? "ok" : "unknown error"; }

static void def_init(void *s) { bs_smtp_init(s); }
static int def_feed(void *s, struct bs_proto_ctx *c, int dir, const uint8_t *p, size_t n) { return (int)bs_smtp_feed(s, c, dir, p, n); }
static void def_gap(void *s, struct bs_proto_ctx *c, int dir, uint64_t n) { bs_smtp_gap(s, c, dir, n); }
static void def_end(void *s, struct bs_proto_ctx *c) { bs_smtp_end(s, c); }
static const char *def_strerror(int e) { return bs_smtp_strerror((enum bs_smtp_err)e); }

const struct bs_proto_def bs_proto_smtp = {
	.name = "smtp", .ports = { 25, 587, 0 }, .sniff = NULL, .state_size = sizeof(struct bs_smtp),
	.init = def_init, .feed = def_feed, .gap = def_gap, .end = def_end, .strerror = def_strerror,
	.udp = false,
};
