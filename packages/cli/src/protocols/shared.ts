import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  replaceSecureContext,
  toSecureContext,
  type GorgonServer,
  type ListenerHandoff,
  type TlsServerOptions,
  type UsersFileAuthenticator,
} from '@gorgon/core';
import { ensureDemoCertificate } from '@gorgon/core/demo-certificate';
import type { Reloader, RunnableServer } from '../daemon.js';
import { CliError, messageOf } from '../errors.js';

/** True when `path` exists (file or directory). */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The TLS settings a protocol section may carry. */
export interface TlsSection {
  tls: boolean;
  tlsPort?: number | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  certDir: string;
}

/** A daemon's certificate: the options for its server, and how SIGHUP reads it again. */
export interface TlsSetup {
  options: TlsServerOptions;
  reloader: Reloader;
}

/**
 * The certificate a daemon serves TLS with: the `cert`/`key` files when given, else the
 * self-signed demo certificate (made once under `certDir`). Undefined when TLS is off. The
 * context is built here, once, so that SIGHUP can put a new pair into it for new connections.
 */
export async function loadTls(protocol: string, section: TlsSection, baseDir: string): Promise<TlsSetup | undefined> {
  if (!section.tls && section.tlsPort === undefined && !section.cert) return undefined;
  let certPath: string;
  let keyPath: string;
  let pems: { cert: string | Buffer; key: string | Buffer };
  if (section.cert || section.key) {
    if (!section.cert || !section.key) throw new CliError(`${protocol}: give both --cert and --key, or neither for a demo certificate.`);
    certPath = resolve(baseDir, section.cert);
    keyPath = resolve(baseDir, section.key);
    try {
      pems = await readPair(certPath, keyPath);
    } catch (err) {
      throw new CliError(`${protocol}: cannot read the certificate or key: ${messageOf(err)}`);
    }
  } else {
    // selfsigned is the CLI's dependency: load it from here, where a global install puts it.
    const demo = await ensureDemoCertificate(resolve(baseDir, section.certDir), 'localhost', { load: () => import('selfsigned') });
    ({ certPath, keyPath } = demo);
    pems = demo;
  }
  let secureContext;
  try {
    secureContext = toSecureContext(pems);
  } catch (err) {
    throw new CliError(`${protocol}: the certificate ${certPath} and key ${keyPath} cannot be used: ${messageOf(err)}`);
  }
  const reloader: Reloader = {
    what: `${protocol} certificate ${certPath}`,
    async reload() {
      replaceSecureContext(secureContext, await readPair(certPath, keyPath));
      return undefined;
    },
  };
  return { options: { secureContext }, reloader };
}

async function readPair(certPath: string, keyPath: string): Promise<{ cert: Buffer; key: Buffer }> {
  const [cert, key] = await Promise.all([readFile(certPath), readFile(keyPath)]);
  return { cert, key };
}

/**
 * Reads a users file for a daemon at start-up (before root is dropped, so a root-only file
 * works) and names it for SIGHUP. A broken file at start-up is one sentence; on SIGHUP the
 * users last loaded stay in force.
 */
export async function loadUsers(protocol: string, auth: UsersFileAuthenticator): Promise<Reloader> {
  try {
    await auth.reload();
  } catch (err) {
    throw new CliError(`${protocol}: ${messageOf(err)}`);
  }
  return { what: `${protocol} users file ${auth.path}`, reload: async () => userCount(await auth.reload()) };
}

/** "1 user", "3 users": the detail of a users-file reload. */
export function userCount(n: number): string {
  return `${n} ${n === 1 ? 'user' : 'users'}`;
}

/**
 * A server's implicit-TLS listener as a daemon of its own (pop3s beside pop3): `listen` binds
 * the TLS port, `handOff` gives up that socket; closing or retiring it ends the whole server.
 * `close` and `retire` may be given to release more than the server (NNTP's feeds).
 */
export function implicitTlsDaemon(
  server: GorgonServer,
  ends: { close?: () => Promise<void>; retire?: () => Promise<void> } = {},
): RunnableServer {
  return {
    listen: (on: number | ListenerHandoff, host?: string) => (typeof on === 'number' ? server.listenTls(on, host) : server.listenTls(on)),
    close: ends.close ?? ((options) => server.close(options)),
    handOff: () => server.handOff('tls'),
    retire: ends.retire ?? (() => server.retire()),
  };
}
