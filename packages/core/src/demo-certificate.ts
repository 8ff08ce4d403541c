/**
 * @gorgon/core/demo-certificate: a self-signed certificate for demos and tests.
 *
 * Kept out of the main entry point so that an embedder does not inherit the X.509 libraries
 * behind it: `selfsigned` is an optional peer dependency, installed by `@gorgon/cli` (for
 * `gorgon serve --demo`) or by whoever imports this subpath.
 * @packageDocumentation
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The part of the `selfsigned` module used here. */
export interface SelfsignedModule {
  generate(attributes: Array<{ name: string; value: string }>, options: object): Promise<{ cert: string; private: string }>;
}

/** Where the demo certificate functions find `selfsigned`. */
export interface DemoCertificateOptions {
  /**
   * Loads `selfsigned` from the caller's own dependencies, as `() => import('selfsigned')`.
   * Needed where this package cannot resolve it itself: a global `npm install -g` keeps each
   * package's dependencies beside that package (the CLI's), not beside @gorgon/core. Default:
   * this package's own import.
   */
  load?: () => Promise<SelfsignedModule>;
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
export async function ensureDemoCertificate(
  dir: string,
  hostname = 'localhost',
  options: DemoCertificateOptions = {},
): Promise<DemoCertificate> {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  try {
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return { cert, key, certPath, keyPath };
  } catch {
    // not there yet: generate below
  }
  const pems = await createDemoCertificate(hostname, options);
  await mkdir(dir, { recursive: true });
  await writeFile(keyPath, pems.key, { mode: 0o600 });
  await chmod(keyPath, 0o600);
  await writeFile(certPath, pems.cert);
  return { ...pems, certPath, keyPath };
}

/** A fresh self-signed certificate for `hostname`, 127.0.0.1 and ::1, in memory. */
export async function createDemoCertificate(
  hostname = 'localhost',
  options: DemoCertificateOptions = {},
): Promise<{ cert: string; key: string }> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 365 * 24 * 3600 * 1000);
  // Loaded when a certificate is made: the X.509 libraries behind it take tens of milliseconds
  // to load, which every server process would otherwise pay at start.
  const { generate } = await (options.load ?? loadSelfsigned)();
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

async function loadSelfsigned(): Promise<SelfsignedModule> {
  try {
    return await import('selfsigned');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new Error("@gorgon/core/demo-certificate needs the optional package 'selfsigned': npm install selfsigned@5.5.0", {
        cause: err,
      });
    }
    throw err;
  }
}
