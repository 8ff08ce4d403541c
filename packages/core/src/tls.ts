import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { generate } from 'selfsigned';

/** Certificate and key for a TLS listener or upgrade, as PEM text or a ready context. */
export type TlsServerOptions = { cert: string | Buffer; key: string | Buffer } | { secureContext: tls.SecureContext };

/** One secure context per server instance, built once rather than per connection. */
export function toSecureContext(options: TlsServerOptions): tls.SecureContext {
  if ('secureContext' in options) return options.secureContext;
  return tls.createSecureContext({ cert: options.cert, key: options.key, minVersion: 'TLSv1.2' });
}

/** A demo certificate on disk. */
export interface DemoCertificate {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
}

/**
 * The self-signed certificate for demos and tests: generated at first use into `dir`
 * (cert.pem, key.pem with mode 0600) and reused afterwards. Never committed.
 */
export async function ensureDemoCertificate(dir: string, hostname = 'localhost'): Promise<DemoCertificate> {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  try {
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return { cert, key, certPath, keyPath };
  } catch {
    // not there yet: generate below
  }
  const pems = await createDemoCertificate(hostname);
  await mkdir(dir, { recursive: true });
  await writeFile(keyPath, pems.key, { mode: 0o600 });
  await chmod(keyPath, 0o600);
  await writeFile(certPath, pems.cert);
  return { ...pems, certPath, keyPath };
}

/** A fresh self-signed certificate for `hostname`, 127.0.0.1 and ::1, in memory. */
export async function createDemoCertificate(hostname = 'localhost'): Promise<{ cert: string; key: string }> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 365 * 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: hostname }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: hostname },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
