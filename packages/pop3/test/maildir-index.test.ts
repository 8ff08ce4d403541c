import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat as statFile, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deliver, MaildirStore, wireSize } from '../src/internal.js';
import { INDEX_NAME } from '../src/maildir-index.js';

// The listing index: a restarted server's first login takes the maildrop from it instead of
// listing cur/ and parsing every name, only while cur/ is the directory it was taken of, with
// the same mtime, and new/ holds nothing; it is written only of a cur/ that had been still for
// two seconds, and only when every size is known without reading a file.

let root: string;
let dir: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'gorgon-maildir-index-'));
  dir = join(root, 'alice');
  for (const sub of ['tmp', 'new', 'cur']) await mkdir(join(dir, sub), { recursive: true });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const indexPath = (): string => join(dir, INDEX_NAME);
const exists = (path: string): Promise<boolean> =>
  statFile(path).then(
    () => true,
    () => false,
  );

/** Sets cur/'s mtime `seconds` back, as if nothing had changed in it since. */
async function age(seconds = 60): Promise<void> {
  const then = new Date(Date.now() - seconds * 1000);
  await utimes(join(dir, 'cur'), then, then);
}

/** A new store (a restarted process): the messages of its first open. */
async function afterRestart(options: ConstructorParameters<typeof MaildirStore>[1] = {}): Promise<Array<{ uid: string; size: number }>> {
  const drop = await new MaildirStore(root, options).open('alice');
  const messages = drop.messages.map((m) => ({ uid: m.uid, size: m.size }));
  await drop.release();
  return messages;
}

/** Postfix-style names: the inode the file was written as is in the name (a rename keeps it). */
async function writePostfix(bodies: string[]): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < bodies.length; i++) {
    const temp = join(dir, 'tmp', `t${i}`);
    await writeFile(temp, bodies[i]!);
    const { ino } = await statFile(temp);
    const name = `${1_700_000_000 + i}.V801I${ino.toString(16)}M${i}.mx.example.org`;
    await rename(temp, join(dir, 'cur', `${name}:2,`));
    names.push(name);
  }
  return names;
}

const bodies = ['Subject: a\n\nshort\n', `Subject: b\n\n${'line\n'.repeat(300)}`, 'Subject: c\n\nno final newline'];
const wire = bodies.map((b) => wireSize(Buffer.from(b)));

/** Rewrites the index with message `i`'s size replaced (cur/'s identity kept). */
async function forgeSize(i: number, size: number): Promise<void> {
  const index = JSON.parse(await readFile(indexPath(), 'utf8')) as { size: number[] };
  index.size[i] = size;
  await writeFile(indexPath(), JSON.stringify(index));
}

describe('the Maildir listing index', () => {
  it('is written of a still cur/ and used after a restart instead of listing it', async () => {
    const names = await writePostfix(bodies);
    // The first login measures the messages; cur/ only now becomes still.
    await afterRestart();
    await age();
    const scanned = await afterRestart();
    expect(scanned.map((m) => m.size)).toEqual(wire);
    expect(scanned.map((m) => m.uid)).toEqual(names);
    expect(await exists(indexPath())).toBe(true);
    // No temporary file is left beside it.
    expect((await readdir(dir)).filter((n) => n.includes(INDEX_NAME))).toEqual([INDEX_NAME]);
    // A forged size in the index is what a restarted process reports: it did not list cur/.
    await forgeSize(1, 12_345);
    expect(await afterRestart()).toEqual([scanned[0], { uid: names[1], size: 12_345 }, scanned[2]]);
  });

  it('is ignored when a name in it is hidden, empty, leaves cur/ or holds a NUL, or a uid is not printable', async () => {
    const names = await writePostfix(bodies);
    await afterRestart();
    await age();
    const scanned = await afterRestart();
    const good = await readFile(indexPath(), 'utf8');
    const forged = (change: (index: { name: string[]; uid: Array<string | 0> }) => void): Promise<void> => {
      const index = JSON.parse(good) as { name: string[]; uid: Array<string | 0> };
      change(index);
      return writeFile(indexPath(), JSON.stringify(index));
    };
    for (const name of ['../../etc/passwd', '.hidden:2,', '', 'a\0b:2,', 'sub/name:2,']) {
      await forged((index) => {
        index.name[1] = name;
      });
      expect(await afterRestart(), name).toEqual(scanned);
    }
    await forged((index) => {
      index.uid[0] = 'has space';
    });
    expect(await afterRestart()).toEqual(scanned);
    // The same index unforged is used: a uid it gives is what a restarted process reports.
    await forged((index) => {
      index.uid[2] = 'given-uid';
    });
    expect((await afterRestart()).map((m) => m.uid)).toEqual([names[0], names[1], 'given-uid']);
  });

  it('is not written of a cur/ that changed less than two seconds before it was listed', async () => {
    await writePostfix(bodies);
    await afterRestart();
    await afterRestart();
    expect(await exists(indexPath())).toBe(false);
  });

  it('is ignored once cur/ changed: a message added, or one removed', async () => {
    const names = await writePostfix(bodies);
    await afterRestart();
    await age();
    await afterRestart();
    await forgeSize(0, 12_345);
    // Another program (an IMAP server) removes a message: cur/'s mtime moves.
    await unlink(join(dir, 'cur', `${names[2]}:2,`));
    expect((await afterRestart()).map((m) => m.size)).toEqual([wire[0], wire[1]]);
  });

  it('is ignored while new/ holds mail, which is moved and listed', async () => {
    await writePostfix(bodies);
    await afterRestart();
    await age();
    await afterRestart();
    await forgeSize(0, 12_345);
    await deliver(root, 'alice', 'Subject: d\n\nnew mail\n');
    const after = await afterRestart();
    expect(after.map((m) => m.size)).toEqual([...wire, wireSize(Buffer.from('Subject: d\r\n\r\nnew mail\r\n'))]);
    expect(await readdir(join(dir, 'new'))).toEqual([]);
  });

  it.each([
    ['not JSON', 'gorgon'],
    ['another version', (t: string) => t.replace('"v":1', '"v":2')],
    ['columns of different lengths', (t: string) => t.replace('"size":[', '"size":[1,')],
    ['a name with a slash', (t: string) => t.replace('"name":["', '"name":["../')],
    ['a negative size', (t: string) => t.replace('"size":[', '"size":[-5,').replace(/,\d+\],"raw"/, '],"raw"')],
  ])('one that is %s is ignored as a whole', async (_, corrupt) => {
    await writePostfix(bodies);
    await afterRestart();
    await age();
    await afterRestart();
    const text = await readFile(indexPath(), 'utf8');
    await writeFile(indexPath(), typeof corrupt === 'string' ? corrupt : corrupt(text));
    expect((await afterRestart()).map((m) => m.size)).toEqual(wire);
  });

  it('is neither written nor read on a network file system (local: false)', async () => {
    await writePostfix(bodies);
    await afterRestart({ local: false });
    await age();
    await afterRestart({ local: false });
    expect(await exists(indexPath())).toBe(false);
    await afterRestart();
    await forgeSize(1, 12_345);
    expect((await afterRestart({ local: false })).map((m) => m.size)).toEqual(wire);
  });

  it('is not written when a size can only be trusted after a check (names without the inode)', async () => {
    for (let i = 0; i < bodies.length; i++) await writeFile(join(dir, 'cur', `${1_700_000_000 + i}.P${i}Q${i}.host:2,`), bodies[i]!);
    await afterRestart();
    await age();
    await afterRestart();
    expect(await exists(indexPath())).toBe(false);
  });

  it('keeps the uids of names with sizes in them (Gorgon-delivered mail)', async () => {
    for (const b of bodies) await deliver(root, 'alice', b);
    const first = await afterRestart();
    await age();
    expect(await afterRestart()).toEqual(first);
    await forgeSize(2, 7);
    expect(await afterRestart()).toEqual([first[0], first[1], { uid: first[2]!.uid, size: 7 }]);
    expect(first[0]!.uid).not.toContain(',S=');
  });
});
