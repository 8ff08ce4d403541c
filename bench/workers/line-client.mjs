// Load generator for the `lines` benchmark: one connection, `commands` pipelined commands sent
// in large writes (honouring backpressure), replies counted as they arrive. The time runs from
// the first write to the last reply.
import * as net from 'node:net';
import { serveIpc } from '../lib/worker.mjs';

const COMMAND = Buffer.from('NOOP 123\r\n');
const REPLY_BYTES = Buffer.byteLength('250 OK\r\n');
const PER_WRITE = 6553; // commands per write: ~64 KiB

const chunk = Buffer.alloc(COMMAND.length * PER_WRITE);
for (let i = 0; i < PER_WRITE; i++) COMMAND.copy(chunk, i * COMMAND.length);

serveIpc({
  run({ port, commands }) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
      let replies = 0;
      let bytes = 0;
      let t0 = 0;
      socket.on('error', reject);
      socket.on('data', (data) => {
        bytes += data.length;
        let i = -1;
        while ((i = data.indexOf(10, i + 1)) !== -1) replies++;
        if (replies >= commands) {
          const ms = performance.now() - t0;
          socket.destroy();
          if (bytes !== commands * REPLY_BYTES) reject(new Error(`unexpected replies: ${bytes} bytes for ${replies} lines`));
          else resolve({ ms, replies });
        }
      });
      socket.on('close', () => {
        if (replies < commands) reject(new Error(`closed after ${replies} of ${commands} replies`));
      });
      socket.on('connect', () => {
        t0 = performance.now();
        let sent = 0;
        const send = () => {
          while (sent < commands) {
            const n = Math.min(PER_WRITE, commands - sent);
            sent += n;
            const ok = socket.write(n === PER_WRITE ? chunk : chunk.subarray(0, n * COMMAND.length));
            if (!ok) return void socket.once('drain', send);
          }
        };
        send();
      });
    });
  },
});
