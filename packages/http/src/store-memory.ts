import type { HttpStore, StoreDirectory, StoreFile, StoreListEntry } from './store.js';

interface MemoryNode {
  data?: Buffer;
  mtimeMs: number;
  version: number;
}

/**
 * An {@link HttpStore} held in memory: files by path, directories implied by them (and by
 * `mkdir`). For tests and embedders that serve generated content.
 */
export class MemoryStore implements HttpStore {
  #nodes = new Map<string, MemoryNode>([['/', { mtimeMs: Date.now(), version: 0 }]]);
  #version = 0;

  /** Creates or replaces a file (its directories are made). */
  put(path: string, data: Buffer | string, mtimeMs = Date.now()): void {
    const p = normalise(path);
    const parts = p.split('/').slice(1, -1);
    for (let i = 1; i <= parts.length; i++) this.mkdir(`/${parts.slice(0, i).join('/')}`, mtimeMs);
    this.#nodes.set(p, { data: Buffer.from(data), mtimeMs, version: ++this.#version });
  }

  /** Creates a directory. */
  mkdir(path: string, mtimeMs = Date.now()): void {
    const p = normalise(path);
    if (!this.#nodes.has(p)) this.#nodes.set(p, { mtimeMs, version: ++this.#version });
  }

  /** Removes a file or an empty directory. */
  remove(path: string): void {
    this.#nodes.delete(normalise(path));
  }

  async open(path: string): Promise<StoreFile | StoreDirectory | undefined> {
    const node = this.#nodes.get(normalise(path));
    if (!node) return undefined;
    if (!node.data) return { kind: 'directory', mtimeMs: node.mtimeMs };
    const data = node.data;
    return {
      kind: 'file',
      size: data.length,
      mtimeMs: node.mtimeMs,
      etag: `"m${node.version.toString(36)}-${data.length.toString(36)}"`,
      read: async (buffer, offset, length, position) => {
        const n = Math.max(0, Math.min(length, data.length - position));
        data.copy(buffer, offset, position, position + n);
        return n;
      },
      close: async () => undefined,
    };
  }

  async list(path: string): Promise<StoreListEntry[] | undefined> {
    const dir = normalise(path);
    const node = this.#nodes.get(dir);
    if (!node || node.data) return undefined;
    const prefix = dir === '/' ? '/' : `${dir}/`;
    const out: StoreListEntry[] = [];
    for (const [p, n] of this.#nodes) {
      if (p === dir || !p.startsWith(prefix) || p.slice(prefix.length).includes('/')) continue;
      out.push({ name: p.slice(prefix.length), kind: n.data ? 'file' : 'directory', size: n.data?.length ?? 0, mtimeMs: n.mtimeMs });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

function normalise(path: string): string {
  const p = `/${path
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/')}`;
  if (p.split('/').includes('..')) throw new Error(`path leaves the root: ${path}`);
  return p;
}
