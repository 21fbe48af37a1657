#!/usr/bin/env python3
"""mkseeds.py - seed corpora for the libFuzzer targets, generated at build time.

usage: mkseeds.py SRCDIR OUTDIR [BREACHSCOPE]

Seeds come from the committed sample incident (samples/incident: gzip
maillogs and access logs, gzip pcaps), from small hand-written sessions, and,
when the public corpus is present (BS_CORPUS, else SRCDIR/../shared/corpus),
from its small maillogs and captures. Nothing from the corpus is copied into
the source tree: seeds live in the build directory. The log cases'
lines (tests/cases) seed the maillog target too, so that every daemon has
seeds without the corpus. Each seed is prefixed
with the mode byte(s) its harness expects (see the harness comments).
"""
import bz2, glob, gzip, lzma, os, re, shutil, struct, subprocess, sys, tempfile

src, out = sys.argv[1], sys.argv[2]
binary = sys.argv[3] if len(sys.argv) > 3 else None
sample = os.path.join(src, 'samples', 'incident')
corpus = os.environ.get('BS_CORPUS') or os.path.join(src, '..', 'shared', 'corpus')
count = {}


def put(target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    n = count.get(target, 0)
    count[target] = n + 1
    with open(os.path.join(d, 'seed-%04d' % n), 'wb') as f:
        f.write(data)


def head_lines(data, n):
    return b''.join(data.splitlines(True)[:n])


logs = sorted(glob.glob(os.path.join(sample, 'logs', '*', '*.gz')))
seen_kind = set()
for p in logs:
    kind = (os.path.basename(os.path.dirname(p)), os.path.basename(p).split('-')[0])
    if kind in seen_kind:
        continue
    seen_kind.add(kind)
    raw = open(p, 'rb').read()
    text = gzip.decompress(raw)
    part = head_lines(text, 80)
    put('input', b'\0\0' + raw[:8192])        # compressed, as stored (cut if long)
    put('input', b'\1\200' + part)             # wrapped in gzip by the harness
    put('syslog', b'\0' + part)
    put('maillog', b'\1' + part)
    put('addrscan', part[:4096])

for p in sorted(glob.glob(os.path.join(corpus, 'maillog', '*')) + glob.glob(os.path.join(corpus, 'weblog', '*'))):
    data = open(p, 'rb').read()[:16384]
    put('maillog', b'\0' + data)
    put('syslog', b'\1' + head_lines(data, 40))
    put('input', b'\0\0' + data[:4096])

# every log case's lines (tests/cases/*/*.in, "L: " lines), one seed per
# case: each daemon has seeds in a clean checkout, without the corpus
for p in sorted(glob.glob(os.path.join(src, 'tests', 'cases', '*', '*.in'))):
    lines = [l[3:] if l.startswith(b'L: ') else b'' for l in open(p, 'rb').read().split(b'\n')
             if l.startswith(b'L: ') or l == b'L:']
    if lines:
        put('maillog', b'\0' + b'\n'.join(lines)[:16384] + b'\n')

# captures: the start of each sample pcap (a cut last record is fine) and the
# small public ones
pcaps = sorted(glob.glob(os.path.join(sample, 'pcap', '*.pcap.gz')))
for p in pcaps[:6]:
    put('capture', b'\0' + gzip.decompress(open(p, 'rb').read())[:32768])
for p in sorted(glob.glob(os.path.join(corpus, 'pcap', '*'))):
    data = open(p, 'rb').read()
    if len(data) <= 32768:
        put('capture', b'\0' + data)
        if len(data) <= 4096:
            put('input', b'\0\0' + data)

# protocol scripts: TCP payloads of the sample captures, per flow, in capture
# order (the samples are clean: no reordering to undo). fuzz_proto's first
# byte picks a module by its index in the registry, BS_STREAM_PROTOCOLS.
REGISTRY = re.findall(r'^\s*X\((\w+),', open(os.path.join(src, 'parsers', 'stream', 'proto.h')).read(), re.M)
P = {name: i for i, name in enumerate(REGISTRY)}
PROTO_INDEX = {80: P['http'], 25: P['smtp'], 143: P['imap'], 110: P['pop3'], 21: P['ftp'], 3306: P['mysql']}


def script(payloads):
    b = bytearray()
    for d, data in payloads:
        for i in range(0, len(data), 128):
            chunk = data[i:i + 128]
            b.append(((len(chunk) - 1) << 1) | d)
            b += chunk
            if len(b) > 16384:
                return bytes(b)
    return bytes(b)


flows = {}
dns_udp = []
for p in pcaps[:8]:
    data = gzip.decompress(open(p, 'rb').read())
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack('<IIII', data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(pkt) < 34 or pkt[12:14] != b'\x08\x00':
            continue
        ip = pkt[14:]
        ihl = (ip[0] & 15) * 4
        proto = ip[9]
        l4 = ip[ihl:]
        if proto == 17 and len(l4) >= 8:
            sp, dp = struct.unpack('>HH', l4[:4])
            if 53 in (sp, dp) and len(dns_udp) < 40:
                dns_udp.append((1 if sp == 53 else 0, l4[8:]))
            continue
        if proto != 6 or len(l4) < 20:
            continue
        sp, dp = struct.unpack('>HH', l4[:4])
        payload = l4[(l4[12] >> 4) * 4:]
        if not payload:
            continue
        srvport = dp if dp in PROTO_INDEX else sp if sp in PROTO_INDEX else None
        if srvport is None:
            continue
        key = (srvport, ip[12:16] + ip[16:20] if dp == srvport else ip[16:20] + ip[12:16],
               sp if dp == srvport else dp)
        flows.setdefault(key, []).append((0 if dp == srvport else 1, payload))

per_proto = {}
for key, payloads in flows.items():
    n = per_proto.get(key[0], 0)
    if n >= 4:
        continue
    per_proto[key[0]] = n + 1
    put('proto', bytes([PROTO_INDEX[key[0]]]) + script(payloads))
put('proto', bytes([P['dns']]) + script(dns_udp))
# hand-written sessions for what the sample may lack
put('proto', bytes([P['http']]) + script([(0, b'POST /login.php HTTP/1.1\r\nHost: wm\r\nContent-Type: application/x-www-form-urlencoded\r\n'
                                      b'Content-Length: 27\r\n\r\nuser=bob%40x.org&pass=s3cr'),
                                  (1, b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html\r\n\r\n'
                                      b'1a\r\n<script src="http://e.vil/x.js">\r\n0\r\n\r\n')]))
put('proto', bytes([P['smtp']]) + script([(1, b'220 mx ESMTP\r\n'), (0, b'EHLO a\r\n'), (1, b'250-mx\r\n250 AUTH PLAIN\r\n'),
                                  (0, b'AUTH PLAIN AGJvYgBwdw==\r\n'), (1, b'235 ok\r\n'),
                                  (0, b'MAIL FROM:<a@b.org>\r\nRCPT TO:<c@d.org>\r\nDATA\r\n'),
                                  (1, b'250 ok\r\n250 ok\r\n354 go\r\n'),
                                  (0, b'From: a@b.org\r\nTo: c@d.org\r\n\r\nhi\r\n.\r\nQUIT\r\n')]))
put('proto', bytes([P['imap']]) + script([(1, b'* OK IMAP\r\n'), (0, b'a1 LOGIN bob {3}\r\n'), (1, b'+ go\r\n'),
                                  (0, b'pwd\r\n'), (1, b'a1 OK done\r\n')]))
put('proto', bytes([P['pop3']]) + script([(1, b'+OK\r\n'), (0, b'USER bob\r\n'), (1, b'+OK\r\n'), (0, b'PASS x\r\n'),
                                  (1, b'+OK\r\n'), (0, b'RETR 1\r\n'), (1, b'+OK\r\nFrom: a@b.org\r\n..x\r\n.\r\n')]))
put('proto', bytes([P['ftp']]) + script([(1, b'220 ftp\r\n'), (0, b'USER bob\r\n'), (1, b'331 pw\r\n'), (0, b'PASS x\r\n'),
                                  (1, b'230 ok\r\n'), (0, b'PASV\r\n'), (1, b'227 Entering (10,0,0,1,4,1)\r\n'),
                                  (0, b'STOR shell.php\r\n'), (1, b'150 ok\r\n226 done\r\n')]))
# every stream case (tests/cases, "proto NAME" over TCP): its client and
# server bytes as a script of its module, so what a case was written for
# (a JSON login, a smuggled request, SMTP pipelining ...) is a seed too
def case_bytes(text):
    """A case's data text with caserun's escapes (\\r \\n \\t \\\\ \\xHH)."""
    out, i = bytearray(), 0
    while i < len(text):
        c = text[i:i + 1]
        if c == b'\\' and i + 1 < len(text):
            e = text[i + 1:i + 2]
            if e == b'x' and i + 3 < len(text):
                out.append(int(text[i + 2:i + 4], 16))
                i += 4
                continue
            out += {b'r': b'\r', b'n': b'\n', b't': b'\t'}.get(e, e)
            i += 2
            continue
        out += c
        i += 1
    return bytes(out)


for p in sorted(glob.glob(os.path.join(src, 'tests', 'cases', '*', '*.in'))):
    module, payloads = None, []
    for line in open(p, 'rb').read().split(b'\n'):
        words = line.split()
        if line.startswith(b'proto ') and len(words) >= 2:
            name = words[1].decode('ascii', 'replace')
            module = P.get(name + '_tcp' if len(words) > 2 and words[2] == b'tcp' and name + '_tcp' in P else name)
            continue
        if len(line) < 2 or line[:1] not in (b'C', b'S') or line[1:2] not in (b':', b'-', b'='):
            continue
        d = 0 if line[:1] == b'C' else 1
        body = line[3:] if len(line) > 2 else b''
        try:
            data = bytes.fromhex(body.decode('ascii')) if line[1:2] == b'=' else case_bytes(body)
        except ValueError:
            continue
        if line[1:2] == b':':
            data += b'\r\n'
        if payloads and payloads[-1][0] == d:
            payloads[-1] = (d, payloads[-1][1] + data)
        else:
            payloads.append((d, data))
    if module is not None and payloads:
        put('proto', bytes([module]) + script(payloads))
put('proto', bytes([P['dns_tcp']]) + script([(0, b'\x00\x1d\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01')]))

# compressed files for fuzz_decode, whole (no mode byte): each compression
# the input layer decodes, concatenated streams, nesting up to one layer too
# deep, and damage the gzip reader resynchronises after. zstd frames are
# written by hand (python has no zstd module); the zstd CLI adds a compressed
# one only when present.
def zstd_frame(content, rle_tail=0):
    """A zstd frame of raw blocks (and an RLE block of rle_tail spaces):
    single segment, content size given, no checksum."""
    size = len(content) + rle_tail
    if size < 256:
        fhd, fcs = 0x20, bytes([size])
    elif size < 65536 + 256:
        fhd, fcs = 0x60, struct.pack('<H', size - 256)
    else:
        fhd, fcs = 0xa0, struct.pack('<I', size)
    blocks = []
    for i in range(0, len(content), 1 << 17):
        blocks.append((0, content[i:i + (1 << 17)], len(content[i:i + (1 << 17)])))
    if rle_tail:
        blocks.append((1, b' ', rle_tail))
    if not blocks:
        blocks.append((0, b'', 0))
    out = bytearray(b'\x28\xb5\x2f\xfd' + bytes([fhd]) + fcs)
    for i, (kind, body, n) in enumerate(blocks):
        out += (n << 3 | kind << 1 | (i == len(blocks) - 1)).to_bytes(3, 'little') + body
    return bytes(out)


def gz(data):
    return gzip.compress(data, mtime=0)


text = head_lines(gzip.decompress(open(logs[0], 'rb').read()), 40) if logs else \
    b'Apr 22 10:00:00 mx postfix/smtpd[1]: connect from a[192.0.2.1]\n' * 20
half = len(text) // 2
put('decode', text)
put('decode', gzip.compress(text, mtime=1176000000))
put('decode', bz2.compress(text))
put('decode', bz2.compress(text[:half]) + bz2.compress(text[half:]))     # pbzip2-style streams
put('decode', lzma.compress(text))
put('decode', lzma.compress(text[:half]) + b'\0' * 4 + lzma.compress(text[half:]))  # stream padding
put('decode', zstd_frame(text))
put('decode', zstd_frame(text[:half], rle_tail=300) + zstd_frame(text[half:]))   # two frames
put('decode', gz(gz(text)))                                             # a gzip of a gzip
put('decode', lzma.compress(gz(text)))                                  # xz of gzip
put('decode', zstd_frame(lzma.compress(bz2.compress(gz(text)))))        # 4 layers: the most
put('decode', gz(zstd_frame(lzma.compress(bz2.compress(gz(text))))))   # 5: too deep
# three members, the middle one corrupt (its first deflate block of the
# reserved type 3): resynchronised at the third
third = len(text) // 3
bad = bytearray(gz(text[third:2 * third]))
bad[10] |= 0x06
put('decode', gz(text[:third]) + bytes(bad) + gz(text[2 * third:]))
put('decode', gz(text[:third]) + b'garbage\n' + gz(text[third:]) + b'\0' * 8)  # garbage, padding
put('decode', lzma.compress(text)[:-7])                                 # cut short
if pcaps:
    put('decode', lzma.compress(gzip.decompress(open(pcaps[0], 'rb').read())[:4096]))
if shutil.which('zstd'):
    try:
        put('decode', subprocess.run(['zstd', '-q', '-c', '--check'], input=text, stdout=subprocess.PIPE,
                                     check=True).stdout)
    except (OSError, subprocess.CalledProcessError):
        pass  # a broken zstd CLI costs a seed, not the build

# inventories
fleet = os.path.join(sample, 'fleet.csv')
if os.path.exists(fleet):
    put('fleet', open(fleet, 'rb').read())
put('fleet', b'name,address,role\r\n"wm 1",[2001:db8::1],WebMail\r\n"a""b",10.0.0.1,db\r\n\r\n')
put('fleet', b'role,name,address\nmx,mx1,::ffff:192.0.2.1\n')

# a state file of a small scan; the harness's odd mode adds the trailer back
if binary and logs:
    with tempfile.TemporaryDirectory() as tmp:
        st = os.path.join(tmp, 'state')
        small = [p for p in logs if 'maillog' in p][:1]
        if subprocess.call([binary, 'scan', '-q', '-o', st] + small) in (0, 3) and os.path.exists(st):
            data = open(st, 'rb').read()
            put('state', b'\0' + data)
            put('state', b'\1' + data[:-12])

for t in sorted(count):
    print('%s: %d seeds' % (t, count[t]))
