// Client side of the `idle` benchmark: opens many connections and holds them, silent. It runs
// in its own process because one process may hold at most 20,000 descriptors on this machine.
import * as net from 'node:net';
import { serveIpc } from '../lib/worker.mjs';

/** @type {Set<net.Socket>} */
const sockets = new Set();

serveIpc({
  /** Opens `count` connections, at most `concurrency` connecting at once. */
  async open({ port, count, concurrency = 200 }) {
    let started = 0;
    let failed = 0;
    const one = () =>
      new Promise((resolve) => {
        const s = net.connect({ port, host: '127.0.0.1' });
        s.once('connect', () => {
          sockets.add(s);
          resolve(undefined);
        });
        s.once('error', () => {
          failed++;
          resolve(undefined);
        });
        s.on('close', () => sockets.delete(s));
      });
    const lane = async () => {
      while (started < count) {
        started++;
        await one();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    return { open: sockets.size, failed };
  },
  async closeAll() {
    const all = [...sockets];
    await Promise.all(
      all.map(
        (s) =>
          new Promise((r) => {
            s.once('close', r);
            s.destroy();
          }),
      ),
    );
    return all.length;
  },
});
