/**
 * The peer's address is asked of the socket (getpeername, a system call) at accept only when
 * something may read it after the connection closed; otherwise a plain TCP connection asks on
 * first use. Asked while open it is the peer's address either way (also after a STARTTLS
 * upgrade); asked first after the close, "unknown". A per-address limit, and the default of a
 * listener without `peerAtAccept`, ask at accept. Real sockets.
 */
import type * as tls from 'node:tls';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createListener, LineSession, toSecureContext, type Channel, type ListenerOptions } from '@gorgon/core';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { leakGuard, MemoryClient } from '@gorgon/core/testing';
import { dial, upgradeClient, waitFor } from './helpers.js';

let pems: { cert: string; key: string };
let secureContext: tls.SecureContext;
beforeAll(async () => {
  pems = await createDemoCertificate('localhost');
  secureContext = toSecureContext(pems);
});

/** Says hello without asking the address; `ADDR` answers it; STARTTLS upgrades; QUIT closes. */
class Quiet extends LineSession {
  static channels: Channel[] = [];
  constructor(channel: Channel) {
    super(channel);
    Quiet.channels.push(channel);
    this.push('220 hi\r\n');
  }
  protected override async onLine(line: string): Promise<void> {
    if (line === 'ADDR') this.push(`250 ${this.channel.remoteAddress} ${this.channel.remotePort > 0}\r\n`);
    else if (line === 'STARTTLS') {
      this.push('220 go ahead\r\n');
      await this.startTls({ isServer: true, secureContext });
    } else if (line === 'QUIT') {
      this.push('221 bye\r\n');
      this.closeWhenDone();
    }
  }
}

/** Says QUIT on `c`; resolves with the server's channel once it is closed. */
async function quit(c: MemoryClient): Promise<Channel> {
  c.sendLine('QUIT');
  expect(await c.line()).toBe('221 bye');
  await c.closed();
  const channel = Quiet.channels.at(-1)!;
  await waitFor(() => channel.isClosed, 'the channel to close');
  return channel;
}

/** A connection, greeted. */
async function greeted(port: number): Promise<ReturnType<typeof dial>> {
  const c = dial(port);
  expect(await c.line()).toBe('220 hi');
  return c;
}

async function listening(options: Partial<ListenerOptions>) {
  const listener = createListener({ name: 'peer', ...options }, (ch) => new Quiet(ch));
  const { port } = await listener.listen(0);
  return { listener, port };
}

describe('the peer address, asked at accept or on first use', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
    Quiet.channels = [];
  });
  afterEach(async () => {
    await guard.check();
  });

  it('peerAtAccept false: not asked at accept ("unknown" once closed), asked on first use while open', async () => {
    const { listener, port } = await listening({ peerAtAccept: () => false });
    await using _ = listener;
    expect((await quit(await greeted(port))).remoteAddress).toBe('unknown');

    const c = await greeted(port);
    c.sendLine('ADDR');
    expect(await c.line()).toBe('250 127.0.0.1 true');
    expect((await quit(c)).remoteAddress).toBe('127.0.0.1');
  });

  it('asked at accept by default, with a per-address limit, and when peerAtAccept says so', async () => {
    for (const options of [{}, { peerAtAccept: () => false, maxConnectionsPerIp: 4 }, { peerAtAccept: () => true }]) {
      const { listener, port } = await listening(options);
      await using _ = listener;
      expect((await quit(await greeted(port))).remoteAddress, JSON.stringify(options)).toBe('127.0.0.1');
    }
  });

  it('a STARTTLS upgrade asks first, while the TCP socket is the stream', async () => {
    const { listener, port } = await listening({ peerAtAccept: () => false });
    await using _ = listener;
    const plain = await greeted(port);
    plain.sendLine('STARTTLS');
    expect(await plain.line()).toBe('220 go ahead');
    const socket = await upgradeClient(plain.socket, pems.cert);
    expect((await quit(new MemoryClient(socket))).remoteAddress).toBe('127.0.0.1');
  });
});
