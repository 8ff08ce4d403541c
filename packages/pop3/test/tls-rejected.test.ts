import { execFile } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import * as tls from 'node:tls';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memoryLogger, MemoryAuthenticator, type MemoryLogRecord } from '@gorgon/core';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { leakGuard, MemoryClient } from '@gorgon/core/testing';
import { createPop3Server, MemoryMaildropStore } from '../src/internal.js';

// A client that does not trust the server's certificate (fetchmail checking the demo
// certificate against the system CAs) ends the handshake with a TLS alert. That is the
// client's decision, not a server fault: a warning that says why, never an error.

let cert: { cert: string; key: string };
beforeAll(async () => {
  cert = await createDemoCertificate('localhost');
});
let guard: ReturnType<typeof leakGuard>;
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
});

function server(records: MemoryLogRecord[]) {
  return createPop3Server({
    store: new MemoryMaildropStore(),
    auth: new MemoryAuthenticator([{ name: 'alice', password: 'wonderland' }]),
    tls: cert,
    logger: memoryLogger(records),
  });
}

/** A strict client: verifies the certificate against the system CAs only, so it refuses ours. */
function refuse(options: tls.ConnectionOptions): Promise<Error> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ servername: 'localhost', rejectUnauthorized: true, ...options });
    socket.once('secureConnect', () => reject(new Error('the client accepted a self-signed certificate')));
    socket.once('error', (err) => {
      socket.destroy();
      resolve(err);
    });
  });
}

async function settled(records: MemoryLogRecord[], pop3: { connections: number }): Promise<void> {
  for (let i = 0; i < 1000 && (pop3.connections > 0 || !records.some((r) => r.event === 'tls-failed')); i++) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('POP3: a client that rejects the certificate', () => {
  it('STLS: logged as a warning with the reason, no error line', async () => {
    const records: MemoryLogRecord[] = [];
    await using pop3 = server(records);
    const { port } = await pop3.listen(0);
    const socket = netConnect(port, '127.0.0.1');
    const client = new MemoryClient(socket);
    expect(await client.line()).toMatch(/^\+OK /);
    client.sendLine('STLS');
    expect(await client.line()).toBe('+OK Begin TLS negotiation');
    const err = await refuse({ socket });
    expect((err as NodeJS.ErrnoException).code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    await settled(records, pop3);
    expect(records.filter((r) => r.level === 'error')).toEqual([]);
    const warning = records.find((r) => r.level === 'warn' && r.event === 'tls-failed');
    expect(warning?.msg).toMatch(/^TLS handshake failed: the client closed the connection during the handshake/);
    expect(warning?.reason).toMatch(/do not trust our certificate/);
  });

  it('implicit TLS (pop3s): logged as a warning with the reason, no error line', async () => {
    const records: MemoryLogRecord[] = [];
    await using pop3 = server(records);
    const { port } = await pop3.listenTls(0);
    const err = await refuse({ port, host: '127.0.0.1' });
    expect((err as NodeJS.ErrnoException).code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    await settled(records, pop3);
    expect(records.filter((r) => r.level === 'error')).toEqual([]);
    const warning = records.find((r) => r.level === 'warn' && r.event === 'tls-failed');
    expect(warning?.msg).toMatch(/^TLS handshake failed: the client closed the connection during the handshake/);
    expect(warning?.reason).toMatch(/do not trust our certificate/);
  });

  it('implicit TLS: a TCP health check that sends nothing is not a warning', async () => {
    const records: MemoryLogRecord[] = [];
    await using pop3 = server(records);
    const { port } = await pop3.listenTls(0);
    const socket = netConnect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.end();
    await new Promise((resolve) => socket.once('close', resolve));
    await settled(records, pop3);
    expect(records.filter((r) => r.level === 'warn' || r.level === 'error')).toEqual([]);
    expect(records.find((r) => r.event === 'tls-failed')?.level).toBe('debug');
  });

  // Python's ssl (OpenSSL with verification on, as fetchmail and mpop do it) sends an alert.
  const strictPython = (port: number, implicit: boolean): Promise<string> =>
    new Promise((resolve) => {
      const code = implicit
        ? `import poplib, ssl\ntry:\n    poplib.POP3_SSL('127.0.0.1', ${port}, context=ssl.create_default_context(), timeout=5)\nexcept ssl.SSLCertVerificationError as e:\n    print('refused', e.verify_message)`
        : `import poplib, ssl\np = poplib.POP3('127.0.0.1', ${port}, timeout=5)\ntry:\n    p.stls(context=ssl.create_default_context())\nexcept ssl.SSLCertVerificationError as e:\n    print('refused', e.verify_message)`;
      execFile('python3', ['-c', code], { timeout: 10_000 }, (_err, stdout, stderr) => resolve(stdout + stderr));
    });

  it.each([
    ['STLS', false],
    ['implicit TLS', true],
  ] as const)('%s, a strict Python client: the alert is the reason, a warning, no error line', async (_name, implicit) => {
    const records: MemoryLogRecord[] = [];
    await using pop3 = server(records);
    const port = implicit ? (await pop3.listenTls(0)).port : (await pop3.listen(0)).port;
    expect(await strictPython(port, implicit)).toMatch(/^refused self.signed certificate/);
    await settled(records, pop3);
    expect(records.filter((r) => r.level === 'error')).toEqual([]);
    const warning = records.find((r) => r.level === 'warn' && r.event === 'tls-failed');
    expect(warning?.msg).toBe('TLS handshake failed: the client rejected our certificate (TLS alert "unknown ca")');
  });
});
