/**
 * A reader that sends its commands and half-closes (its sending side shut, as `nc -N` or a
 * script's `socket.end()` does): every reply is still sent, in order, then the server closes.
 * Through a real socket.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startServer } from './helpers.js';

function halfClose(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error(`no close within 4 s: ${Buffer.concat(chunks).toString()}`)), 4000);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.end(text);
  });
}

describe('a reader that half-closes after its commands', () => {
  it('gets every reply, in order, then the server closes', async () => {
    const { server, port } = await startServer({ anonymous: { read: '*' } });
    try {
      const out = await halfClose(port, 'GROUP misc.test\r\nARTICLE 1\r\nOVER 1-3\r\nSTAT 9\r\nDATE\r\n');
      const statuses = out
        .split('\r\n')
        .filter((l) => /^\d{3} /.test(l))
        .map((l) => l.slice(0, 3));
      expect(statuses).toEqual(['201', '211', '220', '224', '423', '111']);
      expect(out).toContain('Subject: first');
      expect(out.endsWith('\r\n')).toBe(true);
    } finally {
      await server.close();
    }
  });
});
