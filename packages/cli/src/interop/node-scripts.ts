/**
 * The Node scenarios: one CommonJS script per npm client library, run as `node -e SCRIPT CONFIG
 * FEATURE` with the library's entry file in `cfg.module`. Each prints one JSON object; an error
 * ends it with the error's message on stderr and exit status 1, and that line is the cell's
 * failure reason. The shared prelude reads the config and builds the TLS options.
 */
const PRELUDE = `
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const cfg = JSON.parse(process.argv[1]);
const feature = process.argv[2];
const sha = (data) => crypto.createHash('sha256').update(data).digest('hex');
function tlsOptions() {
  const options = { rejectUnauthorized: !cfg.insecure };
  if (cfg.ca) options.ca = fs.readFileSync(cfg.ca);
  return options;
}
function fail(err) {
  const message = err && err.message ? String(err.message) : String(err);
  // node-pop3's -ERR errors carry the command (PASS as "PASS ***") apart from the reply's text.
  const where = err && typeof err.command === 'string' && err.command ? err.command + ': -ERR ' : '';
  process.stderr.write((where + message).replace(/\\s+/g, ' ').trim() + '\\n', () => process.exit(1));
}
function finish(result) {
  process.stdout.write(JSON.stringify(result) + '\\n', () => process.exit(0));
}
// A library's error event with no listener must end the script with its message too.
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
`;

/**
 * basic-ftp: plain FTP, AUTH TLS with protected data (`secure: true`) for the tls cell on ftp://,
 * implicit FTPS (`secure: 'implicit'`) for every cell on ftps://.
 */
export const BASIC_FTP = `${PRELUDE}
const { Readable, Writable } = require('node:stream');
(async () => {
  const { Client } = require(cfg.module);
  const client = new Client(cfg.timeout * 1000);
  const secure = cfg.implicit ? 'implicit' : feature === 'tls';
  let result;
  try {
    await client.access({
      host: cfg.host,
      port: cfg.port,
      user: cfg.user,
      password: cfg.password,
      secure,
      secureOptions: secure ? tlsOptions() : undefined,
    });
    if (feature === 'login') {
      result = { pwd: await client.pwd() };
    } else if (feature === 'list' || feature === 'tls') {
      const entries = await client.list(cfg.dir || undefined);
      result = { names: entries.map((e) => e.name) };
    } else if (feature === 'retrieve' || feature === 'resume') {
      const parts = [];
      const sink = new Writable({
        write(chunk, _encoding, done) {
          parts.push(chunk);
          done();
        },
      });
      await client.downloadTo(sink, cfg.file, cfg.offset || 0);
      const data = Buffer.concat(parts);
      result = { sha: sha(data), size: data.length };
    } else if (feature === 'store') {
      await client.uploadFrom(Readable.from([Buffer.from(cfg.content)]), cfg.remote);
      result = { stored: cfg.remote };
    } else if (feature === 'delete') {
      await client.remove(cfg.remote);
      result = { deleted: cfg.remote };
    } else {
      throw new Error('unknown feature ' + feature);
    }
  } finally {
    client.close();
  }
  finish(result);
})().catch(fail);
`;

/**
 * node-pop3: plain POP3 or implicit TLS (`tls: true`, pop3s://); it has no STLS. DELE is undone
 * with RSET, so nothing is deleted.
 *
 * RETR's text is not the message as sent: node-pop3 decodes it as UTF-8, leaves the dot-stuffing
 * in (RFC 1939 §3: a line that starts with "." comes as ".."), and drops the CRLF before the
 * terminating "." when the terminator arrives in the same read as the end of the message (it
 * strips the 5 bytes CRLF "." CRLF), but keeps it when the "." comes in a read of its own. So the
 * script normalises before hashing: CRLF line ends, ".." at a line start back to ".", and a final
 * CRLF put back when there is none. (A message whose last line is empty stays ambiguous: when
 * node-pop3 dropped that CRLF, what is left already ends in one.) The check compares the hash
 * with the reference, re-encoded as UTF-8 when it is not valid UTF-8 (see pop3.ts).
 */
export const NODE_POP3 = `${PRELUDE}
(async () => {
  const Pop3Command = require(cfg.module);
  const pop3 = new Pop3Command({
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    password: cfg.password,
    tls: Boolean(cfg.implicit),
    tlsOptions: cfg.implicit ? tlsOptions() : undefined,
    timeout: cfg.timeout * 1000,
  });
  const n = cfg.number || 1;
  const count = async () => Number(String(await pop3.STAT()).split(' ')[0]);
  let result;
  if (feature === 'login' || feature === 'tls') {
    result = { stat: await pop3.STAT() };
  } else if (feature === 'list') {
    const listed = await pop3.LIST();
    const uidls = await pop3.UIDL();
    result = { messages: listed.length, uidls: uidls.length };
  } else if (feature === 'retrieve') {
    const text = (await pop3.RETR(n))
      .replace(/\\r?\\n/g, '\\r\\n')
      .replace(/(^|\\r\\n)\\.\\./g, '$1.')
      .replace(/(?:\\r\\n)?$/, '\\r\\n');
    result = { sha: sha(Buffer.from(text, 'utf8')), size: Buffer.byteLength(text) };
  } else if (feature === 'top') {
    const text = await pop3.TOP(n, 0);
    result = { lines: text.split(/\\r?\\n/).filter((l) => l !== '').length };
  } else if (feature === 'delete') {
    const before = await count();
    await pop3.command('DELE', n);
    const during = await count();
    await pop3.command('RSET');
    const after = await count();
    if (during !== before - 1 || after !== before) {
      throw new Error('STAT gave ' + before + ', ' + during + ' after DELE, ' + after + ' after RSET');
    }
    result = { before, during, after };
  } else {
    throw new Error('unknown feature ' + feature);
  }
  await pop3.QUIT();
  finish(result);
})().catch(fail);
`;
