import { equal, match, notEqual, ok } from 'node:assert/strict';
import type { ContractCheck } from '@gorgon/core/testing';
import type { HttpStore } from '../store.js';

/**
 * One check's store, holding the tree `/a.txt` ("alpha"), `/sub/b.bin` (bytes 1 2 3) and the
 * empty directory `/sub/deep`; `change` rewrites `/a.txt` with other content; `dispose` cleans up.
 */
export interface HttpStoreSubject {
  store: HttpStore;
  change(): Promise<void> | void;
  dispose?(): Promise<void> | void;
}

/** Makes a fresh store holding the tree above. */
export type HttpStoreFactory = () => HttpStoreSubject | Promise<HttpStoreSubject>;

/**
 * The HttpStore contract as named checks: what the static server relies on from any store
 * (opened files with sizes, strong quoted ETags that change with the content, positioned reads,
 * directories, sorted listings, nothing for what is missing; `openNow`, when offered, agreeing
 * with `open`). The shipped DiskStore and MemoryStore pass it; so should yours.
 * @see RFC 9110 §8.8.3 (ETag), §8.8.2 (Last-Modified)
 */
export function httpStoreContract(make: HttpStoreFactory): ContractCheck[] {
  const check = (name: string, body: (s: HttpStoreSubject) => Promise<void>): ContractCheck => ({
    name,
    run: async () => {
      const subject = await make();
      try {
        await body(subject);
      } finally {
        await subject.dispose?.();
      }
    },
  });
  return [
    check('opens a file: size, mtime, a quoted strong ETag, reads at a position; close is idempotent', async ({ store }) => {
      const f = await store.open('/a.txt');
      ok(f?.kind === 'file');
      equal(f.size, 5);
      ok(f.mtimeMs > 0);
      match(f.etag, /^"[^"]+"$/);
      const buf = Buffer.alloc(3);
      equal(await f.read(buf, 0, 3, 2), 3);
      equal(buf.toString(), 'pha');
      await f.close();
      await f.close();
    }),
    check('opens directories; what is missing is undefined', async ({ store }) => {
      equal((await store.open('/sub'))?.kind, 'directory');
      equal((await store.open('/'))?.kind, 'directory');
      equal(await store.open('/nope'), undefined);
      equal(await store.open('/a.txt/x'), undefined);
    }),
    check('lists a directory sorted by name, with kinds and sizes; a file is not a directory', async ({ store }) => {
      const list = await store.list('/sub');
      equal(
        JSON.stringify(list?.map((e) => [e.name, e.kind])),
        JSON.stringify([
          ['b.bin', 'file'],
          ['deep', 'directory'],
        ]),
      );
      equal(list?.[0]?.size, 3);
      equal(await store.list('/a.txt'), undefined);
    }),
    check('the ETag changes when the content does', async (subject) => {
      const f1 = await subject.store.open('/a.txt');
      await subject.change();
      const f2 = await subject.store.open('/a.txt');
      ok(f1?.kind === 'file' && f2?.kind === 'file');
      notEqual(f1.etag, f2.etag);
      await f1.close();
      await f2.close();
    }),
    check('openNow, where offered, agrees with open', async ({ store }) => {
      if (!store.openNow) return;
      const f = store.openNow('/a.txt');
      const g = await store.open('/a.txt');
      ok(f?.kind === 'file' && g?.kind === 'file');
      equal(f.etag, g.etag);
      equal(f.size, g.size);
      if (f.readNow) equal(f.readNow(Buffer.alloc(2), 0, 2, 0), 2);
      await f.close();
      await g.close();
      equal(store.openNow('/sub')?.kind, 'directory');
      equal(store.openNow('/nope'), undefined);
    }),
  ];
}
