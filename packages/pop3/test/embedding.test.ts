import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MemoryAuthenticator, SimpleProducer } from '@gorgon/core';
import { MemoryClient } from '@gorgon/core/testing';
import { createPop3Server, MaildropError, wireSize, type Maildrop, type MaildropStore } from '../src/internal.js';
import { play } from './helpers.js';

interface MessageDb {
  messages(user: string): Promise<Array<{ id: string; raw: Buffer }>>;
  remove(ids: string[]): Promise<void>;
}

// The README's embedding example, verbatim apart from the database it is given.
class DatabaseMaildrops implements MaildropStore {
  readonly #locked = new Set<string>();
  constructor(private readonly db: MessageDb) {}

  async open(user: string): Promise<Maildrop> {
    if (this.#locked.has(user)) throw new MaildropError('in-use', `${user} is locked`);
    this.#locked.add(user);
    const rows = await this.db.messages(user);
    const release = async () => void this.#locked.delete(user);
    return {
      // size = octets on the wire after CRLF normalisation (wireSize() computes it)
      messages: rows.map((r) => ({ uid: r.id, size: wireSize(r.raw) })),
      read: async (i) => new SimpleProducer(rows[i]!.raw),
      commit: async (deleted) => {
        await this.db.remove([...deleted].map((i) => rows[i]!.id));
        await release();
        return { failed: 0 };
      },
      release,
    };
  }
}

describe('the README embedding example (a custom maildrop)', () => {
  it('serves a custom store: LIST, RETR, DELE then QUIT reaches the database, a second login is [IN-USE]', async () => {
    const rows = new Map([
      ['alice', [
        { id: 'db-17', raw: Buffer.from('Subject: from the database\r\n\r\n.hello\r\n') },
        { id: 'db-18', raw: Buffer.from('Subject: second\n\nbare LF\n') },
      ]],
    ]);
    const sizes = rows.get('alice')!.map((r) => wireSize(r.raw));
    expect(sizes).toEqual([38, 28]); // the bare-LF message counts each LF as CRLF
    const removed: string[] = [];
    const db: MessageDb = {
      messages: async (user) => rows.get(user) ?? [],
      remove: async (ids) => void removed.push(...ids),
    };
    await using server = createPop3Server({
      store: new DatabaseMaildrops(db),
      auth: new MemoryAuthenticator([{ name: 'alice', password: 'wonderland' }]),
      mechanisms: ['user', 'plain'],
      limits: { idleTimeoutMs: 10 * 60_000, maxAuthFailures: 3 },
    });
    const transfers: unknown[] = [];
    server.on('transfer', (e) => void transfers.push(e));
    const { port } = await server.listen(0, '127.0.0.1');
    const client = new MemoryClient(connect(port, '127.0.0.1'));
    await play(client, `
      S: +OK Gorgon POP3 server ready
      C: USER alice
      S: +OK send PASS
      C: PASS wonderland
      S: +OK maildrop has 2 messages (${sizes[0]! + sizes[1]!} octets)
      C: UIDL
      S: +OK unique-id listing follows
      S: 1 db-17
      S: 2 db-18
      S: .
      C: RETR 1
      S: +OK ${sizes[0]} octets
      S: Subject: from the database
      S:
      S: ..hello
      S: .
      C: DELE 1
      S: +OK message 1 deleted
    `);
    const second = new MemoryClient(connect(port, '127.0.0.1'));
    await play(second, `
      S: /^\\+OK/
      C: USER alice
      S: +OK send PASS
      C: PASS wonderland
      S: -ERR [IN-USE] maildrop already locked by another session
      C: QUIT
      S: /signing off/
    `);
    expect(removed).toEqual([]);
    await play(client, 'C: QUIT\nS: +OK Gorgon POP3 server signing off (1 message left)');
    await client.closed();
    expect(removed).toEqual(['db-17']);
    expect(server.counters).toMatchObject({ logins: 1, messagesRetrieved: 1, messagesDeleted: 1 });
    expect(transfers).toEqual([expect.objectContaining({ kind: 'retrieve', user: 'alice', path: '1', bytes: sizes[0], ok: true })]);
  });
});
