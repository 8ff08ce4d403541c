/** The Python poplib scripts the interop tests run with `python3` (stdlib only). */

/**
 * Logs in (USER/PASS, APOP, STLS then USER/PASS, or implicit TLS), then prints one JSON object:
 * STAT, LIST, UIDL, every message (RETR, base64) and `TOP n 0` of each.
 */
export const POPLIB_FETCH = `
import base64, json, poplib, ssl, sys
host, port, mode, cafile, user, secret = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=cafile)
if mode == 'ssl':
    p = poplib.POP3_SSL(host, int(port), context=ctx, timeout=20)
else:
    p = poplib.POP3(host, int(port), timeout=20)
caps = p.capa()
if mode == 'stls':
    p.stls(context=ctx)
    caps = p.capa()
if mode == 'apop':
    p.apop(user, secret)
else:
    p.user(user)
    p.pass_(secret)
count, octets = p.stat()
_, listing, _ = p.list()
_, uidl, _ = p.uidl()
messages, tops = [], []
for i in range(1, count + 1):
    _, lines, size = p.retr(i)
    messages.append(base64.b64encode(b''.join(l + b'\\r\\n' for l in lines)).decode())
    _, top, _ = p.top(i, 0)
    tops.append(base64.b64encode(b''.join(l + b'\\r\\n' for l in top)).decode())
p.quit()
print(json.dumps({
  'caps': sorted(caps.keys()),
  'stat': [count, octets],
  'list': [l.decode() for l in listing],
  'uidl': [l.decode() for l in uidl],
  'messages': messages,
  'tops': tops,
}))
`;

/**
 * DELE 1 and 2, reports "marked" and waits for a line on stdin (the test checks the Maildir
 * meanwhile), then QUIT.
 */
export const POPLIB_DELE = `
import poplib, sys
host, port, user, secret = sys.argv[1:5]
p = poplib.POP3(host, int(port), timeout=20)
p.user(user)
p.pass_(secret)
p.dele(1)
p.dele(2)
print('marked', p.stat()[0], flush=True)
sys.stdin.readline()
print(p.quit().decode(), flush=True)
`;

/**
 * A pipelined session (RFC 2449 PIPELINING): every command in one write, then the replies
 * read back and split, printed as JSON with the messages in base64 (still dot-stuffed).
 */
export const PIPELINED = `
import base64, json, socket, sys
host, port, user, secret = sys.argv[1:5]
s = socket.create_connection((host, int(port)), timeout=20)
f = s.makefile('rb')
greeting = f.readline()
cmds = ['CAPA', 'USER ' + user, 'PASS ' + secret, 'STAT', 'LIST', 'RETR 1', 'RETR 2', 'UIDL', 'NOOP', 'QUIT']
s.sendall(''.join(c + '\\r\\n' for c in cmds).encode())
multi = {'CAPA', 'LIST', 'RETR 1', 'RETR 2', 'UIDL'}
out = []
for c in cmds:
    status = f.readline()
    body = b''
    if status.startswith(b'+OK') and c in multi:
        while True:
            line = f.readline()
            if line == b'.\\r\\n' or line == b'':
                break
            body += line
    out.append({'cmd': c.split(' ')[0], 'status': status.decode().rstrip(), 'body': base64.b64encode(body).decode()})
rest = f.read()
print(json.dumps({'greeting': greeting.decode().rstrip(), 'replies': out, 'after': rest.decode()}))
`;

/**
 * A hostile raw client: wrong-state commands, an unknown verb, an over-long line, binary
 * garbage, then a normal login and RETR on the same connection. Prints the reply lines.
 */
export const HOSTILE = `
import base64, json, socket, sys
host, port, user, secret = sys.argv[1:5]
s = socket.create_connection((host, int(port)), timeout=20)
f = s.makefile('rb')
lines = [f.readline()]
def ask(raw):
    s.sendall(raw)
    lines.append(f.readline())
ask(b'STAT\\r\\n')
ask(b'RETR 1\\r\\n')
ask(b'XYZZY\\r\\n')
ask(b'NOOP ' + b'A' * 5000 + b'\\r\\n')
ask(bytes(range(0, 10)) + bytes(range(11, 200)) + b'\\r\\n')
ask(b'USER ' + user.encode() + b'\\r\\n')
ask(b'PASS ' + secret.encode() + b'\\r\\n')
ask(b'RETR 99999999999999999999\\r\\n')
ask(b'RETR 1\\r\\n')
body = b''
while True:
    line = f.readline()
    if line in (b'.\\r\\n', b''):
        break
    body += line
ask(b'QUIT\\r\\n')
print(json.dumps({'lines': [l.decode('latin1').rstrip() for l in lines], 'body': base64.b64encode(body).decode()}))
`;
