/**
 * A server asks for a connection's address at accept when something reads it after the close:
 * a `close` event listener, a logger that keeps lines. Without either (the default silent
 * logger, no per-address limit) it is not asked for at all, and the `connect` event, which runs
 * while the connection is open, still gets it. Real sockets.
 */
import { describe, expect, it } from 'vitest';
import { memoryLogger } from '@gorgon/core';
import { createFingerServer, finger } from '@gorgon/finger';
import { directory } from './fixtures.js';

describe('the connection address in events and logs', () => {
  it.each([
    ['silent logger, per-address limit lifted', { maxConnectionsPerIp: 0 }],
    ['default limits', {}],
    ['a logger that keeps lines, limit lifted', { maxConnectionsPerIp: 0, logger: memoryLogger() }],
  ])('%s: the close event (no other listener) carries 127.0.0.1', async (_name, options) => {
    await using server = createFingerServer({ store: directory(), ...options });
    const closed: string[] = [];
    server.on('close', (e) => closed.push(e.remoteAddress));
    const { port } = await server.listen(0, '127.0.0.1');
    for (let i = 0; i < 2; i++) expect(await finger('alice', { host: '127.0.0.1', port })).toContain('Alice');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toEqual(['127.0.0.1', '127.0.0.1']);
  });

  it('silent logger, limit lifted, only a connect listener: the address is known while open', async () => {
    await using server = createFingerServer({ store: directory(), maxConnectionsPerIp: 0 });
    const connected: string[] = [];
    server.on('connect', (e) => connected.push(e.remoteAddress));
    const { port } = await server.listen(0, '127.0.0.1');
    expect(await finger('alice', { host: '127.0.0.1', port })).toContain('Alice');
    expect(connected).toEqual(['127.0.0.1']);
  });
});
