/* jsonkv.c - the string members of a JSON text, pushed in pieces (jsonkv.h). */
#include "config.h"
#include "parsers/stream/jsonkv.h"
#include "src/core/common.h"

#include <string.h>

void bs_jsonkv_init(struct bs_jsonkv *j)
{
	/* the buffers are used only up to their lengths */
	memset(j, 0, offsetof(struct bs_jsonkv, name));
}

/* One byte of the string being read, into the name or the value. */
static void put(struct bs_jsonkv *j, char c)
{
	if (j->in_value) {
		if (j->value_len < sizeof j->value)
			j->value[j->value_len++] = c;
		else
			j->value_long = true;
	} else {
		if (j->name_len < sizeof j->name)
			j->name[j->name_len++] = c;
		else
			j->name_long = true;
	}
}

static void put_code_point(struct bs_jsonkv *j, uint32_t cp)
{
	char b[4];
	size_t n = bs_utf8_encode(cp, b);
	for (size_t i = 0; i < n; i++)
		put(j, b[i]);
}

#define REPLACEMENT 0xfffdu

/* A high surrogate not followed by its low half stands for U+FFFD. */
static void drop_high(struct bs_jsonkv *j)
{
	if (j->high) {
		put_code_point(j, REPLACEMENT);
		j->high = 0;
	}
}

/* The code unit of a complete \uXXXX. */
static void code_unit(struct bs_jsonkv *j, uint16_t u)
{
	if (j->high && u >= 0xdc00 && u <= 0xdfff) {
		put_code_point(j, 0x10000u + ((uint32_t)(j->high - 0xd800u) << 10) + (u - 0xdc00u));
		j->high = 0;
		return;
	}
	drop_high(j);
	if (u >= 0xd800 && u <= 0xdbff)
		j->high = u;
	else if (u >= 0xdc00 && u <= 0xdfff)
		put_code_point(j, REPLACEMENT);
	else
		put_code_point(j, u);
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* The bytes of a number or of true, false, null. */
static bool is_literal_byte(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '+' || c == '.';
}

static void string_start(struct bs_jsonkv *j, bool value)
{
	j->state = BS_JSONKV_STRING;
	j->in_value = value;
	j->high = 0;
	if (value) {
		j->value_len = 0;
		j->value_long = false;
	} else {
		j->name_len = 0;
		j->name_long = false;
	}
}

static void string_end(struct bs_jsonkv *j, bs_jsonkv_member_fn fn, void *ctx)
{
	drop_high(j);
	if (j->in_value) {
		fn(ctx, j->name, j->name_len, j->name_long, j->value, j->value_len, j->value_long, false);
		j->state = BS_JSONKV_OUT;
	} else {
		j->state = BS_JSONKV_AFTER_NAME;
	}
}

void bs_jsonkv_feed(struct bs_jsonkv *j, const char *b, size_t n, bs_jsonkv_member_fn fn, void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		char c = b[i];
		switch ((enum bs_jsonkv_state)j->state) {
		case BS_JSONKV_OUT:
			if (c == '"')
				string_start(j, false);
			break;
		case BS_JSONKV_AFTER_NAME:
			if (c == ':')
				j->state = BS_JSONKV_AFTER_COLON;
			else if (c == '"')
				string_start(j, false); /* two strings in a row: not JSON, the second may be a name */
			else if (!is_ws(c))
				j->state = BS_JSONKV_OUT; /* an array element or a value, not a name */
			break;
		case BS_JSONKV_AFTER_COLON:
			if (c == '"') {
				string_start(j, true);
			} else if (is_literal_byte(c)) { /* a number or literal: its text */
				j->state = BS_JSONKV_LITERAL;
				j->value_len = 0;
				j->value_long = false;
				j->in_value = true;
				put(j, c);
			} else if (!is_ws(c)) {
				j->state = BS_JSONKV_OUT; /* an object or array */
			}
			break;
		case BS_JSONKV_LITERAL:
			if (is_literal_byte(c)) {
				put(j, c);
				break;
			}
			fn(ctx, j->name, j->name_len, j->name_long, j->value, j->value_len, j->value_long, true);
			j->state = BS_JSONKV_OUT;
			if (c == '"')
				string_start(j, false); /* not JSON, but a name may follow */
			break;
		case BS_JSONKV_STRING: {
			/* the run up to the next quote or backslash at once */
			size_t k = i;
			while (k < n && b[k] != '"' && b[k] != '\\')
				k++;
			if (k > i)
				drop_high(j);
			for (size_t m = i; m < k; m++)
				put(j, b[m]);
			if (k == n) {
				i = n - 1;
				break;
			}
			i = k;
			if (b[k] == '"')
				string_end(j, fn, ctx);
			else
				j->state = BS_JSONKV_ESCAPE;
			break;
		}
		case BS_JSONKV_ESCAPE: {
			j->state = BS_JSONKV_STRING;
			if (c == 'u') {
				j->state = BS_JSONKV_UHEX;
				j->hex = 0;
				j->hex_digits = 0;
				break;
			}
			static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
			const char *e = c ? strchr(from, c) : NULL;
			drop_high(j);
			put(j, e ? to[e - from] : c); /* \" \\ \/, and leniently any other */
			break;
		}
		case BS_JSONKV_UHEX: {
			int v = bs_hexval(c);
			if (v < 0) { /* a broken escape: U+FFFD, and the byte read again in the string */
				drop_high(j);
				put_code_point(j, REPLACEMENT);
				j->state = BS_JSONKV_STRING;
				i--;
				break;
			}
			j->hex = (uint16_t)(j->hex << 4 | (unsigned)v);
			if (++j->hex_digits == 4) {
				code_unit(j, j->hex);
				j->state = BS_JSONKV_STRING;
			}
			break;
		}
		}
	}
}

void bs_jsonkv_end(struct bs_jsonkv *j, bs_jsonkv_member_fn fn, void *ctx)
{
	if (j->state == BS_JSONKV_LITERAL)
		fn(ctx, j->name, j->name_len, j->name_long, j->value, j->value_len, j->value_long, true);
	j->state = BS_JSONKV_OUT;
}
