/* fuzz_util.h - shared pieces of the libFuzzer harnesses (docs/ROBUSTNESS.md).
 *
 * Like Suricata's src/tests/fuzz/, every piece of input a harness hands to
 * the code under test is copied into its own exactly-sized heap block, so
 * that a read one byte past the end of a line, a chunk or a packet is caught
 * by AddressSanitizer instead of landing in the fuzzer's larger buffer.
 */
#ifndef BS_FUZZ_UTIL_H
#define BS_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "src/core/common.h"
#include "src/core/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads every byte of a borrowed range, so that a dangling or short pointer
 * handed out by a parser trips ASan inside the sink call. The sum is kept in
 * a volatile so the loop is not optimized away. */
static volatile uint64_t fuzz_touch_sum;
static inline void fuzz_touch(bs_str s)
{
	uint64_t sum = 0;
	for (size_t i = 0; s.p && i < s.n; i++)
		sum += (uint8_t)s.p[i];
	fuzz_touch_sum += sum;
}

/* A sink that reads every string of every event type. */
static inline void fuzz_touch_event(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	fuzz_touch(ev->host);
	switch (ev->type) {
	case BS_EV_HTTP: {
		const struct bs_ev_http *h = &ev->u.http;
		bs_str f[] = { h->method, h->uri, h->host, h->user_agent, h->referer, h->cookie, h->content_type,
		               h->login_user, h->upload_filename, h->resp_content_type, h->set_cookie };
		for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
			fuzz_touch(f[i]);
		for (size_t i = 0; i < h->nrefs && i < BS_HTTP_MAX_REFS; i++)
			fuzz_touch(h->refs[i]);
		break;
	}
	case BS_EV_AUTH:
		fuzz_touch(ev->u.auth.user);
		fuzz_touch(ev->u.auth.method);
		fuzz_touch(ev->u.auth.session);
		break;
	case BS_EV_MAIL: {
		const struct bs_ev_mail *m = &ev->u.mail;
		bs_str f[] = { m->queue_id, m->message_id, m->sender, m->sasl_user, m->local_user, m->relay,
		               m->reject_reason, m->client_name };
		for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
			fuzz_touch(f[i]);
		for (size_t i = 0; i < m->nrcpt; i++) {
			fuzz_touch(m->rcpts[i]);
			if (m->rcpt_status)
				fuzz_touch(m->rcpt_status[i]);
		}
		break;
	}
	case BS_EV_SPAM:
		fuzz_touch(ev->u.spam.sender);
		fuzz_touch(ev->u.spam.filter);
		for (size_t i = 0; i < ev->u.spam.nrcpt; i++)
			fuzz_touch(ev->u.spam.rcpts[i]);
		break;
	case BS_EV_DBQUERY:
		fuzz_touch(ev->u.dbquery.db_user);
		fuzz_touch(ev->u.dbquery.db_name);
		fuzz_touch(ev->u.dbquery.sql);
		break;
	case BS_EV_ADDR:
		fuzz_touch(ev->u.addr.address);
		fuzz_touch(ev->u.addr.column);
		break;
	case BS_EV_FLOW:
		fuzz_touch(ev->u.flow.app);
		break;
	case BS_EV_FILEXFER:
		fuzz_touch(ev->u.xfer.proto);
		fuzz_touch(ev->u.xfer.filename);
		fuzz_touch(ev->u.xfer.user);
		break;
	case BS_EV_DNS:
		fuzz_touch(ev->u.dns.qname);
		fuzz_touch(ev->u.dns.cname);
		break;
	default:
		break;
	}
}

/* A copy of p[0..n) in its own heap block of exactly n bytes (1 if n is 0). */
static inline uint8_t *fuzz_dup(const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);
	if (!b)
		abort();
	if (n)
		memcpy(b, p, n);
	return b;
}

/* The input as a file: an anonymous memory file, named through /proc so that
 * the code under test opens it by path like any input. Returns the fd (close
 * it after use) and writes the path into path[]. */
static inline int fuzz_memfile(const uint8_t *p, size_t n, char *path, size_t pathlen)
{
	int fd = memfd_create("fuzz-input", 0);
	if (fd < 0)
		abort();
	size_t off = 0;
	while (off < n) {
		ssize_t k = write(fd, p + off, n - off);
		if (k <= 0)
			abort();
		off += (size_t)k;
	}
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

/* Calls fn once per line of the input (split at LF, without it), each line
 * in its own exactly-sized block. */
typedef void (*fuzz_line_fn)(void *ctx, const char *line, size_t n, uint64_t lineno);
static inline void fuzz_each_line(const uint8_t *data, size_t size, fuzz_line_fn fn, void *ctx)
{
	uint64_t lineno = 0;
	size_t start = 0;
	while (start <= size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t end = nl ? (size_t)(nl - data) : size;
		if (!nl && end == start && lineno > 0)
			break; /* no empty last line after a final LF */
		uint8_t *line = fuzz_dup(data + start, end - start);
		fn(ctx, (const char *)line, end - start, ++lineno);
		free(line);
		if (!nl)
			break;
		start = end + 1;
	}
}

#endif
