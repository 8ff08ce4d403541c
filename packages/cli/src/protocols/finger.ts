import { writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { createFingerServer, JsonUserDirectory, loadJsonUsers, SystemUserDirectory, type UserDirectory } from '@gorgon/finger';
import { SectionChecks } from './checks.js';
import type { SuiteProtocol } from './protocol.js';
import { userCount } from './shared.js';
import type { Reloader } from '../daemon.js';
import { CliError, messageOf } from '../errors.js';

/** The `finger:` section of the config file. */
export const fingerSection = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(7979),
    /** A JSON users file; without it (and without systemUsers) the directory is empty. */
    users: z.string().optional(),
    systemUsers: z.boolean().default(false),
    allowList: z.boolean().default(true),
    forwarding: z.boolean().default(false),
    maxHops: z.number().int().min(1).max(16).default(1),
    maxConnections: z.number().int().min(0).optional(),
    maxConnectionsPerIp: z.number().int().min(0).optional(),
    proxyTrusted: z.array(z.string()).optional(),
  })
  .strict();
export type FingerSection = z.infer<typeof fingerSection>;

/** The demo directory: a few users with plans, one with control characters to show escaping. */
export const demoFingerUsers = [
  {
    login: 'alice',
    name: 'Alice Liddell',
    office: 'Rabbit Hole 1',
    officePhone: '555-0101',
    directory: '/home/alice',
    shell: '/bin/sh',
    lastLogin: '2026-11-24T17:05:00Z',
    loggedIn: true,
    tty: 'pts/1',
    idleSeconds: 120,
    project: 'Following the white rabbit.',
    plan: 'Tea at four.\nCroquet at five (bring a flamingo).',
  },
  {
    login: 'dodo',
    name: 'The Dodo',
    office: 'Caucus Race',
    directory: '/home/dodo',
    shell: '/bin/sh',
    lastLogin: '2026-11-20T09:00:00Z',
    plan: 'Everybody has won, and all must have prizes.',
  },
  {
    login: 'hatter',
    name: 'The Hatter',
    directory: '/home/hatter',
    shell: '/bin/sh',
    loggedIn: true,
    tty: 'pts/2',
    idleSeconds: 3600,
    plan: 'Why is a raven like a writing-desk?',
  },
];

export const fingerProtocol: SuiteProtocol<FingerSection> = {
  key: 'finger',
  schema: fingerSection,

  async demo(dataDir) {
    const dir = join(dataDir, 'finger');
    await mkdir(dir, { recursive: true });
    const users = join(dir, 'users.json');
    await writeFile(users, `${JSON.stringify({ users: demoFingerUsers }, null, 2)}\n`);
    return fingerSection.parse({ users });
  },

  async check(section, context) {
    const checks = new SectionChecks(context);
    await checks.file('users', section.users, loadJsonUsers);
    if (!section.users && !section.systemUsers) {
      checks.problems.push({ key: 'users', message: 'no user directory: give users (a JSON users file) or systemUsers: true' });
    }
    return checks.problems;
  },

  async build(section, { logger, baseDir }) {
    if (!section.enabled) return [];
    let directory: UserDirectory;
    const reloaders: Reloader[] = [];
    if (section.users) {
      const path = resolve(baseDir, section.users);
      try {
        await loadJsonUsers(path); // fail at start-up, with one sentence, not at the first query
      } catch (err) {
        throw new CliError(`finger: ${messageOf(err)}`);
      }
      const json = new JsonUserDirectory(path);
      directory = json;
      // The directory reads the file again when it changes (checked at most once a second);
      // SIGHUP reads it at once, so the next query sees it, and says how many users it has.
      reloaders.push({ what: `finger users file ${path}`, reload: async () => userCount(await json.refresh()), keepsOld: false });
    } else if (section.systemUsers) {
      directory = new SystemUserDirectory();
    } else {
      throw new CliError('finger: no user directory: give --users FILE (a JSON users file) or --system-users.');
    }
    const server = createFingerServer({
      store: directory,
      logger,
      allowList: section.allowList,
      forwarding: { enabled: section.forwarding, maxHops: section.maxHops },
      limits: {
        ...(section.maxConnections === undefined ? {} : { maxConnections: section.maxConnections }),
        ...(section.maxConnectionsPerIp === undefined ? {} : { maxConnectionsPerIp: section.maxConnectionsPerIp }),
      },
      ...(section.proxyTrusted ? { proxyProtocol: { trusted: section.proxyTrusted } } : {}),
    });
    return [{ name: 'fingerd', server, port: section.port, host: section.host, reloaders }];
  },
};
