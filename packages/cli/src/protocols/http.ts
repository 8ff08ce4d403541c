import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { createHttpServer, DiskStore, type HttpServer } from '@gorgon/http';
import type { DaemonSpec } from '../daemon.js';
import { CliError } from '../errors.js';
import { SectionChecks } from './checks.js';
import type { SuiteProtocol } from './protocol.js';
import { loadTls, implicitTlsDaemon } from './shared.js';

/** The `http:` section of the config file. */
export const httpSection = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    /** Implicit-TLS (https) port; TLS is on when this or `cert` is set. */
    tlsPort: z.number().int().min(0).max(65535).optional(),
    tls: z.boolean().default(false),
    cert: z.string().optional(),
    key: z.string().optional(),
    certDir: z.string().default('.gorgon-tls'),
    /** The directory served. */
    root: z.string(),
    /** Directories without index.html get a listing page (false: 403). */
    listings: z.boolean().default(true),
    /** Also append the combined-format access log to this file. */
    accessLog: z.string().optional(),
    /** Bytes of small files kept in memory (0: no cache). */
    cacheBytes: z.number().int().min(0).default(0),
    idleTimeoutSeconds: z.number().int().min(1).default(60),
    headerTimeoutSeconds: z.number().int().min(1).default(20),
    maxConnections: z.number().int().min(0).optional(),
    maxConnectionsPerIp: z.number().int().min(0).optional(),
    proxyTrusted: z.array(z.string()).optional(),
    demoNote: z.string().optional(),
  })
  .strict();
export type HttpSection = z.infer<typeof httpSection>;

export const httpProtocol: SuiteProtocol<HttpSection> = {
  key: 'http',
  schema: httpSection,

  async demo(dataDir) {
    const root = join(dataDir, 'http');
    await mkdir(join(root, 'files'), { recursive: true });
    await writeFile(
      join(root, 'index.html'),
      '<!DOCTYPE html>\n<html><head><title>Gorgon</title></head><body><h1>Gorgon httpd</h1><p><a href="files/">files</a></p></body></html>\n',
    );
    await writeFile(join(root, 'files', 'hello.txt'), 'Hello from Gorgon over HTTP/1.1.\n');
    return httpSection.parse({
      root,
      tlsPort: 8443,
      certDir: join(dataDir, 'tls'),
      demoNote: 'http demo: curl http://127.0.0.1:8080/files/hello.txt (https on 8443 with the demo certificate: curl -k)',
    });
  },

  async check(section, context) {
    const checks = new SectionChecks(context);
    await checks.directory('root', section.root, 'root');
    await checks.writableFileDir('accessLog', section.accessLog, 'access log');
    await checks.tls(section);
    return checks.problems;
  },

  async build(section, { logger, baseDir }) {
    if (!section.enabled) return [];
    const root = resolve(baseDir, section.root);
    const st = await stat(root).catch(() => undefined);
    if (!st?.isDirectory()) throw new CliError(`http: the root ${root} is not a directory.`);
    const tls = await loadTls('http', section, baseDir);
    const server: HttpServer = createHttpServer({
      store: new DiskStore(root),
      logger,
      listings: section.listings,
      ...(section.accessLog ? { accessLogFile: resolve(baseDir, section.accessLog) } : {}),
      ...(section.cacheBytes > 0
        ? { cache: { maxBytes: section.cacheBytes, maxFileBytes: Math.min(section.cacheBytes, 256 * 1024) } }
        : {}),
      limits: {
        idleTimeoutMs: section.idleTimeoutSeconds * 1000,
        headerTimeoutMs: section.headerTimeoutSeconds * 1000,
        ...(section.maxConnections === undefined ? {} : { maxConnections: section.maxConnections }),
        ...(section.maxConnectionsPerIp === undefined ? {} : { maxConnectionsPerIp: section.maxConnectionsPerIp }),
      },
      ...(tls ? { tls: tls.options } : {}),
      ...(section.proxyTrusted ? { proxyProtocol: { trusted: section.proxyTrusted } } : {}),
    });
    if (section.demoNote) logger.info({ event: 'demo', protocol: 'http' }, section.demoNote);
    const daemons: DaemonSpec[] = [{ name: 'httpd', server, port: section.port, host: section.host, reloaders: tls ? [tls.reloader] : [] }];
    if (section.tlsPort !== undefined) {
      const implicit = implicitTlsDaemon(server);
      daemons.push({ name: 'httpsd', server: implicit, port: section.tlsPort, host: section.host });
    }
    return daemons;
  },
};
