/**
 * No process-wide side effects in the library packages (issue 10), seen from a fresh process
 * that imports the built packages as an embedder does: importing them, then creating, using
 * and closing a finger, a POP3 (over a MaildirStore) and an FTP server (over a disk root,
 * large listing included) adds no listener to `process`, leaves no file of theirs behind, and
 * lets the process end by itself at once (no timer, handle or thread kept). Needs dist/
 * (`pnpm build`).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const dist = (name: string): string => `${repo}packages/${name}/dist/index.js`;

const SCRIPT = `
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const listeners = () => JSON.stringify(Object.fromEntries(process.eventNames().map((e) => [String(e), process.listenerCount(e)])));
const before = listeners();
const [core, finger, pop3, ftp] = await Promise.all(${JSON.stringify(['core', 'finger', 'pop3', 'ftp'].map(dist))}.map((p) => import(p)));
const afterImport = listeners();
const dir = mkdtempSync(join(tmpdir(), 'gorgon-effects-'));
const mail = join(dir, 'mail');
const files = join(dir, 'files');
mkdirSync(files, { recursive: true });
for (let i = 0; i < 300; i++) writeFileSync(join(files, 'f' + i), 'x');
await pop3.deliver(mail, 'alice', 'Subject: hi\\r\\n\\r\\nbye\\r\\n');
const auth = new core.MemoryAuthenticator([{ name: 'alice', password: 'pw' }]);
const servers = [
  finger.createFingerServer({ store: new finger.MemoryUserDirectory([{ login: 'alice', name: 'Alice' }]) }),
  pop3.createPop3Server({ store: new pop3.MaildirStore(mail), auth }),
  ftp.createFtpServer({ root: files, auth }),
];
const ports = [];
for (const s of servers) ports.push((await s.listen(0, '127.0.0.1')).port);
// One exchange each: a POP3 login (the lock template is written), an FTP login and NLST of 300 entries (helper threads).
const talk = (port, lines, until) => new Promise((resolve, reject) => {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  let sent = 0;
  socket.setEncoding('latin1');
  socket.on('data', (d) => {
    text += d;
    const m = /227 Entering Passive Mode \\((\\d+),(\\d+),(\\d+),(\\d+),(\\d+),(\\d+)\\)/.exec(text);
    if (m && !socket.data) {
      socket.data = connect(Number(m[5]) * 256 + Number(m[6]), '127.0.0.1');
      socket.data.setEncoding('latin1');
      socket.data.on('data', (d) => (socket.listing = (socket.listing ?? '') + d));
    }
    const replies = text.split('\\r\\n').length - 1;
    while (sent < lines.length && replies > sent) socket.write(lines[sent++] + '\\r\\n');
    if (until.test(text)) socket.end();
  });
  socket.on('close', () => resolve({ text, listing: socket.listing ?? '' }));
  socket.on('error', reject);
});
const popped = await talk(ports[1], ['USER alice', 'PASS pw', 'QUIT'], /signing off|\\+OK.*\\r\\n\\+OK.*\\r\\n\\+OK.*\\r\\n\\+OK/);
const templatesWhileOpen = readdirSync(mail).filter((n) => n.startsWith('.gorgon-pop3-lock-')).length;
const ftped = await talk(ports[2], ['USER alice', 'PASS pw', 'PASV', 'NLST', 'QUIT'], /^226 /m);
await Promise.all(servers.map((s) => s.close({ timeoutMs: 1000 })));
const left = readdirSync(mail).filter((n) => n.startsWith('.gorgon-pop3-lock-'));
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ before, afterImport, afterClose: listeners(), templatesWhileOpen, left, popped: popped.text.includes('maildrop has 1'), listed: ftped.listing.split('\\r\\n').filter(Boolean).length }));
`;

it('importing the packages and running and closing their servers leaves nothing in the process', async () => {
  for (const name of ['core', 'finger', 'pop3', 'ftp'])
    if (!existsSync(dist(name))) throw new Error(`${dist(name)} is missing: run 'pnpm build' first`);
  const started = Date.now();
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', SCRIPT], { cwd: repo, timeout: 30_000 });
  const seen = JSON.parse(stdout.trim().split('\n').at(-1)!);
  expect(seen.popped).toBe(true);
  expect(seen.listed).toBe(300);
  expect(seen.templatesWhileOpen).toBe(1);
  expect(seen.left).toEqual([]);
  expect(seen.afterImport).toBe(seen.before);
  expect(seen.afterClose).toBe(seen.before);
  // Nothing kept the process alive once the servers were closed (the script ends without exit()).
  expect(Date.now() - started).toBeLessThan(20_000);
});
