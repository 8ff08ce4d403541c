/**
 * A query is logged at info level only when the logger keeps info lines, and a logger that
 * drops them is never asked for the connection's child logger (its bindings, the id's text and
 * a wrapper object per connection, for lines nobody keeps). Real sockets.
 */
import { describe, expect, it } from 'vitest';
import { type Logger, memoryLogger } from '@gorgon/core';
import { createFingerServer, finger } from '@gorgon/finger';
import { directory } from './fixtures.js';

/** A memory logger keeping `levels` only, counting the child loggers made from it. */
function countingLogger(levels: readonly string[]) {
  const inner = memoryLogger();
  let children = 0;
  const wrap = (l: Logger): Logger => ({
    debug: (o, m) => l.debug(o, m),
    info: (o, m) => l.info(o, m),
    warn: (o, m) => l.warn(o, m),
    error: (o, m) => l.error(o, m),
    child: (b) => {
      children++;
      return wrap(l.child(b));
    },
    isLevelEnabled: (level) => levels.includes(level),
  });
  return {
    logger: wrap(inner),
    records: inner.records,
    get children() {
      return children;
    },
  };
}

describe('finger query logging and the logger level', () => {
  it('info dropped: queries answered, no child logger made, nothing logged', async () => {
    const log = countingLogger(['warn', 'error']);
    await using server = createFingerServer({ store: directory(), logger: log.logger });
    const { port } = await server.listen(0, '127.0.0.1');
    for (let i = 0; i < 3; i++) expect(await finger('alice', { host: '127.0.0.1', port })).toContain('Alice');
    const made = log.children;
    expect(log.records.filter((r) => r['event'] === 'query')).toEqual([]);
    // The listener's own child (made once at creation) is all there is: none per connection.
    for (let i = 0; i < 3; i++) await finger('alice', { host: '127.0.0.1', port });
    expect(log.children).toBe(made);
  });

  it('info kept: each query is logged with its connection', async () => {
    const log = countingLogger(['info', 'warn', 'error']);
    await using server = createFingerServer({ store: directory(), logger: log.logger });
    const { port } = await server.listen(0, '127.0.0.1');
    for (let i = 0; i < 3; i++) expect(await finger('alice', { host: '127.0.0.1', port })).toContain('Alice');
    const queries = log.records.filter((r) => r['event'] === 'query');
    expect(queries).toHaveLength(3);
    expect(queries[0]).toMatchObject({ kind: 'user', query: 'alice', remote: '127.0.0.1' });
    expect(new Set(queries.map((q) => q['conn'])).size).toBe(3);
  });
});
