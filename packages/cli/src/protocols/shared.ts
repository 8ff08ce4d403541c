import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ensureDemoCertificate, type TlsServerOptions } from '@gorgon/core';
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

/**
 * The certificate a daemon serves TLS with: the `cert`/`key` files when given, else the
 * self-signed demo certificate (made once under `certDir`). Undefined when TLS is off.
 */
export async function loadTls(protocol: string, section: TlsSection, baseDir: string): Promise<TlsServerOptions | undefined> {
  if (!section.tls && section.tlsPort === undefined && !section.cert) return undefined;
  if (section.cert || section.key) {
    if (!section.cert || !section.key) throw new CliError(`${protocol}: give both --cert and --key, or neither for a demo certificate.`);
    try {
      const [cert, key] = await Promise.all([readFile(resolve(baseDir, section.cert)), readFile(resolve(baseDir, section.key))]);
      return { cert, key };
    } catch (err) {
      throw new CliError(`${protocol}: cannot read the certificate or key: ${messageOf(err)}`);
    }
  }
  const demo = await ensureDemoCertificate(resolve(baseDir, section.certDir));
  return { cert: demo.cert, key: demo.key };
}
