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
  /**
   * The inode the deliverer wrote the file as (`V<dev>I<ino>`, hexadecimal: Postfix's local and
   * virtual delivery, Dovecot's LDA), when the name carries one; a rename keeps it.
   */
  inode?: number;
}

const UID_CHARS = /^[\x21-\x7e]{1,70}$/;
const DEV_INO = /V[0-9A-Fa-f]{1,16}I([0-9A-Fa-f]{1,16})/;

/**
 * Parses a Maildir file name (`time.unique.host,S=n,W=n:2,flags`). The POP3 uid is the unique
 * part without the Maildir++ size fields, so a flag change by an IMAP server keeps it; one that
 * is not 1–70 printable characters is replaced by its SHA-1. @see RFC 1939 §7 (UIDL)
 */
export function parseMaildirName(name: string): MaildirName {
  const colon = name.indexOf(':');
  const base = colon === -1 ? name : name.slice(0, colon);
  const comma = base.indexOf(',');
  const unique = comma === -1 ? base : base.slice(0, comma);
  // The second dot-separated field (`M…P…Q…`), scanned in place: a restarted server parses
  // every name of a big maildrop at its first login, and split + regex cost 1 µs a name.
  const dot = unique.indexOf('.');
  const secondEnd = dot === -1 ? -1 : unique.indexOf('.', dot + 1);
  const from = dot === -1 ? unique.length : dot + 1;
  const to = secondEnd === -1 ? unique.length : secondEnd;
  const parsed: MaildirName = {
    name,
    base,
    uid: uidOf(unique),
    time: Number.parseInt(unique, 10) || 0,
    micros: numberAfter(unique, 'M', from, to, 6),
    seq: numberAfter(unique, 'Q', from, to, 15),
  };
  // `V<dev>I<ino>` (hex) in the second field: Postfix and Dovecot name files by their inode.
  const v = unique.indexOf('V', from);
  if (v !== -1 && v < to) {
    const m = DEV_INO.exec(unique.slice(v, to));
    if (m) {
      const inode = Number.parseInt(m[1]!, 16);
      if (Number.isSafeInteger(inode)) parsed.inode = inode;
    }
  }
  if (comma !== -1) {
    for (const field of base.slice(comma + 1).split(',')) {
      const m = /^([SW])=(\d{1,15})$/.exec(field);
      if (m?.[1] === 'S') parsed.rawSize = Number(m[2]);
      if (m?.[1] === 'W') parsed.wireSize = Number(m[2]);
    }
  }
  return parsed;
}

/**
 * The number after the first `letter` followed by a digit in `text[from, to)`, at most `max`
 * digits of it (what `/M(\d{1,6})/` finds), or 0.
 */
function numberAfter(text: string, letter: string, from: number, to: number, max: number): number {
  for (let at = text.indexOf(letter, from); at !== -1 && at < to; at = text.indexOf(letter, at + 1)) {
    let end = at + 1;
    while (end < to && end - at <= max) {
      const c = text.charCodeAt(end);
      if (c < 0x30 || c > 0x39) break;
      end++;
    }
    if (end > at + 1) return Number(text.slice(at + 1, end));
  }
  return 0;
}

function uidOf(unique: string): string {
  return UID_CHARS.test(unique) ? unique : createHash('sha1').update(unique).digest('hex');
}

/** Delivery order: by time, microseconds and sequence from the name, then by name. */
export function compareMaildirNames(a: MaildirName, b: MaildirName): number {
  return a.time - b.time || a.micros - b.micros || a.seq - b.seq || (a.base < b.base ? -1 : a.base > b.base ? 1 : 0);
}

// Per process on purpose: the Maildir specification makes a name unique by host, pid and a
// delivery counter of that process (`Q`); two counters in one process (say, one per store)
// could give two deliveries in one microsecond the same name but for the random part.
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
