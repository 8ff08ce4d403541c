/**
 * The Python scenarios: one script per standard-library client, run as `python3 -c SCRIPT CONFIG
 * FEATURE`. Each prints one JSON object; an exception ends it with a traceback whose last line
 * is the cell's failure reason. The shared prelude reads the config and builds the TLS context.
 */
const PRELUDE = `
import hashlib, json, ssl, sys
cfg = json.loads(sys.argv[1])
feature = sys.argv[2]
def context():
    ctx = ssl.create_default_context(cafile=cfg.get('ca'))
    if cfg['insecure']:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx
def sha(data):
    return hashlib.sha256(data).hexdigest()
def done(**result):
    print(json.dumps(result))
`;

/** ftplib: FTP, FTP_TLS (AUTH TLS, PROT P) and implicit FTPS by wrapping the control socket. */
export const FTPLIB = `${PRELUDE}
import ftplib, io, posixpath
class ImplicitFTP_TLS(ftplib.FTP_TLS):
    # ftplib has no implicit FTPS: wrap the control socket as soon as connect() sets it.
    _sock = None
    @property
    def sock(self):
        return self._sock
    @sock.setter
    def sock(self, value):
        if value is not None and not isinstance(value, ssl.SSLSocket):
            value = self.context.wrap_socket(value, server_hostname=self.host)
        self._sock = value
def session(tls):
    if cfg['implicit']:
        f = ImplicitFTP_TLS(context=context(), timeout=cfg['timeout'])
    elif tls:
        f = ftplib.FTP_TLS(context=context(), timeout=cfg['timeout'])
    else:
        f = ftplib.FTP(timeout=cfg['timeout'])
    f.connect(cfg['host'], cfg['port'])
    if tls and not cfg['implicit']:
        f.auth()
    f.login(cfg['user'], cfg['password'])
    if tls or cfg['implicit']:
        f.prot_p()
    return f
f = session(feature == 'tls')
if feature == 'login':
    done(pwd=f.pwd())
elif feature in ('list', 'tls'):
    done(names=[posixpath.basename(n) for n in f.nlst(cfg['dir'])] if cfg['dir'] else f.nlst())
elif feature in ('retrieve', 'resume'):
    data = bytearray()
    f.retrbinary('RETR ' + cfg['file'], data.extend, rest=cfg.get('offset') or None)
    done(sha=sha(bytes(data)), size=len(data))
elif feature == 'store':
    f.storbinary('STOR ' + cfg['remote'], io.BytesIO(cfg['content'].encode()))
    done(stored=cfg['remote'])
elif feature == 'delete':
    f.delete(cfg['remote'])
    done(deleted=cfg['remote'])
f.quit()
`;

/** poplib: POP3, STLS and POP3_SSL; DELE is undone with RSET, so nothing is deleted. */
export const POPLIB = `${PRELUDE}
import poplib
def session(tls):
    if cfg['implicit']:
        p = poplib.POP3_SSL(cfg['host'], cfg['port'], context=context(), timeout=cfg['timeout'])
    else:
        p = poplib.POP3(cfg['host'], cfg['port'], timeout=cfg['timeout'])
        if tls:
            p.stls(context())
    p.user(cfg['user'])
    p.pass_(cfg['password'])
    return p
p = session(feature == 'tls')
n = cfg.get('number') or 1
if feature in ('login', 'tls'):
    done(stat=list(p.stat()))
elif feature == 'list':
    listed = p.list()[1]
    uidls = p.uidl()[1]
    done(messages=len(listed), uidls=len(uidls))
elif feature == 'retrieve':
    lines = p.retr(n)[1]
    done(sha=sha(b''.join(l + b'\\r\\n' for l in lines)))
elif feature == 'top':
    lines = p.top(n, 0)[1]
    done(lines=len(lines), blank=b'' in lines)
elif feature == 'delete':
    before = p.stat()[0]
    p.dele(n)
    during = p.stat()[0]
    p.rset()
    after = p.stat()[0]
    if during != before - 1 or after != before:
        raise SystemExit('STAT gave %d, %d after DELE, %d after RSET' % (before, during, after))
    done(before=before, during=during, after=after)
p.quit()
`;

/** nntplib (Python 3.11; removed in 3.13): NNTP, STARTTLS, NNTP_SSL, AUTHINFO, LIST, OVER, ARTICLE, POST. */
export const NNTPLIB = `${PRELUDE}
import nntplib
def session(tls):
    if cfg['implicit']:
        s = nntplib.NNTP_SSL(cfg['host'], cfg['port'], ssl_context=context(), readermode=True, timeout=cfg['timeout'])
    else:
        s = nntplib.NNTP(cfg['host'], cfg['port'], readermode=True, timeout=cfg['timeout'])
        if tls:
            s.starttls(context())
    if cfg['user']:
        s.login(cfg['user'], cfg['password'], usenetrc=False)
    return s
s = session(feature == 'tls')
if feature == 'login':
    done(capabilities=sorted(s.getcapabilities()))
elif feature in ('list', 'tls'):
    groups = [g.group for g in s.list()[1]]
    done(groups=len(groups), found=cfg['group'] in groups if cfg['group'] else True)
elif feature == 'overview':
    _, count, first, last, _ = s.group(cfg['group'])
    overviews = s.over((first, last))[1] if count else []
    done(count=count, overviews=len(overviews))
elif feature == 'retrieve':
    s.group(cfg['group'])
    lines = s.article(cfg['number'])[1].lines
    done(sha=sha(b''.join(l + b'\\r\\n' for l in lines)))
elif feature == 'post':
    s.post(cfg['article'].encode().split(b'\\n'))
    s.group(cfg['group'])
    body = s.article(cfg['messageId'])[1].lines
    done(lines=len(body))
s.quit()
`;

/** http.client: GET, HEAD, Range, If-Modified-Since, and two requests on one connection. */
export const HTTP_CLIENT = `${PRELUDE}
import http.client
if cfg['implicit']:
    conn = http.client.HTTPSConnection(cfg['host'], cfg['port'], context=context(), timeout=cfg['timeout'])
else:
    conn = http.client.HTTPConnection(cfg['host'], cfg['port'], timeout=cfg['timeout'])
def get(method='GET', headers={}):
    conn.request(method, cfg['path'], headers=headers)
    r = conn.getresponse()
    return r, r.read()
def expect(r, status):
    if r.status != status:
        raise SystemExit('%s %s: got %d %s, expected %d' % (feature, cfg['path'], r.status, r.reason, status))
if feature == 'retrieve':
    r, body = get()
    expect(r, 200)
    done(sha=sha(body))
elif feature == 'head':
    r, body = get('HEAD')
    expect(r, 200)
    done(length=r.getheader('Content-Length'), body=len(body))
elif feature == 'resume':
    r, body = get(headers={'Range': 'bytes=%d-' % cfg['offset']})
    expect(r, 206)
    done(sha=sha(body))
elif feature == 'conditional':
    r, body = get(headers={'If-Modified-Since': cfg['lastModified']})
    expect(r, 304)
    done(body=len(body))
elif feature == 'keep-alive':
    r, body = get()
    expect(r, 200)
    first = conn.sock
    r, body = get()
    expect(r, 200)
    if first is None or conn.sock is not first:
        raise SystemExit('the server closed the connection after the first response')
    done(reused=True)
conn.close()
`;
