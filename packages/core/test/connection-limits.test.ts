import { connect as netConnect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createListener, LineSession, type Channel, type RejectReason } from '@gorgon/core';
import { leakGuard, MemoryClient } from '@gorgon/core/testing';
import { dial, waitFor } from './helpers.js';

class Greeter extends LineSession {
  constructor(channel: Channel) {
    super(channel);
    this.push(`220 hello ${channel.remoteAddress}\r\n`);
  }
  protected override onLine(line: string): void {
    if (line === 'QUIT') {
      this.push('221 bye\r\n');
      this.closeWhenDone();
    }
  }
}

const rejectReply = (reason: RejectReason): string => `421 ${reason}\r\n`;

describe('connection limits', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
  });
  afterEach(async () => {
    await guard.check();
  });

  it('maxConnections: the next one gets the reject line and is closed; a slot frees on close', async () => {
    await using listener = createListener({ name: 'lim', maxConnections: 2, rejectReply }, (ch) => new Greeter(ch));
    const { port } = await listener.listen(0);
    const a = dial(port);
    const b = dial(port);
    expect(await a.line()).toBe('220 hello 127.0.0.1');
    expect(await b.line()).toBe('220 hello 127.0.0.1');
    const c = dial(port);
    expect(await c.line()).toBe('421 max-connections');
    await c.closed();
    expect(listener.counters.rejected).toBe(1);
    expect(listener.connections).toBe(2);

    a.sendLine('QUIT');
    expect(await a.line()).toBe('221 bye');
    await a.closed();
    await waitFor(() => listener.connections === 1, 'the slot to be freed');
    const d = dial(port);
    expect(await d.line()).toBe('220 hello 127.0.0.1');
    expect(listener.counters.rejected).toBe(1);
    expect(listener.counters.connections).toBe(3);
    for (const client of [b, d]) {
      client.sendLine('QUIT');
      await client.closed();
    }
  });

  it('maxConnectionsPerIp: a second connection from one address is refused, another address is not', async () => {
    await using listener = createListener({ name: 'lim', maxConnectionsPerIp: 1, rejectReply }, (ch) => new Greeter(ch));
    const { port } = await listener.listen(0);
    const first = dial(port);
    expect(await first.line()).toBe('220 hello 127.0.0.1');
    const second = dial(port);
    expect(await second.line()).toBe('421 max-per-ip');
    await second.closed();
    // 127.0.0.2 is loopback too on Linux: another client address.
    const other = new MemoryClient(netConnect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' }));
    expect(await other.line()).toBe('220 hello 127.0.0.2');
    expect(listener.counters.rejected).toBe(1);

    first.sendLine('QUIT');
    await first.closed();
    await waitFor(() => listener.connections === 1, 'the slot to be freed');
    const again = dial(port);
    expect(await again.line()).toBe('220 hello 127.0.0.1');
    for (const client of [other, again]) {
      client.sendLine('QUIT');
      await client.closed();
    }
  });

  it('refuses without a reply line when none is configured, and counts it', async () => {
    await using listener = createListener({ name: 'lim', maxConnections: 1 }, (ch) => new Greeter(ch));
    const { port } = await listener.listen(0);
    const first = dial(port);
    expect(await first.line()).toBe('220 hello 127.0.0.1');
    const refused = dial(port);
    expect((await refused.readToEnd()).length).toBe(0);
    expect(listener.counters.rejected).toBe(1);
    first.sendLine('QUIT');
    await first.closed();
  });

  it('an accept callback that throws closes that connection only', async () => {
    let n = 0;
    await using listener = createListener({ name: 'lim' }, (ch) => {
      if (n++ === 0) throw new Error('no session for you');
      new Greeter(ch);
    });
    const { port } = await listener.listen(0);
    const failed = dial(port);
    await failed.closed();
    expect(listener.counters.errors).toBe(1);
    const ok = dial(port);
    expect(await ok.line()).toBe('220 hello 127.0.0.1');
    ok.sendLine('QUIT');
    await ok.closed();
  });
});
