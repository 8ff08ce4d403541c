import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

/** What a Maildir file name tells: its unique base, the Maildir++ sizes, and the POP3 uid. */
export interface MaildirName {
  /** The whole file name as it is in cur/ now (flags may change when another program renames it). */
  name: string;
  /** The part before `:`; never changes for a message. */
  base: string;
  /** `,S=` (octets on disk), when the deliverer wrote it. */
  rawSize?: number;
  /** `,W=` (octets with CRLF line ends), when the deliverer wrote it. */
  wireSize?: number;
  uid: string;
  /** Seconds since the epoch from the name's first field, for delivery order. */
  time: number;
  /** Microseconds (`M`) and delivery sequence (`Q`) from the second field, when present. */
  micros: number;
  seq: number;
}

const UID_CHARS = /^[\x21-\x7e]{1,70}$/;

/**
 * Parses a Maildir file name (`time.unique.host,S=n,W=n:2,flags`). The POP3 uid is the unique
 * part without the Maildir++ size fields, so a flag change by an IMAP server keeps it; one that
 * is not 1–70 printable characters is replaced by its SHA-1. @see RFC 1939 §7 (UIDL)
 */
export function parseMaildirName(name: string): MaildirName {
  const colon = name.indexOf(':');
  const base = colon === -1 ? name : name.slice(0, colon);
  const [unique = base, ...fields] = base.split(',');
  const second = unique.split('.')[1] ?? '';
  const parsed: MaildirName = {
    name,
    base,
    uid: uidOf(unique),
    time: Number.parseInt(unique, 10) || 0,
    micros: Number(/M(\d{1,6})/.exec(second)?.[1] ?? 0),
    seq: Number(/Q(\d{1,15})/.exec(second)?.[1] ?? 0),
  };
  for (const field of fields) {
    const m = /^([SW])=(\d{1,15})$/.exec(field);
    if (m?.[1] === 'S') parsed.rawSize = Number(m[2]);
    if (m?.[1] === 'W') parsed.wireSize = Number(m[2]);
  }
  return parsed;
}

function uidOf(unique: string): string {
  return UID_CHARS.test(unique) ? unique : createHash('sha1').update(unique).digest('hex');
}

/** Delivery order: by time, microseconds and sequence from the name, then by name. */
export function compareMaildirNames(a: MaildirName, b: MaildirName): number {
  return a.time - b.time || a.micros - b.micros || a.seq - b.seq || (a.base < b.base ? -1 : a.base > b.base ? 1 : 0);
}

let sequence = 0;
let lastMs = 0;
let inSameMs = 0;

/**
 * A new unique name, `seconds.MmicrosPpidQseqRrandom.host`, as the Maildir specification
 * describes; `/`, `:` and `,` in the host name are written as octal escapes.
 * @see https://cr.yp.to/proto/maildir.html
 */
export function uniqueMaildirName(now = Date.now()): string {
  const seconds = Math.floor(now / 1000);
  // Deliveries within one millisecond count up, so this process's mail sorts in arrival order.
  inSameMs = now === lastMs ? Math.min(999, inSameMs + 1) : 0;
  lastMs = now;
  const micros = String((now % 1000) * 1000 + inSameMs).padStart(6, '0');
  const host = hostname().replace(/\//g, '\\057').replace(/:/g, '\\072').replace(/,/g, '\\054') || 'localhost';
  return `${seconds}.M${micros}P${process.pid}Q${++sequence}R${randomBytes(4).toString('hex')}.${host}`;
}

/** True for names a reader must skip: dotfiles and our own lock file. */
export function isHiddenName(name: string): boolean {
  return name.startsWith('.');
}
