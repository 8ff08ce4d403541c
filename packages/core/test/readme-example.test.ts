import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { leakGuard, transcript } from '@gorgon/core/testing';
import { EchoSession, startEchoServer } from '../examples/echo-server.js';
import { dial } from './helpers.js';

const readme = new URL('../README.md', import.meta.url);
const example = new URL('../examples/echo-server.ts', import.meta.url);

describe('the README example', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
  });
  afterEach(async () => {
    await guard.check();
  });

  it('is exactly examples/echo-server.ts, and under 30 lines', async () => {
    const text = await readFile(readme, 'utf8');
    const section = text.slice(text.indexOf('## A line protocol server in under 30 lines'));
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    const source = await readFile(example, 'utf8');
    expect(block).toBe(source);
    expect(source.trimEnd().split('\n').length).toBeLessThan(30);
  });

  it('runs: pipelined commands, a half-close, an over-long line (real socket)', async () => {
    await using listener = await startEchoServer(0);
    const { port } = listener.address() as { port: number };
    const client = dial(port);
    client.send(`ECHO one\r\necho two words\r\nTIME\r\nFROB\r\n${'x'.repeat(600)}\r\nQUIT\r\n`);
    client.end();
    const lines = (await client.readToEnd()).toString().split('\r\n');
    expect(lines[0]).toBe('200 echo server ready');
    expect(lines.slice(1, 3)).toEqual(['250 one', '250 two words']);
    expect(lines[3]).toMatch(/^250 \d{4}-\d\d-\d\dT/);
    expect(lines.slice(4)).toEqual(['500 unknown command', '500 line too long', '221 bye', '']);
  });

  it('reads like the RFC examples in a transcript', async () => {
    await transcript(
      (ch) => new EchoSession(ch),
      `
      S: 200 echo server ready
      C: ECHO hello
      S: 250 hello
      C: QUIT
      S: 221 bye
      `,
      { expectClose: true },
    );
  });
});
