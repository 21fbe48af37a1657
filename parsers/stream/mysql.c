/* mysql.c - MySQL classic protocol parser: handshake, queries, text result sets.
 *
 * Each direction has a framer that collects the 4-byte header and then the
 * payload. Payloads are either buffered (up to a fixed size, then only
 * counted) and handled when the packet ends, or - for result rows - parsed
 * as they come, so a row of any size costs no memory.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "parsers/stream/mysql.h"
#include "parsers/stream/gzfile.h"  /* BS_GZFILE_ZLIB_BYTES */
#include "parsers/stream/lineproto.h"   /* BS_PROTO_ADAPTERS */
#include "src/core/addrscan.h"

#define CLIENT_CONNECT_WITH_DB 0x00000008u
#define CLIENT_COMPRESS        0x00000020u
#define CLIENT_PROTOCOL_41     0x00000200u
#define CLIENT_SSL             0x00000800u
#define CLIENT_SECURE_CONN     0x00008000u
#define CLIENT_PLUGIN_AUTH     0x00080000u
#define CLIENT_PLUGIN_LENENC   0x00200000u
#define CLIENT_DEPRECATE_EOF   0x01000000u
#define CLIENT_QUERY_ATTRIBUTES 0x08000000u
#define SERVER_MORE_RESULTS    0x0008u

#define COM_QUIT 0x01
#define COM_INIT_DB 0x02
#define COM_QUERY 0x03
#define COM_CHANGE_USER 0x11
#define COM_STMT_PREPARE 0x16
#define COM_STMT_EXECUTE 0x17
#define COM_STMT_SEND_LONG_DATA 0x18
#define COM_STMT_RESET 0x1a
#define COM_STMT_FETCH 0x1c
#define SERVER_STATUS_CURSOR_EXISTS 0x0040
#define PARAMETER_COUNT_AVAILABLE 0x08
#define PKT_MAX 0xffffffu

void bs_mysql_init(struct bs_mysql *p)
{
	/* Not the buffers (mysql.h), nor the texts of the remembered statements
	 * (a slot is read once used, after a copy of pending_stmt) and the
	 * row's held addresses (read up to hold.n): 4.7 of the 6.5 KB before
	 * cbuf, once per connection. */
	memset(p, 0, offsetof(struct bs_mysql, stmts));
	for (int i = 0; i < BS_MYSQL_STMTS; i++)
		memset(&p->stmts[i], 0, offsetof(struct bs_mysql_stmt, ptypes));
	memset(&p->stmt_next, 0, offsetof(struct bs_mysql, hold.addr) - offsetof(struct bs_mysql, stmt_next));
	p->hold.tags_len = 0;
	memset(&p->result_cut, 0, offsetof(struct bs_mysql, cbuf) - offsetof(struct bs_mysql, result_cut));
	p->d[0].hdr_size = p->d[1].hdr_size = 4;
	p->last_dir = -1;
}

/* MySQL's fixed-length integer int<k>: k bytes (1 to 8, 3 for packet
 * lengths), little-endian. */
static uint64_t fixed_int(const uint8_t *b, unsigned k)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < k; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

/* A length-encoded integer at *pos; false when it does not fit in n. */
static bool lenenc_int(const uint8_t *b, size_t n, size_t *pos, uint64_t *v)
{
	if (*pos >= n)
		return false;
	uint8_t f = b[*pos];
	unsigned k = f == 0xfc ? 2 : f == 0xfd ? 3 : f == 0xfe ? 8 : 0;
	if (f < 0xfb) {
		*v = f;
		*pos += 1;
		return true;
	}
	if (k == 0 || n - *pos < 1 + (size_t)k)
		return false;
	*v = fixed_int(b + *pos + 1, k);
	*pos += 1 + k;
	return true;
}

static bool lenenc_str(const uint8_t *b, size_t n, size_t *pos, bs_str *out)
{
	uint64_t len;
	if (!lenenc_int(b, n, pos, &len) || len > n - *pos)
		return false;
	*out = bs_str_make((const char *)b + *pos, (size_t)len);
	*pos += (size_t)len;
	return true;
}

/* A NUL-terminated string at *pos (to the end if no NUL). */
static bs_str nul_str(const uint8_t *b, size_t n, size_t *pos)
{
	size_t start = *pos < n ? *pos : n;
	const uint8_t *z = memchr(b + start, 0, n - start);
	size_t end = z ? (size_t)(z - b) : n;
	*pos = z ? end + 1 : n;
	return bs_str_make((const char *)b + start, end - start);
}

static void keep(char *dst, size_t size, size_t *len, bs_str s)
{
	size_t k = s.n < size - 1 ? s.n : size - 1;
	if (k)
		memcpy(dst, s.p, k);
	dst[k] = '\0';
	if (len)
		*len = k;
}

/* The size of a value of column type T in the binary protocol (prepared
 * statement rows and parameters): BIN_LENENC for the length-encoded
 * strings (VARCHAR, BLOB, DECIMAL, JSON...), BIN_DATE for the dates and
 * times (a length byte, then that many bytes), else the fixed size. */
#define BIN_LENENC (-1)
#define BIN_DATE (-2)
static int binary_type_size(uint8_t t)
{
	switch (t) {
	case 0x01: return 1;                          /* TINY */
	case 0x02: case 0x0d: return 2;               /* SHORT, YEAR */
	case 0x03: case 0x09: case 0x04: return 4;    /* LONG, INT24, FLOAT */
	case 0x05: case 0x08: return 8;               /* DOUBLE, LONGLONG */
	case 0x06: return 0;                          /* NULL */
	case 0x07: case 0x0a: case 0x0b: case 0x0c:   /* TIMESTAMP, DATE, TIME, DATETIME */
	case 0x11: case 0x12: case 0x13:
		return BIN_DATE;
	default: return BIN_LENENC;
	}
}

/* Skip one binary value of type T at *pos; false when it does not fit. */
static bool binary_value_skip(uint8_t t, const uint8_t *b, size_t n, size_t *pos)
{
	int size = binary_type_size(t);
	bs_str s;
	if (size == BIN_LENENC)
		return lenenc_str(b, n, pos, &s);
	if (size == BIN_DATE) {
		if (*pos >= n || b[*pos] > n - *pos - 1)
			return false;
		*pos += 1 + b[*pos];
		return true;
	}
	if ((size_t)size > n - *pos)
		return false;
	*pos += (size_t)size;
	return true;
}

/* ------------------------------------------------------------ results */

static void result_reset(struct bs_mysql *p)
{
	p->ncols = p->cols_seen = p->rows = p->result_bytes = 0;
	p->result_cut = false;
}

/* The commands whose response is reported as a result. */
static bool reported_command(uint8_t cmd)
{
	return cmd == COM_QUERY || cmd == COM_STMT_PREPARE || cmd == COM_STMT_EXECUTE || cmd == COM_STMT_FETCH;
}

static void emit_result(struct bs_mysql *p, const struct bs_proto_ctx *c, bool error, uint64_t rows)
{
	if (reported_command(p->cur_cmd)) {
		struct bs_event ev;
		bs_proto_event(c, &ev, BS_EV_DBRESULT);
		ev.u.dbresult.query_id = p->query_id;
		ev.u.dbresult.rows = rows;
		ev.u.dbresult.columns = p->ncols;
		ev.u.dbresult.bytes = p->result_bytes;
		ev.u.dbresult.error = error;
		ev.u.dbresult.cut = p->result_cut;
		bs_emit(c->sink, &ev);
	}
	result_reset(p);
}

static bs_str column_name(const struct bs_mysql *p, unsigned col)
{
	if (col < BS_MYSQL_COLS && col < p->cols_seen)
		return bs_str_make(p->colname[col], p->colname_len[col]);
	return BS_STR_NULL;
}

/* ---------------------------------------------- row hold (issue 16) */

static void emit_row_addr(const struct bs_mysql *p, const struct bs_proto_ctx *c, unsigned col,
                          const char *addr, size_t n, bs_str tags)
{
	struct bs_event ev;
	bs_proto_event(c, &ev, BS_EV_ADDR);
	ev.u.addr.ctx = BS_ADDR_DB_RESULT;
	ev.u.addr.ref = p->query_id;
	ev.u.addr.address = bs_str_make(addr, n);
	ev.u.addr.to_client = true;
	ev.u.addr.normal = bs_addr_scanned_is_normal(addr, n); /* held from the scanner */
	ev.u.addr.column = column_name(p, col);
	ev.u.addr.row_tags = tags;
	bs_emit(c->sink, &ev);
}

struct row_hold_ctx { struct bs_mysql *p; const struct bs_proto_ctx *c; };

/* An address found in the current value: held until the row ends. */
static void row_hold_addr(void *vctx, const char *addr, size_t n)
{
	struct row_hold_ctx *x = vctx;
	struct bs_mysql_row_hold *h = &x->p->hold;
	if (h->n == BS_MYSQL_ROW_ADDRS || n >= BS_MYSQL_HOLD_ADDR) {
		emit_row_addr(x->p, x->c, x->p->col, addr, n, BS_STR_NULL);
		return;
	}
	memcpy(h->addr[h->n], addr, n);
	h->len[h->n] = (uint8_t)n;
	h->col[h->n] = (uint8_t)(x->p->col < 255 ? x->p->col : 255);
	h->n++;
}

/* A short cell without an address (a Direction, a flag) becomes a row tag. */
static void row_hold_tag(struct bs_mysql *p)
{
	struct bs_mysql_row_hold *h = &p->hold;
	bs_str name = column_name(p, p->col);
	if (p->vlen > BS_MYSQL_TAG_CELL || p->win_len != p->vlen || !name.n ||
	    memchr(p->win, '@', p->win_len) || memchr(p->win, ';', p->win_len))
		return;
	size_t need = (h->tags_len ? 1 : 0) + name.n + 1 + p->win_len;
	if (h->tags_len + need > sizeof h->tags)
		return;
	char *o = h->tags + h->tags_len;
	if (h->tags_len)
		*o++ = ';';
	memcpy(o, name.p, name.n);
	o += name.n;
	*o++ = '=';
	memcpy(o, p->win, p->win_len);
	h->tags_len += need;
}

/* The row ended (or was lost): its held addresses go out with its tags. */
static void row_hold_flush(struct bs_mysql *p, const struct bs_proto_ctx *c)
{
	struct bs_mysql_row_hold *h = &p->hold;
	bs_str tags = h->tags_len ? bs_str_make(h->tags, h->tags_len) : BS_STR_NULL;
	for (unsigned i = 0; i < h->n; i++)
		emit_row_addr(p, c, h->col[i], h->addr[i], h->len[i], tags);
	h->n = 0;
	h->tags_len = 0;
}

static bool addr_byte(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch >= 0x80) || strchr("!#$%&'*+-/=?^_`{|}~.@", ch) != NULL;
}

/* Scan the window. A full window that is not the end of the value is cut
 * after its last delimiter, so that no address is split or seen twice; the
 * bytes after the cut start the next window. */
static void window_flush(struct bs_mysql *p, const struct bs_proto_ctx *c, bool final)
{
	size_t cut = p->win_len;
	if (!final) {
		size_t i = p->win_len;
		while (i > p->win_len / 2 && addr_byte((unsigned char)p->win[i - 1]))
			i--;
		if (i > p->win_len / 2)
			cut = i;
	}
	if (cut > 0 && memchr(p->win, '@', cut)) {
		struct row_hold_ctx x = { p, c };
		bs_addr_scan(p->win, cut, false, row_hold_addr, &x);
	}
	if (cut < p->win_len) /* nothing to keep after a value's last window */
		memmove(p->win, p->win + cut, p->win_len - cut);
	p->win_len -= cut;
}

static void window_add(struct bs_mysql *p, const struct bs_proto_ctx *c, const uint8_t *b, size_t n)
{
	while (n > 0) {
		size_t room = BS_MYSQL_WINDOW - p->win_len;
		size_t k = n < room ? n : room;
		memcpy(p->win + p->win_len, b, k);
		p->win_len += k;
		b += k;
		n -= k;
		if (p->win_len == BS_MYSQL_WINDOW)
			window_flush(p, c, false);
	}
}

/* Binary row: set the value parser for the next column that is not NULL
 * (bit col+2 of the row's NULL bitmap). Past the columns whose type is
 * known the rest of the row is skipped. */
static void binary_next_col(struct bs_mysql *p)
{
	for (;;) {
		if (p->col >= p->ncols || p->col >= BS_MYSQL_COLS || p->col >= p->cols_seen) {
			p->vstate = BS_MYSQL_V_SKIP;
			return;
		}
		unsigned bit = p->col + 2;
		if (p->nullmap[bit / 8] & (1u << (bit % 8))) {
			p->col++;
			continue;
		}
		int size = binary_type_size(p->coltype[p->col]);
		if (size == 0) {
			p->col++;
			continue;
		}
		p->vstate = size == BIN_LENENC ? BS_MYSQL_V_LEN : size == BIN_DATE ? BS_MYSQL_V_DATELEN
		                                                                  : BS_MYSQL_V_FIXED;
		p->vleft = size > 0 ? (uint64_t)size : 0;
		return;
	}
}

static void value_end(struct bs_mysql *p, const struct bs_proto_ctx *c)
{
	row_hold_tag(p);
	window_flush(p, c, true);
	p->win_len = 0;
	p->col++;
	p->vstate = BS_MYSQL_V_LEN;
	if (p->binary)
		binary_next_col(p);
}

static void row_begin(struct bs_mysql *p)
{
	p->vstate = BS_MYSQL_V_LEN;
	p->col = 0;
	p->win_len = 0;
	if (p->binary) {
		/* 0x00, then the NULL bitmap: (columns + 7 + 2) / 8 bytes */
		p->vstate = BS_MYSQL_V_BINHDR;
		p->hdr_left = 1 + (p->ncols + 9) / 8;
		memset(p->nullmap, 0, sizeof p->nullmap);
	}
}

/* A binary value that is not text (a number, a date): skipped, not a cell. */
static void binary_skip_end(struct bs_mysql *p)
{
	p->col++;
	binary_next_col(p);
}

/* Row bytes as they come: a sequence of length-encoded strings (0xfb NULL). */
static void row_feed(struct bs_mysql *p, const struct bs_proto_ctx *c, const uint8_t *b, size_t n)
{
	size_t i = 0;
	while (i < n) {
		switch (p->vstate) {
		case BS_MYSQL_V_LEN: {
			uint8_t f = b[i++];
			if (f < 0xfb) {
				p->vleft = p->vlen = f;
				p->win_len = 0;
				if (f == 0)
					value_end(p, c);
				else
					p->vstate = BS_MYSQL_V_DATA;
			} else if (f == 0xfb) {
				p->col++; /* NULL */
				if (p->binary)
					binary_next_col(p);
			} else if (f == 0xff) {
				p->vstate = BS_MYSQL_V_SKIP;
				p->bad_rows++;
			} else {
				p->len_need = f == 0xfc ? 2 : f == 0xfd ? 3 : 8;
				p->len_have = 0;
				p->len_acc = 0;
				p->vstate = BS_MYSQL_V_LENBYTES;
			}
			break;
		}
		case BS_MYSQL_V_LENBYTES:
			p->len_acc |= (uint64_t)b[i++] << (8 * p->len_have);
			if (++p->len_have == p->len_need) {
				p->vleft = p->vlen = p->len_acc;
				p->win_len = 0;
				if (p->vleft == 0)
					value_end(p, c);
				else
					p->vstate = BS_MYSQL_V_DATA;
			}
			break;
		case BS_MYSQL_V_DATA: {
			size_t k = n - i;
			if (k > p->vleft)
				k = (size_t)p->vleft;
			window_add(p, c, b + i, k);
			i += k;
			p->vleft -= k;
			if (p->vleft == 0)
				value_end(p, c);
			break;
		}
		case BS_MYSQL_V_SKIP:
			return;
		case BS_MYSQL_V_BINHDR: {
			uint64_t idx = 1 + (p->ncols + 9) / 8 - p->hdr_left; /* 0: the 0x00 header */
			if (idx >= 1 && idx - 1 < sizeof p->nullmap)
				p->nullmap[idx - 1] = b[i];
			i++;
			if (--p->hdr_left == 0)
				binary_next_col(p);
			break;
		}
		case BS_MYSQL_V_DATELEN:
			p->vleft = b[i++];
			p->vstate = BS_MYSQL_V_FIXED;
			if (p->vleft == 0)
				binary_skip_end(p);
			break;
		case BS_MYSQL_V_FIXED: {
			size_t k = n - i;
			if (k > p->vleft)
				k = (size_t)p->vleft;
			i += k;
			p->vleft -= k;
			if (p->vleft == 0)
				binary_skip_end(p);
			break;
		}
		}
	}
}

static void row_end(struct bs_mysql *p, const struct bs_proto_ctx *c)
{
	if (p->vstate == BS_MYSQL_V_DATA || p->vstate == BS_MYSQL_V_LENBYTES ||
	    p->vstate == BS_MYSQL_V_FIXED || p->vstate == BS_MYSQL_V_DATELEN ||
	    p->vstate == BS_MYSQL_V_BINHDR) {
		/* the row ended inside a value: scan what came, count it */
		window_flush(p, c, true);
		p->bad_rows++;
	}
	row_hold_flush(p, c);
	p->rows++;
	row_begin(p);
}

/* A result in progress that will not end as the protocol says (a gap in
 * the rows, the capture's end, the client's next command seen before the
 * rest of the rows): report the rows seen, marked cut. */
static void result_cut_off(struct bs_mysql *p, const struct bs_proto_ctx *c)
{
	if (p->phase != BS_MYSQL_P_COMMAND ||
	    (p->rstate != BS_MYSQL_R_COLDEF && p->rstate != BS_MYSQL_R_COLEOF && p->rstate != BS_MYSQL_R_ROWS))
		return;
	if (p->d[1].streaming)
		window_flush(p, c, true);
	row_hold_flush(p, c);
	p->result_cut = true;
	emit_result(p, c, false, p->rows);
	p->rstate = BS_MYSQL_R_NONE;
}

/* --------------------------------------------------------- server side */

static void server_greeting(struct bs_mysql *p, const uint8_t *b, size_t n)
{
	size_t pos = 1;
	keep(p->server_version, sizeof p->server_version, NULL, nul_str(b, n, &pos));
	pos += 4 + 8 + 1; /* connection id, auth data part 1, filler */
	if (n >= pos + 2)
		p->server_caps = (uint32_t)fixed_int(b + pos, 2);
	pos += 2 + 1 + 2; /* caps low, charset, status */
	if (n >= pos + 2)
		p->server_caps |= (uint32_t)fixed_int(b + pos, 2) << 16;
	p->phase = BS_MYSQL_P_LOGIN;
}

/* Status flags of an EOF or OK packet (0 if absent). */
static unsigned end_status(const uint8_t *b, size_t n)
{
	size_t pos = 1;
	uint64_t v;
	if (b[0] == 0xfe && n < 9)
		return n >= 5 ? (unsigned)fixed_int(b + 3, 2) : 0; /* EOF: warnings, status */
	if (!lenenc_int(b, n, &pos, &v) || !lenenc_int(b, n, &pos, &v) || n - pos < 2)
		return 0;
	return (unsigned)fixed_int(b + pos, 2);
}

static void result_end(struct bs_mysql *p, const struct bs_proto_ctx *c, const uint8_t *b, size_t n,
                       uint64_t rows)
{
	unsigned status = end_status(b, n);
	emit_result(p, c, false, rows);
	p->rstate = (status & SERVER_MORE_RESULTS) ? BS_MYSQL_R_FIRST : BS_MYSQL_R_NONE;
}

/* The end of an execute's column definitions with a cursor opened: the rows
 * come with the fetches. The execute is a result of no rows. */
static bool cursor_opened(struct bs_mysql *p, const struct bs_proto_ctx *c, const uint8_t *b, size_t n)
{
	if (p->cur_cmd != COM_STMT_EXECUTE || b[0] != 0xfe || !(end_status(b, n) & SERVER_STATUS_CURSOR_EXISTS))
		return false;
	p->cursor = (struct bs_mysql_cursor){ true, p->exec_stmt_id, p->ncols, p->cols_seen };
	emit_result(p, c, false, 0);
	p->rstate = BS_MYSQL_R_NONE;
	return true;
}

static void column_def(struct bs_mysql *p, const uint8_t *b, size_t n)
{
	size_t pos = 0;
	if (p->cols_seen == 0)
		p->cursor.valid = false; /* these definitions replace the cursor's */
	bs_str s = BS_STR_NULL;
	bool good = true;
	for (int i = 0; i < 5 && good; i++) /* catalog, schema, table, org_table, name */
		good = lenenc_str(b, n, &pos, &s);
	if (p->cols_seen < BS_MYSQL_COLS) {
		size_t len = 0;
		if (good)
			keep(p->colname[p->cols_seen], BS_MYSQL_COLNAME, &len, s);
		p->colname_len[p->cols_seen] = (uint8_t)len;
		/* org_name, the length of the fixed fields, charset (2), length (4), type */
		uint64_t fixed_len;
		p->coltype[p->cols_seen] = 0xfd; /* unread: taken for a string */
		if (good && lenenc_str(b, n, &pos, &s) && lenenc_int(b, n, &pos, &fixed_len) && n - pos > 6)
			p->coltype[p->cols_seen] = b[pos + 6];
	}
	if (++p->cols_seen >= p->ncols)
		p->rstate = p->deprecate_eof ? BS_MYSQL_R_ROWS : BS_MYSQL_R_COLEOF;
}

/* COM_STMT_PREPARE_OK: 0x00, statement id (4), columns (2), parameters (2),
 * filler, warnings (2); then the parameter and column definitions, each
 * group closed by an EOF without CLIENT_DEPRECATE_EOF. The statement is
 * remembered for its executions; the prepare is a result of no rows. */
static void prepare_response(struct bs_mysql *p, const struct bs_proto_ctx *c, const uint8_t *b, size_t n)
{
	if (b[0] != 0x00 || n < 9) {
		emit_result(p, c, b[0] == 0xff, 0);
		p->rstate = BS_MYSQL_R_NONE;
		return;
	}
	uint64_t ncols = fixed_int(b + 5, 2), nparams = fixed_int(b + 7, 2);
	struct bs_mysql_stmt *st = &p->stmts[p->stmt_next];
	p->stmt_next = (p->stmt_next + 1) % BS_MYSQL_STMTS;
	*st = p->pending_stmt;
	st->id = (uint32_t)fixed_int(b + 1, 4);
	st->used = true;
	st->nparams = (uint16_t)nparams;
	st->long_data = 0;
	p->ncols = ncols;
	emit_result(p, c, false, 0);
	p->prep_defs = nparams + ncols;
	if (!p->deprecate_eof)
		p->prep_defs += (nparams > 0) + (ncols > 0);
	p->rstate = p->prep_defs ? BS_MYSQL_R_PREPDEFS : BS_MYSQL_R_NONE;
}

static void server_packet(struct bs_mysql *p, const struct bs_proto_ctx *c, const uint8_t *b, size_t n,
                          uint8_t seq)
{
	if (n == 0)
		return;
	switch (p->phase) {
	case BS_MYSQL_P_GREETING:
		if (b[0] == 10)
			server_greeting(p, b, n);
		else if (b[0] == 0xff || seq != 0)
			p->phase = BS_MYSQL_P_COMMAND; /* ERR "host not allowed", or a capture started late */
		else
			p->not_mysql = true;
		return;
	case BS_MYSQL_P_AUTH:
		if (b[0] == 0x00 || b[0] == 0xff) {
			bs_emit_auth(c, BS_AUTH_MYSQL, bs_str_make(p->user, p->user_len),
			             bs_str_make(p->plugin, p->plugin_len), b[0] == 0x00);
			if (b[0] == 0xff && p->cur_cmd == COM_CHANGE_USER) {
				/* refused: the user and database stay as they were */
				memcpy(p->user, p->prev_user, (p->user_len = p->prev_user_len) + 1);
				memcpy(p->db, p->pending_db, (p->db_len = p->pending_db_len) + 1);
			}
			p->phase = BS_MYSQL_P_COMMAND;
			if (b[0] == 0x00 && p->compress)
				p->zlayer = true; /* the next packets travel in frames */
		}
		return; /* 0xfe auth switch, 0x01 more data: the exchange goes on */
	case BS_MYSQL_P_COMMAND:
		break;
	default:
		return;
	}
	switch (p->rstate) {
	case BS_MYSQL_R_FIRST: {
		size_t pos = 1;
		uint64_t v = 0;
		if (b[0] == 0x00) {
			lenenc_int(b, n, &pos, &v); /* affected rows */
			if (p->cur_cmd == COM_INIT_DB)
				memcpy(p->db, p->pending_db, (p->db_len = p->pending_db_len) + 1);
			result_end(p, c, b, n, v);
		} else if (b[0] == 0xff) {
			emit_result(p, c, true, 0);
			p->rstate = BS_MYSQL_R_NONE;
		} else if (b[0] == 0xfb) {
			p->rstate = BS_MYSQL_R_IGNORE; /* LOCAL INFILE request */
		} else {
			pos = 0;
			if (lenenc_int(b, n, &pos, &v) && v > 0) {
				p->ncols = v;
				p->cols_seen = 0;
				p->rstate = BS_MYSQL_R_COLDEF;
			} else {
				p->rstate = BS_MYSQL_R_IGNORE;
			}
		}
		return;
	}
	case BS_MYSQL_R_COLDEF:
		column_def(p, b, n);
		return;
	case BS_MYSQL_R_PREPARE:
		prepare_response(p, c, b, n);
		return;
	case BS_MYSQL_R_PREPDEFS:
		if (p->prep_defs == 0 || --p->prep_defs == 0)
			p->rstate = BS_MYSQL_R_NONE;
		return;
	case BS_MYSQL_R_COLEOF:
		if (cursor_opened(p, c, b, n))
			return;
		if (b[0] == 0xff) {
			emit_result(p, c, true, 0);
			p->rstate = BS_MYSQL_R_NONE;
		} else {
			p->rstate = BS_MYSQL_R_ROWS;
		}
		return;
	case BS_MYSQL_R_ROWS:
		/* rows are streamed: only terminators are buffered */
		if (b[0] == 0xff) {
			emit_result(p, c, true, p->rows);
			p->rstate = BS_MYSQL_R_NONE;
		} else if (p->rows || !cursor_opened(p, c, b, n)) {
			result_end(p, c, b, n, p->rows);
		}
		return;
	default:
		return;
	}
}

/* --------------------------------------------------------- client side */

static void login(struct bs_mysql *p, const uint8_t *b, size_t n, uint64_t logical_len)
{
	size_t pos;
	if (n < 2)
		return;
	uint32_t caps = (uint32_t)fixed_int(b, 2);
	if ((caps & CLIENT_PROTOCOL_41) && n >= 4)
		caps = (uint32_t)fixed_int(b, 4);
	p->client_caps = caps;
	if ((caps & CLIENT_SSL) && logical_len <= 32) {
		p->phase = BS_MYSQL_P_OPAQUE; /* SSL request: TLS follows */
		return;
	}
	uint32_t both = p->server_caps ? (caps & p->server_caps) : caps;
	p->deprecate_eof = (both & CLIENT_DEPRECATE_EOF) != 0;
	p->compress = (both & CLIENT_COMPRESS) != 0;
	p->query_attributes = (both & CLIENT_QUERY_ATTRIBUTES) != 0;
	p->phase = BS_MYSQL_P_AUTH;
	if (!(caps & CLIENT_PROTOCOL_41)) {
		pos = 5;
		keep(p->user, sizeof p->user, &p->user_len, nul_str(b, n, &pos));
		return;
	}
	pos = 32;
	if (pos > n)
		return;
	keep(p->user, sizeof p->user, &p->user_len, nul_str(b, n, &pos));
	uint64_t alen = 0;
	if (caps & CLIENT_PLUGIN_LENENC) {
		if (!lenenc_int(b, n, &pos, &alen))
			return;
	} else if (caps & CLIENT_SECURE_CONN) {
		if (pos >= n)
			return;
		alen = b[pos++];
	} else {
		nul_str(b, n, &pos);
	}
	if (alen > n - pos)
		return;
	pos += (size_t)alen;
	if (caps & CLIENT_CONNECT_WITH_DB)
		keep(p->db, sizeof p->db, &p->db_len, nul_str(b, n, &pos));
	if ((caps & CLIENT_PLUGIN_AUTH) && pos < n)
		keep(p->plugin, sizeof p->plugin, &p->plugin_len, nul_str(b, n, &pos));
}

/* CLIENT_QUERY_ATTRIBUTES (MySQL 8.0.23+): before the text of COM_QUERY,
 * the parameter count and set count; with parameters, their NULL bitmap,
 * new_params_bind_flag, each one's type (2) and name, then the values in
 * the binary protocol. Where the text starts (1 when unreadable: the
 * whole payload is kept). */
static size_t query_attributes_end(const uint8_t *b, size_t n)
{
	size_t pos = 1;
	uint64_t nparams, nsets;
	uint8_t types[BS_MYSQL_COLS];
	if (!lenenc_int(b, n, &pos, &nparams) || !lenenc_int(b, n, &pos, &nsets))
		return 1;
	if (nparams == 0)
		return pos;
	if (nparams > BS_MYSQL_COLS || (nparams + 7) / 8 + 1 > n - pos)
		return 1;
	const uint8_t *nulls = b + pos;
	pos += (size_t)(nparams + 7) / 8;
	if (b[pos++] != 1)
		return 1; /* no types: they were bound before, which a query cannot have */
	for (unsigned i = 0; i < nparams; i++) {
		bs_str name;
		if (n - pos < 2)
			return 1;
		types[i] = b[pos];
		pos += 2;
		if (!lenenc_str(b, n, &pos, &name))
			return 1;
	}
	for (unsigned i = 0; i < nparams; i++)
		if (!(nulls[i / 8] & (1u << (i % 8))) && !binary_value_skip(types[i], b, n, &pos))
			return 1;
	return pos;
}

/* A query event for the client's command cmd (stmt: the statement id of an
 * execute or fetch). */
static void emit_query(struct bs_mysql *p, const struct bs_proto_ctx *c, uint8_t cmd, uint32_t stmt,
                       bs_str sql, bool truncated)
{
	p->query_seq++;
	p->queries++;
	p->query_id = (c->flow_id << 20) | (p->query_seq & 0xfffff);
	struct bs_event ev;
	bs_proto_event(c, &ev, BS_EV_DBQUERY);
	ev.u.dbquery.query_id = p->query_id;
	ev.u.dbquery.db_user = bs_str_make(p->user, p->user_len);
	ev.u.dbquery.db_name = bs_str_make(p->db, p->db_len);
	ev.u.dbquery.sql = sql;
	ev.u.dbquery.sql_truncated = truncated;
	ev.u.dbquery.command = cmd;
	ev.u.dbquery.stmt_id = stmt;
	bs_emit(c->sink, &ev);
}

static struct bs_mysql_stmt *stmt_find(struct bs_mysql *p, uint32_t id)
{
	for (unsigned i = 0; i < BS_MYSQL_STMTS; i++)
		if (p->stmts[i].used && p->stmts[i].id == id)
			return &p->stmts[i];
	return NULL;
}

struct param_ctx { const struct bs_proto_ctx *c; uint64_t ref; };

static void param_addr(void *vctx, const char *addr, size_t n)
{
	const struct param_ctx *x = vctx;
	struct bs_event ev;
	bs_proto_event(x->c, &ev, BS_EV_ADDR);
	ev.u.addr.ctx = BS_ADDR_DB_PARAM;
	ev.u.addr.ref = x->ref;
	ev.u.addr.address = bs_str_make(addr, n);
	bs_emit(x->c->sink, &ev);
}

/* Addresses in a parameter value the client sent. */
static void scan_param(const struct bs_proto_ctx *c, uint64_t ref, const char *v, size_t n)
{
	struct param_ctx x = { c, ref };
	if (n && memchr(v, '@', n))
		bs_addr_scan(v, n, false, param_addr, &x);
}

/* COM_STMT_EXECUTE after statement id, flags and iteration count (pos 10):
 * with query attributes a parameter count, then the NULL bitmap,
 * new_params_bound_flag, the types (each with a name with query
 * attributes) when bound, and the values in the binary protocol; the
 * string values are scanned for addresses. The types of a statement stay
 * for its later executions, which may not send them again; a parameter
 * sent by COM_STMT_SEND_LONG_DATA has no value here. */
static void execute_params(struct bs_mysql *p, const struct bs_proto_ctx *c, const uint8_t *b, size_t n,
                           struct bs_mysql_stmt *st)
{
	size_t pos = 10;
	uint64_t nparams = st->nparams;
	if (n < pos)
		return;
	if (p->query_attributes && (b[5] & PARAMETER_COUNT_AVAILABLE) && !lenenc_int(b, n, &pos, &nparams))
		return;
	if (nparams == 0 || nparams > BS_MYSQL_COLS || (nparams + 7) / 8 + 1 > n - pos)
		return;
	const uint8_t *nulls = b + pos;
	pos += (size_t)(nparams + 7) / 8;
	if (b[pos++] == 1) {
		for (unsigned i = 0; i < nparams; i++) {
			bs_str name;
			if (n - pos < 2)
				return;
			st->ptypes[i] = b[pos];
			pos += 2;
			if (p->query_attributes && !lenenc_str(b, n, &pos, &name))
				return;
		}
	}
	for (unsigned i = 0; i < nparams; i++) {
		if ((nulls[i / 8] & (1u << (i % 8))) || (i < 64 && (st->long_data >> i) & 1))
			continue;
		bs_str v;
		size_t at = pos;
		if (binary_type_size(st->ptypes[i]) == BIN_LENENC && lenenc_str(b, n, &at, &v))
			scan_param(c, p->query_id, v.p, v.n);
		if (!binary_value_skip(st->ptypes[i], b, n, &pos))
			return;
	}
}

static bool addr_byte(unsigned char ch);

/* The id the client's next query will have: long data belongs to the
 * execute that follows it. */
static uint64_t next_query_id(const struct bs_mysql *p, const struct bs_proto_ctx *c)
{
	return (c->flow_id << 20) | ((p->query_seq + 1) & 0xfffff);
}

/* The address bytes carried from the last long-data piece, scanned. */
static void long_data_flush(struct bs_mysql *p, const struct bs_proto_ctx *c)
{
	scan_param(c, next_query_id(p, c), p->ld_carry, p->ld_carry_len);
	p->ld_carry_len = 0;
}

/* Keep bytes not scanned yet for the next piece; too many are scanned now. */
static void long_data_carry(struct bs_mysql *p, const struct bs_proto_ctx *c, const char *v, size_t n)
{
	if (n > sizeof p->ld_carry) {
		scan_param(c, next_query_id(p, c), v, n);
		n = 0;
	}
	memcpy(p->ld_carry, v, n);
	p->ld_carry_len = n;
}

/* COM_STMT_SEND_LONG_DATA: statement id (4), parameter id (2), a piece of
 * the value. Its addresses are reported with the id the next query (the
 * execute that sends the statement) will have. The address bytes that end
 * a piece (up to 256) are carried to the next piece of the same parameter,
 * so that an address split between pieces is found once. */
static void long_data(struct bs_mysql *p, const struct bs_proto_ctx *c, const uint8_t *b, size_t n)
{
	if (n < 7)
		return;
	uint32_t id = (uint32_t)fixed_int(b + 1, 4);
	uint16_t param = (uint16_t)fixed_int(b + 5, 2);
	struct bs_mysql_stmt *st = stmt_find(p, id);
	if (st && param < 64)
		st->long_data |= 1ull << param;
	if (id != p->ld_stmt || param != p->ld_param)
		long_data_flush(p, c);
	p->ld_stmt = id;
	p->ld_param = param;
	const char *v = (const char *)b + 7;
	size_t vn = n - 7, start = 0, tail = vn;
	if (p->ld_carry_len) {
		/* the carried bytes with the address bytes that start this piece */
		char joined[2 * sizeof p->ld_carry];
		while (start < vn && start < sizeof p->ld_carry && addr_byte((unsigned char)v[start]))
			start++;
		memcpy(joined, p->ld_carry, p->ld_carry_len);
		memcpy(joined + p->ld_carry_len, v, start);
		size_t jn = p->ld_carry_len + start;
		p->ld_carry_len = 0;
		if (start == vn) {
			long_data_carry(p, c, joined, jn);
			return;
		}
		scan_param(c, next_query_id(p, c), joined, jn);
	}
	while (tail > start && addr_byte((unsigned char)v[tail - 1]))
		tail--;
	scan_param(c, next_query_id(p, c), v + start, tail - start);
	long_data_carry(p, c, v + tail, vn - tail);
}

/* COM_CHANGE_USER: user, auth data, database, charset, plugin; the
 * server's answer is an authentication like the login's. The user and
 * database before are kept: a refusal leaves them in force (MySQL C API,
 * mysql_change_user(): "the user and database are not changed"). */
static void change_user(struct bs_mysql *p, const uint8_t *b, size_t n)
{
	size_t pos = 1;
	memcpy(p->prev_user, p->user, (p->prev_user_len = p->user_len) + 1);
	memcpy(p->pending_db, p->db, (p->pending_db_len = p->db_len) + 1);
	/* the login not seen: a client of this century */
	uint32_t caps = p->client_caps ? p->client_caps : CLIENT_SECURE_CONN | CLIENT_PLUGIN_AUTH;
	keep(p->user, sizeof p->user, &p->user_len, nul_str(b, n, &pos));
	if (caps & CLIENT_SECURE_CONN) {
		if (pos >= n || b[pos] > n - pos - 1)
			return;
		pos += 1 + b[pos];
	} else {
		nul_str(b, n, &pos);
	}
	keep(p->db, sizeof p->db, &p->db_len, nul_str(b, n, &pos));
	p->plugin_len = 0;
	p->plugin[0] = '\0';
	if ((caps & CLIENT_PLUGIN_AUTH) && n - pos > 2) {
		pos += 2; /* charset */
		keep(p->plugin, sizeof p->plugin, &p->plugin_len, nul_str(b, n, &pos));
	}
	p->phase = BS_MYSQL_P_AUTH;
	p->rstate = BS_MYSQL_R_NONE;
}

static void command(struct bs_mysql *p, const struct bs_proto_ctx *c, const uint8_t *b, size_t n,
                    uint64_t logical_len)
{
	if (n == 0)
		return;
	result_cut_off(p, c); /* the client moved on: the rest of the rows was not seen */
	if (p->ld_carry_len && b[0] != COM_STMT_SEND_LONG_DATA)
		long_data_flush(p, c); /* the value's last bytes, with the execute's id */
	p->cur_cmd = b[0];
	result_reset(p);
	switch (b[0]) {
	case COM_QUERY:
	case COM_STMT_PREPARE: {
		size_t pos = 1;
		if (b[0] == COM_QUERY && p->query_attributes)
			pos = query_attributes_end(b, n);
		bs_str sql = bs_str_make((const char *)b + pos, n - pos);
		bool cut = logical_len > n;
		if (b[0] == COM_STMT_PREPARE) {
			struct bs_mysql_stmt *st = &p->pending_stmt;
			keep(st->sql, sizeof st->sql, NULL, sql);
			st->sql_len = (uint16_t)(sql.n < sizeof st->sql - 1 ? sql.n : sizeof st->sql - 1);
			st->sql_cut = cut || sql.n > st->sql_len;
		}
		emit_query(p, c, b[0], 0, sql, cut);
		p->binary = false;
		p->rstate = b[0] == COM_QUERY ? BS_MYSQL_R_FIRST : BS_MYSQL_R_PREPARE;
		break;
	}
	case COM_STMT_EXECUTE:
	case COM_STMT_FETCH: {
		/* statement id (4), then for an execute flags, iteration count,
		 * parameters; for a fetch the row count. The query is the
		 * statement's text, its rows are binary; a fetch's rows are those
		 * of the cursor its execute opened. */
		uint32_t id = n >= 5 ? (uint32_t)fixed_int(b + 1, 4) : 0;
		struct bs_mysql_stmt *st = n >= 5 ? stmt_find(p, id) : NULL;
		emit_query(p, c, b[0], id, st ? bs_str_make(st->sql, st->sql_len) : BS_STR_NULL,
		           st ? st->sql_cut : false);
		p->binary = true;
		p->rstate = BS_MYSQL_R_FIRST;
		if (b[0] == COM_STMT_EXECUTE) {
			p->exec_stmt_id = id;
			if (st) {
				execute_params(p, c, b, n, st);
				st->long_data = 0;
			}
		} else {
			if (p->cursor.valid && p->cursor.stmt_id == id) {
				p->ncols = p->cursor.ncols;
				p->cols_seen = p->cursor.cols_seen;
			}
			p->rstate = BS_MYSQL_R_ROWS;
		}
		break;
	}
	case COM_STMT_SEND_LONG_DATA:
		long_data(p, c, b, n);
		p->rstate = BS_MYSQL_R_NONE; /* no answer */
		break;
	case COM_CHANGE_USER:
		change_user(p, b, n);
		break;
	case COM_INIT_DB:
		keep(p->pending_db, sizeof p->pending_db, &p->pending_db_len,
		     bs_str_make((const char *)b + 1, n - 1));
		p->rstate = BS_MYSQL_R_FIRST;
		break;
	case COM_QUIT:
		p->rstate = BS_MYSQL_R_NONE;
		break;
	default:
		p->rstate = BS_MYSQL_R_IGNORE;
		break;
	}
}

static void client_packet(struct bs_mysql *p, const struct bs_proto_ctx *c, const uint8_t *b, size_t n,
                          uint64_t logical_len, uint8_t seq)
{
	switch (p->phase) {
	case BS_MYSQL_P_GREETING:
	case BS_MYSQL_P_LOGIN:
		/* seq 0 from the client is a command: the capture began after the login */
		if (seq == 0) {
			p->phase = BS_MYSQL_P_COMMAND;
			command(p, c, b, n, logical_len);
		} else {
			login(p, b, n, logical_len);
		}
		return;
	case BS_MYSQL_P_COMMAND:
		if (seq == 0)
			command(p, c, b, n, logical_len);
		return;
	default:
		return; /* auth data, opaque */
	}
}


static void packet_end(struct bs_mysql *p, const struct bs_proto_ctx *c, int dir)
{
	struct bs_mysql_dir *d = &p->d[dir];
	d->hdr_len = 0;
	if (d->hdr_size == 4 && d->pkt_len == PKT_MAX) {
		d->continued = true; /* a 16 MB piece: the logical packet goes on */
		return;
	}
	d->continued = false;
	if (d->streaming) {
		d->streaming = false;
		row_end(p, c);
		return;
	}
	if (d->logical_len > d->buf_len && dir == 1)
		p->packets_truncated++;
	if (dir)
		server_packet(p, c, p->sbuf, d->buf_len, d->seq);
	else
		client_packet(p, c, p->cbuf, d->buf_len, d->logical_len, d->seq);
}

/* Does the first payload byte of a server packet start a row? */
static bool starts_row(struct bs_mysql *p, const struct bs_mysql_dir *d, uint8_t first)
{
	if (p->phase != BS_MYSQL_P_COMMAND || first == 0xff)
		return false;
	if (first == 0xfe && d->pkt_len < PKT_MAX)
		return false; /* EOF, or the OK that ends rows with DEPRECATE_EOF */
	if (p->rstate == BS_MYSQL_R_COLEOF)
		p->rstate = BS_MYSQL_R_ROWS; /* rows without the EOF announced */
	return p->rstate == BS_MYSQL_R_ROWS;
}

/* ------------------------------------------------------------- resync */

/* Does a whole packet payload read as one row of the current result: the
 * values of exactly its columns, text or binary, filling it? */
static bool row_fits(const struct bs_mysql *p, const uint8_t *b, size_t n)
{
	size_t pos = 0;
	bs_str s;
	if (!p->binary) {
		for (uint64_t col = 0; col < p->ncols; col++) {
			if (pos < n && b[pos] == 0xfb)
				pos++;
			else if (!lenenc_str(b, n, &pos, &s))
				return false;
		}
		return pos == n;
	}
	if (p->ncols > BS_MYSQL_COLS || p->cols_seen < p->ncols || b[0] != 0x00)
		return false;
	size_t nullbytes = (size_t)(p->ncols + 9) / 8;
	if (n < 1 + nullbytes)
		return false;
	pos = 1 + nullbytes;
	for (unsigned col = 0; col < p->ncols; col++) {
		unsigned bit = col + 2;
		if (!(b[1 + bit / 8] & (1u << (bit % 8))) && !binary_value_skip(p->coltype[col], b, n, &pos))
			return false;
	}
	return pos == n;
}

/* Is there a packet header at h (avail bytes) where the rows go on? 1 yes,
 * -1 no, 0 not enough bytes to say. A terminator (EOF, or the OK with
 * 0xfe) is taken as it is; a row must fill its packet and be followed by a
 * header with the next sequence id and a length. The decision depends on
 * the bytes only, not on how they were segmented. */
static int hunt_try(const struct bs_mysql *p, const uint8_t *h, size_t avail)
{
	if (avail < 4)
		return 0;
	uint32_t len = (uint32_t)fixed_int(h, 3);
	if (len == 0 || len > BS_MYSQL_SRV_BUF - 8)
		return -1;
	if (avail < 4 + (size_t)len)
		return 0;
	if (h[4] == 0xfe && len < 9)
		return 1;
	if (!row_fits(p, h + 4, len))
		return -1;
	if (avail < 8 + (size_t)len)
		return 0;
	const uint8_t *next = h + 4 + len;
	return next[3] == (uint8_t)(h[3] + 1) && fixed_int(next, 3) > 0 ? 1 : -1;
}

/* A gap inside the rows of a result: the row in progress ends with what
 * was read, the result goes on marked cut, and the server's bytes are
 * searched for the next packet header that fits (hunt_feed). */
static bool hunt_start(struct bs_mysql *p, const struct bs_proto_ctx *c)
{
	struct bs_mysql_dir *d = &p->d[1];
	if (p->phase != BS_MYSQL_P_COMMAND || p->rstate != BS_MYSQL_R_ROWS || !p->ncols || d->desync ||
	    p->d[0].desync)
		return false;
	if (d->streaming)
		window_flush(p, c, true);
	row_hold_flush(p, c);
	p->result_cut = true;
	d->hunting = true;
	d->hunt_have = d->hunt_at = 0;
	d->hdr_len = 0;
	d->continued = d->streaming = d->first_byte_pending = false;
	return true;
}

static void dir_feed(struct bs_mysql *p, const struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);
static void z_feed(struct bs_mysql *p, const struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);

/* Server bytes after a gap in the rows, kept in sbuf (not in use: rows are
 * streamed) until a header fits; offsets ruled out are skipped, counted. */
static void hunt_feed(struct bs_mysql *p, const struct bs_proto_ctx *c, const uint8_t *b, size_t n)
{
	struct bs_mysql_dir *d = &p->d[1];
	while (n > 0) {
		size_t room = sizeof p->sbuf - d->hunt_have;
		size_t k = n < room ? n : room;
		memcpy(p->sbuf + d->hunt_have, b, k);
		d->hunt_have += k;
		b += k;
		n -= k;
		int fit;
		while ((fit = hunt_try(p, p->sbuf + d->hunt_at, d->hunt_have - d->hunt_at)) < 0)
			d->hunt_at++;
		if (fit > 0) {
			uint8_t rest[BS_MYSQL_SRV_BUF];
			size_t rn = d->hunt_have - d->hunt_at;
			memcpy(rest, p->sbuf + d->hunt_at, rn);
			p->resync_skipped += d->hunt_at;
			p->resyncs++;
			d->hunting = false;
			d->hunt_have = d->hunt_at = 0;
			dir_feed(p, c, 1, rest, rn);
			if (n)
				dir_feed(p, c, 1, b, n);
			return;
		}
		if (d->hunt_at) {
			p->resync_skipped += d->hunt_at;
			memmove(p->sbuf, p->sbuf + d->hunt_at, d->hunt_have - d->hunt_at);
			d->hunt_have -= d->hunt_at;
			d->hunt_at = 0;
		}
	}
}

/* ------------------------------------------------------------- framing */

static void dir_feed(struct bs_mysql *p, const struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	struct bs_mysql_dir *d = &p->d[dir];
	if (d->hunting) {
		hunt_feed(p, c, b, n);
		return;
	}
	uint8_t *buf = dir ? p->sbuf : p->cbuf;
	size_t cap = dir ? sizeof p->sbuf : sizeof p->cbuf;
	while (n > 0) {
		if (d->desync || p->phase == BS_MYSQL_P_OPAQUE || p->not_mysql)
			return;
		if (d->hdr_len < d->hdr_size) {
			size_t k = d->hdr_size - d->hdr_len;
			if (k > n)
				k = n;
			memcpy(d->hdr + d->hdr_len, b, k);
			d->hdr_len += (unsigned)k;
			b += k;
			n -= k;
			if (d->hdr_len < d->hdr_size)
				return;
			d->pkt_len = d->pkt_left = (uint32_t)fixed_int(d->hdr, 3);
			if (!d->continued) {
				d->seq = d->hdr[3];
				d->logical_len = 0;
				d->buf_len = 0;
				d->first_byte_pending = true;
				d->streaming = false;
			}
			if (d->pkt_left == 0)
				packet_end(p, c, dir);
			continue;
		}
		size_t k = d->pkt_left < n ? d->pkt_left : n;
		if (d->first_byte_pending) {
			d->first_byte_pending = false;
			if (dir == 1 && starts_row(p, d, b[0])) {
				d->streaming = true;
				row_begin(p);
			}
		}
		if (dir == 1 && p->rstate != BS_MYSQL_R_NONE)
			p->result_bytes += k;
		if (d->streaming) {
			row_feed(p, c, b, k);
		} else if (d->buf_len < cap) {
			size_t t = cap - d->buf_len < k ? cap - d->buf_len : k;
			memcpy(buf + d->buf_len, b, t);
			d->buf_len += t;
		}
		d->logical_len += k;
		d->pkt_left -= (uint32_t)k;
		b += k;
		n -= k;
		if (d->pkt_left == 0) {
			packet_end(p, c, dir);
			if (p->zlayer && !p->z_inner && n) { /* the login's OK ended: frames follow */
				z_feed(p, c, dir, b, n);
				return;
			}
		}
	}
}

/* ------------------------------------------- the compressed protocol */

/* A frame's bytes, as the packet framer would have had them. */
static void z_inner(struct bs_mysql *p, const struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	p->z_inner = true;
	dir_feed(p, c, dir, b, n);
	p->z_inner = false;
}

static void z_broken(struct bs_mysql *p, struct bs_mysql_zdir *z)
{
	if (!z->broken)
		p->zframes_broken++;
	z->broken = true;
}

/* Part of a compressed frame: inflated, at most to the frame's declared
 * length (a frame holds 16 MB at most: no bomb gets past it). */
static void z_inflate(struct bs_mysql *p, const struct bs_proto_ctx *c, int dir, struct bs_mysql_zdir *z,
                      const uint8_t *b, size_t n)
{
	z_stream *zs = z->zs;
	uint8_t out[16384];
	zs->next_in = (Bytef *)(uintptr_t)b;
	zs->avail_in = (uInt)n;
	while (!z->broken) {
		size_t room = z->out_left < sizeof out ? z->out_left : sizeof out;
		if (!room)
			return; /* the frame's length reached: what else it holds is not read */
		zs->next_out = out;
		zs->avail_out = (uInt)room;
		int r = inflate(zs, Z_NO_FLUSH);
		size_t got = room - zs->avail_out;
		z->out_left -= (uint32_t)got;
		if (got)
			z_inner(p, c, dir, out, got);
		if (r == Z_STREAM_END)
			return;
		if (r != Z_OK && r != Z_BUF_ERROR) {
			z_broken(p, z);
			return;
		}
		if (zs->avail_in == 0 && zs->avail_out != 0)
			return;
		if (r == Z_BUF_ERROR && got == 0)
			return;
	}
}

/* The bytes of one direction in the compressed protocol: frames of a
 * 7-byte header (compressed length, sequence, uncompressed length; 0 for a
 * payload stored raw) and a zlib stream, unwrapped into the packet framer. */
static void z_feed(struct bs_mysql *p, const struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	struct bs_mysql_zdir *z = &p->z[dir];
	while (n && !z->broken) {
		if (z->hdr_len < sizeof z->hdr) {
			size_t k = sizeof z->hdr - z->hdr_len < n ? sizeof z->hdr - z->hdr_len : n;
			memcpy(z->hdr + z->hdr_len, b, k);
			z->hdr_len += (unsigned)k;
			b += k;
			n -= k;
			if (z->hdr_len < sizeof z->hdr)
				return;
			z->left = (uint32_t)fixed_int(z->hdr, 3);
			z->out_left = (uint32_t)fixed_int(z->hdr + 4, 3);
			z->raw = z->out_left == 0;
			if (!z->raw) {
				if (!z->zs) {
					z_stream *zs = bs_xcalloc(1, sizeof *zs);
					if (inflateInit(zs) != Z_OK) {
						free(zs);
						z_broken(p, z);
						return;
					}
					z->zs = zs;
				} else if (inflateReset(z->zs) != Z_OK) {
					z_broken(p, z);
					return;
				}
			}
			if (!z->left)
				z->hdr_len = 0;
			continue;
		}
		size_t k = z->left < n ? z->left : n;
		if (z->raw)
			z_inner(p, c, dir, b, k);
		else
			z_inflate(p, c, dir, z, b, k);
		z->left -= (uint32_t)k;
		b += k;
		n -= k;
		if (!z->left)
			z->hdr_len = 0;
	}
}

size_t bs_mysql_held_bytes(const struct bs_mysql *p)
{
	/* zlib's inflate state and window per direction, once frames came */
	return (p->z[0].zs ? BS_GZFILE_ZLIB_BYTES : 0) + (p->z[1].zs ? BS_GZFILE_ZLIB_BYTES : 0);
}

static void framer_reset(struct bs_mysql_dir *d)
{
	d->hdr_len = 0;
	d->continued = false;
	d->streaming = false;
	d->first_byte_pending = false;
	d->desync = false;
	d->hunting = false;
	d->hunt_have = d->hunt_at = 0;
}

enum bs_mysql_err bs_mysql_feed(struct bs_mysql *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	dir = dir ? 1 : 0;
	if (n == 0)
		return BS_MYSQL_OK;
	if (p->last_dir != dir && (p->d[dir].desync || p->d[dir].hunting)) {
		/* a turn of the conversation: this byte starts a packet */
		p->resync_skipped += p->d[dir].hunt_have; /* no header fitted in them */
		framer_reset(&p->d[dir]);
		if (dir == 0)
			p->rstate = BS_MYSQL_R_IGNORE;
	}
	p->last_dir = dir;
	if (p->zlayer)
		z_feed(p, c, dir, b, n);
	else
		dir_feed(p, c, dir, b, n);
	return p->not_mysql ? BS_MYSQL_ERR_NOT_MYSQL : BS_MYSQL_OK;
}

void bs_mysql_gap(struct bs_mysql *p, struct bs_proto_ctx *c, int dir, uint64_t n)
{
	(void)n;
	dir = dir ? 1 : 0;
	if (p->zlayer) { /* frames are not found again after a hole */
		z_broken(p, &p->z[dir]);
		if (dir == 1)
			result_cut_off(p, c);
		return;
	}
	if (dir == 1 && p->d[1].hunting) {
		/* a second hole: the bytes before it cannot join those after */
		p->resync_skipped += p->d[1].hunt_have;
		p->d[1].hunt_have = p->d[1].hunt_at = 0;
		return;
	}
	if (dir == 1 && hunt_start(p, c))
		return; /* the rows may go on after the hole: looked for */
	if (dir == 1)
		result_cut_off(p, c); /* rows lost in the gap */
	p->d[dir].desync = true;
	if (dir == 1 || p->phase == BS_MYSQL_P_COMMAND)
		p->rstate = BS_MYSQL_R_IGNORE; /* the response in progress is lost */
	if (p->phase < BS_MYSQL_P_COMMAND)
		p->phase = BS_MYSQL_P_COMMAND;
	result_reset(p);
}

void bs_mysql_end(struct bs_mysql *p, struct bs_proto_ctx *c)
{
	if (p->ld_carry_len)
		long_data_flush(p, c);
	if (p->d[1].hunting)
		p->resync_skipped += p->d[1].hunt_have;
	result_cut_off(p, c); /* the capture ended inside a result */
	p->rstate = BS_MYSQL_R_NONE;
	for (int dir = 0; dir < 2; dir++)
		if (p->z[dir].zs) {
			inflateEnd(p->z[dir].zs);
			free(p->z[dir].zs);
			p->z[dir].zs = NULL;
		}
}

const char *bs_mysql_strerror(enum bs_mysql_err e)
{
	switch (e) {
	case BS_MYSQL_OK: return "ok";
	case BS_MYSQL_ERR_NOT_MYSQL: return "not MySQL: no protocol 10 greeting";
	}
	return "unknown MySQL error";
}

bool bs_mysql_sniff(int dir, const uint8_t *p, size_t n)
{
	/* server greeting: length, sequence 0, protocol 10, version "5.", "8."... */
	return dir == 1 && n >= 6 && p[3] == 0 && p[4] == 10 && p[5] >= '0' && p[5] <= '9';
}

BS_PROTO_ADAPTERS(mysql)

static bool def_encrypted(const void *state) { return ((const struct bs_mysql *)state)->phase == BS_MYSQL_P_OPAQUE; }
static size_t def_held_bytes(const void *state) { return bs_mysql_held_bytes(state); }

const struct bs_proto_def bs_proto_mysql = {
	.name = "mysql", .ports = { 3306, 0 }, .sniff = bs_mysql_sniff, .state_size = sizeof(struct bs_mysql),
	.init = def_init, .feed = def_feed, .gap = def_gap, .end = def_end, .strerror = def_strerror,
	.held_bytes = def_held_bytes, .udp = false,
	.encrypted = def_encrypted,
};
