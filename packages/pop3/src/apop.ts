import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The greeting's timestamp, `<pid.random.time@host>`: unique per connection, so an APOP digest
 * cannot be replayed. @see RFC 1939 §7 (APOP)
 */
export function apopTimestamp(hostname: string): string {
  const host = hostname.replace(/[^A-Za-z0-9.-]/g, '') || 'localhost';
  return `<${process.pid}.${randomBytes(8).toString('hex')}.${Date.now()}@${host}>`;
}

/** MD5 over the timestamp and the shared secret, in lower-case hex. @see RFC 1939 §7 */
export function apopDigest(timestamp: string, secret: string): string {
  return createHash('md5')
    .update(timestamp + secret, 'utf8')
    .digest('hex');
}

/**
 * Checks a client's APOP digest in constant time. With no secret (unknown user, or a user
 * without `apopSecret`) a random one is used, so the timing and the answer match a wrong digest.
 * @see RFC 1939 §7 (APOP)
 */
export function verifyApop(timestamp: string, secret: string | undefined, digest: string): boolean {
  const expected = Buffer.from(apopDigest(timestamp, secret ?? randomBytes(16).toString('hex')));
  const given = Buffer.from(digest.toLowerCase().padEnd(32, '\0').slice(0, 32), 'latin1');
  return timingSafeEqual(expected, given) && secret !== undefined && digest.length === 32;
}
