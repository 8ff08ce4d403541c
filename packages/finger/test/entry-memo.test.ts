import { describe, expect, it } from 'vitest';
import { createFingerServer, finger, MemoryUserDirectory, type FingerUser } from '@gorgon/finger';

// Formatted entries are remembered by content: a changed user must never get an old reply.
describe('long entries remembered by content', () => {
  it('the same user twice gives the same reply; any change to the user shows at once', async () => {
    const directory = new MemoryUserDirectory([{ login: 'alice', name: 'Alice Liddell', homePhone: '555', plan: 'Tea.' }]);
    await using server = createFingerServer({ directory });
    const { port } = await server.listen(0);
    const ask = (query: string, verbose = false) => finger(query, { host: '127.0.0.1', port, verbose });
    const first = await ask('alice');
    expect(first).toContain('Plan:\nTea.\n');
    expect(await ask('alice')).toBe(first);
    // /W shows the home phone, the plain query does not: not one entry for both.
    expect(await ask('alice', true)).toContain('Home Phone: 555');
    expect(await ask('alice')).not.toContain('Home Phone');
    directory.upsert({ login: 'alice', name: 'Alice Liddell', homePhone: '555', plan: 'Tea at six.' });
    expect(await ask('alice')).toContain('Plan:\nTea at six.\n');
    // A value that looks like another field's cannot stand in for it.
    directory.upsert({ login: 'alice', name: 'Alice Liddell', homePhone: '555', plan: 'Tea at six.', loggedIn: false });
    expect(await ask('alice')).toContain('Never logged in.');
    directory.upsert({ login: 'alice', name: 'Alice Liddell', homePhone: '555', plan: 'Tea at six.', loggedIn: true });
    expect(await ask('alice')).toContain('Logged in');
    // Two users asked together: each entry once, separated by a blank line.
    directory.upsert({ login: 'bob', name: 'Bob' });
    const both = await ask('alice bob');
    expect(both).toContain('Login: alice');
    expect(both).toContain('\n\nLogin: bob');
    expect(await ask('alice bob')).toBe(both);
  });

  it('a change to any one field of the user misses the remembered entry', async () => {
    const base: Required<FingerUser> = {
      login: 'alice',
      name: 'Alice Liddell',
      office: 'Rabbit Hole 1',
      officePhone: '555-0100',
      homePhone: '555-0199',
      directory: '/home/alice',
      shell: '/bin/sh',
      plan: 'Tea.',
      project: 'Wonderland',
      lastLogin: '2026-01-02T03:04:05Z',
      loggedIn: true,
      tty: 'pts/1',
      idleSeconds: 120,
    };
    // One other value per field; the type fails to compile when FingerUser gains a field.
    const changed: { [K in keyof FingerUser]-?: Required<FingerUser>[K] } = {
      login: 'alice',
      name: 'Alice P. Liddell',
      office: 'Rabbit Hole 2',
      officePhone: '555-0101',
      homePhone: '555-0198',
      directory: '/home/alice2',
      shell: '/bin/bash',
      plan: 'Tea at six.',
      project: 'Looking-glass',
      lastLogin: '2026-02-03T04:05:06Z',
      loggedIn: false,
      tty: 'pts/2',
      idleSeconds: 7200,
    };
    const directory = new MemoryUserDirectory([base]);
    await using server = createFingerServer({ directory });
    const { port } = await server.listen(0);
    const ask = () => finger('alice', { host: '127.0.0.1', port, verbose: true });
    const original = await ask();
    expect(await ask()).toBe(original);
    for (const field of Object.keys(changed) as (keyof FingerUser)[]) {
      if (field === 'login') continue;
      // tty and idle time show only while logged in, which base is.
      directory.upsert({ ...base, [field]: changed[field] });
      expect(await ask(), field).not.toBe(original);
      directory.upsert(base);
      expect(await ask(), field).toBe(original);
    }
  });
});
