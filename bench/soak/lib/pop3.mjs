// POP3: deliveries written the way an MTA writes them (tmp/, then a rename into new/, no size
// in the name, so the server measures and keeps its size cache), sessions that RETR and check
// bytes, DELE some and QUIT (or reset instead), and the checks of the Maildirs.
//
// What is checked: every message delivered is in its Maildir (new/ or cur/) exactly once with
// the bytes delivered, unless a session that DELEted it got +OK to QUIT (then it is gone) or
// lost its QUIT reply (then either); a session reset before QUIT deleted nothing. A RETR returns
// the bytes delivered, and no message id twice in one listing. After the final restart, a login
// to each Maildir and a graceful stop: no lock, lock template, moved-aside lock or cache
// temporary file is left.
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { textOf } from './content.mjs';
import { Gone, LineConn } from './wire.mjs';
import { Mutex, sleep } from './world.mjs';

export const USERS = ['u0', 'u1', 'u2', 'u3'];
const MAX_WAITING = 150;
const ID = /^Message-ID: (<[^>]+>)$/im;

export class Pop3Ledger {
  constructor(root) {
    this.root = root;
    /** id → { user, bytes (LF line ends, as on disk), state: 'present' | 'deleted' | 'maybe' } */
    this.messages = new Map();
    this.gate = new Mutex();
    this.n = 0;
    this.maxLeftovers = 0;
  }
}

export async function pop3Setup(root) {
  for (const u of USERS) for (const d of ['tmp', 'new', 'cur']) await mkdir(join(root, u, d), { recursive: true });
}

/** Delivers one message like an MTA: written in tmp/, renamed into new/. */
async function deliverOne(world, ledger) {
  const user = world.pick(USERS);
  const waiting = [...ledger.messages.values()].filter((m) => m.user === user && m.state !== 'deleted').length;
  if (waiting > MAX_WAITING) return;
  const n = ++ledger.n;
  const id = `<m-${n}.${world.seed}@soak.example>`;
  const body = textOf(200 + Math.floor(world.random() * 6000), 'mail', world.seed, n);
  const bytes = Buffer.from(
    `From: soak@example.org\nTo: ${user}@example.org\nSubject: message ${n}\nMessage-ID: ${id}\n\n${body}`,
    'latin1',
  );
  const name = `${Date.now()}.M${n}P${process.pid}.soak`;
  await ledger.gate.run(async () => {
    await writeFile(join(ledger.root, user, 'tmp', name), bytes);
    await rename(join(ledger.root, user, 'tmp', name), join(ledger.root, user, 'new', name));
    ledger.messages.set(id, { user, bytes, state: 'present' });
  });
  world.count('deliver', 'attempted');
  world.count('deliver', 'acknowledged');
}

export async function deliverer(world, ledger) {
  while (!world.stopping) {
    await deliverOne(world, ledger);
    await sleep(world.between(5, 40));
  }
}

/** A RETR's lines back to the bytes on disk (LF line ends). */
function fromWire(lines) {
  return Buffer.from(`${lines.join('\n')}\n`, 'latin1');
}

/** One session: login, LIST, RETR a few, DELE some, QUIT (or a reset). */
async function session(world, ledger, user) {
  const c = await LineConn.open(world.ports.pop3);
  try {
    if (!(await c.line()).startsWith('+OK')) throw new Gone('greeting');
    await c.cmd(`USER ${user}`);
    world.count('login', 'attempted');
    const pass = await c.cmd('PASS soak');
    if (!pass.startsWith('+OK')) {
      // in use by another session (its lock): fine, later
      world.count('login', 'refused');
      return;
    }
    world.count('login', 'acknowledged');
    if (!(await c.cmd('LIST')).startsWith('+OK')) throw new Gone('LIST');
    const listed = (await c.dotBlock()).map((l) => Number(l.split(' ')[0]));
    const seen = new Map();
    const dele = [];
    for (let i = Math.min(listed.length, world.between(0, 6)); i > 0; i--) {
      const n = world.pick(listed);
      world.count('RETR', 'attempted');
      if (!(await c.cmd(`RETR ${n}`)).startsWith('+OK')) throw new Gone('RETR');
      const bytes = fromWire(await c.dotBlock());
      world.count('RETR', 'acknowledged');
      const id = ID.exec(bytes.toString('latin1'))?.[1];
      const m = id && ledger.messages.get(id);
      if (!m) {
        world.violation('pop3-unknown-message', `${user} #${n}: ${id ?? 'no Message-ID'}`);
        continue;
      }
      if (!m.bytes.equals(bytes)) world.violation('pop3-retr-bytes', `${id}: RETR gave ${bytes.length} bytes, ${m.bytes.length} delivered`);
      if (m.state === 'deleted') world.violation('pop3-resurrected', `${id}: deleted with an acknowledged QUIT, RETR gave it again`);
      // RETR of one number twice is fine; one id under two numbers is a duplicate.
      if (seen.has(id) && seen.get(id) !== n) world.violation('pop3-duplicate', `${id}: listed as #${seen.get(id)} and #${n}`);
      seen.set(id, n);
      m.state = m.state === 'maybe' ? 'present' : m.state;
      if (world.chance(0.6) && !dele.some((d) => d.n === n)) dele.push({ n, id });
    }
    for (const d of dele) {
      world.count('DELE', 'attempted');
      if ((await c.cmd(`DELE ${d.n}`)).startsWith('+OK')) world.count('DELE', 'acknowledged');
    }
    if (world.chance(world.resetProbability)) {
      // Nothing may be deleted: DELE only marks, and the session never reached UPDATE.
      c.reset();
      world.count('QUIT', 'reset');
      return;
    }
    world.count('QUIT', 'attempted');
    world.inflight.pop3++;
    let reply;
    try {
      reply = await c.cmd('QUIT', 10_000);
    } catch (err) {
      for (const d of dele) {
        const m = ledger.messages.get(d.id);
        if (m.state !== 'deleted') m.state = 'maybe';
      }
      world.count('QUIT', 'unknown');
      throw err;
    } finally {
      world.inflight.pop3--;
    }
    const ok = reply.startsWith('+OK');
    world.count('QUIT', ok ? 'acknowledged' : 'refused');
    for (const d of dele) {
      const m = ledger.messages.get(d.id);
      if (ok) m.state = 'deleted';
      else if (m.state !== 'deleted') m.state = 'maybe';
    }
  } finally {
    c.close();
  }
}

export async function pop3Client(world, ledger) {
  while (!world.stopping) {
    try {
      await session(world, ledger, world.pick(USERS));
    } catch (err) {
      if (!(err instanceof Gone)) throw err;
      await sleep(20);
    }
  }
}

/** One login per Maildir (breaks a dead process's lock, sweeps leftovers), then QUIT. */
export async function pop3TouchAll(world) {
  for (const user of USERS) {
    for (let attempt = 0; ; attempt++) {
      const c = await LineConn.open(world.ports.pop3);
      try {
        await c.line();
        await c.cmd(`USER ${user}`);
        const pass = await c.cmd('PASS soak');
        await c.cmd('QUIT');
        if (pass.startsWith('+OK')) break;
        if (attempt > 50) throw new Error(`pop3: cannot log in as ${user}: ${pass}`);
      } finally {
        c.close();
      }
      await sleep(100);
    }
  }
}

const LEFTOVER = /^(?:gorgon-pop3\.lock\.stale-|\.gorgon-pop3\.(?:sizes|index)\.\d+\.)/;

/** Checks the Maildirs against the ledger; `final`: nothing of a lock may be left either. */
export async function pop3Check(world, ledger, { final }) {
  await ledger.gate.run(async () => {
    const found = new Map();
    let leftovers = 0;
    for (const user of USERS) {
      const dir = join(ledger.root, user);
      for (const name of await readdir(dir)) {
        if (LEFTOVER.test(name)) {
          leftovers++;
          if (final) world.violation('pop3-leftover', `${user}/${name}`);
        }
        if (final && name === 'gorgon-pop3.lock') world.violation('pop3-lock-left', `${user}/${name}`);
      }
      const tmp = await readdir(join(dir, 'tmp'));
      if (tmp.length > 0) world.violation('pop3-tmp', `${user}/tmp: ${tmp.length} file(s)`);
      for (const sub of ['new', 'cur']) {
        for (const name of await readdir(join(dir, sub))) {
          const bytes = await readFile(join(dir, sub, name));
          const id = ID.exec(bytes.toString('latin1'))?.[1];
          if (!id) {
            world.violation('pop3-unknown-file', `${user}/${sub}/${name}`);
            continue;
          }
          found.set(id, (found.get(id) ?? 0) + 1);
          const m = ledger.messages.get(id);
          if (!m) world.violation('pop3-unknown-message', `${user}/${sub}/${name}: ${id}`);
          else if (!m.bytes.equals(bytes))
            world.violation('pop3-torn-message', `${user}/${sub}/${name}: ${bytes.length} bytes, ${m.bytes.length} delivered`);
          else if (m.user !== user) world.violation('pop3-wrong-maildir', `${id} in ${user}, delivered to ${m.user}`);
        }
      }
    }
    ledger.maxLeftovers = Math.max(ledger.maxLeftovers, leftovers);
    for (const [id, m] of ledger.messages) {
      const n = found.get(id) ?? 0;
      if (n > 1) world.violation('pop3-duplicate', `${id}: ${n} copies`);
      if (n === 0 && m.state === 'present')
        world.violation('pop3-lost', `${id} (${m.user}): not deleted by an acknowledged QUIT, not in the Maildir`);
      if (n > 0 && m.state === 'deleted') world.violation('pop3-not-deleted', `${id} (${m.user}): DELE + QUIT acknowledged, still there`);
    }
    if (final) {
      const templates = (await readdir(ledger.root)).filter((n) => n.startsWith('.gorgon-pop3-lock-'));
      for (const t of templates) world.violation('pop3-template-left', t);
    }
  });
}
