// NNTP: POSTs (some cut mid-article by a reset, some repeating an id already taken), a
// streaming feed (MODE STREAM, pipelined TAKETHIS), ARTICLE reads by message-id; and the checks
// of the spool's files.
//
// What is checked: an article acknowledged (240, 239) is served by ARTICLE <id> with its body,
// and after the final graceful stop is in the spool (article file, overview line, history row)
// with that body; an id already acknowledged is refused when offered again (441, 439); an
// article cut by a reset is never stored; no article number ever names two message-ids (every
// number seen in articles/ and overview/ across all checks is remembered) and no id is under
// two numbers; the high water mark in active is at least the highest number; tmp/ is empty
// after the final stop.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { textOf } from './content.mjs';
import { dotStuffed, Gone, LineConn } from './wire.mjs';
import { sleep } from './world.mjs';

export const GROUP = 'soak.test';
const ID = /^Message-ID:\s*(<[^>]+>)\s*$/im;

export class NntpLedger {
  constructor(spool) {
    this.spool = spool;
    /** id → { body, acked: boolean, cut: boolean } */
    this.articles = new Map();
    this.acked = [];
    this.n = 0;
    /** article number → id, from every check */
    this.numbers = new Map();
    /**
     * Whether new articles are posted. The spool keeps every article's overview and history
     * in memory by design (docs/nntp.md), so the memory phase offers only duplicates (the
     * same parsing, lookups and refusals) and memory can be judged on a data set that does not grow.
     */
    this.grow = true;
  }
}

function makeArticle(world, ledger, prefix, transit) {
  const n = ++ledger.n;
  const id = `<${prefix}-${n}.${world.seed}@soak.example>`;
  const body = textOf(100 + Math.floor(world.random() * 3000), 'news', world.seed, prefix, n);
  const head = [
    'From: Soak <soak@example.org>',
    `Newsgroups: ${GROUP}`,
    `Subject: ${prefix} ${n}`,
    `Message-ID: ${id}`,
    `Date: ${new Date().toUTCString()}`,
    ...(transit ? ['Path: peer.example!not-for-mail'] : []),
  ];
  const text = `${head.join('\n')}\n\n${body}`;
  const entry = { body, acked: false, cut: false };
  ledger.articles.set(id, entry);
  return { id, wire: dotStuffed(text), entry };
}

function acked(world, ledger, kind, id, entry) {
  if (entry.cut) world.violation('nntp-cut-accepted', `${id}: cut by a reset, yet acknowledged`);
  if (!entry.acked) ledger.acked.push(id);
  entry.acked = true;
  world.count(kind, 'acknowledged');
}

async function greet(port) {
  const c = await LineConn.open(port);
  if (!/^20[01]/.test(await c.line())) {
    c.close();
    throw new Gone('greeting');
  }
  return c;
}

async function poster(world, ledger) {
  const c = await greet(world.ports.nntp);
  try {
    for (let i = world.between(1, 8); i > 0 && !world.stopping; i--) {
      // Now and then (in the memory phase, always), an id already acknowledged: must be refused
      // as a duplicate.
      if (ledger.acked.length > 0 && (!ledger.grow || world.chance(0.08))) {
        const id = world.pick(ledger.acked);
        if (!(await c.cmd('POST')).startsWith('340')) throw new Gone('POST');
        const text = `From: x@example.org\nNewsgroups: ${GROUP}\nSubject: again\nMessage-ID: ${id}\n\nagain\n`;
        world.count('POST-duplicate', 'attempted');
        c.send(dotStuffed(text));
        const r = await c.line();
        if (r.startsWith('240')) world.violation('nntp-duplicate-accepted', `POST ${id} accepted twice`);
        else world.count('POST-duplicate', 'refused');
        continue;
      }
      const a = makeArticle(world, ledger, 'p', false);
      if (!(await c.cmd('POST')).startsWith('340')) throw new Gone('POST');
      world.count('POST', 'attempted');
      if (world.chance(world.resetProbability)) {
        a.entry.cut = true;
        c.send(a.wire.slice(0, Math.floor(world.random() * (a.wire.length - 5))));
        await sleep(1);
        c.reset();
        world.count('POST', 'reset');
        return;
      }
      world.inflight.nntp++;
      let r;
      try {
        c.send(a.wire);
        r = await c.line();
      } catch (err) {
        world.count('POST', 'unknown');
        throw err;
      } finally {
        world.inflight.nntp--;
      }
      if (r.startsWith('240')) acked(world, ledger, 'POST', a.id, a.entry);
      else world.count('POST', 'refused');
    }
    await c.cmd('QUIT', 2000).catch(() => undefined);
  } finally {
    c.close();
  }
}

async function streamer(world, ledger) {
  const c = await greet(world.ports.nntp);
  try {
    if (!(await c.cmd('MODE STREAM')).startsWith('203')) throw new Gone('MODE STREAM');
    for (let i = world.between(1, 6); i > 0 && !world.stopping; i--) {
      const batch = [];
      for (let j = world.between(1, 8); j > 0; j--) {
        if (ledger.acked.length > 0 && (!ledger.grow || world.chance(0.1))) {
          const id = world.pick(ledger.acked);
          const text = `From: x@example.org\nNewsgroups: ${GROUP}\nSubject: again\nMessage-ID: ${id}\nPath: peer.example\nDate: ${new Date().toUTCString()}\n\nagain\n`;
          batch.push({ id, wire: dotStuffed(text), dup: true });
        } else batch.push({ ...makeArticle(world, ledger, 't', true), dup: false });
      }
      // Pipelined: every TAKETHIS and its article at once, then the answers in order.
      c.send(batch.map((b) => `TAKETHIS ${b.id}\r\n${b.wire}`).join(''));
      for (const b of batch) world.count(b.dup ? 'TAKETHIS-duplicate' : 'TAKETHIS', 'attempted');
      world.inflight.nntp++;
      try {
        for (const b of batch) {
          let r;
          try {
            r = await c.line();
          } catch (err) {
            world.count(b.dup ? 'TAKETHIS-duplicate' : 'TAKETHIS', 'unknown');
            throw err;
          }
          if (b.dup) {
            if (r.startsWith('239')) world.violation('nntp-duplicate-accepted', `TAKETHIS ${b.id} accepted twice`);
            else world.count('TAKETHIS-duplicate', 'refused');
          } else if (r.startsWith('239')) acked(world, ledger, 'TAKETHIS', b.id, b.entry);
          else world.count('TAKETHIS', 'refused');
        }
      } finally {
        world.inflight.nntp--;
      }
      if (world.chance(world.resetProbability)) {
        c.reset();
        return;
      }
    }
    await c.cmd('QUIT', 2000).catch(() => undefined);
  } finally {
    c.close();
  }
}

/** The body of an article as served or stored (after the first empty line), LF line ends. */
function bodyOf(text) {
  const t = text.replace(/\r\n/g, '\n');
  const at = t.indexOf('\n\n');
  return at === -1 ? undefined : t.slice(at + 2);
}

async function reader(world, ledger) {
  const c = await greet(world.ports.nntp);
  try {
    for (let i = world.between(1, 10); i > 0 && !world.stopping && ledger.acked.length > 0; i--) {
      const id = world.pick(ledger.acked);
      world.count('ARTICLE', 'attempted');
      const r = await c.cmd(`ARTICLE ${id}`);
      if (r.startsWith('430')) {
        world.violation('nntp-acked-missing', `ARTICLE ${id}: ${r}`);
        continue;
      }
      if (!r.startsWith('220')) throw new Gone(`ARTICLE: ${r}`);
      const lines = await c.dotBlock();
      world.count('ARTICLE', 'acknowledged');
      if (bodyOf(`${lines.join('\n')}\n`) !== ledger.articles.get(id).body)
        world.violation('nntp-article-bytes', `ARTICLE ${id}: body differs`);
    }
    await c.cmd('QUIT', 2000).catch(() => undefined);
  } finally {
    c.close();
  }
}

/** A client looping over poster, streamer and reader sessions until the soak stops. */
export async function nntpClient(world, ledger, role) {
  const run = { poster, streamer, reader }[role];
  while (!world.stopping) {
    try {
      await run(world, ledger);
    } catch (err) {
      if (!(err instanceof Gone)) throw err;
      await sleep(20);
    }
  }
}

/** Checks the spool files; `final` (after a graceful stop): every acknowledged article is there. */
export async function nntpCheck(world, ledger, { final }) {
  const spool = ledger.spool;
  const dir = join(spool, 'articles', GROUP);
  const byNumber = new Map();
  const byId = new Map();
  const note = (n, id, where) => {
    const had = byNumber.get(n);
    if (had !== undefined && had !== id) world.violation('nntp-number-two-ids', `${GROUP}:${n} is ${had} and ${id} (${where})`);
    byNumber.set(n, id);
    const ever = ledger.numbers.get(n);
    if (ever !== undefined && ever !== id) world.violation('nntp-number-reused', `${GROUP}:${n} was ${ever}, now ${id} (${where})`);
    ledger.numbers.set(n, id);
    const nums = byId.get(id) ?? new Set();
    nums.add(n);
    byId.set(id, nums);
  };
  const files = await readdir(dir).catch(() => []);
  for (const name of files) {
    const text = (await readFile(join(dir, name))).toString('latin1');
    const id = ID.exec(text)?.[1];
    if (!id) {
      world.violation('nntp-torn-article', `articles/${GROUP}/${name}: no Message-ID`);
      continue;
    }
    note(Number(name), id, 'articles');
    const a = ledger.articles.get(id);
    if (!a) world.violation('nntp-unknown-article', `${id} in articles/${GROUP}/${name}`);
    else {
      if (a.cut) world.violation('nntp-cut-stored', `${id}: cut by a reset, yet stored`);
      if (bodyOf(text) !== a.body) world.violation('nntp-torn-article', `${id} in articles/${GROUP}/${name}: body differs`);
    }
  }
  const overview = (await readFile(join(spool, 'overview', GROUP), 'latin1').catch(() => '')).split('\n');
  // The last line may be torn by a kill (recovery ignores it): only complete lines count.
  overview.pop();
  for (const line of overview) {
    const f = line.split('\t');
    if (f.length < 5) continue;
    note(Number(f[0]), f[4], 'overview');
  }
  for (const [id, nums] of byId) if (nums.size > 1) world.violation('nntp-duplicate', `${id} under ${[...nums].join(', ')}`);
  const active = (await readFile(join(spool, 'active'), 'latin1').catch(() => '')).split('\n').find((l) => l.startsWith(`${GROUP} `));
  const high = Number(active?.split(' ')[1] ?? 0);
  // Mid-run the journal may still hold what active does not say: only after the final stop.
  if (final) {
    const max = Math.max(0, ...byNumber.keys());
    if (high < max) world.violation('nntp-active-high', `active says ${high}, articles go to ${max}`);
    const history = new Set((await readFile(join(spool, 'history'), 'latin1').catch(() => '')).split('\n').map((l) => l.split('\t')[0]));
    const overviewIds = new Set(overview.map((l) => l.split('\t')[4]));
    for (const id of ledger.acked) {
      if (!byId.has(id)) world.violation('nntp-acked-lost', `${id}: acknowledged, no article file`);
      if (!overviewIds.has(id)) world.violation('nntp-acked-lost', `${id}: acknowledged, no overview line`);
      if (!history.has(id)) world.violation('nntp-acked-lost', `${id}: acknowledged, no history row`);
    }
    const tmp = await readdir(join(spool, 'tmp')).catch(() => []);
    if (tmp.length > 0) world.violation('nntp-tmp-left', `${tmp.length} file(s) in tmp/`);
  }
  return { articles: files.length, high };
}
