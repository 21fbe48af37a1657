/* event.c - helpers of the normalized event. */
#include "config.h"
#include "src/core/event.h"

#include <string.h>

void bs_event_init(struct bs_event *ev, enum bs_event_type type)
{
	memset(ev, 0, sizeof *ev);
	ev->type = type;
	ev->ts = BS_TIME_NONE;
}

const char *bs_event_type_name(enum bs_event_type t)
{
	static const char *const names[BS_EV_TYPE_MAX] = {
		[BS_EV_HTTP] = "http", [BS_EV_AUTH] = "auth", [BS_EV_MAIL] = "mail",
		[BS_EV_SPAM] = "spam", [BS_EV_DBQUERY] = "dbquery", [BS_EV_DBRESULT] = "dbresult",
		[BS_EV_ADDR] = "addr", [BS_EV_FLOW] = "flow", [BS_EV_FILEXFER] = "filexfer",
		[BS_EV_DNS] = "dns",
	};
	return (t > 0 && t < BS_EV_TYPE_MAX && names[t]) ? names[t] : "unknown";
}
