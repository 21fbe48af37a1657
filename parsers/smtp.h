/* smtp.h - SMTP stream parser (see proto.h for the shape of every stream parser). */
#ifndef BS_SMTP_H
#define BS_SMTP_H

#include "proto.h"

enum bs_smtp_err { BS_SMTP_OK = 0 };
enum bs_smtp_state { BS_SMTP_S_START = 0 };

struct bs_smtp {
	enum bs_smtp_state state;
};

void bs_smtp_init(struct bs_smtp *p);
enum bs_smtp_err bs_smtp_feed(struct bs_smtp *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);
void bs_smtp_gap(struct bs_smtp *p, struct bs_proto_ctx *c, int dir, uint64_t n);
void bs_smtp_end(struct bs_smtp *p, struct bs_proto_ctx *c);
const char *bs_smtp_strerror(enum bs_smtp_err e);

extern const struct bs_proto_def bs_proto_smtp;

#endif
