// Finger servers for the `finger` benchmark, one per worker process:
//   gorgon    @gorgon/finger's createFingerServer with one of three directories:
//               json    a JsonUserDirectory over a users file (what `gorgon fingerd --users` serves)
//               system  a SystemUserDirectory over a passwd file and a home with .plan and
//                       .project (what `--system-users` serves; the files are made in a temp dir)
//               memory  a MemoryUserDirectory (an embedder's in-process directory)
//   baseline  net.createServer that reads one line with indexOf, looks the login up in a Map
//             and writes the same reply text (captured from the Gorgon server), then ends
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawFingerHandler } from '../lib/finger-raw.mjs';
import { serveIpc } from '../lib/worker.mjs';

/** The user every request asks for. */
export const ALICE = {
  login: 'alice',
  name: 'Alice Liddell',
  plan: 'Down the rabbit hole; back by tea time.\nAsk the White Rabbit for the key.',
};

/** A few other users, so a lookup is not in a one-entry table. */
const OTHERS = Array.from({ length: 30 }, (_, i) => ({ login: `user${i}`, name: `User Number ${i}` }));

/** @type {string | undefined} */
let scratch;
process.on('exit', () => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** @param {any} finger @param {'json' | 'system' | 'memory'} kind */
function makeDirectory(finger, kind) {
  if (kind === 'memory') return new finger.MemoryUserDirectory([...OTHERS, ALICE]);
  scratch ??= mkdtempSync(join(tmpdir(), 'gorgon-bench-finger-'));
  if (kind === 'json') {
    const path = join(scratch, 'users.json');
    writeFileSync(path, `${JSON.stringify({ users: [...OTHERS, ALICE] }, null, 2)}\n`);
    return new finger.JsonUserDirectory(path);
  }
  // passwd(5) lines whose uid is ours, so the .plan passes the owner check.
  const uid = process.getuid?.() ?? 1000;
  const home = join(scratch, 'home', 'alice');
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, '.plan'), `${ALICE.plan}\n`);
  const lines = OTHERS.map((u, i) => `${u.login}:x:${uid}:${uid}:${u.name},,,:/nonexistent/${i}:/bin/sh`);
  lines.push(`alice:x:${uid}:${uid}:${ALICE.name},,,:${home}:/bin/sh`);
  const passwd = join(scratch, 'passwd');
  writeFileSync(passwd, `${lines.join('\n')}\n`);
  return new finger.SystemUserDirectory({ passwd, minUid: 0, maxUid: 4_000_000_000 });
}

/** @param {'json' | 'system' | 'memory'} directory */
async function gorgonServer(directory) {
  const finger = await import('../../packages/finger/dist/index.js');
  // All load comes from 127.0.0.1: lift the per-address cap (default 16) and the total cap, as
  // an operator behind a load balancer would. Everything else keeps its default.
  const server = finger.createFingerServer({
    directory: makeDirectory(finger, directory),
    maxConnections: 0,
    maxConnectionsPerIp: 0,
  });
  const address = await server.listen(0, '127.0.0.1');
  return address.port;
}

/**
 * Each call starts one more server (one per directory kind, as their replies differ).
 * @param {string} reply  the exact bytes Gorgon answers `alice` with
 */
async function baselineServer(reply) {
  const server = net.createServer({ noDelay: true }, rawFingerHandler(reply));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(undefined));
  });
  return /** @type {net.AddressInfo} */ (server.address()).port;
}

serveIpc({
  start: ({ kind, directory = 'json', reply }) => (kind === 'gorgon' ? gorgonServer(directory) : baselineServer(reply)),
});
