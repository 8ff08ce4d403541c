// Load generator for the `lines` benchmark: one connection, `commands` pipelined commands sent
// in large writes (honouring backpressure), replies counted as they arrive. The time runs from
// the first write to the last reply.
//
// It must cost far less than the server, or it is what is measured: replies are counted by
// bytes (every reply is the same 8 bytes) and checked with one memcmp per read against the
// expected byte stream, rather than searched line by line.
import * as net from 'node:net';
import { serveIpc } from '../lib/worker.mjs';

const COMMAND = Buffer.from('NOOP 123\r\n');
const REPLY = Buffer.from('250 OK\r\n');
const PER_WRITE = 6553; // commands per write: ~64 KiB

const chunk = Buffer.alloc(COMMAND.length * PER_WRITE);
for (let i = 0; i < PER_WRITE; i++) COMMAND.copy(chunk, i * COMMAND.length);
/** The reply stream from any phase: a read is compared with a slice of this. */
const PATTERN_REPLIES = 16 * 1024;
const pattern = Buffer.alloc(REPLY.length * (PATTERN_REPLIES + 1));
for (let i = 0; i <= PATTERN_REPLIES; i++) REPLY.copy(pattern, i * REPLY.length);

serveIpc({
  /** CPU time of this process so far is the common `cpu` op; `run` also reports its own share. */
  run({ port, commands }) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
      const expected = commands * REPLY.length;
      let bytes = 0;
      let t0 = 0;
      let cpu0 = 0;
      socket.on('error', reject);
      socket.on('data', (data) => {
        for (let at = 0; at < data.length; ) {
          const phase = bytes % REPLY.length;
          const n = Math.min(data.length - at, pattern.length - phase);
          if (pattern.compare(data, at, at + n, phase, phase + n) !== 0) {
            socket.destroy();
            reject(new Error(`unexpected reply bytes after ${bytes} bytes`));
            return;
          }
          at += n;
          bytes += n;
        }
        if (bytes >= expected) {
          const ms = performance.now() - t0;
          const { user, system } = process.cpuUsage();
          socket.destroy();
          if (bytes !== expected) reject(new Error(`unexpected replies: ${bytes} bytes for ${commands} commands`));
          else resolve({ ms, replies: commands, clientCpuUs: user + system - cpu0 });
        }
      });
      socket.on('close', () => {
        if (bytes < expected) reject(new Error(`closed after ${bytes} of ${expected} reply bytes`));
      });
      socket.on('connect', () => {
        t0 = performance.now();
        const { user, system } = process.cpuUsage();
        cpu0 = user + system;
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
