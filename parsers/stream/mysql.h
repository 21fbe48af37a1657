/* mysql.h - MySQL classic protocol parser (port 3306).
 *
 * Packets (3-byte little-endian length, sequence byte) are framed per
 * direction. Handshake: server version, the client's user name and database
 * -> BS_EV_AUTH (proto MYSQL) with success from the server's OK/ERR. An SSL
 * request makes the flow opaque. The compressed protocol (CLIENT_COMPRESS
 * in both handshakes) is unwrapped after the login: each 7-byte-header
 * frame, zlib-compressed or stored raw, goes to the packet framer, so it is
 * read like the plain one. COM_QUERY (after its query attributes), COM_STMT_PREPARE and
 * COM_STMT_EXECUTE (the prepared text) -> BS_EV_DBQUERY; COM_INIT_DB sets the
 * database; COM_CHANGE_USER -> BS_EV_AUTH for the new user (refused: the
 * user and database before stay). Binary result
 * rows (prepared statements) are parsed by column type like text rows. Text result sets stream: column names are kept in a fixed
 * table, row values are parsed byte by byte across TCP segments and 16 MB
 * packets, and each value is scanned for addresses through a bounded window
 * (BS_EV_ADDR ctx BS_ADDR_DB_RESULT, ref = query_id, column = its name).
 * The end of each result -> BS_EV_DBRESULT (rows, columns, bytes, error).
 *
 * After a gap the direction is resynchronised at the next change of
 * direction: the protocol is strictly request/response, so the first byte
 * after a turn starts a packet.
 */
#ifndef BS_MYSQL_H
#define BS_MYSQL_H

#include "parsers/stream/proto.h"

enum bs_mysql_err { BS_MYSQL_OK = 0, BS_MYSQL_ERR_NOT_MYSQL };

enum bs_mysql_phase {
	BS_MYSQL_P_GREETING = 0,   /* waiting for the server's handshake */
	BS_MYSQL_P_LOGIN,          /* waiting for the client's handshake response */
	BS_MYSQL_P_AUTH,           /* authentication exchange until OK/ERR */
	BS_MYSQL_P_COMMAND,        /* command phase */
	BS_MYSQL_P_OPAQUE          /* TLS */
};

/* What the server's next packets are, in the command phase. */
enum bs_mysql_rstate {
	BS_MYSQL_R_NONE = 0,   /* nothing expected */
	BS_MYSQL_R_FIRST,      /* first packet of a response: OK, ERR or column count */
	BS_MYSQL_R_COLDEF,     /* column definitions */
	BS_MYSQL_R_COLEOF,     /* the EOF after the column definitions */
	BS_MYSQL_R_ROWS,       /* rows until EOF/OK/ERR */
	BS_MYSQL_R_IGNORE,     /* response to a command not parsed */
	BS_MYSQL_R_PREPARE,    /* COM_STMT_PREPARE: the PREPARE_OK or ERR */
	BS_MYSQL_R_PREPDEFS    /* its parameter and column definitions */
};

enum bs_mysql_vstate {
	BS_MYSQL_V_LEN = 0, BS_MYSQL_V_LENBYTES, BS_MYSQL_V_DATA, BS_MYSQL_V_SKIP,
	BS_MYSQL_V_BINHDR,     /* binary row: 0x00 header and NULL bitmap */
	BS_MYSQL_V_FIXED,      /* binary row: a fixed-size value skipped */
	BS_MYSQL_V_DATELEN     /* binary row: the length byte of a date or time */
};

#define BS_MYSQL_SQL_MAX 16384     /* statement text kept; longer is sql_truncated */
#define BS_MYSQL_SRV_BUF 4096      /* server packets other than rows */
#define BS_MYSQL_COLS 64           /* column names kept */
#define BS_MYSQL_COLNAME 64
#define BS_MYSQL_WINDOW 1024       /* per-value scan window */
#define BS_MYSQL_ROW_ADDRS 16      /* address hits of one row held to its end */
#define BS_MYSQL_HOLD_ADDR 128     /* longer addresses are emitted at once */
#define BS_MYSQL_ROW_TAGS 128      /* the row's short cells, "Column=value;..." */
#define BS_MYSQL_TAG_CELL 24       /* a cell up to this long is a row tag */
#define BS_MYSQL_STMTS 8           /* prepared statements remembered per flow */
#define BS_MYSQL_STMT_SQL 256      /* of each, the text kept for its executions */
/* A prepared statement: its id from PREPARE_OK and the start of its text,
 * reported again as the query of each COM_STMT_EXECUTE. */
struct bs_mysql_stmt {
	uint32_t id;
	bool used;
	bool sql_cut;
	uint16_t sql_len;
	uint16_t nparams;            /* from its PREPARE_OK */
	uint64_t long_data;          /* parameters (bit i, i < 64) sent by COM_STMT_SEND_LONG_DATA */
	uint8_t ptypes[BS_MYSQL_COLS]; /* parameter types as last bound by an execute */
	char sql[BS_MYSQL_STMT_SQL];
};

/* The cursor an execute opened (SERVER_STATUS_CURSOR_EXISTS): its column
 * definitions stay in colname/coltype for the fetches, until another
 * result's definitions replace them. */
struct bs_mysql_cursor {
	bool valid;
	uint32_t stmt_id;
	uint64_t ncols, cols_seen;
};

/* The address hits of the row being parsed, emitted when the row ends
 * with the row's short cells: a cell that qualifies them (a Direction
 * after the Email) may come after the address. Bounded: hits beyond
 * BS_MYSQL_ROW_ADDRS are emitted at once, without tags. */
struct bs_mysql_row_hold {
	unsigned n;
	uint8_t col[BS_MYSQL_ROW_ADDRS];
	uint8_t len[BS_MYSQL_ROW_ADDRS];
	char addr[BS_MYSQL_ROW_ADDRS][BS_MYSQL_HOLD_ADDR];
	char tags[BS_MYSQL_ROW_TAGS];
	size_t tags_len;
};

/* One direction's packet framer. */
struct bs_mysql_dir {
	uint8_t hdr[7];
	unsigned hdr_len, hdr_size;  /* 4 */
	uint32_t pkt_len, pkt_left;
	uint8_t seq;
	bool continued;              /* the previous packet was 0xffffff long */
	bool first_byte_pending;     /* logical packet started, no payload seen */
	bool streaming;              /* this packet is a row, parsed as it comes */
	bool desync;                 /* after a gap: drop bytes until a turn */
	bool hunting;                /* after a gap in rows: looking for the next packet header */
	size_t hunt_have, hunt_at;   /* bytes kept in sbuf, next offset to try */
	uint64_t logical_len;        /* payload bytes of the logical packet */
	size_t buf_len;
};

/* One direction of the compressed protocol: the frame being unwrapped. */
struct bs_mysql_zdir {
	uint8_t hdr[7];              /* compressed length (3), sequence, uncompressed length (3) */
	unsigned hdr_len;
	uint32_t left;               /* frame bytes still to come */
	uint32_t out_left;           /* bytes the frame may still inflate to (its declared length) */
	bool raw;                    /* uncompressed length 0: stored as is */
	bool broken;                 /* framing lost (a gap) or a frame would not inflate: no more read */
	void *zs;                    /* z_stream, from the first compressed frame to the flow's end */
};

struct bs_mysql {
	enum bs_mysql_phase phase;
	enum bs_mysql_rstate rstate;
	struct bs_mysql_dir d[2];
	int last_dir;

	uint32_t server_caps, client_caps;
	bool deprecate_eof, compress, query_attributes;
	bool zlayer;                 /* the compressed protocol, from after the login's OK */
	bool z_inner;                /* the framer is being fed a frame's bytes */
	struct bs_mysql_zdir z[2];
	uint64_t zframes_broken;     /* directions given up: a gap in frames, a frame that would not inflate */
	char server_version[64];
	char user[128], db[128], plugin[40];
	size_t user_len, db_len, plugin_len;
	char pending_db[128];        /* COM_INIT_DB: the database once OK; COM_CHANGE_USER: the one before */
	size_t pending_db_len;
	char prev_user[128];         /* COM_CHANGE_USER: the user before, back when refused */
	size_t prev_user_len;
	uint8_t cur_cmd;

	/* current result */
	uint64_t query_seq, query_id;
	uint64_t ncols, cols_seen, rows, result_bytes;
	uint8_t colname_len[BS_MYSQL_COLS];
	uint8_t coltype[BS_MYSQL_COLS];  /* column types, for binary rows */
	bool binary;                 /* the result's rows are binary (COM_STMT_EXECUTE) */
	uint8_t nullmap[(BS_MYSQL_COLS + 9) / 8];
	uint64_t hdr_left;           /* binary row header bytes still to come */
	uint64_t prep_defs;          /* definition packets of a PREPARE_OK still to come */
	struct bs_mysql_stmt stmts[BS_MYSQL_STMTS];
	unsigned stmt_next;          /* the slot the next PREPARE_OK takes */
	struct bs_mysql_stmt pending_stmt; /* the text of the PREPARE in progress */

	/* row value parser */
	enum bs_mysql_vstate vstate;
	unsigned len_need, len_have;
	uint64_t len_acc, vleft;
	unsigned col;
	size_t win_len;
	uint64_t vlen;               /* length of the value being parsed */
	struct bs_mysql_row_hold hold;
	bool result_cut;             /* the result in progress lost rows */

	struct bs_mysql_cursor cursor;
	uint32_t exec_stmt_id;       /* of the COM_STMT_EXECUTE in progress */
	uint32_t ld_stmt;            /* COM_STMT_SEND_LONG_DATA: the piece's statement, */
	uint16_t ld_param;           /* parameter, and the address bytes that ended the */
	size_t ld_carry_len;         /* previous piece (an address split between pieces) */

	bool not_mysql;              /* the first server packet was no greeting */
	uint64_t packets_truncated, bad_rows, queries;
	uint64_t resyncs, resync_skipped; /* rows found again after a gap; bytes skipped to them */

	/* The buffers, last: bs_mysql_init does not zero them (25 of the
	 * state's 32 KB, once per connection), since a length says how much of
	 * each is in use (buf_len, colname_len, win_len, ld_carry_len); nor,
	 * before them, the statements' ptypes and sql (a slot is read once
	 * used) and the held row's addr and tags (read up to hold.n and
	 * tags_len). A new scalar of struct bs_mysql_stmt goes before ptypes. */
	uint8_t cbuf[BS_MYSQL_SQL_MAX + 1];
	uint8_t sbuf[BS_MYSQL_SRV_BUF];
	char colname[BS_MYSQL_COLS][BS_MYSQL_COLNAME];
	char win[BS_MYSQL_WINDOW];          /* the value being scanned (win_len) */
	char ld_carry[256];                 /* COM_STMT_SEND_LONG_DATA's carry (ld_carry_len) */
};

void bs_mysql_init(struct bs_mysql *p);
/* Heap bytes the parser holds: the compressed protocol's inflaters. */
size_t bs_mysql_held_bytes(const struct bs_mysql *p);
enum bs_mysql_err bs_mysql_feed(struct bs_mysql *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);
void bs_mysql_gap(struct bs_mysql *p, struct bs_proto_ctx *c, int dir, uint64_t n);
void bs_mysql_end(struct bs_mysql *p, struct bs_proto_ctx *c);
const char *bs_mysql_strerror(enum bs_mysql_err e);
bool bs_mysql_sniff(int dir, const uint8_t *p, size_t n);

extern const struct bs_proto_def bs_proto_mysql;

#endif
