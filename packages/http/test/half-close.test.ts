/**
 * A client that sends its requests and half-closes (shutdown of its sending side, as `nc -N`
 * or a script using `socket.end()` does): every response is still sent in full, in order,
 * then the server closes. RFC 9112 §9.6: the server reads the requests it has, answers them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpServer } from '@gorgon/http';
import { exchange, parseResponses, startServer, tempDir } from './helpers.js';

const t = tempDir();
let server: HttpServer;
let port: number;
const body = Buffer.from('a line of a file that is sent twice\n'.repeat(40_000)); // ~1.4 MB

beforeAll(async () => {
  writeFileSync(join(t.dir, 'big.txt'), body);
  ({ server, port } = await startServer(t.dir));
});
afterAll(async () => {
  await server.close();
  t.remove();
});

describe('a client that half-closes after its requests', () => {
  it('gets every response whole, in order, then the server closes', async () => {
    const request =
      'GET /big.txt HTTP/1.1\r\nHost: x\r\n\r\nHEAD /big.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.1\r\nHost: x\r\n\r\n';
    const started = Date.now();
    const rs = parseResponses(await exchange(port, request, 5000, true), [1]);
    expect(Date.now() - started).toBeLessThan(4000); // closed by the server, not by the timeout
    expect(rs.map((r) => r.status)).toEqual([200, 200, 404]);
    expect(rs[0]!.body.equals(body)).toBe(true);
    expect(rs[1]!.fields.get('content-length')).toBe(String(body.length));
  });
});
