import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { hashPassword, UsersFileAuthenticator } from '@gorgon/core';
import { createPop3Server, deliver, MaildirStore, type Pop3Server } from '@gorgon/pop3';
import type { DaemonSpec } from '../daemon.js';
import { SectionChecks } from './checks.js';
import type { SuiteProtocol } from './protocol.js';
import { exists, loadTls, loadUsers, implicitTlsDaemon } from './shared.js';

/** The `pop3:` section of the config file. */
export const pop3Section = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(1110),
    /** Implicit-TLS (pop3s) port; TLS (and STLS) is on when this, `cert` or `tls` is set. */
    tlsPort: z.number().int().min(0).max(65535).optional(),
    tls: z.boolean().default(false),
    /** PEM certificate and key; without them a self-signed demo certificate is made in `certDir`. */
    cert: z.string().optional(),
    key: z.string().optional(),
    certDir: z.string().default('.gorgon-tls'),
    /** The Maildir root: one Maildir per user at MAILDIRS/USER. */
    maildirs: z.string(),
    /** The Maildirs are on a network file system (NFS, SMB): no message is read synchronously. */
    networkRoot: z.boolean().default(false),
    /** JSON users file (`gorgon passwd` makes the hashes; `apopSecret` enables APOP per user). */
    users: z.string(),
    mechanisms: z
      .array(z.enum(['user', 'apop', 'plain']))
      .min(1)
      .default(['user', 'plain']),
    requireTls: z.boolean().default(false),
    loginDelay: z.number().int().min(0).default(0),
    expire: z.union([z.literal('never'), z.literal(0)]).default('never'),
    /** Seconds a successful login is remembered (the users file's auth cache); 0 turns it off. */
    authCacheSeconds: z.number().int().min(0).default(60),
    idleTimeoutSeconds: z.number().int().min(1).default(600),
    maxConnections: z.number().int().min(0).optional(),
    maxConnectionsPerIp: z.number().int().min(0).optional(),
    maxAuthFailures: z.number().int().min(1).optional(),
    proxyTrusted: z.array(z.string()).optional(),
    /** Set by `serve --demo`: a line for the log saying how to log in. */
    demoNote: z.string().optional(),
  })
  .strict();
export type Pop3Section = z.infer<typeof pop3Section>;

/** The demo mailbox: a few messages, one with lines that start with '.' (dot-stuffing shows). */
export const demoPop3Messages = [
  'From: Gorgon <gorgon@localhost>\r\nTo: demo@localhost\r\nSubject: Welcome to Gorgon POP3\r\n\r\nThis maildrop is served from a Maildir.\r\nTry: curl -u demo:demo pop3://127.0.0.1:1110/1\r\n',
  'From: Medusa <medusa@localhost>\r\nTo: demo@localhost\r\nSubject: Lines that start with a dot\r\n\r\nPOP3 doubles a leading dot on the wire:\r\n.this line starts with one dot\r\n..and this one with two\r\n.\r\nThe line above is a single dot; the message does not end there.\r\n',
  'From: Asyncore <asyncore@localhost>\r\nTo: demo@localhost\r\nSubject: Producers\r\n\r\nEvery multi-line reply is streamed from disk by a producer.\r\n',
];

export const pop3Protocol: SuiteProtocol<Pop3Section> = {
  key: 'pop3',
  schema: pop3Section,

  async demo(dataDir) {
    const dir = join(dataDir, 'pop3');
    const maildirs = join(dir, 'maildirs');
    const users = join(dir, 'users.json');
    await mkdir(maildirs, { recursive: true });
    if (!(await exists(users))) {
      const entry = { name: 'demo', password: await hashPassword('demo'), apopSecret: 'demo' };
      await writeFile(users, `${JSON.stringify({ users: [entry] }, null, 2)}\n`, { mode: 0o600 });
    }
    // Deliver the demo mail once, not again at every start.
    if (!(await exists(join(maildirs, 'demo')))) {
      for (const message of demoPop3Messages) await deliver(maildirs, 'demo', message);
    }
    return pop3Section.parse({
      maildirs,
      users,
      tlsPort: 1995,
      certDir: join(dataDir, 'tls'),
      mechanisms: ['user', 'plain', 'apop'],
      demoNote: 'pop3 demo: log in as demo / demo (USER/PASS, AUTH PLAIN or APOP), e.g. curl -u demo:demo pop3://127.0.0.1:1110/',
    });
  },

  async check(section, context) {
    const checks = new SectionChecks(context);
    await checks.directory('maildirs', section.maildirs, 'Maildir root');
    await checks.usersFile('users', section.users);
    await checks.tls(section);
    return checks.problems;
  },

  async build(section, { logger, baseDir }) {
    if (!section.enabled) return [];
    const auth = new UsersFileAuthenticator(resolve(baseDir, section.users), { cacheTtlMs: section.authCacheSeconds * 1000 });
    // Read now: one sentence at start-up, not a failure at the first login.
    const reloaders = [await loadUsers('pop3', auth)];
    const tls = await loadTls('pop3', section, baseDir);
    if (tls) reloaders.push(tls.reloader);
    const server: Pop3Server = createPop3Server({
      // The logger hears of Maildir entries that are not messages (symlinks, FIFOs), once each.
      store: new MaildirStore(resolve(baseDir, section.maildirs), { logger, ...(section.networkRoot ? { local: false } : {}) }),
      auth,
      logger,
      mechanisms: section.mechanisms,
      requireTlsForPlaintext: section.requireTls,
      loginDelaySeconds: section.loginDelay,
      expire: section.expire,
      limits: {
        idleTimeoutMs: section.idleTimeoutSeconds * 1000,
        ...(section.maxConnections === undefined ? {} : { maxConnections: section.maxConnections }),
        ...(section.maxConnectionsPerIp === undefined ? {} : { maxConnectionsPerIp: section.maxConnectionsPerIp }),
        ...(section.maxAuthFailures === undefined ? {} : { maxAuthFailures: section.maxAuthFailures }),
      },
      ...(tls ? { tls: tls.options } : {}),
      ...(section.proxyTrusted ? { proxyProtocol: { trusted: section.proxyTrusted } } : {}),
    });
    if (section.demoNote) logger.info({ event: 'demo', protocol: 'pop3' }, section.demoNote);
    const daemons: DaemonSpec[] = [{ name: 'pop3d', server, port: section.port, host: section.host, reloaders }];
    if (section.tlsPort !== undefined) {
      // One server, two listeners: the pop3s entry listens with implicit TLS; close() stops both.
      const implicit = implicitTlsDaemon(server);
      daemons.push({ name: 'pop3sd', server: implicit, port: section.tlsPort, host: section.host });
    }
    return daemons;
  },
};
