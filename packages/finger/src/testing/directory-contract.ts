import { deepEqual, equal, ok } from 'node:assert/strict';
import type { ContractCheck } from '@gorgon/core/testing';
import type { FingerUser, UserDirectory } from '../directory.js';

/**
 * Makes a fresh directory holding exactly `users` (in this order), for one check. Called once
 * per check; clean up (temporary files) in your runner's after-each hook.
 */
export type UserDirectoryFactory = (users: readonly FingerUser[]) => UserDirectory | Promise<UserDirectory>;

/** The users every check of {@link userDirectoryContract} starts from. */
export const contractUsers: readonly FingerUser[] = Object.freeze([
  {
    login: 'alice',
    name: 'Alice Liddell',
    office: 'Wonderland',
    officePhone: 'x1865',
    directory: '/home/alice',
    shell: '/bin/zsh',
    plan: 'Follow the white rabbit.\n',
  },
  { login: 'bob', name: 'Bob Dodgson', directory: '/home/bob', shell: '/bin/sh' },
  { login: 'carol', name: 'Carol Liddell', directory: '/home/carol', shell: '/bin/sh' },
]);

/**
 * The UserDirectory contract as named checks: what the finger server relies on from any
 * directory (the shipped ones pass it; so should yours). `search` is optional in the interface;
 * its check passes when a directory has none.
 * @see RFC 1288 §2.5.1-§2.5.3
 */
export function userDirectoryContract(make: UserDirectoryFactory): ContractCheck[] {
  const fresh = async (): Promise<UserDirectory> => make(contractUsers.map((u) => ({ ...u })));
  const logins = (users: readonly FingerUser[] | undefined): string[] | undefined => users?.map((u) => u.login);
  return [
    {
      name: 'lists every user',
      run: async () => deepEqual(logins(await (await fresh()).list()), ['alice', 'bob', 'carol']),
    },
    {
      name: 'finds by exact login with the whole entry, plan included',
      run: async () => {
        const alice = await (await fresh()).find('alice');
        ok(alice, 'find("alice") found nobody');
        for (const key of ['login', 'name', 'office', 'officePhone', 'shell', 'plan'] as const)
          equal(alice[key], contractUsers[0]![key], `alice.${key}`);
      },
    },
    {
      name: 'does not find an unknown login, nor a login in another case',
      run: async () => {
        const d = await fresh();
        equal(await d.find('zed'), undefined);
        equal(await d.find('Alice'), undefined);
      },
    },
    {
      name: 'searches real names by word, ignoring case (RFC 1288 §2.5.3)',
      run: async () => {
        const d = await fresh();
        if (!d.search) return;
        deepEqual(logins(await d.search('liddell')), ['alice', 'carol']);
        deepEqual(logins(await d.search('BOB DODGSON')), ['bob']);
        deepEqual(await d.search('rabbit'), []);
      },
    },
    {
      name: 'hands out copies: changing a result changes nothing inside',
      run: async () => {
        const d = await fresh();
        const alice = await d.find('alice');
        ok(alice, 'find("alice") found nobody');
        alice.name = 'Changed';
        equal((await d.find('alice'))?.name, 'Alice Liddell');
      },
    },
    {
      name: 'findNow, where given, agrees with find, and what it hands out cannot be changed',
      run: async () => {
        const d = await fresh();
        if (!d.findNow) return;
        for (const login of ['alice', 'bob', 'zed', 'Alice']) {
          const found = await d.find(login); // after find, an answer without waiting is likely
          const now = d.findNow(login);
          if (now !== null) deepEqual(now === undefined ? now : { ...now }, found, `findNow("${login}")`);
        }
        const alice = d.findNow('alice');
        if (!alice) return;
        try {
          alice.name = 'Changed'; // a frozen entry throws here
        } catch {}
        equal((await d.find('alice'))?.name, 'Alice Liddell');
        equal(d.findNow('alice')?.name ?? 'Alice Liddell', 'Alice Liddell');
      },
    },
  ];
}
