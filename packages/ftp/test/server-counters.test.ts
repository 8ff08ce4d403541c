/**
 * The server's `counters` add up both listeners, the control port and the implicit-FTPS port,
 * as POP3's do: a status page must not lose the FTPS sessions.
 */
import * as tls from 'node:tls';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { leakGuard, MemoryClient } from '@gorgon/core/testing';
import { testServer } from './helpers.js';
import { cmd, controlClient, login } from './socket-client.js';

let guard: ReturnType<typeof leakGuard>;
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
});

let cert: { cert: string; key: string };
beforeAll(async () => {
  cert = await createDemoCertificate('localhost');
});

describe('FtpServer.counters', () => {
  it('counts connections, commands and bytes on both the plain and the implicit-TLS listener', async () => {
    await using server = testServer({ tls: cert });
    const { port } = await server.listen(0);
    const { port: tlsPort } = await server.listenTls(0);
    const plain = await controlClient(port);
    await login(plain);
    const after = { ...server.counters };
    expect(after.connections).toBe(1);

    const socket = tls.connect({ port: tlsPort, host: '127.0.0.1', ca: cert.cert, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    const secure = new MemoryClient(socket);
    await login(secure);
    expect(await cmd(secure, 'NOOP')).toBe('200 NOOP ok.');
    const both = server.counters;
    expect(both.connections).toBe(2);
    expect(both.active).toBe(2);
    expect(both.commands).toBeGreaterThanOrEqual(after.commands + 4); // USER, PASS, TYPE, NOOP
    expect(both.bytesIn).toBeGreaterThan(after.bytesIn);
    expect(both.bytesOut).toBeGreaterThan(after.bytesOut);
    expect(server.connections).toBe(2);
    plain.end();
    secure.end();
  });
});
