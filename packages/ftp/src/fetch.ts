import { mkdir } from 'node:fs/promises';
import { FetchRun } from './fetch-scheduler.js';
import type { FetchOptions, FetchResult } from './fetch-types.js';
import { parseFetchUrl, type FetchTarget } from './fetch-url.js';

/**
 * The seed's multi-file grabber as a library function: fetches every file the URLs name
 * (`ftp://[user:pass@]host[:port]/path`, `ftps://…`, globs in the path such as `pub/*.txt`),
 * from as many servers as given, over at most `parallel` connections at once, each reused for
 * several files. Downloads go to `<name>.part` and are renamed when complete; a `.part` left by
 * an earlier run is resumed with REST. Failures do not stop the run: they are in the result.
 *
 * ```ts
 * const result = await fetchFiles(['ftp://127.0.0.1:2121/pub/*.txt'], { outDir: 'out', parallel: 4 });
 * for (const f of result.failed) console.error(f.message);
 * ```
 * @throws FetchUrlError before any connection when a URL cannot be used.
 */
export async function fetchFiles(urls: readonly string[], options: FetchOptions): Promise<FetchResult> {
  const defaults = {
    ...(options.user !== undefined ? { user: options.user } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(options.explicitTls ? { explicitTls: true } : {}),
  };
  const targets: FetchTarget[] = urls.map((url) => parseFetchUrl(url, defaults));
  await mkdir(options.outDir, { recursive: true });
  return new FetchRun(options).run(targets);
}
