/* ftp.h - FTP stream parser (see proto.h for the shape of every stream parser). */
#ifndef BS_FTP_H
#define BS_FTP_H

#include "proto.h"

enum bs_ftp_err { BS_FTP_OK = 0 };
enum bs_ftp_state { BS_FTP_S_START = 0 };

struct bs_ftp {
	enum bs_ftp_state state;
};

void bs_ftp_init(struct bs_ftp *p);
enum bs_ftp_err bs_ftp_feed(struct bs_ftp *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);
void bs_ftp_gap(struct bs_ftp *p, struct bs_proto_ctx *c, int dir, uint64_t n);
void bs_ftp_end(struct bs_ftp *p, struct bs_proto_ctx *c);
const char *bs_ftp_strerror(enum bs_ftp_err e);

extern const struct bs_proto_def bs_proto_ftp;

#endif
