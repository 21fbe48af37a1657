/* jsonkv.h - the string members of a JSON text, pushed in pieces.
 *
 * A push scanner in the shape of curl's http_chunks: a state enum, a small
 * fixed-size struct, init and feed; the text may come in any pieces (a TCP
 * segment ends anywhere, inside an escape too). For every member whose
 * value is a string ("name": "value"), at any depth of objects and arrays,
 * the callback gets the name and the value unescaped (\" \\ \/ \b \f \n \r
 * \t, \uXXXX to UTF-8 with surrogate pairs joined, a lone surrogate or a
 * broken escape as U+FFFD), each kept to its first BS_JSONKV_NAME_MAX /
 * BS_JSONKV_VALUE_MAX bytes (name_long / value_long say so).
 *
 * A member whose value is a number or a literal (true, false, null) is
 * given too, its text as written, with `literal` set (a login's answer:
 * {"success": false}). It is not a validator: a member whose value is an
 * object or array is passed over (the members inside an object value are seen),
 * strings that are array elements are no members, and a text that is not
 * JSON costs one pass and gives what looks like members. The HTTP parser
 * uses it for logins posted as JSON (SOGo, Tine 2.0: http.c).
 */
#ifndef BS_JSONKV_H
#define BS_JSONKV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BS_JSONKV_NAME_MAX 64
#define BS_JSONKV_VALUE_MAX 256

enum bs_jsonkv_state {
	BS_JSONKV_OUT = 0,      /* between tokens, no member name pending */
	BS_JSONKV_STRING,       /* inside a string */
	BS_JSONKV_ESCAPE,       /* after a backslash in a string */
	BS_JSONKV_UHEX,         /* in the four hex digits of \u */
	BS_JSONKV_AFTER_NAME,   /* a string ended: a ':' makes it a member's name */
	BS_JSONKV_AFTER_COLON,  /* name ':' read: a string here is the member's value */
	BS_JSONKV_LITERAL,      /* inside a member's number or literal */
};

struct bs_jsonkv {
	uint8_t state;          /* enum bs_jsonkv_state */
	bool in_value;          /* the string being read is a member's value */
	bool name_long, value_long;
	uint8_t hex_digits;     /* of the \u escape being read */
	uint16_t hex;           /* its value so far */
	uint16_t high;          /* a high surrogate waiting for its low half, or 0 */
	uint16_t name_len, value_len;
	char name[BS_JSONKV_NAME_MAX];
	char value[BS_JSONKV_VALUE_MAX];
};

/* A member whose value is a string (or, literal set, a number or literal):
 * name and value, not NUL-terminated. */
typedef void (*bs_jsonkv_member_fn)(void *ctx, const char *name, size_t name_len, bool name_long,
                                    const char *value, size_t value_len, bool value_long, bool literal);

void bs_jsonkv_init(struct bs_jsonkv *j);
/* The next n bytes of the text; fn is called for each member completed in them. */
void bs_jsonkv_feed(struct bs_jsonkv *j, const char *b, size_t n, bs_jsonkv_member_fn fn, void *ctx);
/* The end of the text: a number or literal it ended with is given. */
void bs_jsonkv_end(struct bs_jsonkv *j, bs_jsonkv_member_fn fn, void *ctx);

#endif
