/* dns.c - DNS stream parser. First cut: accepts and ignores the stream. */
#include "dns.h"

void bs_dns_init(struct bs_dns *p) { p->state = BS_DNS_S_START; }

enum bs_dns_err bs_dns_feed(struct bs_dns *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	(void)p; (void)c; (void)dir; (void)b; (void)n;
	return BS_DNS_OK;
}

void bs_dns_gap(struct bs_dns *p, struct bs_proto_ctx *c, int dir, uint64_t n) { (void)p; (void)c; (void)dir; (void)n; }
void bs_dns_end(struct bs_dns *p, struct bs_proto_ctx *c) { (void)p; (void)c; }
const char *bs_dns_strerror(enum bs_dns_err e) { return e == BS_DNS_OK ? "ok" : "unknown error"; }

static void def_init(void *s) { bs_dns_init(s); }
static int def_feed(void *s, struct bs_proto_ctx *c, int dir, const uint8_t *p, size_t n) { return (int)bs_dns_feed(s, c, dir, p, n); }
static void def_gap(void *s, struct bs_proto_ctx *c, int dir, uint64_t n) { bs_dns_gap(s, c, dir, n); }
static void def_end(void *s, struct bs_proto_ctx *c) { bs_dns_end(s, c); }
static const char *def_strerror(int e) { return bs_dns_strerror((enum bs_dns_err)e); }

const struct bs_proto_def bs_proto_dns = {
	.name = "dns", .ports = { 53, 0 }, .sniff = NULL, .state_size = sizeof(struct bs_dns),
	.init = def_init, .feed = def_feed, .gap = def_gap, .end = def_end, .strerror = def_strerror,
	.udp = true,
};
