/* dns.h - DNS stream parser (see proto.h for the shape of every stream parser). */
#ifndef BS_DNS_H
#define BS_DNS_H

#include "proto.h"

enum bs_dns_err { BS_DNS_OK = 0 };
enum bs_dns_state { BS_DNS_S_START = 0 };

struct bs_dns {
	enum bs_dns_state state;
};

void bs_dns_init(struct bs_dns *p);
enum bs_dns_err bs_dns_feed(struct bs_dns *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);
void bs_dns_gap(struct bs_dns *p, struct bs_proto_ctx *c, int dir, uint64_t n);
void bs_dns_end(struct bs_dns *p, struct bs_proto_ctx *c);
const char *bs_dns_strerror(enum bs_dns_err e);

extern const struct bs_proto_def bs_proto_dns;

#endif
