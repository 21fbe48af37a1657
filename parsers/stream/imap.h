/* imap.h - IMAP stream parser (port 143; 993 is TLS and not parsed).
 *
 * LOGIN with atom, quoted ("\" escapes) or literal ({n} / {n+}) arguments
 * and AUTHENTICATE (PLAIN, LOGIN, CRAM-MD5; initial response or after "+ ")
 * give BS_EV_AUTH proto IMAP with success from the tagged OK/NO/BAD; the
 * password is skipped, never kept. Literals in either direction (APPEND
 * uploads, FETCH bodies) are skipped by count, not buffered. After the OK
 * to STARTTLS the flow is opaque.
 */
#ifndef BS_IMAP_H
#define BS_IMAP_H

#include "parsers/stream/lineproto.h"

enum bs_imap_err { BS_IMAP_OK = 0, BS_IMAP_ERR_NOT_IMAP };

enum bs_imap_cstate { BS_IMAP_C_LINE = 0, BS_IMAP_C_SASL };
enum bs_imap_cmd { BS_IMAP_CMD_OTHER = 0, BS_IMAP_CMD_LOGIN, BS_IMAP_CMD_AUTHENTICATE, BS_IMAP_CMD_STARTTLS };

#define BS_IMAP_PENDING 8
#define BS_IMAP_TAG_MAX BS_CMD_TAG_MAX

/* The commands whose tagged reply matters (LOGIN, AUTHENTICATE, STARTTLS)
 * are queued with kind enum bs_imap_cmd and their tag; when more than
 * BS_IMAP_PENDING wait, the oldest is forgotten. */
struct bs_imap {
	struct bs_lineproto lp;
	enum bs_imap_cstate cstate;
	uint64_t literal_left[2];      /* literal bytes still to skip per direction */
	bool capture_user;             /* the client literal being read is the LOGIN user */
	/* the client command being read (it spans literals) */
	bool cmd_active;
	enum bs_imap_cmd cmd;
	unsigned argi;
	char tag[BS_IMAP_TAG_MAX];
	size_t tag_len;
	char user[BS_USER_MAX];
	size_t user_len;
	struct bs_sasl sasl;
};

void bs_imap_init(struct bs_imap *p);
enum bs_imap_err bs_imap_feed(struct bs_imap *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);
void bs_imap_gap(struct bs_imap *p, struct bs_proto_ctx *c, int dir, uint64_t n);
void bs_imap_end(struct bs_imap *p, struct bs_proto_ctx *c);
const char *bs_imap_strerror(enum bs_imap_err e);
bool bs_imap_sniff(int dir, const uint8_t *p, size_t n);

extern const struct bs_proto_def bs_proto_imap;

#endif
