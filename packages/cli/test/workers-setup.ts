import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '@gorgon/core';

/** An FTP site for `gorgon serve --workers` tests: a root with a file to fetch, users u1…uN, a config. */
export interface WorkersSite {
  dir: string;
  root: string;
  config: string;
  /** The passive range of the config ("40000-40039"), or undefined. */
  pasvRange: { min: number; max: number } | undefined;
  /** pub/data.bin and its SHA-256. */
  data: Buffer;
  sha256: string;
  password: string;
}

/**
 * A passive range below Linux's ephemeral ports (32768 and up), so that no outgoing connection
 * of another test holds one of its ports; random, so parallel runs rarely meet (a busy port is
 * skipped by the server anyway).
 */
export function pickPassiveRange(size: number): { min: number; max: number } {
  const min = 20_000 + Math.floor(Math.random() * 10_000);
  return { min, max: min + size - 1 };
}

export async function makeWorkersSite(options: { users: number; pasvPorts?: number; extra?: string }): Promise<WorkersSite> {
  const dir = await mkdtemp(join(tmpdir(), 'gorgon-workers-'));
  const root = join(dir, 'root');
  await mkdir(join(root, 'pub'), { recursive: true });
  await mkdir(join(root, 'up'), { recursive: true });
  const data = randomBytes(256 * 1024);
  await writeFile(join(root, 'pub', 'data.bin'), data);
  const password = 'workers-pass';
  const hash = await hashPassword(password);
  const users = Array.from({ length: options.users }, (_, i) => ({ name: `u${i + 1}`, password: hash, ftp: { perms: 'elradfmwMT' } }));
  await writeFile(join(dir, 'users.json'), JSON.stringify({ users }));
  const pasvRange = options.pasvPorts ? pickPassiveRange(options.pasvPorts) : undefined;
  const lines = [
    'ftp:',
    '  port: 0',
    `  root: ${root}`,
    '  users: users.json',
    '  fsync: false',
    ...(pasvRange ? [`  pasvRange: "${pasvRange.min}-${pasvRange.max}"`] : []),
    ...(options.extra ? [options.extra] : []),
  ];
  const config = join(dir, 'gorgon.yaml');
  await writeFile(config, `${lines.join('\n')}\n`);
  return { dir, root, config, pasvRange, data, sha256: createHash('sha256').update(data).digest('hex'), password };
}
