/* mysql.h - MYSQL stream parser (see proto.h for the shape of every stream parser). */
#ifndef BS_MYSQL_H
#define BS_MYSQL_H

#include "proto.h"

enum bs_mysql_err { BS_MYSQL_OK = 0 };
enum bs_mysql_state { BS_MYSQL_S_START = 0 };

struct bs_mysql {
	enum bs_mysql_state state;
};

void bs_mysql_init(struct bs_mysql *p);
enum bs_mysql_err bs_mysql_feed(struct bs_mysql *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);
void bs_mysql_gap(struct bs_mysql *p, struct bs_proto_ctx *c, int dir, uint64_t n);
void bs_mysql_end(struct bs_mysql *p, struct bs_proto_ctx *c);
const char *bs_mysql_strerror(enum bs_mysql_err e);

extern const struct bs_proto_def bs_proto_mysql;

#endif
