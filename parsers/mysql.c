/* mysql.c - MYSQL stream parser. First cut: accepts and ignores the stream. */
#include "mysql.h"

void bs_mysql_init(struct bs_mysql *p) { p->state = BS_MYSQL_S_START; }

enum bs_mysql_err bs_mysql_feed(struct bs_mysql *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	(void)p; (void)c; (void)dir; (void)b; (void)n;
	return BS_MYSQL_OK;
}

void bs_mysql_gap(struct bs_mysql *p, struct bs_proto_ctx *c, int dir, uint64_t n) { (void)p; (void)c; (void)dir; (void)n; }
void bs_mysql_end(struct bs_mysql *p, struct bs_proto_ctx *c) { (void)p; (void)c; }
const char *bs_mysql_strerror(enum bs_mysql_err e) { return e == BS_MYSQL_OK ? "ok" : "unknown error"; }

static void def_init(void *s) { bs_mysql_init(s); }
static int def_feed(void *s, struct bs_proto_ctx *c, int dir, const uint8_t *p, size_t n) { return (int)bs_mysql_feed(s, c, dir, p, n); }
static void def_gap(void *s, struct bs_proto_ctx *c, int dir, uint64_t n) { bs_mysql_gap(s, c, dir, n); }
static void def_end(void *s, struct bs_proto_ctx *c) { bs_mysql_end(s, c); }
static const char *def_strerror(int e) { return bs_mysql_strerror((enum bs_mysql_err)e); }

const struct bs_proto_def bs_proto_mysql = {
	.name = "mysql", .ports = { 3306, 0 }, .sniff = NULL, .state_size = sizeof(struct bs_mysql),
	.init = def_init, .feed = def_feed, .gap = def_gap, .end = def_end, .strerror = def_strerror,
	.udp = false,
};
