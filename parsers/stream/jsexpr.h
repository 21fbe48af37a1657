/* jsexpr.h - the string a page's script builds from literals and decoders.
 *
 * Code injected into a tampered page hides its outside reference from a
 * plain search of the page:
 *   document.write(unescape("%3Cscript%20src%3D%22http%3A//..."))
 *   eval(String.fromCharCode(119,105,110,100,...))
 *   eval(atob("d2luZG93Lm9wZW4o..."))
 *   document.write('<scr'+'ipt src="http://..."></scr'+'ipt>')
 *   s.src = 'http:\/\/host\/x.js'
 * bs_jsexpr_eval computes the value of such an expression without running
 * anything: quoted literals ('...', "...", `...` without ${}) with their
 * escapes (\xHH, \uHHHH, \u{H..}, \/ and the rest), joined by '+',
 * parenthesized, and passed through unescape, decodeURI,
 * decodeURIComponent, atob and String.fromCharCode (decimal or hex
 * numbers). Anything else in the expression (a variable, another call,
 * arithmetic, a method applied to the value) makes it one this does not
 * evaluate: it is a reader of the usual obfuscations, not an interpreter.
 * Bounded: the value is cut at BS_JSEXPR_OUT_MAX bytes (out->cut says so),
 * nesting at BS_JSEXPR_DEPTH_MAX; it reads only p[0..n). A reading that
 * fails because p ended first (not final) says so (out->incomplete): the
 * caller may read it again with more text.
 *
 * Code points above 0x7f (from escapes or fromCharCode) are written as
 * UTF-8; a lone surrogate as U+FFFD.
 */
#ifndef BS_JSEXPR_H
#define BS_JSEXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BS_JSEXPR_OUT_MAX 8192 /* a percent-escaped argument is three bytes a character */
#define BS_JSEXPR_DEPTH_MAX 6

struct bs_jsexpr_out {
	size_t n;               /* bytes of the value in b */
	bool cut;               /* the value was longer than BS_JSEXPR_OUT_MAX */
	bool obfuscated;        /* a decoder or a \xHH escape made it: what data
	                         * (JSON's \/ and \uHHHH) does not need */
	bool incomplete;        /* not taken for want of text: p ended (not final)
	                         * before the expression did; a longer text may
	                         * hold it whole */
	char b[BS_JSEXPR_OUT_MAX];
};

/* Variables a script set to strings before (var a = "http://ev"; then
 * window.open(a + "il.cn/x")): an expression that names one has its value.
 * The latest BS_JSEXPR_VARS_MAX names, each value at most
 * BS_JSEXPR_VAR_VALUE_MAX bytes (a longer one is not kept). */
#define BS_JSEXPR_VARS_MAX 16
#define BS_JSEXPR_VAR_NAME_MAX 32
#define BS_JSEXPR_VAR_VALUE_MAX 512
struct bs_jsexpr_vars {
	size_t n, next;           /* names held; the slot a new name takes when full */
	struct {
		uint8_t name_len;
		bool obfuscated;
		uint16_t value_len;
		char name[BS_JSEXPR_VAR_NAME_MAX];
		char value[BS_JSEXPR_VAR_VALUE_MAX];
	} v[BS_JSEXPR_VARS_MAX];
};
/* name = value (a value that was cut, or too long, forgets the name). */
void bs_jsexpr_vars_set(struct bs_jsexpr_vars *vars, const char *name, size_t name_len,
                        const struct bs_jsexpr_out *value);
/* name set to something not kept (a call, a number): it stands for nothing. */
void bs_jsexpr_vars_forget(struct bs_jsexpr_vars *vars, const char *name, size_t name_len);

/* The expression that starts at p[0] (blanks before it are skipped). Its
 * value goes to out; the return is the bytes up to the expression's end
 * (after its last token), or 0 when p does not hold one this evaluates.
 * Unless final, p ends somewhere in a longer text: an expression reaching
 * the end of p may go on ("a" + ...), so it is not taken (0); with final,
 * p's end ends it. */
size_t bs_jsexpr_eval(const char *p, size_t n, bool final, struct bs_jsexpr_out *out);
/* What a name (not followed by '(') stands for: its value in vars, else
 * what lookup finds (the script's own assignment before the expression,
 * `const u = "http://..."`: lookup appends the value to out and returns
 * true). Either may be NULL. */
struct bs_jsexpr_scope {
	const struct bs_jsexpr_vars *vars;
	bool (*lookup)(void *ctx, const char *name, size_t len, struct bs_jsexpr_out *out);
	void *ctx;
};
/* bs_jsexpr_eval where names stand for their values in scope (NULL: none). */
size_t bs_jsexpr_eval_in(const char *p, size_t n, bool final, const struct bs_jsexpr_scope *scope,
                         struct bs_jsexpr_out *out);

/* Packed code: Dean Edwards' packer, the usual wrapper of injected code
 * since 2005 (its output is what follows "eval(" here):
 *   eval(function(p,a,c,k,e,d){...}('0 1("2://3.4/5.6")',62,7,
 *        'window|open|http|...'.split('|'),0,{}))
 * The payload's words are dictionary indexes in base a (2 to 62): each
 * one below c whose entry is not empty is replaced by its entry, as the
 * packer's own function does; the function's body is not read. The
 * unpacked code goes to out (obfuscated set; cut at BS_JSEXPR_OUT_MAX); the
 * return is the bytes up to the end of the dictionary's split('|'), or 0
 * when p does not start with such a function and call. Dictionaries past
 * BS_JSEXPR_UNPACK_WORDS_MAX words leave the later words encoded; the
 * function's body is looked through for its call for at most
 * BS_JSEXPR_UNPACK_BODY_MAX bytes. Base 95 (high characters) is not read. */
#define BS_JSEXPR_UNPACK_WORDS_MAX 1024
#define BS_JSEXPR_UNPACK_BODY_MAX 2048
size_t bs_jsexpr_unpack(const char *p, size_t n, bool final, struct bs_jsexpr_out *out);

/* HTML character references in an attribute's value (&#104; &#x68; &amp;
 * &colon; &sol; ...): the value as a browser reads it, into out (cut at
 * cap). Returns the bytes written. A reference this does not know stays
 * as written. */
size_t bs_html_attr_decode(const char *v, size_t n, char *out, size_t cap);

#endif
