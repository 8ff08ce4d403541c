import * as tls from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CoreError,
  createListener,
  formatProxyV1,
  formatProxyV2,
  isTrusted,
  LineSession,
  parseProxyHeader,
  trustList,
  type Channel,
  type ListenerOptions,
  type ProxyParse,
} from '@gorgon/core';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { leakGuard, MemoryClient } from '@gorgon/core/testing';
import { dial, waitFor } from './helpers.js';

const V2_SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** A hand-built v2 header: version/command byte, family byte, address block. */
function v2(verCmd: number, fam: number, body: Buffer): Buffer {
  const head = Buffer.alloc(16);
  V2_SIG.copy(head);
  head[12] = verCmd;
  head[13] = fam;
  head.writeUInt16BE(body.length, 14);
  return Buffer.concat([head, body]);
}

function ok(parse: ProxyParse): Extract<ProxyParse, { status: 'ok' }> {
  if (parse.status !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(parse)}`);
  return parse;
}

describe('parseProxyHeader', () => {
  it('v1 TCP4 and TCP6, leaving what follows', () => {
    const line = 'PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n';
    const parsed = ok(parseProxyHeader(Buffer.from(`${line}USER x\r\n`)));
    expect(parsed.length).toBe(line.length);
    expect(parsed.info).toEqual({
      version: 1,
      command: 'proxy',
      family: 'tcp4',
      sourceAddress: '192.0.2.1',
      sourcePort: 56324,
      destinationAddress: '198.51.100.2',
      destinationPort: 443,
    });
    const six = ok(parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::1 ::1 65535 0\r\n')));
    expect(six.info).toMatchObject({ family: 'tcp6', sourceAddress: '2001:db8::1', sourcePort: 65535, destinationPort: 0 });
    expect(formatProxyV1('2001:db8::1', 1, '::1', 2)).toBe('PROXY TCP6 2001:db8::1 ::1 1 2\r\n');
  });

  it('v1 UNKNOWN is a proxy health check: keep the socket address', () => {
    expect(ok(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).info).toEqual({ version: 1, command: 'local', family: 'unknown' });
    expect(ok(parseProxyHeader(Buffer.from('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n'))).info.command).toBe('local');
  });

  it('every proper prefix of a header is incomplete (v1 and v2, IPv4 and IPv6)', () => {
    const headers = [
      Buffer.from(formatProxyV1('203.0.113.9', 1234, '127.0.0.1', 110)),
      formatProxyV2('203.0.113.9', 1234, '127.0.0.1', 110),
      formatProxyV2('2001:db8::7', 1234, '::1', 110),
    ];
    for (const header of headers) {
      for (let n = 0; n < header.length; n++) {
        expect(parseProxyHeader(header.subarray(0, n)).status).toBe('incomplete');
      }
      expect(ok(parseProxyHeader(header)).length).toBe(header.length);
    }
  });

  it.each([
    ['not a header at all', 'USER alice\r\n'],
    ['an HTTP request', 'GET / HTTP/1.0\r\n'],
    ['a bad family', 'PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['a bad address', 'PROXY TCP4 1.2.3.999 5.6.7.8 1 2\r\n'],
    ['an IPv6 address in TCP4', 'PROXY TCP4 ::1 ::1 1 2\r\n'],
    ['a port out of range', 'PROXY TCP4 1.2.3.4 5.6.7.8 70000 2\r\n'],
    ['a signed port', 'PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n'],
    ['a missing field', 'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'],
    ['an extra field', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n'],
    ['a bare LF line end past the limit', `PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n${'x'.repeat(120)}`],
    ['a line past 107 bytes', `PROXY TCP6 ${'a'.repeat(120)}\r\n`],
  ])('v1: refuses %s', (_what, text) => {
    expect(parseProxyHeader(Buffer.from(text)).status).toBe('invalid');
  });

  it('v2 IPv4, IPv6, IPv4-mapped IPv6, LOCAL, and TLVs after the addresses', () => {
    expect(ok(parseProxyHeader(formatProxyV2('198.51.100.20', 40000, '10.0.0.1', 995))).info).toEqual({
      version: 2,
      command: 'proxy',
      family: 'tcp4',
      sourceAddress: '198.51.100.20',
      sourcePort: 40000,
      destinationAddress: '10.0.0.1',
      destinationPort: 995,
    });
    const six = ok(parseProxyHeader(formatProxyV2('2001:db8:0:0:0:0:0:42', 1, 'fe80::1', 2))).info;
    expect(six).toMatchObject({ family: 'tcp6', sourceAddress: '2001:db8::42', destinationAddress: 'fe80::1' });
    const mapped = ok(parseProxyHeader(formatProxyV2('::ffff:192.0.2.5', 7, '::1', 8))).info;
    expect(mapped.sourceAddress).toBe('::ffff:192.0.2.5');
    expect(ok(parseProxyHeader(v2(0x20, 0x00, Buffer.alloc(0)))).info).toEqual({ version: 2, command: 'local', family: 'unknown' });
    const withTlv = Buffer.concat([
      formatProxyV2('192.0.2.1', 1, '192.0.2.2', 2).subarray(16),
      Buffer.from([0x01, 0x00, 0x02, 0x68, 0x32]),
    ]);
    const parsed = ok(parseProxyHeader(Buffer.concat([v2(0x21, 0x11, withTlv), Buffer.from('after')])));
    expect(parsed.length).toBe(16 + withTlv.length);
    expect(parsed.info.sourceAddress).toBe('192.0.2.1');
  });

  it.each([
    ['version 1 in a v2 signature', v2(0x11, 0x11, Buffer.alloc(12))],
    ['an unknown command', v2(0x22, 0x11, Buffer.alloc(12))],
    ['a short IPv4 block', v2(0x21, 0x11, Buffer.alloc(8))],
    ['a short IPv6 block', v2(0x21, 0x21, Buffer.alloc(20))],
    ['an unknown family', v2(0x21, 0x41, Buffer.alloc(12))],
    ['a length past the limit', v2(0x21, 0x11, Buffer.alloc(4000))],
  ])('v2: refuses %s', (_what, header) => {
    expect(parseProxyHeader(header).status).toBe('invalid');
  });

  it('trust lists take addresses and subnets of both families and refuse anything else', () => {
    const list = trustList(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
    expect(isTrusted(list, '127.0.0.1')).toBe(true);
    expect(isTrusted(list, '10.20.30.40')).toBe(true);
    expect(isTrusted(list, '11.0.0.1')).toBe(false);
    expect(isTrusted(list, 'fd12::1')).toBe(true);
    expect(isTrusted(list, '::1')).toBe(false);
    expect(isTrusted(list, 'local')).toBe(false);
    expect(() => trustList(['proxy.example.com'])).toThrow(CoreError);
  });
});

/** Reports the address it sees for every line, and the line itself. */
class Who extends LineSession {
  constructor(channel: Channel) {
    super(channel);
    this.push(`hello ${channel.remoteAddress} ${channel.remotePort}\r\n`);
  }
  protected override onLine(line: string): void {
    this.push(`line ${line}\r\n`);
  }
}

describe('PROXY protocol on a listener', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
  });
  afterEach(async () => {
    await guard.check();
  });

  async function listen(options: Partial<ListenerOptions> = {}) {
    const listener = createListener(
      { name: 'proxied', proxyProtocol: { trusted: ['127.0.0.1'], timeoutMs: 2000 }, ...options },
      (ch) => new Who(ch),
    );
    const { port } = await listener.listen(0);
    return { listener, port };
  }

  it('v1 from a trusted peer: the header gives the client address; input after it is served', async () => {
    const { listener, port } = await listen();
    await using _ = listener;
    const client = dial(port);
    client.send(`${formatProxyV1('203.0.113.7', 50123, '127.0.0.1', port)}NOOP\r\n`);
    expect(await client.lines(2)).toEqual(['hello 203.0.113.7 50123', 'line NOOP']);
    expect([...listener.channels][0]!.remoteAddress).toBe('203.0.113.7');
    client.end();
    await client.closed();
  });

  it('v2 (IPv6 source) from a trusted peer, header split across writes', async () => {
    const { listener, port } = await listen();
    await using _ = listener;
    const client = dial(port);
    const header = formatProxyV2('2001:db8::5', 4242, '::1', port);
    client.send(header.subarray(0, 5));
    await new Promise((resolve) => setTimeout(resolve, 5));
    client.send(header.subarray(5, 20));
    await new Promise((resolve) => setTimeout(resolve, 5));
    client.send(Buffer.concat([header.subarray(20), Buffer.from('NOOP\r\n')]));
    expect(await client.lines(2)).toEqual(['hello 2001:db8::5 4242', 'line NOOP']);
    client.end();
    await client.closed();
  });

  it('an IPv4-mapped v2 source is counted as plain IPv4', async () => {
    const { listener, port } = await listen();
    await using _ = listener;
    const client = dial(port);
    client.send(formatProxyV2('::ffff:198.51.100.1', 1000, '::ffff:127.0.0.1', port));
    expect(await client.line()).toBe('hello 198.51.100.1 1000');
    client.end();
    await client.closed();
  });

  it('v2 LOCAL (a health check) keeps the socket address', async () => {
    const { listener, port } = await listen();
    await using _ = listener;
    const client = dial(port);
    client.send(v2(0x20, 0x00, Buffer.alloc(0)));
    expect(await client.line()).toMatch(/^hello 127\.0\.0\.1 \d+$/);
    client.end();
    await client.closed();
  });

  it('from an untrusted peer the header is ignored: the line reaches the session as input', async () => {
    const { listener, port } = await listen({ proxyProtocol: { trusted: ['10.0.0.0/8'] } });
    await using _ = listener;
    const client = dial(port);
    const header = formatProxyV1('203.0.113.7', 50123, '127.0.0.1', port);
    expect(await client.line()).toMatch(/^hello 127\.0\.0\.1 \d+$/);
    client.send(header);
    expect(await client.line()).toBe(`line ${header.trimEnd()}`);
    expect([...listener.channels][0]!.remoteAddress).toBe('127.0.0.1');
    client.end();
    await client.closed();
  });

  it.each([
    ['a malformed v1 header', Buffer.from('PROXY TCP4 1.2.3.4 nonsense\r\nNOOP\r\n')],
    ['no header at all', Buffer.from('NOOP\r\n')],
    ['a malformed v2 header', v2(0x2f, 0x11, Buffer.alloc(12))],
  ])('from a trusted peer, %s closes the connection before any session', async (_what, bytes) => {
    const { listener, port } = await listen();
    await using _ = listener;
    const client = dial(port);
    client.send(bytes);
    expect((await client.readToEnd()).length).toBe(0);
    expect(listener.counters.connections).toBe(0);
    expect(listener.counters.errors).toBe(1);
  });

  it('a trusted peer that sends no header in time is closed', async () => {
    const { listener, port } = await listen({ proxyProtocol: { trusted: ['127.0.0.1'], timeoutMs: 50 } });
    await using _ = listener;
    const client = dial(port);
    await client.closed();
    expect(listener.counters.connections).toBe(0);
  });

  it('per-IP limits count the PROXY source address', async () => {
    const { listener, port } = await listen({ maxConnectionsPerIp: 1, rejectReply: (r) => `421 ${r}\r\n` });
    await using _ = listener;
    const first = dial(port);
    first.send(formatProxyV1('203.0.113.7', 1, '127.0.0.1', port));
    expect(await first.line()).toBe('hello 203.0.113.7 1');
    const sameSource = dial(port);
    sameSource.send(formatProxyV1('203.0.113.7', 2, '127.0.0.1', port));
    expect(await sameSource.line()).toBe('421 max-per-ip');
    await sameSource.closed();
    const otherSource = dial(port);
    otherSource.send(formatProxyV1('203.0.113.8', 3, '127.0.0.1', port));
    expect(await otherSource.line()).toBe('hello 203.0.113.8 3');
    expect(listener.counters.rejected).toBe(1);
    for (const c of [first, otherSource]) {
      c.end();
      await c.closed();
    }
  });

  it('PROXY header followed by an implicit TLS handshake', async () => {
    const pems = await createDemoCertificate('localhost');
    const { listener, port } = await listen({ tls: pems });
    await using _ = listener;
    const raw = dial(port);
    raw.send(formatProxyV1('192.0.2.44', 6000, '127.0.0.1', port));
    const socket = tls.connect({ socket: raw.socket, ca: pems.cert, servername: 'localhost' });
    const client = new MemoryClient(socket);
    expect(await client.line()).toBe('hello 192.0.2.44 6000');
    expect([...listener.channels][0]!.secure).toBe(true);
    client.end();
    await client.closed();
    await waitFor(() => listener.connections === 0, 'the session to close');
  });
});
