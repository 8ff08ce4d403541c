import { BlockList, isIP, isIPv4, isIPv6, type Socket } from 'node:net';
import { CoreError } from './errors.js';

/** The connection as the proxy saw it. @see HAProxy "The PROXY protocol" v1 and v2 */
export interface ProxyInfo {
  version: 1 | 2;
  /** LOCAL (v2) or UNKNOWN (v1): a health check from the proxy itself; keep the socket's address. */
  command: 'proxy' | 'local';
  family: 'tcp4' | 'tcp6' | 'unix' | 'unknown';
  sourceAddress?: string;
  sourcePort?: number;
  destinationAddress?: string;
  destinationPort?: number;
}

/** The outcome of parsing the start of a connection's input. */
export type ProxyParse =
  | { status: 'incomplete' }
  | { status: 'invalid'; reason: string }
  | { status: 'ok'; info: ProxyInfo; length: number };

const V1_PREFIX = Buffer.from('PROXY ');
const V1_MAX = 107; // the longest v1 line, CRLF included
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** The longest v2 header accepted: addresses plus a generous allowance of TLVs. */
export const PROXY_V2_MAX = 16 + 2048;

function isPrefixOf(buf: Buffer, of: Buffer): boolean {
  const n = Math.min(buf.length, of.length);
  return buf.compare(of, 0, n, 0, n) === 0;
}

/** Parses a PROXY v1 or v2 header at the start of `buf`. */
export function parseProxyHeader(buf: Buffer): ProxyParse {
  if (buf.length === 0) return { status: 'incomplete' };
  if (isPrefixOf(buf, V2_SIGNATURE)) return buf.length < 16 ? { status: 'incomplete' } : parseV2(buf);
  if (isPrefixOf(buf, V1_PREFIX)) return buf.length < V1_PREFIX.length ? { status: 'incomplete' } : parseV1(buf);
  return { status: 'invalid', reason: 'no PROXY header' };
}

function parseV1(buf: Buffer): ProxyParse {
  const end = buf.indexOf('\r\n');
  if (end === -1 || end + 2 > V1_MAX) {
    return buf.length >= V1_MAX ? { status: 'invalid', reason: 'v1 header too long' } : { status: 'incomplete' };
  }
  const fields = buf.toString('latin1', 0, end).split(' ');
  const family = fields[1];
  if (family === 'UNKNOWN') return { status: 'ok', length: end + 2, info: { version: 1, command: 'local', family: 'unknown' } };
  if ((family !== 'TCP4' && family !== 'TCP6') || fields.length !== 6) {
    return { status: 'invalid', reason: 'v1 header malformed' };
  }
  const [, , src, dst, sport, dport] = fields as [string, string, string, string, string, string];
  const check = family === 'TCP4' ? isIPv4 : isIPv6;
  const port = (p: string): number => (/^\d{1,5}$/.test(p) && Number(p) <= 65535 ? Number(p) : -1);
  if (!check(src) || !check(dst) || port(sport) < 0 || port(dport) < 0) {
    return { status: 'invalid', reason: 'v1 header has bad addresses' };
  }
  return {
    status: 'ok',
    length: end + 2,
    info: {
      version: 1,
      command: 'proxy',
      family: family === 'TCP4' ? 'tcp4' : 'tcp6',
      sourceAddress: src,
      sourcePort: port(sport),
      destinationAddress: dst,
      destinationPort: port(dport),
    },
  };
}

function parseV2(buf: Buffer): ProxyParse {
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) return { status: 'invalid', reason: 'v2 header has a bad version' };
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return { status: 'invalid', reason: 'v2 header has a bad command' };
  const famByte = buf[13]!;
  const length = 16 + buf.readUInt16BE(14);
  if (length > PROXY_V2_MAX) return { status: 'invalid', reason: 'v2 header too long' };
  if (buf.length < length) return { status: 'incomplete' };
  if (cmd === 0) return { status: 'ok', length, info: { version: 2, command: 'local', family: 'unknown' } };
  const fam = famByte >> 4;
  const body = buf.subarray(16, length);
  if (fam === 1 && body.length >= 12) {
    return {
      status: 'ok',
      length,
      info: {
        version: 2,
        command: 'proxy',
        family: 'tcp4',
        sourceAddress: [...body.subarray(0, 4)].join('.'),
        destinationAddress: [...body.subarray(4, 8)].join('.'),
        sourcePort: body.readUInt16BE(8),
        destinationPort: body.readUInt16BE(10),
      },
    };
  }
  if (fam === 2 && body.length >= 36) {
    return {
      status: 'ok',
      length,
      info: {
        version: 2,
        command: 'proxy',
        family: 'tcp6',
        sourceAddress: ipv6(body.subarray(0, 16)),
        destinationAddress: ipv6(body.subarray(16, 32)),
        sourcePort: body.readUInt16BE(32),
        destinationPort: body.readUInt16BE(34),
      },
    };
  }
  if (fam === 0 || fam === 3)
    return { status: 'ok', length, info: { version: 2, command: 'proxy', family: fam === 3 ? 'unix' : 'unknown' } };
  return { status: 'invalid', reason: 'v2 header has a bad address family or length' };
}

function ipv6(bytes: Buffer): string {
  // An IPv4-mapped source (::ffff:a.b.c.d) is an IPv4 client: give the dotted form, which
  // normaliseAddress reduces to plain IPv4, so per-address limits see one form.
  if (bytes.readBigUInt64BE(0) === 0n && bytes.readUInt16BE(8) === 0 && bytes.readUInt16BE(10) === 0xffff) {
    return `::ffff:${[...bytes.subarray(12, 16)].join('.')}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // Let the URL parser produce the canonical compressed form.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/** Builds a v1 header line (for tests and for clients that sit behind nothing). */
export function formatProxyV1(src: string, srcPort: number, dst: string, dstPort: number): string {
  const family = isIP(src) === 6 ? 'TCP6' : 'TCP4';
  return `PROXY ${family} ${src} ${dst} ${srcPort} ${dstPort}\r\n`;
}

/** Builds a v2 PROXY header for TCP over IPv4 or, when `src` is an IPv6 address, IPv6. */
export function formatProxyV2(src: string, srcPort: number, dst: string, dstPort: number): Buffer {
  const v6 = isIPv6(src);
  const size = v6 ? 36 : 12;
  const head = Buffer.alloc(16 + size);
  V2_SIGNATURE.copy(head, 0);
  head[12] = 0x21; // version 2, PROXY
  head[13] = v6 ? 0x21 : 0x11; // TCP over IPv6 / IPv4
  head.writeUInt16BE(size, 14);
  const bytes = v6 ? ipv6Bytes : ipv4Bytes;
  bytes(src).copy(head, 16);
  bytes(dst).copy(head, v6 ? 32 : 20);
  head.writeUInt16BE(srcPort, v6 ? 48 : 24);
  head.writeUInt16BE(dstPort, v6 ? 50 : 26);
  return head;
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

function ipv6Bytes(address: string): Buffer {
  const out = Buffer.alloc(16);
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  groups.forEach((group, i) => {
    out.writeUInt16BE(parseInt(group, 16), i * 2);
  });
  return out;
}

/** A set of trusted proxy addresses and subnets ("127.0.0.1", "10.0.0.0/8", "::1"). */
export function trustList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const type = isIPv6(address) ? 'ipv6' : 'ipv4';
    if (!isIP(address)) throw new CoreError('proxy-header', `not an IP address in the PROXY trust list: ${entry}`);
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

/** True when `address` is in `list`, in either of its IPv4 forms. */
export function isTrusted(list: BlockList, address: string): boolean {
  const type = isIPv6(address) ? 'ipv6' : 'ipv4';
  return isIP(address) !== 0 && list.check(address, type);
}

/**
 * Reads a PROXY header off the start of a socket, leaving everything after it unread. Rejects
 * on a malformed header, a connection without one, or `timeoutMs` without a complete header.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number): Promise<ProxyInfo> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const finish = (err: Error | undefined, info?: ProxyInfo): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onClose);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve(info!);
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const parsed = parseProxyHeader(buffered);
      if (parsed.status === 'incomplete') return;
      socket.pause();
      if (parsed.status === 'invalid') {
        finish(new CoreError('proxy-header', parsed.reason));
        return;
      }
      const rest = buffered.subarray(parsed.length);
      if (rest.length > 0) socket.unshift(rest);
      finish(undefined, parsed.info);
    };
    const onClose = (): void => finish(new CoreError('proxy-header', 'closed before the PROXY header'));
    const timer = setTimeout(() => finish(new CoreError('timeout', 'no PROXY header in time')), timeoutMs);
    timer.unref();
    socket.on('data', onData);
    socket.on('end', onClose);
    socket.on('close', onClose);
  });
}
