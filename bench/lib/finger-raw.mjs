/**
 * The raw finger server's connection handler, shared by the benchmark's baseline worker and the
 * in-process harness: reads one line with indexOf, looks the login up in a Map, writes the
 * reply (`reply`: the exact text Gorgon answers `alice` with) and ends.
 * @param {string} reply
 * @returns {(socket: import('node:net').Socket) => void}
 */
export function rawFingerHandler(reply) {
  const table = new Map([['alice', Buffer.from(reply, 'latin1')]]);
  const unknown = Buffer.from('finger: no such user\r\n');
  return (socket) => {
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
      socket.end(table.get(query) ?? unknown);
    };
    socket.on('data', onData);
  };
}
