// FTP: STOR and APPE of files whose bytes are derived from name, version and seed, with data
// connections reset at random; and the checks of what is under final names in the root.
//
// What is checked (docs/operations.md, "Chaos soak"):
// - `s-*.bin` (STOR, one upload of a name at a time): the file equals exactly one version
//   uploaded under that name, and none older than the last version acknowledged with 226; a name
//   with an acknowledged version exists.
// - `a-*.log` (APPE, one append to a name at a time, each waiting for the previous one's reply or
//   the server's death): the file is p1 + p2 + … + pn where pk is a prefix (maybe empty, maybe
//   whole) of the k-th chunk appended, and the whole chunk when its APPE got 226.
// - `.gorgon-upload-*`: once a restarted server has logged `upload-sweep`, none of a dead process
//   is left; after the final graceful stop, none at all.
import { readdir, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { appendChunk, storContent } from './content.mjs';
import { Gone, LineConn } from './wire.mjs';
import { sleep } from './world.mjs';

const STOR_NAMES = 24;
const APPE_NAMES = 12;
const STOR_MAX_BYTES = 192 * 1024;
const APPE_MAX_BYTES = 6 * 1024;
const TEMP = /^\.gorgon-upload-(?:[0-9a-f]{8}-(\d+)-)?/;

export class FtpLedger {
  constructor() {
    /** name → versions attempted, in order: { v, acked } */
    this.stor = new Map();
    /** name → chunks attempted, in order: { k, acked } */
    this.appe = new Map();
    this.busy = new Set();
    this.maxTempSeen = 0;
  }
}

function pasvPort(reply) {
  const m = /\(\|\|\|(\d+)\|\)/.exec(reply);
  if (!m) throw new Gone(`EPSV: ${reply}`);
  return Number(m[1]);
}

function openData(port) {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', noDelay: true });
    s.once('connect', () => resolve(s));
    s.once('error', (err) => reject(new Gone(err.code ?? 'data error')));
  });
}

/** Writes `data` to the data socket in pieces; resets it after `cutAt` bytes when given. */
async function sendData(sock, data, cutAt) {
  const closed = new Promise((resolve) => sock.once('close', resolve));
  sock.on('error', () => undefined);
  const piece = 16 * 1024;
  for (let at = 0; at < data.length && !sock.destroyed; at += piece) {
    const end = Math.min(data.length, at + piece);
    if (cutAt !== undefined && end > cutAt) {
      sock.write(data.subarray(at, cutAt));
      await new Promise((r) => setImmediate(r));
      sock.resetAndDestroy();
      break;
    }
    if (!sock.write(data.subarray(at, end))) await Promise.race([new Promise((r) => sock.once('drain', r)), closed]);
  }
  if (!sock.destroyed) sock.end();
  await closed;
}

/** One upload (STOR or APPE) of `data` to `name` on a logged-in control connection. */
async function upload(world, ctl, verb, name, data, record, kind) {
  const epsv = await ctl.cmd('EPSV');
  if (!epsv.startsWith('229')) throw new Gone(`EPSV: ${epsv}`);
  const sock = await openData(pasvPort(epsv));
  world.count(kind, 'attempted');
  record.push(kind === 'STOR' ? { v: data.v, acked: false } : { k: data.k, acked: false });
  const entry = record.at(-1);
  world.inflight.ftp++;
  try {
    const prelim = await ctl.cmd(`${verb} ${name}`);
    if (!prelim.startsWith('150') && !prelim.startsWith('125')) {
      sock.destroy();
      world.count(kind, 'refused');
      return;
    }
    const cut = world.chance(world.resetProbability) ? Math.floor(world.random() * data.bytes.length) : undefined;
    await sendData(sock, data.bytes, cut);
    if (cut !== undefined) world.count(kind, 'reset');
    const final = await ctl.line(15_000);
    if (final.startsWith('226')) {
      entry.acked = true;
      world.count(kind, 'acknowledged');
    } else world.count(kind, 'refused');
  } catch (err) {
    sock.destroy();
    world.count(kind, 'unknown');
    throw err;
  } finally {
    world.inflight.ftp--;
  }
}

/** A client looping over sessions of a few uploads each until the soak stops. */
export async function ftpClient(world, ledger) {
  while (!world.stopping) {
    let ctl;
    try {
      ctl = await LineConn.open(world.ports.ftp);
      if (!(await ctl.line()).startsWith('220')) throw new Gone('greeting');
      await ctl.cmd('USER soak');
      if (!(await ctl.cmd('PASS soak')).startsWith('230')) throw new Gone('login');
      await ctl.cmd('TYPE I');
      for (let n = world.between(1, 6); n > 0 && !world.stopping; n--) {
        const stor = world.chance(0.6);
        const name = stor ? `s-${world.between(1, STOR_NAMES)}.bin` : `a-${world.between(1, APPE_NAMES)}.log`;
        if (ledger.busy.has(name)) continue;
        ledger.busy.add(name);
        try {
          const map = stor ? ledger.stor : ledger.appe;
          const record = map.get(name) ?? [];
          map.set(name, record);
          const next = record.length + 1;
          const data = stor
            ? { v: next, bytes: storContent(world.seed, name, next, STOR_MAX_BYTES) }
            : { k: next, bytes: appendChunk(world.seed, name, next, APPE_MAX_BYTES) };
          await upload(world, ctl, stor ? 'STOR' : 'APPE', name, data, record, stor ? 'STOR' : 'APPE');
        } finally {
          ledger.busy.delete(name);
        }
      }
      if (world.chance(world.resetProbability)) ctl.reset();
      else await ctl.cmd('QUIT', 3000).catch(() => undefined);
    } catch (err) {
      if (!(err instanceof Gone)) throw err;
      await sleep(20);
    } finally {
      ctl?.close();
    }
  }
}

/** Whether `file` is a concatenation of prefixes of `chunks` in order, whole where acknowledged. */
export function isPrefixConcatenation(file, chunks) {
  let positions = new Set([0]);
  for (const { bytes, acked } of chunks) {
    const next = new Set();
    for (const pos of positions) {
      let common = 0;
      const max = Math.min(bytes.length, file.length - pos);
      while (common < max && bytes[common] === file[pos + common]) common++;
      if (acked) {
        if (common === bytes.length) next.add(pos + common);
      } else for (let l = 0; l <= common; l++) next.add(pos + l);
    }
    positions = next;
    if (positions.size === 0) return false;
  }
  return positions.has(file.length);
}

/**
 * Checks the FTP root. `livePid`: temporary files of any other process are violations (the
 * restarted server has swept); undefined: none may be there at all (after a graceful stop);
 * null: not judged (the server was just killed: its temporary files wait for the next sweep).
 */
export async function ftpCheck(world, ledger, root, { livePid, contents = true }) {
  const names = await readdir(root);
  let temps = 0;
  for (const name of names) {
    const temp = TEMP.exec(name);
    if (temp) {
      temps++;
      if (livePid === null) continue;
      if (livePid === undefined || Number(temp[1]) !== livePid)
        world.violation('ftp-temp-left', `${name} left after the sweep (live pid ${livePid ?? 'none'})`);
    }
  }
  ledger.maxTempSeen = Math.max(ledger.maxTempSeen, temps);
  if (!contents) return;
  for (const name of names) {
    if (TEMP.test(name)) continue;
    const stor = ledger.stor.get(name);
    const appe = ledger.appe.get(name);
    if (!stor && !appe) {
      world.violation('ftp-unknown-file', name);
      continue;
    }
    const file = await readFile(join(root, name));
    if (stor) {
      const lastAcked = stor.findLast((r) => r.acked)?.v ?? 0;
      const match = stor.find((r) => {
        const c = storContent(world.seed, name, r.v, STOR_MAX_BYTES);
        return c.length === file.length && c.equals(file);
      });
      if (!match) world.violation('ftp-torn-file', `${name}: ${file.length} bytes equal no version uploaded (${stor.length} tried)`);
      else if (match.v < lastAcked) world.violation('ftp-old-version', `${name}: version ${match.v} but ${lastAcked} was acknowledged`);
    } else {
      const chunks = appe.map((r) => ({ bytes: appendChunk(world.seed, name, r.k, APPE_MAX_BYTES), acked: r.acked }));
      if (!isPrefixConcatenation(file, chunks))
        world.violation('ftp-bad-append', `${name}: ${file.length} bytes are not prefixes of the ${chunks.length} chunks in order`);
    }
  }
  const present = new Set(names);
  for (const [name, record] of [...ledger.stor, ...ledger.appe]) {
    if (record.some((r) => r.acked) && !present.has(name)) world.violation('ftp-lost-upload', `${name}: acknowledged, not in the root`);
  }
}
