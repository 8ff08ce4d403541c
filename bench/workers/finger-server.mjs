// Finger servers for the `finger` benchmark, one per worker process:
//   gorgon    @gorgon/finger's createFingerServer with an in-memory directory
//   baseline  net.createServer that reads one line with indexOf, looks the login up in a Map
//             and writes the same reply text (captured from the Gorgon server), then ends
import * as net from 'node:net';
import { serveIpc } from '../lib/worker.mjs';

/** The user every request asks for. */
export const ALICE = {
  login: 'alice',
  name: 'Alice Liddell',
  plan: 'Down the rabbit hole; back by tea time.\nAsk the White Rabbit for the key.',
};

async function gorgonServer() {
  const finger = await import('../../packages/finger/dist/index.js');
  // All load comes from 127.0.0.1: lift the per-address cap (default 16) and the total cap, as
  // an operator behind a load balancer would. Everything else keeps its default.
  const server = finger.createFingerServer({
    directory: new finger.MemoryUserDirectory([ALICE]),
    maxConnections: 0,
    maxConnectionsPerIp: 0,
  });
  const address = await server.listen(0, '127.0.0.1');
  return address.port;
}

/** @param {string} reply  the exact bytes Gorgon answers `alice` with */
async function baselineServer(reply) {
  const replies = new Map([['alice', Buffer.from(reply, 'latin1')]]);
  const unknown = Buffer.from('finger: no such user\r\n');
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {});
    /** @type {Buffer | undefined} */
    let buf;
    const onData = (/** @type {Buffer} */ chunk) => {
      buf = buf ? Buffer.concat([buf, chunk]) : chunk;
      const nl = buf.indexOf(10);
      if (nl === -1) {
        if (buf.length > 1024) socket.destroy();
        return;
      }
      socket.off('data', onData);
      const query = buf.toString('latin1', 0, nl > 0 && buf[nl - 1] === 13 ? nl - 1 : nl);
      socket.end(replies.get(query) ?? unknown);
    };
    socket.on('data', onData);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(undefined));
  });
  return /** @type {net.AddressInfo} */ (server.address()).port;
}

serveIpc({
  start: ({ kind, reply }) => (kind === 'gorgon' ? gorgonServer() : baselineServer(reply)),
});
