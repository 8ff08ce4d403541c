import { randomBytes, scrypt as scryptCb, timingSafeEqual, createHash, type ScryptOptions } from 'node:crypto';

/** scrypt cost parameters. N = 2^14 keeps one check near 30 ms on the thread pool. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  keyLength: number;
}

export const defaultScryptParams: ScryptParams = { N: 16384, r: 8, p: 1, keyLength: 32 };

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, keyLength, { ...options, maxmem: 256 * options.N! * options.r! }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/**
 * Hashes a password for a users file: `scrypt$N$r$p$salt$key` (salt and key in base64).
 * Runs on the libuv thread pool, never blocking the loop.
 */
export async function hashPassword(password: string, params: ScryptParams = defaultScryptParams): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, params.keyLength, { N: params.N, r: params.r, p: params.p });
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** A parsed `scrypt$…` hash, or undefined when the text is not one. */
export function parsePasswordHash(hash: string): (ScryptParams & { salt: Buffer; key: Buffer }) | undefined {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64');
  const key = Buffer.from(parts[5]!, 'base64');
  const valid = [N, r, p].every((n) => Number.isSafeInteger(n) && n > 0) && (N & (N - 1)) === 0 && N <= 2 ** 20 && r <= 32 && p <= 16;
  if (!valid || salt.length < 8 || key.length < 16 || key.length > 64) return undefined;
  return { N, r, p, keyLength: key.length, salt, key };
}

/**
 * Checks a password against a `scrypt$…` hash in constant time. An unparsable hash never
 * matches (and still costs one scrypt run, so timing does not tell it apart).
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const parsed = parsePasswordHash(hash) ?? dummyHash();
  const key = await scrypt(password, parsed.salt, parsed.key.length, { N: parsed.N, r: parsed.r, p: parsed.p });
  return timingSafeEqual(key, parsed.key) && parsed !== dummy;
}

let dummy: ReturnType<typeof parsePasswordHash>;
/** A fixed hash to verify against for unknown users, so they take as long as known ones. */
function dummyHash(): NonNullable<ReturnType<typeof parsePasswordHash>> {
  dummy ??= { ...defaultScryptParams, salt: Buffer.alloc(16, 1), key: Buffer.alloc(32, 2) };
  return dummy;
}

/** Burns one scrypt run against a dummy hash: call it for unknown users. */
export async function verifyNothing(password: string): Promise<false> {
  await verifyPassword(password, '');
  return false;
}

/** A digest of user and password, used as an auth-cache key (never stored or logged as is). */
export function credentialDigest(user: string, password: string): string {
  return createHash('sha256').update(user).update('\0').update(password).digest('base64');
}
