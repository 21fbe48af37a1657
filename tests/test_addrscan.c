/* test_addrscan.c - the shared address scanner, normalizer and scan window. */
#include "config.h"
#include "src/core/addrscan.h"
#include "parsers/stream/http.h"
#include "tap.h"

#include <arpa/inet.h>
#include <stdlib.h>

struct found {
	char text[4096];
	size_t n, count;
};

static void collect(void *ctx, const char *addr, size_t n)
{
	struct found *f = ctx;
	if (f->n && f->n < sizeof f->text - 1)
		f->text[f->n++] = ',';
	if (f->n + n < sizeof f->text) {
		memcpy(f->text + f->n, addr, n);
		f->n += n;
	}
	f->text[f->n] = 0;
	f->count++;
}

static const char *scan(const char *s, bool dotless)
{
	static struct found f;
	memset(&f, 0, sizeof f);
	bs_addr_scan(s, strlen(s), dotless, collect, &f);
	return f.text;
}

static const char *norm_n(const char *s, size_t n)
{
	static char out[BS_ADDR_MAX + 1];
	int r = bs_addr_normalize(s, n, out);
	if (r < 0)
		return "(invalid)";
	if (r == 0)
		return "(null sender)";
	if ((size_t)r != strlen(out))
		return "(length mismatch)";
	return out;
}

static const char *norm(const char *s) { return norm_n(s, strlen(s)); }

/* The window fed one byte at a time and in odd pieces must find the same
 * addresses as one scan of the whole text. */
static void window_cb(void *ctx, const char *p, size_t n, size_t fresh, bool final)
{
	bs_addr_scan_window(p, n, fresh, final, false, collect, ctx);
}

static void window_scan(const char *s, size_t len, size_t piece, struct found *f)
{
	static struct bs_scan_window w;
	memset(f, 0, sizeof *f);
	bs_window_reset(&w);
	for (size_t i = 0; i < len; i += piece)
		bs_window_feed(&w, s + i, len - i < piece ? len - i : piece, window_cb, f);
	bs_window_end(&w, window_cb, f);
}


/* bs_ip_parse as it was before its IPv4 fast path: the reference the fast
 * path must agree with on every input. */
static bool ref_ip_parse(const char *s, size_t n, bs_ip *out)
{
	char buf[64];
	memset(out, 0, sizeof *out);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n >= 5 && (memcmp(s, "IPv6:", 5) == 0 || memcmp(s, "ipv6:", 5) == 0)) {
		s += 5;
		n -= 5;
	}
	if (n == 0 || n >= sizeof buf)
		return false;
	memcpy(buf, s, n);
	buf[n] = 0;
	char *pct = strchr(buf, '%');
	if (pct)
		*pct = 0;
	if (inet_pton(AF_INET, buf, out->a) == 1) {
		out->family = 4;
		return true;
	}
	uint8_t v6[16];
	if (inet_pton(AF_INET6, buf, v6) == 1) {
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(v6, mapped, 12) == 0) {
			out->family = 4;
			memcpy(out->a, v6 + 12, 4);
		} else {
			out->family = 6;
			memcpy(out->a, v6, 16);
		}
		return true;
	}
	return false;
}

/* Does bs_ip_parse give the reference's answer and address for s[0..n)? */
static bool ip_parse_agrees(const char *s, size_t n)
{
	bs_ip got, want;
	memset(&got, 0xa5, sizeof got); /* both must clear what they do not set */
	memset(&want, 0x5a, sizeof want);
	bool g = bs_ip_parse(s, n, &got), w = ref_ip_parse(s, n, &want);
	return g == w && memcmp(&got, &want, sizeof got) == 0;
}

/* Fixed ugly inputs, then random strings over an alphabet of digits, dots,
 * colons, a few letters and the bytes that end or bracket an address. */
static void check_ip_parse(void)
{
	static const char *const fixed[] = { "1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1",
		"1.2.3.256", "1.2.3.4.", ".1.2.3.4", "01.2.3.4", "1.02.3.4", "1.2.3.00", "1.2.3", "1.2.3.4.5",
		"1..2.3", "1.2..3.4", "[1.2.3.4]", "[1.2.3.4", "1.2.3.4]", "IPv6:1.2.3.4", "ipv6:1.2.3.4",
		"IPV6:1.2.3.4", "[IPv6:1.2.3.4]", "1.2.3.4%eth0", "1.2.3.4%", "fe80::1%eth0", "::ffff:1.2.3.4",
		"::1", "::", "2001:db8::1", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", "+1.2.3.4", "0x1.2.3.4",
		"1.2.3.0x4", "999.999.999.999", "1000.1.1.1", "0001.1.1.1", "1.2.3.04", "1.2.3.40",
		"127.0.0.1", "10.0.0.255", "1.2.3.4a", "a1.2.3.4", "1.2.3.", "", "[]", "[", "]", "%", ".",
		"1", "12345678", "1.2.3.4:25", "::1.2.3.4", "[::ffff:10.0.0.1]", "IPv6:", "unknown", NULL };
	size_t bad = 0;
	for (size_t i = 0; fixed[i]; i++)
		if (!ip_parse_agrees(fixed[i], strlen(fixed[i]))) {
			printf("# bs_ip_parse differs on \"%s\"\n", fixed[i]);
			bad++;
		}
	static const char nul_inside[] = "1.2.3.4\0" "5";
	bad += !ip_parse_agrees(nul_inside, sizeof nul_inside - 1);
	bad += !ip_parse_agrees("1.2.3.4", 5); /* cut short */
	char longer[100];
	memset(longer, '1', sizeof longer);
	for (size_t n = 0; n <= sizeof longer; n++)
		bad += !ip_parse_agrees(longer, n);
	static const char alphabet[] = "0123456789012345....::[]%aAfFxXIPv6 \0";
	srand(7);
	size_t accepted = 0;
	for (int t = 0; t < 400000; t++) {
		char s[72];
		size_t n = (size_t)(rand() % 20);
		if (t % 50 == 0)
			n = (size_t)(rand() % (int)sizeof s);
		for (size_t i = 0; i < n; i++)
			s[i] = alphabet[rand() % (int)(sizeof alphabet - 1)];
		if (t % 3 == 0 && n >= 7) /* mostly a dotted quad, to reach the octet rules */
			n = (size_t)snprintf(s, sizeof s, "%d.%d.%d.%d", rand() % 300, rand() % 300 - 5,
			                     rand() % 260, rand() % 1100) - (size_t)(rand() % 2);
		bs_ip ip;
		accepted += bs_ip_parse(s, n, &ip);
		bad += !ip_parse_agrees(s, n);
	}
	is_int(bad, 0, "bs_ip_parse equals the inet_pton reference on every input");
	ok(accepted > 20000, "the random inputs include many addresses (%zu)", accepted);
}

/* The scanner's fast paths (a grown local part checked only for its trailing
 * dot, the domain checked and lower-cased in one pass, a class table for the
 * message-id token walk) against what the straightforward scanner found on
 * ugly text; and every address bs_addr_scanned_is_normal() passes must be its
 * own normal form, as the engine then interns it without normalizing. */
#define BIG_LABEL "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"

static void check_scan_fast_paths(void)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "Mail Bob.Smith@Mail.Example.ORG, x.-y@a-b.example.com- and ..Z_9+tag@EXAMPLE.com...",
		  "bob.smith@mail.example.org,x.-y@a-b.example.com,z_9+tag@example.com" },
		{ "ids <a$b=c@Host.Example.Org> and References: <x@y.example.org>\r\n <Z@W.Example.Org> then q@r.example.net",
		  "c@host.example.org,z@w.example.org,q@r.example.net" },
		{ "\"Odd <Name>\"@Example.org and \"plain\"@Example.org and Bob@[IPv6:2001:DB8::1] and c@[192.0.2.1]",
		  "\"odd <name>\"@example.org,plain@example.org,bob@[ipv6:2001:db8::1],c@[192.0.2.1]" },
		{ "tail.@x.org bad@-x.org bad@x-.org a@b.c0m img@2X.png a@xn--P1AI.xn--80AK6AA92E "
		  "long-label@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org",
		  "a@xn--p1ai.xn--80ak6aa92e" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		is_str(scan(cases[i].in, false), cases[i].want, "fast paths: ugly text %zu", i);
	is_str(scan("v@x.org-. w@x.org-x. z@a.-b.org y@a-.b.org t@x..org s@x.org..", false), "v@x.org,s@x.org",
	       "fast paths: labels checked while the domain grows, a bad one in the cut-off punctuation ignored");
	is_str(scan("x ABCDEFGHIJKLMNOPQRSTUVWXYZ_az09+-.Z@AZ-Z9.Ab.COM Q@X.ORG Ab.C@D.EF", false),
	       "abcdefghijklmnopqrstuvwxyz_az09+-.z@az-z9.ab.com,q@x.org,ab.c@d.ef",
	       "fast paths: lower-cased a word at a time, short ones a byte at a time");
	is_str(scan("t@x.c u@x.c0 v@x.xn-- w@x.xn--a y@x.ab-c z@x.AbC q@x.XN--9a r@x.xn-a1", false),
	       "v@x.xn,w@x.xn--a,z@x.abc,q@x.xn--9a", "fast paths: the last label checked on the way back");
	is_str(scan("Dot@Less and p@MEDIA q@Host", true), "dot@less,q@host", "fast paths: dotless domains");
	{
		/* labels of 63 and 64 letters, domains of 255 and 256 bytes */
		static char text[1200];
		char *o = text;
		o += sprintf(o, "u@%.63s.org u@%.64s.org m@", BIG_LABEL, BIG_LABEL);
		for (int i = 0; i < 3; i++)
			o += sprintf(o, "%.63s.", BIG_LABEL);
		o += sprintf(o, "%.63s n@", BIG_LABEL);
		for (int i = 0; i < 3; i++)
			o += sprintf(o, "%.63s.", BIG_LABEL);
		sprintf(o, "%.64s", BIG_LABEL);
		const char *got = scan(text, false);
		ok(strlen(got) == 2 + 63 + 4 + 1 + 2 + 255 && strncmp(got, "u@", 2) == 0 && strstr(got, ",m@") &&
		   !strstr(got, "n@"), "fast paths: label and domain lengths at the limits");
	}
	static const char nul[] = "x\0<id@Host.Example.org> Message-ID: <m\0id@y.example.org>";
	struct found f = { .n = 0 };
	bs_addr_scan(nul, sizeof nul - 1, false, collect, &f);
	is_str(f.text, "id@host.example.org,id@y.example.org", "fast paths: a NUL ends a message id's token");

	size_t normal = 0, kept = 0;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const char *all = scan(cases[i].in, true);
		for (const char *a = all; *a;) {
			size_t n = strcspn(a, ",");
			char out[BS_ADDR_MAX + 1];
			int r = bs_addr_normalize(a, n, out);
			if (bs_addr_scanned_is_normal(a, n)) {
				normal++;
				ok(r == (int)n && memcmp(out, a, n) == 0, "scanned and normal: %.*s", (int)n, a);
			} else {
				kept++;
			}
			a += n + (a[n] == ',');
		}
	}
	ok(normal >= 6 && kept == 3, "quoted local parts and IP literals are left to the normalizer");
}

int main(void)
{
	check_ip_parse();
	check_scan_fast_paths();
	/* --- normalization of address fields */
	is_str(norm("Bob@Example.ORG"), "bob@example.org", "lower-cases local part and domain");
	is_str(norm("<bob@example.org>"), "bob@example.org", "strips angle brackets");
	is_str(norm("  <bob@example.org>  "), "bob@example.org", "strips surrounding space");
	is_str(norm("Bob Smith <Bob.Smith@Example.org>"), "bob.smith@example.org", "drops display name");
	is_str(norm("\"Smith, Bob\" <bob@example.org>"), "bob@example.org", "quoted display name with comma");
	is_str(norm("<>"), "(null sender)", "<> is the null sender");
	is_str(norm("mailto:alice@example.com"), "alice@example.com", "strips mailto:");
	is_str(norm("MAILTO:Alice@Example.com"), "alice@example.com", "strips MAILTO: case-insensitively");
	is_str(norm("\"john smith\"@example.org"), "\"john smith\"@example.org", "keeps needed quotes");
	is_str(norm("\"john\"@example.org"), "john@example.org", "drops quotes that protect nothing");
	is_str(norm("\"John.Smith\"@Example.org"), "john.smith@example.org", "drops quotes around a dot-atom");
	is_str(norm("'bob@example.org'"), "bob@example.org", "strips surrounding apostrophes");
	is_str(norm("user+tag@sub.example.co.uk"), "user+tag@sub.example.co.uk", "plus tag and deep domain");
	is_str(norm("o'brien@example.ie"), "o'brien@example.ie", "apostrophe in a field is atext");
	is_str(norm("root@localhost"), "root@localhost", "a log field may name a dotless domain");
	is_str(norm("postmaster@[192.0.2.1]"), "postmaster@[192.0.2.1]", "IPv4 literal");
	is_str(norm("bob@[IPv6:2001:db8::1]"), "bob@[ipv6:2001:db8::1]", "IPv6 literal");
	is_str(norm("bob@[999.1.1.1]"), "(invalid)", "bad IP literal");
	/* fuzz_addrscan: a zone in the literal let NUL bytes into the result */
	static const char zoned[] = "t@[128.7.0.116%\0\0a.1]";
	char zout[BS_ADDR_MAX + 1];
	is_int(bs_addr_normalize(zoned, sizeof zoned - 1, zout), -1, "IP literal with a zone and NUL bytes: not an address");
	is_str(norm("bob"), "(invalid)", "no @");
	is_str(norm("@example.org"), "(invalid)", "empty local part");
	is_str(norm("bob@"), "(invalid)", "empty domain");
	is_str(norm("bob.@example.org"), "(invalid)", "local part ending with a dot");
	is_str(norm(".bob@example.org"), "(invalid)", "local part starting with a dot");
	is_str(norm("bo..b@example.org"), "(invalid)", "double dot in local part");
	is_str(norm("bob@example..org"), "(invalid)", "empty domain label");
	is_str(norm("bob@-example.org"), "(invalid)", "label starting with a hyphen");
	is_str(norm("bob@example.org."), "(invalid)", "trailing dot in a field");
	is_str(norm("bob@example.c0m"), "(invalid)", "TLD with a digit");
	is_str(norm("bob@example.c"), "(invalid)", "one-letter TLD");
	is_str(norm("bob@xn--80ak6aa92e.xn--p1ai"), "bob@xn--80ak6aa92e.xn--p1ai", "IDN TLD");
	is_str(norm("b ob@example.org"), "(invalid)", "space in unquoted local part");
	/* found by fuzz_addrscan: an escaped NUL kept in the output */
	is_str(norm_n("\"l\\\0\"@example.org", 17), "(invalid)", "escaped NUL in a quoted local part");
	is_str(norm("\"a\\\tb\"@example.org"), "(invalid)", "escaped control character in a quoted local part");
	is_str(norm("\"a\\\"b\"@example.org"), "\"a\\\"b\"@example.org", "escaped quote in a quoted local part");
	is_str(norm("<bob@example.org"), "(invalid)", "unclosed angle bracket");
	is_str(norm("bob@exa_mple.org"), "(invalid)", "underscore in domain");
	{
		char big[400];
		memset(big, 'a', 70);
		strcpy(big + 70, "@example.org");
		is_str(norm(big), "(invalid)", "local part over 64 bytes");
	}
	{
		char out[BS_ADDR_MAX + 1];
		is_int(bs_addr_normalize("a\0b@example.org", 15, out), -1, "NUL byte inside");
	}
	is_bs(bs_addr_domain("bob@example.org", 15), "example.org", "domain of an address");
	is_bs(bs_addr_domain("\"a@b\"@example.org", 17), "example.org", "domain after the last @");
	is_bs(bs_addr_domain("nobody", 6), "", "no domain");

	/* --- scanning free text */
	is_str(scan("Contact bob@example.org for details.", false), "bob@example.org", "address in a sentence");
	is_str(scan("write to Bob@Example.org.", false), "bob@example.org", "trailing sentence dot dropped");
	is_str(scan("a@b.cd, c@d.ef;g@h.ij", false), "a@b.cd,c@d.ef,g@h.ij", "several separated by punctuation");
	is_str(scan("<a href=\"mailto:alice@example.com\">mail</a>", false), "alice@example.com", "mailto: link in HTML");
	is_str(scan("INSERT INTO t VALUES ('carol@example.net','x')", false), "carol@example.net", "SQL string literal");
	is_str(scan("/login?email=dave@example.com&x=1", false), "dave@example.com", "query string value");
	is_str(scan("{\"email\":\"erin@example.org\"}", false), "erin@example.org", "JSON value");
	is_str(scan("From: \"John Smith\" <John.Smith@Example.COM>", false), "john.smith@example.com", "From header");
	is_str(scan("x \"john smith\"@example.org y", false), "\"john smith\"@example.org", "quoted local part kept");
	is_str(scan("x \"frank\"@example.org y", false), "frank@example.org", "needless quotes dropped");
	is_str(scan("@media screen { a { color: red } }", false), "", "CSS @media");
	is_str(scan("@import url(\"x.css\");", false), "", "CSS @import");
	is_str(scan("@font-face { font-family: x }", false), "", "CSS @font-face");
	is_str(scan("a{b:c}@media(max-width:1px){}", true), "", "CSS at-rule even with dotless allowed");
	is_str(scan("<img src=\"logo@2x.png\">", false), "", "retina image @2x");
	is_str(scan("<img src=\"icon@1.5x.jpg\">", false), "", "retina image @1.5x");
	is_str(scan("Message-ID: <20070504173102.ABC123@mail.example.org>", false), "", "Message-ID header");
	is_str(scan("message-id: <x$y=z@mail.example.org>", false), "", "message id with $ and =");
	is_str(scan("postfix/cleanup[1]: 4F2: message-id=<abc.def@host.example.com>", false), "",
	       "Postfix message-id=");
	is_str(scan("In-Reply-To: <a1@b.example.org>", false), "", "In-Reply-To header");
	is_str(scan("References: <a1@b.example.org>\r\n <a2@c.example.org>\r\n", false), "",
	       "folded References header");
	is_str(scan("Subject: hi\r\nReply-To: <reply@example.org>\r\n", false), "reply@example.org",
	       "other header in angle brackets is an address");
	is_str(scan("root@localhost", false), "", "dotless domain rejected by default");
	is_str(scan("root@localhost", true), "root@localhost", "dotless domain when allowed");
	is_str(scan("user@mail.example.org_backup", false), "", "address glued to a longer word");
	is_str(scan("a@b@example.org", false), "", "double @");
	is_str(scan("version 1.0@2x", false), "", "no domain dot");
	is_str(scan("see...bob@example.org", false), "bob@example.org", "leading dots are punctuation");
	is_str(scan("bob.@example.org", false), "", "local part ending in a dot");
	is_str(scan("x@example.123", false), "", "numeric TLD");
	is_str(scan("ping admin@[10.0.0.1] now", false), "admin@[10.0.0.1]", "IP literal in text");
	is_str(scan("@@@@ @ @. .@ x@ @y", false), "", "lone at-signs");
	is_str(scan("", false), "", "empty input");
	is_str(scan("user%40example.org", false), "", "URL-encoded @ is not decoded by the scanner");
	is_str(scan("caf\xc3\xa9@example.org", false), "", "non-ASCII before @: the run starts at a UTF-8 byte");
	is_str(scan("\xff\xfe bob@example.org \xc3", false), "bob@example.org", "invalid UTF-8 around");
	is_str(scan("tel:+1-555 mike.o-neil_2@Mail-1.Example.travel!", false), "mike.o-neil_2@mail-1.example.travel",
	       "hyphens, underscore and a long TLD");
	is_str(scan("user@example.org-", false), "user@example.org", "trailing hyphen dropped");
	is_str(scan("bob@ex-.org", false), "", "label ending with a hyphen");
	{
		char text[] = "a\0bob@example.org\0c";
		struct found f = { { 0 }, 0, 0 };
		bs_addr_scan(text, sizeof text - 1, false, collect, &f);
		is_str(f.text, "bob@example.org", "NUL bytes around");
	}
	{
		/* 64-byte local part is fine, 65 is a token */
		char t[200];
		memset(t, 'x', 64);
		strcpy(t + 64, "@example.org");
		is_int(bs_addr_scan(t, strlen(t), false, NULL, NULL), 1, "64-byte local part");
		memset(t, 'x', 65);
		strcpy(t + 65, "@example.org");
		is_int(bs_addr_scan(t, strlen(t), false, NULL, NULL), 0, "65-byte local part");
	}
	{
		/* a 1 MB run of '@' and letters: linear, no match, no crash */
		size_t n = 1 << 20;
		char *big = malloc(n);
		for (size_t i = 0; i < n; i++)
			big[i] = (i % 3 == 0) ? '@' : 'a';
		is_int(bs_addr_scan(big, n, false, NULL, NULL), 0, "1 MB of a@a@a");
		memset(big, '.', n);
		memcpy(big + n / 2, "q@w.io", 6);
		is_int(bs_addr_scan(big, n, false, NULL, NULL), 1, "an address inside 1 MB of dots");
		free(big);
	}
	is_int(bs_addr_scan(NULL, 0, false, NULL, NULL), 0, "NULL input");
	{
		struct found f = { { 0 }, 0, 0 };
		size_t r = bs_addr_scan("x a@b.cd y e@f.gh", 17, false, collect, &f);
		is_int(r, 2, "returns the count");
		is_int(f.count, 2, "calls back once per address");
	}

	/* --- window: every piece size gives the same addresses */
	{
		static char text[9000];
		size_t len = 0;
		const char *parts[] = { "hello ", "first@example.org", " x ", "Message-ID: <mid@h.example.org>\n" };
		for (int k = 0; len < 6000; k++) {
			const char *s = parts[k % 4];
			if (len < BS_WIN_TAIL + BS_WIN_CHUNK && len + strlen(s) > BS_WIN_TAIL + BS_WIN_CHUNK - 40) {
				/* pad, then an address right across the first window boundary */
				while (len < BS_WIN_TAIL + BS_WIN_CHUNK - 6)
					text[len++] = ' ';
				memcpy(text + len, "cross@boundary.example.com ", 27);
				len += 27;
			}
			memcpy(text + len, s, strlen(s));
			len += strlen(s);
		}
		/* and one touching the very end */
		memcpy(text + len, " last@end.example.net", 21);
		len += 21;
		struct found whole = { { 0 }, 0, 0 };
		bs_addr_scan(text, len, false, collect, &whole);
		ok(whole.count > 100, "window text holds many addresses (%zu)", whole.count);
		ok(strstr(whole.text, "cross@boundary.example.com") != NULL, "boundary address in the whole scan");
		ok(strstr(whole.text, "mid@") == NULL, "message ids skipped in the whole scan");
		size_t bad = 0;
		for (size_t piece = 1; piece <= 3000; piece += (piece < 40 ? 1 : 97)) {
			struct found f;
			window_scan(text, len, piece, &f);
			if (f.count != whole.count || strcmp(f.text, whole.text) != 0)
				bad++;
		}
		is_int(bad, 0, "window scan equals whole scan for every piece size");
		struct found f;
		window_scan("tail@only.example.org", 21, 1, &f);
		is_str(f.text, "tail@only.example.org", "address touching the end is reported at end");
		window_scan("", 0, 1, &f);
		is_int(f.count, 0, "empty window");
	}
	return tap_done();
}
