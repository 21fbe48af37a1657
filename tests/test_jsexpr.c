/* test_jsexpr.c - the script string evaluator and the attribute decoder
 * (parsers/stream/jsexpr.h): the obfuscations found in injected page code
 * (percent escapes, JS string escapes, concatenation, String.fromCharCode,
 * atob, nesting), what it must refuse (variables, other calls, methods on
 * the value, broken escapes, unterminated literals), the window rule (an
 * expression reaching the end of a text that is not final is not taken),
 * every cut of every case read from its own heap block (an overread trips
 * the sanitizer), the output cap and the nesting bound; packed code (Dean
 * Edwards' packer) unpacked, its bounds. */
#include "config.h"
#include "parsers/stream/jsexpr.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct bs_jsexpr_out out;

typedef size_t reader_fn(const char *p, size_t n, bool final, struct bs_jsexpr_out *out);

/* What reader makes of text, printable: bytes outside ASCII as \xHH; NULL
 * when it takes nothing. used: the bytes taken. */
static const char *value_by(reader_fn *reader, const char *text, bool final, size_t *used)
{
	static char shown[4 * BS_JSEXPR_OUT_MAX + 16];
	size_t n = strlen(text);
	char *copy = malloc(n ? n : 1);
	memcpy(copy, text, n);
	size_t u = reader(copy, n, final, &out);
	free(copy);
	if (used)
		*used = u;
	if (!u)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < out.n; i++) {
		unsigned char c = (unsigned char)out.b[i];
		if (c < 0x20 || c >= 0x7f)
			k += (size_t)snprintf(shown + k, sizeof shown - k, "\\x%02x", c);
		else
			shown[k++] = (char)c;
	}
	shown[k] = 0;
	return shown;
}

/* The value of text as an expression (bs_jsexpr_eval). */
static const char *eval(const char *text, bool final, size_t *used)
{
	return value_by(bs_jsexpr_eval, text, final, used);
}

static const char ATOB_WINDOW_OPEN[] =
	"d2luZG93Lm9wZW4oImh0dHA6Ly91cGRhdGUuZmxhc2gtcGxheWVyLmV4YW1wbGUuY24vaW5zdGFsbC5leGUiKQ==";

static const struct {
	const char *text, *want; /* want NULL: not evaluated */
	size_t used;             /* 0: the whole text */
} cases[] = {
	{ "\"http://a.example/x\"", "http://a.example/x", 0 },
	{ "'http://a.example/x', '_blank', 'width=400')", "http://a.example/x", 20 },
	{ "`plain template`;", "plain template", 16 },
	{ "`with ${sub}`", NULL, 0 },
	{ "'http:\\/\\/h.example\\/p.js';", "http://h.example/p.js", 26 },
	{ "\"\\x68\\x74\\x74\\x70://x.example\"", "http://x.example", 0 },
	{ "\"\\u0068ttp://\\u{78}.example\"", "http://x.example", 0 },
	{ "\"a\\nb\\tc\\'d\\\"e\\\\f\\0g\"", "a\\x0ab\\x09c'd\"e\\f\\x00g", 0 },
	{ "\"line\\\ncontinued\"", "linecontinued", 0 },
	{ "\"caf\\\xc3\xa9 \\\xc3\xa9\"", "caf\\xc3\\xa9 \\xc3\\xa9", 0 }, /* an escaped UTF-8 lead byte stays a byte */
	{ "\"\\xZZ\"", NULL, 0 },
	{ "\"\\u12\"", NULL, 0 },
	{ "\"\\u{}\"", NULL, 0 },
	{ "\"broken\nliteral\"", NULL, 0 },
	{ "\"unterminated", NULL, 0 },
	{ "'<scr'+'ipt src=\"http://e.example/p.js\"></scr' + 'ipt>')", "<script src=\"http://e.example/p.js\"></script>",
	  55 },
	{ "( 'a' + ('b' + \"c\") ) + 'd';", "abcd", 27 },
	{ "unescape(\"%3Cscript%20src%3D%22http%3A//u.example/p.js%22%3E\"))",
	  "<script src=\"http://u.example/p.js\">", 62 },
	{ "unescape('%u0068%u0074tp%3a%2F%2Fx')", "http://x", 0 },
	{ "unescape('%E9%zz%')", "\\xc3\\xa9%zz%", 0 },
	{ "unescape('%uD83D%uDE00|%uD83D|%uDE00')", "\\xf0\\x9f\\x98\\x80|\\xef\\xbf\\xbd|\\xef\\xbf\\xbd", 0 },
	{ "window.unescape('%41')", "A", 0 },
	{ "decodeURIComponent('%C3%A9%2F') + decodeURI('%3A')", "\\xc3\\xa9/:", 0 },
	{ "String.fromCharCode(104,116,116,112,58,47,47,120)", "http://x", 0 },
	{ "String.fromCharCode( 0x68 , 0X74,116 ,112)", "http", 0 },
	{ "String.fromCharCode()", "", 0 },
	{ "String.fromCharCode(65601)", "A", 0 },  /* modulo 65536 */
	{ "String.fromCharCode(0xD83D,0xDE00)", "\\xf0\\x9f\\x98\\x80", 0 },
	{ "String.fromCharCode(104,)", NULL, 0 },
	{ "String.fromCharCode(104-1)", NULL, 0 },
	{ "String.fromCharCode(x)", NULL, 0 },
	{ "atob(\"aHR0cDovL3guZXhhbXBsZQ==\")", "http://x.example", 0 },
	{ "atob('aHR0cDov\\nL3g=')", "http://x", 0 },
	{ "atob('aHR0cDov\nL3g=')", NULL, 0 }, /* a line break in a quoted literal */
	{ "atob('aHR0c*Dov')", NULL, 0 },
	{ "atob('aA==QQ')", NULL, 0 },
	{ "unescape(atob('JTNDaWZyYW1l')) + ' src=x>'", "<iframe src=x>", 0 },
	{ "decodeURI(unescape(String.fromCharCode(37,50,53,52,49)))", "A", 0 },
	{ "url", NULL, 0 },
	{ "'http://x/?r=' + Math.random()", NULL, 0 },
	{ "'http://x/' + id;", NULL, 0 },
	{ "'abc'.split('').reverse().join('')", NULL, 0 },
	{ "'abc'[0]", NULL, 0 },
	{ "'a' ++ b", NULL, 0 },
	{ "'a' += 'b'", NULL, 0 },
	{ "escape('x')", NULL, 0 },
	{ "medieval('x')", NULL, 0 },
	{ "4 + 'x'", NULL, 0 },
	{ "", NULL, 0 },
	{ "   ", NULL, 0 },
	{ "(", NULL, 0 },
	{ "('a'", NULL, 0 },
	{ "unescape('a'", NULL, 0 },
	{ "unescape 'a'", NULL, 0 },
};

/* A case's text for its test name: line breaks as \n (TAP names are one line). */
static const char *name_of(const char *text)
{
	static char b[512];
	size_t k = 0;
	for (; *text && k + 3 < sizeof b; text++)
		if (*text == '\n') {
			b[k++] = '\\';
			b[k++] = 'n';
		} else {
			b[k++] = *text;
		}
	b[k] = 0;
	return b;
}

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		size_t used;
		const char *got = eval(cases[i].text, true, &used);
		if (!cases[i].want) {
			ok(got == NULL, "not evaluated: %s", name_of(cases[i].text));
			continue;
		}
		is_str(got ? got : "(not evaluated)", cases[i].want, "value of %s", name_of(cases[i].text));
		is_int(used, cases[i].used ? cases[i].used : strlen(cases[i].text), "bytes taken by %s",
		       name_of(cases[i].text));
	}
	const char *got = eval(ATOB_WINDOW_OPEN, true, NULL);
	ok(got == NULL, "a bare base64 string is a string only when quoted");
	char text[256];
	snprintf(text, sizeof text, "atob(\"%s\")", ATOB_WINDOW_OPEN);
	is_str(eval(text, true, NULL), "window.open(\"http://update.flash-player.example.cn/install.exe\")",
	       "atob of an injected window.open");
}

/* Not final: an expression that reaches the text's end may go on in the
 * next window; one that ends before it is taken. */
static void test_window_end(void)
{
	size_t used;
	ok(eval("'http://x'", false, &used) == NULL, "not final: a literal at the end may be followed by '+'");
	ok(eval("'http://x'  ", false, &used) == NULL, "not final: blanks at the end too");
	is_str(eval("'http://x')", false, &used), "http://x", "not final: a literal followed by ')' is whole");
	is_str(eval("'http://x'", true, &used), "http://x", "final: the end ends it");
}

/* Every case cut at every length, final or not, each cut in its own heap
 * block: no read past it (the sanitizer build checks), and a cut that is
 * evaluated at all gives a value no longer than the whole one's (the
 * evaluator never invents bytes). */
static void test_cuts(void)
{
	size_t trials = 0, sane = 0, prefixes = 0, waiting = 0;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const char *text = cases[i].text;
		size_t n = strlen(text);
		struct bs_jsexpr_out whole;
		bs_jsexpr_eval(text, n, true, &whole);
		for (size_t cut = 0; cut <= n; cut++)
			for (int final = 0; final < 2; final++) {
				char *copy = malloc(cut ? cut : 1);
				memcpy(copy, text, cut);
				size_t u = bs_jsexpr_eval(copy, cut, final, &out);
				free(copy);
				trials++;
				sane += u <= cut && out.n <= BS_JSEXPR_OUT_MAX && (!u || !final || cut < n || out.n == whole.n);
				if (cases[i].want && !final && !u) {
					prefixes++;
					waiting += out.incomplete;
				}
			}
	}
	is_int(sane, trials, "every cut of every case: within bounds (%zu cuts)", trials);
	is_int(waiting, prefixes, "a cut of an expression not taken says it wants more text (%zu cuts)", prefixes);
	ok(eval("'a' + 'b')", false, NULL) && !out.incomplete, "an expression taken is not incomplete");
	ok(!eval("'abc'[0]", false, NULL) && !out.incomplete, "an index applied: refused, not incomplete");
	ok(!eval("medieval('x')", false, NULL) && !out.incomplete, "another call: refused, not incomplete");
	ok(!eval("'a' +", false, NULL) && out.incomplete, "'+' at the end: incomplete");
	ok(!eval("'a' +", true, NULL) && !out.incomplete, "final: never incomplete");
}

/* The value is cut at the buffer, said so; nesting past the bound is refused. */
static void test_bounds(void)
{
	static char text[8 * BS_JSEXPR_OUT_MAX];
	size_t k = 0;
	text[k++] = '\'';
	for (size_t i = 0; i < 3 * BS_JSEXPR_OUT_MAX; i++)
		text[k++] = 'a';
	text[k++] = '\'';
	text[k] = 0;
	ok(eval(text, true, NULL) != NULL && out.cut && out.n == BS_JSEXPR_OUT_MAX,
	   "a 3 KB literal: the first %d bytes, cut said", BS_JSEXPR_OUT_MAX);
	snprintf(text, sizeof text, "unescape(unescape(unescape('%%2541')))");
	is_str(eval(text, true, NULL), "A", "three decoders deep");
	k = 0;
	for (int i = 0; i < BS_JSEXPR_DEPTH_MAX + 2; i++)
		k += (size_t)snprintf(text + k, sizeof text - k, "(");
	k += (size_t)snprintf(text + k, sizeof text - k, "'x'");
	for (int i = 0; i < BS_JSEXPR_DEPTH_MAX + 2; i++)
		k += (size_t)snprintf(text + k, sizeof text - k, ")");
	ok(eval(text, true, NULL) == NULL, "nesting past %d is refused", BS_JSEXPR_DEPTH_MAX);
	k = 0;
	for (int i = 0; i < 100000 && k + 16 < sizeof text; i++)
		k += (size_t)snprintf(text + k, sizeof text - k, "unescape(");
	ok(eval(text, true, NULL) == NULL, "thousands of open calls: refused, no deep recursion");
}

/* The packer's own function, as it writes it before its call's arguments. */
#define PACKER "function(p,a,c,k,e,d){e=function(c){return(c<a?'':e(parseInt(c/a)))+((c=c%a)>35?" \
	"String.fromCharCode(c+29):c.toString(36))};if(!''.replace(/^/,String)){while(c--){d[e(c)]=k[c]||e(c)}" \
	"k=[function(e){return d[e]}];e=function(){return'\\\\w+'};c=1};while(c--){if(k[c]){p=p.replace(" \
	"new RegExp('\\\\b'+e(c)+'\\\\b','g'),k[c])}}return p}"

/* The unpacked text of text, or NULL (bs_jsexpr_unpack). */
static const char *unpack(const char *text, bool final, size_t *used)
{
	return value_by(bs_jsexpr_unpack, text, final, used);
}

static const struct {
	const char *text, *want; /* want NULL: not unpacked */
} packed[] = {
	/* bs-gen's role-spam snippet: base 62, words in order of first use */
	{ PACKER "('0.1(\"2://3.4-5.6.7/8.9\",\"a\",\"b=c,d=e\")',62,15,'window|open|http|update|flash|player|"
	  "example|cn|install|exe|_blank|width|400|height|300'.split('|'),0,{})",
	  "window.open(\"http://update.flash-player.example.cn/install.exe\",\"_blank\",\"width=400,height=300\")" },
	/* base 36 (the packer's "Normal" below 37 words); an empty entry
	 * keeps the word (it is its own index); a word past c stays; a
	 * leading zero is no index; escapes in the payload */
	{ "function(p,a,c,k,e,d){return p}('0.1(\\'2://3.4/5\\');7 z 01 \\x41',36,8,"
	  "'document|write|http|evil|example|x||seven'.split('|'),0,{})",
	  "document.write('http://evil.example/x');seven z 01 A" },
	/* upper-case digits are 36 and up in base 62 */
	{ "function(p,a,c,k,e,d){return p}('A B z',62,40,'|||||||||||||||||||||||||||||||||||"
	  "first|second|third'.split('|'),0,{})", "second third first" },
	/* "…" with double quotes, blanks between the arguments */
	{ "function(p,a,c,k,e,d){return p}( \"0(1)\" , 10 , 2 , \"alert|42\" . split ( \"|\" ) , 0 , { } )",
	  "alert(42)" },
	/* not the packer's call */
	{ "function(){return 1}()", NULL },
	{ "function(p,a,c,k,e,d){return p}(x,62,1,'a'.split('|'),0,{})", NULL },
	{ "function(p,a,c,k,e,d){return p}('0',1,1,'a'.split('|'),0,{})", NULL },   /* base 1 */
	{ "function(p,a,c,k,e,d){return p}('0',95,1,'a'.split('|'),0,{})", NULL },  /* base 95: high characters */
	{ "function(p,a,c,k,e,d){return p}('0',62,1,'a'.split(','),0,{})", NULL },
	{ "function(p,a,c,k,e,d){return p}('0',62,1,'a'.join('|'),0,{})", NULL },
	{ "function(p,a,c,k,e,d){return p}('0,62,1,'a'.split('|'),0,{})", NULL },
	{ "medieval(function(){})", NULL },
};

static void test_unpack(void)
{
	for (size_t i = 0; i < sizeof packed / sizeof *packed; i++) {
		const char *got = unpack(packed[i].text, true, NULL);
		if (!packed[i].want)
			ok(got == NULL, "not unpacked: %.60s", packed[i].text + (strncmp(packed[i].text, PACKER, strlen(PACKER)) ? 0 : strlen(PACKER)));
		else
			is_str(got ? got : "(not unpacked)", packed[i].want, "unpacked: %s", packed[i].want);
	}
	size_t used;
	ok(unpack(packed[0].text, true, &used) && out.obfuscated, "packed code is obfuscated");
	is_int(used, strlen(packed[0].text) - strlen(",0,{})"), "bytes taken: up to the dictionary's split");
	char *text = malloc(strlen(packed[0].text) + 8);
	sprintf(text, "%s))", packed[0].text);
	ok(unpack(text, false, NULL) != NULL, "not final, the call goes on after the dictionary: unpacked");
	text[strlen(packed[0].text) - strlen("'.split('|'),0,{})")] = 0;
	ok(unpack(text, false, NULL) == NULL, "not final, the text ends in the dictionary: not unpacked");
	free(text);
	/* every cut of every case in its own block, final or not */
	size_t trials = 0, sane = 0, prefixes = 0, waiting = 0;
	for (size_t i = 0; i < sizeof packed / sizeof *packed; i++) {
		size_t n = strlen(packed[i].text);
		for (size_t cut = 0; cut <= n; cut++)
			for (int final = 0; final < 2; final++) {
				char *copy = malloc(cut ? cut : 1);
				memcpy(copy, packed[i].text, cut);
				size_t u = bs_jsexpr_unpack(copy, cut, final, &out);
				free(copy);
				trials++;
				sane += u <= cut && out.n <= BS_JSEXPR_OUT_MAX;
				if (packed[i].want && !final && !u) {
					prefixes++;
					waiting += out.incomplete;
				}
			}
	}
	is_int(sane, trials, "every cut of every packed case: within bounds (%zu cuts)", trials);
	is_int(waiting, prefixes, "a cut of packed code not unpacked says it wants more text (%zu cuts)", prefixes);
	ok(!unpack("func = 1", false, NULL) && !out.incomplete, "not a function: not incomplete");
	ok(!unpack("function(){return 1}()", false, NULL) && out.incomplete,
	   "a function not yet called with a string: the next text may (incomplete)");
	/* a dictionary past the bound: its later words stay encoded; a
	 * payload past the output: cut, said */
	size_t cap = 8 * (BS_JSEXPR_UNPACK_WORDS_MAX + 8) + 4 * BS_JSEXPR_OUT_MAX + 256, k = 0;
	char *big = malloc(cap);
	k += (size_t)snprintf(big + k, cap - k, "function(p,a,c,k,e,d){return p}('0 1 gC ");
	for (size_t i = 0; i < 2 * BS_JSEXPR_OUT_MAX; i++)
		big[k++] = 'x';
	k += (size_t)snprintf(big + k, cap - k, "',62,%d,'", BS_JSEXPR_UNPACK_WORDS_MAX + 8);
	for (int i = 0; i < BS_JSEXPR_UNPACK_WORDS_MAX + 8; i++)
		k += (size_t)snprintf(big + k, cap - k, "%sw%d", i ? "|" : "", i);
	k += (size_t)snprintf(big + k, cap - k, "'.split('|'),0,{})");
	const char *got = unpack(big, true, NULL);
	ok(got && strncmp(got, "w0 w1 gC xxx", 12) == 0 && out.cut && out.n == BS_JSEXPR_OUT_MAX,
	   "a dictionary of %d words: word %d (gC) stays encoded; a long payload is cut, said",
	   BS_JSEXPR_UNPACK_WORDS_MAX + 8, 62 * 16 + 38);
	free(big);
}

/* A lookup that knows one name, q, and counts its calls. */
static int lookups;
static bool lookup_q(void *ctx, const char *name, size_t len, struct bs_jsexpr_out *o)
{
	(void)ctx;
	lookups++;
	if (len != 1 || name[0] != 'q')
		return false;
	memcpy(o->b + o->n, "http://q.example", 16);
	o->n += 16;
	return true;
}

/* Variables set before stand for their names. */
static void test_vars(void)
{
	static struct bs_jsexpr_vars vars;
	static struct bs_jsexpr_out val;
	const struct bs_jsexpr_scope scope = { &vars, NULL, NULL };
	const char *set[][2] = { { "a", "'http://ev'" }, { "b", "\"il.example.cn/x\"" }, { "h", "'\\x68ttp://'" } };
	for (size_t i = 0; i < sizeof set / sizeof *set; i++) {
		bs_jsexpr_eval(set[i][1], strlen(set[i][1]), true, &val);
		bs_jsexpr_vars_set(&vars, set[i][0], strlen(set[i][0]), &val);
	}
	const char *t = "a + b)";
	ok(bs_jsexpr_eval_in(t, strlen(t), false, &scope, &out) == 5 && out.n == 24 &&
	   memcmp(out.b, "http://evil.example.cn/x", 24) == 0 && !out.obfuscated, "a + b: the variables' values");
	ok(bs_jsexpr_eval(t, strlen(t), false, &out) == 0, "without the variables: not evaluated");
	t = "h + 'x.example'";
	ok(bs_jsexpr_eval_in(t, strlen(t), true, &scope, &out) && out.obfuscated, "a \\x-escaped variable makes it obfuscated");
	t = "a.b + 'x'";
	ok(!bs_jsexpr_eval_in(t, strlen(t), true, &scope, &out), "a dotted name is no variable");
	t = "a('x')";
	ok(!bs_jsexpr_eval_in(t, strlen(t), true, &scope, &out), "a called name is no variable");
	t = "zz + 'x'";
	ok(!bs_jsexpr_eval_in(t, strlen(t), true, &scope, &out), "an unset name");
	const struct bs_jsexpr_scope looked = { &vars, lookup_q, NULL };
	t = "b + q + '/x')";
	ok(bs_jsexpr_eval_in(t, strlen(t), false, &looked, &out) && out.n == 33 &&
	   memcmp(out.b, "il.example.cn/xhttp://q.example/x", 33) == 0 && lookups == 1,
	   "a name vars do not hold is looked up (b from vars, q from the lookup, once)");
	t = "zz + 'x'";
	ok(!bs_jsexpr_eval_in(t, strlen(t), true, &looked, &out), "a name neither knows");
	t = "q('x')";
	lookups = 0;
	ok(!bs_jsexpr_eval_in(t, strlen(t), true, &looked, &out) && lookups == 0, "a called name is not looked up");
	bs_jsexpr_vars_forget(&vars, "a", 1);
	t = "a + b)";
	ok(!bs_jsexpr_eval_in(t, strlen(t), true, &scope, &out), "a forgotten name stands for nothing");
	bs_jsexpr_eval("'v'", 3, true, &val);
	for (int i = 0; i < BS_JSEXPR_VARS_MAX + 4; i++) {
		char name[8];
		snprintf(name, sizeof name, "v%d", i);
		bs_jsexpr_vars_set(&vars, name, strlen(name), &val);
	}
	t = "v0";
	bool first_gone = !bs_jsexpr_eval_in(t, 2, true, &scope, &out);
	char last[8];
	snprintf(last, sizeof last, "v%d", BS_JSEXPR_VARS_MAX + 3);
	ok(first_gone && bs_jsexpr_eval_in(last, strlen(last), true, &scope, &out) && vars.n == BS_JSEXPR_VARS_MAX,
	   "past %d names the oldest give way", BS_JSEXPR_VARS_MAX);
	val.n = BS_JSEXPR_VAR_VALUE_MAX + 1;
	memset(val.b, 'x', val.n);
	bs_jsexpr_vars_set(&vars, last, strlen(last), &val);
	ok(!bs_jsexpr_eval_in(last, strlen(last), true, &scope, &out), "a value too long to keep: the name forgotten");
}

static const char *attr(const char *v, size_t cap)
{
	static char buf[512];
	size_t n = bs_html_attr_decode(v, strlen(v), buf, cap);
	buf[n] = 0;
	return buf;
}

static void test_attr(void)
{
	is_str(attr("&#104;&#116;&#116;&#112;&#58;&#47;&#47;x.example/i.html", 500), "http://x.example/i.html",
	       "decimal references");
	is_str(attr("&#x68;&#X74;tp&colon;&sol;&sol;x&period;example", 500), "http://x.example", "hex and named");
	is_str(attr("&#0000104&#116tp://x", 500), "http://x", "leading zeros, no semicolons");
	is_str(attr("a&amp;b&lt;&gt;&quot;&apos;&unknown;&", 500), "a&b<>\"'&unknown;&", "named; unknown kept");
	is_str(attr("&#0;&#99999999999;&#xD800;", 500), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "invalid code points");
	is_str(attr("&#", 500), "&#", "a cut reference stays");
	is_str(attr("&#104;&#116;&#116;&#112;", 3), "htt", "cut at the buffer");
	is_str(attr("h&Tab;t&NewLine;tp", 500), "h\tt\ntp", "tab and newline references");
}

int main(void)
{
	test_cases();
	test_window_end();
	test_cuts();
	test_bounds();
	test_unpack();
	test_vars();
	test_attr();
	return tap_done();
}
