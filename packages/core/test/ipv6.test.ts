import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, createListener, formatAddress, formatProxyV1, LineSession, type Channel } from '@gorgon/core';
import { leakGuard } from '@gorgon/core/testing';
import { dial } from './helpers.js';

class Echo extends LineSession {
  constructor(channel: Channel) {
    super(channel);
    this.push(`hello ${channel.remoteAddress}\r\n`);
  }
  protected override onLine(line: string): void {
    if (line === 'QUIT') {
      this.push('bye\r\n');
      this.closeWhenDone();
      return;
    }
    this.push(`echo ${line}\r\n`);
  }
}

async function canListenOn(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(0, host, () => server.close(() => resolve(true)));
  });
}
const ipv6 = await canListenOn('::1');

describe('IPv6', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
  });
  afterEach(async () => {
    await guard.check();
  });

  // Runs wherever the machine has ::1 (every Linux with IPv6 loopback).
  it.runIf(ipv6)('a listener on ::1: addresses, per-IP limits, PROXY from ::1, connect()', async () => {
    await using listener = createListener(
      { name: 'v6', maxConnectionsPerIp: 1, rejectReply: (r) => `421 ${r}\r\n`, proxyProtocol: { trusted: ['::1'] } },
      (ch) => new Echo(ch),
    );
    const address = await listener.listen(0, '::1');
    expect(address.family).toBe('IPv6');
    expect(formatAddress(address)).toBe(`[::1]:${address.port}`);
    const client = dial(address.port, '::1');
    client.send(formatProxyV1('::1', 1111, '::1', address.port));
    expect(await client.line()).toBe('hello ::1');
    const second = dial(address.port, '::1');
    second.send(formatProxyV1('::1', 2222, '::1', address.port));
    expect(await second.line()).toBe('421 max-per-ip');
    await second.closed();
    const viaProxy = dial(address.port, '::1');
    viaProxy.send(formatProxyV1('2001:db8::9', 3333, '::1', address.port));
    expect(await viaProxy.line()).toBe('hello 2001:db8::9');
    const channel = await connect({ host: '::1', port: address.port });
    expect(channel.remoteAddress).toBe('::1');
    channel.close({ flush: false });
    await channel.closed;
    for (const c of [client, viaProxy]) {
      c.sendLine('QUIT');
      await c.closed();
    }
  });
});
