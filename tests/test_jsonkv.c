/* test_jsonkv.c - the JSON member scanner (parsers/stream/jsonkv.h): the
 * string members of real login bodies (SOGo, Tine 2.0) and of ugly texts
 * (escapes, surrogates, broken escapes, arrays, nesting, values past the
 * cap, not JSON at all), whole, byte by byte and cut at every position:
 * the members must be the same. */
#include "config.h"
#include "parsers/stream/jsonkv.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char got[8192];
static size_t got_len;

static void member(void *ctx, const char *name, size_t name_len, bool name_long, const char *value, size_t value_len,
                   bool value_long, bool literal)
{
	(void)ctx;
	int k = snprintf(got + got_len, sizeof got - got_len, "%.*s%s%s", (int)name_len, name, name_long ? "[long]" : "",
	                 literal ? ":" : "=");
	if (k > 0 && (size_t)k < sizeof got - got_len)
		got_len += (size_t)k;
	for (size_t i = 0; i < value_len && got_len + 5 < sizeof got; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c < 0x20 || c >= 0x7f)
			got_len += (size_t)snprintf(got + got_len, sizeof got - got_len, "\\x%02x", c);
		else
			got[got_len++] = (char)c;
	}
	k = snprintf(got + got_len, sizeof got - got_len, "%s;", value_long ? "[long]" : "");
	if (k > 0 && (size_t)k < sizeof got - got_len)
		got_len += (size_t)k;
}

/* The members of text fed in pieces of at most `piece` bytes (0: whole),
 * or cut once at `cut` (piece 0, cut > 0); each piece its own heap block so
 * that a read past it trips the sanitizer. */
static const char *scan(const char *text, size_t n, size_t piece, size_t cut)
{
	struct bs_jsonkv j;
	bs_jsonkv_init(&j);
	got_len = 0;
	got[0] = 0;
	for (size_t i = 0; i < n || i == 0;) {
		size_t m = piece ? piece : cut && i < cut ? cut : n - i;
		if (m > n - i)
			m = n - i;
		char *copy = malloc(m ? m : 1);
		memcpy(copy, text + i, m);
		bs_jsonkv_feed(&j, copy, m, member, NULL);
		free(copy);
		i += m;
		if (!m)
			break;
	}
	bs_jsonkv_end(&j, member, NULL);
	got[got_len < sizeof got ? got_len : sizeof got - 1] = 0;
	return got;
}

static void check(const char *text, const char *want, const char *what)
{
	size_t n = strlen(text);
	char whole[sizeof got];
	snprintf(whole, sizeof whole, "%s", scan(text, n, 0, 0));
	is_str(whole, want, what);
	size_t bad = 0;
	if (strcmp(scan(text, n, 1, 0), whole) != 0)
		bad++;
	for (size_t cut = 1; cut < n; cut++)
		if (strcmp(scan(text, n, 0, cut), whole) != 0)
			bad++;
	is_int(bad, 0, "%s: the same members byte by byte and cut at every position", what);
}

int main(void)
{
	check("{\"userName\":\"alice@example.net\",\"password\":\"S3cr\\\"t\",\"domain\":null,\"rememberLogin\":0}",
	      "userName=alice@example.net;password=S3cr\"t;domain:null;rememberLogin:0;", "SOGo's login");
	check("{\"jsonrpc\":\"2.0\",\"method\":\"Tinebase.login\",\"params\":{\"username\":\"bob\",\"password\":\"x\","
	      "\"securitycode\":\"\"},\"id\":2}",
	      "jsonrpc=2.0;method=Tinebase.login;username=bob;password=x;securitycode=;id:2;", "Tine 2.0's login, nested");
	check("{ \"user\" : \"carol\\u0040example.net\" , \"pass\"\n:\t\"p\" }", "user=carol@example.net;pass=p;",
	      "spaces around the colon, \\u0040");
	check("{\"e\":\"\\ud83d\\ude00\",\"lone\":\"\\ud83dx\",\"low\":\"\\ude00\",\"broken\":\"\\u12G4\",\"end\":\"\\ud83d\"}",
	      "e=\\xf0\\x9f\\x98\\x80;lone=\\xef\\xbf\\xbdx;low=\\xef\\xbf\\xbd;broken=\\xef\\xbf\\xbdG4;end=\\xef\\xbf\\xbd;",
	      "surrogate pairs joined, lone halves and broken escapes U+FFFD");
	check("{\"esc\":\"a\\/b\\\\c\\n\\t\\q\"}", "esc=a/b\\c\\x0a\\x09q;", "the short escapes, an unknown one kept");
	check("{\"list\":[\"a\",\"b\"],\"n\":\"v\",\"o\":{\"in\":\"w\"},\"num\":12}", "n=v;in=w;num:12;",
	      "array elements are no members; an object value's members are");
	check("[\"x\", \"y\"] \"z\" : \"after\"", "z=after;", "not an object: what looks like a member");
	check("user=bob&password=x", "", "a form, not JSON: nothing");
	char longv[600];
	memcpy(longv, "{\"k\":\"", 6);
	memset(longv + 6, 'v', 300);
	memcpy(longv + 306, "\",\"", 3);
	memset(longv + 309, 'n', 70);
	memcpy(longv + 379, "\":\"1\"}", 7);
	char want[600];
	int w = snprintf(want, sizeof want, "k=%.*s[long];%.*s[long]=1;", BS_JSONKV_VALUE_MAX,
	                 longv + 6, BS_JSONKV_NAME_MAX, longv + 309);
	(void)w;
	check(longv, want, "a value and a name past their caps are cut and flagged");
	check("{\"a\":\"\\", "", "cut inside an escape at the end: no member");
	check("{\"Action\":\"Login\",\"Result\":true,\"ErrorCode\":-1.5e3,\"x\":false}",
	      "Action=Login;Result:true;ErrorCode:-1.5e3;x:false;", "numbers and literals given as written");
	check("{\"result\":{\"success\":false}", "success:false;", "a literal the text ends with, given at its end");
	char nul[] = "{\"u\":\"a\0b\"}";
	struct bs_jsonkv j;
	bs_jsonkv_init(&j);
	got_len = 0;
	bs_jsonkv_feed(&j, nul, sizeof nul - 1, member, NULL);
	got[got_len] = 0;
	is_str(got, "u=a\\x00b;", "a NUL byte inside a string is kept");
	return tap_done();
}
