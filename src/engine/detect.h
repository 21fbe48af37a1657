/* detect.h - stateless classifiers used by the engine on single events.
 * Each looks at one request or statement; the verdicts that need the whole
 * data (baselines, other servers) live in correlate.c. docs/DETECTION.md. */
#ifndef BS_DETECT_H
#define BS_DETECT_H

#include "src/core/common.h"
#include "src/core/event.h"

enum bs_exploit_kind {
	BS_EXPLOIT_NONE = 0,
	BS_EXPLOIT_TRAVERSAL = 1 << 0,   /* ../ and encoded forms, /etc/passwd */
	BS_EXPLOIT_INCLUSION = 1 << 1,   /* remote/local file inclusion: =http://, php:// */
	BS_EXPLOIT_CODE = 1 << 2,        /* code or command injection */
	BS_EXPLOIT_SQLI = 1 << 3,        /* SQL injection */
	BS_EXPLOIT_UPLOAD = 1 << 4,      /* a script file uploaded through a form */
	BS_EXPLOIT_SSRF = 1 << 5,        /* server-side request forgery: Exchange's ProxyLogon, ProxyShell */
};
/* uri: path and query as sent (percent-decoding is done inside, twice at most). */
unsigned bs_detect_exploit(bs_str uri, bs_str upload_filename);
const char *bs_exploit_kind_name(unsigned kinds); /* first kind's name */

/* The request reaches a script with command-like parameters
 * (cmd=, exec=, c=id, ...=uname -a, ...). */
bool bs_detect_cmdlike(bs_str uri);
/* A path that a server executes: .php .phtml .php5 .pl .cgi .asp .aspx .jsp .sh .py */
bool bs_detect_script_path(bs_str path);
/* A command line that removes a script (bs_detect_script_path) under a web
 * root (/var/www/, /srv/www/, /usr/share/nginx/, /home/USER/public_html/):
 * rm, unlink, shred (with any options), possibly through "sudo -u" or
 * "sh -c". The first such path goes to *path. */
bool bs_detect_script_removal(bs_str command, bs_str *path);
/* An ASP.NET script where no application keeps one: any under
 * /aspnet_client/, or under /owa/auth/ other than Exchange's own pages (the
 * web shells of the 2021 Exchange intrusions). Reaching it is a web shell's
 * use even without command-like parameters. */
bool bs_detect_shell_dir(bs_str path);
/* bs_detect_script_path of a path, and whether it is a data file fetched
 * as it is (.txt, .sql, .csv, .gz, .zip, .bak ...: a dump the attacker left
 * in the web root and downloads; not the well-known files every scanner
 * asks for, robots.txt ...), its extension read once: every request asks
 * both. */
void bs_detect_path_kind(bs_str path, bool *script, bool *data_file);
/* The path part of a URI (before '?'), without a scheme://host prefix. */
bs_str bs_uri_path(bs_str uri);

/* A login form posted to a web server succeeded: webmail answers a good
 * login with a redirect (3xx) to the mailbox, a bad one with the form again
 * (2xx) or an error, or with a redirect back to the login page that says
 * why (OWA's "logon.aspx?...&reason=2", "?error=...", "login_failed"):
 * location, the redirect's Location when known (captures), tells those. A
 * login posted as JSON (json: SOGo, Tine 2.0) is answered by a script, not
 * a page: a good one with 2xx and the session cookie it sets (set_cookie
 * not empty), a bad one with 4xx (SOGo's 403) or no cookie. A 2xx whose
 * JSON body says (answer: SnappyMail's {"Result": true}, Tine 2.0's
 * {"success": false}) is what it says, for a form login too. HTTP Basic
 * authentication (basic) is answered by the resource (2xx, 3xx) or 401. */
bool bs_detect_web_login_success(int status, bs_str location, bool json, bs_str set_cookie,
                                 enum bs_login_answer answer, bool basic);

/* SQL: a SELECT with no per-user filter (no WHERE, or a WHERE without an
 * equality against a literal), i.e. a bulk read. */
bool bs_detect_sql_unfiltered(bs_str sql);
/* Is the statement a read (SELECT / SHOW / mysqldump-style)? */
bool bs_detect_sql_is_read(bs_str sql);
/* The query touches an address-book table (abook, addressbook, contacts...). */
bool bs_detect_sql_addressbook(bs_str sql);
/* What a table holds, by the meaning of its name (the first table after
 * FROM; each application names them its own way: docs/DETECTION.md,
 * "Exposure", lists the names). */
enum bs_table_kind {
	BS_TABLE_OTHER = 0,        /* anything else: its addresses are only exfiltrated */
	BS_TABLE_USERS,            /* accounts: users, accounts, mailbox, members... */
	BS_TABLE_ADDRBOOK,         /* address books: abook, contacts, address_book... */
	BS_TABLE_SENT,             /* recipients of sent mail: log_sendmail, sent, recipients... */
	BS_TABLE_RECEIVED,         /* senders of received mail: log_recvmail, senders... */
	BS_TABLE_CORRESPONDENTS,   /* both, the direction per row: correspondents, history... */
};
enum bs_table_kind bs_detect_sql_table_kind(bs_str sql);
/* The first table named after FROM, as written, without quotes or a
 * database prefix; "" when there is none. */
void bs_detect_sql_from_table(bs_str sql, char *out, size_t size);
/* Is the table named after FROM an old or backup copy of a live table
 * (Abook_old, users_bak, contacts_2006, archive_users ...)? Its rows are
 * stolen with their table's category, but reading it says nothing of what
 * the live table holds, so it cannot stand for the live table's coverage. */
bool bs_detect_sql_table_is_copy(bs_str sql);
/* The direction of a result row from its short cells ("Direction=received;..."):
 * 1 sent (out), 2 received (in), 0 none. */
int bs_detect_row_direction(bs_str row_tags);
/* A fingerprint of the statement's shape: literals and numbers replaced,
 * case and spaces folded, so the application's queries group together. */
uint64_t bs_detect_sql_shape(bs_str sql);

/* The host of an absolute or protocol-relative URL, lower-cased into out. */
size_t bs_url_host(bs_str url, char *out, size_t outsize);

#endif
