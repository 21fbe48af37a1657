/* escape.c - the one escape for text from the data, in every output.
 *
 * Data bytes are whatever an attacker sent: ESC sequences that retitle or
 * repaint a terminal, NUL that cuts a C string, CR that rewrites a line,
 * bytes that are not UTF-8 and make a strict CSV reader give up. Every
 * output (the CSV cells, report.html, the summary and the messages on
 * standard error) writes such text through bs_esc_unit, so the rule is in
 * one place (docs/OUTPUTS.md, "Escaping"):
 *
 *   - a valid UTF-8 character (RFC 3629: no overlong form, no surrogate,
 *     nothing above U+10FFFF) that is not a control character is kept;
 *   - a backslash is written as two backslashes;
 *   - every other byte - a C0 control (0x00-0x1f), DEL (0x7f), a byte of a
 *     C1 control (U+0080-U+009F), a byte that does not begin or continue a
 *     valid sequence - is written as \x and two lower-case hex digits.
 *
 * The result is valid UTF-8 without a control character, and reversible:
 * "\\" gives back "\", "\xHH" gives back byte HH, and no other backslash
 * can occur. */
#include "config.h"
#include "src/output/output.h"

#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when there is none
 * (the table of RFC 3629 section 4, which also excludes overlong forms,
 * surrogates and code points above U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong below U+0800 */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates U+D800-U+DFFF */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong below U+10000 */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0; /* 0x80-0xc1 (continuation, overlong 2-byte lead), 0xf5-0xff */
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if ((s[k] & 0xc0) != 0x80)
			return 0;
	return len;
}

static size_t hex_byte(unsigned char b, char *out)
{
	static const char hex[] = "0123456789abcdef";
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[b >> 4];
	out[3] = hex[b & 15];
	return 4;
}

size_t bs_esc_unit(const char *s, size_t n, size_t *i, char *out)
{
	const unsigned char *p = (const unsigned char *)s + *i;
	size_t left = n - *i;
	unsigned char c = p[0];
	if (c >= 0x20 && c < 0x7f) {
		(*i)++;
		out[0] = (char)c;
		if (c != '\\')
			return 1;
		out[1] = '\\';
		return 2;
	}
	size_t len = c < 0x80 ? 0 : utf8_len(p, left);
	if (len == 2 && c == 0xc2 && p[1] < 0xa0) {
		/* a C1 control (U+0080-U+009F; U+009B is a CSI to many terminals) */
		*i += 2;
		hex_byte(p[0], out);
		return 4 + hex_byte(p[1], out + 4);
	}
	if (len == 0) {
		(*i)++;
		return hex_byte(c, out);
	}
	memcpy(out, p, len);
	*i += len;
	return len;
}

size_t bs_esc(const char *s, size_t n, char *out, size_t cap, size_t *used)
{
	size_t i = 0, w = 0;
	char unit[BS_ESC_UNIT_MAX];
	while (i < n) {
		/* printable ASCII other than the backslash is by far the most common */
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (w == cap)
				break;
			out[w++] = (char)c;
			i++;
			continue;
		}
		size_t at = i;
		size_t k = bs_esc_unit(s, n, &i, unit);
		if (w + k > cap) {
			i = at; /* never half a unit */
			break;
		}
		memcpy(out + w, unit, k);
		w += k;
	}
	if (used)
		*used = i;
	return w;
}

size_t bs_unesc(const char *s, size_t n, char *out)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && s[i + 1] == '\\') {
			out[w++] = '\\';
			i++;
		} else if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x') {
			char hex[3] = { s[i + 2], s[i + 3], 0 };
			out[w++] = (char)strtoul(hex, NULL, 16);
			i += 3;
		} else {
			out[w++] = s[i];
		}
	}
	return w;
}

void bs_term_put(FILE *f, const char *s, size_t n)
{
	char buf[1024];
	size_t used = 0;
	while (s && used < n) {
		size_t part;
		size_t w = bs_esc(s + used, n - used, buf, sizeof buf, &part);
		fwrite(buf, 1, w, f);
		used += part;
	}
}

void bs_term_puts(FILE *f, const char *s)
{
	bs_term_put(f, s, s ? strlen(s) : 0);
}

/* ------------------------------------------------------- standard error */

#if defined(__GLIBC__)
/* stderr carries file names and text from the data inside messages written
 * all over the program (inputs, scan, the capture engine): rather than
 * escape at each call, the stream itself is replaced by one that escapes
 * every byte written to it. It is unbuffered, so each stdio call reaches
 * term_write whole (a UTF-8 character is not split between two writes).
 *
 * One writer means its control bytes: scan.c's progress line on a terminal,
 * "\r  read 1.0 of 2.0 MB, 3.0 MB/s, 4 s left   " (one fprintf) and the
 * erase "\r\033[K" at its end (one fputs). Exactly those two shapes pass
 * as they are; the same bytes inside any other write are escaped. And the
 * messages are lines: a line feed passes, whoever wrote it (a file name
 * holding one can make a message look like two lines, but cannot move the
 * cursor anywhere else or send a terminal command). */
static FILE *term_raw;

static bool progress_shape(const char *s, size_t n)
{
	static const char lead[] = "\r  read ";
	if (n == 4 && memcmp(s, "\r\033[K", 4) == 0)
		return true;
	if (n < sizeof lead - 1 || memcmp(s, lead, sizeof lead - 1) != 0)
		return false;
	for (size_t i = sizeof lead - 1; i < n; i++)
		if (!strchr("0123456789. ,/abcdefghijklmnopqrstuvwxyzMB", s[i]) || !s[i])
			return false;
	return true;
}

static ssize_t term_write(void *cookie, const char *s, size_t n)
{
	(void)cookie;
	if (progress_shape(s, n)) {
		fwrite(s, 1, n, term_raw);
	} else {
		/* messages are lines: a line feed is kept, whoever wrote it */
		for (size_t i = 0; i < n;) {
			const char *nl = memchr(s + i, '\n', n - i);
			size_t end = nl ? (size_t)(nl - s) : n;
			bs_term_put(term_raw, s + i, end - i);
			if (nl)
				fputc('\n', term_raw);
			i = end + (nl != NULL);
		}
	}
	fflush(term_raw);
	return (ssize_t)n;
}

void bs_term_guard_stderr(void)
{
	if (term_raw)
		return;
	cookie_io_functions_t io = { .write = term_write };
	FILE *f = fopencookie(NULL, "w", io);
	if (!f)
		return; /* left as it was */
	setvbuf(f, NULL, _IONBF, 0);
	term_raw = stderr;
	stderr = f; /* glibc's stderr is a variable meant to be assignable */
}
#else
void bs_term_guard_stderr(void)
{
	/* no fopencookie: messages on stderr go out as they are */
}
#endif
