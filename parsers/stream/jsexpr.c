/* jsexpr.c - the string a page's script builds from literals and decoders
 * (jsexpr.h). A recursive-descent reader over a bounded text: every step
 * checks the index against n, nesting is counted, the value is cut at its
 * buffer's size. */
#include "config.h"
#include "parsers/stream/jsexpr.h"
#include "src/core/common.h"

#include <stdint.h>
#include <string.h>

struct ev {
	const char *p;
	size_t n, i;
	int depth;
	bool ended;     /* a step failed for want of text: p's end came first */
	const struct bs_jsexpr_scope *scope;
	bool final;     /* p's end is the text's */
};

/* Whether text is left at e->i; when not, the reading ended for want of it. */
static bool more(struct ev *e)
{
	if (e->i < e->n)
		return true;
	e->ended = true;
	return false;
}

enum decoder { DEC_UNESCAPE, DEC_URI, DEC_ATOB, DEC_CHARCODES };

static void put(struct bs_jsexpr_out *o, const char *b, size_t k)
{
	size_t room = BS_JSEXPR_OUT_MAX - o->n;
	if (k > room) {
		k = room;
		o->cut = true;
	}
	memcpy(o->b + o->n, b, k);
	o->n += k;
}

static void put_byte(struct bs_jsexpr_out *o, char c)
{
	put(o, &c, 1);
}

static void put_cp(struct bs_jsexpr_out *o, uint32_t cp)
{
	char b[4];
	put(o, b, bs_utf8_encode(cp, b));
}

/* UTF-16 code units as JavaScript strings hold them: a high surrogate
 * waits for its low half (escapes and fromCharCode give them apart). */
struct units {
	uint32_t high;
};

static void put_unit(struct bs_jsexpr_out *o, struct units *u, uint32_t unit)
{
	if (u->high) {
		uint32_t high = u->high;
		u->high = 0;
		if (unit >= 0xdc00 && unit <= 0xdfff) {
			put_cp(o, 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
			return;
		}
		put_cp(o, 0xfffd);
	}
	if (unit >= 0xd800 && unit <= 0xdbff)
		u->high = unit;
	else
		put_cp(o, unit);
}

static void units_end(struct bs_jsexpr_out *o, struct units *u)
{
	if (u->high)
		put_cp(o, 0xfffd);
	u->high = 0;
}

/* k hex digits at s[0..k) (within bounds, checked by the caller), or -1. */
static long hexn(const char *s, size_t k)
{
	long v = 0;
	for (size_t j = 0; j < k; j++) {
		int d = bs_hexval(s[j]);
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
}

static void skip_blanks(struct ev *e)
{
	while (e->i < e->n && is_blank(e->p[e->i]))
		e->i++;
}

/* The escape after a backslash at p[i] (i + 1 < n checked): its value
 * appended; returns the index after it, or 0 when it is broken (a syntax
 * error: the script would not run). */
static size_t escape(const char *p, size_t n, size_t i, struct bs_jsexpr_out *o, struct units *u)
{
	char x = p[i + 1];
	static const char simple[] = "n\nt\tr\rb\bf\fv\v";
	for (size_t k = 0; k + 1 < sizeof simple; k += 2)
		if (x == simple[k]) {
			put_unit(o, u, (unsigned char)simple[k + 1]);
			return i + 2;
		}
	if (x == 'x') {
		long v = i + 4 <= n ? hexn(p + i + 2, 2) : -1;
		if (v < 0)
			return 0;
		o->obfuscated = true;
		put_unit(o, u, (uint32_t)v);
		return i + 4;
	}
	if (x == 'u' && i + 2 < n && p[i + 2] == '{') {
		size_t j = i + 3;
		uint32_t v = 0;
		while (j < n && j < i + 3 + 8 && bs_hexval(p[j]) >= 0)
			v = v << 4 | (uint32_t)bs_hexval(p[j++]);
		if (j == i + 3 || j >= n || p[j] != '}')
			return 0;
		units_end(o, u);
		put_cp(o, v);
		return j + 1;
	}
	if (x == 'u') {
		long v = i + 6 <= n ? hexn(p + i + 2, 4) : -1;
		if (v < 0)
			return 0;
		put_unit(o, u, (uint32_t)v);
		return i + 6;
	}
	if (x == '\r') /* a line continuation: nothing */
		return i + 2 < n && p[i + 2] == '\n' ? i + 3 : i + 2;
	if (x == '\n')
		return i + 2;
	if ((unsigned char)x >= 0x80) { /* a byte of a UTF-8 character: as it is */
		units_end(o, u);
		put_byte(o, x);
		return i + 2;
	}
	put_unit(o, u, x == '0' ? 0 : (unsigned char)x); /* \/ \' \" \\ and the rest: the byte */
	return i + 2;
}

/* A quoted literal at p[e->i]: its value appended. A template literal
 * with a substitution, a line break in a quoted one, a broken escape or
 * no closing quote within p: not evaluated. */
static bool literal(struct ev *e, struct bs_jsexpr_out *o)
{
	const char q = e->p[e->i];
	struct units u = { 0 };
	for (size_t i = e->i + 1; i < e->n;) {
		char c = e->p[i];
		if (c == q) {
			units_end(o, &u);
			e->i = i + 1;
			return true;
		}
		if (q != '`' && (c == '\n' || c == '\r'))
			return false;
		if (q == '`' && c == '$' && i + 1 < e->n && e->p[i + 1] == '{')
			return false;
		if (c != '\\') {
			units_end(o, &u);
			put_byte(o, c);
			i++;
			continue;
		}
		size_t at = i;
		if (i + 1 >= e->n || !(i = escape(e->p, e->n, i, o, &u))) {
			e->ended = at + 10 >= e->n; /* an escape cut by the end (\u{10FFFF} is 10) */
			return false;
		}
	}
	e->ended = true;
	return false;
}

static bool name_eq(const char *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);
	if (n != k)
		return false;
	for (size_t j = 0; j < k; j++)
		if ((s[j] | 0x20) != (lit[j] | 0x20))
			return false;
	return true;
}

/* unescape: %XX a code unit, %uXXXX one; decodeURI(Component): %XX a byte
 * (the bytes of UTF-8). Others stay as written. */
static void percent_decode(const char *s, size_t n, bool unescape, struct bs_jsexpr_out *o)
{
	struct units u = { 0 };
	for (size_t i = 0; i < n;) {
		long v;
		if (s[i] == '%' && unescape && i + 6 <= n && s[i + 1] == 'u' && (v = hexn(s + i + 2, 4)) >= 0) {
			put_unit(o, &u, (uint32_t)v);
			i += 6;
		} else if (s[i] == '%' && i + 3 <= n && (v = hexn(s + i + 1, 2)) >= 0) {
			if (unescape) {
				put_unit(o, &u, (uint32_t)v);
			} else {
				units_end(o, &u);
				put_byte(o, (char)v);
			}
			i += 3;
		} else {
			units_end(o, &u);
			put_byte(o, s[i++]);
		}
	}
	units_end(o, &u);
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* atob: base64 (blanks ignored, '=' padding at the end); false where the
 * browser would throw. */
static bool base64_decode(const char *s, size_t n, struct bs_jsexpr_out *o)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t pad = 0;
	for (size_t i = 0; i < n; i++) {
		if (is_blank(s[i]))
			continue;
		if (s[i] == '=') {
			pad++;
			continue;
		}
		int d = b64val(s[i]);
		if (d < 0 || pad)
			return false;
		acc = (acc << 6 | (uint32_t)d) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			put_byte(o, (char)(acc >> bits & 0xff));
		}
	}
	return pad <= 2;
}

static bool expr(struct ev *e, struct bs_jsexpr_out *o);

/* String.fromCharCode's arguments after its '(': numbers (decimal or 0x
 * hex), each a UTF-16 code unit (modulo 65536, as the function takes them). */
static bool char_codes(struct ev *e, struct bs_jsexpr_out *o)
{
	struct units u = { 0 };
	skip_blanks(e);
	if (e->i < e->n && e->p[e->i] == ')') {
		e->i++;
		return true;
	}
	for (;;) {
		skip_blanks(e);
		uint32_t v = 0;
		size_t start = e->i;
		if (e->i + 1 < e->n && e->p[e->i] == '0' && (e->p[e->i + 1] | 0x20) == 'x') {
			e->i += 2;
			start = e->i;
			while (e->i < e->n && bs_hexval(e->p[e->i]) >= 0)
				v = (v << 4 | (uint32_t)bs_hexval(e->p[e->i++])) & 0xffff;
		} else {
			while (e->i < e->n && e->p[e->i] >= '0' && e->p[e->i] <= '9')
				v = (v * 10 + (uint32_t)(e->p[e->i++] - '0')) % 65536;
		}
		if (e->i == start) {
			more(e);
			return false;
		}
		put_unit(o, &u, v);
		skip_blanks(e);
		if (!more(e))
			return false;
		char c = e->p[e->i++];
		if (c == ')') {
			units_end(o, &u);
			return true;
		}
		if (c != ',')
			return false;
	}
}

/* A decoder's name (its last dotted part: window.atob, String.fromCharCode). */
static bool decoder_named(const char *s, size_t n, enum decoder *d)
{
	if (name_eq(s, n, "unescape"))
		*d = DEC_UNESCAPE;
	else if (name_eq(s, n, "decodeURI") || name_eq(s, n, "decodeURIComponent"))
		*d = DEC_URI;
	else if (name_eq(s, n, "atob"))
		*d = DEC_ATOB;
	else if (name_eq(s, n, "fromCharCode"))
		*d = DEC_CHARCODES;
	else
		return false;
	return true;
}

/* A name at p[e->i, i) that is not a decoder's: a variable's value, when
 * the script set one (and it is not called). */
static bool variable(struct ev *e, size_t i, struct bs_jsexpr_out *o)
{
	if (i >= e->n && !e->final) {
		e->ended = true; /* a name cut by the end */
		return false;
	}
	const struct bs_jsexpr_scope *scope = e->scope;
	size_t len = i - e->i;
	if (!scope || memchr(e->p + e->i, '.', len))
		return false;
	size_t after = i;
	while (after < e->n && is_blank(e->p[after]))
		after++;
	if (after < e->n && e->p[after] == '(')
		return false;
	const struct bs_jsexpr_vars *vars = scope->vars;
	for (size_t k = 0; vars && k < vars->n; k++)
		if (vars->v[k].name_len == len && memcmp(vars->v[k].name, e->p + e->i, len) == 0) {
			put(o, vars->v[k].value, vars->v[k].value_len);
			o->obfuscated |= vars->v[k].obfuscated;
			e->i = i;
			return true;
		}
	if (scope->lookup && scope->lookup(scope->ctx, e->p + e->i, len, o)) {
		e->i = i;
		return true;
	}
	return false;
}

void bs_jsexpr_vars_forget(struct bs_jsexpr_vars *vars, const char *name, size_t name_len)
{
	for (size_t k = 0; k < vars->n; k++)
		if (vars->v[k].name_len == name_len && memcmp(vars->v[k].name, name, name_len) == 0) {
			vars->v[k] = vars->v[--vars->n];
			if (vars->next >= vars->n)
				vars->next = 0;
			return;
		}
}

void bs_jsexpr_vars_set(struct bs_jsexpr_vars *vars, const char *name, size_t name_len,
                        const struct bs_jsexpr_out *value)
{
	size_t k = 0;
	while (k < vars->n && !(vars->v[k].name_len == name_len && memcmp(vars->v[k].name, name, name_len) == 0))
		k++;
	bool keep = !value->cut && value->n <= BS_JSEXPR_VAR_VALUE_MAX && name_len <= BS_JSEXPR_VAR_NAME_MAX;
	if (k == vars->n) {
		if (!keep || name_len == 0)
			return;
		if (vars->n < BS_JSEXPR_VARS_MAX) {
			vars->n++;
		} else {
			k = vars->next;
			vars->next = (vars->next + 1) % BS_JSEXPR_VARS_MAX;
		}
	} else if (!keep) { /* its new value is not kept: the old one must not stand for it */
		bs_jsexpr_vars_forget(vars, name, name_len);
		return;
	}
	vars->v[k].name_len = (uint8_t)name_len;
	memcpy(vars->v[k].name, name, name_len);
	vars->v[k].value_len = (uint16_t)value->n;
	memcpy(vars->v[k].value, value->b, value->n);
	vars->v[k].obfuscated = value->obfuscated;
}

/* A decoder's call at p[e->i]: its argument's value decoded and appended. */
static bool call(struct ev *e, struct bs_jsexpr_out *o)
{
	size_t i = e->i, last = e->i;
	while (i < e->n && (is_ident(e->p[i]) || e->p[i] == '.'))
		if (e->p[i++] == '.')
			last = i;
	enum decoder d;
	if (!decoder_named(e->p + last, i - last, &d))
		return variable(e, i, o);
	o->obfuscated = true;
	e->i = i;
	skip_blanks(e);
	if (!more(e) || e->p[e->i] != '(')
		return false;
	e->i++;
	if (d == DEC_CHARCODES)
		return char_codes(e, o);
	struct bs_jsexpr_out arg;
	arg.n = 0;
	arg.cut = arg.obfuscated = false;
	if (!expr(e, &arg))
		return false;
	skip_blanks(e);
	if (!more(e) || e->p[e->i] != ')')
		return false;
	e->i++;
	o->cut |= arg.cut;
	if (d == DEC_ATOB)
		return base64_decode(arg.b, arg.n, o);
	percent_decode(arg.b, arg.n, d == DEC_UNESCAPE, o);
	return true;
}

static bool term(struct ev *e, struct bs_jsexpr_out *o)
{
	skip_blanks(e);
	if (!more(e))
		return false;
	char c = e->p[e->i];
	if (c == '"' || c == '\'' || c == '`')
		return literal(e, o);
	if (c == '(') {
		e->i++;
		if (!expr(e, o))
			return false;
		skip_blanks(e);
		if (!more(e) || e->p[e->i] != ')')
			return false;
		e->i++;
		return true;
	}
	if (is_ident(c) && !(c >= '0' && c <= '9'))
		return call(e, o);
	return false;
}

/* term ('+' term)*; every nested expression passes here, so the depth is
 * counted here. */
static bool expr(struct ev *e, struct bs_jsexpr_out *o)
{
	if (++e->depth > BS_JSEXPR_DEPTH_MAX)
		return false;
	if (!term(e, o))
		return false;
	for (;;) {
		size_t after = e->i;
		skip_blanks(e);
		if (e->i + 1 < e->n && e->p[e->i] == '+' && e->p[e->i + 1] != '+' && e->p[e->i + 1] != '=') {
			e->i++;
			if (!term(e, o))
				return false;
			continue;
		}
		if (e->i + 1 == e->n && e->p[e->i] == '+')
			e->ended = true; /* '+', "++" or "+=": the next text says */
		e->i = after;
		e->depth--;
		return true;
	}
}

size_t bs_jsexpr_eval(const char *p, size_t n, bool final, struct bs_jsexpr_out *out)
{
	return bs_jsexpr_eval_in(p, n, final, NULL, out);
}

size_t bs_jsexpr_eval_in(const char *p, size_t n, bool final, const struct bs_jsexpr_scope *scope,
                         struct bs_jsexpr_out *out)
{
	out->n = 0;
	out->cut = out->obfuscated = out->incomplete = false;
	struct ev e = { p, n, 0, 0, false, scope, final };
	if (!expr(&e, out)) {
		out->incomplete = e.ended && !final;
		return 0;
	}
	size_t end = e.i;
	skip_blanks(&e);
	if (e.i >= n) {
		out->incomplete = !final;
		return final ? end : 0;
	}
	char c = p[e.i];
	if (c == '.' || c == '[' || c == '+' || c == '(') {
		out->incomplete = !final && e.i + 1 >= n; /* what is applied is in the next text */
		return 0; /* a method, an index or more applied to the value: not its value */
	}
	return end;
}

/* ------------------------------------------------------------------ packed code */

/* A quoted literal at e->p[e->i] read over, not decoded: its contents are
 * p[*start, *end) as written; false when it does not close within p or
 * breaks a line. */
static bool literal_span(struct ev *e, size_t *start, size_t *end)
{
	const char q = e->p[e->i];
	if (q != '\'' && q != '"')
		return false;
	for (size_t i = e->i + 1; i < e->n; i++) {
		char c = e->p[i];
		if (c == q) {
			*start = e->i + 1;
			*end = i;
			e->i = i + 1;
			return true;
		}
		if (c == '\n' || c == '\r')
			return false;
		if (c == '\\')
			i++;
	}
	e->ended = true;
	return false;
}

/* The character c at e->p[e->i] (blanks before it skipped), passed. */
static bool expect(struct ev *e, char c)
{
	skip_blanks(e);
	if (!more(e) || e->p[e->i] != c)
		return false;
	e->i++;
	return true;
}

/* A decimal number below limit at e->p[e->i] (blanks before it skipped). */
static bool small_number(struct ev *e, unsigned long limit, unsigned long *v)
{
	skip_blanks(e);
	size_t start = e->i;
	*v = 0;
	while (e->i < e->n && e->p[e->i] >= '0' && e->p[e->i] <= '9' && *v < limit)
		*v = *v * 10 + (unsigned long)(e->p[e->i++] - '0');
	more(e);
	return e->i > start && *v < limit && !(e->i < e->n && e->p[e->i] >= '0' && e->p[e->i] <= '9');
}

/* The word w at e->p[e->i], passed; a text ending inside it ended. */
static bool word_at(struct ev *e, const char *w)
{
	size_t k = strlen(w), have = e->n - e->i;
	if (have < k) {
		e->ended = memcmp(e->p + e->i, w, have) == 0;
		return false;
	}
	if (memcmp(e->p + e->i, w, k) != 0)
		return false;
	e->i += k;
	return true;
}

/* A word of packed code as the packer wrote a dictionary index: in base
 * a, its digits 0-9, a-z, then A-Z (the packer's e(): c > 35 as
 * String.fromCharCode(c + 29)), with no leading zero. -1: not one. */
static long packed_index(const char *w, size_t k, unsigned long base)
{
	if (k == 0 || k > 6 || (w[0] == '0' && k > 1))
		return -1;
	long v = 0;
	for (size_t j = 0; j < k; j++) {
		char c = w[j];
		long d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'z' ? c - 'a' + 10
			: c >= 'A' && c <= 'Z' ? c - 'A' + 36 : -1;
		if (d < 0 || d >= (long)base)
			return -1;
		v = v * (long)base + d;
	}
	return v;
}

static bool is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static size_t unpack(struct ev *e, bool final, struct bs_jsexpr_out *out);

size_t bs_jsexpr_unpack(const char *p, size_t n, bool final, struct bs_jsexpr_out *out)
{
	out->n = 0;
	out->cut = out->incomplete = false;
	out->obfuscated = true;
	struct ev e = { p, n, 0, 0, false, NULL, final };
	size_t used = unpack(&e, final, out);
	if (!used)
		out->incomplete = e.ended && !final;
	return used;
}

static size_t unpack(struct ev *e, bool final, struct bs_jsexpr_out *out)
{
	const char *p = e->p;
	size_t n = e->n;
	skip_blanks(e);
	/* function(p,a,c,k,e,d){ ... }( : the body is the packer's own, left
	 * unread; its call's arguments follow the first "}(" before a quote */
	if (!word_at(e, "function"))
		return 0;
	size_t body = e->i, call_at = 0;
	size_t limit = n - body > BS_JSEXPR_UNPACK_BODY_MAX ? body + BS_JSEXPR_UNPACK_BODY_MAX : n;
	for (size_t j = body; j + 1 < limit && !call_at; j++)
		if (p[j] == '}' && p[j + 1] == '(') {
			e->i = j + 2;
			skip_blanks(e);
			if (e->i < n && (p[e->i] == '\'' || p[e->i] == '"'))
				call_at = e->i;
		}
	if (!call_at) {
		e->ended = limit + 2 >= n; /* the body goes on past the text */
		return 0;
	}
	e->i = call_at;
	size_t pay0, pay1, words0, words1, sep0, sep1;
	unsigned long base, count;
	if (!literal_span(e, &pay0, &pay1) || !expect(e, ',') || !small_number(e, 63, &base) || base < 2 ||
	    !expect(e, ',') || !small_number(e, 1000000, &count) || !expect(e, ','))
		return 0;
	skip_blanks(e);
	if (!more(e) || !literal_span(e, &words0, &words1) || !expect(e, '.'))
		return 0;
	skip_blanks(e);
	if (!word_at(e, "split") || !expect(e, '('))
		return 0;
	skip_blanks(e);
	if (!more(e) || !literal_span(e, &sep0, &sep1) || sep1 - sep0 != 1 || p[sep0] != '|' || !expect(e, ')'))
		return 0;
	size_t used = e->i;
	if (!final && used >= n) {
		e->ended = true;
		return 0;
	}
	/* the dictionary: where each word starts (it ends before the next
	 * start's '|'); past BS_JSEXPR_UNPACK_WORDS_MAX words, the words stay
	 * encoded */
	uint32_t word_at[BS_JSEXPR_UNPACK_WORDS_MAX + 1];
	size_t nstarts = 0;
	bool all_words = true;
	word_at[nstarts++] = 0;
	for (size_t j = words0; j < words1; j++)
		if (p[j] == '|') {
			if (nstarts == BS_JSEXPR_UNPACK_WORDS_MAX + 1) {
				all_words = false;
				break;
			}
			word_at[nstarts++] = (uint32_t)(j + 1 - words0);
		}
	size_t nwords = all_words ? nstarts : nstarts - 1;
	/* the payload with every word the dictionary has replaced */
	struct units u = { 0 };
	for (size_t j = pay0; j < pay1 && !out->cut;) {
		char c = p[j];
		if (c == '\\') {
			if (j + 1 >= pay1 || !(j = escape(p, pay1, j, out, &u)))
				return 0;
			continue;
		}
		units_end(out, &u);
		if (!is_word_char(c)) {
			put_byte(out, c);
			j++;
			continue;
		}
		size_t w = j;
		while (j < pay1 && is_word_char(p[j]))
			j++;
		long ix = packed_index(p + w, j - w, base);
		if (ix >= 0 && (unsigned long)ix < count && (size_t)ix < nwords) {
			size_t from = word_at[ix];
			size_t to = (size_t)ix + 1 < nstarts ? word_at[ix + 1] - 1 : words1 - words0;
			if (to > from) {
				put(out, p + words0 + from, to - from);
				continue;
			}
		}
		put(out, p + w, j - w); /* an empty entry: the word is itself */
	}
	units_end(out, &u);
	return used;
}

/* ------------------------------------------------------------------ HTML attributes */

static size_t put_attr(char *out, size_t k, size_t cap, const char *b, size_t n)
{
	for (size_t j = 0; j < n && k < cap; j++)
		out[k++] = b[j];
	return k;
}

/* A numeric reference after "&#" at v[i]: its code point, *end after it
 * (its ';' is optional, as browsers read it), or false. */
static bool numeric_ref(const char *v, size_t n, size_t i, uint32_t *cp, size_t *end)
{
	bool hex = i < n && (v[i] | 0x20) == 'x';
	if (hex)
		i++;
	size_t start = i, significant = 0;
	uint32_t value = 0;
	for (; i < n; i++) {
		int d = hex ? bs_hexval(v[i]) : (v[i] >= '0' && v[i] <= '9' ? v[i] - '0' : -1);
		if (d < 0)
			break;
		if (value || d)
			significant++;
		if (significant <= 7)
			value = value * (hex ? 16u : 10u) + (uint32_t)d;
	}
	if (i == start)
		return false;
	*cp = significant > 7 || value == 0 ? 0xfffd : value;
	*end = i < n && v[i] == ';' ? i + 1 : i;
	return true;
}

size_t bs_html_attr_decode(const char *v, size_t n, char *out, size_t cap)
{
	static const struct {
		const char *name;
		char c;
	} named[] = { { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' }, { "apos;", '\'' },
		      { "colon;", ':' }, { "sol;", '/' }, { "period;", '.' }, { "quest;", '?' }, { "equals;", '=' },
		      { "num;", '#' }, { "lpar;", '(' }, { "rpar;", ')' }, { "Tab;", '\t' }, { "NewLine;", '\n' } };
	size_t k = 0;
	for (size_t i = 0; i < n && k < cap;) {
		if (v[i] != '&') {
			out[k++] = v[i++];
			continue;
		}
		uint32_t cp;
		size_t end;
		if (i + 1 < n && v[i + 1] == '#' && numeric_ref(v, n, i + 2, &cp, &end)) {
			char b[4];
			k = put_attr(out, k, cap, b, bs_utf8_encode(cp, b));
			i = end;
			continue;
		}
		size_t j = 0, len = 0;
		for (; j < sizeof named / sizeof *named; j++) {
			len = strlen(named[j].name);
			if (i + 1 + len <= n && memcmp(v + i + 1, named[j].name, len) == 0)
				break;
		}
		if (j < sizeof named / sizeof *named) {
			out[k++] = named[j].c;
			i += 1 + len;
		} else {
			out[k++] = v[i++];
		}
	}
	return k;
}
