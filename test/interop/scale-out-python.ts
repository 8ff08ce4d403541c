/** The Python (stdlib poplib/ftplib) clients the scale-out test runs with `python3`. */

/**
 * Drains one user's maildrop from several threads at once, each a session of its own through
 * HAProxy (so on either instance): log in (a refusal with [IN-USE] is counted and retried), RETR
 * and DELE every message, QUIT. Stops once `expected` messages were taken or at the deadline.
 * Prints {"got": [[message-id, body-checksum-ok], …], "inUse": n, "sessions": n, "errors": [...]}.
 */
export const POP3_DRAIN = `
import hashlib, json, poplib, sys, threading, time
host, port, user, secret = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
expected, threads, seconds = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
end = time.time() + seconds
lock = threading.Lock()
got, errors = [], []
counts = {'inUse': 0, 'sessions': 0}

def check(lines):
    raw = b'\\r\\n'.join(lines) + b'\\r\\n'
    head, _, body = raw.partition(b'\\r\\n\\r\\n')
    fields = dict(l.split(b': ', 1) for l in head.split(b'\\r\\n') if b': ' in l)
    return fields.get(b'Message-ID', b'?').decode(), hashlib.sha256(body).hexdigest() == fields.get(b'X-Sum', b'').decode()

def worker():
    while time.time() < end:
        with lock:
            if len(got) >= expected:
                return
        p = None
        try:
            p = poplib.POP3(host, port, timeout=10)
            p.user(user)
            try:
                p.pass_(secret)
            except poplib.error_proto as e:
                if b'[IN-USE]' not in e.args[0]:
                    raise
                with lock:
                    counts['inUse'] += 1
                p.close()
                time.sleep(0.02)
                continue
            taken = []
            count, _ = p.stat()
            for i in range(1, count + 1):
                taken.append(check(p.retr(i)[1]))
                p.dele(i)
            p.quit()
            with lock:
                counts['sessions'] += 1
                got.extend(taken)
            if count == 0:
                time.sleep(0.05)
        except Exception as e:
            with lock:
                errors.append(repr(e))
            if p is not None:
                p.close()
            time.sleep(0.05)

ts = [threading.Thread(target=worker) for _ in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
print(json.dumps({'got': got, 'errors': errors, **counts}))
`;

/**
 * Two sessions of one user through HAProxy: the first logs in, prints "first in" and waits for
 * a line on stdin (the test steers the next session to the other instance), then the second's
 * PASS is refused; after the first QUITs, the second logs in. Prints {"refused": reply, "second": count}.
 */
export const POP3_LOCK = `
import json, poplib, sys
host, port, user, secret = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
first = poplib.POP3(host, port, timeout=10)
first.user(user)
first.pass_(secret)
print('first in', flush=True)
sys.stdin.readline()
second = poplib.POP3(host, port, timeout=10)
second.user(user)
try:
    second.pass_(secret)
    refused = None
except poplib.error_proto as e:
    refused = e.args[0].decode()
first.quit()
second.user(user)
second.pass_(secret)
count = second.stat()[0]
second.quit()
print(json.dumps({'refused': refused, 'second': count}))
`;

/**
 * Uploads from one thread per entry of a JSON list [[name, size, seed], …], each thread its own
 * FTP session through HAProxy (passive mode: PASV through the instance's forwarded range), with
 * content made from the seed. Prints {"results": [[name, sha256, reply or error], …]}.
 */
export const FTP_UPLOADS = `
import ftplib, hashlib, io, json, sys, threading
host, port, user, secret, spec = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
results = []
lock = threading.Lock()

def content(size, seed):
    out, block = bytearray(), hashlib.sha256(seed.encode()).digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])

def upload(name, size, seed):
    data = content(size, seed)
    try:
        f = ftplib.FTP()
        f.connect(host, port, timeout=20)
        f.login(user, secret)
        reply = f.storbinary('STOR ' + name, io.BytesIO(data), blocksize=16384)
        f.quit()
    except Exception as e:
        reply = repr(e)
    with lock:
        results.append([name, hashlib.sha256(data).hexdigest(), reply])

ts = [threading.Thread(target=upload, args=tuple(s)) for s in spec]
for t in ts: t.start()
for t in ts: t.join()
print(json.dumps({'results': results}))
`;

/**
 * An upload held open mid-transfer: logs in, STOR, sends the first half, prints "sending" and
 * waits for a line on stdin; then sends the rest and prints the server's reply (or the error).
 */
export const FTP_HELD_UPLOAD = `
import ftplib, sys
host, port, user, secret, name, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
data = bytes((i * 7) % 251 for i in range(size))
f = ftplib.FTP()
f.connect(host, port, timeout=20)
f.login(user, secret)
f.voidcmd('TYPE I')
conn = f.transfercmd('STOR ' + name)
conn.sendall(data[: size // 2])
print('sending', flush=True)
sys.stdin.readline()
try:
    conn.sendall(data[size // 2 :])
    conn.close()
    print(f.voidresp(), flush=True)
    f.quit()
except Exception as e:
    print('error', repr(e), flush=True)
`;

/**
 * A POP3 session held in TRANSACTION: logs in, RETRs and DELEs messages 1 and 2, prints
 * "marked N ID1 ID2" (N left, the Message-IDs marked) and waits for a line on stdin (the test kills its instance meanwhile).
 */
export const POP3_HELD = `
import poplib, sys
host, port, user, secret = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
p = poplib.POP3(host, port, timeout=10)
p.user(user)
p.pass_(secret)
ids = []
for i in (1, 2):
    head = b'\\r\\n'.join(p.retr(i)[1]).split(b'\\r\\n\\r\\n')[0]
    ids += [l.split(b': ', 1)[1].decode() for l in head.split(b'\\r\\n') if l.startswith(b'Message-ID: ')]
    p.dele(i)
print('marked', p.stat()[0], *ids, flush=True)
sys.stdin.readline()
try:
    print(p.quit().decode(), flush=True)
except Exception as e:
    print('error', repr(e), flush=True)
`;
