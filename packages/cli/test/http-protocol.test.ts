import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '@gorgon/core';
import { CliError } from '../src/errors.js';
import { httpProtocol, httpSection } from '../src/protocols/http.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('http in the suite (gorgon serve --demo, gorgon httpd)', () => {
  it('demo: the site over http, and https on its own port with the demo certificate', async () => {
    const data = await mkdtemp(join(tmpdir(), 'gorgon-cli-http-'));
    dirs.push(data);
    const section = await httpProtocol.demo(data);
    expect(section.tlsPort).toBe(8443);
    const daemons = await httpProtocol.build({ ...section, port: 0, tlsPort: 0 }, { logger: silentLogger, baseDir: data });
    expect(daemons.map((d) => d.name)).toEqual(['httpd', 'httpsd']);
    const { port } = await daemons[0]!.server.listen(0, '127.0.0.1');
    const { port: tlsPort } = await daemons[1]!.server.listen(0, '127.0.0.1');
    try {
      expect(await (await fetch(`http://127.0.0.1:${port}/files/hello.txt`)).text()).toMatch(/^Hello from Gorgon/);
      const ca = await readFile(join(data, 'tls', 'cert.pem'), 'utf8');
      const body = await new Promise<string>((resolve, reject) => {
        request({ host: '127.0.0.1', port: tlsPort, path: '/', ca, servername: 'localhost' }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        })
          .on('error', reject)
          .end();
      });
      expect(body).toContain('<h1>Gorgon httpd</h1>');
    } finally {
      await daemons[0]!.server.close({ timeoutMs: 1000 });
    }
  });

  it('a root that is not a directory is one sentence; the section is strict', async () => {
    await expect(httpProtocol.build(httpSection.parse({ root: '/nonexistent/x' }), { logger: silentLogger, baseDir: '/' })).rejects.toThrow(
      CliError,
    );
    expect(() => httpSection.parse({ root: '.', rot: 1 })).toThrow();
  });
});
