import { describe, expect, it } from 'vitest';
import { createFingerServer, finger, MemoryUserDirectory } from '@gorgon/finger';

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
});
