/* pop3.h - POP3 stream parser (see proto.h for the shape of every stream parser). */
#ifndef BS_POP3_H
#define BS_POP3_H

#include "proto.h"

enum bs_pop3_err { BS_POP3_OK = 0 };
enum bs_pop3_state { BS_POP3_S_START = 0 };

struct bs_pop3 {
	enum bs_pop3_state state;
};

void bs_pop3_init(struct bs_pop3 *p);
enum bs_pop3_err bs_pop3_feed(struct bs_pop3 *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);
void bs_pop3_gap(struct bs_pop3 *p, struct bs_proto_ctx *c, int dir, uint64_t n);
void bs_pop3_end(struct bs_pop3 *p, struct bs_proto_ctx *c);
const char *bs_pop3_strerror(enum bs_pop3_err e);

extern const struct bs_proto_def bs_proto_pop3;

#endif
