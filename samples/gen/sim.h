/* sim.h - the simulated world of bs-gen: fleet, users, address books, the
 * database tables, and the ground-truth model kept while simulating. */
#ifndef BS_GEN_SIM_H
#define BS_GEN_SIM_H

#include "gen.h"

#define LOCAL_DOMAIN "example.net"
#define TIME_NEVER INT64_MAX

enum host_id {
	H_WM1 = 0, H_WM6 = 5, H_DB1, H_IMAP1, H_RELAY1, H_MX1, H_BACKUP1, H_DNS1, NHOSTS
};
#define NWEB 6
extern const char *const host_names[NHOSTS];
extern struct host_addr hosts[NHOSTS];
extern const uint32_t host_ip[NHOSTS];

/* Exposure categories, in the order SPEC.md sorts them (alphabetical). */
enum {
	CAT_ADDRESSBOOK = 1, CAT_CREDENTIALS = 2, CAT_EXFILTRATED = 4, CAT_LOGIN = 8,
	CAT_RECEIVED_FROM = 16, CAT_SENT_TO = 32, CAT_TROJAN = 64
};

/* An interned, normalized address and what the truth knows of it. */
struct addr {
	char *s;
	int user;              /* index of the customer account, or -1 */
	uint8_t flags;         /* categories decided outright (attacker reads, trojan) */
	bs_time login_t;       /* first successful webmail login */
	bs_time sent_t;        /* first time it was a webmail recipient */
	bs_time abook_app_t;   /* first time the app returned it from an address-book table */
	bool spam_target;      /* exposed customer: spam onset aims at it */
	/* Scenarios with a seen copy (W.odb): categories from the rows the
	 * attacker was seen to read, and rows stolen but hidden by a capture gap. */
	uint8_t seen;
	bool gap;
};

struct user {
	int addr;              /* its address id */
	char login_name[96];   /* as the user types it (some in mixed case) */
	char first[24], last[24];
	char password[16];
	uint32_t ip;
	int ua;
	bool desktop;          /* uses IMAP from home, never webmail */
	bool heavy;
	int *abook, nabook;
	/* W.odb: has a Users row (logged in to webmail once); its delivered
	 * mail (senders) and how many it has opened. */
	bool in_users;
	int *inbox, ninbox, cinbox, nopened;
	/* variety: behind a NAT shared with many users (the address never
	 * changes); how a desktop user reaches the store (enum access). */
	bool nat;
	uint8_t access;
};

/* A Correspondents row (W.odb): kept when a user opens or sends a message. */
struct corr { int user, addr; bool received; };

/* Scenario variants beyond the reference incident (docs/SAMPLES.md). */
enum variant { V_NONE, V_OPENED, V_OPENED_CUT, V_POST_SHELL, V_MAIL_EXFIL, V_ROLE_SPAM };

/* How the code injected into tampered pages is written (docs/SAMPLES.md,
 * "Tamper styles"); every style loads from the same host. */
enum tamper_style {
	STYLE_WINDOW_OPEN,    /* <script>window.open("http://...")</script>, plain */
	STYLE_UNESCAPE,       /* document.write(unescape("%3C%73...")) of a <script src> */
	STYLE_DOM_SCRIPT,     /* a created script element, its src with escaped slashes (\/) */
	STYLE_CHARCODE,       /* eval(String.fromCharCode(...)) of the window.open call */
	STYLE_SPLIT_TAG,      /* document.write('<scr'+'ipt src=...></scr'+'ipt>') */
	STYLE_ATOB,           /* eval(atob("...")) of the window.open call */
	STYLE_CHAR_REFS,      /* an iframe whose src scheme is HTML numeric character references */
	STYLE_POPUP_LINK,     /* a fake pop-up box (a positioned <div>) with a link to the trojan */
	STYLE_VAR_URL,        /* the URL in a script variable, the variable opened */
	STYLE_PACKED,         /* the window.open call through Dean Edwards' packer (base 62) */
	STYLE_CONST_URL       /* the URL in a const, the const opened (no var: modern code) */
};

struct row2 { int user; int addr; bs_time t; };

struct world {
	rng_t rng;
	int nusers;
	struct user *users;
	struct addr *addrs;
	int naddrs, caddrs;
	int *pool, npool;            /* outside contacts */
	struct row2 *abook_old; int nabook_old;
	struct row2 *sendlog; int nsendlog, csendlog;
	int bigbook_user;
	double scale;
	enum variant variant;
	bool odb;                    /* the opened-only database: Users, Abook, Correspondents */
	struct corr *corr; int ncorr, ccorr;
	bs_time dump_end;            /* end of the attacker's last bulk read or exfiltration */
	uint8_t covered;             /* categories whose live table the attacker read whole (V_NONE) */
	struct delivery { int sender, rcpt_user; bs_time t; } *deliveries; /* every final delivery */
	int ndeliveries, cdeliveries;
	bs_time onset_first;         /* first spam of the onset */
	size_t gap_from, gap_to;     /* W.odb cut: rows of the Abook dump the capture misses */
	bool variety;                /* variety, variety-clean: configurations that are not attacks */
	bool roundcube;              /* roundcube*: the webmail hosts keep Roundcube's own logs */
	bool owa;                    /* owa*: the webmail hosts are Exchange Client Access servers (IIS logs, OWA paths) */
	enum tamper_style tamper;    /* how the tampered pages' injected code is written */
};
extern struct world W;

int addr_intern(const char *s);       /* normalizes (lower-case) */
int addr_find(const char *s);         /* -1 if unknown */
void world_build(uint64_t seed, int nusers, double scale);
const char *user_agent(int i);
uint32_t random_client_ip(rng_t *r);

/* Truth hooks, called as events happen. */
void truth_login(int user, int server, bs_time t);
void truth_sent(int addr, bs_time t);
void truth_abook_app(int addr, bs_time t);
void truth_delivered(int sender_addr, int rcpt_user, bs_time t);
/* An address in a row of the attacker's bulk read of a table of category cat
 * (0: no category of its own); exfiltrated too. */
void truth_attacker_read(int addr, uint8_t cat);
void truth_trojan(int user);
/* Users whose webmail login went through server at or after its exploit, once each. */
int truth_harvested(int server, int *out, int max);
/* W.odb: an address in a row the attacker read (seen: captured, else in the gap). */
void truth_seen(int addr, uint8_t cat, bool seen);
void corr_add(int user, int addr, bool received);
/* The address typed into an address-book entry's name field, or -1. */
int abook_name_addr(int addr);

/* Per webmail server: the attack model and what was observed. */
struct webserver {
	bool attacked;               /* planned */
	bool exploited;              /* the exploit request happened */
	bs_time exploit_t;           /* successful exploit request */
	bs_time last_t;              /* attacker's last activity through it */
	bs_time tamper_on, tamper_off; /* planned: pages tampered in [on, off) */
	bs_time tamper_first, tamper_last; /* observed: pages served */
	unsigned tampered_answers;         /* pages served with the snippet */
	bs_time deploy_t;            /* the fleet-wide page change */
	const char *shell_path;
	const char *shell_path2;     /* a second shell dropped by the same attacker */
	bs_time vis_first, vis_last; /* maillog-only-exfil: attacker activity the maillogs show */
	char attacker_ips[4][16];
	bool attacker_ip_in_captures_only[4]; /* an exfiltration destination: no log shows it */
	int nattacker_ips;
};
extern struct webserver WS[NWEB];
/* captures_only: the address appears only in captures (the FTP drop host). */
void server_add_attacker_ip(int s, const char *ip, bool captures_only);
void server_activity(int s, bs_time t);

struct truth_opts {
	const char *dir, *scenario;
	uint64_t seed;
	bool logs_only;
	bool basis;                  /* the new scenarios: basis column, meta extras */
};
void truth_write(const struct truth_opts *o);

/* CSV */
void csv_field(FILE *fp, const char *s, bool last);

#endif

/* ------------------------------------------------ protocols (proto.c) */
extern rng_t *R;               /* the simulation's PRNG */
uint16_t eph_port(void);
int next_pid(int host);
void new_qid(char out[16]);
void dovecot_session(char out[20]);
void outside_mta(const char *domain, char *name, size_t nn, struct host_addr *h);
/* Round trip capture point <-> an outside client, drawn per connection. */
bs_time internet_rtt(void);

typedef const char *(*cell_fn)(void *ctx, size_t row, size_t col);
void mysql_open(struct tcpconn *tc, int server, bs_time t, const char *user);
void mysql_select(struct tcpconn *tc, const char *sql, const char *table, const char *const *cols, size_t ncols,
	size_t nrows, cell_fn cell, void *ctx);
/* The next mysql_select's rows [from, to) are sent while the capture misses them. */
void mysql_set_gap(size_t from, size_t to);
void mysql_exec(struct tcpconn *tc, const char *sql, uint64_t affected);
void mysql_quit(struct tcpconn *tc);

/* The webmail server authenticates the user against imap1; returns the end time. */
bs_time imap_webmail_login(int server, const char *login_name, const char *password, bool ok, bs_time t);
void imap_desktop_login(int user, bs_time t);

/* A mail submitted to relay1 over SMTP by a fleet server: with AUTH LOGIN as
 * the webmail user, or (auth_user NULL) by the server's own Postfix.
 * Logs relay1's Postfix lines and the deliveries; returns the end time. */
bs_time smtp_submit(const struct host_addr *client, const char *client_host, const char *auth_user, const char *password,
	const char *from, int sender_addr, const int *rcpts, int nrcpt, const char *data, size_t dlen, bs_time t, char *qid_out);
bs_time smtp_to_relay(int server, const char *auth_user, const char *password, const char *from, int sender_addr,
	const int *rcpts, int nrcpt, const char *data, size_t dlen, bs_time t, char *qid_out);
void mx_deliver_incoming(int sender, int rcpt_user, bs_time t);
void mx_spam(int rcpt_user, bs_time t, bool rbl);
void mx_spam_to(const char *to, bs_time t, bool rbl);

bs_time ftp_upload(int server, const struct host_addr *dst, const char *user, const char *pass, const char *file,
	const char *data, size_t len, bs_time t);
void dns_lookup(int server, const char *name, uint32_t answer, bs_time t);

/* -------------------------------------------------- variety (variety.c) */
/* The configurations that are not attacks (docs/SAMPLES.md, "Variety"). */
enum access { ACC_DIRECT, ACC_PROXY, ACC_IPV6, ACC_POP3 };
void variety_init(void);
void variety_desktop_login(int user, bs_time t);
/* A webmail send the way server submits (unauthenticated relay, sendmail
 * binary or SMTP AUTH), sometimes with a 5-20 MB attachment when the first
 * recipient is outside; authed: SMTP AUTH (webmail sent_to). */
bs_time variety_send(int server, int user, const int *rcpt, int n, struct buf *data, bs_time t, bool *authed);
/* One webmail server's night: backups to backup1 and offsite; an admin's day. */
void variety_nightly(int server, bs_time t);
void variety_admin(bs_time t);
/* Hourly: the monitoring probe of every server, metrics pushed out. */
void variety_monitor(bs_time t);
/* A post of the mailing-list server, relayed through relay1. */
void variety_list_post(bs_time t);
void variety_fleet_rows(FILE *fp);

/* ------------------------------------------------------- web (web.c) */
/* A client's HTTP connection to a webmail server, kept alive between requests
 * (the server closes it after 15 s idle, as Apache's KeepAliveTimeout does). */
struct webconn {
	struct tcpconn tc;
	int server;
	struct host_addr cli;
	const char *ua;
	bs_time idle_since;
	bool far;                    /* the client is on the Internet */
	bs_time resp_after;          /* the server answers after its back-end work ends */
};
struct http_reply {
	int status;
	const char *ctype;           /* NULL: no body */
	const char *headers;         /* extra response header lines, each ending in \r\n */
	const char *body;
	size_t blen;
	bool page;                   /* an application HTML page (tampering applies) */
};
void web_begin(struct webconn *w, int server, uint32_t client_ip, const char *ua);
/* One request/response at time t (>= the connection's cursor); returns the end. */
bs_time web_request(struct webconn *w, bs_time t, const char *method, const char *uri, const char *req_headers,
	const char *body, size_t blen, const struct http_reply *rep, int cookie_user);
void web_end(struct webconn *w);
void ip_str(uint32_t ip, char *buf, size_t n);
const char *random_subject(void);

void web_user_session(int user, bs_time t);
void web_bruteforce(int server, uint32_t ip, bs_time t, int attempts);
void web_probe(int server, uint32_t ip, bs_time t, int nprobes, const char *ua);
/* The attacker's requests. */
bs_time web_exploit_rfi(int server, uint32_t ip, bs_time t);
bs_time web_exploit_upload(int server, uint32_t ip, bs_time t, const char *shell_path);
bs_time web_shell(int server, uint32_t ip, bs_time t, const char *cmd, const char *output);
/* How a request carries the shell's command. */
enum shell_via { VIA_GET, VIA_FORM, VIA_MULTIPART, VIA_COOKIE, VIA_HEADER, VIA_BODY };
/* A shell request to path; status 404 once the file is gone (a probe, not use). */
bs_time web_shell_via(int server, uint32_t ip, bs_time t, const char *path, enum shell_via via, int status,
	const char *cmd, const char *output);
bool page_tampered(int server, bs_time t);
/* The line the attacker's sed puts before </body> in the world's tamper
 * style, ending in a newline. */
const char *tamper_snippet(void);
const char *abook_field(int user, int addr, size_t col);
