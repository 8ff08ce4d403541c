import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The high-water marks of `news pull`: per server (`host:port`) and group, the highest article
 * number already fetched. Saved as JSON with write-to-temporary, fsync and rename, so a crash
 * leaves the old marks or the new ones, never a torn file (a lost update only refetches).
 */
export class PullState {
  readonly file: string;
  #marks: Record<string, Record<string, number>>;

  private constructor(file: string, marks: Record<string, Record<string, number>>) {
    this.file = file;
    this.#marks = marks;
  }

  /** Loads the marks (none when the file does not exist yet). */
  static async load(file: string): Promise<PullState> {
    let marks: Record<string, Record<string, number>> = {};
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as unknown;
      if (parsed && typeof parsed === 'object') marks = parsed as Record<string, Record<string, number>>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read pull state ${file}: ${(err as Error).message}`);
    }
    return new PullState(file, marks);
  }

  /** The highest number fetched from `group` on `server` (0: none). */
  get(server: string, group: string): number {
    const value = this.#marks[server]?.[group];
    return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : 0;
  }

  /** Records `high` and saves the file. */
  async set(server: string, group: string, high: number): Promise<void> {
    this.#marks[server] ??= {};
    this.#marks[server]![group] = high;
    await this.save();
  }

  /** Writes the marks atomically. */
  async save(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp${process.pid}`;
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(this.#marks, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.file);
  }
}
