/* imap.h - IMAP stream parser (see proto.h for the shape of every stream parser). */
#ifndef BS_IMAP_H
#define BS_IMAP_H

#include "proto.h"

enum bs_imap_err { BS_IMAP_OK = 0 };
enum bs_imap_state { BS_IMAP_S_START = 0 };

struct bs_imap {
	enum bs_imap_state state;
};

void bs_imap_init(struct bs_imap *p);
enum bs_imap_err bs_imap_feed(struct bs_imap *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);
void bs_imap_gap(struct bs_imap *p, struct bs_proto_ctx *c, int dir, uint64_t n);
void bs_imap_end(struct bs_imap *p, struct bs_proto_ctx *c);
const char *bs_imap_strerror(enum bs_imap_err e);

extern const struct bs_proto_def bs_proto_imap;

#endif
