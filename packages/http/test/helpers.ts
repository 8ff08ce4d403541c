import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttpServer, DiskStore, type HttpServer, type HttpServerOptions } from '@gorgon/http';

/** A temporary directory, removed by the returned function. */
export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'gorgon-http-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A server on a loopback port over `root`. */
export async function startServer(root: string, options: Partial<HttpServerOptions> = {}): Promise<{ server: HttpServer; port: number }> {
  const server = createHttpServer({ store: new DiskStore(root), ...options });
  const { port } = await server.listen(0);
  return { server, port };
}

/** Sends `data` on a fresh connection and returns everything received until the server closes (or `waitMs`). */
export function exchange(port: number, data: string | Buffer, waitMs = 1500, end = false): Promise<Buffer> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.write(data);
    if (end) socket.end();
  });
}

/** One parsed response. */
export interface Parsed {
  status: number;
  fields: Map<string, string>;
  body: Buffer;
}

/** Splits a byte stream of responses (Content-Length framed; `head` lists HEAD responses by index). */
export function parseResponses(buf: Buffer, headIndexes: number[] = []): Parsed[] {
  const out: Parsed[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const end = buf.indexOf('\r\n\r\n', pos);
    if (end < 0) break;
    const lines = buf.toString('latin1', pos, end).split('\r\n');
    const status = Number(lines[0]!.split(' ')[1]);
    const fields = new Map<string, string>();
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      fields.set(l.slice(0, i).toLowerCase(), l.slice(i + 1).trim());
    }
    const noBody = headIndexes.includes(out.length) || status === 304 || status === 204;
    const len = noBody ? 0 : Number(fields.get('content-length') ?? 0);
    out.push({ status, fields, body: buf.subarray(end + 4, end + 4 + len) });
    pos = end + 4 + len;
  }
  return out;
}
