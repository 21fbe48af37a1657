#!/bin/sh
# proto_tshark.sh - agreement with tshark: the SMTP MAIL FROM / RCPT TO
# addresses, MySQL queries (command codes, text, statement ids, user and
# database, rows of results, login users), DNS query names, HTTP request
# lines and status codes that breachscope's capture
# engine and protocol parsers find must be the ones tshark finds, in the same
# order. On a capture written by tests/mkproto_pcap (DNS over UDP and TCP,
# EDNS, DNSSEC and URI records among its queries), and on captures of DNS
# and HTTP over NFLOG, PPPoE, PPPoE under QinQ tags and MPLS; with `--corpus DIR`, on
# the corpus' DNS captures instead (make check-corpus). TAP output; skipped
# when tshark is absent.

builddir=${top_builddir:-.}
srcdir=${top_srcdir:-.}
helper=$builddir/tests/mkproto_pcap
corpus=
[ "${1:-}" = --corpus ] && corpus=$2
. "$srcdir/tests/tap.sh"

command -v tshark >/dev/null 2>&1 || skip_all "tshark not installed"
[ -x "$helper" ] || skip_all "$helper not built"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/proto_tshark.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# compare NAME OURS THEIRS: one TAP test
compare() {
	if [ ! -s "$2" ] && [ ! -s "$3" ]; then
		fail "$1: no items on either side"
	elif cmp -s "$2" "$3"; then
		pass "$1 ($(wc -l < "$2" | tr -d ' ') items)"
	else
		fail "$1"
		diff "$2" "$3" | head -20 | sed 's/^/# /'
	fi
}

# ours FILE PREFIX: the helper's items of one kind
ours() {
	"$helper" dump "$1" 2>/dev/null | sed -n "s/^$2 //p"
}

if [ -n "$corpus" ]; then
	for f in dns_udp dns_udp_2 dns_tcp dnssec edns-opts dns-uri; do
		p=$corpus/pcap/tcpdump-$f.pcap
		tshark -r "$p" -Y 'dns.flags.response == 0' -T fields -e dns.qry.name 2>/dev/null > "$tmp/c.theirs"
		ours "$p" dns.qry.name > "$tmp/c.ours"
		compare "DNS query names of corpus tcpdump-$f.pcap" "$tmp/c.ours" "$tmp/c.theirs"
	done
	done_testing
	exit
fi

cap=$tmp/proto.pcap
"$helper" write "$cap" || fail "mkproto_pcap cannot write the capture"

# SMTP: tshark gives "MAIL<TAB>FROM:<a> SIZE=1"; keep the address between < >
tshark -r "$cap" -Y 'smtp.req.command == "MAIL" || smtp.req.command == "RCPT"' \
	-T fields -e smtp.req.command -e smtp.req.parameter 2>/dev/null |
	sed -n 's/^MAIL\t[^<]*<\([^>]*\)>.*/smtp.from \1/p; s/^RCPT\t[^<]*<\([^>]*\)>.*/smtp.to \1/p' > "$tmp/smtp.theirs"
"$helper" dump "$cap" 2>/dev/null | grep '^smtp\.' > "$tmp/smtp.ours"
compare "SMTP MAIL FROM / RCPT TO" "$tmp/smtp.ours" "$tmp/smtp.theirs"

# MySQL (three sessions: an old 4.1 client; a client with query attributes,
# COM_INIT_DB accepted and refused, COM_CHANGE_USER; a driver using prepared
# statements, a cursor, long data). Ours: the query events (COM_QUERY,
# COM_STMT_PREPARE/EXECUTE/FETCH), their results and the logins.
tshark -r "$cap" -Y mysql.query -T fields -e mysql.query 2>/dev/null > "$tmp/mysql.theirs"
ours "$cap" mysql.query > "$tmp/mysql.ours"
compare "MySQL queries" "$tmp/mysql.ours" "$tmp/mysql.theirs"

# Per frame: stream, source port, command, statement id, user, schema,
# response codes, text row cells, binary row NULL bitmaps (several in a
# frame joined by \001). tshark reads the user and schema of the login
# and COM_CHANGE_USER, the schema of COM_INIT_DB: they take effect when the
# server answers OK (an ERR leaves the session as it was), as breachscope
# does; each query then carries the user and schema in force (context).
# Rows: a text row has one cell per column (these results have one column),
# a binary row one NULL bitmap. tshark 4.0 does not know that the answer to
# COM_STMT_FETCH is binary rows (MySQL documents it so: rows of the
# cursor, then an EOF): it shows each row as an OK packet (response code
# 0x00); those are counted as the fetch's rows.
agg=$(printf '\001')
tshark -r "$cap" -Y 'mysql && tcp.port == 3306' -T fields -E aggregator="$agg" -e tcp.stream -e tcp.srcport \
	-e mysql.command -e mysql.stmt_id -e mysql.user -e mysql.schema -e mysql.response_code \
	-e mysql.row.text -e mysql.row.nullbuffer 2>/dev/null | awk -F '\t' -v agg="$agg" '
	function flush() { if (open) print "mysql.rows " rows; open = 0 }
	function count(s, a) { return s == "" ? 0 : split(s, a, agg) }
	$2 != 3306 && $3 == "" && $5 != "" { puser[$1] = $5; pdb[$1] = $6; pend[$1] = 1; next }
	$2 != 3306 && $3 != "" {
		flush()
		if ($3 == 2) { puser[$1] = user[$1]; pdb[$1] = $6; pend[$1] = 1 }
		if ($3 == 17) { puser[$1] = $5; pdb[$1] = $6; pend[$1] = 1 }
		if ($3 != 3 && $3 != 22 && $3 != 23 && $3 != 28)
			next
		print "mysql.command " $3
		if ($3 == 23 || $3 == 28)
			print "mysql.stmt_id " $3 " " $4
		print "mysql.context " $3 " " user[$1] " " db[$1]
		open = 1; rows = 0; fetch = $3 == 28
		next
	}
	$2 == 3306 {
		split($7, rc, agg)
		if (pend[$1] && rc[1] == "0x00") { user[$1] = puser[$1]; db[$1] = pdb[$1] }
		if (rc[1] == "0x00" || rc[1] == "0xff") pend[$1] = 0
		if (!open) next
		if (fetch) { n = count($7, c); for (i = 1; i <= n; i++) rows += c[i] == "0x00" }
		else rows += count($8, c) + count($9, c)
	}
	END { flush() }' > "$tmp/mysql.frames"
for item in "command:command codes (COM_QUERY, COM_STMT_PREPARE/EXECUTE/FETCH)" \
	"stmt_id:statement ids of COM_STMT_EXECUTE and COM_STMT_FETCH" \
	"context:user and schema of each query (login, COM_INIT_DB, COM_CHANGE_USER)" \
	"rows:rows of each result (text and binary rows, cursor fetches)"; do
	sed -n "s/^mysql\.${item%%:*} //p" "$tmp/mysql.frames" > "$tmp/mysql.theirs"
	ours "$cap" "mysql.${item%%:*}" > "$tmp/mysql.ours"
	compare "MySQL ${item#*:}" "$tmp/mysql.ours" "$tmp/mysql.theirs"
done
# the users of logins and COM_CHANGE_USER: ours once the server answered
tshark -r "$cap" -Y mysql.user -T fields -e mysql.user 2>/dev/null > "$tmp/mysql.theirs"
ours "$cap" mysql.user > "$tmp/mysql.ours"
compare "MySQL users of logins and COM_CHANGE_USER" "$tmp/mysql.ours" "$tmp/mysql.theirs"

# dns_http CAPTURE LABEL: DNS query names, HTTP request methods and URIs
dns_http() {
	tshark -r "$1" -Y 'dns.flags.response == 0' -T fields -e dns.qry.name 2>/dev/null > "$tmp/dns.theirs"
	ours "$1" dns.qry.name > "$tmp/dns.ours"
	compare "${2}DNS query names" "$tmp/dns.ours" "$tmp/dns.theirs"
	tshark -r "$1" -Y 'http.request' -T fields -e http.request.method -e http.request.uri 2>/dev/null |
		sed 's/\t/ /' > "$tmp/http.theirs"
	ours "$1" http.request > "$tmp/http.ours"
	compare "${2}HTTP request methods and URIs" "$tmp/http.ours" "$tmp/http.theirs"
}

# HTTP that used to end the parse (a method outside the list, leading zeros
# in Content-Length): every request line and status code
dns_http "$cap" ""
tshark -r "$cap" -Y 'http.response' -T fields -e http.response.code 2>/dev/null > "$tmp/httpst.theirs"
ours "$cap" http.response.code > "$tmp/httpst.ours"
compare "HTTP status codes" "$tmp/httpst.ours" "$tmp/httpst.theirs"

# The same DNS names and HTTP requests over the other link layers the
# capture engine reads: NFLOG (its own link type), PPPoE sessions (also
# under 802.1ad + 802.1Q tags), MPLS label stacks and Linux ARCNET (RFC 1201 and 1051); tshark must see the
# link layer in every frame, as breachscope does.
for link in nflog:nflog pppoe:pppoes qinq-pppoe:vlan.etype==0x8864 mpls:mpls.bottom==1 arcnet:arcnet.protID==0xd4 \
	arcnet-1051:arcnet.protID==0xf0; do
	kind=${link%%:*}
	lcap=$tmp/$kind.pcap
	if ! "$helper" write-link "$kind" "$lcap"; then
		fail "mkproto_pcap cannot write the $kind capture"
		continue
	fi
	all=$(tshark -r "$lcap" 2>/dev/null | wc -l)
	linked=$(tshark -r "$lcap" -Y "${link#*:}" 2>/dev/null | wc -l)
	is "$kind: tshark reads the link layer in every frame" "$linked" "$all"
	dns_http "$lcap" "$kind: "
done

done_testing
