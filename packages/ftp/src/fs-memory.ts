import { SimpleProducer } from '@gorgon/core';
import {
  baseName,
  FsError,
  parentPath,
  type FileStat,
  type ReadableFile,
  type VirtualFs,
  type WritableFile,
  type WriteOptions,
} from './fs.js';

interface FileNode {
  kind: 'file';
  data: Buffer;
  mtime: Date;
  mode: number;
  id: number;
}
interface DirNode {
  kind: 'dir';
  children: Map<string, Node>;
  mtime: Date;
  mode: number;
  id: number;
}
type Node = FileNode | DirNode;

/** Initial content of a {@link MemoryFs}: path → file content (a trailing "/" makes a directory). */
export type MemoryTree = Record<string, string | Buffer>;

/**
 * A VirtualFs held in memory: for tests, demos and embedders who serve generated content.
 * Uploads become visible only on commit, as on disk.
 */
export class MemoryFs implements VirtualFs {
  readonly #root: DirNode;
  #ids = 0;
  /** Largest total size of all files; past it writes fail with `no-space`. */
  readonly maxBytes: number;
  #used = 0;

  constructor(tree: MemoryTree = {}, options: { maxBytes?: number } = {}) {
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.#root = this.#dir();
    for (const [path, content] of Object.entries(tree)) this.#seed(path, content);
  }

  async stat(path: string): Promise<FileStat> {
    return this.#stat(this.#find(path), baseName(path));
  }

  async list(path: string): Promise<FileStat[]> {
    const dir = this.#dirAt(path);
    return [...dir.children].map(([name, node]) => this.#stat(node, name));
  }

  async openRead(path: string, start = 0): Promise<ReadableFile> {
    const node = this.#find(path);
    if (node.kind !== 'file') throw new FsError('is-dir', `${path} is a directory`);
    const producer = new SimpleProducer(node.data.subarray(Math.min(start, node.data.length)), 1024 * 1024);
    return Object.assign(producer, { size: node.data.length });
  }

  async openWrite(path: string, options: WriteOptions): Promise<WritableFile> {
    const parent = this.#dirAt(parentPath(path));
    const name = baseName(path);
    if (name === '') throw new FsError('invalid-path', 'cannot write the root');
    const existing = parent.children.get(name);
    if (existing?.kind === 'dir') throw new FsError('is-dir', `${path} is a directory`);
    if (options.mode !== 'replace' && !existing && options.mode === 'resume') {
      throw new FsError('not-found', `${path} does not exist`);
    }
    const parts: Buffer[] = [];
    let size = 0;
    let done = false;
    const write = async (data: Buffer): Promise<void> => {
      if (done) throw new FsError('io', 'upload already finished');
      if (this.#used + size + data.length > this.maxBytes) throw new FsError('no-space', 'memory filesystem is full');
      parts.push(Buffer.from(data));
      size += data.length;
    };
    const commit = async (): Promise<void> => {
      if (done) return;
      done = true;
      const body = Buffer.concat(parts, size);
      const current = parent.children.get(name);
      if (current?.kind === 'dir') throw new FsError('is-dir', `${path} is a directory`);
      if (options.exclusive && current) throw new FsError('exists', `${path} exists`);
      const old = current?.kind === 'file' ? current.data : Buffer.alloc(0);
      let data: Buffer;
      if (options.mode === 'append') data = Buffer.concat([old, body]);
      else if (options.mode === 'resume') data = Buffer.concat([old.subarray(0, options.offset ?? 0), body]);
      else data = body;
      this.#used += data.length - old.length;
      parent.children.set(name, { kind: 'file', data, mtime: new Date(), mode: current?.mode ?? 0o644, id: current?.id ?? ++this.#ids });
      parent.mtime = new Date();
    };
    return {
      write,
      commit,
      abort: async () => {
        done = true;
      },
    };
  }

  async rename(from: string, to: string): Promise<void> {
    const fromParent = this.#dirAt(parentPath(from));
    const node = fromParent.children.get(baseName(from));
    if (!node || baseName(from) === '') throw new FsError('not-found', `${from} does not exist`);
    const toParent = this.#dirAt(parentPath(to));
    const target = toParent.children.get(baseName(to));
    if (node.kind === 'dir' && (to === from || to.startsWith(`${from}/`))) {
      throw new FsError('invalid-path', 'cannot move a directory into itself');
    }
    if (target?.kind === 'dir') throw new FsError('exists', `${to} is a directory`);
    if (target && node.kind === 'dir') throw new FsError('not-dir', `${to} is not a directory`);
    if (target?.kind === 'file') this.#used -= target.data.length;
    fromParent.children.delete(baseName(from));
    toParent.children.set(baseName(to), node);
    fromParent.mtime = toParent.mtime = new Date();
  }

  async mkdir(path: string): Promise<void> {
    const parent = this.#dirAt(parentPath(path));
    const name = baseName(path);
    if (name === '' || parent.children.has(name)) throw new FsError('exists', `${path} exists`);
    parent.children.set(name, this.#dir());
    parent.mtime = new Date();
  }

  async rmdir(path: string): Promise<void> {
    const node = this.#find(path);
    if (node.kind !== 'dir') throw new FsError('not-dir', `${path} is not a directory`);
    if (node === this.#root) throw new FsError('denied', 'cannot remove the root');
    if (node.children.size > 0) throw new FsError('not-empty', `${path} is not empty`);
    this.#dirAt(parentPath(path)).children.delete(baseName(path));
  }

  async unlink(path: string): Promise<void> {
    const node = this.#find(path);
    if (node.kind !== 'file') throw new FsError('is-dir', `${path} is a directory`);
    this.#used -= node.data.length;
    this.#dirAt(parentPath(path)).children.delete(baseName(path));
  }

  async setMtime(path: string, mtime: Date): Promise<void> {
    this.#find(path).mtime = mtime;
  }

  async chmod(path: string, mode: number): Promise<void> {
    this.#find(path).mode = mode & 0o7777;
  }

  #dir(): DirNode {
    return { kind: 'dir', children: new Map(), mtime: new Date(), mode: 0o755, id: ++this.#ids };
  }

  #seed(path: string, content: string | Buffer): void {
    const parts = path.split('/').filter((p) => p !== '');
    let dir = this.#root;
    const last = path.endsWith('/') ? parts.length : parts.length - 1;
    for (let i = 0; i < last; i++) {
      let next = dir.children.get(parts[i]!);
      if (!next) {
        next = this.#dir();
        dir.children.set(parts[i]!, next);
      }
      if (next.kind !== 'dir') throw new FsError('not-dir', `${parts[i]} is a file`);
      dir = next;
    }
    if (last === parts.length) return;
    const data = Buffer.from(content);
    this.#used += data.length;
    dir.children.set(parts[last]!, { kind: 'file', data, mtime: new Date(), mode: 0o644, id: ++this.#ids });
  }

  #find(path: string): Node {
    let node: Node = this.#root;
    for (const part of path.split('/')) {
      if (part === '') continue;
      if (node.kind !== 'dir') throw new FsError('not-dir', `${path}: not a directory`);
      const next: Node | undefined = node.children.get(part);
      if (!next) throw new FsError('not-found', `${path} does not exist`);
      node = next;
    }
    return node;
  }

  #dirAt(path: string): DirNode {
    const node = this.#find(path);
    if (node.kind !== 'dir') throw new FsError('not-dir', `${path} is not a directory`);
    return node;
  }

  #stat(node: Node, name: string): FileStat {
    return {
      name,
      kind: node.kind,
      size: node.kind === 'file' ? node.data.length : 0,
      mtime: node.mtime,
      mode: node.mode,
      id: node.id.toString(16),
    };
  }
}
