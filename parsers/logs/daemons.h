/* daemons.h - the contract of the per-daemon maillog parsers.
 *
 * The text-log reader (maillog.c) frames a line with syslog.h and calls the
 * parser of the program that wrote it. Each parser says how the line counts:
 * BS_PARSED (understood; events emitted or state updated), BS_IGNORED (a line
 * of this daemon that carries nothing the engine uses, e.g. "disconnect"),
 * BS_MALFORMED (looks like this daemon's but does not parse; the reason goes
 * to c->diag, src/core/diag.h).
 *
 * Stateless daemons (Dovecot, Courier, Cyrus, amavis, spamd) have a single
 * function; those that join lines into a message by queue id (Postfix,
 * Sendmail, Exim) keep bounded state (queue.h) and flush it at the end.
 *
 * The registry: each daemon's .c file defines one struct bs_daemon_def, and
 * BS_DAEMONS lists them once, in the order the reader tries them. Adding a
 * daemon is one .c file (and its line in local.mk) and one entry there.
 */
#ifndef BS_DAEMONS_H
#define BS_DAEMONS_H

#include <stdio.h>
#include "src/core/diag.h"
#include "src/core/event.h"
#include "src/core/stats.h"
#include "parsers/logs/syslog.h"

struct bs_line_ctx {
	const struct bs_syslog *sl;   /* framed line (NULL for non-syslog formats) */
	const struct bs_sink *sink;
	uint32_t input;
	uint64_t lineno;
	const struct bs_diag *diag;  /* why a line is malformed; NULL: nowhere */
};

struct bs_daemon_def {
	const char *name;
	/* Does the program of a syslog line belong to it? (NULL: never) */
	bool (*prog)(bs_str prog);
	/* For program names two daemons share (Courier and Cyrus: "imapd",
	 * "pop3d"): does the message look like this daemon's? The first daemon
	 * whose program matches takes the line, unless its shape test fails and
	 * a later one's, whose program matches too, succeeds. (NULL: no test) */
	bool (*shape)(bs_str msg);
	/* (A daemon with a shape test and no program test takes the syslog
	 * lines of programs no daemon owns, and untagged ones, whose message
	 * passes it: access lines sent to syslog, Horde under any ident.) */
	/* Is a line without syslog framing in its own format? (NULL: never) */
	bool (*raw)(const char *line, size_t len);
	/* The same for a format whose records are known only from a header read
	 * before them (W3C's "#Fields:"): state is the daemon's, NULL before its
	 * first line. Header lines ("#...") are offered too. (NULL: never) */
	bool (*raw_in)(const void *state, const char *line, size_t len);
	/* The state of a daemon that joins lines, made at its first line and
	 * freed with the reader (NULL for a stateless daemon). */
	void *(*state_new)(void);
	void (*state_free)(void *state);
	/* One line of it: text is the syslog message, or the whole line when
	 * c->sl is NULL; tz serves stamps of its own that carry no zone. */
	enum bs_verdict (*line)(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz);
	/* End of input: flush the open state as events; how many were flushed
	 * unfinished (NULL: nothing to flush). */
	uint64_t (*finish)(void *state, const struct bs_line_ctx *c);
};

/* Every daemon parser, in the order of matching. */
#define BS_DAEMONS(X) X(postfix) X(sendmail) X(w3c) X(zimbra) X(domino) X(exim) X(qmail) X(opensmtpd) X(dovecot) X(courier) X(cyrus) X(uwimap) X(amavis) X(spamd) X(perdition) X(solidpop3d) X(mailscanner) X(sudo) X(roundcube) X(sogo) X(horde) X(squirrelmail) X(snappymail) X(openwebmail) X(kerio) X(nginxmail) X(groupoffice) X(tine20) X(weblog)
#define BS_DAEMON_DECLARE(name) extern const struct bs_daemon_def bs_daemon_##name;
BS_DAEMONS(BS_DAEMON_DECLARE)
#undef BS_DAEMON_DECLARE

/* Fill an event's type, time, origin and host from the line context. */
void bs_line_event(const struct bs_line_ctx *c, struct bs_event *ev, enum bs_event_type t);
/* The same for a login attempt: proto, user, method, success; no session. */
void bs_line_auth(const struct bs_line_ctx *c, struct bs_event *ev, enum bs_auth_proto proto, bs_str user,
                  bs_str method, int success);
/* An access-log request (web access log, IIS, Exchange HttpProxy): an HTTP
 * event, phase COMPLETE, from_access_log, txn the line number, no host. */
void bs_line_access(const struct bs_line_ctx *c, struct bs_event *ev, bs_time ts, int status, uint64_t bytes);
/* The recipients of one line's MAIL or SPAM event (a Sendmail-like list
 * on one line): added one by one and emitted in parts of at most
 * BS_MAIL_MAX_RCPT (event.h), so none is dropped. ev is filled but for its
 * recipients; end emits the last part (the only one, even empty).
 * with_status: the MAIL event carries the statuses given (else none). */
struct bs_line_rcpts {
	const struct bs_line_ctx *c;
	struct bs_event *ev;
	bool with_status;
	size_t n;
	uint32_t part;
	bs_str rcpts[BS_MAIL_MAX_RCPT], status[BS_MAIL_MAX_RCPT];
};
/* Ready to add to (the arrays are left as they are: never zero the struct
 * per line, it is 32 KB). */
void bs_line_rcpts_init(struct bs_line_rcpts *r, const struct bs_line_ctx *c, struct bs_event *ev);
void bs_line_rcpts_add(struct bs_line_rcpts *r, bs_str rcpt, bs_str status);
void bs_line_rcpts_end(struct bs_line_rcpts *r);
/* If s opens with lit, step over it and say so. */
bool bs_line_skip(bs_str *s, const char *lit);
/* Why a line is malformed, to c->diag with the input and line number (the
 * command line writes "FILE:LINE: daemon: why"). */
void bs_line_debug(const struct bs_line_ctx *c, const char *daemon, const char *why);
/* "2024-05-04 17:31:02[.123|,123][ +0200] " at the start of s (Exim's main
 * log, log4j's stamp in Zimbra's): the time, in tz when no offset is
 * written, and the length with the space after; 0 if s does not start so. */
size_t bs_line_iso_stamp(bs_str s, struct bs_tz *tz, bs_time *ts);

/* Stateless daemons. Each is called only for lines whose program matches. */
enum bs_verdict bs_dovecot_line(const struct bs_line_ctx *c);  /* dovecot, imap-login, pop3-login, auth */
enum bs_verdict bs_courier_line(const struct bs_line_ctx *c);  /* imapd, pop3d, imapd-ssl, courier* */
enum bs_verdict bs_cyrus_line(const struct bs_line_ctx *c);    /* cyrus/imap, imapd, pop3d (cyrus style) */
enum bs_verdict bs_amavis_line(const struct bs_line_ctx *c);   /* amavis, amavisd, amavisd-new */
enum bs_verdict bs_spamd_line(const struct bs_line_ctx *c);    /* spamd, spamc */
enum bs_verdict bs_sudo_line(const struct bs_line_ctx *c);    /* sudo: commands run or refused */
/* Does this program name belong to the daemon? (the registry's prog tests) */
bool bs_dovecot_prog(bs_str prog);
bool bs_courier_prog(bs_str prog);
bool bs_cyrus_prog(bs_str prog);
bool bs_amavis_prog(bs_str prog);
bool bs_spamd_prog(bs_str prog);
/* Courier and Cyrus share program names (imapd, pop3d): the message shape
 * decides (the registry's shape tests). */
bool bs_courier_shape(bs_str msg);
bool bs_cyrus_shape(bs_str msg);

/* Stateful: Postfix (all services, joined by queue id). */
struct bs_postfix;
struct bs_postfix *bs_postfix_new(void);
bool bs_postfix_prog(bs_str prog);
enum bs_verdict bs_postfix_line(struct bs_postfix *p, const struct bs_line_ctx *c);
uint64_t bs_postfix_finish(struct bs_postfix *p, const struct bs_line_ctx *c); /* flush, returns count */
void bs_postfix_free(struct bs_postfix *p);

/* Sendmail (by queue id). */
struct bs_sendmail;
struct bs_sendmail *bs_sendmail_new(void);
bool bs_sendmail_prog(bs_str prog);
enum bs_verdict bs_sendmail_line(struct bs_sendmail *p, const struct bs_line_ctx *c);
uint64_t bs_sendmail_finish(struct bs_sendmail *p, const struct bs_line_ctx *c);
void bs_sendmail_free(struct bs_sendmail *p);

/* Exim: its own main log format ("2024-05-04 17:31:02 1abcDE-000123-XY <= ...")
 * and the same lines behind a syslog prefix. */
struct bs_exim;
struct bs_exim *bs_exim_new(void);
bool bs_exim_prog(bs_str prog);
/* For raw main-log lines c->sl is NULL and line/len hold the whole line. */
enum bs_verdict bs_exim_line(struct bs_exim *p, const struct bs_line_ctx *c, const char *line, size_t len,
                             struct bs_tz *tz);
uint64_t bs_exim_finish(struct bs_exim *p, const struct bs_line_ctx *c);
void bs_exim_free(struct bs_exim *p);

/* Web access logs: Apache/nginx combined and common, optional vhost prefix.
 * Returns BS_PARSED with one BS_EV_HTTP (phase COMPLETE, from_access_log). */
bool bs_weblog_detect(const char *line, size_t len); /* cheap shape check */
enum bs_verdict bs_weblog_line(const struct bs_line_ctx *c, const char *line, size_t len);

#endif
