// Maildirs shaped like real deployments, for the POP3 benchmarks (issue 9.1): what Postfix's
// local/virtual delivery and procmail write carries no ,S=/,W= size in the file name and has LF
// line ends, and real mailboxes mix sizes (mostly a few KiB, some attachments up to 1 MiB).
// Gorgon's own `deliver` writes ,S= and ,W=, which spares the server all measuring: a fixture
// made only that way flatters it.
//
//   node bench/lib/maildir-fixtures.mjs ROOT USER COUNT [--style postfix|procmail|hinted] [--sizes mixed|small] [--seed N]
//
// writes COUNT messages into ROOT/USER/new (tmp/ and cur/ created), deterministically for a seed.
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { prng } from '../soak/lib/content.mjs';

/**
 * Target sizes in octets. `mixed`: 75% 2–10 KiB text mail, 18% 10–100 KiB (HTML, small
 * attachments), 6% 100–500 KiB, 1% 500 KiB–1 MiB. `small`: 2–10 KiB only (the case).
 */
function pickSize(random, sizes) {
  const r = random();
  const between = (lo, hi) => Math.floor(lo + random() * (hi - lo));
  if (sizes === 'small' || r < 0.75) return between(2 * 1024, 10 * 1024);
  if (r < 0.93) return between(10 * 1024, 100 * 1024);
  if (r < 0.99) return between(100 * 1024, 500 * 1024);
  return between(500 * 1024, 1024 * 1024);
}

/** One message of about `size` octets, LF line ends; text lines, some starting with '.', then base64. */
function message(i, size, random) {
  const head =
    `Return-Path: <sender${i}@example.org>\nDelivered-To: reader@example.org\n` +
    `Received: from mx.example.org by mail.example.org (Postfix) with ESMTP id ${i.toString(16).toUpperCase()}\n` +
    `From: Sender ${i} <sender${i}@example.org>\nTo: reader@example.org\nSubject: message ${i}\n` +
    `Message-ID: <${i}.${Math.floor(random() * 1e9)}@example.org>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n`;
  const lines = [head];
  let length = head.length;
  for (let l = 0; length < size; l++) {
    // Text first; past 8 KiB, base64-looking lines (an attachment) make up the rest.
    const line =
      length < 8192
        ? l % 11 === 5
          ? `.line ${l} starts with a dot\n`
          : `line ${l} of message ${i}: ${'lorem ipsum dolor sit amet '.repeat(1 + (l % 3))}\n`
        : `${Buffer.from(String(l).repeat(40)).toString('base64').slice(0, 76)}\n`;
    lines.push(line);
    length += line.length;
  }
  return lines.join('');
}

/**
 * The file name each deliverer writes (`hinted`: Gorgon's own, with ,S= and ,W=). Postfix names
 * the file by the device and inode (hex) it wrote it as in tmp/: `dev` and `ino` are those.
 */
function fileName(style, i, time, body, dev, ino) {
  const host = 'mail.example.org';
  if (style === 'procmail') return `${time}.${4000 + (i % 97)}_${i}.${host}`;
  if (style === 'hinted') {
    const bare = body.split('\n').length - 1; // every line end is a bare LF
    const wire = body.length + bare + (body.endsWith('\n') ? 0 : 2);
    return `${time}.M${i % 1_000_000}P4242Q${i}.${host},S=${body.length},W=${wire}`;
  }
  return `${time}.V${dev.toString(16)}I${ino.toString(16)}M${(i * 7919) % 1_000_000}.${host}`; // Postfix
}

/** Writes one message into tmp/ and renames it into new/ under the name its deliverer gives it. */
async function deliver(dir, style, i, time, body) {
  const temp = join(dir, 'tmp', `fixture.${process.pid}.${i}`);
  await writeFile(temp, body, { mode: 0o600 });
  const { dev, ino } = await stat(temp);
  await rename(temp, join(dir, 'new', fileName(style, i, time, body, dev, ino)));
}

/**
 * Writes `count` messages into `root/user/new/` (as an MTA does: the POP3 server moves them to
 * cur/ at the first login). Returns the total octets written.
 * @param {{ style?: 'postfix' | 'procmail' | 'hinted', sizes?: 'mixed' | 'small', seed?: number }} options
 */
export async function writeMtaMaildir(root, user, count, options = {}) {
  const { style = 'postfix', sizes = 'mixed', seed = 1 } = options;
  const dir = join(root, user);
  for (const sub of ['tmp', 'new', 'cur']) await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
  const random = prng(seed);
  const start = 1_700_000_000;
  let octets = 0;
  const batch = [];
  for (let i = 0; i < count; i++) {
    const body = message(i, pickSize(random, sizes), random);
    octets += body.length;
    batch.push(deliver(dir, style, i, start + i, body));
    if (batch.length >= 64) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  return octets;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [root, user, count, ...rest] = process.argv.slice(2);
  if (!root || !user || !count) {
    console.error(
      'usage: node bench/lib/maildir-fixtures.mjs ROOT USER COUNT [--style postfix|procmail|hinted] [--sizes mixed|small] [--seed N]',
    );
    process.exit(2);
  }
  const flag = (name) => {
    const at = rest.indexOf(`--${name}`);
    return at === -1 ? undefined : rest[at + 1];
  };
  const octets = await writeMtaMaildir(root, user, Number(count), {
    style: flag('style') ?? 'postfix',
    sizes: flag('sizes') ?? 'mixed',
    seed: Number(flag('seed') ?? 1),
  });
  console.log(`${count} messages, ${(octets / 1048576).toFixed(1)} MiB, in ${join(root, user, 'new')}`);
}
