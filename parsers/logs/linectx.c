/* linectx.c - what every daemon parser does with a line context: start an
 * event from it, and report why a line is malformed. */
#include "config.h"
#include "parsers/logs/daemons.h"

#include <string.h>


void bs_line_event(const struct bs_line_ctx *c, struct bs_event *ev, enum bs_event_type t)
{
	bs_event_init(ev, t);
	ev->origin.input = c->input;
	ev->origin.ref = c->lineno;
	ev->origin.from_capture = false;
	if (c->sl) {
		ev->ts = c->sl->ts;
		ev->host = c->sl->host;
	}
	/* bs_event_init leaves host as { NULL, 0 }: give consumers a valid empty string. */
	if (!ev->host.p)
		ev->host = BS_STR_LIT("");
}

void bs_line_debug(const struct bs_line_ctx *c, const char *daemon, const char *why)
{
	if (c)
		bs_diag(c->diag, c->input, c->lineno, false, daemon, "%s", why ? why : "?");
}

void bs_line_auth(const struct bs_line_ctx *c, struct bs_event *ev, enum bs_auth_proto proto, bs_str user,
                  bs_str method, int success)
{
	bs_line_event(c, ev, BS_EV_AUTH);
	ev->u.auth.proto = proto;
	ev->u.auth.user = user;
	ev->u.auth.method = method;
	ev->u.auth.success = success;
	ev->u.auth.session = BS_STR_LIT("");
}

void bs_line_access(const struct bs_line_ctx *c, struct bs_event *ev, bs_time ts, int status, uint64_t bytes)
{
	bs_line_event(c, ev, BS_EV_HTTP);
	ev->ts = ts;
	ev->host = BS_STR_LIT(""); /* the server is not in the line: the engine maps the input */
	struct bs_ev_http *h = &ev->u.http;
	h->phase = BS_HTTP_COMPLETE;
	h->txn_id = c->lineno;
	h->from_access_log = true;
	h->status = status;
	h->resp_bytes = bytes;
}

bool bs_line_skip(bs_str *s, const char *lit)
{
	size_t n = strlen(lit);
	if (s->n < n || memcmp(s->p, lit, n) != 0)
		return false;
	s->p += n;
	s->n -= n;
	return true;
}
