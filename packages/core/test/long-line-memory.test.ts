import * as net from 'node:net';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { childCore, spawnNode, type ChildCore } from './child-core.js';

// Node gives every socket read a fresh buffer (a server socket cannot be given a reusable one
// on Node 20), so a line that is discarded still costs its length in garbage until V8 collects:
// a 10 MiB line without a line end raised a server's RSS by 10 MiB, a 100 MiB one by ~35 MiB.
// LineSession now stops reading a line after maxDiscardBytes (1 MiB) and drops the connection,
// so neither costs more than about that. Measured in a child process, which runs nothing else.

const MiB = 1024 * 1024;
/** "A few MiB": the 1 MiB read before the cutoff, one read, and noise. */
const BUDGET = 4 * MiB;

const SERVER = (index: string): string => `
import { createListener, LineSession } from ${JSON.stringify(index)};
class Lines extends LineSession {
  constructor(channel) { super(channel, { maxLineLength: 4096 }); this.push('220 hi\\r\\n'); }
  onLine(line) { this.push('250 ' + line.length + '\\r\\n'); }
  onLineTooLong() { this.push('500 line too long\\r\\n'); }
}
let peak = 0;
setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 1).unref();
const plain = createListener({ name: 'plain' }, (ch) => new Lines(ch));
const secure = createListener({ name: 'tls', tls: { cert: process.env.CERT, key: process.env.KEY } }, (ch) => new Lines(ch));
const ports = { plain: (await plain.listen(0)).port, tls: (await secure.listen(0)).port };
process.stdout.write(JSON.stringify({ ports }) + '\\n');
process.stdin.setEncoding('utf8');
process.stdin.on('data', () => {
  const rss = process.memoryUsage().rss;
  process.stdout.write(JSON.stringify({ rss, peak: Math.max(peak, rss), open: plain.connections + secure.connections }) + '\\n');
  peak = 0;
});
process.stdin.on('end', () => process.exit(0));
`;

interface Sample {
  rss: number;
  peak: number;
  open: number;
}

/** Sends a `size`-byte line without a line end until the server cuts it off (or it is all sent). */
async function sendLongLine(socket: net.Socket, size: number): Promise<string> {
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  // The greeting first: once the server drops the connection, what it sent may be lost to the reset.
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  const chunk = Buffer.alloc(MiB, 0x61);
  for (let sent = 0; sent < size && !socket.destroyed; sent += chunk.length) {
    if (!socket.write(chunk)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed]);
  }
  if (!socket.destroyed) socket.end('\r\nQUIT\r\n');
  await closed;
  return received;
}

describe('memory of one over-long line (a child server, plain and TLS)', () => {
  let core: ChildCore;
  let cert: { cert: string; key: string };
  beforeAll(async () => {
    [core, cert] = await Promise.all([childCore(), createDemoCertificate('localhost')]);
  });
  afterAll(async () => {
    await core?.[Symbol.asyncDispose]();
  });

  it('a 10 MiB and a 100 MiB line each raise RSS by at most a few MiB', async () => {
    const script = await core.script('long-line-server.mjs', SERVER(core.index));
    const { child, out, exited } = spawnNode(script, [], [], { CERT: cert.cert, KEY: cert.key });
    try {
      const { ports } = JSON.parse(await out.waitFor((l) => l.includes('"ports"'), 'the ports')) as {
        ports: { plain: number; tls: number };
      };
      let asked = 0;
      const sample = async (): Promise<Sample> => {
        const n = ++asked;
        child.stdin!.write('?\n');
        await out.waitFor(() => out.lines.filter((l) => l.includes('"rss"')).length >= n, 'a memory sample');
        return JSON.parse(out.lines.filter((l) => l.includes('"rss"'))[n - 1]!) as Sample;
      };
      const connect = (secure: boolean): net.Socket =>
        secure
          ? tls.connect({ port: ports.tls, host: '127.0.0.1', ca: cert.cert, servername: 'localhost' })
          : net.connect(ports.plain, '127.0.0.1');
      const settle = async (): Promise<void> => {
        for (let i = 0; i < 500 && (await sample()).open > 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      };

      // Warm up both paths (code, TLS state), so what is measured is the line alone.
      for (const secure of [false, true]) await sendLongLine(connect(secure), 2 * MiB);
      await settle();

      const growth: Record<string, number> = {};
      for (const secure of [false, true]) {
        for (const size of [10 * MiB, 100 * MiB]) {
          const before = await sample();
          const received = await sendLongLine(connect(secure), size);
          await settle();
          const after = await sample();
          const what = `${secure ? 'tls' : 'plain'} ${size / MiB} MiB`;
          growth[what] = Math.max(after.peak, after.rss) - before.rss;
          expect(growth[what], `${what}: ${(growth[what]! / MiB).toFixed(1)} MiB`).toBeLessThan(BUDGET);
          // The line was refused (its tail never ran: no 250), then the connection dropped; the
          // refusal itself may be lost to the reset that drops it.
          expect(received).toMatch(/^220 hi\r\n(500 line too long\r\n)?$/);
        }
      }
      child.stdin!.end();
      expect(await exited).toBe(0);
    } finally {
      child.kill();
    }
  });
});
