import { Writable, Readable } from 'node:stream';
import { Client } from 'basic-ftp';
import { expect, it } from 'vitest';
import { MemoryAuthenticator } from '@gorgon/core';
import { createFtpServer, MemoryFs } from '@gorgon/ftp';

it('smoke: basic-ftp lists, downloads and uploads', async () => {
  const fs = new MemoryFs({ 'pub/hello.txt': 'hello world\n' });
  await using server = createFtpServer({ store: fs, auth: new MemoryAuthenticator([{ name: 'u', password: 'p' }]) });
  const { port } = await server.listen(0);
  const client = new Client(5000);
  try {
    await client.access({ host: '127.0.0.1', port, user: 'u', password: 'p' });
    const list = await client.list('/pub');
    expect(list.map((e) => e.name)).toEqual(['hello.txt']);
    const parts: Buffer[] = [];
    await client.downloadTo(
      new Writable({
        write(c, _e, cb) {
          parts.push(c);
          cb();
        },
      }),
      '/pub/hello.txt',
    );
    expect(Buffer.concat(parts).toString()).toBe('hello world\n');
    await client.uploadFrom(Readable.from([Buffer.from('up')]), '/pub/up.txt');
    expect((await fs.stat('/pub/up.txt')).size).toBe(2);
  } finally {
    client.close();
  }
});
