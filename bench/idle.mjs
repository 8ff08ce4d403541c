// idle: memory a server spends per open idle connection. 10,000 silent connections are opened
// from a client process to a fresh server process (Gorgon's LineSession server with no idle
// timeout, or a raw net.createServer holding its sockets); the server's RSS (outside V8's young
// generation) and V8 heap after full GCs, minus the same after a warm-up of 300 connections
// opened and closed, divided by the number of connections (bench/lib/idle-memory.mjs).
import { idleMemoryRows, measureIdleConnections } from './lib/idle-memory.mjs';
import { alternateMany } from './lib/rounds.mjs';

const CONNECTIONS = 10_000;

export default {
  name: 'idle',
  description: `${CONNECTIONS.toLocaleString('en-US')} open idle connections: server memory per connection (RSS and heap, after GC)`,
  target: { op: '<=', ratio: 1.25 },
  timeoutMs: 150_000,
  /** @param {any} ctx */
  async run(ctx) {
    const client = await ctx.spawnWorker(new URL('./workers/idle-client.mjs', import.meta.url), { name: 'idle-client' });
    const paired = await alternateMany({
      rounds: ctx.rounds ?? 3,
      log: ctx.log,
      measure: async (subject) => {
        // A fresh server per measurement, so one run's heap growth cannot hide the next one's.
        const server = await ctx.spawnWorker(new URL('./workers/line-server.mjs', import.meta.url), {
          name: `idle-${subject}`,
          execArgv: ['--expose-gc'],
          measured: true,
        });
        try {
          const port = await server.call('start', { kind: subject });
          return await measureIdleConnections(server, client, port, CONNECTIONS);
        } finally {
          await client.call('closeAll');
          await server.stop();
        }
      },
    });
    await client.stop();
    return idleMemoryRows(paired, 'connection', 1.25, '');
  },
};
