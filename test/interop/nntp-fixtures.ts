/** A Gorgon NNTP server on a loopback port over a fresh disk spool, for the stock-client tests. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryAuthenticator } from '@gorgon/core';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { createNntpServer, DiskNewsStore, injectArticle, type NntpServer } from '@gorgon/nntp';

export const USER = 'reader';
export const PASSWORD = 'news pass';

export interface NntpFixture {
  dir: string;
  port: number;
  tlsPort: number;
  certPath: string;
  store: DiskNewsStore;
  server: NntpServer;
  close(): Promise<void>;
}

/** Articles of the fixture: one with dot lines, one cross-posted, one 8-bit (latin1 bytes). */
export const FIXTURE_ARTICLES = [
  'From: Alice <alice@example.org>\r\nNewsgroups: gorgon.test\r\nSubject: first article\r\nMessage-ID: <first@example.org>\r\n\r\nHello from Gorgon.\r\n.a line with a dot\r\n..two dots\r\n',
  'From: Bob <bob@example.org>\r\nNewsgroups: gorgon.test,comp.lang.misc\r\nSubject: Re: first article\r\nMessage-ID: <second@example.org>\r\nReferences: <first@example.org>\r\n\r\nA reply.\r\n',
  'From: Carol <carol@example.org>\r\nNewsgroups: gorgon.test\r\nSubject: third\r\nMessage-ID: <third@example.org>\r\n\r\n' +
    'x'.repeat(900) +
    '\r\n',
];

export async function startNntp(): Promise<NntpFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'gorgon-nntp-interop-'));
  const store = await DiskNewsStore.open(join(dir, 'spool'));
  await store.createGroup('gorgon.test', { description: 'tests' });
  await store.createGroup('comp.lang.misc', { description: 'languages' });
  await store.createGroup('gorgon.empty');
  for (const a of FIXTURE_ARTICLES) await injectArticle(store, a, { pathHost: 'gorgon.test' });
  const cert = await createDemoCertificate('localhost');
  const certPath = join(dir, 'cert.pem');
  await writeFile(certPath, cert.cert);
  const server = createNntpServer({
    store,
    auth: new MemoryAuthenticator([{ name: USER, password: PASSWORD }]),
    tls: cert,
    pathHost: 'gorgon.test',
    throttle: { baseDelayMs: 0, maxDelayMs: 0 },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  const { port: tlsPort } = await server.listenTls(0, '127.0.0.1');
  return {
    dir,
    port,
    tlsPort,
    certPath,
    store,
    server,
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
