import type { Channel, ChannelOptions } from '@gorgon/core';
import { memoryChannelPair, memoryLogger, type MemoryClient, type MemoryLogRecord } from '@gorgon/core/testing';
import { MemoryUserDirectory, type FingerServerOptions, type FingerUser } from '@gorgon/finger';
import { fingerSessionFactory, resolveFingerConfig } from '../src/server.js';
import type { Forwarder } from '../src/session.js';

/** The cast of the finger tests. */
export const users: FingerUser[] = [
  {
    login: 'alice',
    name: 'Alice Liddell',
    office: 'Wonderland',
    officePhone: 'x1865',
    homePhone: '555-0100',
    directory: '/home/alice',
    shell: '/bin/zsh',
    plan: 'Follow the white rabbit.\nDrink me.',
    project: 'Looking-glass survey',
    lastLogin: '2024-03-01T12:00:00Z',
    loggedIn: true,
    tty: 'pts/1',
    idleSeconds: 180,
  },
  { login: 'bob', name: 'Bob Dodgson', directory: '/home/bob', shell: '/bin/sh', lastLogin: '2023-12-24T08:30:00Z', tty: 'tty1' },
  { login: 'carol', name: 'Carol Liddell' },
  { login: 'mallory', name: 'Mal\x1b]0;pwned\x07lory', plan: 'evil \x1b[2J clear\r\ncaf\u00e9\ttab\x9b' },
];

export const directory = (): MemoryUserDirectory => new MemoryUserDirectory(users);

/** Alice's entry as the server gives it to a plain `{U}` query. */
export const aliceEntry = [
  `${'Login: alice'.padEnd(40)}Name: Alice Liddell`,
  `${'Directory: /home/alice'.padEnd(40)}Shell: /bin/zsh`,
  'Office: Wonderland, x1865',
  'On since 2024-03-01 12:00 UTC on pts/1, idle 3 minutes',
  'Project: Looking-glass survey',
  'Plan:',
  'Follow the white rabbit.',
  'Drink me.',
];

/** A session factory for `transcript()`, from server options. */
export function sessionFor(options: Partial<FingerServerOptions> = {}, forward?: Forwarder): (channel: Channel) => unknown {
  return fingerSessionFactory(resolveFingerConfig({ store: options.directory ?? directory(), ...options }, forward));
}

/** One query over the in-memory pair: the reply lines, the log, and whether the server closed. */
export async function ask(
  query: string | Buffer,
  options: Partial<FingerServerOptions> = {},
  channelOptions: ChannelOptions = {},
): Promise<{ lines: string[]; records: MemoryLogRecord[]; client: MemoryClient; raw: Buffer }> {
  const logger = memoryLogger();
  const { channel, client } = memoryChannelPair({ id: 'finger-t1', logger, ...channelOptions });
  sessionFor(options)(channel);
  client.send(query);
  const raw = await client.readToEnd(5000);
  const text = raw.toString('latin1');
  const lines = text.endsWith('\r\n') ? text.slice(0, -2).split('\r\n') : [text];
  return { lines, records: logger.records, client, raw };
}
