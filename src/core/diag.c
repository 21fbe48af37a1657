/* diag.c - see diag.h. */
#include "config.h"
#include "src/core/diag.h"
#include "src/core/common.h"

#include <stdarg.h>
#include <stdio.h>

void bs_diag(const struct bs_diag *d, uint32_t input, uint64_t ref, bool from_capture, const char *layer,
             const char *fmt, ...)
{
	if (!bs_diag_on(d))
		return;
	char reason[BS_ERRBUF_SIZE];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	d->write(d->ctx, input, ref, from_capture, layer ? layer : "?", reason);
}
