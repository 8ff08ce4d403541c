import { execFileSync } from 'node:child_process';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childCore, spawnNode, type ChildCore } from './child-core.js';

// A server at its descriptor limit drops new connections without a word: libuv accepts each on
// a spare descriptor and closes it, and Node never hears of it. The listener must say so in the
// log (once per burst, with the limit), count it, and serve again once descriptors are free.

function hasPrlimit(): boolean {
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const LIMIT = 64;

/** The child: a greeting line server on the core, logging JSON lines (warn and up, and fd-*) to stdout. */
const SERVER = (index: string): string => `
import { createListener, LineSession } from ${JSON.stringify(index)};
const print = (level) => (obj, msg) => {
  if (typeof obj === 'string') [obj, msg] = [{}, obj];
  if (level === 'debug' || (level === 'info' && !String(obj.event).startsWith('fd-'))) return;
  process.stdout.write(JSON.stringify({ level, ...obj, msg }) + '\\n');
};
const logger = { debug: print('debug'), info: print('info'), warn: print('warn'), error: print('error'), child: () => logger };
class Hello extends LineSession {
  constructor(channel) { super(channel); this.push('220 hello\\r\\n'); }
  onLine(line) { this.push('250 ' + line + '\\r\\n'); }
}
const listener = createListener({ name: 'fd', logger, tickMs: 20 }, (ch) => new Hello(ch));
const { port } = await listener.listen(0);
process.stdout.write(JSON.stringify({ port }) + '\\n');
process.stdin.setEncoding('utf8');
process.stdin.on('data', () => process.stdout.write(JSON.stringify({ counters: listener.counters }) + '\\n'));
process.stdin.on('end', () => listener.close({ timeoutMs: 100 }).then(() => process.exit(0)));
`;

/** Opens `n` connections; each ends greeted (kept open) or dropped (closed without a byte). */
async function flood(port: number, n: number): Promise<{ greeted: net.Socket[]; dropped: number }> {
  const greeted: net.Socket[] = [];
  let dropped = 0;
  await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<void>((resolve) => {
          const socket = net.connect(port, '127.0.0.1');
          socket.on('error', () => {});
          socket.once('data', (chunk: Buffer) => {
            expect(chunk.toString()).toBe('220 hello\r\n');
            greeted.push(socket);
            resolve();
          });
          socket.once('close', () => {
            if (!greeted.includes(socket)) dropped++;
            resolve();
          });
        }),
    ),
  );
  return { greeted, dropped };
}

function greet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('error', reject);
    socket.once('data', (chunk: Buffer) => {
      socket.destroy();
      resolve(chunk.toString());
    });
    socket.once('close', () => reject(new Error('closed without a greeting')));
  });
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!hasPrlimit())('out of file descriptors (a child server under prlimit --nofile=64)', () => {
  let core: ChildCore;
  beforeAll(async () => {
    core = await childCore();
  });
  afterAll(async () => {
    await core?.[Symbol.asyncDispose]();
  });

  it('logs EMFILE once per burst with the limit, counts it, and greets again once descriptors are free', async () => {
    const script = await core.script('fd-server.mjs', SERVER(core.index));
    const { child, out, exited } = spawnNode(script, ['prlimit', `--nofile=${LIMIT}:${LIMIT}`]);
    try {
      const { port } = JSON.parse(await out.waitFor((l) => l.includes('"port"'), 'the port')) as { port: number };
      const isExhausted = (l: string): boolean => l.includes('"fd-exhausted"');

      // First burst: more connections than descriptors. The server keeps what it can.
      const first = await flood(port, 100);
      expect(first.greeted.length).toBeGreaterThan(10);
      expect(first.dropped).toBeGreaterThan(0);
      const line = JSON.parse(await out.waitFor(isExhausted, 'the fd-exhausted line')) as Record<string, unknown>;
      expect(line).toMatchObject({ level: 'warn', event: 'fd-exhausted', code: 'EMFILE', limit: LIMIT });
      expect(line.msg).toContain(`limit of ${LIMIT} open files`);
      // More refused connections and many ticks later: still one line for this burst.
      const more = await flood(port, 20);
      expect(more.greeted).toHaveLength(0);
      await pause(200);
      expect(out.lines.filter(isExhausted)).toHaveLength(1);

      // The burst passes: the next connection is greeted, and the end is logged.
      for (const socket of first.greeted) socket.destroy();
      await out.waitFor((l) => l.includes('"fd-recovered"'), 'the fd-recovered line');
      expect(await greet(port)).toBe('220 hello\r\n');

      // A second burst is a second line and a second count.
      const second = await flood(port, 100);
      expect(second.dropped).toBeGreaterThan(0);
      await out.waitFor(() => out.lines.filter(isExhausted).length === 2, 'a second fd-exhausted line');
      child.stdin!.write('counters\n');
      const counters = JSON.parse(await out.waitFor((l) => l.includes('"counters"'), 'the counters')) as {
        counters: Record<string, number>;
      };
      expect(counters.counters.fdExhausted).toBe(2);
      for (const socket of second.greeted) socket.destroy();
      expect(out.lines.filter((l) => l.includes('"level":"error"'))).toEqual([]);
      child.stdin!.end();
      expect(await exited).toBe(0);
    } finally {
      child.kill();
    }
  });
});
