// Client for bench/tools/lines-callgrind.sh: `node lines-callgrind-client.mjs <port> <commands>` sends the
// pipelined commands in 64 KiB writes and closes once every reply arrived.
import * as net from 'node:net';
const [port, commands] = process.argv.slice(2).map(Number);
const COMMAND = Buffer.from('NOOP 123\r\n');
const PER_WRITE = 6553;
const chunk = Buffer.alloc(COMMAND.length * PER_WRITE);
for (let i = 0; i < PER_WRITE; i++) COMMAND.copy(chunk, i * COMMAND.length);
const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
let bytes = 0;
const expected = commands * 8;
socket.on('data', (d) => {
  bytes += d.length;
  if (bytes >= expected) socket.end();
});
socket.on('connect', () => {
  let sent = 0;
  const send = () => {
    while (sent < commands) {
      const n = Math.min(PER_WRITE, commands - sent);
      sent += n;
      if (!socket.write(n === PER_WRITE ? chunk : chunk.subarray(0, n * 10))) return void socket.once('drain', send);
    }
  };
  send();
});
